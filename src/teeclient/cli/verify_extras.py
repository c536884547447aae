"""`verify --explain`, `--ear` and the trust log: what `teeclient verify` adds after appraisal."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import Any

from teeclient.cli.render import VerifyOutcome
from teeclient.errors import TeeclientError
from teeclient.policy.result import Appraisal

__all__ = ["add_explanations", "emit_ear", "explain_text", "record_in_log"]


def record_in_log(
    appraisal: Appraisal,
    *,
    enabled: bool | None,
    source: str,
    platform: str,
    evidence_sha256: str | None,
) -> Appraisal:
    """Append an accepted appraisal to the trust log; warn (log.changed) on a change.

    ``enabled`` is ``--log/--no-log`` (None: the environment decides, on by default).
    A log that cannot be written is reported on stderr and never changes the verdict.
    """
    from teeclient._time import utc_now
    from teeclient.policy.checks.log import changed_check
    from teeclient.trustlog import TrustLog, entry_for, log_settings

    default_on, path = log_settings()
    if not (default_on if enabled is None else enabled) or not appraisal.accepted:
        return appraisal
    log = TrustLog(path)
    entry = entry_for(
        appraisal,
        source=source,
        platform=platform,
        evidence_sha256=evidence_sha256,
        logged_at=utc_now(),
    )
    try:
        changes = log.changes(entry)
        log.append(entry)
    except TeeclientError as exc:
        sys.stderr.write(f"teeclient: warning: trust log not updated: {exc}\n")
        return appraisal
    if not changes:
        return appraisal
    for what, before, now in changes:
        sys.stderr.write(
            f"teeclient: WARNING: {source}: {what} changed since the last accepted "
            f"verification: {before} -> {now}\n"
        )
    extra = tuple(changed_check(source, changes))
    return dataclasses.replace(appraisal, global_checks=appraisal.global_checks + extra)


def add_explanations(document: dict[str, Any], outcome: VerifyOutcome) -> None:
    """Add ``explanation`` to every failed or warned check of a verify/v1 document."""
    from teeclient.policy.explain import explain_appraisal

    if outcome.appraisal is None:
        return
    explained = [e for _, e in explain_appraisal(outcome.appraisal)]
    queue = list(explained)
    for check in document["checks"]:
        if check["status"] not in ("fail", "warn"):
            continue
        for i, item in enumerate(queue):
            if (
                item.id == check["id"]
                and item.component == check["component"]
                and item.alternative == check["alternative"]
            ):
                check["explanation"] = queue.pop(i).to_dict()
                break


def explain_text(outcome: VerifyOutcome) -> str:
    """The human explanation block printed after the table."""
    from teeclient.policy.explain import explain_appraisal

    if outcome.appraisal is None:
        return ""
    explained = explain_appraisal(outcome.appraisal)
    if not explained:
        return "\nexplain: no check failed or warned.\n"
    lines = ["", f"explain: {len(explained)} check(s) failed or warned", ""]
    for _, item in explained:
        lines.extend(item.lines())
        lines.append("")
    return "\n".join(lines)


def emit_ear(
    outcome: VerifyOutcome,
    key: Any,
    *,
    output: Path | None,
    nonce: bytes | None,
    document: dict[str, Any] | None,
) -> int | None:
    """Sign an EAR for the appraisal; write it to ``output``, the JSON document or stdout.

    Returns an exit code to use instead of the verdict's when the token cannot be written.
    """
    from teeclient._time import utc_now
    from teeclient.ear import ear_claims, sign_ear

    if outcome.appraisal is None:
        sys.stderr.write("teeclient: no EAR token: the evidence did not verify\n")
        return None
    token = sign_ear(ear_claims(outcome.appraisal, issued_at=utc_now(), nonce=nonce), key)
    if output is not None:
        try:
            output.write_text(token + "\n", encoding="utf-8")
        except OSError as exc:
            sys.stderr.write(f"teeclient: cannot write {output}: {exc.strerror}\n")
            return 2
        sys.stderr.write(f"wrote EAR token to {output}\n")
    elif document is not None:
        document["ear"] = token
    else:
        sys.stdout.write(f"ear token: {token}\n")
    return None
