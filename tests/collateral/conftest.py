"""Fixtures for collateral tests: a loopback KDS, a raw misbehaving server, a test clock."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from teeclient.collateral.settings import DEFAULT_BASE_URLS, CollateralSettings

REAL = Path(__file__).resolve().parent.parent.parent / "fixtures" / "real" / "sev-snp"
GENOA = REAL / "genoa-v5-oak"
GENOA_NOW = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass
class Clock:
    """A settable clock for caches and fetchers."""

    now: datetime = GENOA_NOW

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@pytest.fixture
def clock() -> Clock:
    return Clock()


def fast_settings(
    base: str, cache_dir: Path | None = None, **changes: object
) -> CollateralSettings:
    """Settings pointing AMD KDS at ``base`` with small timeouts suitable for tests."""
    from dataclasses import replace

    settings = CollateralSettings(cache_dir=cache_dir).with_base_url("amd_kds", base)
    defaults: dict[str, object] = {
        "connect_timeout": 1.0,
        "read_timeout": 0.5,
        "deadline": 3.0,
        "attempts": 3,
        "backoff_base": 0.01,
        "backoff_max": 0.05,
    }
    defaults.update(changes)
    return replace(settings, **defaults)  # type: ignore[arg-type]


def service_settings(
    base: str, cache_dir: Path | None = None, **changes: object
) -> CollateralSettings:
    """``fast_settings`` with every service (AMD, Intel, NVIDIA) at the loopback ``base``; the
    Intel root CA CRL (a full URL) at ``{base}/IntelSGXRootCA.der``."""
    settings = fast_settings(base, cache_dir, **changes)
    for service in DEFAULT_BASE_URLS:
        url = f"{base.rstrip('/')}/IntelSGXRootCA.der" if service == "intel_root_crl" else base
        settings = settings.with_base_url(service, url)
    return settings


# A CLI run in a process where every socket creation or connection fails (and is counted).
NO_SOCKET = """
import socket, sys
attempts = []
class Blocked(socket.socket):
    def __init__(self, *a, **k):
        attempts.append(a)
        raise OSError("network blocked in this test")
socket.socket = Blocked
def create_connection(*a, **k):
    attempts.append(a)
    raise OSError("network blocked in this test")
socket.create_connection = create_connection
import atexit
atexit.register(lambda: sys.stderr.write(f"SOCKET_ATTEMPTS={len(attempts)}\\n"))
from teeclient.cli import main
sys.argv = ["teeclient"] + sys.argv[1:]
main()
"""


def run_without_network(*args: str) -> tuple[int, dict[str, Any], str]:
    """Run ``teeclient ARGS`` with sockets blocked; (exit code, JSON output, stderr)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.run(
        [sys.executable, "-c", NO_SOCKET, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert "SOCKET_ATTEMPTS=0" in proc.stderr, proc.stderr
    return proc.returncode, json.loads(proc.stdout), proc.stderr


def appraisal_checks(doc: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(id, status, message) of every non-collateral check of a teeclient.verify/v1 output."""
    checks = doc["checks"]
    assert isinstance(checks, list)
    return [
        (c["id"], c["status"], c["message"])
        for c in checks
        if not c["id"].startswith("collateral.")
    ]


@dataclass
class RawServer:
    """A loopback TCP server answering each connection with a scripted behaviour."""

    port: int
    connections: list[bytes] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@pytest.fixture
def raw_server() -> Iterator[Callable[[Callable[[socket.socket, int], None]], RawServer]]:
    """Start a server whose handler(sock, n) writes raw bytes for the n-th connection."""
    servers: list[tuple[socket.socket, threading.Thread]] = []
    stop = threading.Event()

    def start(handler: Callable[[socket.socket, int], None]) -> RawServer:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        listener.settimeout(0.2)
        server = RawServer(port=listener.getsockname()[1])

        def loop() -> None:
            count = 0
            while not stop.is_set():
                try:
                    conn, _ = listener.accept()
                except TimeoutError:
                    continue
                except OSError:
                    return
                with conn:
                    conn.settimeout(2)
                    try:
                        server.connections.append(conn.recv(65536))
                        handler(conn, count)
                    except OSError:
                        pass
                count += 1

        thread = threading.Thread(target=loop, daemon=True)
        thread.start()
        servers.append((listener, thread))
        return server

    yield start
    stop.set()
    for listener, thread in servers:
        listener.close()
        thread.join(timeout=2)
