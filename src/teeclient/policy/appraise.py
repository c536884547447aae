"""appraise(claims, policy, now) → Appraisal: every check of every alternative, OR across them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from teeclient._time import require_aware
from teeclient.policy.checks import Recorder
from teeclient.policy.model import Policy
from teeclient.policy.result import (
    Appraisal,
    CheckStatus,
    Claims,
    ComponentResult,
    PolicyRef,
)

__all__ = ["COMPONENT_CHECK_ID", "appraise"]

COMPONENT_CHECK_ID = "policy.component"

Runner = Callable[..., Recorder]


@dataclass(frozen=True, slots=True)
class _Section:
    attribute: str
    runner: Callable[[], Runner]


def _snp_runner() -> Runner:
    from teeclient.policy.checks.sev_snp import check_alternative

    return check_alternative


def _nitro_runner() -> Runner:
    from teeclient.policy.checks.nitro import check_alternative

    return check_alternative


# component kind -> the policy section that appraises it
_SECTIONS: dict[str, _Section] = {
    "sev-snp": _Section("sev_snp", _snp_runner),
    "nitro": _Section("nitro", _nitro_runner),
}


def _appraise_component(
    claims: Claims, index: int, policy: Policy, now: datetime
) -> ComponentResult:
    label = f"{claims.kind}[{index}]"
    section = _SECTIONS.get(claims.kind)
    rules: tuple[Any, ...] | None = (
        getattr(policy, section.attribute) if section is not None else None
    )
    if section is None or not rules:
        rec = Recorder(label, None, frozenset())
        name = section.attribute if section is not None else claims.kind
        rec.verdict(
            COMPONENT_CHECK_ID,
            False,
            expected=f"at least one [[{name}]] alternative",
            actual="none" if rules is None else "empty list",
            passed="",
            failed=f"the policy has no [[{name}]] alternative: {claims.kind} evidence is not "
            "accepted",
        )
        return ComponentResult(
            kind=claims.kind, index=index, claims=claims, accepted=False, alternative=None,
            alternative_name=None, checks=tuple(rec.checks),
        )  # fmt: skip
    runner = section.runner()
    every = []
    for alt_index, rule in enumerate(rules):
        rec = runner(claims, rule, policy, now, component=label, alternative=alt_index)
        if not any(c.status is CheckStatus.FAIL for c in rec.checks):
            return ComponentResult(
                kind=claims.kind, index=index, claims=claims, accepted=True,
                alternative=alt_index, alternative_name=getattr(rule, "name", None),
                checks=tuple(rec.checks),
            )  # fmt: skip
        every.extend(rec.checks)
    return ComponentResult(
        kind=claims.kind, index=index, claims=claims, accepted=False, alternative=None,
        alternative_name=None, checks=tuple(every),
    )  # fmt: skip


def appraise(claims: Sequence[Claims], policy: Policy, now: datetime) -> Appraisal:
    """Appraise verified claims against ``policy`` at ``now``; never raises on rejection.

    Each component is accepted if any alternative of its section passes (no check FAILs);
    the appraisal is accepted iff every component is. No components → not accepted.
    """
    now = require_aware(now)
    components = tuple(_appraise_component(c, i, policy, now) for i, c in enumerate(claims))
    return Appraisal(
        components=components,
        at=now,
        policy=PolicyRef(name=policy.name, source=policy.source, sha256=policy.sha256),
    )
