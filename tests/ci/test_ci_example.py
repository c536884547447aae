"""The CI example (examples/ci): `policy test` over recorded bundles of every platform."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from teeclient.cli import app

ROOT = Path(__file__).resolve().parents[2]
CI = ROOT / "examples" / "ci"
runner = CliRunner()


def _run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout


def _junit(path: Path) -> ET.Element:
    root = ET.parse(path).getroot()  # noqa: S314 (our own output)
    assert root.tag == "testsuites"
    return root


def test_example_passes_and_writes_junit(tmp_path: Path) -> None:
    report = tmp_path / "policy-test.xml"
    code, out = _run(
        "policy", "test", str(CI / "policy.toml"), str(CI / "cases"), "--junit", str(report)
    )
    assert code == 0, out
    assert "8 case(s): 8 as expected, 0 surprise(s)" in out
    root = _junit(report)
    suite = root.find("testsuite")
    assert suite is not None
    assert suite.get("name") == "ci-example"
    assert (suite.get("tests"), suite.get("failures")) == ("8", "0")
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    assert set(cases) == {
        "nitro",
        "nitro-debug",
        "nvidia-h100",
        "sev-snp-genoa",
        "sev-snp-genoa-2033",
        "sev-snp-milan-debug",
        "tdx",
        "tdx-debug-td",
    }
    assert all(c.find("failure") is None for c in cases.values())
    # every platform on main is covered
    platforms = {str(c.get("classname")).rsplit(".", 1)[1] for c in cases.values()}
    assert platforms == {"sev-snp", "tdx", "nitro", "nvidia"}
    # cases that must be rejected carry their explanations
    out_text = cases["tdx-debug-td"].findtext("system-out") or ""
    assert "FAIL tdx.td_attributes.debug" in out_text
    assert "remedy" in out_text


def test_example_json_lists_every_case() -> None:
    code, out = _run("policy", "test", str(CI / "policy.toml"), str(CI / "cases"), "--json")
    assert code == 0
    doc: dict[str, Any] = json.loads(out)
    assert doc["schema"] == "teeclient.policy-test/v1"
    assert doc["summary"] == {"cases": 8, "as_expected": 8, "surprises": 0}
    by_name = {c["name"]: c for c in doc["cases"]}
    assert by_name["nitro-debug"]["observed"]["outcome"] == "rejected"
    assert by_name["sev-snp-genoa-2033"]["observed"]["error"] == "chain.expired"


def _copy_cases(tmp_path: Path) -> Path:
    cases = tmp_path / "cases"
    shutil.copytree(CI / "cases", cases)
    shutil.copytree(CI / "bundles", tmp_path / "bundles")
    return cases


@pytest.mark.parametrize(
    ("case", "text", "problem"),
    [
        # a rejected bundle wrongly expected to pass
        (
            "nitro-debug",
            'bundle = "../../bundles/nitro-debug.bundle.json"\nexpect = "accepted"\n',
            "expected accepted, got rejected",
        ),
        # the right outcome but a check id missing from the expectation
        (
            "nitro-debug",
            'bundle = "../../bundles/nitro-debug.bundle.json"\nexpect = "rejected"\n'
            'fail = ["nitro.debug", "nitro.pcr0", "nitro.pcr1", "nitro.pcr2"]\n',
            "failed unexpectedly: nitro.pcr8",
        ),
        # an accepted bundle expected to fail
        (
            "tdx",
            'bundle = "../../bundles/tdx.bundle.json"\nexpect = "rejected"\nfail = ["tdx.mr_td"]\n',
            "expected rejected [tdx.mr_td], got accepted",
        ),
        # the wrong error code
        (
            "sev-snp-genoa-2033",
            'bundle = "../../bundles/sev-snp-genoa.bundle.json"\nat = 2033-01-01T00:00:00Z\n'
            'expect = "error"\nerror = "chain.revoked"\n',
            "expected error chain.revoked, got chain.expired",
        ),
    ],
)
def test_a_surprise_fails_the_run(tmp_path: Path, case: str, text: str, problem: str) -> None:
    cases = _copy_cases(tmp_path)
    (cases / case / "case.toml").write_text(text)
    report = tmp_path / "report.xml"
    code, out = _run("policy", "test", str(CI / "policy.toml"), str(cases), "--junit", str(report))
    assert code == 1, out
    assert "1 surprise(s)" in out
    assert problem in out
    suite = _junit(report).find("testsuite")
    assert suite is not None
    assert suite.get("failures") == "1"
    failed = [c for c in suite.findall("testcase") if c.find("failure") is not None]
    assert [c.get("name") for c in failed] == [case]
    failure = failed[0].find("failure")
    assert failure is not None
    assert problem in (failure.get("message") or "") + (failure.text or "")


def test_a_tampered_bundle_is_a_surprise(tmp_path: Path) -> None:
    cases = _copy_cases(tmp_path)
    bundle = tmp_path / "bundles" / "sev-snp-genoa.bundle.json"
    doc = json.loads(bundle.read_text())
    import base64
    import hashlib

    data = bytearray(base64.b64decode(doc["evidence"]["data"]))
    data[0x90] ^= 1  # MEASUREMENT, inside the signed report
    doc["evidence"]["data"] = base64.b64encode(bytes(data)).decode()
    doc["evidence"]["sha256"] = hashlib.sha256(bytes(data)).hexdigest()
    bundle.write_text(json.dumps(doc))
    code, out = _run("policy", "test", str(CI / "policy.toml"), str(cases), "--json")
    assert code == 1
    by_name = {c["name"]: c for c in json.loads(out)["cases"]}
    assert by_name["sev-snp-genoa"]["observed"]["outcome"] == "error"
    assert by_name["sev-snp-genoa"]["observed"]["error"] == "snp.signature_invalid"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ('bundle = "../../bundles/tdx.bundle.json"\nexpect = "maybe"\n', "policytest.case_invalid"),
        ('bundle = "missing.json"\nexpect = "accepted"\n', "policytest.case_invalid"),
        (
            'bundle = "../../bundles/tdx.bundle.json"\nexpect = "accepted"\nfial = []\n',
            "policytest.case_invalid",
        ),
    ],
)
def test_invalid_case_exits_2(tmp_path: Path, text: str, code: str) -> None:
    cases = _copy_cases(tmp_path)
    (cases / "tdx" / "case.toml").write_text(text)
    exit_code, out = _run("policy", "test", str(CI / "policy.toml"), str(cases), "--json")
    assert exit_code == 2
    assert json.loads(out)["error"]["code"] == code


def test_no_cases_and_bad_policy_exit_2(tmp_path: Path) -> None:
    code, _ = _run("policy", "test", str(CI / "policy.toml"), str(tmp_path))
    assert code == 2
    bad = tmp_path / "bad.toml"
    bad.write_text("version = 1\n[[sev_snp]]\nmeasurment = 'x'\n")
    code, _ = _run("policy", "test", str(bad), str(CI / "cases"))
    assert code == 2


def test_recorded_example_is_current() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "make_ci_example.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_github_workflow_runs_policy_test() -> None:
    text = (CI / "github-workflow.yml").read_text()
    assert text in (ROOT / "docs" / "ci.md").read_text()  # the docs show the file as it is
    assert "teeclient policy test" in text
    assert "--junit policy-test.xml" in text
    assert "report_paths: policy-test.xml" in text
