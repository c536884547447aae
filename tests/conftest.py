"""Shared test configuration: hermetic network, fixture paths, the `--live` switch."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
REAL = FIXTURES / "real"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--live",
        action="store_true",
        default=False,
        help="run tests that contact real vendor services (off in CI)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--live"):
        return
    skip = pytest.mark.skip(reason="LIVE TEST SKIPPED: needs --live and network access")
    for item in items:
        if "live" in item.keywords:
            item.add_marker(skip)


_LOOPBACK = {"127.0.0.1", "::1", "localhost"}


@pytest.fixture(autouse=True)
def _private_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """CLI runs use a throwaway collateral cache, never the user's."""
    monkeypatch.setenv("TEECLIENT_CACHE_DIR", str(tmp_path_factory.mktemp("teeclient-cache")))


@pytest.fixture(autouse=True)
def _no_trust_log(monkeypatch: pytest.MonkeyPatch) -> None:
    """CLI runs never write the user's trust log (tests that need one set their own file)."""
    monkeypatch.setenv("TEECLIENT_NO_TRUST_LOG", "1")
    monkeypatch.delenv("TEECLIENT_TRUST_LOG", raising=False)


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Iterator[None]:
    """Refuse every connection that is not to loopback (tests never touch the internet)."""
    if "live" in request.keywords:
        yield
        return
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: Any) -> Any:
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and host not in _LOOPBACK and not host.startswith("127."):
            raise AssertionError(f"test tried to reach the network: {address!r}")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)
    yield


def load_expectations(platform: str) -> dict[str, Any]:
    """The expectations.json of a real-vector folder."""
    data: dict[str, Any] = json.loads((REAL / platform / "expectations.json").read_text())
    return data
