"""`teeclient token verify`: check an EAR attestation-result token and print its claims."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from teeclient.cli.exit_codes import ACCEPTED, exit_code_for
from teeclient.cli.render import emit_json
from teeclient.errors import InputError, TeeclientError

__all__ = ["verify_token"]

TOKEN_SCHEMA = "teeclient.token-verify/v1"  # noqa: S105 (a schema name)
_MAX_TOKEN_FILE = 256 * 1024
_JWT = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")


def _read_token(text: str) -> str:
    if text == "-":
        return sys.stdin.read(_MAX_TOKEN_FILE + 1)
    if _JWT.fullmatch(text):
        return text
    path = Path(text)
    if path.is_file():
        try:
            if path.stat().st_size > _MAX_TOKEN_FILE:
                raise InputError("token file too large", field=text)
            return path.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            raise InputError(f"cannot read token: {exc.strerror}", field=text) from exc
    raise InputError(
        "not a token file or a compact JWT",
        field="TOKEN",
        expected="a file, '-' for stdin, or header.payload.signature",
        actual=text[:40],
    )


def verify_token(token: str, key: Path, at: str | None, json_output: bool) -> int:
    """Verify a token with a public key at ``at`` (default now); print its claims."""
    from teeclient._time import parse_time, utc_now
    from teeclient.ear import load_public_key, verify_ear

    try:
        when = utc_now()
        if at is not None:
            try:
                when = parse_time(at)
            except ValueError as exc:
                raise InputError("--at is not RFC 3339", field="--at", actual=at) from exc
        claims = verify_ear(_read_token(token), load_public_key(key), now=when)
    except TeeclientError as exc:
        if json_output:
            emit_json(
                {"schema": TOKEN_SCHEMA, "valid": False, "claims": None, "error": exc.to_dict()}
            )
        else:
            sys.stderr.write(f"teeclient: token rejected: {exc}\n")
        return exit_code_for(exc)
    if json_output:
        emit_json({"schema": TOKEN_SCHEMA, "valid": True, "claims": claims, "error": None})
        return ACCEPTED
    submods = claims.get("submods", {})
    statuses = ", ".join(f"{name}: {sub.get('ear.status')}" for name, sub in submods.items())
    sys.stdout.write(f"token valid (signature, algorithm, expiry, EAR profile); {statuses}\n")
    sys.stdout.write(json.dumps(claims, indent=2, sort_keys=True) + "\n")
    return ACCEPTED
