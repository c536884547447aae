"""Tinfoil documents served by the mock enclave (`/.well-known/tinfoil-attestation`), fetched
and verified to the same EnclaveIdentity, in process and over loopback."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from teeclient.attest import (
    fetch_attestation,
    new_nonce,
    tinfoil_attestation_url,
    verify_document,
)
from teeclient.errors import UsageError
from teeclient.policy.load import parse_policy
from teeclient.testing.hardware import Fault, MockHardware

from .conftest import NOW, Client, outcome

Machine = Callable[[str, int], MockHardware]
Connect = Callable[[MockHardware], Client]


@pytest.mark.parametrize(("platform", "gpus"), [("sev-snp", 1), ("tdx", 8)])
def test_v3_from_the_enclave(platform: str, gpus: int, machine: Machine, connect: Connect) -> None:
    hw = machine(platform, gpus)
    client = connect(hw)
    nonce = new_nonce()
    raw = fetch_attestation(client.url, nonce, client=client.http, layout="tinfoil-v3")
    result = verify_document(raw, nonce=nonce, now=NOW, policy=hw.policy(), trust=hw.trust_store())
    identity = result.identity
    assert identity is not None
    assert identity.layout == "tinfoil-v3"
    assert identity.hpke_public_key == client.enclave.keys.hpke_public_key
    assert identity.nonce == nonce
    bad = connect(hw.with_faults(Fault.UNBOUND_KEY))
    raw = fetch_attestation(bad.url, nonce, client=bad.http, layout="tinfoil-v3")
    assert (
        outcome(
            lambda: verify_document(
                raw, nonce=nonce, now=NOW, policy=hw.policy(), trust=hw.trust_store()
            )
        )
        == "binding.keys_not_bound"
    )


def test_v2_from_the_enclave(machine: Machine, connect: Connect) -> None:
    hw = machine("sev-snp", 0)
    client = connect(hw)
    raw = fetch_attestation(client.url, None, client=client.http, layout="tinfoil-v2")
    assert raw == fetch_attestation(client.url, None, client=client.http, layout="tinfoil-v2")
    policy = parse_policy(
        hw.policy_toml()
        .replace('nonce = "required"', 'nonce = "optional"')
        .replace('["teeclient-v1", "tinfoil-v3"]', '["tinfoil-v2"]')
    )
    vek = hw.vek()
    assert vek is not None
    result = verify_document(
        raw,
        nonce=None,
        now=NOW,
        policy=policy,
        trust=hw.trust_store(),
        collateral=[vek.pem, *(i.data for i in hw.collateral(NOW))],  # v2 carries none
        nonce_issued_at=NOW,
    )
    assert result.identity is not None
    assert result.identity.layout == "tinfoil-v2"
    assert result.identity.hpke_public_key == client.enclave.keys.hpke_public_key


def test_urls_and_usage() -> None:
    nonce = bytes(range(32))
    assert tinfoil_attestation_url("https://e.test/api/", nonce) == (
        "https://e.test/api/.well-known/tinfoil-attestation?nonce=" + nonce.hex()
    )
    assert tinfoil_attestation_url("https://e.test", None) == (
        "https://e.test/.well-known/tinfoil-attestation"
    )
    import httpx

    with httpx.Client() as client:
        for layout, value in (("tinfoil-v3", None), ("teeclient-v1", None), ("other", nonce)):
            with pytest.raises(UsageError):
                fetch_attestation("https://e.test", value, client=client, layout=layout)
