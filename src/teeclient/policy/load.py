"""TOML policy files → Policy; errors name the file, the line and the key path."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import re
import tomllib
from pathlib import Path

from teeclient.errors import InputError, PolicyError, PolicySyntaxError
from teeclient.policy._schema import KeyPath, load_table
from teeclient.policy.model import Policy

__all__ = ["BASELINE_NAME", "baseline_text", "load_baseline", "load_policy", "parse_policy"]

BASELINE_NAME = "baseline"
MAX_POLICY_BYTES = 1024 * 1024
_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r'^\s*([A-Za-z0-9_\-]+(?:\s*\.\s*[A-Za-z0-9_\-]+)*|"[^"]*")\s*=')


def _split_dotted(text: str) -> list[str]:
    return [part.strip().strip('"') for part in text.split(".")]


def locate(text: str, path: str | None) -> int | None:
    """Best-effort 1-based line of a rendered key path (``sev_snp[1].guest_policy.allow``)."""
    if not path:
        return None
    target = _parse_rendered(path)
    counters: dict[tuple[str, ...], int] = {}
    current: KeyPath = ()
    lines: dict[KeyPath, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header:
            names = _split_dotted(header.group(2))
            resolved: list[str | int] = []
            for i, name in enumerate(names):
                resolved.append(name)
                prefix = tuple(names[: i + 1])
                if prefix in counters and not (header.group(1) == "[[" and i == len(names) - 1):
                    resolved.append(counters[prefix])
            if header.group(1) == "[[":
                key = tuple(names)
                counters[key] = counters.get(key, -1) + 1
                lines.setdefault(tuple(resolved), number)  # the array itself: [[name]]
                resolved.append(counters[key])
            current = tuple(resolved)
            lines.setdefault(current, number)
            continue
        key_match = _KEY.match(line)
        if key_match:
            full = (*current, *_split_dotted(key_match.group(1)))
            lines.setdefault(full, number)
    for cut in range(len(target), 0, -1):
        if target[:cut] in lines:
            return lines[target[:cut]]
    return None


def _parse_rendered(path: str) -> KeyPath:
    out: list[str | int] = []
    for token in re.findall(r"[^.\[\]]+|\[\d+\]", path):
        out.append(int(token[1:-1]) if token.startswith("[") else token)
    return tuple(out)


def parse_policy(text: str, *, source: str = "<memory>") -> Policy:
    """Parse policy TOML text.

    Raises:
        PolicySyntaxError: not valid TOML.
        PolicyError: unknown keys, wrong types or invalid values (with line numbers).
        InputError: larger than ``MAX_POLICY_BYTES``.
    """
    if len(text) > MAX_POLICY_BYTES:
        raise InputError("policy too large", field=source, expected=f"<= {MAX_POLICY_BYTES}")
    try:
        data = tomllib.loads(text)
    except (ValueError, RecursionError) as exc:
        # TOMLDecodeError is a ValueError; tomllib also lets plain ValueError (an integer of
        # more than 4300 digits) and RecursionError (arrays nested thousands deep) escape.
        line_match = re.search(r"line (\d+)", str(exc))
        raise PolicySyntaxError(
            f"invalid TOML: {exc}",
            file=source,
            line=int(line_match.group(1)) if line_match else None,
        ) from exc
    try:
        policy = load_table(Policy, data)
    except PolicyError as exc:
        if exc.file is None:
            exc.file = source
        if exc.line is None:
            exc.line = locate(text, exc.key_path)
        exc.args = (exc._render(),)
        raise
    return dataclasses.replace(
        policy, source=source, sha256=hashlib.sha256(text.encode()).hexdigest()
    )


def load_policy(path: str | Path) -> Policy:
    """Read and parse a policy file.

    Raises:
        InputError: the file cannot be read, is too large or is not UTF-8.
        PolicyError: the content is invalid (see ``parse_policy``).
    """
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read policy file: {exc.strerror}", field=str(p)) from exc
    if len(raw) > MAX_POLICY_BYTES:
        raise InputError("policy file too large", field=str(p), expected=f"<= {MAX_POLICY_BYTES}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PolicySyntaxError("policy file is not UTF-8", file=str(p)) from exc
    return parse_policy(text, source=str(p))


def baseline_text() -> str:
    """The text of the shipped baseline policy."""
    from teeclient._data import package_data

    return package_data("teeclient.policy", __file__, "data", "baseline.toml").decode("utf-8")


@functools.cache
def load_baseline() -> Policy:
    """The shipped baseline policy (applied when the user gives none); parsed once, immutable."""
    return parse_policy(baseline_text(), source="builtin:baseline")
