"""The policy model: frozen dataclasses for every section; unknown keys are errors.

One TOML file covers a deployment (DESIGN.md §5, specs/policy-formats.md §4). Each component
section is a list of alternatives (OR); rules inside an alternative are ANDed. Keys that are
omitted are not constrained, except where a secure default is documented (guest policy flags,
provisional firmware, masked chip ids).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from teeclient.errors import PolicyTypeError, PolicyUnknownKeyError, PolicyValueError
from teeclient.policy._schema import (
    Custom,
    Duration,
    FlagSet,
    Integer,
    KeyPath,
    Table,
    TableArray,
    Text,
    json_schema,
    parse_duration,
    policy_field,
    render_path,
)
from teeclient.policy.sections.nitro import NitroRule
from teeclient.policy.sections.nvidia import (
    NVIDIA_OCSP_SCHEMA,
    GpuNodeRule,
    NvidiaGpuRule,
    NvidiaSwitchRule,
)
from teeclient.policy.sections.sev_snp import SnpRule
from teeclient.policy.sections.tdx import TdxRule

__all__ = [
    "BindingPolicy",
    "CollateralPolicy",
    "FreshnessPolicy",
    "NvidiaOcspSetting",
    "Policy",
    "RevocationMode",
    "RevocationPolicy",
    "RevocationSetting",
    "policy_json_schema",
]

POLICY_VERSION = 1


class RevocationMode(enum.StrEnum):
    """How a revocation list (CRL, OCSP) must be used."""

    REQUIRE = "require"
    ALLOW_STALE = "allow-stale-until"
    IF_PRESENT = "if-present"
    OFF = "off"


@dataclass(frozen=True, slots=True, kw_only=True)
class RevocationSetting:
    """A revocation mode plus, for ``allow-stale-until:<d>``, how stale it may be."""

    mode: RevocationMode
    max_staleness: timedelta = timedelta(0)

    def __str__(self) -> str:
        if self.mode is RevocationMode.ALLOW_STALE:
            return f"allow-stale-until:{int(self.max_staleness.total_seconds())}s"
        return self.mode.value


def _revocation(value: object, path: KeyPath) -> RevocationSetting:
    if not isinstance(value, str):
        raise PolicyTypeError(
            f"{render_path(path)} has the wrong type",
            key_path=render_path(path),
            expected="string",
            actual=repr(value),
        )
    if value.startswith("allow-stale-until:"):
        grace = parse_duration(value.split(":", 1)[1])
        if grace is not None:
            return RevocationSetting(mode=RevocationMode.ALLOW_STALE, max_staleness=grace)
    elif value in {m.value for m in RevocationMode if m is not RevocationMode.ALLOW_STALE}:
        return RevocationSetting(mode=RevocationMode(value))
    raise PolicyValueError(
        f"{render_path(path)} has an invalid value",
        key_path=render_path(path),
        expected="require, if-present, off or allow-stale-until:<duration> (e.g. 24h)",
        actual=repr(value),
    )


_REVOCATION = Custom(
    _revocation,
    {
        "type": "string",
        "pattern": "^(require|if-present|off|allow-stale-until:([0-9]{1,12}[smhdw])+)$",
    },
)


@dataclass(frozen=True, slots=True, kw_only=True)
class NvidiaOcspSetting:
    """How NVIDIA OCSP answers are used: a mode plus what a non-good status may do.

    ``require``: every checked certificate needs a current, good answer; ``if-present``:
    answers are checked when supplied and a missing one is reported as skip;
    ``allow-stale-until:<d>``: an answer past nextUpdate by at most ``d`` is a warning;
    ``off``: not checked. certificateHold, unknown and revoked fail unless allowed here.
    """

    mode: RevocationMode = RevocationMode.REQUIRE
    max_staleness: timedelta = timedelta(0)
    allow_unknown: bool = False
    allow_certificate_hold: bool = False
    revoked_grace: timedelta | None = None

    def __str__(self) -> str:
        base = str(RevocationSetting(mode=self.mode, max_staleness=self.max_staleness))
        extra = [
            name for name in ("allow_unknown", "allow_certificate_hold") if getattr(self, name)
        ]
        if self.revoked_grace is not None:
            extra.append(f"revoked_grace={int(self.revoked_grace.total_seconds())}s")
        return base + (f" ({', '.join(extra)})" if extra else "")


def nvidia_ocsp_setting(value: object, path: KeyPath) -> NvidiaOcspSetting:
    """Convert ``nvidia_ocsp`` (a mode string, or a table with mode and switches)."""
    if isinstance(value, str):
        base = _revocation(value, path)
        return NvidiaOcspSetting(mode=base.mode, max_staleness=base.max_staleness)
    if not isinstance(value, dict):
        raise PolicyTypeError(
            f"{render_path(path)} has the wrong type",
            key_path=render_path(path),
            expected="mode string or {mode, allow_unknown, allow_certificate_hold, revoked_grace}",
            actual=repr(value),
        )
    known = {"mode", "allow_unknown", "allow_certificate_hold", "revoked_grace"}
    unknown = sorted(set(value) - known)
    if unknown:
        raise PolicyUnknownKeyError(
            f"unknown key {unknown[0]!r} in {render_path(path)}",
            key_path=render_path((*path, unknown[0])),
            expected="one of " + ", ".join(sorted(known)),
            actual=unknown[0],
        )
    base = _revocation(value.get("mode", "require"), (*path, "mode"))
    flags = {}
    for name in ("allow_unknown", "allow_certificate_hold"):
        flag = value.get(name, False)
        if not isinstance(flag, bool):
            raise PolicyTypeError(
                f"{render_path((*path, name))} has the wrong type",
                key_path=render_path((*path, name)),
                expected="boolean",
                actual=repr(flag),
            )
        flags[name] = flag
    grace = value.get("revoked_grace")
    return NvidiaOcspSetting(
        mode=base.mode,
        max_staleness=base.max_staleness,
        revoked_grace=Duration().convert(grace, (*path, "revoked_grace"))
        if grace is not None
        else None,
        **flags,
    )


NVIDIA_OCSP_FIELD = Custom(nvidia_ocsp_setting, NVIDIA_OCSP_SCHEMA)


@dataclass(frozen=True, slots=True, kw_only=True)
class RevocationPolicy:
    """[revocation]: how CRLs and OCSP answers are used."""

    amd_crl: RevocationSetting = policy_field(
        _REVOCATION,
        "AMD KDS CRL (ARK-signed; lists revoked ASK/ASVK): require | if-present | off | "
        "allow-stale-until:<duration>. if-present checks a supplied CRL and reports "
        "'skip' loudly when none was supplied.",
        default=RevocationSetting(mode=RevocationMode.IF_PRESENT),
    )
    intel_crl: RevocationSetting = policy_field(
        _REVOCATION,
        "Intel PCK CRL (lists revoked PCK certificates) and Intel SGX Root CA CRL (lists "
        "revoked PCK CAs and TCB Signing certificates): require | if-present | off | "
        "allow-stale-until:<duration>. DCAP collateral always includes both; default require.",
        default=RevocationSetting(mode=RevocationMode.REQUIRE),
    )
    nvidia_ocsp: NvidiaOcspSetting = policy_field(
        NVIDIA_OCSP_FIELD,
        "NVIDIA OCSP for device and RIM chains: require | if-present | off | "
        "allow-stale-until:<duration>, or {mode, allow_unknown, allow_certificate_hold, "
        "revoked_grace}",
        default=NvidiaOcspSetting(),
    )
    max_ocsp_age: timedelta | None = policy_field(
        Duration(),
        "maximum age of an OCSP answer (now - thisUpdate), for recorded nonce-less responses",
        default=None,
    )


def _duration(value: object, path: KeyPath) -> timedelta:
    if isinstance(value, str):
        parsed = parse_duration(value)
        if parsed is not None:
            return parsed
    raise PolicyValueError(
        f"{render_path(path)} has an invalid value",
        key_path=render_path(path),
        expected="a duration like '30d', '12h' or '5m'",
        actual=repr(value),
    )


_DURATION = Custom(_duration, {"type": "string", "pattern": "^([0-9]+[smhdw])+$"})


@dataclass(frozen=True, slots=True, kw_only=True)
class CollateralPolicy:
    """[collateral]: how stale fetched collateral may be when its service is unreachable."""

    max_staleness: timedelta = policy_field(
        _DURATION,
        "serve a cached item up to this long past its own validity when the service fails "
        "(reported as a warning check, collateral.stale); 0s = never",
        default=timedelta(0),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class FreshnessPolicy:
    """[freshness]: how fresh evidence must be, and how long an attested identity lasts."""

    nonce: str = policy_field(
        Text(("required", "optional")),
        "required: the evidence must bind the client's fresh nonce (teeclient and Tinfoil v3 "
        "documents); optional also accepts static evidence such as Tinfoil v2 documents",
        default="required",
    )
    max_evidence_age: timedelta = policy_field(
        _DURATION,
        "longest time between issuing the nonce (or capturing a bundle) and verifying",
        default=timedelta(minutes=5),
    )
    identity_lifetime: timedelta = policy_field(
        _DURATION,
        "how long an accepted enclave identity is used before re-attesting",
        default=timedelta(hours=1),
    )


_LAYOUTS = ("teeclient-v1", "tinfoil-v2", "tinfoil-v3")


@dataclass(frozen=True, slots=True, kw_only=True)
class BindingPolicy:
    """[binding]: which key-binding layouts are accepted and which keys must be pinned."""

    layouts: frozenset[str] = policy_field(
        FlagSet(_LAYOUTS),
        "accepted binding layouts: teeclient-v1 (docs/protocol.md), tinfoil-v2, tinfoil-v3",
        default=frozenset({"teeclient-v1", "tinfoil-v3"}),
    )
    pin: frozenset[str] = policy_field(
        FlagSet(("hpke", "tls_spki")),
        "keys the identity must carry and the transport must pin: hpke, tls_spki",
        default=frozenset({"hpke"}),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Policy:
    """A whole policy file: versions, global sections and per-component alternatives."""

    version: int = policy_field(
        Integer(POLICY_VERSION, POLICY_VERSION), "policy schema version (1)"
    )
    name: str | None = policy_field(Text(), "policy name shown in results", default=None)
    description: str | None = policy_field(
        Text(max_length=2000), "free text describing the deployment", default=None
    )
    revocation: RevocationPolicy = policy_field(
        Table(RevocationPolicy), "revocation settings", factory=RevocationPolicy
    )
    collateral: CollateralPolicy = policy_field(
        Table(CollateralPolicy), "collateral freshness settings", factory=CollateralPolicy
    )
    freshness: FreshnessPolicy = policy_field(
        Table(FreshnessPolicy), "evidence freshness and identity lifetime", factory=FreshnessPolicy
    )
    binding: BindingPolicy = policy_field(
        Table(BindingPolicy), "key binding layouts and pinned keys", factory=BindingPolicy
    )
    sev_snp: tuple[SnpRule, ...] | None = policy_field(
        TableArray(SnpRule),
        "[[sev_snp]] alternatives (OR); absent = SEV-SNP not accepted",
        default=None,
    )
    gpu: GpuNodeRule = policy_field(
        Table(GpuNodeRule), "[gpu]: rules over all NVIDIA devices of a node", factory=GpuNodeRule
    )
    nvidia_gpu: tuple[NvidiaGpuRule, ...] | None = policy_field(
        TableArray(NvidiaGpuRule),
        "[[nvidia_gpu]] alternatives (OR); absent = NVIDIA GPUs not accepted",
        default=None,
    )
    nvidia_switch: tuple[NvidiaSwitchRule, ...] | None = policy_field(
        TableArray(NvidiaSwitchRule),
        "[[nvidia_switch]] alternatives (OR); absent = NVSwitches not accepted",
        default=None,
    )
    tdx: tuple[TdxRule, ...] | None = policy_field(
        TableArray(TdxRule),
        "[[tdx]] alternatives (OR); absent = Intel TDX not accepted",
        default=None,
    )
    nitro: tuple[NitroRule, ...] | None = policy_field(
        TableArray(NitroRule),
        "[[nitro]] alternatives (OR); absent = AWS Nitro Enclaves not accepted",
        default=None,
    )
    source: str = "<memory>"
    sha256: str | None = None


def policy_json_schema() -> dict[str, Any]:
    """The JSON Schema of a policy file, generated from the model."""
    schema = json_schema(Policy)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://teeclient.dev/schemas/policy-v1.json"
    schema["title"] = "teeclient policy file (TOML), version 1"
    return schema
