"""[gpu], [[nvidia_gpu]] and [[nvidia_switch]] policy rules (checks: policy/checks/nvidia.py).

specs/policy-formats.md §4.6. ``[gpu]`` holds node-level rules (count, mode, topology, where
appraisal happens, nonce); each ``[[nvidia_gpu]]`` / ``[[nvidia_switch]]`` is an alternative
for one device (OR across alternatives, AND within one).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from teeclient.errors import PolicyTypeError, PolicyValueError
from teeclient.policy._schema import (
    Boolean,
    Custom,
    FlagSet,
    IntChoices,
    KeyPath,
    Text,
    policy_field,
    render_path,
)
from teeclient.policy.sections import warn_only_field_type

__all__ = [
    "NRAS_ISSUER",
    "NVIDIA_OCSP_SCHEMA",
    "GpuNodeRule",
    "NvidiaGpuRule",
    "NvidiaSwitchRule",
    "VersionRule",
    "version_key",
]

NRAS_ISSUER = "https://nras.attestation.nvidia.com"
_DRIVER = re.compile(r"[0-9]{1,5}(\.[0-9]{1,5}){1,3}")
_VBIOS = re.compile(r"[0-9A-Fa-f]{2}(\.[0-9A-Fa-f]{2}){4}")


def version_key(text: str, *, vbios: bool) -> tuple[int, ...] | None:
    """Comparable key: driver parts as decimal, VBIOS byte pairs as hex; None if malformed."""
    pattern = _VBIOS if vbios else _DRIVER
    if not pattern.fullmatch(text):
        return None
    return tuple(int(p, 16 if vbios else 10) for p in text.split("."))


@dataclass(frozen=True, slots=True, kw_only=True)
class VersionRule:
    """An allow-list of exact versions, or a minimum (``{min = "550.90.07"}``)."""

    allowed: tuple[str, ...] | None = None
    minimum: str | None = None
    vbios: bool = False

    def accepts(self, version: str | None) -> bool:
        """True if ``version`` is listed (case-insensitive) or at least the minimum."""
        if version is None:
            return False
        if self.allowed is not None:
            return version.upper() in {v.upper() for v in self.allowed}
        assert self.minimum is not None
        have = version_key(version, vbios=self.vbios)
        want = version_key(self.minimum, vbios=self.vbios)
        return have is not None and want is not None and have >= want

    def describe(self) -> str | tuple[str, ...]:
        """Expected value for check output."""
        if self.allowed is not None:
            return self.allowed[0] if len(self.allowed) == 1 else self.allowed
        return f">= {self.minimum}"


def _version_rule(vbios: bool) -> Custom:
    label = "VBIOS version like '96.00.9F.00.01'" if vbios else "driver version like '550.90.07'"

    def convert(value: object, path: KeyPath) -> VersionRule:
        def one(item: object, where: KeyPath) -> str:
            if not isinstance(item, str):
                raise PolicyTypeError(
                    f"{render_path(where)} has the wrong type",
                    key_path=render_path(where),
                    expected=label,
                    actual=repr(item),
                )
            if version_key(item, vbios=vbios) is None:
                raise PolicyValueError(
                    f"{render_path(where)} has an invalid value",
                    key_path=render_path(where),
                    expected=label,
                    actual=repr(item),
                )
            return item.upper() if vbios else item

        if isinstance(value, str):
            return VersionRule(allowed=(one(value, path),), vbios=vbios)
        if isinstance(value, list):
            return VersionRule(
                allowed=tuple(one(v, (*path, i)) for i, v in enumerate(value)), vbios=vbios
            )
        if isinstance(value, dict):
            if set(value) != {"min"}:
                raise PolicyValueError(
                    f"{render_path(path)} has an invalid value",
                    key_path=render_path(path),
                    expected="{min = '…'}",
                    actual=repr(value),
                )
            return VersionRule(minimum=one(value["min"], (*path, "min")), vbios=vbios)
        raise PolicyTypeError(
            f"{render_path(path)} has the wrong type",
            key_path=render_path(path),
            expected="string, list of strings or {min = '…'}",
            actual=repr(value),
        )

    pattern = (
        r"^[0-9A-Fa-f]{2}(\.[0-9A-Fa-f]{2}){4}$" if vbios else r"^[0-9]{1,5}(\.[0-9]{1,5}){1,3}$"
    )
    item: dict[str, Any] = {"type": "string", "pattern": pattern}
    return Custom(
        convert,
        {
            "oneOf": [
                item,
                {"type": "array", "items": item},
                {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["min"],
                    "properties": {"min": {**item, "description": "minimum version (inclusive)"}},
                },
            ]
        },
    )


def _strings(max_length: int = 200) -> Custom:
    def convert(value: object, path: KeyPath) -> tuple[str, ...]:
        items = value if isinstance(value, list) else [value]
        out: list[str] = []
        for i, item in enumerate(items):
            where = (*path, i) if isinstance(value, list) else path
            out.append(Text(max_length=max_length).convert(item, where))
        return tuple(out)

    item = {"type": "string", "maxLength": max_length}
    return Custom(convert, {"oneOf": [item, {"type": "array", "items": item}]})


_MODE_PATTERN = "^(require|if-present|off|allow-stale-until:([0-9]+[smhdw])+)$"
#: JSON Schema of an NVIDIA OCSP setting: a mode string or a table with the extra switches.
NVIDIA_OCSP_SCHEMA: dict[str, Any] = {
    "oneOf": [
        {"type": "string", "pattern": _MODE_PATTERN},
        {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "mode": {
                    "type": "string",
                    "pattern": _MODE_PATTERN,
                    "description": "require | if-present | off | allow-stale-until:<duration>",
                },
                "allow_unknown": {
                    "type": "boolean",
                    "description": "accept an OCSP status of 'unknown' (reported as a warning)",
                },
                "allow_certificate_hold": {
                    "type": "boolean",
                    "description": "accept 'revoked (certificateHold)' (reported as a warning)",
                },
                "revoked_grace": {
                    "type": "string",
                    "pattern": "^([0-9]+[smhdw])+$",
                    "description": "accept a revocation younger than this (reported as a warning)",
                },
            },
        },
    ]
}


def _ocsp_convert(value: object, path: KeyPath) -> Any:
    from teeclient.policy.model import nvidia_ocsp_setting

    return nvidia_ocsp_setting(value, path)


_OCSP = Custom(_ocsp_convert, NVIDIA_OCSP_SCHEMA)


@dataclass(frozen=True, slots=True, kw_only=True)
class NvidiaGpuRule:
    """One [[nvidia_gpu]] alternative: every rule set here must hold for a GPU (AND)."""

    name: str | None = policy_field(Text(), "label shown in results", default=None)
    arch: frozenset[str] | None = policy_field(
        FlagSet(("hopper", "blackwell")),
        "accepted architectures (from the verified chain)",
        default=None,
    )
    hwmodel: tuple[str, ...] | None = policy_field(
        _strings(), "allow-list of BROM common names (e.g. 'GH100 A01 GSP BROM')", default=None
    )
    ueid: tuple[str, ...] | None = policy_field(
        _strings(100), "allow-list of device ids (leaf serial, decimal)", default=None
    )
    driver_versions: VersionRule | None = policy_field(
        _version_rule(False),
        "signed DRIVER_VERSION: exact, allow-list or {min = '550.90.07'}",
        default=None,
    )
    vbios_versions: VersionRule | None = policy_field(
        _version_rule(True),
        "signed VBIOS_VERSION: exact, allow-list or {min = '96.00.9F.00.01'}",
        default=None,
    )
    require_fwid: bool = policy_field(
        Boolean(),
        "the report's FWID must be present and equal the leaf certificate's",
        default=True,
    )
    require_measurements: bool = policy_field(
        Boolean(),
        "the RIM comparison must succeed (reference values supplied and matching)",
        default=True,
    )
    allowed_mismatch_indices: tuple[int, ...] = policy_field(
        IntChoices(0, 255),
        "RIM indices whose mismatch is accepted (reported as warn)",
        default=(),
    )
    allow_nvdec0_skip: bool = policy_field(
        Boolean(), "skip index 35 when NVDEC0 is disabled (NVIDIA's rule)", default=True
    )
    protected_pcie: bool | None = policy_field(
        Boolean(), "required PROTECTED_PCIE_STATUS (true = 0xAA)", default=None
    )
    ocsp: Any = policy_field(
        _OCSP,
        "override [revocation] nvidia_ocsp for this alternative",
        default=None,
    )
    warn_only: frozenset[str] = policy_field(
        warn_only_field_type("nvidia_gpu"),
        "check ids that report 'warn' instead of 'fail'",
        default=frozenset(),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class NvidiaSwitchRule:
    """One [[nvidia_switch]] alternative (LS10 NVSwitches of a PPCIE node)."""

    name: str | None = policy_field(Text(), "label shown in results", default=None)
    hwmodel: tuple[str, ...] | None = policy_field(
        _strings(), "allow-list of BROM common names (e.g. 'LS_10 A01 FSP BROM')", default=None
    )
    ueid: tuple[str, ...] | None = policy_field(
        _strings(100), "allow-list of device ids (leaf serial, decimal)", default=None
    )
    bios_versions: VersionRule | None = policy_field(
        _version_rule(True),
        "switch BIOS version: exact, allow-list or {min = '…'}",
        default=None,
    )
    require_fwid: bool = policy_field(
        Boolean(),
        "require an FWID in the report (LS10 reports carry none today)",
        default=False,
    )
    require_measurements: bool = policy_field(
        Boolean(), "the switch BIOS RIM comparison must succeed", default=True
    )
    allowed_mismatch_indices: tuple[int, ...] = policy_field(
        IntChoices(0, 255), "RIM indices whose mismatch is accepted", default=()
    )
    ocsp: Any = policy_field(
        _OCSP,
        "override [revocation] nvidia_ocsp for this alternative",
        default=None,
    )
    warn_only: frozenset[str] = policy_field(
        warn_only_field_type("nvidia_switch"),
        "check ids that report 'warn' instead of 'fail'",
        default=frozenset(),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class GpuNodeRule:
    """[gpu]: rules over all NVIDIA devices of a node."""

    count: tuple[int, ...] | None = policy_field(
        IntChoices(0, 64), "number of GPUs: a value or a list (e.g. [1, 8])", default=None
    )
    switch_count: tuple[int, ...] | None = policy_field(
        IntChoices(0, 64), "number of NVSwitches (4 on an HGX PPCIE node)", default=None
    )
    mode: frozenset[str] | None = policy_field(
        FlagSet(("SPT", "MPT", "PPCIE")),
        "accepted FEATURE_FLAG modes (identical on all GPUs)",
        default=None,
    )
    require_topology: bool = policy_field(
        Boolean(), "PPCIE switch/GPU PDI topology must check out when evaluated", default=True
    )
    verifier: str = policy_field(
        Text(("local", "nras", "both")),
        "where appraisal happened: local (teeclient), nras (NVIDIA's token) or both",
        default="local",
    )
    require_nonce: bool = policy_field(
        Boolean(), "the reports must carry the caller's nonce (--nonce)", default=True
    )
    require_distinct_devices: bool = policy_field(
        Boolean(), "no device may appear twice (same ueid)", default=True
    )
    nras_issuer: str = policy_field(Text(), "accepted NRAS token issuer", default=NRAS_ISSUER)
    warn_only: frozenset[str] = policy_field(
        warn_only_field_type("gpu"),
        "check ids that report 'warn' instead of 'fail'",
        default=frozenset(),
    )
