"""Declarative policy fields: one description drives TOML conversion, errors and JSON Schema.

A policy model is a frozen dataclass whose fields carry ``policy_field(FieldType, doc)``
metadata. ``load_table`` converts a TOML table into that dataclass, rejecting unknown keys
(with a suggestion) and wrong types; ``json_schema`` describes the same model.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

from teeclient.errors import PolicyTypeError, PolicyUnknownKeyError, PolicyValueError

__all__ = [
    "U64",
    "Boolean",
    "Duration",
    "FieldType",
    "FlagSet",
    "HexValues",
    "IntChoices",
    "Integer",
    "KeyPath",
    "Table",
    "TableArray",
    "Text",
    "Timestamp",
    "Version",
    "json_schema",
    "load_table",
    "policy_field",
]

KeyPath = tuple[str | int, ...]
T = TypeVar("T")
_META = "teeclient.policy"


def render_path(path: KeyPath) -> str:
    """``("sev_snp", 0, "measurement")`` → ``sev_snp[0].measurement``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out or "<top level>"


def _type_name(value: object) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "table"
    if isinstance(value, datetime | date):
        return "date-time"
    return type(value).__name__


class FieldType(ABC):
    """How one policy value is converted from TOML and described in JSON Schema."""

    __slots__ = ()

    @abstractmethod
    def convert(self, value: object, path: KeyPath) -> Any:
        """Convert a TOML value, raising PolicyTypeError / PolicyValueError."""

    @abstractmethod
    def schema(self) -> dict[str, Any]:
        """The JSON Schema of accepted values."""

    @staticmethod
    def wrong_type(path: KeyPath, expected: str, value: object) -> PolicyTypeError:
        """A PolicyTypeError naming the key, the expected type and the found type."""
        return PolicyTypeError(
            f"{render_path(path)} has the wrong type",
            key_path=render_path(path),
            expected=expected,
            actual=f"{_type_name(value)} {value!r}"[:120],
        )

    @staticmethod
    def bad_value(path: KeyPath, expected: str, value: object) -> PolicyValueError:
        """A PolicyValueError naming the key, what was expected and what was found."""
        return PolicyValueError(
            f"{render_path(path)} has an invalid value",
            key_path=render_path(path),
            expected=expected,
            actual=repr(value)[:120],
        )


class Boolean(FieldType):
    """true or false."""

    __slots__ = ()

    def convert(self, value: object, path: KeyPath) -> bool:
        if not isinstance(value, bool):
            raise self.wrong_type(path, "boolean", value)
        return value

    def schema(self) -> dict[str, Any]:
        return {"type": "boolean"}


class Integer(FieldType):
    """An integer in [minimum, maximum]."""

    __slots__ = ("maximum", "minimum")

    def __init__(self, minimum: int = 0, maximum: int = 2**32 - 1) -> None:
        self.minimum = minimum
        self.maximum = maximum

    def convert(self, value: object, path: KeyPath) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.wrong_type(path, "integer", value)
        if not self.minimum <= value <= self.maximum:
            raise self.bad_value(path, f"{self.minimum}..{self.maximum}", value)
        return value

    def schema(self) -> dict[str, Any]:
        return {"type": "integer", "minimum": self.minimum, "maximum": self.maximum}


class U64(FieldType):
    """A 64-bit unsigned value: an integer or a ``0x…`` hex string."""

    __slots__ = ()

    def convert(self, value: object, path: KeyPath) -> int:
        if isinstance(value, str) and re.fullmatch(r"0[xX][0-9a-fA-F]{1,16}", value):
            return int(value, 16)
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise self.wrong_type(path, "integer or '0x…' string", value)
        if isinstance(value, str):
            raise self.bad_value(path, "'0x' followed by 1–16 hex digits", value)
        if not 0 <= value < 2**64:
            raise self.bad_value(path, "0..2^64-1", value)
        return value

    def schema(self) -> dict[str, Any]:
        return {
            "oneOf": [
                {"type": "integer", "minimum": 0, "maximum": 2**64 - 1},
                {"type": "string", "pattern": "^0[xX][0-9a-fA-F]{1,16}$"},
            ]
        }


