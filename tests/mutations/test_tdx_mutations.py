"""Byte flips in every region of real TDX quotes and their signed collateral: exact error codes."""

from __future__ import annotations

import base64
import json
import textwrap
from pathlib import Path

import pytest

from teeclient.collateral.items import CollateralItem, CollateralSet
from teeclient.errors import TeeclientError
from teeclient.platforms.tdx import abi
from teeclient.platforms.tdx.verify import verify
from tests.tdx_support import TDX, collateral, collateral_paths, quote, suggested_now, vendor_trust

SPR = "v4-spr-50806f-gtg"
V4 = "v4-b0c06f-dcap"
V5 = "v5-tdx15-90c06f-gtg"


def _code(name: str, data: bytes, coll: CollateralSet | None = None) -> str:
    try:
        verify(
            data,
            trust=vendor_trust(),
            now=suggested_now(name),
            collateral=coll if coll is not None else collateral(name),
        )
    except TeeclientError as exc:
        return exc.code
    return "ok"


def _set(data: bytes, offset: int, value: int) -> bytes:
    out = bytearray(data)
    out[offset] = value
    return bytes(out)


def _flip(data: bytes, offset: int) -> bytes:
    return _set(data, offset, data[offset] ^ 0x01)


# go-tdx-guest verify_test.go::TestNegativeVerification, on the SPR quote.
@pytest.mark.parametrize(
    ("offset", "value", "code"),
    [
        (0x000, 3, "evidence.unsupported"),  # version
        (0x278, 0x10, "evidence.malformed"),  # signature data size
        (0x01E, 0x32, "tdx.quote_signature_invalid"),  # header
        (0x03C, 0x32, "tdx.quote_signature_invalid"),  # TD body
        (0xB77, 0x32, "chain.signature_invalid"),  # PCK leaf
        (0xF5F, 0x32, "chain.signature_invalid"),  # PCK CA
        (0x1329, 0x32, "chain.untrusted"),  # root (no longer the pinned one)
        (0x1343, 0x32, "evidence.malformed"),  # PEM framing
    ],
)
def test_go_tdx_guest_negative_cases(offset: int, value: int, code: str) -> None:
    assert _code(SPR, _set(quote(SPR), offset, value)) == code


def _regions(name: str) -> list[tuple[str, int, str]]:
    """(region, offset, expected code) for one flip in every region of a real quote."""
    q = abi.parse_quote(quote(name))
    sig = q.signed_size + 4
    cert = sig + 134
    qe = cert
    auth_size_at = qe + 448
    auth = qe + 450
    inner = auth + len(q.qe_auth_data)
    body = q.body_offset
    # 4 <-> 5: the other layout does not fit; read as a v5 descriptor, TEE_TCB_SVN[0:2] is
    # either a TDX body type with the wrong size or an unsupported type.
    swapped = int.from_bytes(q.raw[48:50], "little") if q.version == 4 else 0
    out = [
        (
            "header.version",
            0,
            "evidence.malformed" if q.version == 5 or swapped in (2, 3) else "evidence.unsupported",
        ),
        ("header.att_key_type", 2, "evidence.unsupported"),
        ("header.tee_type", 4, "evidence.unsupported"),
        ("header.reserved", 8, "tdx.quote_signature_invalid"),
        ("header.qe_vendor_id", 12, "tdx.quote_signature_invalid"),
        ("header.user_data", 40, "tdx.quote_signature_invalid"),
        ("body.tee_tcb_svn", body, "tdx.quote_signature_invalid"),
        ("body.mrseam", body + 20, "tdx.quote_signature_invalid"),
        ("body.td_attributes", body + 120, "tdx.quote_signature_invalid"),
        ("body.mrtd", body + 140, "tdx.quote_signature_invalid"),
        ("body.rtmr3", body + 500, "tdx.quote_signature_invalid"),
        ("body.report_data", body + 583, "tdx.quote_signature_invalid"),
        ("signature_data.size", q.signed_size, "evidence.malformed"),
        ("quote_signature.r", sig + 5, "tdx.quote_signature_invalid"),
        ("quote_signature.s", sig + 40, "tdx.quote_signature_invalid"),
        ("attestation_key", sig + 70, "tdx.attestation_key_not_bound"),
        ("certification_data.type", sig + 128, "evidence.unsupported"),
        ("certification_data.size", sig + 130, "evidence.malformed"),
        ("qe_report.cpusvn", qe + 1, "tdx.qe_report_signature_invalid"),
        ("qe_report.mrsigner", qe + 130, "tdx.qe_report_signature_invalid"),
        ("qe_report.isvsvn", qe + 258, "tdx.qe_report_signature_invalid"),
        ("qe_report.report_data", qe + 330, "tdx.qe_report_signature_invalid"),
        ("qe_report_signature", qe + 400, "tdx.qe_report_signature_invalid"),
        ("qe_auth_data.size", auth_size_at, "evidence.unsupported"),  # inner type shifts
        ("qe_auth_data", auth + 3, "tdx.attestation_key_not_bound"),
        ("pck_chain.type", inner, "evidence.unsupported"),
        ("pck_chain.size", inner + 2, "evidence.malformed"),
        ("pck_chain.pem_header", inner + 6, "evidence.malformed"),
    ]
    if q.version == 5:
        out += [
            ("body_descriptor.type", 48, "evidence.malformed"),  # 3 -> 2: size mismatch
            ("body_descriptor.size", 50, "evidence.malformed"),
            ("body.tee_tcb_svn2", body + 590, "tdx.quote_signature_invalid"),
            ("body.mrservicetd", body + 620, "tdx.quote_signature_invalid"),
        ]
    return out


