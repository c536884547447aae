"""Resource bounds: every input size, count and depth limit fails closed with a typed error.

One row per bound of the table in docs/security.md ("Resource bounds"). Each input is just
over its limit (or absurdly over, where the limit is large: the check must come before the
work). The memory of the largest legitimate inputs is measured by
``benchmarks/bench_memory.py``.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from teeclient import bundle, document
from teeclient._der import read_tlv
from teeclient._x509 import load_certificate, load_certificates
from teeclient.collateral.cache import DiskCache
from teeclient.collateral.gather import MAX_CONCURRENT_FETCHES, gather_async
from teeclient.collateral.items import CollateralItem, CollateralRequest
from teeclient.collateral.settings import CollateralSettings
from teeclient.errors import TeeclientError
from teeclient.platforms.nitro import abi as nitro_abi
from teeclient.platforms.nvidia import abi as nvidia_abi
from teeclient.platforms.nvidia import ocsp, rim
from teeclient.platforms.nvidia.evidence import MAX_DEVICES, parse_evidence
from teeclient.platforms.sev_snp import abi as snp_abi
from teeclient.platforms.tdx import abi as tdx_abi
from teeclient.platforms.tdx import pcs
from teeclient.policy.load import MAX_POLICY_BYTES, parse_policy
from teeclient.protocol import bhttp, ehbp, keyconfig, ohttp
from teeclient.verification import MAX_EVIDENCE_BYTES, load_evidence

pytestmark = pytest.mark.bounds

MiB = 1024 * 1024
FIXTURES = Path(__file__).resolve().parent.parent.parent / "fixtures" / "real"


def _doc(**changes: object) -> bytes:
    base: dict[str, object] = {
        "format": document.ATTESTATION_FORMAT,
        "nonce": "00" * 32,
        "cpu": {"platform": "nitro", "evidence": base64.b64encode(b"x").decode()},
        "devices": [],
        "keys": {"ohttp": base64.b64encode(b"\x00\x01x").decode()},
        "binding": {"keys_digest": "00" * 32, "device_digests": []},
    }
    base.update(changes)
    return json.dumps(base).encode()


def _bundle(**changes: object) -> bytes:
    """A real example bundle with ``changes`` applied."""
    path = Path(__file__).resolve().parents[2] / "examples" / "ci" / "bundles" / "nitro.bundle.json"
    base: dict[str, object] = json.loads(path.read_text())
    base.update(changes)
    return json.dumps(base).encode()


_ITEM = {"url": "https://x/y", "data": ""}
_DEVICE = {"kind": "nvidia-gpu", "arch": "hopper", "evidence": "", "certificates": ""}

# (label, code, call): each call must raise a TeeclientError with ``code``, quickly.
CASES: list[tuple[str, str, Callable[[], object]]] = [
    # whole inputs
    (
        "evidence file > 16 MiB",
        "input.unrecognised",
        lambda: load_evidence(b"\x00" * (MAX_EVIDENCE_BYTES + 1)),
    ),
    (
        "bundle > 64 MiB",
        "evidence.malformed",
        lambda: bundle.Bundle.from_json(b" " * (bundle.MAX_BUNDLE_BYTES + 1)),
    ),
    (
        "bundle > 512 items",
        "evidence.malformed",
        lambda: bundle.Bundle.from_json(_bundle(collateral=[_ITEM] * 513)),
    ),
    (
        "bundle item > 16 MiB",
        "evidence.malformed",
        lambda: bundle.Bundle.from_json(
            _bundle(collateral=[{"url": "x", "data": "A" * (22 * MiB)}])
        ),
    ),
    (
        "bundle evidence > 16 MiB",
        "evidence.malformed",
        lambda: bundle.Bundle.from_json(
            _bundle(evidence={"platform": "nitro", "data": "A" * (22 * MiB)})
        ),
    ),
    (
        "document > 32 MiB",
        "document.malformed",
        lambda: document.parse_document(b" " * (document.MAX_DOCUMENT_BYTES + 1)),
    ),
    (
        "document > 64 devices",
        "document.malformed",
        lambda: document.parse_document(_doc(devices=[_DEVICE] * 65)),
    ),
    (
        "document > 256 collateral items",
        "document.malformed",
        lambda: document.parse_document(_doc(collateral=[_ITEM] * 257)),
    ),
    ("policy > 1 MiB", "input.unrecognised", lambda: parse_policy("#" * (MAX_POLICY_BYTES + 1))),
    ("policy nesting", "policy.syntax", lambda: parse_policy("a = " + "[" * 100_000)),
    (
        "JSON nesting (document)",
        "document.malformed",
        lambda: document.parse_document(b"[" * 200_000),
    ),
    # SEV-SNP
    (
        "SNP cert table > 64 entries",
        "evidence.malformed",
        lambda: snp_abi.parse_cert_table(
            b"".join(bytes([i]) * 16 + (0).to_bytes(8, "little") for i in range(1, 70)) + bytes(24)
        ),
    ),
    (
        "SNP cert table > 1 MiB",
        "evidence.malformed",
        lambda: snp_abi.parse_cert_table(b"\x01" * (MiB + 1)),
    ),
    (
        "SNP HCL claims > 64 KiB",
        "evidence.malformed",
        lambda: snp_abi.parse_hcl_report(
            _hcl_with_claim_size(FIXTURES / "sev-snp/milan-v2-azure-hcl/hcl_report.bin")
        ),
    ),
    # TDX
    (
        "TDX quote > 1 MiB",
        "evidence.malformed",
        lambda: tdx_abi.parse_quote(b"\x04\x00" + bytes(MiB)),
    ),
    (
        "PCS JSON > 1 MiB",
        "tdx.collateral_malformed",
        lambda: pcs.top_level_spans(b'{"a":"' + b"x" * pcs.MAX_JSON_BYTES + b'"}', field="x"),
    ),
    # Nitro
    (
        "Nitro document > 16.5 KiB",
        "evidence.malformed",
        lambda: nitro_abi.parse_document(b"\x84" + bytes(nitro_abi.MAX_DOCUMENT_BYTES)),
    ),
    # NVIDIA
    (
        "NVIDIA report > 64 KiB",
        "evidence.malformed",
        lambda: nvidia_abi.parse_report(
            bytes(nvidia_abi.MAX_REPORT_SIZE + 1), nvidia_abi.DeviceKind.GPU
        ),
    ),
    (
        "NVIDIA evidence > 64 devices",
        "evidence.malformed",
        lambda: parse_evidence(json.dumps(_real_gpu_entries() * 17).encode()),
    ),
    (
        "NVIDIA RIM > 2 MiB",
        "nvidia.rim_malformed",
        lambda: rim.peek_rim(b"<a>" + b" " * rim.MAX_RIM_BYTES + b"</a>", source="x"),
    ),
    (
        "OCSP response > 64 KiB",
        "nvidia.ocsp_malformed",
        lambda: ocsp.load_response(b"\x30" * (65 * 1024), source="x"),
    ),
    # X.509 / DER
    (
        "certificate > 64 KiB",
        "evidence.malformed",
        lambda: load_certificate(b"\x30" * (65 * 1024), role="x", platform="t"),
    ),
    (
        "PEM bundle > 4 MiB",
        "evidence.malformed",
        lambda: load_certificates(
            b"-----BEGIN CERTIFICATE-----" + b"A" * (4 * MiB), role="x", platform="t"
        ),
    ),
    (
        "DER length > 1 MiB",
        "evidence.malformed",
        lambda: read_tlv(b"\x30\x84\x7f\xff\xff\xff" + bytes(16), 0, field="x", platform="t"),
    ),
    # protocol
    (
        "key config list > 32 configs",
        "transport.malformed",
        lambda: keyconfig.parse_key_config_list(
            keyconfig.serialize_key_config_list([_keycfg(i) for i in range(33)])
        ),
    ),
    (
        "key config list > 64 KiB",
        "transport.malformed",
        lambda: keyconfig.parse_key_config_list(b"\xff\xff" + bytes(64 * 1024 + 1)),
    ),
    (
        "BHTTP > 256 fields",
        "transport.frame_too_large",
        lambda: bhttp.decode_response(
            bhttp.encode_response(
                bhttp.Response(status=200, headers=tuple((b"x", b"y") for _ in range(300)))
            )
        ),
    ),
    (
        "BHTTP control data > 16 KiB",
        "transport.frame_too_large",
        lambda: bhttp.decode_request(
            bhttp.encode_request(
                bhttp.Request(method="GET", scheme="https", authority="a", path="/" + "p" * 17000)
            )
        ),
    ),
    (
        "OHTTP response > 64 MiB",
        "transport.frame_too_large",
        lambda: _opener().open(bytes(ohttp.DEFAULT_MAX_MESSAGE_SIZE + 1)),
    ),
    (
        "OHTTP chunk > 64 KiB",
        "transport.frame_too_large",
        lambda: _chunked_receiver().feed(bytes(16) + b"\x80\x01\x10\x11" + bytes(8)),
    ),
    (
        "EHBP frame > 64 MiB",
        "transport.frame_too_large",
        lambda: _ehbp_decryptor().feed((ehbp.MAX_FRAME_SIZE + 1).to_bytes(4, "big")),
    ),
]


def _real_gpu_entries() -> list[object]:
    path = FIXTURES / "nvidia" / "nvat-testdata" / "evidence" / "multi_gpu_hopper.json"
    entries: list[object] = json.loads(path.read_text())
    assert len(entries) * 17 > MAX_DEVICES
    return entries


def _hcl_with_claim_size(path: Path) -> bytes:
    data = bytearray(path.read_bytes())
    offset = 0x20 + snp_abi.REPORT_SIZE + 16  # HCL header, report, runtime header: claim size
    data[offset : offset + 4] = (64 * 1024 + 1).to_bytes(4, "little")
    return bytes(data)


def _keycfg(key_id: int) -> keyconfig.KeyConfig:
    from teeclient.protocol.hpke import AeadId, KdfId, KemId, PrivateKey, Suite

    suite = Suite(
        kem=KemId.DHKEM_X25519_HKDF_SHA256, kdf=KdfId.HKDF_SHA256, aead=AeadId.AES_128_GCM
    )
    return keyconfig.KeyConfig.create(
        key_id, PrivateKey.derive(suite.kem, bytes([key_id]) * 32).public_key(), [suite]
    )


def _selection() -> keyconfig.Selection:
    config = _keycfg(1)
    return keyconfig.Selection(config=config, suite=config.suites()[0])


def _opener() -> ohttp.ResponseOpener:
    return ohttp.encapsulate_request(_selection(), b"x")[1]


def _chunked_receiver() -> ohttp.ChunkedResponseReceiver:
    return ohttp.ChunkedRequestSender(_selection()).response_receiver()


def _ehbp_decryptor() -> ehbp.ResponseDecryptor:
    server = ehbp.Server.generate()
    return ehbp.RequestEncryptor(server.config.public_key).response_decryptor(bytes(32))


@pytest.mark.parametrize(("label", "code", "call"), CASES, ids=[c[0] for c in CASES])
def test_over_the_limit_fails_closed(label: str, code: str, call: Callable[[], object]) -> None:
    started = time.perf_counter()
    with pytest.raises(TeeclientError) as info:
        call()
    assert info.value.code == code
    assert time.perf_counter() - started < 5.0, label


def test_collateral_settings_cap_the_body_at_one_item() -> None:
    with pytest.raises(ValueError, match="at most"):
        CollateralSettings(max_body_bytes=17 * MiB)


def test_cache_entry_with_an_oversized_body_is_discarded(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path)
    from datetime import UTC, datetime, timedelta

    request = CollateralRequest(url="https://x/item", purpose="t")
    now = datetime(2026, 1, 1, tzinfo=UTC)
    cache.put(request, CollateralItem(data=b"ok", source=request.url), now + timedelta(days=1))
    body = next(p for p in tmp_path.rglob("*") if p.is_file() and not p.name.endswith(".json"))
    with body.open("r+b") as handle:  # sparse: no 17 MiB written to disk
        handle.truncate(17 * MiB)
    assert cache.get(request.key) is None


def test_collateral_fetches_in_flight_are_bounded() -> None:
    in_flight = 0
    peak = 0

    class Slow:
        async def fetch(self, request: CollateralRequest) -> CollateralItem:
            nonlocal in_flight, peak
            in_flight += 1
            peak = max(peak, in_flight)
            await asyncio.sleep(0.01)
            in_flight -= 1
            return CollateralItem(data=b"\x30\x00", source=request.url)

    requests = [
        CollateralRequest(url=f"https://x/{i}", purpose="t", required=False) for i in range(50)
    ]
    gathered = asyncio.run(gather_async(requests, Slow()))
    assert len(gathered.items) + len(gathered.unavailable) == 50
    assert peak == MAX_CONCURRENT_FETCHES