class IntChoices(FieldType):
    """An integer or a list of integers (allow-list) → sorted tuple."""

    __slots__ = ("maximum", "minimum")

    def __init__(self, minimum: int = 0, maximum: int = 2**32 - 1) -> None:
        self.minimum = minimum
        self.maximum = maximum

    def convert(self, value: object, path: KeyPath) -> tuple[int, ...]:
        one = Integer(self.minimum, self.maximum)
        if isinstance(value, list):
            return tuple(sorted({one.convert(v, (*path, i)) for i, v in enumerate(value)}))
        return (one.convert(value, path),)

    def schema(self) -> dict[str, Any]:
        item = Integer(self.minimum, self.maximum).schema()
        return {"oneOf": [item, {"type": "array", "items": item, "uniqueItems": True}]}


class Text(FieldType):
    """A string, optionally one of ``choices`` or matching ``pattern``."""

    __slots__ = ("choices", "max_length", "pattern")

    def __init__(
        self, choices: tuple[str, ...] = (), pattern: str | None = None, max_length: int = 200
    ) -> None:
        self.choices = choices
        self.pattern = pattern
        self.max_length = max_length

    def convert(self, value: object, path: KeyPath) -> str:
        if not isinstance(value, str):
            raise self.wrong_type(path, "string", value)
        if self.choices and value not in self.choices:
            raise self.bad_value(path, "one of " + ", ".join(self.choices), value)
        if self.pattern is not None and not re.fullmatch(self.pattern, value):
            raise self.bad_value(path, f"a string matching {self.pattern}", value)
        if len(value) > self.max_length:
            raise self.bad_value(path, f"at most {self.max_length} characters", value)
        return value

    def schema(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "string", "maxLength": self.max_length}
        if self.choices:
            out["enum"] = list(self.choices)
        if self.pattern is not None:
            out["pattern"] = f"^{self.pattern}$"
        return out


class HexValues(FieldType):
    """Hex of exactly ``size`` bytes: one value (exact) or a list (allow-list) → tuple.

    Input is case-insensitive and normalised to lowercase. An empty list is kept: the check
    that reads it then rejects everything (an empty allow-list never accepts).
    """

    __slots__ = ("size",)

    def __init__(self, size: int) -> None:
        self.size = size

    def _one(self, value: object, path: KeyPath) -> str:
        if not isinstance(value, str):
            raise self.wrong_type(path, f"hex string of {self.size} bytes", value)
        text = value.strip().lower().removeprefix("0x")
        if not re.fullmatch(r"[0-9a-f]*", text) or len(text) != 2 * self.size:
            raise self.bad_value(path, f"{2 * self.size} hex digits ({self.size} bytes)", value)
        return text

    def convert(self, value: object, path: KeyPath) -> tuple[str, ...]:
        if isinstance(value, list):
            out: list[str] = []
            for i, item in enumerate(value):
                text = self._one(item, (*path, i))
                if text not in out:
                    out.append(text)
            return tuple(out)
        return (self._one(value, path),)

    def schema(self) -> dict[str, Any]:
        item = {"type": "string", "pattern": f"^(0[xX])?[0-9a-fA-F]{{{2 * self.size}}}$"}
        return {"oneOf": [item, {"type": "array", "items": item}]}


class FlagSet(FieldType):
    """A list of names, each one of ``choices`` → frozenset."""

    __slots__ = ("choices",)

    def __init__(self, choices: tuple[str, ...]) -> None:
        self.choices = choices

    def convert(self, value: object, path: KeyPath) -> frozenset[str]:
        if not isinstance(value, list):
            raise self.wrong_type(path, "array of strings", value)
        out = set()
        for i, item in enumerate(value):
            if not isinstance(item, str):
                raise self.wrong_type((*path, i), "string", item)
            if item not in self.choices:
                raise self.bad_value((*path, i), "one of " + ", ".join(self.choices), item)
            out.add(item)
        return frozenset(out)

    def schema(self) -> dict[str, Any]:
        return {"type": "array", "items": {"enum": list(self.choices)}, "uniqueItems": True}


