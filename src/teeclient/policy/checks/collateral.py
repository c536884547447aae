"""Global checks about where collateral came from (not tied to one component)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from types import MappingProxyType

from teeclient.collateral.items import CollateralItem, CollateralRequest
from teeclient.errors import CollateralError
from teeclient.policy.checks import Recorder
from teeclient.policy.result import Check

__all__ = ["CHECKS", "collateral_checks"]

CHECKS = MappingProxyType(
    {
        "collateral.sources": "where each collateral item came from (supplied, bundle, cache, "
        "network)",
        "collateral.stale": "a cached item past its own validity was used because its service "
        "was unreachable, within [collateral] max_staleness (always a warning)",
        "collateral.unavailable": "optional collateral (e.g. a CRL under amd_crl = if-present) "
        "could not be obtained; the checks that need it say 'skip'",
    }
)


def collateral_checks(
    items: Sequence[CollateralItem],
    unavailable: Sequence[tuple[CollateralRequest, CollateralError]],
) -> list[Check]:
    """The global collateral checks for one verification."""
    rec = Recorder("collateral", None, frozenset())
    if items:
        counts = Counter(item.origin for item in items)
        summary = ", ".join(f"{n} {origin}" for origin, n in sorted(counts.items()))
        rec.verdict(
            "collateral.sources",
            True,
            expected=None,
            actual=summary,
            passed=f"{len(items)} collateral item(s): {summary}",
            failed="",
        )
    for item in items:
        if item.origin == "cache-stale":
            rec.warn(
                "collateral.stale",
                expected="fresh collateral",
                actual=item.source,
                message="service unreachable: used a cached copy past its validity, within "
                "the policy's max_staleness",
            )
    for request, error in unavailable:
        rec.skip(
            "collateral.unavailable",
            f"{request.purpose} not obtained ({error.code}): {request.url}",
            actual=error.code,
        )
    return rec.checks
