"""The policy JSON Schema is generated from the model: closed objects, every field listed."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from typing import Any

from teeclient.policy.model import Policy, RevocationPolicy, policy_json_schema
from teeclient.policy.sections.sev_snp import (
    GUEST_POLICY_ALLOWABLE,
    GUEST_POLICY_REQUIRABLE,
    PLATFORM_INFO_ALLOWABLE,
    PLATFORM_INFO_REQUIRABLE,
    GuestPolicyRule,
    PlatformInfoRule,
    SnpRule,
    TcbMin,
)

SCHEMA = policy_json_schema()
RULE = SCHEMA["properties"]["sev_snp"]["items"]


def objects(node: Any, path: str = "$") -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(node, dict):
        if node.get("type") == "object" or "properties" in node:
            yield path, node
        for key, value in node.items():
            yield from objects(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from objects(value, f"{path}[{i}]")


def policy_fields(cls: type[Any]) -> set[str]:
    return {f.name for f in dataclasses.fields(cls) if f.metadata}


def test_schema_is_json_with_metadata() -> None:
    assert json.loads(json.dumps(SCHEMA)) == SCHEMA
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert SCHEMA["$id"].endswith("policy-v1.json")
    assert SCHEMA["required"] == ["version"]


def test_every_object_is_closed() -> None:
    found = list(objects(SCHEMA))
    assert len(found) >= 7  # policy, revocation, rule, guest_policy, platform_info, 2×TCB, ...
    for path, node in found:
        assert node.get("additionalProperties") is False, path
        assert node.get("type") == "object", path


def test_every_model_field_is_listed() -> None:
    assert set(SCHEMA["properties"]) == policy_fields(Policy)
    assert set(SCHEMA["properties"]["revocation"]["properties"]) == policy_fields(RevocationPolicy)
    assert set(RULE["properties"]) == policy_fields(SnpRule)
    assert set(RULE["properties"]["guest_policy"]["properties"]) == policy_fields(GuestPolicyRule)
    assert set(RULE["properties"]["platform_info"]["properties"]) == policy_fields(PlatformInfoRule)
    for key in ("min_tcb", "min_launch_tcb"):
        assert set(RULE["properties"][key]["properties"]) == policy_fields(TcbMin)
    # the model's non-policy bookkeeping fields are not part of the file format
    assert "source" not in SCHEMA["properties"]
    assert "sha256" not in SCHEMA["properties"]


def test_every_property_is_described() -> None:
    for path, node in objects(SCHEMA):
        for name, prop in node["properties"].items():
            if path.endswith("min_firmware.oneOf[1]"):
                continue
            assert prop.get("description"), f"{path}.{name}"


def test_flag_enums_follow_the_model() -> None:
    guest = RULE["properties"]["guest_policy"]["properties"]
    assert guest["allow"]["items"]["enum"] == list(GUEST_POLICY_ALLOWABLE)
    assert guest["require"]["items"]["enum"] == list(GUEST_POLICY_REQUIRABLE)
    assert guest["allow"]["default"] == ["smt"]
    platform = RULE["properties"]["platform_info"]["properties"]
    assert platform["allow"]["items"]["enum"] == list(PLATFORM_INFO_ALLOWABLE)
    assert platform["require"]["items"]["enum"] == list(PLATFORM_INFO_REQUIRABLE)
    assert platform["unknown_bits"]["enum"] == ["ignore", "warn", "fail"]
    assert RULE["properties"]["products"]["items"]["enum"] == ["milan", "genoa", "turin"]
    assert RULE["properties"]["vmpl"]["oneOf"][0] == {"type": "integer", "minimum": 0, "maximum": 3}
    assert RULE["properties"]["measurement"]["oneOf"][0]["pattern"] == ("^(0[xX])?[0-9a-fA-F]{96}$")
    assert RULE["properties"]["permit_provisional_firmware"]["default"] is False
    # regression (9b38409): this default was a RevocationSetting object, not JSON
    amd_crl = SCHEMA["properties"]["revocation"]["properties"]["amd_crl"]
    assert amd_crl["default"] == "if-present"
    assert RULE["properties"]["allow_masked_chip_id"]["default"] is False
