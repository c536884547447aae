"""[[nitro]] policy: loading (unknown keys, types, values), every check, OR, warn_only, lint."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path

import pytest

from teeclient.errors import PolicyError
from teeclient.platforms.nitro.claims import NitroClaims
from teeclient.platforms.nitro.verify import verify
from teeclient.policy.appraise import appraise
from teeclient.policy.checks import known_check_ids
from teeclient.policy.lint import lint_policy
from teeclient.policy.load import load_baseline, parse_policy
from teeclient.policy.model import policy_json_schema
from teeclient.policy.result import Appraisal, CheckStatus
from teeclient.policy.sections.nitro import NitroRule
from teeclient.testing.nitro_evidence import default_pcrs
from tests.nitro_support import AT, SOON, attester

PCR0 = default_pcrs()[0].hex()
PCR1 = default_pcrs()[1].hex()


@pytest.fixture(scope="module")
def claims() -> NitroClaims:
    a = attester()
    doc = a.attest(at=AT, nonce=b"\x01" * 32, user_data=b"\x02" * 64, public_key=b"\x03" * 8)
    return verify(doc, trust=a.pki.trust_store(), now=SOON)


@pytest.fixture(scope="module")
def debug_claims() -> NitroClaims:
    a = attester(debug=True)
    return verify(a.attest(at=AT), trust=a.pki.trust_store(), now=SOON)


def _appraise(claims: NitroClaims, body: str, now: object = SOON) -> Appraisal:
    return appraise([claims], parse_policy("version = 1\n" + body), now)  # type: ignore[arg-type]


def _status(appraisal: Appraisal, check_id: str) -> CheckStatus:
    found = [c.status for c in appraisal.checks if c.id == check_id]
    assert len(found) == 1, (check_id, found)
    return found[0]


# --- loading ------------------------------------------------------------------------------------


def test_full_rule_loads() -> None:
    policy = parse_policy(f"""
