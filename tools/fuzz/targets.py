"""The fuzz targets: one entry point per parser family, with seeds from the real fixtures.

Each target takes arbitrary bytes. Returning, or raising a ``TeeclientError`` subclass, is the
expected behaviour; anything else (a built-in or third-party exception escaping) is a bug.
The harness in ``worker.py`` catches ``TeeclientError`` and lets everything else crash.
Nothing here touches the network or the clock.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

from teeclient.bundle import Bundle
from teeclient.collateral.items import CollateralItem, CollateralSet, classify
from teeclient.document import parse_document
from teeclient.errors import TeeclientError
from teeclient.platforms.nitro import abi as nitro_abi
from teeclient.platforms.nvidia import abi as nvidia_abi
from teeclient.platforms.nvidia import ocsp as nvidia_ocsp
from teeclient.platforms.nvidia import rim as nvidia_rim
from teeclient.platforms.nvidia.evidence import parse_evidence
from teeclient.platforms.sev_snp import abi as snp_abi
from teeclient.platforms.sev_snp.verify import split_evidence
from teeclient.platforms.tdx import abi as tdx_abi
from teeclient.platforms.tdx import collateral as tdx_collateral
from teeclient.platforms.tdx import pcs
from teeclient.policy.load import parse_policy
from teeclient.protocol import bhttp, ehbp, keyconfig, ohttp
from teeclient.protocol.hpke import AeadId, KdfId, KemId, PrivateKey, Suite
from teeclient.tinfoil import parse_tinfoil_document
from teeclient.trust.file import parse_trust_file

ROOT = Path(__file__).resolve().parents[2]
REAL = ROOT / "fixtures" / "real"

__all__ = ["TARGETS", "Target", "target"]


@dataclass(frozen=True, slots=True)
class Target:
    """One fuzz target: a name, what it covers, its entry points, seeds and input bound.

    Every entry point gets the same input; each may return or raise a ``TeeclientError``.
    """

    name: str
    covers: str
    entries: tuple[Callable[[bytes], object], ...]
    seeds: Callable[[], list[bytes]]
    max_len: int


def _files(*patterns: str) -> list[bytes]:
    out: list[bytes] = []
    for pattern in patterns:
        out += [p.read_bytes() for p in sorted(REAL.glob(pattern)) if p.is_file()]
    return out


def _hex_reports(*patterns: str) -> list[bytes]:
    return [bytes.fromhex(b.decode().strip()) for b in _files(*patterns)]


# --- SEV-SNP --------------------------------------------------------------------------------


def _sev_snp_report_seeds() -> list[bytes]:
    reports = _files("sev-snp/*/report.bin", "sev-snp/*/*report*.bin")
    return list(dict.fromkeys(reports))


def _sev_snp_cert_table(data: bytes) -> None:
    snp_abi.parse_cert_table(data)


def _cert_table(entries: list[tuple[bytes, bytes]]) -> bytes:
    header = bytearray()
    offset = (len(entries) + 1) * 24
    blobs = b""
    for guid, blob in entries:
        header += (
            guid + (offset + len(blobs)).to_bytes(4, "little") + len(blob).to_bytes(4, "little")
        )
        blobs += blob
    return bytes(header) + bytes(24) + blobs


def _sev_snp_cert_table_seeds() -> list[bytes]:
    vek_guid = bytes.fromhex("63da758d-e664-4564-adc5-f4b93be8accd".replace("-", ""))
    ask_guid = bytes.fromhex("4ab7b379-bbac-4fe4-a02f-05aef327c782".replace("-", ""))
    veks = _files("sev-snp/*/vcek.der", "sev-snp/*/vlek.der")[:2]
    return [_cert_table([(vek_guid, v), (ask_guid, v[:200])]) for v in veks] + [bytes(24)]


# --- TDX -------------------------------------------------------------------------------------


def _tdx_quote(data: bytes) -> None:
    quote = tdx_abi.parse_quote(data)
    tdx_abi.split_pem_chain(quote.pck_chain_pem)


def _tdx_pem(data: bytes) -> None:
    tdx_abi.split_pem_chain(data)


def _tdx_collateral(data: bytes) -> None:
    selector, body = data[:1], data[1:]
    if selector in (b"t", b"q"):
        kind = "tcb_info" if selector == b"t" else "qe_identity"
        signed = pcs.extract_signed(body, kind, source="fuzz")
        if kind == "tcb_info":
            pcs.parse_tcb_info(signed.signed)
        else:
            pcs.parse_qe_identity(signed.signed)
        return
    if selector == b"h":
        tdx_collateral.parse_http_response(body, source="fuzz")
        return
    classify(body)
    tdx_collateral.gather(CollateralSet.of([CollateralItem(data=body or b"\x00", source="fuzz")]))


def _tdx_collateral_seeds() -> list[bytes]:
    tcb = _files("tdx/collateral-*/tcb_info_*[0-9].json")
    qe = _files("tdx/collateral-*/qe_identity.json")
    dcap = _files("tdx/*/collateral.json")
    http = [b"HTTP/1.1 200 OK\r\nTCB-Info-Issuer-Chain: x\r\n\r\n" + tcb[0]]
    return (
        [b"t" + t for t in tcb]
        + [b"q" + q for q in qe]
        + [b"h" + h for h in http]
        + [b"g" + d for d in dcap + tcb[:1] + qe[:1]]
    )


# --- NVIDIA ----------------------------------------------------------------------------------


def _nvidia_gpu(data: bytes) -> None:
    nvidia_abi.parse_report(data, nvidia_abi.DeviceKind.GPU)


def _nvidia_switch(data: bytes) -> None:
    nvidia_abi.parse_report(data, nvidia_abi.DeviceKind.SWITCH)


def _nvidia_opaque(data: bytes) -> None:
    """The opaque-data TLVs alone (the report's tail, 96-byte signature removed)."""
    for kind in nvidia_abi.DeviceKind:
        try:
            report = nvidia_abi.parse_report(data, kind)
        except TeeclientError:
            continue
        raw = report.response.opaque.raw
        nvidia_abi.parse_opaque_data(raw[: len(raw) // 2] + raw[len(raw) // 2 :], kind)
    nvidia_abi.parse_opaque_data(data[-600:], nvidia_abi.DeviceKind.GPU)


def _nvidia_spdm_seeds() -> list[bytes]:
    return _hex_reports(
        "nvidia/hopper_e2e/hopperAttestationReport.txt",
        "nvidia/nvat-testdata/switch/switchAttestationReport.txt",
        "nvidia/blackwell/blackwellAttestationReport.txt",
    )


def _nvidia_evidence(data: bytes) -> None:
    parse_evidence(data, source="fuzz")


def _nvidia_evidence_seeds() -> list[bytes]:
    return [d for d in _files("nvidia/nvat-testdata/evidence/*.json") if len(d) < 32 * 1024]


def _nvidia_rim(data: bytes) -> None:
    nvidia_rim.peek_rim(data, source="fuzz")


def _nvidia_rim_describe(data: bytes) -> None:
    nvidia_rim.describe_rim(data, source="fuzz")


def _nvidia_rim_seeds() -> list[bytes]:
    return _files("nvidia/hopper_e2e/*.xml", "nvidia/nvat-testdata/rims/*.xml")[:4]


def _nvidia_ocsp(data: bytes) -> None:
    nvidia_ocsp.load_response(data, source="fuzz")


def _nvidia_ocsp_describe(data: bytes) -> None:
    nvidia_ocsp.describe_response(data, source="fuzz")


def _nvidia_ocsp_seeds() -> list[bytes]:
    return [base64.b64decode(d) for d in _files("nvidia/hopper_e2e/ocsp/*.b64")]


# --- Nitro -----------------------------------------------------------------------------------


def _nitro_cose(data: bytes) -> None:
    nitro_abi.parse_document(data)


def _nitro_seeds() -> list[bytes]:
    return _files("nitro/docs/*.cbor")


# --- documents, bundles, policy --------------------------------------------------------------


def _attestation_document(data: bytes) -> None:
    parse_document(data)


@cache
def _sample_document() -> bytes:
    from teeclient.binding import BoundKeys
    from teeclient.document import CpuEvidence, DeviceEntry, encode_document

    nitro = _files("nitro/docs/evervault-2022-10-13-prod.cbor")[0]
    gpu = _hex_reports("nvidia/hopper_e2e/hopperAttestationReport.txt")[0]
    return encode_document(
        nonce=bytes(range(32)),
        cpu=CpuEvidence(platform="nitro", evidence=nitro),
        keys=BoundKeys(ohttp_keys=_key_config_list(), tls_spki_sha256=bytes(32)),
        devices=[
            DeviceEntry(
                kind="nvidia-gpu",
                arch="hopper",
                evidence=gpu,
                certificates=_files("nvidia/hopper_e2e/hopperCertChain.txt")[0],
            )
        ],
        collateral=[CollateralItem(data=b"\x30\x00", source="https://example.invalid/x")],
        issued_at=datetime(2026, 1, 1, tzinfo=UTC),
    )


def _attestation_document_seeds() -> list[bytes]:
    doc = _sample_document()
    small = json.loads(doc)
    small["devices"] = []
    small["binding"]["device_digests"] = []
    return [doc, json.dumps(small).encode()]


def _bundle(data: bytes) -> None:
    Bundle.from_json(data)


def _bundle_seeds() -> list[bytes]:
    bundles = [p.read_bytes() for p in sorted((ROOT / "examples" / "ci" / "bundles").glob("*"))]
    return [b for b in bundles if len(b) < 32 * 1024]


def _policy_toml(data: bytes) -> None:
    parse_policy(data.decode("utf-8", "replace"), source="fuzz")


def _policy_seeds() -> list[bytes]:
    policies = sorted((ROOT / "policies").rglob("*.toml"))
    return [p.read_bytes() for p in policies] + [
        (ROOT / "examples" / "ci" / "policy.toml").read_bytes()
    ]


def _tinfoil(data: bytes) -> None:
    parse_tinfoil_document(data)


def _tinfoil_seeds() -> list[bytes]:
    return _files("tinfoil/*/*.json")


def _trust_file(data: bytes) -> None:
    parse_trust_file(data, path="fuzz")


def _trust_file_seeds() -> list[bytes]:
    from teeclient.trust import TrustStore
    from teeclient.trust.file import dump_trust_file

    anchors = {a.name: a.certificates for a in list(TrustStore.vendor())[:3]}
    return [
        dump_trust_file(anchors, source="fuzz seed").encode(),
        dump_trust_file(anchors, source="fuzz seed", as_json=True).encode(),
    ]


# --- protocol: key configurations, Binary HTTP, OHTTP, EHBP ----------------------------------

_SUITE = Suite(kem=KemId.DHKEM_X25519_HKDF_SHA256, kdf=KdfId.HKDF_SHA256, aead=AeadId.AES_128_GCM)


@cache
def _gateway_key() -> ohttp.GatewayKey:
    private = PrivateKey.derive(_SUITE.kem, b"teeclient fuzz gateway key".ljust(32, b"\x00"))
    config = keyconfig.KeyConfig.create(1, private.public_key(), [_SUITE])
    return ohttp.GatewayKey(config=config, private_key=private)


def _key_config_list() -> bytes:
    return keyconfig.serialize_key_config_list([_gateway_key().config])


def _keyconfig_seeds() -> list[bytes]:
    one = _gateway_key().config.to_bytes()
    return [_key_config_list(), one]


def _bhttp(data: bytes) -> None:
    if data[:1] in (b"\x00", b"\x02"):
        bhttp.decode_request(data)
    else:
        bhttp.decode_response(data)


def _bhttp_incremental(data: bytes) -> None:
    """The incremental decoder, fed in pieces of 1, 17, 33 … 497 bytes (the last byte picks)."""
    decoder = bhttp.Decoder("request" if data[:1] in (b"\x00", b"\x02") else "response")
    step = (data[-1] % 32 if data else 0) * 16 + 1
    for at in range(0, len(data), step):
        decoder.feed(data[at : at + step])
    decoder.finish()


def _bhttp_seeds() -> list[bytes]:
    request = bhttp.Request(
        method="POST",
        scheme="https",
        authority="example.com",
        path="/v1/chat/completions",
        headers=((b"authorization", b"Bearer sk-x"), (b"content-type", b"application/json")),
        content=b'{"model":"m"}',
        trailers=((b"x-t", b"1"),),
    )
    response = bhttp.Response(
        status=200, headers=((b"content-type", b"text/event-stream"),), content=b"data: x\n\n"
    )
    return [
        bhttp.encode_request(request),
        bhttp.encode_request(request, indeterminate=True, padding=3),
        bhttp.encode_response(response),
        bhttp.encode_response(response, indeterminate=True),
    ]


@cache
def _ohttp_session() -> tuple[ohttp.ChunkedRequestSender, bytes, ohttp.ResponseOpener, bytes]:
    selection = keyconfig.Selection(config=_gateway_key().config, suite=_SUITE)
    ephemeral = PrivateKey.derive(_SUITE.kem, b"teeclient fuzz ephemeral".ljust(32, b"\x00"))
    sender = ohttp.ChunkedRequestSender(selection, chunk_size=64, ephemeral=ephemeral)
    request = sender.header + sender.finish(b"request body " * 10)
    whole, opener = ohttp.encapsulate_request(selection, b"GET /", ephemeral=ephemeral)
    return sender, request, opener, whole


@cache
def _ehbp_server() -> ehbp.Server:
    return ehbp.Server(PrivateKey.derive(KemId.DHKEM_X25519_HKDF_SHA256, bytes(32)))


@cache
def _ehbp_session() -> tuple[ehbp.RequestEncryptor, bytes]:
    server = _ehbp_server()
    ephemeral = PrivateKey.derive(KemId.DHKEM_X25519_HKDF_SHA256, b"\x01" * 32)
    encryptor = ehbp.RequestEncryptor(server.config.public_key, ephemeral=ephemeral)
    return encryptor, encryptor.seal(b"x" * 50)


_NONCE = bytes(range(32))


def _ohttp(data: bytes) -> None:
    """Hostile bytes where a client expects a response, or a gateway a request."""
    mode, rest = data[:1], data[1:]
    sender, _, opener, _ = _ohttp_session()
    if mode == b"c":  # chunked response, as the client receives it
        receiver = sender.response_receiver()
        cut = rest[0] if rest else 0
        receiver.feed(rest[:cut])
        receiver.feed(rest[cut:])
        receiver.finish()
    elif mode == b"o":  # non-chunked encapsulated response
        opener.open(rest)
    elif mode == b"g":  # gateway: whole encapsulated request
        ohttp.Gateway([_gateway_key()]).decapsulate_request(rest)
    elif mode == b"r":  # gateway: chunked request
        chunked = ohttp.Gateway([_gateway_key()]).chunked_request()
        chunked.feed(rest)
        chunked.finish()
    elif mode == b"n":  # EHBP response headers
        text = rest.decode("latin-1")
        ehbp.parse_response_nonce(text.split("\n"))
        ehbp.parse_encapsulated_key(text)
        ehbp.is_key_config_problem(rest[0] if rest else 0, text[:20], rest)
    else:  # EHBP response frames
        encryptor, _ = _ehbp_session()
        decryptor = encryptor.response_decryptor(_NONCE)
        decryptor.feed(rest)
        decryptor.finish()


def _ohttp_seeds() -> list[bytes]:
    _, request, _, whole = _ohttp_session()
    # a valid chunked response for the session: built with the gateway's half
    chunked = ohttp.Gateway([_gateway_key()]).chunked_request()
    chunked.feed(request)
    chunked.finish()
    responder = chunked.response_sender(chunk_size=32)
    response = responder.header + responder.seal(b"data: hello\n\n" * 4) + responder.finish(b"!")
    _, sealer = ohttp.Gateway([_gateway_key()]).decapsulate_request(whole)
    encryptor, body = _ehbp_session()
    server_side = _ehbp_server().open_request(encryptor.enc.hex())
    server_side.feed(body)
    server_side.finish()
    ehbp_response = server_side.response_encryptor(nonce=_NONCE).seal(
        b"hello world " * 10, frame_size=40
    )
    return [
        b"c" + response,
        b"o" + sealer.seal(b"HTTP response"),
        b"g" + whole,
        b"r" + request,
        b"e" + ehbp_response,
        b"n" + _NONCE.hex().encode(),
    ]


# --- the registry ----------------------------------------------------------------------------

TARGETS: dict[str, Target] = {
    t.name: t
    for t in (
        Target(
            "sev_snp_report",
            "SEV-SNP attestation report, extended report (cert table), HCL wrapper",
            (snp_abi.parse_report, split_evidence),
            _sev_snp_report_seeds,
            4096,
        ),
        Target(
            "sev_snp_cert_table",
            "SEV-SNP GUID certificate table",
            (_sev_snp_cert_table,),
            _sev_snp_cert_table_seeds,
            4096,
        ),
        Target(
            "tdx_quote",
            "TDX quote v4/v5: header, TD report 1.0/1.5, QE report, auth data, PCK chain PEM",
            (_tdx_quote, _tdx_pem),
            lambda: _files("tdx/*/quote.dat"),
            8192,
        ),
        Target(
            "tdx_collateral",
            "Intel PCS TCB Info / QE Identity JSON, saved HTTP responses, dcap-qvl collateral",
            (_tdx_collateral,),
            _tdx_collateral_seeds,
            16384,
        ),
        Target(
            "nvidia_spdm",
            "NVIDIA SPDM GET_MEASUREMENTS request||response and opaque data (GPU, NVSwitch)",
            (_nvidia_gpu, _nvidia_switch, _nvidia_opaque),
            _nvidia_spdm_seeds,
            8192,
        ),
        Target(
            "nvidia_evidence",
            "NVIDIA evidence JSON (nvattest, jsonpickle, NRAS detached EAT shapes)",
            (_nvidia_evidence,),
            _nvidia_evidence_seeds,
            32768,
        ),
        Target(
            "nvidia_rim",
            "NVIDIA RIM (SWID XML + XML-DSig shape, service JSON)",
            (_nvidia_rim, _nvidia_rim_describe),
            _nvidia_rim_seeds,
            32768,
        ),
        Target(
            "nvidia_ocsp",
            "OCSP responses (DER, base64)",
            (_nvidia_ocsp, _nvidia_ocsp_describe),
            _nvidia_ocsp_seeds,
            8192,
        ),
        Target(
            "nitro_cose",
            "AWS Nitro COSE_Sign1 envelope, protected header, CBOR attestation payload",
            (_nitro_cose,),
            _nitro_seeds,
            8192,
        ),
        Target(
            "attestation_document",
            "teeclient.attestation/v1 JSON document",
            (_attestation_document,),
            _attestation_document_seeds,
            32768,
        ),
        Target(
            "bundle",
            "teeclient.bundle/v1 JSON",
            (_bundle,),
            _bundle_seeds,
            32768,
        ),
        Target(
            "tinfoil_document",
            "Tinfoil v2/v3 attestation documents",
            (_tinfoil,),
            _tinfoil_seeds,
            32768,
        ),
        Target(
            "trust_file",
            "teeclient.trust/v1 trust files (TOML and JSON)",
            (_trust_file,),
            _trust_file_seeds,
            32768,
        ),
        Target(
            "policy_toml",
            "policy TOML (every section)",
            (_policy_toml,),
            _policy_seeds,
            16384,
        ),
        Target(
            "bhttp",
            "RFC 9292 Binary HTTP requests/responses (whole and incremental)",
            (_bhttp, _bhttp_incremental),
            _bhttp_seeds,
            4096,
        ),
        Target(
            "ohttp_ehbp",
            "OHTTP (RFC 9458, chunked) and EHBP framing of hostile responses and requests",
            (_ohttp,),
            _ohttp_seeds,
            4096,
        ),
        Target(
            "keyconfig",
            "RFC 9458 key configurations and lists; EHBP key bodies",
            (
                keyconfig.parse_key_config,
                keyconfig.parse_key_config_list,
                ehbp.parse_key_config_body,
            ),
            _keyconfig_seeds,
            2048,
        ),
    )
}


def target(name: str) -> Target:
    """The target called ``name``."""
    return TARGETS[name]
