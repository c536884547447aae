"""Tinfoil v3 (and v2) documents built with the mock hardware: accepted with the same
EnclaveIdentity shape, every binding failure with its own code, strict parsing (§3.4)."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from teeclient.attest import (
    AttestationResult,
    NonceLedger,
    verify_document,
    verify_tinfoil_document,
)
from teeclient.errors import (
    BindingError,
    DocumentError,
    KeysNotBoundError,
    TeeclientError,
    UnsupportedDocumentError,
)
from teeclient.policy.load import parse_policy
from teeclient.policy.result import CheckStatus
from teeclient.testing.hardware import Fault, HardwareSpec, MockHardware, VendorPkis
from teeclient.tinfoil import (
    V2_DUMMY,
    check_certificate,
    dcode_decode,
    dcode_sans,
    encode_v2,
    parse_tinfoil_document,
    report_data_v3,
    spki_sha256,
)

NOW = datetime(2026, 2, 1, 10, tzinfo=UTC)
NONCE = bytes(range(32))
HPKE = hashlib.sha256(b"hpke").digest()
TLS_KEY = ec.generate_private_key(ec.SECP256R1())


def _tls_cert(*sans: str, key: ec.EllipticCurvePrivateKey = TLS_KEY) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "enclave.example")])
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(NOW - timedelta(days=1))
        .not_valid_after(NOW + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName(s) for s in ("enclave.example", *sans)]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )


TLS = spki_sha256(_tls_cert())


@pytest.fixture(scope="module", params=[("sev-snp", 0), ("sev-snp", 8), ("tdx", 1)])
def hw(request: pytest.FixtureRequest, mock_pkis: VendorPkis) -> MockHardware:
    platform, gpus = request.param
    return MockHardware(
        HardwareSpec(platform=platform, gpus=gpus, switches=4 if gpus == 8 else 0), pkis=mock_pkis
    )


def _v3(hw: MockHardware, **kw: Any) -> bytes:
    return hw.tinfoil_v3(NONCE, hpke_public_key=HPKE, tls_spki_sha256=TLS, at=NOW, **kw)


def _verify(raw: bytes, hw: MockHardware, **kw: Any) -> AttestationResult:
    args: dict[str, Any] = {
        "nonce": NONCE,
        "now": NOW,
        "policy": hw.policy(),
        "trust": hw.trust_store(),
        **kw,
    }
    return verify_document(raw, **args)


def _code(run: Callable[[], AttestationResult]) -> str:
    try:
        result = run()
    except TeeclientError as exc:
        return exc.code
    failed = sorted(c.id for c in result.appraisal.checks if c.status is CheckStatus.FAIL)
    return "accepted" if result.identity else "check:" + ",".join(failed)


def test_v3_is_accepted_and_pins_the_same_identity(hw: MockHardware) -> None:
    result = _verify(_v3(hw), hw)
    identity = result.identity
    assert identity is not None, [
        (c.id, c.message) for c in result.appraisal.checks if c.status is CheckStatus.FAIL
    ]
    assert identity.layout == "tinfoil-v3"
    assert identity.hpke_public_key == HPKE
    assert identity.tls_spki_sha256 == TLS
    assert identity.nonce == NONCE
    assert identity.platform == hw.platform
    assert len(identity.devices) == hw.spec.gpus + hw.spec.switches
    statuses = {c.id: c.status for c in result.appraisal.checks}
    assert statuses["binding.layout"] is CheckStatus.PASS
    if hw.spec.gpus:
        assert statuses["binding.gpu_nonce"] is CheckStatus.PASS


_V3_FAULTS = {
    Fault.STALE_EVIDENCE: "freshness.nonce_mismatch",
    Fault.REPLAYED_NONCE: "binding.report_data_mismatch",
    Fault.UNBOUND_KEY: "binding.keys_not_bound",
    Fault.EXTRA_GPU: "binding.devices_not_bound",
    Fault.MISSING_GPU: "binding.devices_not_bound",
    Fault.REVOKED: "chain.revoked",
}


@pytest.mark.parametrize("fault", list(_V3_FAULTS))
def test_v3_faults(hw: MockHardware, fault: Fault) -> None:
    if fault is Fault.MISSING_GPU and not hw.spec.gpus:
        with pytest.raises(ValueError, match="does not apply"):
            hw.with_faults(fault)
        return
    assert _code(lambda: _verify(_v3(hw.with_faults(fault)), hw)) == _V3_FAULTS[fault]


def test_v3_policy_checks(hw: MockHardware) -> None:
    wrong = _code(lambda: _verify(_v3(hw.with_faults(Fault.WRONG_MEASUREMENT)), hw))
    assert wrong.startswith("check:")
    assert hw.expected_outcome(Fault.WRONG_MEASUREMENT).removeprefix("check:") in wrong
    only_teeclient = parse_policy(
        hw.policy_toml().replace('"teeclient-v1", "tinfoil-v3"', '"teeclient-v1"')
    )
    assert _code(lambda: _verify(_v3(hw), hw, policy=only_teeclient)) == "check:binding.layout"


def test_v3_nonce_handling(hw: MockHardware) -> None:
    raw = _v3(hw)
    assert _code(lambda: _verify(raw, hw, nonce=None)) == "usage.invalid"
    ledger = NonceLedger()
    assert _verify(raw, hw, ledger=ledger).identity is not None
    assert _code(lambda: _verify(raw, hw, ledger=ledger)) == "freshness.nonce_reused"
    assert (
        _code(lambda: _verify(raw, hw, nonce_issued_at=NOW - timedelta(minutes=10)))
        == "freshness.too_old"
    )


def test_v3_challenge_report_data_must_derive_from_the_sections(mock_pkis: VendorPkis) -> None:
    hw = MockHardware(HardwareSpec(platform="sev-snp"), pkis=mock_pkis)
    doc = json.loads(_v3(hw))
    doc["challenge"]["report_data"] = "00" * 64
    assert _code(lambda: _verify(json.dumps(doc).encode(), hw)) == "binding.report_data_mismatch"
    doc = json.loads(_v3(hw))
    doc["cpu_evidence"]["endorsed"]["device_evidence_hash"] = "00" * 32
    assert _code(lambda: _verify(json.dumps(doc).encode(), hw)) == "binding.devices_not_bound"


_MUTATIONS: list[tuple[str, Callable[[dict[str, Any]], None], type[Exception]]] = [
    ("unknown top member", lambda d: d.update(extra=1), DocumentError),
    ("unknown challenge member", lambda d: d["challenge"].update(x=1), DocumentError),
    (
        "uppercase nonce",
        lambda d: d["challenge"].update(nonce=d["challenge"]["nonce"].upper()),
        DocumentError,
    ),
    ("short report_data", lambda d: d["challenge"].update(report_data="00" * 32), DocumentError),
    ("algorithm", lambda d: d["challenge"].update(report_data_algorithm="x"), DocumentError),
    ("cpu format", lambda d: d["cpu_evidence"].update(format="x"), DocumentError),
    (
        "non-canonical base64",
        lambda d: d.update(crypto_material=d["crypto_material"].rstrip("=")),
        DocumentError,
    ),
    ("unknown role", lambda d: d["collateral"][0].update(role="other"), DocumentError),
    (
        "duplicate collateral id",
        lambda d: d["collateral"].append(dict(d["collateral"][0])),
        DocumentError,
    ),
    (
        "v4",
        lambda d: d.update(format="https://tinfoil.sh/predicate/attestation/v4"),
        UnsupportedDocumentError,
    ),
]


@pytest.mark.parametrize(("name", "mutate", "error"), _MUTATIONS, ids=[m[0] for m in _MUTATIONS])
def test_v3_strict_parsing(
    name: str,
    mutate: Callable[[dict[str, Any]], None],
    error: type[Exception],
    mock_pkis: VendorPkis,
) -> None:
    hw = MockHardware(HardwareSpec(platform="sev-snp"), pkis=mock_pkis)
    doc = json.loads(_v3(hw))
    mutate(doc)
    with pytest.raises(error):
        parse_tinfoil_document(json.dumps(doc).encode())


def test_v3_sections_are_parsed_strictly(mock_pkis: VendorPkis) -> None:
    hw = MockHardware(HardwareSpec(platform="sev-snp"), pkis=mock_pkis)
    doc = json.loads(_v3(hw))

    def with_crypto(section: dict[str, Any]) -> bytes:
        changed = dict(doc)
        changed["crypto_material"] = base64.b64encode(json.dumps(section).encode()).decode()
        return json.dumps(changed).encode()

    crypto = json.loads(base64.b64decode(doc["crypto_material"]))
    for bad in (
        {**crypto, "x": 1},
        {**crypto, "items": [*crypto["items"], crypto["items"][0]]},  # duplicate id
        {**crypto, "items": [{**crypto["items"][0], "data": "AB" * 32}]},
        {**crypto, "items": [{**crypto["items"][0], "data": "ab" * 31}]},
        {**crypto, "items": [{"id": "x", "format": "urn:x", "data": "abc"}]},
    ):
        with pytest.raises(DocumentError):
            parse_tinfoil_document(with_crypto(bad))
    dup = json.dumps(doc).replace('"format"', '"format": "x", "format"', 1)
    with pytest.raises(DocumentError):
        parse_tinfoil_document(dup.encode())


def test_v2_documents(mock_pkis: VendorPkis) -> None:
    hw = MockHardware(HardwareSpec(platform="tdx"), pkis=mock_pkis)
    raw = hw.tinfoil_v2(hpke_public_key=HPKE, tls_spki_sha256=TLS, at=NOW)
    policy = parse_policy(
        hw.policy_toml()
        .replace('nonce = "required"', 'nonce = "optional"')
        .replace('["teeclient-v1", "tinfoil-v3"]', '["tinfoil-v2"]')
    )
    col = hw.collateral(NOW)  # v2 carries no collateral: the client brings Intel's
    result = _verify(raw, hw, nonce=None, policy=policy, nonce_issued_at=NOW, collateral=col)
    assert result.identity is not None
    assert result.identity.layout == "tinfoil-v2"
    assert result.identity.hpke_public_key == HPKE
    rejected = _code(lambda: _verify(raw, hw, nonce=None, collateral=col))
    assert rejected == "check:binding.layout,freshness.nonce"
    too_old = NOW - timedelta(minutes=6)
    assert (
        _code(lambda: _verify(raw, hw, policy=policy, nonce_issued_at=too_old, collateral=col))
        == "freshness.too_old"
    )


def test_v2_parsing_limits() -> None:
    def doc(fmt: str, body: str) -> bytes:
        return json.dumps({"format": fmt, "body": body}).encode()

    snp = "https://tinfoil.sh/predicate/sev-snp-guest/v2"
    with pytest.raises(UnsupportedDocumentError):
        parse_tinfoil_document(doc(V2_DUMMY, "00" * 64))
    with pytest.raises(DocumentError):  # not gzip
        parse_tinfoil_document(doc(snp, base64.b64encode(b"x" * 1184).decode()))
    with pytest.raises(DocumentError):  # wrong report size
        parse_tinfoil_document(encode_v2("sev-snp", bytes(100)))
    bomb = gzip.compress(bytes(11 * 1024 * 1024))
    with pytest.raises(DocumentError) as info:
        parse_tinfoil_document(doc(snp, base64.b64encode(bomb).decode()))
    assert "too large" in info.value.message
    with pytest.raises(DocumentError):  # trailing data after the gzip member
        parse_tinfoil_document(
            doc(snp, base64.b64encode(gzip.compress(bytes(1184)) + b"x").decode())
        )
    with pytest.raises(DocumentError):
        parse_tinfoil_document(json.dumps({"format": snp, "body": "", "x": 1}).encode())


def test_enclave_certificate_binding(mock_pkis: VendorPkis) -> None:
    hw = MockHardware(HardwareSpec(platform="sev-snp"), pkis=mock_pkis)
    raw = hw.tinfoil_v2(hpke_public_key=HPKE, tls_spki_sha256=TLS, at=NOW)
    v2 = parse_tinfoil_document(raw)
    doc_hash = v2.document_hash  # type: ignore[union-attr]
    good = _tls_cert(
        *dcode_sans(HPKE, "hpke", "enclave.example"),
        *dcode_sans(doc_hash.encode(), "hatt", "enclave.example"),
    )
    assert (
        dcode_decode(
            good.extensions.get_extension_for_class(
                x509.SubjectAlternativeName
            ).value.get_values_for_type(x509.DNSName),
            "hpke",
        )
        == HPKE
    )
    check_certificate(good, tls_spki_sha256=TLS, hpke_public_key=HPKE, document_hash=doc_hash)
    with pytest.raises(KeysNotBoundError):
        check_certificate(
            _tls_cert(key=ec.generate_private_key(ec.SECP256R1())),
            tls_spki_sha256=TLS,
            hpke_public_key=HPKE,
        )
    with pytest.raises(KeysNotBoundError):
        check_certificate(
            _tls_cert(*dcode_sans(bytes(32), "hpke", "e")),
            tls_spki_sha256=TLS,
            hpke_public_key=HPKE,
        )
    with pytest.raises(BindingError):
        check_certificate(good, tls_spki_sha256=TLS, hpke_public_key=HPKE, document_hash="00")
    policy = parse_policy(
        hw.policy_toml()
        .replace('nonce = "required"', 'nonce = "optional"')
        .replace('["teeclient-v1", "tinfoil-v3"]', '["tinfoil-v2"]')
    )
    from cryptography.hazmat.primitives.serialization import Encoding

    pem = good.public_bytes(Encoding.PEM)
    vek = hw.vek()
    assert vek is not None
    col = [vek.pem, *(i.data for i in hw.collateral(NOW))]
    result = verify_tinfoil_document(
        raw,
        nonce=None,
        now=NOW,
        policy=policy,
        trust=hw.trust_store(),
        tls_certificate=pem,
        collateral=col,
    )
    assert result.identity is not None
    statuses = {c.id: c.status for c in result.appraisal.checks}
    assert statuses["binding.keys"] is CheckStatus.PASS
    with pytest.raises(KeysNotBoundError):
        verify_tinfoil_document(
            raw,
            nonce=None,
            now=NOW,
            policy=policy,
            trust=hw.trust_store(),
            collateral=col,
            tls_certificate=_tls_cert(key=ec.generate_private_key(ec.SECP256R1())).public_bytes(
                Encoding.PEM
            ),
        )


def test_report_data_v3_layout() -> None:
    rd = report_data_v3(NONCE, bytes(32), b"\x01" * 32)
    expected = hashlib.sha256(
        b"https://tinfoil.sh/report-data/v1" + NONCE + bytes(32) + b"\x01" * 32
    ).digest()
    assert rd == expected + bytes(32)
    with pytest.raises(ValueError, match="32 bytes"):
        report_data_v3(bytes(31), bytes(32), bytes(32))
