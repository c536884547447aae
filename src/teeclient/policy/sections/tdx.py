"""[[tdx]] policy alternatives: the rule model (checks live in policy/checks/tdx.py)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from teeclient.errors import PolicyTypeError, PolicyValueError
from teeclient.platforms.tdx.status import TcbStatus
from teeclient.policy._schema import (
    Boolean,
    Custom,
    Duration,
    FlagSet,
    HexValues,
    Integer,
    KeyPath,
    Text,
    Timestamp,
    json_schema,
    load_table,
    policy_field,
    render_path,
)
from teeclient.policy.sections import warn_only_field_type

__all__ = [
    "ACCEPTABLE_TCB_STATUSES",
    "OPTIONAL_TD_ATTRIBUTES",
    "TdAttributesRule",
    "TdxRule",
]

#: Statuses a policy may accept. ``Revoked`` is never acceptable (specs/tdx.md §5.8).
ACCEPTABLE_TCB_STATUSES = tuple(s.value for s in TcbStatus if s is not TcbStatus.REVOKED)
#: TD attribute bits a policy may allow or require (DEBUG and SEPT_VE_DISABLE have own keys).
OPTIONAL_TD_ATTRIBUTES = ("pks", "kl", "perfmon")
_ZERO48 = "00" * 48


@dataclass(frozen=True, slots=True, kw_only=True)
class TdAttributesRule:
    """TDATTRIBUTES: an exact value, or which bits may or must be set."""

    exact: str | None = field(default=None)
    allow_debug: bool = policy_field(
        Boolean(),
        "accept a debuggable TD (DEBUG, bit 0: the host can read and write TD state)",
        default=False,
    )
    require_sept_ve_disable: bool = policy_field(
        Boolean(), "require SEPT_VE_DISABLE (bit 28), as dcap-qvl and Tinfoil do", default=True
    )
    allowed_bits: frozenset[str] = policy_field(
        FlagSet(OPTIONAL_TD_ATTRIBUTES),
        "optional features that may be set: pks (bit 30), kl (31), perfmon (63)",
        default=frozenset(OPTIONAL_TD_ATTRIBUTES),
    )
    required_bits: frozenset[str] = policy_field(
        FlagSet(OPTIONAL_TD_ATTRIBUTES), "optional features that must be set", default=frozenset()
    )
    reserved_bits: str = policy_field(
        Text(("fail", "warn", "ignore")),
        "what a set bit outside the TD 1.0 layout does (TUD 1–7, SEC 8–27 and 29, "
        "OTHER 32–62): fail | warn | ignore",
        default="fail",
    )

    def __post_init__(self) -> None:
        if self.required_bits - self.allowed_bits:
            raise ValueError("td_attributes.required_bits must also be allowed_bits")


def _td_attributes(value: object, path: KeyPath) -> TdAttributesRule:
    if isinstance(value, str):
        return TdAttributesRule(exact=HexValues(8).convert(value, path)[0])
    if isinstance(value, dict):
        return load_table(TdAttributesRule, value, path)
    raise PolicyTypeError(
        f"{render_path(path)} has the wrong type",
        key_path=render_path(path),
        expected="16 hex digits (the 8 TDATTRIBUTES bytes as in the quote) or a table",
        actual=repr(value)[:80],
    )


_TD_ATTRIBUTES = Custom(
    _td_attributes,
    {
        "oneOf": [
            {"type": "string", "pattern": "^(0[xX])?[0-9a-fA-F]{16}$"},
            json_schema(TdAttributesRule),
        ]
    },
)


def _hex_or_any(size: int) -> Custom:
    def convert(value: object, path: KeyPath) -> tuple[str, ...] | None:
        if value == "any":
            return None
        return HexValues(size).convert(value, path)

    schema: dict[str, Any] = {
        "oneOf": [
            {"const": "any"},
            HexValues(size).schema()["oneOf"][0],
            HexValues(size).schema()["oneOf"][1],
        ]
    }
    return Custom(convert, schema)


def _single_hex(size: int) -> Custom:
    def convert(value: object, path: KeyPath) -> str:
        if not isinstance(value, str):
            raise PolicyTypeError(
                f"{render_path(path)} has the wrong type",
                key_path=render_path(path),
                expected=f"hex string of {size} bytes",
                actual=repr(value)[:80],
            )
        return HexValues(size).convert(value, path)[0]

    return Custom(convert, {"type": "string", "pattern": f"^(0[xX])?[0-9a-fA-F]{{{2 * size}}}$"})


_ADVISORY = re.compile(r"INTEL-SA-[0-9]{5}")


def _advisories(value: object, path: KeyPath) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise PolicyTypeError(
            f"{render_path(path)} has the wrong type",
            key_path=render_path(path),
            expected="array of advisory ids",
            actual=repr(value)[:80],
        )
    out: list[str] = []
    for i, item in enumerate(value):
        if not isinstance(item, str) or not _ADVISORY.fullmatch(item.upper()):
            raise PolicyValueError(
                f"{render_path((*path, i))} is not an Intel advisory id",
                key_path=render_path((*path, i)),
                expected="INTEL-SA-NNNNN",
                actual=repr(item)[:80],
            )
        if item.upper() not in out:
            out.append(item.upper())
    return tuple(sorted(out))


@dataclass(frozen=True, slots=True, kw_only=True)
class TdxRule:
    """One [[tdx]] alternative: every rule set here must hold (AND)."""

    name: str | None = policy_field(Text(), "label shown in results", default=None)
    allowed_tcb_status: frozenset[str] = policy_field(
        FlagSet(ACCEPTABLE_TCB_STATUSES),
        "final TCB statuses accepted (Intel QVL convergence); Revoked is never accepted",
        default=frozenset({"UpToDate"}),
    )
    allowed_advisory_ids: tuple[str, ...] | None = policy_field(
        Custom(
            _advisories,
            {"type": "array", "items": {"type": "string", "pattern": "^INTEL-SA-[0-9]{5}$"}},
        ),
        "when the status is not UpToDate, every advisory of the matched levels must be listed",
        default=None,
    )
    ootd_grace: timedelta | None = policy_field(
        Duration(),
        "accept an OutOfDate-family status while tcbDate + grace >= now (when the status "
        "would be accepted were it not out of date)",
        default=None,
    )
    min_tcb_date: datetime | None = policy_field(
        Timestamp(),
        "accept an OutOfDate-family status when tcbDate >= this date (same condition)",
        default=None,
    )
    min_tcb_evaluation_data_number: int | None = policy_field(
        Integer(0, 2**32 - 1),
        "minimum tcbEvaluationDataNumber of both the TCB Info and the QE Identity",
        default=None,
    )
    collateral_expiry_grace: timedelta = policy_field(
        Duration(),
        "accept TCB Info / QE Identity past nextUpdate by at most this (warns); default 0",
        default=timedelta(0),
    )
    mr_seam: tuple[str, ...] | None = policy_field(
        HexValues(48), "MRSEAM (TDX module): exact value or allow-list", default=None
    )
    mr_td: tuple[str, ...] | None = policy_field(
        HexValues(48), "MRTD: exact value or allow-list", default=None
    )
    rtmr0: tuple[str, ...] | None = policy_field(
        HexValues(48), "RTMR0 (firmware): exact value or allow-list", default=None
    )
    rtmr1: tuple[str, ...] | None = policy_field(
        HexValues(48), "RTMR1 (OS loader, kernel): exact value or allow-list", default=None
    )
    rtmr2: tuple[str, ...] | None = policy_field(
        HexValues(48), "RTMR2 (command line, initrd): exact value or allow-list", default=None
    )
    rtmr3: tuple[str, ...] | None = policy_field(
        HexValues(48), "RTMR3 (runtime): exact value or allow-list", default=None
    )
    mr_config_id: tuple[str, ...] | None = policy_field(
        _hex_or_any(48),
        'MRCONFIGID: exact value, allow-list or "any"; default all zero',
        default=(_ZERO48,),
    )
    mr_owner: tuple[str, ...] | None = policy_field(
        _hex_or_any(48),
        'MROWNER: exact value, allow-list or "any"; default all zero',
        default=(_ZERO48,),
    )
    mr_owner_config: tuple[str, ...] | None = policy_field(
        _hex_or_any(48),
        'MROWNERCONFIG: exact value, allow-list or "any"; default all zero',
        default=(_ZERO48,),
    )
    mr_service_td: tuple[str, ...] | None = policy_field(
        _hex_or_any(48),
        'MRSERVICETD (TD Report 1.5): exact value, allow-list or "any"; default all zero '
        "(no service TD bound)",
        default=(_ZERO48,),
    )
    report_data: tuple[str, ...] | None = policy_field(
        HexValues(64), "REPORTDATA: exact value or allow-list (constant-time)", default=None
    )
    td_attributes: TdAttributesRule = policy_field(
        _TD_ATTRIBUTES,
        "TDATTRIBUTES: exact hex (bytes as in the quote) or {allow_debug, "
        "require_sept_ve_disable, allowed_bits, required_bits, reserved_bits}",
        factory=TdAttributesRule,
    )
    xfam: tuple[str, ...] | None = policy_field(
        HexValues(8), "XFAM (bytes as in the quote): exact value or allow-list", default=None
    )
    min_tee_tcb_svn: str | None = policy_field(
        _single_hex(16), "minimum TEE_TCB_SVN, byte by byte (16 bytes hex)", default=None
    )
    min_qe_isvsvn: int | None = policy_field(
        Integer(0, 0xFFFF), "minimum Quoting Enclave ISVSVN", default=None
    )
    min_pce_svn: int | None = policy_field(
        Integer(0, 0xFFFF), "minimum PCESVN (from the PCK certificate)", default=None
    )
    fmspc: tuple[str, ...] | None = policy_field(
        HexValues(6), "FMSPC allow-list (platform model pinning)", default=None
    )
    ppid: tuple[str, ...] | None = policy_field(
        HexValues(16), "PPID allow-list (machine pinning)", default=None
    )
    warn_only: frozenset[str] = policy_field(
        warn_only_field_type("tdx"),
        "check ids that report 'warn' instead of 'fail'",
        default=frozenset(),
    )
