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

from teeclient.errors import PolicyTypeError, PolicyValueError
from teeclient.policy._schema import (
    Custom,
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
from teeclient.policy.sections.sev_snp import SnpRule

__all__ = [
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
    {"type": "string", "pattern": "^(require|if-present|off|allow-stale-until:([0-9]+[smhdw])+)$"},
)


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
    sev_snp: tuple[SnpRule, ...] | None = policy_field(
        TableArray(SnpRule),
        "[[sev_snp]] alternatives (OR); absent = SEV-SNP not accepted",
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