class Version(FieldType):
    """A dotted numeric version with ``min_parts``..``max_parts`` parts → tuple of ints."""

    __slots__ = ("max_parts", "min_parts")

    def __init__(self, min_parts: int = 2, max_parts: int = 3) -> None:
        self.min_parts = min_parts
        self.max_parts = max_parts

    def convert(self, value: object, path: KeyPath) -> tuple[int, ...]:
        if not isinstance(value, str):
            raise self.wrong_type(path, "version string such as '1.55.21'", value)
        parts = value.split(".")
        if not self.min_parts <= len(parts) <= self.max_parts or not all(
            p.isdigit() and len(p) <= 9 for p in parts
        ):
            raise self.bad_value(
                path, f"{self.min_parts} to {self.max_parts} dot-separated numbers", value
            )
        return tuple(int(p) for p in parts)

    def schema(self) -> dict[str, Any]:
        n = self.max_parts - 1
        m = self.min_parts - 1
        return {"type": "string", "pattern": rf"^[0-9]+(\.[0-9]+){{{m},{n}}}$"}


_DURATION = re.compile(r"(\d+)([smhdw])")
_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> timedelta | None:
    """``"30d"``, ``"5m"``, ``"1h30m"`` → timedelta; None if malformed."""
    if not text or not re.fullmatch(r"(\d{1,12}[smhdw])+", text):
        return None
    seconds = sum(int(n) * _DURATION_UNITS[u] for n, u in _DURATION.findall(text))
    if seconds > 100 * 365 * 86400:
        return None
    return timedelta(seconds=seconds)


class Duration(FieldType):
    """A duration such as ``"30d"``, ``"12h"``, ``"5m"``, ``"1h30m"`` → timedelta."""

    __slots__ = ()

    def convert(self, value: object, path: KeyPath) -> timedelta:
        if not isinstance(value, str):
            raise self.wrong_type(path, "duration string such as '30d' or '5m'", value)
        parsed = parse_duration(value)
        if parsed is None:
            raise self.bad_value(path, "a duration like '30d', '12h', '5m' or '1h30m'", value)
        return parsed

    def schema(self) -> dict[str, Any]:
        return {"type": "string", "pattern": "^([0-9]{1,12}[smhdw])+$"}


class Timestamp(FieldType):
    """An RFC 3339 date-time with offset (TOML datetime or string) → aware UTC datetime."""

    __slots__ = ()

    def convert(self, value: object, path: KeyPath) -> datetime:
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value)
            except ValueError as exc:
                raise self.bad_value(path, "RFC 3339 date-time", value) from exc
        if not isinstance(value, datetime):
            raise self.wrong_type(path, "date-time with offset", value)
        if value.tzinfo is None:
            raise self.bad_value(path, "a date-time with a timezone (add Z)", value)
        return value.astimezone(UTC)

    def schema(self) -> dict[str, Any]:
        return {"type": "string", "format": "date-time"}


class Table(FieldType):
    """A TOML table converted into the policy dataclass ``cls``."""

    __slots__ = ("cls",)

    def __init__(self, cls: type[Any]) -> None:
        self.cls = cls

    def convert(self, value: object, path: KeyPath) -> Any:
        if not isinstance(value, dict):
            raise self.wrong_type(path, "table", value)
        return load_table(self.cls, value, path)

    def schema(self) -> dict[str, Any]:
        return json_schema(self.cls)


class TableArray(FieldType):
    """An array of tables (``[[section]]``) → tuple of ``cls``."""

    __slots__ = ("cls", "max_items")

    def __init__(self, cls: type[Any], max_items: int = 256) -> None:
        self.cls = cls
        self.max_items = max_items

    def convert(self, value: object, path: KeyPath) -> tuple[Any, ...]:
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise self.wrong_type(path, f"array of tables ([[{render_path(path)}]])", value)
        if len(value) > self.max_items:
            raise self.bad_value(path, f"at most {self.max_items} alternatives", len(value))
        return tuple(load_table(self.cls, v, (*path, i)) for i, v in enumerate(value))

    def schema(self) -> dict[str, Any]:
        return {"type": "array", "items": json_schema(self.cls), "maxItems": self.max_items}