@pytest.mark.parametrize(
    ("name", "region", "offset", "code"),
    [(n, r, o, c) for n in (SPR, V4, V5) for r, o, c in _regions(n)],
)
def test_flip_every_quote_region(name: str, region: str, offset: int, code: str) -> None:
    assert _code(name, _flip(quote(name), offset)) == code, region


@pytest.mark.parametrize(
    ("name", "offset", "value", "code"),
    [
        (V4, 0, 6, "evidence.unsupported"),  # version 6
        (V4, 2, 3, "evidence.unsupported"),  # ECDSA P-384 attestation key
        (V4, 4, 0, "evidence.unsupported"),  # SGX TEE type
        (V5, 48, 1, "evidence.unsupported"),  # SGX enclave report body
        (V5, 48, 4, "evidence.unsupported"),  # TD Report 1.5 "ex" body
        (V4, 632 + 4 + 128, 5, "evidence.unsupported"),  # outer certification type 5
        (V4, 632 + 4 + 134 + 449, 0xFF, "evidence.malformed"),  # QE auth data size too large
    ],
)
def test_unsupported_and_oversized_values(name: str, offset: int, value: int, code: str) -> None:
    assert _code(name, _set(quote(name), offset, value)) == code


@pytest.mark.parametrize("name", [SPR, V4])
def test_trailing_bytes_are_never_read(name: str) -> None:
    q = abi.parse_quote(quote(name))
    assert q.trailing_bytes > 0
    assert _code(name, _flip(quote(name), len(q.raw) - 1)) == "ok"
    assert _code(name, quote(name) + b"\xff" * 100) == "ok"


def _reencode_chain(name: str, index: int, der_offset_from_end_of_serial: int = 0) -> bytes:
    """The quote with one certificate's serial number changed (DER still well formed)."""
    q = abi.parse_quote(quote(name))
    blocks = list(q.pck_chain_der)
    der = bytearray(blocks[index])
    # tbsCertificate: SEQUENCE { [0] version, INTEGER serial, ... }: find the serial's last byte.
    pos = 4 + 4  # outer SEQUENCE header (30 82 LL LL) + tbs header (30 82 LL LL)
    assert der[pos] == 0xA0
    pos += 2 + der[pos + 1]
    assert der[pos] == 0x02
    der[pos + 1 + 1 + der[pos + 1] - 1 - der_offset_from_end_of_serial] ^= 0x01
    blocks[index] = bytes(der)
    pem = b"".join(
        b"-----BEGIN CERTIFICATE-----\n"
        + "\n".join(textwrap.wrap(base64.b64encode(b).decode(), 64)).encode()
        + b"\n-----END CERTIFICATE-----\n"
        for b in blocks
    )
    pem += q.pck_chain_pem[len(pem) :]  # keep the original's trailing NUL, if any
    assert len(pem) == len(q.pck_chain_pem)
    start = q.end - len(q.pck_chain_pem)
    return q.raw[:start] + pem + q.raw[q.end :]


@pytest.mark.parametrize(
    ("index", "code"),
    [(0, "chain.signature_invalid"), (1, "chain.signature_invalid"), (2, "chain.untrusted")],
)
def test_certificate_content_changed(index: int, code: str) -> None:
    assert _code(V4, _reencode_chain(V4, index)) == code


# --- the signed collateral ----------------------------------------------------------------------


def _with_replaced(name: str, path: Path, data: bytes) -> CollateralSet:
    items = [
        CollateralItem(data=data if p == path.resolve() else p.read_bytes(), source=str(p))
        for p in collateral_paths(name)
    ]
    return CollateralSet.of(items)


def _pcs_file(kind: str) -> Path:
    folder = TDX / "collateral-2026-01-tinfoil"
    return folder / ("tcb_info_90c06f000000.json" if kind == "tcb" else "qe_identity.json")


