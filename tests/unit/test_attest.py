"""teeclient.attest.verify_document: composite verification, binding and freshness codes."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import pytest

from teeclient.attest import AttestationResult, NonceLedger, attestation_url, verify_document
from teeclient.binding import BoundKeys, device_digest, gpu_nonce, keys_digest, report_data
from teeclient.collateral.items import CollateralItem, CollateralSet
from teeclient.document import (
    CpuEvidence,
    DeclaredBinding,
    DeviceEntry,
    encode_document,
    parse_document,
)
from teeclient.errors import (
    DeviceExtraError,
    DeviceMissingError,
    DeviceOrderError,
    DocumentError,
    EvidenceTooOldError,
    KeysNotBoundError,
    NonceMismatchError,
    NonceReusedError,
    NvidiaNonceMismatchError,
    ReportDataMismatchError,
    UnsupportedDocumentError,
    UsageError,
)
from teeclient.policy.load import parse_policy
from teeclient.policy.result import CheckStatus
from teeclient.testing.evidence import SnpReportSpec
from teeclient.testing.nvidia_evidence import SpdmReportSpec, gpu_opaque
from teeclient.testing.pki.amd import AmdPki
from teeclient.testing.pki.nvidia import NvidiaPki, RimSpec
from teeclient.trust import TrustStore

NOW = datetime(2026, 2, 1, tzinfo=UTC)
NONCE = bytes(range(32))
KEYS = BoundKeys(ohttp_keys=b"\x00\x29" + bytes(41), tls_spki_sha256=bytes(range(32)))
MEASUREMENT = bytes.fromhex("ab" * 48)

POLICY = parse_policy(
    f"""
