"""AWS Nitro benchmarks: warm verification of a real document, its parts, and a cold CLI process.

The warm verification checks the COSE_Sign1 ES384 signature on every call; the chain (five
certificates) is checked once per trust store and then remembered by content hash, while its
validity at ``now`` is checked on every call. One bare P-384 ECDSA verification is measured
alongside as the floor no verifier can go below on this machine.
"""

from __future__ import annotations

import sys
from pathlib import Path

from benchmarks._harness import Result, measure, measure_process, report

ROOT = Path(__file__).resolve().parent.parent
VECTOR = ROOT / "fixtures" / "real" / "nitro" / "docs" / "evervault-2022-10-13-prod.cbor"
AT = "2022-10-13T08:59:02Z"


def run() -> list[Result]:
    """Run every Nitro benchmark."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    from teeclient._time import parse_time
    from teeclient.platforms.nitro import abi
    from teeclient.platforms.nitro.verify import verify
    from teeclient.policy.appraise import appraise
    from teeclient.policy.load import load_baseline
    from teeclient.trust import TrustStore

    document = VECTOR.read_bytes()
    now = parse_time(AT)
    trust = TrustStore.vendor()
    baseline = load_baseline()
    key = ec.generate_private_key(ec.SECP384R1())
    public = key.public_key()
    signed = key.sign(b"x" * 4546, ec.ECDSA(hashes.SHA384()))

    results = [
        measure(
            "nitro warm verify (real production document)",
            lambda: verify(document, trust=trust, now=now),
            samples=400,
            note="COSE ES384 signature checked every call; chain checks memoised by hash",
        ),
        measure(
            "bare P-384 ECDSA verify, 4.5 KB message (floor)",
            lambda: public.verify(signed, b"x" * 4546, ec.ECDSA(hashes.SHA384())),
            samples=400,
        ),
        measure(
            "nitro warm verify + baseline appraisal",
            lambda: appraise([verify(document, trust=trust, now=now)], baseline, now),
            samples=200,
        ),
        measure("nitro parse only (envelope + payload)", lambda: abi.parse_document(document)),
        measure(
            "nitro verify, fresh trust store (no memo)",
            lambda: verify(document, trust=TrustStore.vendor(), now=now),
            samples=50,
            note="five chain signatures + COSE signature + loading the shipped roots",
        ),
    ]
    python = sys.executable
    teeclient_cli = str(Path(python).with_name("teeclient"))
    results.append(
        measure_process(
            "cold `teeclient verify DOC.cbor --json` process",
            [teeclient_cli, "verify", str(VECTOR), "--at", AT, "--json"],
        )
    )
    return results


def main() -> int:
    """Print the results and their JSON."""
    return report(run())


if __name__ == "__main__":
    sys.exit(main())
