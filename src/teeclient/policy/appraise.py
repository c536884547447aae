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
    Check,
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
    single: bool = False  # a plain table (e.g. [gpu]) rather than a list of alternatives


def _snp_runner() -> Runner:
    from teeclient.policy.checks.sev_snp import check_alternative

    return check_alternative


def _runner(module: str) -> Callable[[], Runner]:
    def load() -> Runner:
        import importlib

        found: Runner = importlib.import_module(module).check_alternative
        return found

    return load


def _tdx_runner() -> Runner:
    from teeclient.policy.checks.tdx import check_alternative

    return check_alternative


def _nitro_runner() -> Runner:
    from teeclient.policy.checks.nitro import check_alternative

    return check_alternative


# component kind -> the policy section that appraises it
_SECTIONS: dict[str, _Section] = {
    "sev-snp": _Section("sev_snp", _snp_runner),
    "nvidia-node": _Section("gpu", _runner("teeclient.policy.checks.gpu"), single=True),
    "nvidia-gpu": _Section("nvidia_gpu", _runner("teeclient.policy.checks.nvidia_gpu")),
    "nvidia-switch": _Section("nvidia_switch", _runner("teeclient.policy.checks.nvidia_switch")),
    "tdx": _Section("tdx", _tdx_runner),
    "nitro": _Section("nitro", _nitro_runner),
}


def _expand(claims: Sequence[Claims]) -> list[Claims]:
    """Composite claims (an NVIDIA node) are followed by their parts (each GPU and switch)."""
    out: list[Claims] = []
    for c in claims:
        out.append(c)
        parts = getattr(c, "parts", None)
        if callable(parts):
            out.extend(parts())
    return out


def _appraise_component(
    claims: Claims, index: int, policy: Policy, now: datetime
) -> ComponentResult:
    label = f"{claims.kind}[{index}]"
    section = _SECTIONS.get(claims.kind)
    rules: tuple[Any, ...] | None = (
        getattr(policy, section.attribute) if section is not None else None
    )
    if section is not None and section.single:
        rules = None if rules is None else (rules,)
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
            kind=claims.kind,
            index=index,
            claims=claims,
            accepted=False,
            alternative=None,
            alternative_name=None,
            checks=tuple(rec.checks),
        )
    runner = section.runner()
    every = []
    for alt_index, rule in enumerate(rules):
        rec = runner(claims, rule, policy, now, component=label, alternative=alt_index)
        if not any(c.status is CheckStatus.FAIL for c in rec.checks):
            return ComponentResult(
                kind=claims.kind,
                index=index,
                claims=claims,
                accepted=True,
                alternative=alt_index,
                alternative_name=getattr(rule, "name", None),
                checks=tuple(rec.checks),
            )
        every.extend(rec.checks)
    return ComponentResult(
        kind=claims.kind,
        index=index,
        claims=claims,
        accepted=False,
        alternative=None,
        alternative_name=None,
        checks=tuple(every),
    )


def appraise(
    claims: Sequence[Claims],
    policy: Policy,
    now: datetime,
    *,
    global_checks: Sequence[Check] = (),
) -> Appraisal:
    """Appraise verified claims against ``policy`` at ``now``; never raises on rejection.

    Each component is accepted if any alternative of its section passes (no check FAILs);
    the appraisal is accepted iff every component is. No components → not accepted.
    """
    now = require_aware(now)
    expanded = _expand(claims)
    components = tuple(
        _appraise_component(c, sum(1 for d in expanded[:i] if d.kind == c.kind), policy, now)
        for i, c in enumerate(expanded)
    )
    return Appraisal(
        components=components,
        at=now,
        policy=PolicyRef(name=policy.name, source=policy.source, sha256=policy.sha256),
        global_checks=tuple(global_checks),
    )
