"""Composite attestation benchmarks on the mock hardware: verify_document warm, and attest()
against the mock enclave in process (document generation included)."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

from benchmarks._harness import Result, measure, report

NOW = datetime(2026, 2, 1, 10, tzinfo=UTC)
NONCE = bytes(range(32))


def run() -> list[Result]:
    """Run every composite-attestation benchmark."""
    import httpx

    from teeclient.attest import attest, verify_document
    from teeclient.testing.enclave import EnclaveKeys, MockEnclave
    from teeclient.testing.hardware import HardwareSpec, MockHardware, VendorPkis

    pkis = VendorPkis()
    keys = EnclaveKeys.generate(seed=b"bench")
    results = []
    for platform, gpus, switches in (
        ("sev-snp", 0, 0),
        ("tdx", 0, 0),
        ("nitro", 0, 0),
        ("sev-snp", 1, 0),
        ("sev-snp", 8, 4),
    ):
        hw = MockHardware(HardwareSpec(platform=platform, gpus=gpus, switches=switches), pkis=pkis)
        raw = hw.document(NONCE, keys.bound(), at=NOW)
        policy, trust = hw.policy(), hw.trust_store()
        label = f"{platform}, {gpus} GPU(s), {switches} switch(es)"
        results.append(
            measure(
                f"verify_document warm: {label}",
                lambda raw=raw, policy=policy, trust=trust: verify_document(  # type: ignore[misc]
                    raw, nonce=NONCE, now=NOW, policy=policy, trust=trust
                ),
                samples=30 if gpus < 8 else 12,
                warmup=3,
                note="document carries its collateral; signatures of chains memoised by hash",
            )
        )
        enclave = MockEnclave(hw, keys=keys, clock=lambda: NOW)
        client = httpx.Client(transport=enclave.transport())
        results.append(
            measure(
                f"attest() via MockTransport: {label}",
                lambda client=client, policy=policy, trust=trust: attest(  # type: ignore[misc]
                    "http://enclave.test",
                    client=client,
                    policy=policy,
                    trust=trust,
                    clock=lambda: NOW,
                ),
                samples=20 if gpus < 8 else 8,
                warmup=2,
                note="fresh nonce; the enclave signs a new document each time",
            )
        )
    return results


def main() -> int:
    """Print the results and their JSON."""
    return report(run())


if __name__ == "__main__":
    sys.exit(main())
