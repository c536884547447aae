"""`teeclient chat` and `teeclient demo`: attested, encrypted chat from the command line."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from teeclient.cli import app
from teeclient.testing.loopback import LoopbackServer
from teeclient.testing.standin import StandIn, hardware, standin

RUNNER = CliRunner()
POLICY = """
version = 1
[[sev_snp]]
products = ["genoa"]
measurement = "{m}"
"""


def invoke(*args: str | Path) -> tuple[int, str, str]:
    result = RUNNER.invoke(app, [str(a) for a in args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def enclave(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[StandIn, str]]:
    # the stand-in's roots are generated: trust them explicitly, as --trust FILE would
    module = importlib.import_module("teeclient.cli.chat")  # (the package's `chat` is the command)
    monkeypatch.setattr(module, "_trust", lambda path: hardware().trust)
    stand_in = standin(api_key="sk-cli")
    with LoopbackServer(stand_in, capture=True) as server:
        yield stand_in, server.url


def _policy(tmp_path: Path, measurement: bytes) -> Path:
    path = tmp_path / "policy.toml"
    path.write_text(POLICY.format(m=measurement.hex()))
    return path


@pytest.mark.parametrize("stream", [True, False])
def test_chat_prints_the_answer(
    enclave: tuple[StandIn, str], tmp_path: Path, stream: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    stand_in, url = enclave
    monkeypatch.setenv("TEECLIENT_API_KEY", "sk-cli")
    args: list[str | Path] = [
        "chat",
        url,
        "hello enclave",
        "--policy",
        _policy(tmp_path, stand_in.measurement),
    ]
    code, out, err = invoke(*args, *(["--stream"] if stream else []), "--offline")
    assert code == 0, err
    assert out == "Echo: hello enclave\n"
    assert "pinned key sha256:" in err
    assert "sev-snp.measurement" in err


def test_chat_rejected_by_policy_exits_1_and_sends_nothing(
    enclave: tuple[StandIn, str], tmp_path: Path
) -> None:
    stand_in, url = enclave
    code, out, err = invoke(
        "chat", url, "secret prompt", "--policy", _policy(tmp_path, bytes(48)), "--offline"
    )
    assert code == 1
    assert out == ""
    assert "policy.rejected" in err
    assert stand_in.gateway.requests == 0


def test_chat_with_a_wrong_api_key_reports_the_authenticated_error(
    enclave: tuple[StandIn, str], tmp_path: Path
) -> None:
    stand_in, url = enclave
    code, _out, err = invoke(
        "chat",
        url,
        "hi",
        "--policy",
        _policy(tmp_path, stand_in.measurement),
        "--api-key",
        "sk-wrong",
        "--model",
        "m",
        "--offline",
    )
    assert code == 4
    assert "401" in err


def test_chat_unreachable_endpoint_exits_4() -> None:
    code, _out, err = invoke("chat", "http://127.0.0.1:9", "hi", "--offline")
    assert code == 4
    assert "transport" in err


def test_demo_runs_offline_and_shows_what_was_protected() -> None:
    code, out, err = invoke("demo", "--no-color")
    assert code == 0, err
    assert "ACCEPTED" in out
    assert "Encrypted chat (streaming)" in out
    assert "Echo: Why should I trust a model that runs in a TEE?" in out
    assert out.count("never in clear") == 5
    assert "LEAKED" not in out
    assert "sha256:" in out


def test_demo_without_streaming() -> None:
    code, out, _err = invoke("demo", "--no-stream", "--no-color", "--prompt", "short question")
    assert code == 0
    assert "Echo: short question" in out
