"""Process exit codes: the only place they are defined (docs/cli.md lists them)."""

from __future__ import annotations

from teeclient.errors import (
    AttestationRejected,
    CollateralError,
    ConfigError,
    EvidenceError,
    TeeclientError,
    TransportError,
    UsageError,
)

__all__ = [
    "ACCEPTED",
    "COLLATERAL",
    "INVALID",
    "REJECTED",
    "USAGE",
    "exit_code_for",
    "exit_code_for_class",
]

ACCEPTED = 0  # evidence verified and the policy accepted it
REJECTED = 1  # evidence verified, the policy rejected it
USAGE = 2  # usage or configuration error (arguments, policy file, unreadable input)
INVALID = 3  # evidence invalid: parse, signature, chain, endorsement, binding
COLLATERAL = 4  # collateral or network unavailable, stale, or not authentic

_BY_CLASS: tuple[tuple[type[TeeclientError], int], ...] = (
    (AttestationRejected, REJECTED),
    (UsageError, USAGE),
    (ConfigError, USAGE),
    (EvidenceError, INVALID),
    (CollateralError, COLLATERAL),
    (TransportError, COLLATERAL),
)


def exit_code_for(error: TeeclientError) -> int:
    """The exit code for an error: by its first-level class."""
    return exit_code_for_class(type(error))


def exit_code_for_class(error_class: type[TeeclientError]) -> int:
    """The exit code for an error class (each class maps to exactly one code)."""
    for cls, code in _BY_CLASS:
        if issubclass(error_class, cls):
            return code
    return USAGE
