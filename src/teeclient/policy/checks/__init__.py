"""Check functions, one module per policy section, and the registry of stable check ids."""

from __future__ import annotations

import hmac
import importlib
from collections.abc import Mapping
from types import MappingProxyType

from teeclient.policy.result import Check, CheckStatus, CheckValue

__all__ = ["Recorder", "all_checks", "allow_list", "expected_of", "in_list", "known_check_ids"]

# policy section -> module defining CHECKS (id -> one-line description) and its check function
_SECTIONS = {
    "binding": "teeclient.policy.checks.binding",
    "collateral": "teeclient.policy.checks.collateral",
    "sev_snp": "teeclient.policy.checks.sev_snp",
    "gpu": "teeclient.policy.checks.gpu",
    "nvidia_gpu": "teeclient.policy.checks.nvidia_gpu",
    "nvidia_switch": "teeclient.policy.checks.nvidia_switch",
    "tdx": "teeclient.policy.checks.tdx",
    "nitro": "teeclient.policy.checks.nitro",
    "log": "teeclient.policy.checks.log",
}


def all_checks() -> Mapping[str, Mapping[str, str]]:
    """Every section's check ids with their descriptions (docs/checks.md mirrors this)."""
    out: dict[str, Mapping[str, str]] = {}
    for section, module in _SECTIONS.items():
        out[section] = importlib.import_module(module).CHECKS
    return MappingProxyType(out)


def known_check_ids(section: str) -> frozenset[str]:
    """The stable check ids of one policy section."""
    return frozenset(all_checks().get(section, {}))


class Recorder:
    """Collects the checks of one alternative; ``warn_only`` turns a failure into a warning."""

    __slots__ = ("alternative", "checks", "component", "warn_only")

    def __init__(self, component: str, alternative: int | None, warn_only: frozenset[str]) -> None:
        self.component = component
        self.alternative = alternative
        self.warn_only = warn_only
        self.checks: list[Check] = []

    def _add(
        self,
        check_id: str,
        status: CheckStatus,
        expected: CheckValue,
        actual: CheckValue,
        message: str,
    ) -> None:
        self.checks.append(
            Check(
                id=check_id,
                component=self.component,
                status=status,
                expected=expected,
                actual=actual,
                message=message,
                alternative=self.alternative,
            )
        )

    def verdict(
        self,
        check_id: str,
        ok: bool,
        *,
        expected: CheckValue,
        actual: CheckValue,
        passed: str,
        failed: str,
    ) -> None:
        """Record pass, or fail (warn if the id is warn-only)."""
        if ok:
            self._add(check_id, CheckStatus.PASS, expected, actual, passed)
        elif check_id in self.warn_only:
            self._add(check_id, CheckStatus.WARN, expected, actual, failed + " (warn_only)")
        else:
            self._add(check_id, CheckStatus.FAIL, expected, actual, failed)

    def warn(
        self, check_id: str, *, expected: CheckValue, actual: CheckValue, message: str
    ) -> None:
        """Record a warning that never rejects."""
        self._add(check_id, CheckStatus.WARN, expected, actual, message)

    def skip(self, check_id: str, message: str, *, actual: CheckValue = None) -> None:
        """Record a check that was not evaluated, and why."""
        self._add(check_id, CheckStatus.SKIP, None, actual, message)


def in_list(value: str, allowed: tuple[str, ...]) -> bool:
    """``value`` is one of ``allowed``: every element compared in constant time (the list
    itself is policy, not secret)."""
    found = False
    for candidate in allowed:
        found |= hmac.compare_digest(value.encode(), candidate.encode())
    return found


def expected_of(allowed: tuple[str, ...]) -> str | tuple[str, ...]:
    """An allow-list as a check's ``expected`` value: the one value, or all of them."""
    return allowed[0] if len(allowed) == 1 else allowed


def allow_list(
    rec: Recorder, check_id: str, label: str, actual: str, allowed: tuple[str, ...] | None
) -> None:
    """Record ``check_id``: skipped when the policy does not constrain ``label`` (``allowed``
    None), passed when ``actual`` is listed, failed otherwise (an empty list accepts nothing)."""
    if allowed is None:
        rec.skip(check_id, f"{label} is not constrained by the policy", actual=actual)
        return
    rec.verdict(
        check_id,
        in_list(actual, allowed),
        expected=expected_of(allowed),
        actual=actual,
        passed=f"{label} matches the policy",
        failed=f"{label} is not in the policy's allow-list"
        if allowed
        else f"{label}: the policy's allow-list is empty, nothing is accepted",
    )
