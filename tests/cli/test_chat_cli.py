"""`teeclient chat` and `teeclient demo` against the mock enclave (model behind the gateway)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from teeclient.cli import app
from teeclient.testing.hardware import Fault, HardwareSpec, MockHardware, VendorPkis
from tests.e2e._encrypted import Running, encrypted_enclave

RUNNER = CliRunner()


def invoke(*args: str | Path) -> tuple[int, str, str]:
    result = RUNNER.invoke(app, [str(a) for a in args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def healthy(mock_pkis: VendorPkis) -> MockHardware:
    return MockHardware(HardwareSpec(platform="sev-snp"), pkis=mock_pkis)


@pytest.fixture
def files(healthy: MockHardware, tmp_path: Path) -> tuple[Path, Path]:
    trust, policy = tmp_path / "trust.toml", tmp_path / "policy.toml"
    trust.write_text(healthy.trust_file())
    policy.write_text(healthy.policy_toml())
    return trust, policy


@pytest.fixture
def running(healthy: MockHardware) -> Iterator[Running]:
    with encrypted_enclave(healthy) as running:
        yield running


@pytest.mark.parametrize("stream", [True, False])
def test_chat_prints_the_answer(
    running: Running, files: tuple[Path, Path], stream: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    trust, policy = files
    monkeypatch.setenv("TEECLIENT_API_KEY", "sk-cli")
    args: list[str | Path] = ["chat", running.url, "hello enclave", "--trust", trust]
    code, out, err = invoke(*args, "--policy", policy, *(["--stream"] if stream else []))
    assert code == 0, err
    assert out.startswith("You said: hello enclave")
    assert out.endswith("\n")
    assert "pinned key sha256:" in err
    assert "sev-snp.measurement" in err
    assert b"sk-cli" not in running.wire()
    assert b"hello enclave" not in running.wire()


def test_chat_without_the_trust_file_is_invalid_evidence(
    running: Running, files: tuple[Path, Path]
) -> None:
    _trust, policy = files
    code, out, err = invoke("chat", running.url, "secret prompt", "--policy", policy)
    assert code == 3
    assert out == ""
    assert "chain.untrusted" in err


def test_chat_rejected_by_policy_exits_1_and_sends_nothing(
    healthy: MockHardware, files: tuple[Path, Path]
) -> None:
    trust, policy = files
    with encrypted_enclave(healthy, serve=healthy.with_faults(Fault.WRONG_MEASUREMENT)) as bad:
        code, out, err = invoke(
            "chat", bad.url, "secret prompt", "--trust", trust, "--policy", policy
        )
        wire = bad.wire()
    assert code == 1
    assert out == ""
    assert "policy.rejected" in err
    assert b"secret prompt" not in wire
    assert b"ohttp-gateway" not in wire


def test_chat_unknown_model_reports_the_authenticated_error(
    running: Running, files: tuple[Path, Path]
) -> None:
    trust, policy = files
    code, _out, err = invoke(
        "chat", running.url, "hi", "--trust", trust, "--policy", policy, "--model", "nope"
    )
    assert code == 4
    assert "404" in err


def test_chat_unreachable_endpoint_exits_4() -> None:
    code, _out, err = invoke("chat", "http://127.0.0.1:9", "hi", "--offline")
    assert code == 4
    assert "transport" in err


def test_demo_runs_offline_and_shows_what_was_protected() -> None:
    code, out, err = invoke("demo", "--no-color")
    assert code == 0, err
    assert "ACCEPTED" in out
    assert "policy demo" in out
    assert "Encrypted chat (streaming)" in out
    assert "You said: Why should I trust a model that runs in a TEE?" in out
    assert out.count("never in clear") == 4
    assert "LEAKED" not in out
    assert "sha256:" in out


def test_demo_without_streaming() -> None:
    code, out, _err = invoke("demo", "--no-stream", "--no-color", "--prompt", "short question")
    assert code == 0
    assert "You said: short question" in out
