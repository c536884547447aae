"""A tiny TOML writer for tests: policies built from dicts (and Hypothesis-generated ones)."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

_BARE = re.compile(r"[A-Za-z0-9_-]+")


def key(name: str) -> str:
    """A bare key when possible, else a quoted one."""
    return name if _BARE.fullmatch(name) else string(name)


def string(text: str) -> str:
    """A TOML basic string: quotes, backslashes and control characters escaped."""
    out = ['"']
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def value(item: Any) -> str:
    """A TOML value (inline form for tables)."""
    if isinstance(item, bool):
        return "true" if item else "false"
    if isinstance(item, int):
        return str(item)
    if isinstance(item, float):
        if math.isnan(item):
            return "nan"
        if math.isinf(item):
            return "inf" if item > 0 else "-inf"
        return repr(item)
    if isinstance(item, str):
        return string(item)
    if isinstance(item, list | tuple):
        return "[" + ", ".join(value(v) for v in item) + "]"
    if isinstance(item, Mapping):
        return "{ " + ", ".join(f"{key(k)} = {value(v)}" for k, v in item.items()) + " }"
    raise TypeError(f"cannot write {type(item).__name__} as TOML")


def dumps(doc: Mapping[str, Any]) -> str:
    """Top-level scalars, then ``[table]`` for mappings and ``[[table]]`` for lists of them."""
    head: list[str] = []
    tail: list[str] = []
    for name, item in doc.items():
        if isinstance(item, Mapping):
            tail.append(f"\n[{key(name)}]")
            tail.extend(f"{key(k)} = {value(v)}" for k, v in item.items())
        elif isinstance(item, list) and item and all(isinstance(v, Mapping) for v in item):
            for table in item:
                tail.append(f"\n[[{key(name)}]]")
                tail.extend(f"{key(k)} = {value(v)}" for k, v in table.items())
        else:
            head.append(f"{key(name)} = {value(item)}")
    return "\n".join(head + tail) + "\n"
