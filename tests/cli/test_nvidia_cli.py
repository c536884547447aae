"""`teeclient verify` and `inspect` on NVIDIA evidence: exit codes and the --json schema."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from teeclient.cli import app
from tests._nvidia import DEVICE_OCSP, E2E, E2E_NONCE, E2E_RIMS, RIM_OCSP, V

runner = CliRunner()
REPORT = str(E2E / "hopperAttestationReport.txt")
CHAIN = str(E2E / "hopperCertChain.txt")


def _verify(*args: str) -> tuple[int, dict[str, Any]]:
    # --offline: RIMs and OCSP answers come from --collateral only (the CLI would otherwise
    # fetch what is missing from NVIDIA; tests/collateral serves that on loopback).
    result = runner.invoke(app, ["verify", *args, "--json", "--offline"])
    return result.exit_code, json.loads(result.stdout)


def _col(paths: list[Path]) -> list[str]:
    return [x for p in paths for x in ("--collateral", str(p))]


def test_e2e_accepted_at_device_clock_with_nonce() -> None:
    code, out = _verify(
        REPORT,
        "--collateral",
        CHAIN,
        *_col(E2E_RIMS),
        *_col(DEVICE_OCSP),
        "--at",
        "2025-08-21T12:00:00Z",
        "--nonce",
        E2E_NONCE.hex(),
    )
    assert code == 0, out["checks"]
    assert out["schema"] == "teeclient.verify/v1"
    assert out["verified"]
    assert out["accepted"]
    kinds = [c["kind"] for c in out["components"]]
    assert kinds == ["nvidia-node", "nvidia-gpu"]
    gpu = out["components"][1]["claims"]
    assert gpu["driver_version"] == "550.90.07"
    assert gpu["vbios_version"] == "96.00.9F.00.01"
    assert gpu["measurements"]["result"] == "success"


def test_without_nonce_is_rejected_by_baseline() -> None:
    code, out = _verify(
        REPORT, "--collateral", CHAIN, *_col(E2E_RIMS), "--at", "2025-08-21T12:00:00Z"
    )
    assert code == 1
    assert out["verified"]
    assert not out["accepted"]
    failed = {c["id"] for c in out["checks"] if c["status"] == "fail"}
    assert failed == {"gpu.nonce"}


def test_exit_codes_for_invalid_evidence_collateral_and_usage() -> None:
    code, out = _verify(
        str(V / "nvat-testdata/gpu/hopper_AttestationReport_InvalidSignature.txt"),
        "--collateral",
        str(V / "nvat-testdata/gpu/hopper_580.159.03_CertChain.txt"),
        "--at",
        "2026-01-01T00:00:00Z",
    )
    assert code == 3
    assert out["error"]["code"] == "nvidia.signature_invalid"
    code, out = _verify(
        REPORT,
        "--collateral",
        CHAIN,
        *_col(DEVICE_OCSP),
        "--nonce",
        E2E_NONCE.hex(),
        "--at",
        "2026-11-27T00:00:00Z",
    )
    assert code == 4
    assert out["error"]["code"] == "nvidia.ocsp_responder_expired"
    code, out = _verify(
        REPORT,
        "--collateral",
        CHAIN,
        *_col(RIM_OCSP),
        *_col(E2E_RIMS),
        "--at",
        "2026-11-27T00:00:00Z",
    )
    assert code == 4
    assert out["error"]["code"] == "nvidia.rim_cert_expired"
    code, out = _verify(REPORT, "--collateral", CHAIN, "--nonce", "abc")
    assert code == 2
    assert out["error"]["code"] == "usage.invalid"
    code, out = _verify(REPORT, "--collateral", CHAIN, "--nonce", "00" * 32)
    assert code == 3
    assert out["error"]["code"] == "nvidia.nonce_mismatch"
    code, out = _verify(REPORT)
    assert code == 4
    assert out["error"]["code"] == "collateral.missing"


def test_ppcie_node_with_switch_evidence_as_collateral(tmp_path: Path) -> None:
    policy = tmp_path / "p.toml"
    policy.write_text(
        'version = 1\n[revocation]\nnvidia_ocsp = "off"\n[gpu]\ncount = 8\n'
        "switch_count = 4\n[[nvidia_gpu]]\nrequire_measurements = false\n"
        "[[nvidia_switch]]\nrequire_measurements = false\n"
    )
    code, out = _verify(
        str(V / "ppcie/hgx_h100_8gpu_ppcie_590.12_gpu_evidence.json"),
        "--collateral",
        str(V / "ppcie/hgx_4x_ls10_switch_evidence.json"),
        "--nonce",
        "4760e30534a0621357d458b1a7936551b5dc4cd1e69718adf7ed9fb0252a537e",
        "--policy",
        str(policy),
        "--at",
        "2026-11-27T00:00:00Z",
    )
    assert code == 0, [c for c in out["checks"] if c["status"] == "fail"]
    assert len(out["components"]) == 13


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        (E2E / "hopperAttestationReport.txt", "nvidia-evidence"),
        (V / "ppcie/hgx_4x_ls10_switch_evidence.json", "nvidia-evidence"),
        (E2E / "nras_v4_claims3_detached_eat.json", "nvidia-evidence"),
        (E2E / "NV_GPU_DRIVER_GH100_550.90.07.xml", "nvidia-rim"),
        (DEVICE_OCSP[0], "ocsp-response"),
    ],
)
def test_inspect(path: Path, kind: str) -> None:
    result = runner.invoke(app, ["inspect", str(path), "--json"])
    assert result.exit_code == 0, result.stdout
    out = json.loads(result.stdout)
    assert out["kind"] == kind
    assert out["error"] is None
    if path.name == "hopperAttestationReport.txt":
        dev = out["content"]["devices"][0]
        assert dev["opaque"]["decoded"]["VBIOS_VERSION"] == "96.00.9F.00.01"
        assert dev["request"]["nonce"] == E2E_NONCE.hex()
