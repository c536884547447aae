"""Check, ComponentResult and Appraisal: the outcome of appraising claims against a policy."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from teeclient._time import iso

__all__ = ["Appraisal", "Check", "CheckStatus", "Claims", "ComponentResult", "PolicyRef"]

CheckValue = str | int | bool | tuple[str, ...] | None


class Claims(Protocol):
    """What every platform's claims type offers the appraisal and the renderers."""

    @property
    def kind(self) -> str:
        """Component kind, e.g. ``sev-snp``."""
        ...

    def to_dict(self) -> dict[str, object]:
        """JSON form of the claims."""
        ...

    def summary(self) -> list[str]:
        """A few human-readable lines describing the component (for the CLI table)."""
        ...


class CheckStatus(enum.StrEnum):
    """Outcome of one check. Only FAIL rejects; SKIP means not evaluated, and says why."""

    PASS = "pass"
    FAIL = "fail"
    WARN = "warn"
    SKIP = "skip"


@dataclass(frozen=True, slots=True, kw_only=True)
class Check:
    """One evaluated rule: stable id, status, what was expected and what was found."""

    id: str
    component: str
    status: CheckStatus
    expected: CheckValue
    actual: CheckValue
    message: str
    alternative: int | None = None

    def to_dict(self) -> dict[str, object]:
        """JSON form."""
        return {
            "id": self.id,
            "component": self.component,
            "status": self.status.value,
            "expected": list(self.expected) if isinstance(self.expected, tuple) else self.expected,
            "actual": list(self.actual) if isinstance(self.actual, tuple) else self.actual,
            "message": self.message,
            "alternative": self.alternative,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class ComponentResult:
    """One verified component and the checks of the alternative that decided it.

    When an alternative accepts, ``checks`` are that alternative's; when none does, the
    checks of every alternative are listed so each failure can be read.
    """

    kind: str
    index: int
    claims: Claims
    accepted: bool
    alternative: int | None
    alternative_name: str | None
    checks: tuple[Check, ...]

    @property
    def label(self) -> str:
        """``sev-snp[0]``-style label."""
        return f"{self.kind}[{self.index}]"

    def to_dict(self) -> dict[str, object]:
        """JSON form (without the checks, which are listed at the top level)."""
        return {
            "kind": self.kind,
            "index": self.index,
            "verified": True,
            "accepted": self.accepted,
            "alternative": self.alternative,
            "alternative_name": self.alternative_name,
            "claims": self.claims.to_dict(),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class PolicyRef:
    """Which policy was applied."""

    name: str | None
    source: str
    sha256: str | None

    def to_dict(self) -> dict[str, object]:
        """JSON form."""
        return {"name": self.name, "source": self.source, "sha256": self.sha256}


@dataclass(frozen=True, slots=True, kw_only=True)
class Appraisal:
    """Every check of every component at time ``at``; accepted iff no check failed."""

    components: tuple[ComponentResult, ...]
    at: datetime
    policy: PolicyRef
    global_checks: tuple[Check, ...] = ()

    @property
    def checks(self) -> tuple[Check, ...]:
        """All checks, component by component, then the global ones (collateral, binding)."""
        return tuple(c for comp in self.components for c in comp.checks) + self.global_checks

    @property
    def accepted(self) -> bool:
        """True iff there is a component, every component is accepted, no global check fails."""
        return (
            bool(self.components)
            and all(c.accepted for c in self.components)
            and not any(c.status is CheckStatus.FAIL for c in self.global_checks)
        )

    def with_status(self, status: CheckStatus) -> tuple[Check, ...]:
        """The checks with a given status."""
        return tuple(c for c in self.checks if c.status is status)

    def summary(self) -> dict[str, int]:
        """Count of checks per status."""
        return {s.value: len(self.with_status(s)) for s in CheckStatus}

    def to_dict(self) -> dict[str, object]:
        """JSON form (the body of ``teeclient.verify/v1`` minus envelope fields)."""
        return {
            "accepted": self.accepted,
            "at": iso(self.at),
            "policy": self.policy.to_dict(),
            "components": [c.to_dict() for c in self.components],
            "checks": [c.to_dict() for c in self.checks],
            "summary": self.summary(),
        }
