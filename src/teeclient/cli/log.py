"""`teeclient log show`: the local trust log of accepted identities."""

from __future__ import annotations

import sys
from pathlib import Path

from teeclient.cli.exit_codes import ACCEPTED, exit_code_for
from teeclient.cli.render import emit_json
from teeclient.errors import TeeclientError

__all__ = ["show"]

LOG_SHOW_SCHEMA = "teeclient.log-show/v1"


def show(file: Path | None, source: str | None, json_output: bool) -> int:
    """Print the entries (optionally of one source), oldest first, with changes marked."""
    from teeclient._time import iso
    from teeclient.trustlog import TrustLog, log_settings

    path = file if file is not None else log_settings()[1]
    try:
        entries, bad = TrustLog(path).read()
    except TeeclientError as exc:
        if json_output:
            emit_json({"schema": LOG_SHOW_SCHEMA, "file": str(path), "error": exc.to_dict()})
        else:
            sys.stderr.write(f"teeclient: {exc}\n")
        return exit_code_for(exc)
    if source is not None:
        entries = [e for e in entries if e.source == source]
    if json_output:
        emit_json(
            {
                "schema": LOG_SHOW_SCHEMA,
                "file": str(path),
                "entries": [e.to_dict() for e in entries],
                "unreadable_lines": bad,
                "error": None,
            }
        )
        return ACCEPTED
    out = sys.stdout
    out.write(f"trust log {path}: {len(entries)} entr{'y' if len(entries) == 1 else 'ies'}\n")
    if bad:
        sys.stderr.write(f"teeclient: skipped {bad} unreadable line(s) in {path}\n")
    last: dict[str, object] = {}
    for entry in entries:
        previous = last.get(entry.source)
        changes = entry.changes_since(previous) if previous is not None else []  # type: ignore[arg-type]
        mark = "CHANGED" if changes else ("new" if previous is None else "same")
        out.write(
            f"{iso(entry.logged_at)}  {mark:<7}  {entry.platform:<8} {entry.source}  "
            f"(at {iso(entry.at)}; policy {entry.policy_name or '-'} "
            f"{(entry.policy_sha256 or '')[:12]})\n"
        )
        for label, values in entry.components.items():
            for name, value in values.items():
                out.write(f"    {label} {name} {value}\n")
        for label, values in entry.keys.items():
            for name, value in values.items():
                out.write(f"    {label} key {name} {value}\n")
        for what, before, now in changes:
            out.write(f"    ! {what}: {before} -> {now}\n")
        last[entry.source] = entry
    return ACCEPTED
