"""[[nitro]] policy alternatives: the rule model (checks live in policy/checks/nitro.py)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from teeclient.policy._schema import (
    Boolean,
    Custom,
    Duration,
    FieldType,
    HexValues,
    KeyPath,
    Text,
    policy_field,
)
from teeclient.policy.sections import warn_only_field_type

__all__ = ["PCR_INDEXES", "HexBlobs", "NitroRule"]

PCR_INDEXES = tuple(range(32))
_PARTITION = r"[a-z0-9]+(?:-[a-z0-9]+)*"
_REGION = r"[a-z0-9]+(?:-[a-z0-9]+)*"


@dataclass(frozen=True, slots=True)
class HexBlobs(FieldType):
    """Hex of ``min_size``..``max_size`` bytes: one value (exact) or a list (allow-list) → tuple.

    Input is case-insensitive and normalised to lowercase; an empty list is kept (it rejects).
    """

    min_size: int
    max_size: int

    def _one(self, value: object, path: KeyPath) -> str:
        if not isinstance(value, str):
            raise self.wrong_type(path, "hex string", value)
        text = value.strip().lower().removeprefix("0x")
        if (
            not re.fullmatch(r"[0-9a-f]*", text)
            or len(text) % 2
            or not self.min_size <= len(text) // 2 <= self.max_size
        ):
            raise self.bad_value(
                path, f"an even number of hex digits, {self.min_size}..{self.max_size} bytes", value
            )
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
        pattern = f"^(0[xX])?([0-9a-fA-F]{{2}}){{{self.min_size},{self.max_size}}}$"
        item = {"type": "string", "pattern": pattern}
        return {"oneOf": [item, {"type": "array", "items": item}]}


def _names(value: object, path: KeyPath, pattern: str, what: str) -> frozenset[str]:
    one = Text(pattern=pattern, max_length=64)
    if isinstance(value, list):
        return frozenset(one.convert(v, (*path, i)) for i, v in enumerate(value))
    if isinstance(value, str):
        return frozenset({one.convert(value, path)})
    raise FieldType.wrong_type(path, f"{what} or a list of them", value)


def _regex(value: object, path: KeyPath) -> str:
    text = Text(max_length=500).convert(value, path)
    try:
        re.compile(text)
    except re.error as exc:
        raise FieldType.bad_value(path, f"a Python regular expression ({exc})", value) from exc
    return text


def _names_schema(pattern: str) -> dict[str, Any]:
    item = {"type": "string", "pattern": f"^{pattern}$", "maxLength": 64}
    return {"oneOf": [item, {"type": "array", "items": item, "uniqueItems": True}]}


_PARTITIONS = Custom(
    lambda v, p: _names(v, p, _PARTITION, "partition name"), _names_schema(_PARTITION)
)
_REGIONS = Custom(lambda v, p: _names(v, p, _REGION, "region name"), _names_schema(_REGION))
_REGEX = Custom(_regex, {"type": "string", "maxLength": 500, "format": "regex"})

_PCR_MEANING = {
    0: "enclave image file (EIF)",
    1: "Linux kernel and bootstrap",
    2: "application (user space)",
    3: "IAM role of the parent instance",
    4: "parent instance ID",
    8: "EIF signing certificate (signed EIFs)",
}


def _pcr(index: int) -> Any:
    meaning = _PCR_MEANING.get(index, "extended by the enclave application (NSM ExtendPCR)")
    return policy_field(
        HexValues(48), f"PCR{index} ({meaning}): exact value or allow-list", default=None
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class NitroRule:
    """One [[nitro]] alternative: every rule set here must hold (AND)."""

    name: str | None = policy_field(Text(), "label shown in results", default=None)
    partition_root: frozenset[str] = policy_field(
        _PARTITIONS,
        "AWS partition(s) whose pinned root may anchor the document ('aws' is the one shipped)",
        default=frozenset({"aws"}),
    )
    allow_debug: bool = policy_field(
        Boolean(),
        "accept debug-mode enclaves (PCR0, PCR1 and PCR2 all zero: the parent can read the "
        "enclave's console)",
        default=False,
    )
    require_nonce: bool = policy_field(
        Boolean(),
        "the document's nonce must equal the caller's challenge (Python nonce=, CLI --nonce) "
        "or one of `nonce`",
        default=False,
    )
    nonce: tuple[str, ...] | None = policy_field(
        HexBlobs(0, 1024),
        "expected nonce (exact value or allow-list; for recorded documents)",
        default=None,
    )
    max_timestamp_age: timedelta | None = policy_field(
        Duration(),
        "maximum age of the document's timestamp at the verification time, e.g. '5m'",
        default=None,
    )
    clock_skew: timedelta = policy_field(
        Duration(),
        "how far the document's timestamp may be ahead of the verification time",
        default=timedelta(minutes=1),
    )
    user_data: tuple[str, ...] | None = policy_field(
        HexBlobs(0, 1024), "expected user_data (exact value or allow-list)", default=None
    )
    public_key: tuple[str, ...] | None = policy_field(
        HexBlobs(1, 1024), "expected public_key (exact value or allow-list)", default=None
    )
    module_id_regex: str | None = policy_field(
        _REGEX, "module_id must match this regular expression (full match)", default=None
    )
    regions: frozenset[str] | None = policy_field(
        _REGIONS, "accepted AWS regions (from the signing certificate's name)", default=None
    )
    pcr0: tuple[str, ...] | None = _pcr(0)
    pcr1: tuple[str, ...] | None = _pcr(1)
    pcr2: tuple[str, ...] | None = _pcr(2)
    pcr3: tuple[str, ...] | None = _pcr(3)
    pcr4: tuple[str, ...] | None = _pcr(4)
    pcr5: tuple[str, ...] | None = _pcr(5)
    pcr6: tuple[str, ...] | None = _pcr(6)
    pcr7: tuple[str, ...] | None = _pcr(7)
    pcr8: tuple[str, ...] | None = _pcr(8)
    pcr9: tuple[str, ...] | None = _pcr(9)
    pcr10: tuple[str, ...] | None = _pcr(10)
    pcr11: tuple[str, ...] | None = _pcr(11)
    pcr12: tuple[str, ...] | None = _pcr(12)
    pcr13: tuple[str, ...] | None = _pcr(13)
    pcr14: tuple[str, ...] | None = _pcr(14)
    pcr15: tuple[str, ...] | None = _pcr(15)
    pcr16: tuple[str, ...] | None = _pcr(16)
    pcr17: tuple[str, ...] | None = _pcr(17)
    pcr18: tuple[str, ...] | None = _pcr(18)
    pcr19: tuple[str, ...] | None = _pcr(19)
    pcr20: tuple[str, ...] | None = _pcr(20)
    pcr21: tuple[str, ...] | None = _pcr(21)
    pcr22: tuple[str, ...] | None = _pcr(22)
    pcr23: tuple[str, ...] | None = _pcr(23)
    pcr24: tuple[str, ...] | None = _pcr(24)
    pcr25: tuple[str, ...] | None = _pcr(25)
    pcr26: tuple[str, ...] | None = _pcr(26)
    pcr27: tuple[str, ...] | None = _pcr(27)
    pcr28: tuple[str, ...] | None = _pcr(28)
    pcr29: tuple[str, ...] | None = _pcr(29)
    pcr30: tuple[str, ...] | None = _pcr(30)
    pcr31: tuple[str, ...] | None = _pcr(31)
    warn_only: frozenset[str] = policy_field(
        warn_only_field_type("nitro"),
        "check ids that report 'warn' instead of 'fail'",
        default=frozenset(),
    )

    def __post_init__(self) -> None:
        if self.clock_skew > timedelta(hours=1):
            raise ValueError("clock_skew may be at most 1h")

    def pcr(self, index: int) -> tuple[str, ...] | None:
        """The allow-list for PCR ``index`` (None when unconstrained)."""
        value: tuple[str, ...] | None = getattr(self, f"pcr{index}")
        return value
