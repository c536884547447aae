"""The local trust log: one JSON line per accepted verification, and change detection.

Every accepted verification (``teeclient verify``) appends a ``teeclient.trust-log/v1`` entry:
where the evidence came from (endpoint or file), the platform, the identifying measurements
of each component, fingerprints of enclave keys the evidence binds (when any), the SHA-256
of the policy that accepted it, and the times. ``changes`` compares a new entry with the
latest earlier entry of the same source, so the CLI can warn (check ``log.changed``) when an
endpoint's measurement or key differs from what was accepted before.

The file location is injected (``TrustLog(path)``); ``default_log_path`` and ``log_settings``
read the environment and are called only by the CLI.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from teeclient._time import iso, parse_time
from teeclient.errors import TrustLogError
from teeclient.policy.result import Appraisal, Claims

__all__ = [
    "ENV_LOG",
    "ENV_NO_LOG",
    "LOG_SCHEMA",
    "LogEntry",
    "TrustLog",
    "default_log_path",
    "entry_for",
    "identity_of",
    "log_settings",
]

LOG_SCHEMA = "teeclient.trust-log/v1"
ENV_LOG = "TEECLIENT_TRUST_LOG"
ENV_NO_LOG = "TEECLIENT_NO_TRUST_LOG"
MAX_LINE = 1 << 20
MAX_LOG_BYTES = 256 << 20


def default_log_path(
    *, platform: str | None = None, environ: Mapping[str, str] | None = None
) -> Path:
    """The trust log file under the user data directory of this operating system."""
    env = os.environ if environ is None else environ
    system = platform or sys.platform
    home = Path(env.get("HOME") or Path.home())
    if system.startswith("win"):
        base = Path(env.get("APPDATA") or home / "AppData" / "Roaming")
        return base / "teeclient" / "trust-log.jsonl"
    if system == "darwin":
        return home / "Library" / "Application Support" / "teeclient" / "trust-log.jsonl"
    xdg = env.get("XDG_DATA_HOME")
    return (Path(xdg) if xdg else home / ".local" / "share") / "teeclient" / "trust-log.jsonl"


def log_settings(environ: Mapping[str, str] | None = None) -> tuple[bool, Path]:
    """(enabled by default?, path) from ``TEECLIENT_TRUST_LOG`` / ``TEECLIENT_NO_TRUST_LOG``."""
    env = os.environ if environ is None else environ
    enabled = env.get(ENV_NO_LOG, "").lower() not in ("1", "true", "yes")
    value = env.get(ENV_LOG)
    path = Path(value) if value else default_log_path(environ=env)
    return enabled, path


def _digest(text: str) -> str:
    return hashlib.sha256(bytes.fromhex(text)).hexdigest()


def identity_of(claims: Claims) -> tuple[dict[str, str], dict[str, str]]:
    """(measurements, key fingerprints) that identify one verified component."""
    kind = claims.kind
    m: dict[str, str] = {}
    keys: dict[str, str] = {}
    if kind == "sev-snp":
        for name in ("measurement", "host_data", "image_id", "family_id"):
            m[name] = str(getattr(claims, name))
    elif kind == "tdx":
        for name in ("mr_seam", "mr_td", "rtmr0", "rtmr1", "rtmr2", "rtmr3"):
            m[name] = str(getattr(claims, name))
    elif kind == "nitro":
        from teeclient.platforms.nitro.claims import NitroClaims  # lazy: start-up time

        if isinstance(claims, NitroClaims):
            for index in (0, 1, 2, 3, 4, 8):
                value = claims.pcr(index)
                if value is not None:
                    m[f"pcr{index}"] = str(value)
        public_key = getattr(claims, "public_key", None)
        if public_key:
            keys["public_key_sha256"] = _digest(str(public_key))
    elif kind == "nvidia-gpu":
        m["driver_version"] = str(getattr(claims, "driver_version", None))
        m["vbios_version"] = str(getattr(claims, "vbios_version", None))
        m["hwmodel"] = str(getattr(claims, "hwmodel", None))
    elif kind == "nvidia-switch":
        m["bios_version"] = str(getattr(claims, "vbios_version", None))
        m["hwmodel"] = str(getattr(claims, "hwmodel", None))
    return m, keys


@dataclass(frozen=True, slots=True, kw_only=True)
class LogEntry:
    """One accepted verification."""

    source: str
    platform: str
    at: datetime
    logged_at: datetime
    policy_name: str | None
    policy_sha256: str | None
    evidence_sha256: str | None
    components: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    keys: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON form (one line of the log)."""
        return {
            "schema": LOG_SCHEMA,
            "source": self.source,
            "platform": self.platform,
            "at": iso(self.at),
            "logged_at": iso(self.logged_at),
            "policy": {"name": self.policy_name, "sha256": self.policy_sha256},
            "evidence_sha256": self.evidence_sha256,
            "measurements": {k: dict(v) for k, v in self.components.items()},
            "keys": {k: dict(v) for k, v in self.keys.items() if v},
        }

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> LogEntry:
        """Parse one line.

        Raises:
            ValueError: not a trust-log entry (callers report and skip such lines).
        """
        if doc.get("schema") != LOG_SCHEMA:
            raise ValueError("not a teeclient.trust-log/v1 entry")
        policy = doc.get("policy") or {}
        measurements = doc.get("measurements") or {}
        keys = doc.get("keys") or {}
        if not isinstance(policy, dict) or not isinstance(measurements, dict):
            raise ValueError("malformed entry")
        if not isinstance(keys, dict):
            raise ValueError("malformed entry")
        return cls(
            source=str(doc["source"]),
            platform=str(doc["platform"]),
            at=parse_time(str(doc["at"])),
            logged_at=parse_time(str(doc["logged_at"])),
            policy_name=policy.get("name"),
            policy_sha256=policy.get("sha256"),
            evidence_sha256=doc.get("evidence_sha256"),
            components={
                str(k): {str(a): str(b) for a, b in v.items()} for k, v in measurements.items()
            },
            keys={str(k): {str(a): str(b) for a, b in v.items()} for k, v in keys.items()},
        )

    def changes_since(self, earlier: LogEntry) -> list[tuple[str, str, str]]:
        """``(what, before, now)`` for every measurement or key that differs from ``earlier``."""
        out: list[tuple[str, str, str]] = []
        for kind, table in (("", self.components), ("key ", self.keys)):
            before_all = earlier.components if kind == "" else earlier.keys
            for label in sorted(set(table) | set(before_all)):
                now_values = table.get(label, {})
                old_values = before_all.get(label, {})
                for name in sorted(set(now_values) | set(old_values)):
                    new = now_values.get(name, "absent")
                    old = old_values.get(name, "absent")
                    if new != old:
                        out.append((f"{label} {kind}{name}".strip(), old, new))
        return out


