"""Rendering for the CLI: the human table and the stable ``--json`` schemas."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from teeclient import __version__
from teeclient._time import iso
from teeclient.errors import TeeclientError
from teeclient.policy.result import Appraisal, Check, CheckStatus

__all__ = ["VerifyOutcome", "emit_json", "render_verify_human", "verify_json"]

VERIFY_SCHEMA = "teeclient.verify/v1"
INSPECT_SCHEMA = "teeclient.inspect/v1"
LINT_SCHEMA = "teeclient.policy-lint/v1"

_ORDER = {CheckStatus.FAIL: 0, CheckStatus.WARN: 1, CheckStatus.SKIP: 2, CheckStatus.PASS: 3}


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifyOutcome:
    """Everything `teeclient verify` reports, success or failure."""

    evidence_source: str | None
    evidence_sha256: str | None
    platform: str | None
    at: datetime | None
    policy_name: str | None
    policy_source: str | None
    policy_sha256: str | None
    appraisal: Appraisal | None
    error: TeeclientError | None
    exit_code: int


def verify_json(outcome: VerifyOutcome) -> dict[str, Any]:
    """The ``teeclient.verify/v1`` object (docs/cli.md documents every member)."""
    appraisal = outcome.appraisal
    components: list[dict[str, Any]]
    if appraisal is not None:
        components = [c.to_dict() for c in appraisal.components]
        checks = [c.to_dict() for c in appraisal.checks]
        summary = appraisal.summary()
    else:
        components = (
            [
                {
                    "kind": outcome.platform,
                    "index": 0,
                    "verified": False,
                    "accepted": False,
                    "alternative": None,
                    "alternative_name": None,
                    "claims": None,
                }
            ]
            if outcome.platform is not None
            else []
        )
        checks = []
        summary = {s.value: 0 for s in CheckStatus}
    return {
        "schema": VERIFY_SCHEMA,
        "teeclient_version": __version__,
        "evidence": {
            "source": outcome.evidence_source,
            "sha256": outcome.evidence_sha256,
            "platform": outcome.platform,
        },
        "at": iso(outcome.at) if outcome.at else None,
        "policy": {
            "name": outcome.policy_name,
            "source": outcome.policy_source,
            "sha256": outcome.policy_sha256,
        },
        "verified": appraisal is not None,
        "accepted": bool(appraisal is not None and appraisal.accepted),
        "exit_code": outcome.exit_code,
        "components": components,
        "checks": checks,
        "summary": summary,
        "error": outcome.error.to_dict() if outcome.error is not None else None,
    }


def emit_json(obj: object) -> None:
    """Write one JSON document to stdout."""
    sys.stdout.write(json.dumps(obj, indent=2, sort_keys=False) + "\n")


def _cell(value: object, width: int) -> str:
    if value is None:
        text = "-"
    elif isinstance(value, tuple | list):
        text = ", ".join(str(v) for v in value)
    else:
        text = str(value)
    if len(text) > width:
        text = text[: width - 1] + "…"
    return text.ljust(width)


def render_verify_human(outcome: VerifyOutcome, *, color: bool) -> str:
    """The human report: verdict, components, and a table of checks (failures first)."""

    def paint(text: str, fg: str) -> str:
        if not color:
            return text
        codes = {"red": "31", "green": "32", "yellow": "33", "dim": "2", "bold": "1"}
        return f"\x1b[{codes[fg]}m{text}\x1b[0m"

    lines: list[str] = []
    appraisal = outcome.appraisal
    if outcome.error is not None and appraisal is None:
        verdict = paint("INVALID" if outcome.exit_code == 3 else "ERROR", "red")
    elif appraisal is not None and appraisal.accepted:
        verdict = paint("ACCEPTED", "green")
    else:
        verdict = paint("REJECTED", "red")
    when = iso(outcome.at) if outcome.at else "-"
    lines.append(
        f"teeclient verify: {verdict}   policy {outcome.policy_name or outcome.policy_source}"
        f"   at {when}"
    )
    if outcome.evidence_source is not None:
        lines.append(
            f"evidence {outcome.evidence_source} ({outcome.platform or 'unknown'}; "
            f"sha256 {(outcome.evidence_sha256 or '')[:16]}…)"
        )
    if outcome.error is not None:
        err = outcome.error
        lines.append(paint(f"error {err.code}: {err.message}", "red"))
        for key in ("field", "expected", "actual"):
            value = getattr(err, key)
            if value is not None:
                lines.append(f"  {key:<8} {value}")
    if appraisal is None:
        return "\n".join(lines) + "\n"
    for comp in appraisal.components:
        state = "accepted" if comp.accepted else "rejected"
        alt = (
            f" by alternative {comp.alternative}"
            + (f" ({comp.alternative_name})" if comp.alternative_name else "")
            if comp.alternative is not None
            else ""
        )
        lines.append(f"component {comp.label}: verified, {state}{alt}")
        lines.extend(f"  {line}" for line in comp.claims.summary())
    checks: list[Check] = sorted(appraisal.checks, key=lambda c: _ORDER[c.status])
    lines.append("")
    lines.append(f"{'STATUS':<6}  {'CHECK':<36}  {'EXPECTED':<22}  {'ACTUAL':<22}  MESSAGE")
    tint = {
        CheckStatus.FAIL: "red",
        CheckStatus.WARN: "yellow",
        CheckStatus.SKIP: "yellow",
        CheckStatus.PASS: "green",
    }
    for check in checks:
        status = paint(check.status.value.upper().ljust(6), tint[check.status])
        alt = (
            f"[{check.alternative}] "
            if check.alternative is not None and len({c.alternative for c in appraisal.checks}) > 1
            else ""
        )
        lines.append(
            f"{status}  {_cell(alt + check.id, 36)}  {_cell(check.expected, 22)}  "
            f"{_cell(check.actual, 22)}  {check.message}"
        )
    summary = appraisal.summary()
    lines.append("")
    lines.append(
        f"{summary['pass']} passed, {summary['fail']} failed, {summary['warn']} warnings, "
        f"{summary['skip']} skipped (not checked: the policy does not constrain them, or the "
        "input to check them was not supplied)"
    )
    return "\n".join(lines) + "\n"
