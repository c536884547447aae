"""teeclient.testing.hardware: specs, variants, collateral and the outputs a client needs."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from importlib import metadata

import pytest

from teeclient.attest import verify_document
from teeclient.binding import BoundKeys
from teeclient.document import parse_document
from teeclient.policy.lint import lint_policy
from teeclient.testing.hardware import (
    FAULT_OUTCOMES,
    Fault,
    HardwareSpec,
    MockHardware,
    VendorPkis,
    fault_applies,
    parse_fault,
)
from teeclient.testing.pytest_plugin import MockEnclaveServer
from teeclient.trust.file import parse_trust_file

NOW = datetime(2026, 2, 1, 10, tzinfo=UTC)
NONCE = bytes(range(32))
KEYS = BoundKeys(ohttp_keys=b"\x00\x29" + bytes(41))


@pytest.mark.parametrize(
    "changes",
    [
        {"product": "milan"},
        {"product": "turin"},
        {"signing_key": "vlek"},
        {"product": "turin", "signing_key": "vlek", "gpus": 1},
        {"gpus": 2, "gpu_arch": "blackwell"},
        {"platform": "tdx", "gpus": 8, "gpu_arch": "blackwell"},
        {"platform": "nitro", "gpus": 8},
        {"embed_vek": False, "platform": "tdx"},
        {"snp": {"guest_svn": 7, "vmpl": 0}},
        {
            "tdx": {"rtmrs": (b"\x01" * 48, b"\x02" * 48, b"\x03" * 48, bytes(48))},
            "platform": "tdx",
        },
        {"platform": "nitro", "nitro_pcrs": {i: bytes([i]) * 48 for i in range(16)}},
        {"gpus": 1, "gpu_opaque": {"driver_version": "560.35.03"}},
    ],
)
def test_variants_are_accepted_by_their_policy(
    changes: dict[str, object], mock_hardware: Callable[..., MockHardware]
) -> None:
    hw = mock_hardware(**changes)
    raw = hw.document(NONCE, KEYS, at=NOW)
    result = verify_document(raw, nonce=NONCE, now=NOW, policy=hw.policy(), trust=hw.trust_store())
    assert result.identity is not None, [
        (c.id, c.message) for c in result.appraisal.checks if c.status.value == "fail"
    ]
    assert lint_policy(hw.policy()) == []


def test_spec_validation() -> None:
    for bad in (
        {"platform": "sgx"},
        {"product": "rome"},
        {"signing_key": "vxek"},
        {"gpus": 9},
        {"gpu_arch": "ampere"},
        {"switches": 4, "gpus": 1},
        {"switches": 4, "gpus": 8, "gpu_arch": "blackwell"},
        {"measurement": bytes(32)},
        {"faults": frozenset({Fault.MISSING_GPU})},
        {"platform": "nitro", "faults": frozenset({Fault.REVOKED})},
    ):
        with pytest.raises(ValueError):  # noqa: PT011 - each case has its own message
            HardwareSpec(**bad)
    assert HardwareSpec(gpus=8, switches=4).describe() == (
        "sev-snp genoa vcek, 8 hopper GPUs, 4 NVSwitches"
    )


def test_faults_by_name() -> None:
    assert parse_fault("revoked_vcek") is Fault.REVOKED
    assert parse_fault("Wrong-Measurement") is Fault.WRONG_MEASUREMENT
    with pytest.raises(ValueError, match="unknown fault"):
        parse_fault("meltdown")
    for (platform, fault), outcome in FAULT_OUTCOMES.items():
        assert outcome
        assert fault_applies(fault, platform, 1)


def test_trust_file_and_policy_outputs(mock_hardware: Callable[..., MockHardware]) -> None:
    hw = mock_hardware(platform="tdx", gpus=1)
    for as_json in (False, True):
        parsed = parse_trust_file(hw.trust_file(as_json=as_json).encode())
        assert {a.name for a in parsed.anchors} == {
            "intel.sgx.root",
            "nvidia.device.root",
            "nvidia.corim.root",
        }
        assert "NEVER trust it in production" in parsed.source
    text = hw.policy_toml()
    assert "[[tdx]]" in text
    assert "count = [1]" in text


def test_documents_carry_collateral_at_real_urls(
    mock_hardware: Callable[..., MockHardware],
) -> None:
    hw = mock_hardware(platform="sev-snp", gpus=1)
    doc = parse_document(hw.document(NONCE, KEYS, at=NOW))
    sources = {c.source.split("?")[0] for c in doc.collateral}
    assert "https://kdsintf.amd.com/vcek/v1/Genoa/crl" in sources
    assert any(
        s.startswith("https://rim.attestation.nvidia.com/v1/rim/NV_GPU_DRIVER") for s in sources
    )
    bare = hw.__class__(
        hw.spec.__class__(platform="sev-snp", embed_vek=False, embed_collateral=False),
        pkis=hw.pkis,
    )
    doc = parse_document(bare.document(NONCE, KEYS, at=NOW))
    assert doc.collateral == ()
    assert doc.cpu.certificates is None


def test_time_dependent_collateral_follows_the_clock(mock_pkis: VendorPkis) -> None:
    """A long-running enclave stays verifiable: epoch by epoch, its answers stay current."""
    hw = MockHardware(HardwareSpec(platform="nitro", gpus=1), pkis=mock_pkis)
    for later in (timedelta(0), timedelta(hours=13), timedelta(days=3), timedelta(days=40)):
        at = NOW + later
        raw = hw.document(NONCE, KEYS, at=at)
        result = verify_document(
            raw, nonce=NONCE, now=at, policy=hw.policy(), trust=hw.trust_store()
        )
        assert result.identity is not None, later
    tdx = MockHardware(HardwareSpec(platform="tdx"), pkis=mock_pkis)
    at = NOW + timedelta(days=100)
    result = verify_document(
        tdx.document(NONCE, KEYS, at=at),
        nonce=NONCE,
        now=at,
        policy=tdx.policy(),
        trust=tdx.trust_store(),
    )
    assert result.identity is not None


def test_tinfoil_is_for_snp_and_tdx(mock_hardware: Callable[..., MockHardware]) -> None:
    hw = mock_hardware(platform="nitro")
    with pytest.raises(ValueError, match="SEV-SNP and TDX"):
        hw.tinfoil_v3(NONCE, hpke_public_key=bytes(32), tls_spki_sha256=None)
    with pytest.raises(ValueError, match="SEV-SNP and TDX"):
        hw.tinfoil_v2(hpke_public_key=bytes(32), tls_spki_sha256=bytes(32))


def test_the_pytest_plugin_is_registered_and_its_enclave_attests(
    mock_enclave: MockEnclaveServer,
) -> None:
    plugins = {e.name: e.value for e in metadata.entry_points(group="pytest11")}
    assert plugins["teeclient"] == "teeclient.testing.pytest_plugin"
    import httpx

    from teeclient.attest import attest
    from teeclient.trust import TrustStore

    with httpx.Client(trust_env=False) as client:
        identity = attest(
            mock_enclave.url,
            client=client,
            policy=mock_enclave.policy,
            trust=mock_enclave.trust_store,
        )
    assert identity.platform == "sev-snp"
    via_file = TrustStore.empty().with_trust_file(mock_enclave.trust_file)
    assert {a.name for a in via_file} == {a.name for a in mock_enclave.trust_store}
    assert mock_enclave.policy_file.read_text() == mock_enclave.hardware.policy_toml()
    assert json.loads(json.dumps(mock_enclave.collateral_settings().base_urls))
