"""`policy init` then `policy test` accepts the same bundle; one edited byte rejects."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from teeclient.cli import app

ROOT = Path(__file__).resolve().parents[2]
BUNDLES = ROOT / "examples" / "ci" / "bundles"
runner = CliRunner()

# bundle -> (policy key whose pinned value is edited, the check id that must then fail)
PINNED = {
    "sev-snp-genoa": ("measurement", "sev_snp.measurement"),
    "tdx": ("mr_td", "tdx.mr_td"),
    "nitro": ("pcr0", "nitro.pcr0"),
}


def _init(bundle: str, out: Path) -> str:
    result = runner.invoke(
        app, ["policy", "init", str(BUNDLES / f"{bundle}.bundle.json"), "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    return out.read_text()


def _test(policy: Path, bundle: str, tmp: Path, expect: str) -> dict[str, object]:
    case = tmp / "cases" / bundle
    case.mkdir(parents=True, exist_ok=True)
    (case / "case.toml").write_text(
        f'bundle = "{BUNDLES / (bundle + ".bundle.json")}"\nexpect = "{expect}"\n'
    )
    result = runner.invoke(app, ["policy", "test", str(policy), str(tmp / "cases"), "--json"])
    doc = json.loads(result.stdout)
    assert doc["schema"] == "teeclient.policy-test/v1"
    observed: dict[str, object] = doc["cases"][0]["observed"]
    observed["exit_code"] = result.exit_code
    return observed


@pytest.mark.parametrize("bundle", [*PINNED, "nvidia-h100"])
def test_init_then_test_accepts(bundle: str, tmp_path: Path) -> None:
    policy = tmp_path / "policy.toml"
    text = _init(bundle, policy)
    assert text.startswith("# Policy written by `teeclient policy init`")
    lint = runner.invoke(app, ["policy", "lint", str(policy)])
    assert lint.exit_code == 0, lint.output
    observed = _test(policy, bundle, tmp_path, "accepted")
    assert observed["outcome"] == "accepted"
    assert observed["exit_code"] == 0


@pytest.mark.parametrize("bundle", list(PINNED))
def test_one_edited_byte_rejects_with_the_check_id(bundle: str, tmp_path: Path) -> None:
    key, check_id = PINNED[bundle]
    policy = tmp_path / "policy.toml"
    text = _init(bundle, policy)
    match = re.search(rf'^{key} = "([0-9a-f]{{96}})"', text, re.MULTILINE)
    assert match is not None, text
    value = match.group(1)
    edited = f"{int(value[:2], 16) ^ 0x01:02x}" + value[2:]
    policy.write_text(text.replace(f'{key} = "{value}"', f'{key} = "{edited}"'))
    observed = _test(policy, bundle, tmp_path, "accepted")
    assert observed["outcome"] == "rejected"
    assert observed["fail"] == [check_id]
    assert observed["exit_code"] == 1


def test_edited_gpu_driver_version_rejects(tmp_path: Path) -> None:
    policy = tmp_path / "policy.toml"
    text = _init("nvidia-h100", policy)
    assert 'driver_versions = ["550.90.07"]' in text
    assert 'vbios_versions = ["96.00.9F.00.01"]' in text
    policy.write_text(text.replace('"550.90.07"', '"550.90.08"'))
    observed = _test(policy, "nvidia-h100", tmp_path, "accepted")
    assert observed["fail"] == ["nvidia_gpu.driver_version"]


def test_init_pins_what_the_platform_shows(tmp_path: Path) -> None:
    snp = _init("sev-snp-genoa", tmp_path / "snp.toml")
    for fragment in (
        'products = ["genoa"]',
        'signing_keys = ["vcek"]',
        "min_tcb = { bl = 10, tee = 0, snp = 25, ucode = 84 }",
        'min_firmware = "1.55.43"',
        "# chip_ids = ",
        "# report_data = ",
    ):
        assert fragment in snp
    tdx = _init("tdx", tmp_path / "tdx.toml")
    for fragment in ("mr_seam = ", "rtmr3 = ", 'fmspc = ["b0c06f000000"]', "min_pce_svn = 11"):
        assert fragment in tdx
    nitro = _init("nitro", tmp_path / "nitro.toml")
    assert 'regions = ["us-east-1"]' in nitro
    assert "# pcr4 = " in nitro


def test_init_to_stdout_and_refuses_to_overwrite(tmp_path: Path) -> None:
    result = runner.invoke(app, ["policy", "init", str(BUNDLES / "tdx.bundle.json")])
    assert result.exit_code == 0
    assert "[[tdx]]" in result.stdout
    out = tmp_path / "p.toml"
    out.write_text("keep")
    result = runner.invoke(
        app, ["policy", "init", str(BUNDLES / "tdx.bundle.json"), "-o", str(out)]
    )
    assert result.exit_code == 2
    assert out.read_text() == "keep"


def test_init_of_debug_evidence_says_so(tmp_path: Path) -> None:
    out = tmp_path / "p.toml"
    result = runner.invoke(
        app, ["policy", "init", str(BUNDLES / "nitro-debug.bundle.json"), "-o", str(out)]
    )
    assert result.exit_code == 0
    assert "review: AWS Nitro enclave runs in debug mode" in result.stderr
    assert "allow_debug = true  # WARNING" in out.read_text()


def test_init_needs_a_bundle() -> None:
    report = ROOT / "fixtures" / "real" / "sev-snp" / "genoa-v5-oak" / "report.bin"
    result = runner.invoke(app, ["policy", "init", str(report)])
    assert result.exit_code == 2
