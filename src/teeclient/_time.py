"""The library's only wall-clock read, and helpers for timezone-aware UTC times."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol

__all__ = ["Clock", "parse_time", "require_aware", "utc_now"]


class Clock(Protocol):
    """A source of the current time (injected into long-lived objects)."""

    def __call__(self) -> datetime: ...


def utc_now() -> datetime:
    """Return the current time, timezone-aware UTC (never called under platforms/ or policy/)."""
    return datetime.now(UTC)


def require_aware(now: datetime, *, name: str = "now") -> datetime:
    """Return ``now`` in UTC; a naive datetime is a programming error.

    Raises:
        ValueError: ``now`` has no timezone.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware (UTC), got naive {now!r}")
    return now.astimezone(UTC)


def parse_time(text: str) -> datetime:
    """Parse an RFC 3339 / ISO 8601 time; a time without offset is rejected, ``Z`` is UTC.

    Raises:
        ValueError: not a time, or no timezone given.
    """
    value = datetime.fromisoformat(text.strip())
    if value.tzinfo is None:
        raise ValueError(f"time {text!r} has no timezone; add 'Z' or an offset")
    return value.astimezone(UTC)


def iso(value: datetime) -> str:
    """Render a UTC time as RFC 3339 with a ``Z`` suffix and no fractional seconds unless needed."""
    value = value.astimezone(UTC)
    text = value.isoformat()
    return text.replace("+00:00", "Z")