@pytest.mark.parametrize(
    ("kind", "needle", "replacement", "code"),
    [
        (
            "tcb",
            b'"tcbEvaluationDataNumber":18',
            b'"tcbEvaluationDataNumber":19',
            "collateral.signature_invalid",
        ),
        (
            "tcb",
            b'"issueDate":"2026-01-12',
            b'"issueDate":"2026-01-13',
            "collateral.signature_invalid",
        ),
        (
            "tcb",
            b'"tcbStatus":"OutOfDate"',
            b'"tcbStatus":"UpToDate!"',
            "collateral.signature_invalid",
        ),
        ("tcb", b'{"isvsvn":4}', b'{"isvsvn":5}', "collateral.signature_invalid"),
        ("tcb", b'"signature":"f6', b'"signature":"f7', "collateral.signature_invalid"),
        ("tcb", b'"fmspc":"90c06f000000"', b'"fmspc":"90c06f000001"', "tdx.collateral_missing"),
        ("tcb", b'{"tcbInfo":{', b'{"tcbInfo":[', "tdx.collateral_malformed"),
        ("qe", b'"isvprodid":2', b'"isvprodid":3', "collateral.signature_invalid"),
        ("qe", b'"mrsigner":"DC9E', b'"mrsigner":"DC9F', "collateral.signature_invalid"),
        ("qe", b'"signature":"71', b'"signature":"70', "collateral.signature_invalid"),
        ("qe", b'"signature":"71', b'"signature":"7g', "tdx.collateral_malformed"),
    ],
)
def test_signed_pcs_json_flips(kind: str, needle: bytes, replacement: bytes, code: str) -> None:
    path = _pcs_file(kind)
    raw = path.read_bytes()
    assert needle in raw, needle
    mutated = raw.replace(needle, replacement, 1)
    assert _code(V5, quote(V5), _with_replaced(V5, path, mutated)) == code


@pytest.mark.parametrize(
    ("key", "code"),
    [
        ("tcb_info", "collateral.signature_invalid"),
        ("qe_identity", "collateral.signature_invalid"),
        ("tcb_info_signature", "collateral.signature_invalid"),
        ("qe_identity_signature", "collateral.signature_invalid"),
        ("pck_crl", "collateral.signature_invalid"),
        ("root_ca_crl", "collateral.signature_invalid"),
        ("tcb_info_issuer_chain", "tdx.collateral_chain_invalid"),
    ],
)
def test_dcap_qvl_bundle_flips(key: str, code: str) -> None:
    path = TDX / V4 / "collateral.json"
    doc = json.loads(path.read_text())
    value: str = doc[key]
    if key in ("tcb_info", "qe_identity"):
        doc[key] = value.replace('"version":', '"version" :', 1)  # same JSON, other bytes
    elif key.endswith("_signature"):
        doc[key] = value[:10] + ("0" if value[10] != "0" else "1") + value[11:]
    elif key.endswith("crl"):
        # The last byte lies inside the signature's s INTEGER.
        doc[key] = value[:-2] + f"{int(value[-2:], 16) ^ 1:02x}"
    else:
        # Change a byte of the TCB Signing certificate's signature (second-to-last line).
        lines = value.split("\n")
        first_end = lines.index("-----END CERTIFICATE-----")
        target = first_end - 2
        line = lines[target]
        lines[target] = line[:5] + ("A" if line[5] != "A" else "B") + line[6:]
        doc[key] = "\n".join(lines)
    data = json.dumps(doc).encode()
    coll = CollateralSet.of([CollateralItem(data=data, source="collateral.json")])
    assert _code(V4, quote(V4), coll) == code


def test_pcs_crl_signature_flip() -> None:
    path = TDX / "collateral-2026-01-tinfoil" / "pck_crl_platform.der"
    raw = path.read_bytes()
    assert _code(V5, quote(V5), _with_replaced(V5, path, _flip(raw, len(raw) - 1))) == (
        "collateral.signature_invalid"
    )
    root = TDX / "collateral-2026-01-tinfoil" / "root_ca_crl.der"
    raw = root.read_bytes()
    assert _code(V5, quote(V5), _with_replaced(V5, root, _flip(raw, len(raw) - 1))) == (
        "collateral.signature_invalid"
    )


def test_undecodable_certificate_name_is_a_typed_error() -> None:
    """Regression (found by hypothesis): a PCK whose issuer name is invalid UTF-8 parses
    lazily in cryptography and must still fail as a typed error, never a ValueError."""
    q = abi.parse_quote(quote(V4))
    leaf = bytearray(q.pck_chain_der[0])
    at = leaf.index(b"Intel SGX PCK Platform CA")
    leaf[at] = 0xFF
    blocks = [bytes(leaf), *q.pck_chain_der[1:]]
    pem = b"".join(
        b"-----BEGIN CERTIFICATE-----\n"
        + "\n".join(textwrap.wrap(base64.b64encode(b).decode(), 64)).encode()
        + b"\n-----END CERTIFICATE-----\n"
        for b in blocks
    )
    pem += q.pck_chain_pem[len(pem) :]
    start = q.end - len(q.pck_chain_pem)
    data = q.raw[:start] + pem + q.raw[q.end :]
    assert _code(V4, data) == "chain.malformed_certificate"
