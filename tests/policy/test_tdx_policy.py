"""[[tdx]] policy loading, schema, lint and checks over generated claims."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from teeclient.errors import PolicyError
from teeclient.platforms.tdx.claims import TdxClaims
from teeclient.platforms.tdx.verify import verify
from teeclient.policy.appraise import appraise
from teeclient.policy.checks import known_check_ids
from teeclient.policy.lint import lint_policy
from teeclient.policy.load import load_baseline, load_policy, parse_policy
from teeclient.policy.model import RevocationMode, policy_json_schema
from teeclient.policy.result import CheckStatus
from teeclient.testing.tdx_evidence import TdQuoteSpec, TdxTestbed

ROOT = Path(__file__).resolve().parents[2]
HEAD = "version = 1\n[[tdx]]\n"


@pytest.fixture(scope="module")
def tb() -> TdxTestbed:
    return TdxTestbed.create()


@pytest.fixture(scope="module")
def claims(tb: TdxTestbed) -> TdxClaims:
    return verify(tb.quote(), trust=tb.trust(), now=tb.now, collateral=tb.collateral())


def _checks(claims: TdxClaims, text: str, now: datetime) -> dict[str, CheckStatus]:
    appraisal = appraise([claims], parse_policy(text), now)
    return {c.id: c.status for c in appraisal.checks}


def test_baseline_copies_are_identical_and_have_tdx() -> None:
    assert (ROOT / "policies" / "baseline.toml").read_text() == (
        ROOT / "src" / "teeclient" / "policy" / "data" / "baseline.toml"
    ).read_text()
    baseline = load_baseline()
    assert baseline.tdx is not None
    assert baseline.tdx[0].name == "genuine-tdx"
    assert baseline.revocation.intel_crl.mode is RevocationMode.REQUIRE


def test_example_policy_loads_and_lints_clean() -> None:
    policy = load_policy(ROOT / "policies" / "examples" / "tdx-production.toml")
    assert policy.tdx is not None
    assert lint_policy(policy) == []


def test_every_key_loads() -> None:
    text = (
        HEAD
        + """
name = "all"
allowed_tcb_status = ["UpToDate", "SWHardeningNeeded", "TD_RELAUNCH_ADVISED"]
allowed_advisory_ids = ["intel-sa-00615"]
ootd_grace = "30d"
min_tcb_date = 2025-01-01T00:00:00Z
min_tcb_evaluation_data_number = 17
collateral_expiry_grace = "12h"
mr_seam = ["AA" ]
"""
    )
    with pytest.raises(PolicyError) as info:
        parse_policy(text)
    assert info.value.code == "policy.invalid_value"
    assert info.value.line == 11
    text = (
        text.replace('["AA" ]', '["' + "aa" * 48 + '"]')
        + f"""
