"""End to end: attest() against the mock enclave, in process (httpx.MockTransport) and over
loopback, for every CPU platform with 0, 1 and 8 GPUs: accepted when healthy, and rejected with
the fault's own code for every fault (FAULT_OUTCOMES)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from teeclient.attest import NonceLedger
from teeclient.testing.hardware import FAULT_OUTCOMES, Fault, MockHardware, fault_applies

from .conftest import GPU_COUNTS, PLATFORMS, Client, matches, outcome

Machine = Callable[[str, int], MockHardware]
Connect = Callable[[MockHardware], Client]


@pytest.mark.parametrize("gpus", GPU_COUNTS)
@pytest.mark.parametrize("platform", PLATFORMS)
def test_healthy_enclave_is_accepted(
    platform: str, gpus: int, machine: Machine, connect: Connect
) -> None:
    hw = machine(platform, gpus)
    client = connect(hw)
    identity = client.attest(hw)
    assert identity.layout == "teeclient-v1"
    assert identity.platform == platform
    assert identity.ohttp_keys == client.enclave.keys.ohttp_keys
    assert len(identity.devices) == gpus + (4 if gpus == 8 else 0)
    assert identity.appraisal is not None
    assert identity.appraisal.accepted
    requests = [path for _, path in client.enclave.requests]
    assert requests[0] == "/.well-known/teeclient/attestation"


_CASES = [
    (platform, gpus, fault)
    for platform in PLATFORMS
    for gpus in GPU_COUNTS
    for fault in Fault
    if fault_applies(fault, platform, gpus)
]


@pytest.mark.parametrize(
    ("platform", "gpus", "fault"), _CASES, ids=[f"{p}-{g}gpu-{f.value}" for p, g, f in _CASES]
)
def test_every_fault_is_rejected_with_its_own_code(
    platform: str, gpus: int, fault: Fault, machine: Machine, connect: Connect
) -> None:
    healthy = machine(platform, gpus)
    client = connect(healthy.with_faults(fault))
    got = outcome(lambda: client.attest(healthy))
    expected = FAULT_OUTCOMES[(platform, fault)]
    assert matches(got, expected), (got, expected)


def test_fault_outcomes_are_distinct_per_platform() -> None:
    for platform in PLATFORMS:
        codes = [FAULT_OUTCOMES[(platform, f)] for f in Fault]
        assert len(set(codes)) == len(codes), platform


def test_a_replayed_nonce_is_refused_by_the_ledger(
    machine: Machine, connect: Connect, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same nonce never produces two identities (the client's CSPRNG is pinned here, as
    a replaying network would need it to be)."""
    hw = machine("sev-snp", 0)
    client = connect(hw)
    ledger = NonceLedger()
    monkeypatch.setattr("teeclient.attest.new_nonce", lambda: bytes(range(32)))
    client.attest(hw, ledger=ledger)
    assert outcome(lambda: client.attest(hw, ledger=ledger)) == "freshness.nonce_reused"
