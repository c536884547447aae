"""The local trust log: accepted verifications are appended; a changed identity warns."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from teeclient.bundle import Bundle
from teeclient.cli import app
from teeclient.trustlog import LogEntry, TrustLog, default_log_path, log_settings

ROOT = Path(__file__).resolve().parents[2]
BUNDLES = ROOT / "examples" / "ci" / "bundles"
runner = CliRunner()


@pytest.fixture
def log_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "trust-log.jsonl"
    monkeypatch.setenv("TEECLIENT_TRUST_LOG", str(path))
    monkeypatch.delenv("TEECLIENT_NO_TRUST_LOG", raising=False)
    return path


def _verify(*args: str) -> tuple[int, dict[str, Any], str]:
    result = runner.invoke(app, ["verify", *args, "--json"])
    return result.exit_code, json.loads(result.stdout), result.stderr


def test_tests_never_log_by_default(tmp_path: Path) -> None:
    enabled, _ = log_settings()
    assert enabled is False  # tests/conftest.py sets TEECLIENT_NO_TRUST_LOG


def test_default_locations() -> None:
    assert default_log_path(platform="linux", environ={"HOME": "/h"}) == Path(
        "/h/.local/share/teeclient/trust-log.jsonl"
    )
    assert default_log_path(
        platform="linux", environ={"HOME": "/h", "XDG_DATA_HOME": "/x"}
    ) == Path("/x/teeclient/trust-log.jsonl")
    assert default_log_path(platform="darwin", environ={"HOME": "/h"}) == Path(
        "/h/Library/Application Support/teeclient/trust-log.jsonl"
    )
    assert default_log_path(platform="win32", environ={"APPDATA": "C:/a"}) == Path(
        "C:/a/teeclient/trust-log.jsonl"
    )


def test_accepted_verification_is_logged(log_file: Path) -> None:
    code, _, _ = _verify(str(BUNDLES / "tdx.bundle.json"))
    assert code == 0
    lines = log_file.read_text().splitlines()
    assert len(lines) == 1
    entry = json.loads(lines[0])
    assert entry["schema"] == "teeclient.trust-log/v1"
    assert entry["platform"] == "tdx"
    assert entry["source"] == "fixtures/real/tdx/v4-b0c06f-dcap/quote.dat"
    assert entry["at"] == "2025-07-01T00:00:00Z"
    assert entry["policy"]["name"] == "baseline"
    assert len(entry["policy"]["sha256"]) == 64
    assert set(entry["measurements"]["tdx[0]"]) == {
        "mr_seam",
        "mr_td",
        "rtmr0",
        "rtmr1",
        "rtmr2",
        "rtmr3",
    }


def test_rejected_and_no_log_are_not_logged(log_file: Path) -> None:
    policy = str(ROOT / "examples" / "ci" / "policy.toml")
    code, _, _ = _verify(str(BUNDLES / "nitro-debug.bundle.json"), "--policy", policy)
    assert code == 1
    code, _, _ = _verify(str(BUNDLES / "tdx.bundle.json"), "--no-log")
    assert code == 0
    assert not log_file.exists()


def test_env_off_and_log_flag(log_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEECLIENT_NO_TRUST_LOG", "1")
    _verify(str(BUNDLES / "tdx.bundle.json"))
    assert not log_file.exists()
    _verify(str(BUNDLES / "tdx.bundle.json"), "--log")
    assert len(log_file.read_text().splitlines()) == 1


def _with_other_measurement(tmp_path: Path, source_of: str, evidence_of: str) -> Path:
    """A bundle with the evidence of one recording under the name (target) of another."""
    a = Bundle.from_json((BUNDLES / f"{source_of}.bundle.json").read_bytes())
    b = Bundle.from_json((BUNDLES / f"{evidence_of}.bundle.json").read_bytes())
    from dataclasses import replace

    path = tmp_path / "moved.bundle.json"
    path.write_bytes(replace(b, target=a.target).to_json())
    return path


def test_changed_measurement_warns(log_file: Path, tmp_path: Path) -> None:
    code, first, _ = _verify(str(BUNDLES / "nitro.bundle.json"))
    assert code == 0
    assert all(c["id"] != "log.changed" for c in first["checks"])
    moved = _with_other_measurement(tmp_path, "nitro", "nitro-debug")
    code, second, stderr = _verify(str(moved), "--policy", str(_allow_debug(tmp_path)))
    assert code == 0  # a warning never rejects
    changed = [c for c in second["checks"] if c["id"] == "log.changed"]
    assert len(changed) == 1
    assert changed[0]["status"] == "warn"
    assert "nitro[0] pcr0 changed" in changed[0]["message"]
    assert "WARNING" in stderr and "pcr0 changed" in stderr
    shown = runner.invoke(app, ["log", "show", "--json"])
    doc = json.loads(shown.stdout)
    assert doc["schema"] == "teeclient.log-show/v1"
    assert [e["platform"] for e in doc["entries"]] == ["nitro", "nitro"]
    human = runner.invoke(app, ["log", "show"]).stdout
    assert "CHANGED" in human
    assert "! nitro[0] pcr0:" in human


def _allow_debug(tmp_path: Path) -> Path:
    policy = tmp_path / "debug-ok.toml"
    policy.write_text("version = 1\n[[nitro]]\nallow_debug = true\n")
    return policy


def test_unreadable_lines_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    log = TrustLog(path)
    entry = LogEntry(
        source="s",
        platform="tdx",
        at=datetime(2026, 1, 1, tzinfo=UTC),
        logged_at=datetime(2026, 1, 1, tzinfo=UTC),
        policy_name=None,
        policy_sha256=None,
        evidence_sha256=None,
        components={"tdx[0]": {"mr_td": "aa"}},
    )
    log.append(entry)
    with path.open("a") as handle:
        handle.write("not json\n{}\n")
    entries, bad = log.read()
    assert entries == [entry]
    assert bad == 2
    later = LogEntry(**{**_fields(entry), "components": {"tdx[0]": {"mr_td": "bb"}}})
    assert log.changes(later) == [("tdx[0] mr_td", "aa", "bb")]


def _fields(entry: LogEntry) -> dict[str, Any]:
    return {f: getattr(entry, f) for f in entry.__dataclass_fields__}


def test_log_show_empty_and_explicit_file(tmp_path: Path) -> None:
    result = runner.invoke(app, ["log", "show", "--file", str(tmp_path / "none.jsonl")])
    assert result.exit_code == 0
    assert "0 entries" in result.stdout
    src = tmp_path / "copy.jsonl"
    shutil.copy(ROOT / "pyproject.toml", src)  # not a log: every line unreadable
    result = runner.invoke(app, ["log", "show", "--file", str(src), "--json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["entries"] == []
