"""Global check from the local trust log: did an endpoint's measurement or key change?

The comparison with earlier entries is done by ``teeclient.trustlog`` (which reads the log
file); this module only names the check id and builds the check from its result.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import MappingProxyType

from teeclient.policy.checks import Recorder
from teeclient.policy.result import Check

__all__ = ["CHECKS", "changed_check"]

CHECKS = MappingProxyType(
    {
        "log.changed": "the trust log holds an earlier accepted verification of the same "
        "endpoint or evidence source with another measurement or key (always a warning; "
        "recorded only when the log is on)",
    }
)


def changed_check(source: str, changes: Sequence[tuple[str, str, str]]) -> list[Check]:
    """A ``log.changed`` warning listing ``(what, before, now)`` changes; nothing if none."""
    if not changes:
        return []
    rec = Recorder("log", None, frozenset())
    rec.warn(
        "log.changed",
        expected=tuple(f"{what} {before}" for what, before, _ in changes),
        actual=tuple(f"{what} {now}" for what, _, now in changes),
        message=f"{source}: "
        + "; ".join(f"{what} changed" for what, _, _ in changes)
        + " since the last accepted verification",
    )
    return rec.checks
