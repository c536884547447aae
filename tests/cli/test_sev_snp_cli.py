"""`teeclient` CLI on SEV-SNP evidence: exit codes, teeclient.verify/v1 JSON, inspect, policy."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from teeclient import __version__
from teeclient.cli import app
from teeclient.policy.load import baseline_text
from teeclient.policy.model import policy_json_schema
from tests._pki import amd_pki
from tests._snp import ROOT, Vector

RUNNER = CliRunner()
TEECLIENT = Path(sys.executable).parent / "teeclient"
CHECK_VECTORS = Path("/work/shared/tools/check_vectors.py")


def invoke(*args: str | Path) -> tuple[int, str, str]:
    result = RUNNER.invoke(app, [str(a) for a in args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def verify_json(
    vector: Vector, *extra: str | Path, report: Path | None = None, product: bool = True
) -> tuple[int, dict[str, Any]]:
    args: list[str | Path] = [
        "verify",
        report or vector.dir / "report.bin",
        "--collateral",
        vector.vek_path,
        "--at",
        vector.exp["verification_time"]["suggested_now"],
        "--json",
    ]
    if product and vector.v2_product:
        args += ["--product", vector.v2_product]
    code, out, _ = invoke(*args, *extra)
    doc: dict[str, Any] = json.loads(out)
    assert doc["exit_code"] == code
    return code, doc


def test_verify_accepted_json_schema() -> None:
    vector = Vector("genoa-v5-oak")
    code, doc = verify_json(vector)
    assert code == 0
    assert doc["schema"] == "teeclient.verify/v1"
    assert doc["teeclient_version"] == __version__
    assert doc["verified"] is True
    assert doc["accepted"] is True
    assert doc["error"] is None
    assert doc["at"] == "2026-01-01T00:00:00Z"
    assert doc["evidence"]["platform"] == "sev-snp"
    assert doc["evidence"]["sha256"] == vector.exp["report_sha256"]
    assert doc["policy"]["name"] == "baseline"
    assert doc["policy"]["source"] == "builtin:baseline"
    (component,) = doc["components"]
    assert component["kind"] == "sev-snp"
    assert component["verified"] is True
    assert component["accepted"] is True
    claims = component["claims"]
    for key in ("measurement", "report_data", "chip_id", "host_data", "report_id"):
        assert claims[key] == vector.fields[key]
    assert claims["reported_tcb"]["raw"] == vector.fields["reported_tcb"]
    assert claims["current_version"] == vector.fields["current_version"]
    assert claims["signing_key"] == "vcek"
    assert doc["checks"]
    for check in doc["checks"]:
        assert set(check) >= {"id", "component", "status", "expected", "actual", "message"}
        assert check["status"] in {"pass", "fail", "warn", "skip"}
    assert {c["status"] for c in doc["checks"]} <= {"pass", "skip", "warn"}
    assert sum(doc["summary"].values()) == len(doc["checks"])


def test_verify_rejected_debug_vector() -> None:
    code, doc = verify_json(Vector("milan-v2-gsg-debug"))
    assert code == 1
    assert doc["verified"] is True
    assert doc["accepted"] is False
    assert doc["error"] is None
    failing = [c["id"] for c in doc["checks"] if c["status"] == "fail"]
    assert failing == ["sev_snp.guest_policy.debug"]
    assert doc["components"][0]["claims"]["product_source"] == "caller"


def test_verify_v2_without_product() -> None:
    code, doc = verify_json(Vector("milan-v2-virtee"), product=False)
    assert code == 2
    assert doc["verified"] is False
    assert doc["accepted"] is False
    assert doc["error"]["code"] == "snp.product_required"
    assert doc["error"]["field"] == "product"
    assert doc["components"][0]["claims"] is None


def test_verify_tampered_report(tmp_path: Path) -> None:
    vector = Vector("turin-v5-oak")
    data = bytearray(vector.report)
    data[0x90] ^= 0x01
    tampered = tmp_path / "tampered.bin"
    tampered.write_bytes(bytes(data))
    code, doc = verify_json(vector, report=tampered)
    assert code == 3
    assert doc["verified"] is False
    assert doc["error"]["code"] == "snp.signature_invalid"
    assert doc["evidence"]["sha256"] == hashlib.sha256(bytes(data)).hexdigest()


def test_verify_without_vcek() -> None:
    vector = Vector("genoa-v5-oak")
    code, out, _ = invoke(
        "verify", vector.dir / "report.bin", "--at", "2026-01-01T00:00:00Z", "--json", "--offline"
    )
    doc = json.loads(out)
    assert code == 4
    assert doc["error"]["code"] == "collateral.missing"
    assert doc["verified"] is False


def test_verify_expired() -> None:
    vector = Vector("milan-v3-vlek-aws")
    code, out, _ = invoke(
        "verify",
        vector.dir / "report.bin",
        "-c",
        vector.vek_path,
        "--at",
        "2026-01-01T00:00:00Z",
        "--json",
    )
    assert code == 3
    assert json.loads(out)["error"]["code"] == "chain.expired"


def test_verify_with_policy_file(tmp_path: Path) -> None:
    vector = Vector("milan-v3-vlek-aws")
    policy = tmp_path / "aws.toml"
    policy.write_text(
        'version = 1\nname = "aws"\n[[sev_snp]]\n'
        f'measurement = "{vector.fields["measurement"]}"\n'
        'vmpl = 1\nsigning_keys = ["vlek"]\npermit_provisional_firmware = true\n'
    )
    code, doc = verify_json(vector, "--policy", policy)
    assert code == 0
    assert doc["policy"]["name"] == "aws"
    assert doc["policy"]["source"] == str(policy)
    assert doc["policy"]["sha256"] == hashlib.sha256(policy.read_bytes()).hexdigest()
    statuses = {c["id"]: c["status"] for c in doc["checks"]}
    assert statuses["sev_snp.measurement"] == "pass"
    assert statuses["sev_snp.vmpl"] == "pass"


def test_verify_invalid_policy_file(tmp_path: Path) -> None:
    policy = tmp_path / "bad.toml"
    policy.write_text('version = 1\n\n[[sev_snp]]\nvmpl = 0\nmeasurment = "00"\n')
    code, doc = verify_json(Vector("genoa-v5-oak"), "--policy", policy)
    assert code == 2
    assert doc["error"]["code"] == "policy.unknown_key"
    assert doc["error"]["line"] == 5
    assert doc["error"]["file"] == str(policy)
    assert doc["verified"] is False


def test_verify_syntax_error_policy(tmp_path: Path) -> None:
    policy = tmp_path / "bad.toml"
    policy.write_text("version = 1\n[[sev_snp]\n")
    code, doc = verify_json(Vector("genoa-v5-oak"), "--policy", policy)
    assert code == 2
    assert doc["error"]["code"] == "policy.syntax"
    assert doc["error"]["line"] == 2


@pytest.mark.parametrize("at", ["yesterday", "2026-01-01T00:00:00", "2026-13-01T00:00:00Z"])
def test_verify_bad_at(at: str) -> None:
    vector = Vector("genoa-v5-oak")
    code, out, _ = invoke(
        "verify", vector.dir / "report.bin", "-c", vector.vek_path, "--at", at, "--json"
    )
    doc = json.loads(out)
    assert code == 2
    assert doc["error"]["code"] == "usage.invalid"
    assert doc["error"]["field"] == "--at"


def test_verify_unrecognised_or_missing_files(tmp_path: Path) -> None:
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"not evidence")
    code, out, _ = invoke("verify", junk, "--json")
    assert code == 2
    assert json.loads(out)["error"]["code"] == "input.unrecognised"
    code, out, _ = invoke("verify", tmp_path / "absent.bin", "--json")
    assert code == 2
    vector = Vector("genoa-v5-oak")
    code, out, _ = invoke(
        "verify",
        vector.dir / "report.bin",
        "-c",
        tmp_path / "absent.der",
        "--at",
        "2026-01-01T00:00:00Z",
        "--json",
    )
    assert code == 2
    assert json.loads(out)["error"]["code"] == "input.unrecognised"
    corrupt = tmp_path / "corrupt.der"
    corrupt.write_bytes(b"\x30\x03\x02\x01")
    code, out, _ = invoke(
        "verify", vector.dir / "report.bin", "-c", corrupt, "--at", "2026-01-01T00:00:00Z", "--json"
    )
    assert code == 3
    assert json.loads(out)["error"]["code"] == "chain.malformed_certificate"


def test_verify_human_output() -> None:
    vector = Vector("milan-v2-gsg-debug")
    code, out, _ = invoke(
        "verify",
        vector.dir / "report.bin",
        "-c",
        vector.vek_path,
        "--product",
        "milan",
        "--at",
        "2025-01-01T00:00:00Z",
    )
    assert code == 1
    rows = [line for line in out.splitlines() if "sev_snp.guest_policy.debug" in line]
    assert len(rows) == 1
    assert rows[0].startswith("FAIL")
    assert vector.fields["measurement"] in out
    code, _, err = invoke(
        "verify", vector.dir / "report.bin", "-c", vector.vek_path, "--at", "2025-01-01T00:00:00Z"
    )
    assert code == 2  # no --product for a v2 report
    assert "snp.product_required" in err  # the code, not a message


def test_hcl_and_bundle_files() -> None:
    vector = Vector("milan-v2-azure-hcl")
    code, doc = verify_json(vector, report=vector.dir / "hcl_report.bin")
    assert code == 1  # provisional firmware under the baseline
    assert doc["verified"] is True
    assert doc["components"][0]["claims"]["hcl"]["runtime_claims_size"] > 0


# --- inspect ------------------------------------------------------------------------------


def test_inspect_report() -> None:
    vector = Vector("turin-v5-oak")
    code, out, _ = invoke("inspect", vector.dir / "report.bin", "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["schema"] == "teeclient.inspect/v1"
    assert doc["kind"] == "sev-snp-evidence"
    assert doc["error"] is None
    content = doc["content"]
    assert content["product"] == "turin"
    assert content["measurement"] == vector.fields["measurement"]
    assert content["reported_tcb"] == {
        "raw": vector.fields["reported_tcb"],
        **vector.fields["reported_tcb_decoded"],
    }
    assert content["platform_info"]["bit6"] is True


def test_inspect_v2_report_with_and_without_product() -> None:
    vector = Vector("milan-v2-trustee")
    _, out, _ = invoke("inspect", vector.dir / "report.bin", "--json")
    content = json.loads(out)["content"]
    assert content["product"] is None
    assert content["current_tcb"] == {"raw": vector.fields["current_tcb"]}
    _, out, _ = invoke("inspect", vector.dir / "report.bin", "--product", "milan", "--json")
    content = json.loads(out)["content"]
    assert content["current_tcb"]["ucode"] == vector.fields["current_tcb_decoded"]["ucode"]


def test_inspect_vcek() -> None:
    vector = Vector("turin-v5-oak")
    code, out, _ = invoke("inspect", vector.vek_path, "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["kind"] == "certificates"
    (cert,) = doc["content"]["certificates"]
    amd = cert["amd_extensions"]
    assert amd["hwid"] == "3b42092f69c656d3"
    assert amd["struct_version"] == 1
    assert amd["spl"]["fmc"] == 0
    assert amd["spl"]["ucode"] == 71
    assert cert["not_after"] == vector.exp["vek_cert"]["not_after"]
    assert cert["sha256"] == hashlib.sha256(vector.vek_bytes).hexdigest()


def test_inspect_crl(tmp_path: Path) -> None:
    pki = amd_pki("genoa")
    path = tmp_path / "crl.der"
    path.write_bytes(pki.crl(revoked=[pki.ask.serial_number, 77]))
    code, out, _ = invoke("inspect", path, "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["kind"] == "crl"
    (crl,) = doc["content"]["crls"]
    assert crl["issuer"] == pki.ark.subject.rfc4514_string()
    assert sorted(r["serial"] for r in crl["revoked"]) == sorted([str(pki.ask.serial_number), "77"])
    assert crl["this_update"] == "2025-01-01T00:00:00Z"
    assert crl["next_update"] == "2030-01-01T00:00:00Z"


def test_inspect_unknown_file(tmp_path: Path) -> None:
    junk = tmp_path / "x.bin"
    junk.write_bytes(b"hello")
    code, out, _ = invoke("inspect", junk, "--json")
    assert code == 2
    assert json.loads(out)["error"]["code"] == "input.unrecognised"
    code, out, _ = invoke("inspect", Vector("genoa-v5-oak").dir / "report.bin")
    assert code == 0
    assert "sev-snp-evidence" in out


# --- policy commands ------------------------------------------------------------------------


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_policy_lint(tmp_path: Path) -> None:
    clean = _write(
        tmp_path,
        "clean.toml",
        'version = 1\n[revocation]\namd_crl = "require"\n'
        f'[[sev_snp]]\nmeasurement = "{"ab" * 48}"\n',
    )
    code, out, _ = invoke("policy", "lint", clean, "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["valid"] is True
    assert doc["warnings"] == []
    assert doc["error"] is None
    assert invoke("policy", "lint", clean, "--strict")[0] == 0

    warned = _write(tmp_path, "warned.toml", "version = 1\n[[sev_snp]]\nvmpl = 0\n")
    code, out, _ = invoke("policy", "lint", warned, "--json")
    assert code == 0
    assert [w["code"] for w in json.loads(out)["warnings"]] == ["lint.unpinned_measurement"]
    assert invoke("policy", "lint", warned, "--strict")[0] == 1
    code, out, _ = invoke("policy", "lint", warned)
    assert code == 0
    assert "lint.unpinned_measurement" in out

    invalid = _write(tmp_path, "invalid.toml", "version = 1\n[[sev_snp]]\n\nvmpl = 7\n")
    code, out, _ = invoke("policy", "lint", invalid, "--json")
    assert code == 2
    doc = json.loads(out)
    assert doc["valid"] is False
    assert doc["error"]["code"] == "policy.invalid_value"
    assert doc["error"]["line"] == 4
    code, _, err = invoke("policy", "lint", invalid)
    assert code == 2
    assert err.startswith(f"{invalid}:4:")
    assert invoke("policy", "lint", tmp_path / "missing.toml")[0] == 2


def test_policy_lint_shipped_files() -> None:
    for path in sorted((ROOT / "policies").rglob("*.toml")):
        code, out, _ = invoke("policy", "lint", path, "--json")
        assert code == 0, path
        assert json.loads(out)["valid"] is True


def test_policy_schema() -> None:
    code, out, _ = invoke("policy", "schema")
    assert code == 0
    assert json.loads(out) == json.loads(json.dumps(policy_json_schema()))


def test_policy_show() -> None:
    code, out, _ = invoke("policy", "show", "baseline")
    assert code == 0
    assert out == baseline_text()
    assert out == (ROOT / "policies" / "baseline.toml").read_text()
    assert invoke("policy", "show")[1] == out
    assert invoke("policy", "show", "nonexistent")[0] == 2


def test_version() -> None:
    assert invoke("version")[1].strip() == __version__


# --- real processes -------------------------------------------------------------------------


def _env() -> dict[str, str]:
    return {**os.environ, "PATH": f"{TEECLIENT.parent}{os.pathsep}{os.environ.get('PATH', '')}"}


def test_real_process_exit_codes(tmp_path: Path) -> None:
    assert TEECLIENT.exists(), "run the tests from the project's virtual environment"
    vector = Vector("genoa-v5-oak")
    base = [
        str(TEECLIENT),
        "verify",
        "-c",
        str(vector.vek_path),
        "--at",
        "2026-01-01T00:00:00Z",
        "--json",
    ]
    proc = subprocess.run(
        [*base, str(vector.dir / "report.bin")],
        capture_output=True,
        text=True,
        timeout=60,
        env=_env(),
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["accepted"] is True
    tampered = tmp_path / "t.bin"
    data = bytearray(vector.report)
    data[0x300] ^= 0x40
    tampered.write_bytes(bytes(data))
    proc = subprocess.run(
        [*base, str(tampered)], capture_output=True, text=True, timeout=60, env=_env()
    )
    assert proc.returncode == 3
    assert json.loads(proc.stdout)["error"]["code"] == "snp.signature_invalid"


def test_check_vectors_tool() -> None:
    if not CHECK_VECTORS.exists():
        pytest.skip(f"SHARED TOOL MISSING: {CHECK_VECTORS} (not part of this repository)")
    proc = subprocess.run(
        [sys.executable, str(CHECK_VECTORS), "sev-snp"],
        capture_output=True,
        text=True,
        timeout=300,
        env=_env(),
    )
    lines = proc.stdout.strip().splitlines()
    assert lines[-1].startswith("11/11"), proc.stdout + proc.stderr
    assert proc.returncode == 0
    assert not [line for line in lines if line.startswith("BAD")]
