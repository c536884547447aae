"""Strict JSON for signed and security-relevant documents: no duplicate members, no NaN or
Infinity. Failures are ``ValueError`` (callers turn them into their own typed errors)."""

from __future__ import annotations

import json
from typing import Any

__all__ = ["DuplicateMemberError", "strict_loads"]


class DuplicateMemberError(ValueError):
    """A JSON object names the same member twice (``member`` says which)."""

    def __init__(self, member: str) -> None:
        super().__init__(f"duplicate member {member!r}")
        self.member = member


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise DuplicateMemberError(key)
        out[key] = value
    return out


def _reject_constant(name: str) -> Any:
    raise ValueError(f"JSON constant {name} is not allowed")


def strict_loads(data: bytes | str) -> Any:
    """``json.loads`` that rejects duplicate members, NaN/Infinity and non-UTF-8 bytes.

    Raises:
        ValueError: invalid JSON (``DuplicateMemberError`` for a repeated member;
            ``UnicodeDecodeError`` for bytes that are not UTF-8).
        RecursionError: nesting deeper than the interpreter allows.
    """
    text = data.decode("utf-8") if isinstance(data, bytes) else data
    return json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_reject_constant)
