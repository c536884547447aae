"""`teeclient verify` / `inspect` / `policy lint` on TDX quotes: exit codes and the JSON schema."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from teeclient.cli import app
from tests.tdx_support import TDX, collateral_paths, expectations, names

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


def _verify(args: list[str]) -> tuple[int, dict[str, Any]]:
    result = runner.invoke(app, ["verify", *args, "--json"])
    return result.exit_code, json.loads(result.stdout)


def _args(name: str) -> list[str]:
    out = [str(TDX / name / "quote.dat")]
    for path in collateral_paths(name):
        out += ["--collateral", str(path)]
    return [*out, "--at", expectations()[name]["verification_time"]["suggested_now"]]


@pytest.mark.parametrize("name", names(with_collateral=True))
def test_verify_json_for_every_vector(name: str) -> None:
    code, out = _verify(_args(name))
    e = expectations()[name]
    assert out["schema"] == "teeclient.verify/v1"
    assert out["verified"] is True
    assert out["evidence"]["platform"] == "tdx"
    claims = out["components"][0]["claims"]
    assert claims["tcb_status"] == e["expected"]["final_tcb_status_intel_qvl_rules"]
    for key in ("mrtd", "rtmr0", "rtmr1", "rtmr2", "rtmr3", "report_data"):
        assert claims[key] == e["td_body"][key]
    accepted = e["expected"]["final_tcb_status_intel_qvl_rules"] == "UpToDate" and (
        name != "v4-50806f-debugtd-trustee"
    )
    assert code == (0 if accepted else 1)
    assert out["accepted"] is accepted
    assert {c["id"] for c in out["checks"]} >= {"tdx.tcb_status", "tdx.td_attributes.debug"}


def test_missing_collateral_exit_4() -> None:
    # --offline: nothing supplied, so the PCS requests would otherwise go to Intel.
    code, out = _verify(
        [
            str(TDX / "v4-gcp-cos113-padded" / "quote.dat"),
            "--at",
            "2025-01-01T00:00:00Z",
            "--offline",
        ]
    )
    assert code == 4
    assert out["verified"] is False
    assert out["error"]["code"] == "collateral.missing"
    assert out["error"]["field"] == "tdx.tcb_info.00806f050000"


def test_tampered_quote_exit_3(tmp_path: Path) -> None:
    name = "v4-b0c06f-dcap"
    data = bytearray((TDX / name / "quote.dat").read_bytes())
    data[0x100] ^= 1
    path = tmp_path / "quote.dat"
    path.write_bytes(bytes(data))
    args = _args(name)
    args[0] = str(path)
    code, out = _verify(args)
    assert code == 3
    assert out["error"]["code"] == "tdx.quote_signature_invalid"


def test_example_policy_accepts_its_quote() -> None:
    code, out = _verify(
        [
            *_args("v4-b0c06f-dcap"),
            "--policy",
            str(ROOT / "policies" / "examples" / "tdx-production.toml"),
        ]
    )
    assert code == 0, [c for c in out["checks"] if c["status"] == "fail"]
    assert out["components"][0]["alternative_name"] == "image-2025-06"


def test_human_output_names_the_failing_check() -> None:
    result = runner.invoke(app, ["verify", *_args("v4-50806f-debugtd-trustee")])
    assert result.exit_code == 1
    assert "REJECTED" in result.stdout
    assert "tdx.td_attributes.debug" in result.stdout
    assert "TCB status UpToDate" in result.stdout


def test_inspect_quote_without_collateral() -> None:
    result = runner.invoke(
        app, ["inspect", str(TDX / "v4-gcp-cos113-padded" / "quote.dat"), "--json"]
    )
    assert result.exit_code == 0
    out = json.loads(result.stdout)
    assert out["kind"] == "tdx-evidence"
    content = out["content"]
    assert content["trailing_bytes"] == 3065
    assert content["pck_chain"][0]["sgx_extensions"]["fmspc"] == "00806f050000"
    assert content["qe_report_data_binds_attestation_key"] is True


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("collateral-2026-01-tinfoil/tcb_info_90c06f000000.json", "intel-tcb-info"),
        ("collateral-2026-01-tinfoil/qe_identity.json", "intel-qe-identity"),
        ("v4-b0c06f-dcap/collateral.json", "dcap-qvl-collateral"),
        ("collateral-2026-01-tinfoil/pck_crl_platform.der", "crl"),
        ("collateral-2026-01-tinfoil/tcb_info_90c06f000000_issuer_chain.pem", "certificates"),
    ],
)
def test_inspect_collateral(path: str, kind: str) -> None:
    result = runner.invoke(app, ["inspect", str(TDX / path), "--json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["kind"] == kind


def test_inspect_pck_certificate_shows_sgx_extensions(tmp_path: Path) -> None:
    from teeclient.platforms.tdx import abi

    quote = abi.parse_quote((TDX / "v4-b0c06f-dcap" / "quote.dat").read_bytes())
    path = tmp_path / "pck.der"
    path.write_bytes(quote.pck_chain_der[0])
    result = runner.invoke(app, ["inspect", str(path), "--json"])
    cert = json.loads(result.stdout)["content"]["certificates"][0]
    assert cert["intel_sgx_extensions"]["fmspc"] == "b0c06f000000"


def test_policy_lint_example_and_sections() -> None:
    result = runner.invoke(
        app, ["policy", "lint", str(ROOT / "policies" / "examples" / "tdx-production.toml")]
    )
    assert result.exit_code == 0
    assert "sections: tdx" in result.stdout
    baseline = runner.invoke(app, ["policy", "lint", str(ROOT / "policies" / "baseline.toml")])
    assert "sections: sev_snp, tdx" in baseline.stdout


def test_sgx_quote_is_recognised_and_unsupported(tmp_path: Path) -> None:
    data = bytearray((TDX / "v4-b0c06f-dcap" / "quote.dat").read_bytes())
    data[4:8] = bytes(4)
    path = tmp_path / "sgx.dat"
    path.write_bytes(bytes(data))
    code, out = _verify([str(path)])
    assert code == 3
    assert out["error"]["code"] == "evidence.unsupported"
