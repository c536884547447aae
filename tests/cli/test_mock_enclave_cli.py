"""`teeclient mock-enclave`: runs, prints the URL, trust file and policy a client needs, and a
client that passes them (and only then) attests the enclave; bad options exit 2."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from teeclient.attest import attest
from teeclient.client import Client
from teeclient.errors import TeeclientError
from teeclient.policy.load import load_policy
from teeclient.trust import TrustStore

CLI = str(Path(sys.executable).with_name("teeclient"))


def _start(tmp_path: Path, *args: str) -> tuple[subprocess.Popen[str], dict[str, str]]:
    proc = subprocess.Popen(
        [CLI, "mock-enclave", "--json", "--output-dir", str(tmp_path), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        proc.wait(timeout=10)
        pytest.fail(f"mock-enclave did not start: {proc.stderr.read() if proc.stderr else ''}")
    info: dict[str, str] = json.loads(line)
    return proc, info


def _stop(proc: subprocess.Popen[str]) -> int:
    proc.send_signal(signal.SIGTERM)
    return proc.wait(timeout=10)


@pytest.mark.parametrize(
    "args",
    [
        ("--platform", "sev-snp", "--product", "milan"),
        ("--platform", "tdx", "--gpus", "1"),
        ("--platform", "nitro", "--gpus", "8", "--switches", "4"),
    ],
)
def test_mock_enclave_serves_what_the_printed_files_accept(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    proc, info = _start(tmp_path, *args)
    try:
        assert Path(info["trust_file"]).is_file()
        policy = load_policy(info["policy_file"])
        with httpx.Client(trust_env=False) as client:
            with pytest.raises(TeeclientError) as untrusted:
                attest(info["url"], client=client, policy=policy)
            assert untrusted.value.code == "chain.untrusted"
            trust = TrustStore.vendor().with_trust_file(info["trust_file"])
            identity = attest(info["url"], client=client, policy=policy, trust=trust)
            assert identity.layout == "teeclient-v1"
            # the model sits behind the chunked-OHTTP gateway: plaintext gets nothing ...
            assert client.get(info["url"] + "/v1/models").status_code == 404
        # ... and teeclient's encrypted client gets the model
        with Client(info["url"], policy=policy, trust=trust, offline=True) as encrypted:
            models = encrypted.http.get("/v1/models").json()
            assert models["data"][0]["id"] == "teeclient-mock-1"
        assert set(info["collateral_base_urls"]) == {
            "amd_kds",
            "intel_pcs",
            "nvidia_rim",
            "nvidia_ocsp",
            "intel_root_crl",
        }
    finally:
        assert _stop(proc) == 0


def test_a_fault_is_served(tmp_path: Path) -> None:
    proc, info = _start(tmp_path, "--fault", "revoked_vcek")
    try:
        trust = TrustStore.empty().with_trust_file(info["trust_file"])
        with httpx.Client(trust_env=False) as client, pytest.raises(TeeclientError) as failure:
            attest(info["url"], client=client, policy=load_policy(info["policy_file"]), trust=trust)
        assert failure.value.code == "chain.revoked"
    finally:
        _stop(proc)


def test_human_output_names_everything(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [CLI, "mock-enclave", "--output-dir", str(tmp_path)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdout is not None
    lines = [proc.stdout.readline() for _ in range(5)]
    _stop(proc)
    text = "".join(lines)
    assert "url:         http://127.0.0.1:" in text
    assert str(tmp_path / "trust.toml") in text
    assert str(tmp_path / "policy.toml") in text
    assert "--kds-url http://127.0.0.1:" in text


@pytest.mark.parametrize(
    "args",
    [
        ("--gpus", "9"),
        ("--platform", "sgx"),
        ("--fault", "nonsense"),
        ("--fault", "missing_gpu"),  # no GPU to miss
        ("--switches", "4", "--gpus", "1"),
    ],
)
def test_bad_options_exit_2(args: tuple[str, ...]) -> None:
    done = subprocess.run([CLI, "mock-enclave", *args], capture_output=True, text=True, timeout=30)
    assert done.returncode == 2, done.stderr
    assert "teeclient:" in done.stderr