def entry_for(
    appraisal: Appraisal,
    *,
    source: str,
    platform: str,
    evidence_sha256: str | None,
    logged_at: datetime,
) -> LogEntry:
    """The log entry describing an appraisal (the caller logs only accepted ones)."""
    components: dict[str, dict[str, str]] = {}
    keys: dict[str, dict[str, str]] = {}
    for comp in appraisal.components:
        measurements, fingerprints = identity_of(comp.claims)
        if measurements:
            components[comp.label] = measurements
        if fingerprints:
            keys[comp.label] = fingerprints
    return LogEntry(
        source=source,
        platform=platform,
        at=appraisal.at,
        logged_at=logged_at,
        policy_name=appraisal.policy.name,
        policy_sha256=appraisal.policy.sha256,
        evidence_sha256=evidence_sha256,
        components=components,
        keys=keys,
    )


@dataclass(frozen=True, slots=True)
class TrustLog:
    """A JSON-lines trust log at ``path`` (created on first append)."""

    path: Path

    def append(self, entry: LogEntry) -> None:
        """Append one entry (a single write of one line).

        Raises:
            TrustLogError: the file cannot be written.
        """
        line = json.dumps(entry.to_dict(), sort_keys=True, separators=(",", ":")) + "\n"
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(line)
        except OSError as exc:
            raise TrustLogError(
                f"cannot write the trust log: {exc.strerror}", field=str(self.path)
            ) from exc

    def read(self) -> tuple[list[LogEntry], int]:
        """(entries in file order, number of unreadable lines skipped); empty if no file.

        Raises:
            TrustLogError: the file exists but cannot be read, or is too large.
        """
        entries: list[LogEntry] = []
        bad = 0
        for line in self._lines():
            try:
                doc = json.loads(line)
                if not isinstance(doc, dict):
                    raise ValueError("not an object")
                entries.append(LogEntry.from_dict(doc))
            except (ValueError, KeyError, TypeError):
                bad += 1
        return entries, bad

    def _lines(self) -> Iterator[str]:
        try:
            if not self.path.exists():
                return
            if self.path.stat().st_size > MAX_LOG_BYTES:
                raise TrustLogError(
                    "the trust log is too large to read",
                    field=str(self.path),
                    expected=f"<= {MAX_LOG_BYTES} bytes",
                )
            with self.path.open(encoding="utf-8", errors="replace") as handle:
                for line in handle:
                    if line.strip() and len(line) <= MAX_LINE:
                        yield line
        except OSError as exc:
            raise TrustLogError(
                f"cannot read the trust log: {exc.strerror}", field=str(self.path)
            ) from exc

    def latest(self, source: str) -> LogEntry | None:
        """The last entry for ``source``, if any."""
        entries, _ = self.read()
        found = [e for e in entries if e.source == source]
        return found[-1] if found else None

    def changes(self, entry: LogEntry) -> list[tuple[str, str, str]]:
        """What differs between ``entry`` and the latest logged entry of its source."""
        earlier = self.latest(entry.source)
        return [] if earlier is None else entry.changes_since(earlier)


def sources(entries: Sequence[LogEntry]) -> list[str]:
    """Distinct sources in first-seen order."""
    return list(dict.fromkeys(e.source for e in entries))
