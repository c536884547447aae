"""`policy diff`: changes per alternative, in words; exit 0 identical, 1 different."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from teeclient.cli import app
from teeclient.policy.diff import diff_tables

runner = CliRunner()

OLD = """version = 1
name = "prod"
[revocation]
amd_crl = "if-present"
[[sev_snp]]
name = "genoa"
products = ["genoa"]
measurement = "AA"
min_guest_svn = 2
min_tcb = { bl = 7, snp = 14, ucode = 72 }
[[tdx]]
name = "tdx"
allowed_tcb_status = ["UpToDate"]
"""


def test_identical_policies(tmp_path: Path) -> None:
    a = tmp_path / "a.toml"
    a.write_text(OLD.replace('"AA"', '"' + "ab" * 48 + '"'))
    b = tmp_path / "b.toml"
    b.write_text(a.read_text().replace("ab" * 48, "0x" + "AB" * 48))
    result = runner.invoke(app, ["policy", "diff", str(a), str(b)])
    assert result.exit_code == 0
    assert "equivalent" in result.stdout


def test_changes_in_words(tmp_path: Path) -> None:
    a = tmp_path / "a.toml"
    a.write_text(OLD.replace('"AA"', '"' + "ab" * 48 + '"'))
    new = (
        a.read_text()
        .replace('amd_crl = "if-present"', 'amd_crl = "require"')
        .replace('products = ["genoa"]', 'products = ["genoa", "turin"]')
        .replace("min_guest_svn = 2", "min_guest_svn = 3")
        .replace("ucode = 72", "ucode = 84")
        .replace('[[tdx]]\nname = "tdx"\nallowed_tcb_status = ["UpToDate"]\n', "")
    )
    new += '[[nitro]]\nname = "enclave"\npcr0 = "' + "cd" * 48 + '"\n'
    b = tmp_path / "b.toml"
    b.write_text(new)
    result = runner.invoke(app, ["policy", "diff", str(a), str(b)])
    assert result.exit_code == 1
    text = result.stdout
    assert 'revocation.amd_crl changed from "if-present" to "require"' in text
    assert '[[sev_snp]] "genoa": products now also accepts "turin"' in text
    assert '[[sev_snp]] "genoa": min_guest_svn raised from 2 to 3 (stricter)' in text
    assert '[[sev_snp]] "genoa": min_tcb.ucode raised from 72 to 84' in text
    assert "[[tdx]] section removed" in text
    assert "[[nitro]] section added" in text
    doc = json.loads(runner.invoke(app, ["policy", "diff", str(a), str(b), "--json"]).stdout)
    assert doc["schema"] == "teeclient.policy-diff/v1"
    kinds = {(c["where"], c["key"]): c["kind"] for c in doc["changes"]}
    assert kinds[('[[sev_snp]] "genoa"', "products")] == "widened"
    assert kinds[('[[sev_snp]] "genoa"', "min_guest_svn")] == "raised"


def test_alternatives_paired_by_name() -> None:
    old = {"sev_snp": [{"name": "a", "vmpl": 0}, {"name": "b", "vmpl": 1}]}
    new = {"sev_snp": [{"name": "b", "vmpl": 1}, {"name": "c", "vmpl": 0}]}
    texts = [c.text for c in diff_tables(old, new)]
    assert texts == [
        '[[sev_snp]] "a" alternative removed: accepts less',
        '[[sev_snp]] "c" alternative added: accepts more (OR)',
    ]


def test_invalid_policy_exits_2(tmp_path: Path) -> None:
    a = tmp_path / "a.toml"
    a.write_text("version = 1\n[[sev_snp]]\nmeasurment = 1\n")
    result = runner.invoke(app, ["policy", "diff", str(a), str(a), "--json"])
    assert result.exit_code == 2
    assert json.loads(result.stdout)["error"]["code"] == "policy.unknown_key"
