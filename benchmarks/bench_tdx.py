"""TDX benchmarks: warm verification of a real quote with its collateral, next to dcap-qvl.

Both libraries verify the same quote (dcap-qvl's own sample, ``fixtures/real/tdx/v4-b0c06f-dcap``)
with the same collateral at the same time, in the same process. teeclient gets the collateral as
raw bytes each call; the quote is parsed and its QE-report and quote signatures are checked on
every call, while what depends only on the collateral's bytes (parsing, certificate, CRL and
collateral signatures) is remembered by content hash in the trust store, and validity windows
are re-checked at ``now``. dcap-qvl gets its pre-built ``QuoteCollateralV3`` and re-verifies
everything per call. dcap-qvl is optional (``pip install -e '.[bench]'``).
"""

from __future__ import annotations

import importlib
import sys
from datetime import UTC, datetime
from pathlib import Path

from benchmarks._harness import Result, measure, report

ROOT = Path(__file__).resolve().parent.parent
TDX = ROOT / "fixtures" / "real" / "tdx"
DCAP_VECTOR = TDX / "v4-b0c06f-dcap"
DCAP_NOW = datetime(2025, 7, 1, tzinfo=UTC)
PCS_VECTOR = TDX / "v5-tdx15-90c06f-gtg"
PCS_COLLATERAL = TDX / "collateral-2026-01-tinfoil"
PCS_NOW = datetime(2026, 2, 3, 1, tzinfo=UTC)


def run() -> list[Result]:
    """Run every TDX benchmark (and dcap-qvl's, when installed)."""
    from teeclient.collateral.items import CollateralSet
    from teeclient.platforms.tdx.verify import verify
    from teeclient.trust import TrustStore

    trust = TrustStore.vendor()
    quote = (DCAP_VECTOR / "quote.dat").read_bytes()
    bundle = CollateralSet.from_files([DCAP_VECTOR / "collateral.json"])
    results = [
        measure(
            "tdx warm verify (v4, dcap-qvl collateral.json)",
            lambda: verify(quote, trust=trust, now=DCAP_NOW, collateral=bundle),
            note="quote + QE report signatures every call; collateral cached by content",
        ),
        measure(
            "tdx verify, fresh trust store (no memo)",
            lambda: verify(quote, trust=TrustStore.vendor(), now=DCAP_NOW, collateral=bundle),
            samples=50,
        ),
    ]
    pcs_quote = (PCS_VECTOR / "quote.dat").read_bytes()
    pcs_files = [
        PCS_COLLATERAL / n
        for n in (
            "tcb_info_90c06f000000.json",
            "tcb_info_90c06f000000_issuer_chain.pem",
            "qe_identity.json",
            "pck_crl_platform.der",
            "pck_crl_platform_issuer_chain.pem",
            "root_ca_crl.der",
        )
    ]
    pcs = CollateralSet.from_files(pcs_files)
    results.append(
        measure(
            "tdx warm verify (v5 TD 1.5, PCS responses)",
            lambda: verify(pcs_quote, trust=trust, now=PCS_NOW, collateral=pcs),
        )
    )
    try:
        dcap_qvl = importlib.import_module("dcap_qvl")
    except ImportError:
        sys.stderr.write("dcap-qvl not installed: pip install -e '.[bench]' to compare\n")
        return results
    collateral = dcap_qvl.QuoteCollateralV3.from_json((DCAP_VECTOR / "collateral.json").read_text())
    now_secs = int(DCAP_NOW.timestamp())
    theirs = measure(
        "dcap-qvl verify (same quote and collateral)",
        lambda: dcap_qvl.verify(quote, collateral, now_secs),
        note=f"dcap-qvl {dcap_qvl.__version__}, pre-built QuoteCollateralV3",
    )
    results.append(theirs)
    return results


def ratio(results: list[Result]) -> float | None:
    """teeclient's warm median over dcap-qvl's, when both were measured."""
    ours = next((r for r in results if r.name.startswith("tdx warm verify (v4")), None)
    theirs = next((r for r in results if r.name.startswith("dcap-qvl")), None)
    if ours is None or theirs is None:
        return None
    return ours.median_us / theirs.median_us


def main() -> int:
    """Print the results, the ratios and their JSON."""
    return report(run(), ratios)


def ratios(results: list[Result]) -> dict[str, float]:
    """For benchmarks/run.py: teeclient / dcap-qvl on the same quote, when measured."""
    value = ratio(results)
    return {} if value is None else {"tdx: teeclient / dcap-qvl": value}


if __name__ == "__main__":
    sys.exit(main())
