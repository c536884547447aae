"""appraise(): OR across alternatives, accepted iff nothing fails, skips listed, never silent."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache

import pytest

from teeclient.platforms.sev_snp.claims import SnpClaims
from teeclient.platforms.sev_snp.verify import verify
from teeclient.policy.appraise import COMPONENT_CHECK_ID, appraise
from teeclient.policy.checks.sev_snp import CHECKS
from teeclient.policy.load import parse_policy
from teeclient.policy.result import Appraisal, CheckStatus
from teeclient.trust import TrustStore
from tests._snp import Vector

NOW = datetime(2026, 1, 1, tzinfo=UTC)
OTHER = "ab" * 48


@cache
def claims(name: str = "genoa-v5-oak") -> SnpClaims:
    vector = Vector(name)
    return verify(
        vector.report,
        trust=TrustStore.vendor(),
        now=vector.now,
        collateral=vector.collateral(),
        product=vector.v2_product,
    )


def measurement(name: str = "genoa-v5-oak") -> str:
    value: str = Vector(name).fields["measurement"]
    return value


def run(text: str, *items: SnpClaims) -> Appraisal:
    return appraise(list(items) or [claims()], parse_policy(text, source="t.toml"), NOW)


def test_second_alternative_accepts() -> None:
    appraisal = run(f"""
version = 1
[[sev_snp]]
name = "pinned-elsewhere"
measurement = "{OTHER}"
[[sev_snp]]
name = "this-one"
measurement = "{measurement()}"
""")
    assert appraisal.accepted
    (component,) = appraisal.components
    assert component.accepted
    assert component.alternative == 1
    assert component.alternative_name == "this-one"
    # only the deciding alternative's checks are reported
    assert {c.alternative for c in appraisal.checks} == {1}
    assert sorted(c.id for c in appraisal.checks) == sorted(CHECKS)
    assert not appraisal.with_status(CheckStatus.FAIL)


def test_first_accepting_alternative_wins() -> None:
    appraisal = run('version = 1\n[[sev_snp]]\nname = "a"\n[[sev_snp]]\nname = "b"\n')
    assert appraisal.components[0].alternative == 0
    assert appraisal.components[0].alternative_name == "a"


def test_no_alternative_accepts() -> None:
    appraisal = run(f"""
version = 1
[[sev_snp]]
measurement = "{OTHER}"
[[sev_snp]]
vmpl = 3
[[sev_snp]]
products = ["turin"]
""")
    assert not appraisal.accepted
    component = appraisal.components[0]
    assert component.alternative is None
    assert component.alternative_name is None
    assert {c.alternative for c in appraisal.checks} == {0, 1, 2}
    assert len(appraisal.checks) == 3 * len(CHECKS)
    fails = {(c.alternative, c.id) for c in appraisal.with_status(CheckStatus.FAIL)}
    assert fails == {(0, "sev_snp.measurement"), (1, "sev_snp.vmpl"), (2, "sev_snp.product")}


@pytest.mark.parametrize(
    ("text", "actual"),
    [("version = 1\n", "none"), ("version = 1\nsev_snp = []\n", "empty list")],
)
def test_no_sev_snp_section_rejects(text: str, actual: str) -> None:
    appraisal = run(text)
    assert not appraisal.accepted
    (check,) = appraisal.checks
    assert check.id == COMPONENT_CHECK_ID == "policy.component"
    assert check.status is CheckStatus.FAIL
    assert check.actual == actual
    assert check.alternative is None


def test_accepted_iff_no_fail_warn_and_skip_do_not_reject() -> None:
    # Turin: nothing constrained except a warn-only miss → accepted with warn and skips
    appraisal = run(
        f'version = 1\n[[sev_snp]]\nmeasurement = "{OTHER}"\nwarn_only = ["sev_snp.measurement"]\n',
        claims("turin-v5-oak"),
    )
    summary = appraisal.summary()
    assert summary["fail"] == 0
    assert summary["warn"] == 1
    assert summary["skip"] > 0
    assert appraisal.accepted
    rejected = run(f'version = 1\n[[sev_snp]]\nmeasurement = "{OTHER}"\n')
    assert rejected.summary()["fail"] == 1
    assert not rejected.accepted


def test_skips_are_listed_with_a_reason() -> None:
    appraisal = run("version = 1\n[[sev_snp]]\n")
    skipped = {c.id: c for c in appraisal.with_status(CheckStatus.SKIP)}
    assert "sev_snp.measurement" in skipped
    measurement_check = skipped["sev_snp.measurement"]
    assert measurement_check.message
    assert measurement_check.actual == measurement()
    assert measurement_check.expected is None
    for check_id in (
        "sev_snp.host_data",
        "sev_snp.report_data",
        "sev_snp.tcb",
        "sev_snp.firmware",
        "sev_snp.revocation",
        "sev_snp.vmpl",
    ):
        assert check_id in skipped


def test_summary_and_json() -> None:
    appraisal = run(f'version = 1\nname = "n"\n[[sev_snp]]\nmeasurement = "{OTHER}"\n')
    summary = appraisal.summary()
    assert sum(summary.values()) == len(appraisal.checks) == len(CHECKS)
    for status in CheckStatus:
        assert summary[status.value] == len(appraisal.with_status(status))
    out = json.loads(json.dumps(appraisal.to_dict()))
    assert out["accepted"] is False
    assert out["at"] == "2026-01-01T00:00:00Z"
    assert out["policy"]["name"] == "n"
    assert out["policy"]["source"] == "t.toml"
    assert len(out["policy"]["sha256"]) == 64
    assert out["components"][0]["kind"] == "sev-snp"
    assert out["components"][0]["verified"] is True
    assert out["components"][0]["claims"]["measurement"] == measurement()
    by_id = {c["id"]: c for c in out["checks"]}
    assert by_id["sev_snp.measurement"]["status"] == "fail"
    assert by_id["sev_snp.measurement"]["expected"] == OTHER
    assert by_id["sev_snp.measurement"]["actual"] == measurement()


def test_several_components_all_must_pass() -> None:
    pinned = f'version = 1\n[[sev_snp]]\nmeasurement = "{measurement()}"\n'
    both = run(pinned, claims(), claims("turin-v5-oak"))
    assert [c.accepted for c in both.components] == [True, False]
    assert [c.label for c in both.components] == ["sev-snp[0]", "sev-snp[1]"]
    assert not both.accepted
    assert run(pinned, claims(), claims()).accepted


@dataclass(frozen=True)
class OtherClaims:
    kind: str = "tdx"

    def to_dict(self) -> dict[str, object]:
        return {}

    def summary(self) -> list[str]:
        return []


def test_component_of_an_unknown_kind_rejects() -> None:
    appraisal = appraise([OtherClaims()], parse_policy("version = 1\n[[sev_snp]]\n"), NOW)
    assert not appraisal.accepted
    (check,) = appraisal.checks
    assert check.id == COMPONENT_CHECK_ID
    assert check.status is CheckStatus.FAIL


def test_no_components_is_not_accepted() -> None:
    assert not appraise([], parse_policy("version = 1\n[[sev_snp]]\n"), NOW).accepted


def test_now_must_be_aware() -> None:
    with pytest.raises(ValueError):  # noqa: PT011 (a programmer error: no code to assert)
        appraise([claims()], parse_policy("version = 1\n"), datetime(2026, 1, 1))
