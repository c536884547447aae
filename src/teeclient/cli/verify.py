"""`teeclient verify`: evidence + collateral files + policy → verdict, table or JSON."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

from teeclient.cli.exit_codes import ACCEPTED, REJECTED, exit_code_for
from teeclient.cli.render import VerifyOutcome, emit_json, render_verify_human, verify_json
from teeclient.errors import TeeclientError, UsageError

__all__ = ["run"]

_MAX_NONCE_BYTES = 1024


def _parse_nonce(text: str | None) -> bytes | None:
    """``--nonce`` hex (optional 0x, case-insensitive) → bytes.

    Raises:
        UsageError: not an even number of hex digits, or longer than 1024 bytes.
    """
    if text is None:
        return None
    raw = text.strip().lower().removeprefix("0x")
    try:
        value = bytes.fromhex(raw)
    except ValueError as exc:
        raise UsageError(
            "--nonce is not hex",
            field="--nonce",
            expected="an even number of hex digits",
            actual=text[:80],
        ) from exc
    if len(value) > _MAX_NONCE_BYTES or any(c.isspace() for c in raw):
        raise UsageError(
            "--nonce is too long or contains spaces",
            field="--nonce",
            expected=f"<= {_MAX_NONCE_BYTES} bytes of hex",
            actual=text[:80],
        )
    return value


def run(
    evidence: Path,
    collateral: list[Path],
    product: str | None,
    at: str | None,
    policy_path: Path | None,
    json_output: bool,
    nonce: str | None = None,
) -> int:
    """Run the verify command; returns the exit code."""
    from teeclient._time import parse_time, utc_now
    from teeclient.collateral.items import CollateralSet
    from teeclient.policy.appraise import appraise
    from teeclient.policy.load import load_baseline, load_policy
    from teeclient.verification import load_evidence, verify_claims

    state: dict[str, str] = {}
    policy = None
    when = None
    try:
        try:
            when = parse_time(at) if at is not None else utc_now()
        except ValueError as exc:
            raise UsageError("--at is not an RFC 3339 time with timezone", field="--at",
                             expected="e.g. 2026-01-01T00:00:00Z", actual=at) from exc  # fmt: skip
        challenge = _parse_nonce(nonce)
        policy = load_policy(policy_path) if policy_path is not None else load_baseline()
        ev = load_evidence(evidence)
        state["source"] = ev.source
        state["sha256"] = hashlib.sha256(ev.data).hexdigest()
        state["platform"] = ev.platform
        claims = verify_claims(
            ev,
            collateral=CollateralSet.from_files(collateral),
            at=when,
            product=product,
            nonce=challenge,
        )
        appraisal = appraise([claims], policy, when)
        outcome = VerifyOutcome(
            evidence_source=ev.source,
            evidence_sha256=state["sha256"],
            platform=ev.platform,
            at=when,
            policy_name=policy.name,
            policy_source=policy.source,
            policy_sha256=policy.sha256,
            appraisal=appraisal,
            error=None,
            exit_code=ACCEPTED if appraisal.accepted else REJECTED,
        )
    except TeeclientError as exc:
        outcome = VerifyOutcome(
            evidence_source=str(state.get("source", evidence)),
            evidence_sha256=state.get("sha256"),
            platform=state.get("platform"),
            at=when,
            policy_name=policy.name if policy is not None else None,
            policy_source=policy.source if policy is not None else None,
            policy_sha256=policy.sha256 if policy is not None else None,
            appraisal=None,
            error=exc,
            exit_code=exit_code_for(exc),
        )
    if json_output:
        emit_json(verify_json(outcome))
    else:
        text = render_verify_human(outcome, color=sys.stdout.isatty())
        sys.stdout.write(text)
        if outcome.error is not None:
            sys.stderr.write(f"teeclient: {outcome.error}\n")
    return outcome.exit_code
