"""Explanations: every check id has one; sharper text where claims help; verify --explain."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar, cast

from typer.testing import CliRunner

from teeclient.cli import app
from teeclient.policy.appraise import COMPONENT_CHECK_ID
from teeclient.policy.checks import all_checks
from teeclient.policy.explain import EXPLANATIONS, explain
from teeclient.policy.result import Check, CheckStatus, Claims

ROOT = Path(__file__).resolve().parents[2]
BUNDLES = ROOT / "examples" / "ci" / "bundles"
POLICY = ROOT / "examples" / "ci" / "policy.toml"
runner = CliRunner()


def test_every_known_check_id_has_an_explanation() -> None:
    known = {COMPONENT_CHECK_ID} | {i for ids in all_checks().values() for i in ids}
    missing = sorted(known - set(EXPLANATIONS))
    assert not missing, f"add these to src/teeclient/policy/explain.py: {missing}"
    stale = sorted(set(EXPLANATIONS) - known)
    assert not stale, f"explanations for unknown check ids: {stale}"
    for check_id, item in EXPLANATIONS.items():
        assert item.cause.strip() and item.remedy.strip(), check_id


def test_checks_page_carries_the_remedies() -> None:
    page = (ROOT / "docs" / "checks.md").read_text()
    assert "likely cause when it fails or warns" in page
    assert EXPLANATIONS["tdx.tcb_status"].remedy.split("`")[0] in page


@dataclass(frozen=True)
class _TdxStub:
    kind: ClassVar[str] = "tdx"
    tcb_date: datetime
    advisory_ids: tuple[str, ...]

    def to_dict(self) -> dict[str, object]:
        return {}

    def summary(self) -> list[str]:
        return []


def test_tdx_out_of_date_names_the_date_and_the_grace() -> None:
    check = Check(
        id="tdx.tcb_status",
        component="tdx[0]",
        status=CheckStatus.FAIL,
        expected=("UpToDate",),
        actual="OutOfDate",
        message="TCB status OutOfDate is not accepted",
        alternative=0,
    )
    stub = _TdxStub(tcb_date=datetime(2026, 1, 12, tzinfo=UTC), advisory_ids=("INTEL-SA-01234",))
    now = datetime(2026, 2, 11, tzinfo=UTC)
    out = explain(check, claims=cast(Claims, stub), now=now)
    assert "OutOfDate" in out.cause
    assert "2026-01-12" in out.cause
    assert "INTEL-SA-01234" in out.cause
    assert "microcode" in out.remedy
    assert 'ootd_grace = "60d"' in out.remedy  # 30 days elapsed + 30 more
    assert out.found == "OutOfDate"
    assert out.expected == ("UpToDate",)


def test_snp_tcb_names_the_components() -> None:
    check = Check(
        id="sev_snp.tcb",
        component="sev-snp[0]",
        status=CheckStatus.FAIL,
        expected="bl>=10, ucode>=90",
        actual="bl=10, tee=0, snp=25, ucode=84",
        message="REPORTED_TCB is below the minimum in ucode",
        alternative=0,
    )
    out = explain(check, now=datetime(2026, 1, 1, tzinfo=UTC))
    assert "CPU microcode" in out.cause
    assert "firmware/microcode update" in out.remedy


def test_verify_explain_json_and_human() -> None:
    bundle = str(BUNDLES / "nitro-debug.bundle.json")
    result = runner.invoke(
        app, ["verify", bundle, "--policy", str(POLICY), "--explain", "--json", "--offline"]
    )
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    failed = [c for c in doc["checks"] if c["status"] == "fail"]
    assert {c["id"] for c in failed} == {
        "nitro.debug",
        "nitro.pcr0",
        "nitro.pcr1",
        "nitro.pcr2",
        "nitro.pcr8",
    }
    for check in failed:
        explanation = check["explanation"]
        assert set(explanation) == {"expected", "found", "cause", "remedy"}
        assert explanation["found"] == check["actual"]
    passed = [c for c in doc["checks"] if c["status"] == "pass"]
    assert all("explanation" not in c for c in passed)
    human = runner.invoke(app, ["verify", bundle, "--policy", str(POLICY), "--explain"])
    assert "explain: 5 check(s) failed or warned" in human.stdout
    assert "remedy    Run the enclave without --debug-mode" in human.stdout


def test_without_explain_json_is_unchanged() -> None:
    bundle = str(BUNDLES / "nitro-debug.bundle.json")
    doc = json.loads(runner.invoke(app, ["verify", bundle, "--json"]).stdout)
    assert all("explanation" not in c for c in doc["checks"])