mr_td = "{"11" * 48}"
rtmr0 = ["{"00" * 48}", "{"01" * 48}"]
rtmr1 = "{"02" * 48}"
rtmr2 = "{"03" * 48}"
rtmr3 = "{"00" * 48}"
mr_config_id = "any"
mr_owner = "{"00" * 48}"
mr_owner_config = ["{"00" * 48}"]
mr_service_td = "any"
report_data = "{"00" * 64}"
td_attributes = "0000001000000000"
xfam = ["e702060000000000", "e718060000000000"]
min_tee_tcb_svn = "03010200000000000000000000000000"
min_qe_isvsvn = 4
min_pce_svn = 11
fmspc = ["90c06f000000"]
ppid = ["{"00" * 16}"]
warn_only = ["tdx.rtmr3"]
"""
    )
    rule = parse_policy(text).tdx[0]  # type: ignore[index]
    assert rule.allowed_advisory_ids == ("INTEL-SA-00615",)
    assert rule.mr_config_id is None
    assert rule.mr_service_td is None
    assert rule.td_attributes.exact == "0000001000000000"
    assert rule.warn_only == frozenset({"tdx.rtmr3"})


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ('allowed_tcb_status = ["Revoked"]', "policy.invalid_value"),
        ('allowed_tcb_status = ["Uptodate"]', "policy.invalid_value"),
        ("mr_tdd = 'x'", "policy.unknown_key"),
        ('td_attributes = { allow_debug = "no" }', "policy.wrong_type"),
        ("td_attributes = { debug = false }", "policy.unknown_key"),
        ('td_attributes = { required_bits = ["pks"], allowed_bits = [] }', "policy.invalid_value"),
        ("td_attributes = 5", "policy.wrong_type"),
        ('allowed_advisory_ids = ["SA-1"]', "policy.invalid_value"),
        ('min_tee_tcb_svn = ["00"]', "policy.wrong_type"),
        ('warn_only = ["sev_snp.measurement"]', "policy.invalid_value"),
        ('ootd_grace = "forever"', "policy.invalid_value"),
    ],
)
def test_bad_values(body: str, code: str) -> None:
    with pytest.raises(PolicyError) as info:
        parse_policy(HEAD + body + "\n")
    assert info.value.code == code
    assert info.value.line == 3


def test_intel_crl_setting() -> None:
    policy = parse_policy('version = 1\n[revocation]\nintel_crl = "allow-stale-until:2d"\n')
    assert policy.revocation.intel_crl.mode is RevocationMode.ALLOW_STALE
    with pytest.raises(PolicyError):
        parse_policy('version = 1\n[revocation]\nintel_crl = "sometimes"\n')


def test_json_schema_describes_tdx() -> None:
    schema = policy_json_schema()
    tdx = schema["properties"]["tdx"]["items"]["properties"]
    assert "Revoked" not in tdx["allowed_tcb_status"]["items"]["enum"]
    assert {"td_attributes", "mr_service_td", "ootd_grace", "warn_only"} <= set(tdx)
    assert "intel_crl" in schema["properties"]["revocation"]["properties"]


def test_lint_findings() -> None:
    policy = parse_policy(
        HEAD + 'allowed_tcb_status = ["UpToDate", "OutOfDate", '
        '"TCB_NOT_SUPPORTED"]\nootd_grace = "1d"\nmr_td = []\n'
        "td_attributes = { allow_debug = true }\n"
        'warn_only = ["tdx.td_attributes.debug"]\n'
        '[revocation]\nintel_crl = "off"\n'
    )
    codes = {w.code for w in lint_policy(policy)}
    assert codes == {
        "lint.revocation_off",
        "lint.empty_allow_list",
        "lint.unsafe_tcb_status",
        "lint.grace_without_effect",
        "lint.debug_allowed",
        "lint.risky_warn_only",
    }


def test_unconstrained_checks_are_listed_as_skip(claims: TdxClaims, tb: TdxTestbed) -> None:
    statuses = _checks(claims, HEAD + '[revocation]\nintel_crl = "require"\n', tb.now)
    assert set(statuses) == known_check_ids("tdx")
    assert statuses["tdx.mr_td"] is CheckStatus.SKIP
    assert statuses["tdx.mr_config_id"] is CheckStatus.PASS  # secure default: all zero
    assert statuses["tdx.td_attributes.debug"] is CheckStatus.PASS
    assert CheckStatus.FAIL not in statuses.values()


def test_measurements_and_empty_allow_list(claims: TdxClaims, tb: TdxTestbed) -> None:
    good = HEAD + f'mr_td = "{claims.mr_td}"\nrtmr3 = "{"00" * 48}"\n'
    assert _checks(claims, good, tb.now)["tdx.mr_td"] is CheckStatus.PASS
    assert _checks(claims, HEAD + "mr_td = []\n", tb.now)["tdx.mr_td"] is CheckStatus.FAIL
    warned = HEAD + f'mr_td = "{"22" * 48}"\nwarn_only = ["tdx.mr_td"]\n'
    assert _checks(claims, warned, tb.now)["tdx.mr_td"] is CheckStatus.WARN


def test_td_attributes_rules(tb: TdxTestbed) -> None:
    pks = verify(
        tb.quote(TdQuoteSpec(td_attributes=bytes.fromhex("0000004000000080"))),
        trust=tb.trust(),
        now=tb.now,
        collateral=tb.collateral(),
    )
    statuses = _checks(pks, HEAD, tb.now)
    assert statuses["tdx.td_attributes.sept_ve_disable"] is CheckStatus.FAIL
    assert statuses["tdx.td_attributes.pks"] is CheckStatus.PASS
    assert statuses["tdx.td_attributes.perfmon"] is CheckStatus.PASS
    strict = HEAD + 'td_attributes = { require_sept_ve_disable = false, allowed_bits = ["pks"] }\n'
    statuses = _checks(pks, strict, tb.now)
    assert statuses["tdx.td_attributes.perfmon"] is CheckStatus.FAIL
    assert statuses["tdx.td_attributes.sept_ve_disable"] is CheckStatus.PASS
    reserved = verify(
        tb.quote(TdQuoteSpec(td_attributes=bytes.fromhex("0200001000000000"))),
        trust=tb.trust(),
        now=tb.now,
        collateral=tb.collateral(),
    )
    assert _checks(reserved, HEAD, tb.now)["tdx.td_attributes.reserved"] is CheckStatus.FAIL
    warn = HEAD + 'td_attributes = { reserved_bits = "warn" }\n'
    assert _checks(reserved, warn, tb.now)["tdx.td_attributes.reserved"] is CheckStatus.WARN
    exact = HEAD + 'td_attributes = "0200001000000000"\n'
    statuses = _checks(reserved, exact, tb.now)
    assert statuses["tdx.td_attributes"] is CheckStatus.PASS
    assert statuses["tdx.td_attributes.reserved"] is CheckStatus.SKIP


def test_minimums_and_hardware_pins(claims: TdxClaims, tb: TdxTestbed) -> None:
    text = HEAD + (
        'min_tee_tcb_svn = "06010400000000000000000000000000"\nmin_qe_isvsvn = 5\n'
        'min_pce_svn = 13\nfmspc = ["90c06f000000"]\nppid = ["' + "ff" * 16 + '"]\n'
    )
    statuses = _checks(claims, text, tb.now)
    assert statuses["tdx.tee_tcb_svn"] is CheckStatus.FAIL
    assert statuses["tdx.qe_isvsvn"] is CheckStatus.FAIL
    assert statuses["tdx.pce_svn"] is CheckStatus.PASS
    assert statuses["tdx.fmspc"] is CheckStatus.PASS
    assert statuses["tdx.ppid"] is CheckStatus.FAIL


def test_service_td_rules(tb: TdxTestbed) -> None:
    bound = verify(
        tb.quote(TdQuoteSpec(version=5, body_type=3, mr_service_td=b"\x05" * 48)),
        trust=tb.trust(),
        now=tb.now,
        collateral=tb.collateral(),
    )
    assert _checks(bound, HEAD, tb.now)["tdx.mr_service_td"] is CheckStatus.FAIL
    allowed = HEAD + f'mr_service_td = "{"05" * 48}"\n'
    assert _checks(bound, allowed, tb.now)["tdx.mr_service_td"] is CheckStatus.PASS
    td10 = verify(tb.quote(), trust=tb.trust(), now=tb.now, collateral=tb.collateral())
    assert _checks(td10, allowed, tb.now)["tdx.mr_service_td"] is CheckStatus.FAIL
    assert _checks(td10, HEAD, tb.now)["tdx.mr_service_td"] is CheckStatus.PASS


def test_report_data_binding(tb: TdxTestbed) -> None:
    nonce = bytes(range(64))
    claims = verify(
        tb.quote(TdQuoteSpec(report_data=nonce)),
        trust=tb.trust(),
        now=tb.now,
        collateral=tb.collateral(),
    )
    assert (
        _checks(claims, HEAD + f'report_data = "{nonce.hex()}"\n', tb.now)["tdx.report_data"]
        is CheckStatus.PASS
    )
    assert (
        _checks(claims, HEAD + f'report_data = "{"00" * 64}"\n', tb.now)["tdx.report_data"]
        is CheckStatus.FAIL
    )


def test_no_tdx_section_rejects(claims: TdxClaims) -> None:
    appraisal = appraise([claims], parse_policy("version = 1\n"), datetime(2026, 2, 1, tzinfo=UTC))
    assert not appraisal.accepted
    assert [c.id for c in appraisal.checks] == ["policy.component"]
