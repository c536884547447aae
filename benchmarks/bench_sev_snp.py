"""SEV-SNP benchmarks: warm verification of a real Genoa report, import time, cold CLI process."""

from __future__ import annotations

import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from benchmarks._harness import Result, measure, measure_process, report

ROOT = Path(__file__).resolve().parent.parent
VECTOR = ROOT / "fixtures" / "real" / "sev-snp" / "genoa-v5-oak"
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def run() -> list[Result]:
    """Run every SEV-SNP benchmark."""
    from teeclient._x509 import load_certificate
    from teeclient.collateral.items import CollateralSet
    from teeclient.platforms.sev_snp.verify import verify
    from teeclient.trust import TrustStore

    report = (VECTOR / "report.bin").read_bytes()
    vcek_der = (VECTOR / "vcek.der").read_bytes()
    trust = TrustStore.vendor()
    collateral = CollateralSet.from_files([VECTOR / "vcek.der"])
    vcek = load_certificate(vcek_der, role="vcek", platform="bench")

    results = [
        measure(
            "sev-snp warm verify (Genoa, VCEK given)",
            lambda: verify(report, trust=trust, now=NOW, vek=vcek),
            note="report signature checked every call; chain signatures memoised by hash",
        ),
        measure(
            "sev-snp warm verify (Genoa, VCEK from DER collateral)",
            lambda: verify(report, trust=trust, now=NOW, collateral=collateral),
        ),
        measure(
            "sev-snp verify, fresh trust store (no memo)",
            lambda: verify(report, trust=TrustStore.vendor(), now=NOW, vek=vcek),
            samples=50,
        ),
    ]
    python = sys.executable
    results.append(
        measure_process("import teeclient (process)", [python, "-c", "import teeclient"])
    )
    results.append(measure_process("python startup only (baseline)", [python, "-c", "pass"]))
    # what a cold CLI process is made of, each measured alone (results.md explains the floor)
    for what, code in (
        ("typer (CLI framework) import (process)", "import typer"),
        (
            "cryptography x509 + ec import (process)",
            "from cryptography import x509\n"
            "from cryptography.hazmat.primitives.asymmetric import ec",
        ),
    ):
        results.append(measure_process(what, [python, "-c", code]))
    teeclient_cli = str(Path(python).with_name("teeclient"))
    with tempfile.TemporaryDirectory() as tmp:
        bundle_path = Path(tmp) / "bundle.json"
        bundle_path.write_bytes(_bundle(report, vcek_der))
        results.append(
            measure_process(
                "cold `teeclient verify --offline bundle.json --json` process",
                [
                    teeclient_cli,
                    "verify",
                    str(bundle_path),
                    "--offline",
                    "--at",
                    "2026-01-01T00:00:00Z",
                    "--json",
                ],
                note="real Genoa report + VCEK in a teeclient.bundle/v1, baseline policy",
            )
        )
    results.append(
        measure_process(
            "cold `teeclient verify ... --json` process",
            [
                teeclient_cli,
                "verify",
                str(VECTOR / "report.bin"),
                "--collateral",
                str(VECTOR / "vcek.der"),
                "--at",
                "2026-01-01T00:00:00Z",
                "--json",
            ],
        )
    )
    return results


def _bundle(report: bytes, vcek_der: bytes) -> bytes:
    """The real Genoa report and its VCEK as a bundle, as ``teeclient fetch`` records one."""
    from teeclient.bundle import Bundle, BundleEvidence
    from teeclient.collateral.items import CollateralItem

    return Bundle(
        captured_at=NOW,
        target=str(VECTOR / "report.bin"),
        evidence=BundleEvidence(platform="sev-snp", data=report, source="report.bin"),
        collateral=(CollateralItem(data=vcek_der, source="https://kdsintf.amd.com/vcek"),),
    ).to_json()


def main() -> int:
    """Print the results and their JSON."""
    return report(run())


if __name__ == "__main__":
    sys.exit(main())