version = 1
[[nitro]]
name = "prod"
partition_root = ["aws"]
allow_debug = false
require_nonce = true
nonce = ["00ff", ""]
max_timestamp_age = "5m"
clock_skew = "30s"
user_data = "AB"
public_key = ["0x01", "02"]
module_id_regex = "i-[0-9a-f]+-enc[0-9a-f]+"
regions = ["us-east-1", "eu-west-1"]
pcr0 = "{PCR0.upper()}"
pcr8 = ["{"00" * 48}", "{"11" * 48}"]
pcr31 = "{"22" * 48}"
warn_only = ["nitro.region"]
""")
    assert policy.nitro is not None
    rule = policy.nitro[0]
    assert rule.partition_root == frozenset({"aws"})
    assert rule.nonce == ("00ff", "")
    assert rule.max_timestamp_age == timedelta(minutes=5)
    assert rule.clock_skew == timedelta(seconds=30)
    assert rule.user_data == ("ab",)
    assert rule.public_key == ("01", "02")
    assert rule.regions == frozenset({"us-east-1", "eu-west-1"})
    assert rule.pcr(0) == (PCR0,)
    assert rule.pcr(8) == ("00" * 48, "11" * 48)
    assert rule.pcr(31) == ("22" * 48,)
    assert rule.pcr(1) is None
    assert rule.warn_only == frozenset({"nitro.region"})


def test_defaults() -> None:
    rule = NitroRule()
    assert rule.partition_root == frozenset({"aws"})
    assert rule.allow_debug is False
    assert rule.require_nonce is False
    assert rule.clock_skew == timedelta(minutes=1)
    assert rule.max_timestamp_age is None


@pytest.mark.parametrize(
    ("body", "code", "line"),
    [
        ("[[nitro]]\npcr_0 = 'x'\n", "policy.unknown_key", 3),
        ("[[nitro]]\nallow_debugg = true\n", "policy.unknown_key", 3),
        ("[[nitro]]\npcr32 = '" + "00" * 48 + "'\n", "policy.unknown_key", 3),
        ("[[nitro]]\npcr0 = '00'\n", "policy.invalid_value", 3),
        ("[[nitro]]\npcr0 = 1\n", "policy.wrong_type", 3),
        ("[[nitro]]\nallow_debug = 'no'\n", "policy.wrong_type", 3),
        ("[[nitro]]\nnonce = 'abc'\n", "policy.invalid_value", 3),
        ("[[nitro]]\nuser_data = '" + "00" * 1025 + "'\n", "policy.invalid_value", 3),
        ("[[nitro]]\npublic_key = ''\n", "policy.invalid_value", 3),
        ("[[nitro]]\nmax_timestamp_age = 5\n", "policy.wrong_type", 3),
        ("[[nitro]]\nmax_timestamp_age = '5 minutes'\n", "policy.invalid_value", 3),
        ("[[nitro]]\nclock_skew = '2h'\n", "policy.invalid_value", 2),
        ("[[nitro]]\nmodule_id_regex = '(['\n", "policy.invalid_value", 3),
        ("[[nitro]]\nregions = ['US EAST']\n", "policy.invalid_value", 3),
        ("[[nitro]]\npartition_root = 7\n", "policy.wrong_type", 3),
        ("[[nitro]]\nwarn_only = ['sev_snp.measurement']\n", "policy.invalid_value", 3),
        ("[nitro]\nallow_debug = true\n", "policy.wrong_type", 2),
    ],
)
def test_rejected_policies(body: str, code: str, line: int) -> None:
    with pytest.raises(PolicyError) as info:
        parse_policy("version = 1\n" + body, source="p.toml")
    assert info.value.code == code
    assert info.value.line == line


def test_json_schema_describes_nitro() -> None:
    schema = policy_json_schema()
    nitro = schema["properties"]["nitro"]["items"]
    assert nitro["additionalProperties"] is False
    assert {
        "pcr0",
        "pcr31",
        "allow_debug",
        "require_nonce",
        "max_timestamp_age",
        "clock_skew",
        "user_data",
        "public_key",
        "regions",
        "partition_root",
        "module_id_regex",
        "warn_only",
        "nonce",
    } <= set(nitro["properties"])
    assert nitro["properties"]["allow_debug"]["default"] is False


def test_check_ids_are_registered() -> None:
    ids = known_check_ids("nitro")
    assert {
        "nitro.debug",
        "nitro.pcr0",
        "nitro.pcr31",
        "nitro.nonce",
        "nitro.timestamp.age",
        "nitro.timestamp.future",
        "nitro.user_data",
        "nitro.public_key",
        "nitro.partition",
        "nitro.module_id",
        "nitro.region",
        "nitro.unknown_fields",
        "nitro.revocation",
    } == ids - {f"nitro.pcr{i}" for i in range(1, 31)}


# --- checks -------------------------------------------------------------------------------------


def test_no_nitro_section_rejects(claims: NitroClaims) -> None:
    appraisal = appraise([claims], parse_policy("version = 1\n"), SOON)
    assert not appraisal.accepted
    assert _status(appraisal, "policy.component") is CheckStatus.FAIL


def test_empty_rule_accepts_production_and_lists_skips(claims: NitroClaims) -> None:
    appraisal = _appraise(claims, "[[nitro]]\n")
    assert appraisal.accepted
    assert _status(appraisal, "nitro.debug") is CheckStatus.PASS
    assert _status(appraisal, "nitro.partition") is CheckStatus.PASS
    assert _status(appraisal, "nitro.timestamp.future") is CheckStatus.PASS
    for check_id in (
        "nitro.pcr0",
        "nitro.pcr15",
        "nitro.nonce",
        "nitro.timestamp.age",
        "nitro.user_data",
        "nitro.public_key",
        "nitro.module_id",
        "nitro.region",
        "nitro.revocation",
    ):
        assert _status(appraisal, check_id) is CheckStatus.SKIP, check_id
    assert not [c for c in appraisal.checks if c.id == "nitro.pcr16"]  # not in the document
    assert _status(appraisal, "nitro.unknown_fields") is CheckStatus.PASS


def test_debug_rejected_unless_allowed(debug_claims: NitroClaims) -> None:
    rejected = _appraise(debug_claims, "[[nitro]]\n")
    assert not rejected.accepted
    assert _status(rejected, "nitro.debug") is CheckStatus.FAIL
    allowed = _appraise(debug_claims, "[[nitro]]\nallow_debug = true\n")
    assert allowed.accepted
    assert _status(allowed, "nitro.debug") is CheckStatus.WARN


def test_baseline(claims: NitroClaims, debug_claims: NitroClaims) -> None:
    assert appraise([claims], load_baseline(), SOON).accepted
    debug = appraise([debug_claims], load_baseline(), SOON)
    assert not debug.accepted
    assert [c.id for c in debug.with_status(CheckStatus.FAIL)] == ["nitro.debug"]


def test_pcr_pins(claims: NitroClaims) -> None:
    ok = _appraise(claims, f'[[nitro]]\npcr0 = "{PCR0}"\npcr1 = ["{"00" * 48}", "{PCR1}"]\n')
    assert ok.accepted
    assert _status(ok, "nitro.pcr0") is CheckStatus.PASS
    assert _status(ok, "nitro.pcr1") is CheckStatus.PASS
    bad = _appraise(claims, f'[[nitro]]\npcr0 = "{"00" * 48}"\n')
    assert not bad.accepted
    assert _status(bad, "nitro.pcr0") is CheckStatus.FAIL
    empty = _appraise(claims, "[[nitro]]\npcr0 = []\n")
    assert not empty.accepted
    assert _status(empty, "nitro.pcr0") is CheckStatus.FAIL
    absent = _appraise(claims, f'[[nitro]]\npcr20 = "{"00" * 48}"\n')
    assert not absent.accepted
    assert _status(absent, "nitro.pcr20") is CheckStatus.FAIL


def test_alternatives_are_ored(claims: NitroClaims) -> None:
    body = (
        f'[[nitro]]\nname = "old"\npcr0 = "{"00" * 48}"\n[[nitro]]\nname = "new"\npcr0 = "{PCR0}"\n'
    )
    appraisal = _appraise(claims, body)
    assert appraisal.accepted
    assert appraisal.components[0].alternative == 1
    assert appraisal.components[0].alternative_name == "new"


def test_warn_only(claims: NitroClaims) -> None:
    body = f'[[nitro]]\npcr0 = "{"00" * 48}"\nwarn_only = ["nitro.pcr0"]\n'
    appraisal = _appraise(claims, body)
    assert appraisal.accepted
    assert _status(appraisal, "nitro.pcr0") is CheckStatus.WARN


def test_nonce_rules(claims: NitroClaims) -> None:
    required = _appraise(claims, "[[nitro]]\nrequire_nonce = true\n")
    assert not required.accepted  # the document has a nonce, but no challenge was given
    assert _status(required, "nitro.nonce") is CheckStatus.FAIL
    challenged = dataclasses.replace(claims, nonce_verified=True)
    assert _appraise(challenged, "[[nitro]]\nrequire_nonce = true\n").accepted
    assert _status(_appraise(challenged, "[[nitro]]\n"), "nitro.nonce") is CheckStatus.PASS
    listed = _appraise(claims, f'[[nitro]]\nnonce = ["00", "{"01" * 32}"]\n')
    assert listed.accepted
    wrong = _appraise(claims, f'[[nitro]]\nnonce = "{"01" * 31}"\n')
    assert not wrong.accepted
    absent = dataclasses.replace(claims, nonce=None)
    assert not _appraise(absent, "[[nitro]]\nrequire_nonce = true\n").accepted
    assert not _appraise(absent, '[[nitro]]\nnonce = "00"\n').accepted


def test_timestamp_rules(claims: NitroClaims) -> None:
    body = '[[nitro]]\nmax_timestamp_age = "5m"\n'
    assert _appraise(claims, body, AT + timedelta(minutes=5)).accepted
    old = _appraise(claims, body, AT + timedelta(minutes=5, seconds=1))
    assert not old.accepted
    assert _status(old, "nitro.timestamp.age") is CheckStatus.FAIL
    early = AT - timedelta(minutes=1)
    assert _appraise(claims, "[[nitro]]\n", early).accepted
    future = _appraise(claims, "[[nitro]]\n", early - timedelta(milliseconds=1))
    assert not future.accepted
    assert _status(future, "nitro.timestamp.future") is CheckStatus.FAIL
    skew = _appraise(claims, '[[nitro]]\nclock_skew = "10m"\n', AT - timedelta(minutes=9))
    assert skew.accepted


def test_binding_rules(claims: NitroClaims) -> None:
    ok = _appraise(claims, f'[[nitro]]\nuser_data = "{"02" * 64}"\npublic_key = "{"03" * 8}"\n')
    assert ok.accepted
    assert _status(ok, "nitro.user_data") is CheckStatus.PASS
    assert _status(ok, "nitro.public_key") is CheckStatus.PASS
    bad = _appraise(claims, f'[[nitro]]\nuser_data = "{"02" * 63}"\n')
    assert not bad.accepted
    assert _status(bad, "nitro.user_data") is CheckStatus.FAIL
    missing = dataclasses.replace(claims, public_key=None)
    none = _appraise(missing, f'[[nitro]]\npublic_key = "{"03" * 8}"\n')
    assert not none.accepted
    assert _status(none, "nitro.public_key") is CheckStatus.FAIL


def test_deployment_rules(claims: NitroClaims) -> None:
    ok = _appraise(
        claims,
        '[[nitro]]\nmodule_id_regex = "i-[0-9a-f]{17}-enc[0-9a-f]+"\nregions = ["us-east-1"]\n',
    )
    assert ok.accepted
    assert _status(ok, "nitro.module_id") is CheckStatus.PASS
    bad = _appraise(claims, '[[nitro]]\nmodule_id_regex = "i-0"\nregions = ["eu-west-1"]\n')
    assert _status(bad, "nitro.module_id") is CheckStatus.FAIL
    assert _status(bad, "nitro.region") is CheckStatus.FAIL
    empty = _appraise(claims, "[[nitro]]\nregions = []\n")
    assert _status(empty, "nitro.region") is CheckStatus.FAIL


def test_partition_rule(claims: NitroClaims) -> None:
    other = dataclasses.replace(claims, partition="aws-cn")
    assert _status(_appraise(other, "[[nitro]]\n"), "nitro.partition") is CheckStatus.FAIL
    ok = _appraise(other, '[[nitro]]\npartition_root = ["aws", "aws-cn"]\n')
    assert _status(ok, "nitro.partition") is CheckStatus.PASS
    empty = _appraise(claims, "[[nitro]]\npartition_root = []\n")
    assert _status(empty, "nitro.partition") is CheckStatus.FAIL


def test_unknown_fields_warn(claims: NitroClaims) -> None:
    appraisal = _appraise(dataclasses.replace(claims, unknown_fields=("extra",)), "[[nitro]]\n")
    assert appraisal.accepted
    assert _status(appraisal, "nitro.unknown_fields") is CheckStatus.WARN


# --- lint ---------------------------------------------------------------------------------------


def test_lint_findings() -> None:
    policy = parse_policy(
        "version = 1\n[[nitro]]\nallow_debug = true\npcr3 = []\nwarn_only = ['nitro.debug']\n"
    )
    codes = {(w.code, w.key_path) for w in lint_policy(policy)}
    assert ("lint.unpinned_measurement", "nitro[0]") in codes
    assert ("lint.debug_allowed", "nitro[0].allow_debug") in codes
    assert ("lint.empty_allow_list", "nitro[0].pcr3") in codes
    assert ("lint.no_freshness", "nitro[0]") in codes
    assert ("lint.risky_warn_only", "nitro[0].warn_only") in codes
    assert ("lint.no_components", "<top level>") not in codes
    pinned = parse_policy(f'version = 1\n[[nitro]]\npcr0 = "{PCR0}"\nrequire_nonce = true\n')
    assert lint_policy(pinned) == []


def test_documented_example_policy_loads() -> None:
    root = Path(__file__).resolve().parents[2]
    text = (root / "docs" / "policy-nitro.md").read_text()
    block = text.split("```toml\n", 1)[1].split("```", 1)[0]
    policy = parse_policy(block, source="docs/policy-nitro.md")
    assert policy.nitro is not None
    rule = policy.nitro[0]
    assert rule.require_nonce
    assert rule.pcr(2) is not None
    assert len(rule.pcr(2) or ()) == 2