class Custom(FieldType):
    """A field with its own converter and schema (for one-off value forms)."""

    __slots__ = ("converter", "json")

    def __init__(
        self, converter: Callable[[object, KeyPath], Any], json: Mapping[str, Any]
    ) -> None:
        self.converter = converter
        self.json = json

    def convert(self, value: object, path: KeyPath) -> Any:
        return self.converter(value, path)

    def schema(self) -> dict[str, Any]:
        return dict(self.json)


class _Meta:
    __slots__ = ("doc", "required", "type")

    def __init__(self, ftype: FieldType, doc: str, required: bool) -> None:
        self.type = ftype
        self.doc = doc
        self.required = required


def policy_field(
    ftype: FieldType,
    doc: str,
    *,
    default: Any = dataclasses.MISSING,
    factory: Callable[[], Any] | None = None,
) -> Any:
    """A dataclass field described for TOML loading and JSON Schema."""
    meta = {_META: _Meta(ftype, doc, default is dataclasses.MISSING and factory is None)}
    if factory is not None:
        return dataclasses.field(default_factory=factory, metadata=meta)
    if default is dataclasses.MISSING:
        return dataclasses.field(metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def _fields(cls: type[Any]) -> dict[str, tuple[dataclasses.Field[Any], _Meta]]:
    return {f.name: (f, f.metadata[_META]) for f in dataclasses.fields(cls) if _META in f.metadata}


def load_table(cls: type[T], table: Mapping[str, object], path: KeyPath = ()) -> T:
    """Convert a TOML table into ``cls``.

    Raises:
        PolicyUnknownKeyError: a key ``cls`` does not define (with the closest known key).
        PolicyTypeError, PolicyValueError: a value of the wrong type or range.
        PolicyValueError: a required key is missing.
    """
    known = _fields(cls)
    for key in table:
        if key not in known:
            close = difflib.get_close_matches(key, list(known), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise PolicyUnknownKeyError(
                f"unknown key {key!r} in {render_path(path)}{hint}",
                key_path=render_path((*path, key)),
                expected="one of " + ", ".join(sorted(known)),
                actual=key,
            )
    kwargs: dict[str, Any] = {}
    for name, (_, meta) in known.items():
        if name in table:
            kwargs[name] = meta.type.convert(table[name], (*path, name))
        elif meta.required:
            raise PolicyValueError(
                f"missing required key {name!r} in {render_path(path)}",
                key_path=render_path((*path, name)),
                expected=meta.doc,
                actual="absent",
            )
    try:
        return cls(**kwargs)
    except ValueError as exc:
        raise PolicyValueError(f"{render_path(path)}: {exc}", key_path=render_path(path)) from exc


def json_schema(cls: type[Any]) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12 subset) of a policy dataclass."""
    properties: dict[str, Any] = {}
    required: list[str] = []
    for name, (f, meta) in _fields(cls).items():
        prop = meta.type.schema()
        prop["description"] = meta.doc
        default = f.default
        if default is not dataclasses.MISSING and default is not None:
            prop["default"] = _jsonable(default)
        elif f.default_factory is not dataclasses.MISSING:
            value = f.default_factory()
            if not dataclasses.is_dataclass(value):
                prop["default"] = _jsonable(value)
        properties[name] = prop
        if meta.required:
            required.append(name)
    out: dict[str, Any] = {
        "type": "object",
        "additionalProperties": False,
        "properties": properties,
    }
    if cls.__doc__:
        out["description"] = cls.__doc__.strip().splitlines()[0]
    if required:
        out["required"] = required
    return out


def _jsonable(value: Any) -> Any:
    if isinstance(value, frozenset | set):
        return sorted(value)
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, timedelta):
        return f"{int(value.total_seconds())}s"
    if dataclasses.is_dataclass(value):  # settings such as RevocationSetting render as text
        return str(value)
    return value