version = 1
[[sev_snp]]
products = ["genoa"]
measurement = "{MEASUREMENT.hex()}"
[gpu]
require_nonce = true
[[nvidia_gpu]]
arch = ["hopper"]
[[nvidia_switch]]
"""
)


@dataclasses.dataclass(frozen=True)
class Hardware:
    amd: AmdPki
    vcek_key: object
    vcek_pem: bytes
    nvidia: NvidiaPki
    trust: TrustStore
    chip: bytes


@cache
def hardware() -> Hardware:
    amd = AmdPki.generate("genoa")
    spec = SnpReportSpec.for_product("genoa")
    vcek = amd.issue_vcek(chip_id=spec.chip_id, tcb={"bl": 10, "tee": 0, "snp": 25, "ucode": 84})
    nvidia = NvidiaPki.generate("GH100")
    trust = nvidia.trust_store(amd.trust_store())
    return Hardware(amd, vcek.key, vcek.pem, nvidia, trust, spec.chip_id)


def snp_report(rd: bytes, **changes: object) -> bytes:
    hw = hardware()
    spec = SnpReportSpec.for_product("genoa", report_data=rd, measurement=MEASUREMENT, **changes)
    return spec.build(hw.vcek_key)  # type: ignore[arg-type]


@cache
def gpus(count: int, nonce: bytes) -> tuple[tuple[DeviceEntry, ...], tuple[CollateralItem, ...]]:
    hw = hardware()
    spec = SpdmReportSpec(nonce=nonce, opaque=gpu_opaque())
    entries = []
    answers: list[bytes] = hw.nvidia.rim_ocsp(
        this_update=NOW - timedelta(hours=1), next_update=NOW + timedelta(days=1)
    )
    for i in range(count):
        device = hw.nvidia.issue_device(serial=0x1000 + i)
        entries.append(
            DeviceEntry(
                kind="nvidia-gpu",
                arch="hopper",
                evidence=spec.build(device.key),
                certificates=device.chain_pem(),
            )
        )
        answers += hw.nvidia.device_ocsp(
            device, this_update=NOW - timedelta(hours=1), next_update=NOW + timedelta(days=1)
        )
    golden = {i: spec.blocks[i + 1] for i in range(64)}
    rims = [
        hw.nvidia.sign_rim(
            RimSpec(
                colloquial_version="550.90.07",
                golden={i: (golden[i],) for i in (7, *range(21, 41))},
            )
        ),
        hw.nvidia.sign_rim(
            RimSpec(
                colloquial_version="96.00.9F.00.01",
                golden={i: (golden[i],) for i in (*range(7), *range(8, 13))},
            )
        ),
    ]
    items = tuple(CollateralItem(data=d, source=f"nv{i}") for i, d in enumerate([*rims, *answers]))
    return tuple(entries), items


def document(
    *,
    nonce: bytes = NONCE,
    gpu_count: int = 0,
    keys: BoundKeys = KEYS,
    bound_keys: BoundKeys | None = None,
    bound_nonce: bytes | None = None,
    gpu_answer_nonce: bytes | None = None,
    edit_devices: Callable[[list[DeviceEntry]], list[DeviceEntry]] | None = None,
    **report_changes: object,
) -> tuple[bytes, tuple[CollateralItem, ...]]:
    """A document; the evidence binds ``bound_keys``/``bound_nonce`` (default: the served)."""
    answer = gpu_answer_nonce or gpu_nonce(bound_nonce or nonce, bound_keys or keys)
    devices, items = gpus(gpu_count, answer) if gpu_count else ((), ())
    bound_devices = [d.bound() for d in devices]
    rd = report_data(bound_nonce or nonce, bound_keys or keys, bound_devices)
    binding = DeclaredBinding(
        keys_digest=keys_digest(bound_keys or keys),
        device_digests=tuple(device_digest(d) for d in bound_devices),
    )
    served = list(devices)
    if edit_devices is not None:
        served = edit_devices(served)
    raw = encode_document(
        nonce=nonce,
        cpu=CpuEvidence(
            platform="sev-snp",
            evidence=snp_report(rd, **report_changes),
            certificates=hardware().vcek_pem,
        ),
        keys=keys,
        devices=served,
        binding=binding,
    )
    return raw, items


def run(raw: bytes, items: tuple[CollateralItem, ...] = (), **kw: object) -> AttestationResult:
    args: dict[str, object] = {
        "nonce": NONCE,
        "now": NOW,
        "policy": POLICY,
        "trust": hardware().trust,
        "collateral": CollateralSet(items),
    }
    args.update(kw)
    return verify_document(raw, **args)  # type: ignore[arg-type]


def test_snp_only_document_is_accepted_and_pins_the_keys() -> None:
    raw, items = document()
    result = run(raw, items, endpoint="https://enclave.test", nonce_issued_at=NOW)
    identity = result.identity
    assert identity is not None
    assert identity.ohttp_keys == KEYS.ohttp_keys
    assert identity.tls_spki_sha256 == KEYS.tls_spki_sha256
    assert identity.measurements == {
        "sev-snp.measurement": MEASUREMENT.hex(),
        "sev-snp.host_data": "00" * 32,
    }
    assert identity.expires_at == NOW + timedelta(hours=1)
    assert identity.layout == "teeclient-v1"
    statuses = {c.id: c.status for c in result.appraisal.checks}
    for check in (
        "freshness.nonce",
        "freshness.age",
        "binding.report_data",
        "binding.keys",
        "binding.devices",
    ):
        assert statuses[check] is CheckStatus.PASS


@pytest.mark.parametrize("count", [1, 8])
def test_gpus_are_verified_with_the_derived_nonce(count: int) -> None:
    raw, items = document(gpu_count=count)
    result = run(raw, items)
    assert result.identity is not None, [
        (c.id, c.message) for c in result.appraisal.checks if c.status is CheckStatus.FAIL
    ]
    kinds = [c.kind for c in result.appraisal.components]
    assert kinds == ["sev-snp", "nvidia-node", *["nvidia-gpu"] * count]
    assert len(result.identity.devices) == count


def test_policy_rejection_returns_no_identity() -> None:
    raw, items = document(policy=0xB0000)  # DEBUG allowed by the guest policy
    result = run(raw, items)
    assert result.identity is None
    failed = {c.id for c in result.appraisal.checks if c.status is CheckStatus.FAIL}
    assert "sev_snp.guest_policy.debug" in failed


def test_stale_document_is_a_nonce_mismatch() -> None:
    raw, items = document(nonce=bytes(32))
    with pytest.raises(NonceMismatchError):
        run(raw, items)


def test_reused_nonce_is_refused() -> None:
    ledger = NonceLedger()
    raw, items = document()
    assert run(raw, items, ledger=ledger).identity is not None
    with pytest.raises(NonceReusedError):
        run(raw, items, ledger=ledger)


def test_document_older_than_policy_allows() -> None:
    raw, items = document()
    with pytest.raises(EvidenceTooOldError):
        run(raw, items, nonce_issued_at=NOW - timedelta(minutes=6))


def test_evidence_bound_to_another_nonce_is_a_report_data_mismatch() -> None:
    raw, items = document(bound_nonce=bytes([9]) * 32)
    with pytest.raises(ReportDataMismatchError):
        run(raw, items)


def test_unbound_key_is_refused() -> None:
    other = BoundKeys(ohttp_keys=b"\x00\x29" + bytes([1]) * 41)
    raw, items = document(bound_keys=other)
    with pytest.raises(KeysNotBoundError):
        run(raw, items)


def test_missing_extra_and_reordered_devices() -> None:
    raw, items = document(gpu_count=2, edit_devices=lambda d: d[:1])
    with pytest.raises(DeviceMissingError):
        run(raw, items)
    raw, items = document(gpu_count=1, edit_devices=lambda d: [*d, *gpus(1, NONCE)[0]])
    with pytest.raises(DeviceExtraError):
        run(raw, items)
    raw, items = document(gpu_count=2, edit_devices=lambda d: d[::-1])
    with pytest.raises(DeviceOrderError):
        run(raw, items)


def test_gpu_answering_the_plain_nonce_is_refused() -> None:
    """GPU evidence must answer the derived nonce, so it cannot be relayed with other keys."""
    raw, items = document(gpu_count=1, gpu_answer_nonce=NONCE)
    with pytest.raises(NvidiaNonceMismatchError):
        run(raw, items)


def test_document_parsing_is_strict() -> None:
    raw, _ = document()
    doc = json.loads(raw)
    mutations: tuple[tuple[Callable[[dict[str, Any]], None], type[Exception]], ...] = (
        (lambda d: d.update(extra=1), DocumentError),
        (lambda d: d.update(format="teeclient.attestation/v2"), UnsupportedDocumentError),
        (lambda d: d.update(nonce=d["nonce"].upper()), DocumentError),
        (lambda d: d["keys"].update(ohttp=d["keys"]["ohttp"] + "=="), DocumentError),
        (lambda d: d["cpu"].update(platform="sgx"), DocumentError),
        (lambda d: d.update(devices=[{"kind": "nvidia-gpu"}]), DocumentError),
    )
    for mutate, error in mutations:
        changed = json.loads(raw)
        mutate(changed)
        with pytest.raises(error):
            parse_document(json.dumps(changed).encode())
    duplicated = raw.replace(b'"format"', b'"nonce": "00", "format"', 1)
    with pytest.raises(DocumentError):
        parse_document(duplicated)
    assert parse_document(raw).nonce == NONCE
    assert doc["format"] == "teeclient.attestation/v1"


def test_nonce_size_and_url() -> None:
    raw, items = document()
    with pytest.raises(UsageError):
        run(raw, items, nonce=bytes(16))
    assert attestation_url("https://e.test/api/", NONCE) == (
        "https://e.test/api/.well-known/teeclient/attestation?nonce=" + NONCE.hex()
    )
    with pytest.raises(UsageError):
        attestation_url("ftp://e.test", NONCE)


def test_binding_layout_and_pin_are_policy_checks() -> None:
    raw, items = document()
    text = f"""
version = 1
[binding]
layouts = ["tinfoil-v3"]
pin = ["hpke", "tls_spki"]
[[sev_snp]]
products = ["genoa"]
measurement = "{MEASUREMENT.hex()}"
"""
    result = run(raw, items, policy=parse_policy(text))
    assert result.identity is None
    statuses = {c.id: c.status for c in result.appraisal.checks}
    assert statuses["binding.layout"] is CheckStatus.FAIL
    assert statuses["binding.pin"] is CheckStatus.PASS  # the document binds a TLS key
    no_tls = BoundKeys(ohttp_keys=KEYS.ohttp_keys)
    raw, items = document(keys=no_tls)
    result = run(
        raw, items, policy=parse_policy(text.replace('["tinfoil-v3"]', '["teeclient-v1"]'))
    )
    statuses = {c.id: c.status for c in result.appraisal.checks}
    assert statuses["binding.layout"] is CheckStatus.PASS
    assert statuses["binding.pin"] is CheckStatus.FAIL
    assert result.identity is None
