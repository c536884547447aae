"""Shared machines for the end-to-end tests: one per (platform, GPU count) per session."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import pytest

from teeclient.attest import attest
from teeclient.collateral.fetch import HttpFetcher
from teeclient.errors import AttestationRejected, TeeclientError
from teeclient.identity import EnclaveIdentity
from teeclient.policy.result import CheckStatus
from teeclient.testing.enclave import MockEnclave
from teeclient.testing.hardware import HardwareSpec, MockHardware, VendorPkis

NOW = datetime(2026, 2, 1, 10, 30, tzinfo=UTC)
PLATFORMS = ("sev-snp", "tdx", "nitro")
GPU_COUNTS = (0, 1, 8)
BASE = "http://enclave.test"

_machines: dict[tuple[str, int], MockHardware] = {}
_lock = threading.Lock()


def clock() -> datetime:
    """The fixed time of every end-to-end test (enclave and client agree)."""
    return NOW


def spec_for(platform: str, gpus: int) -> HardwareSpec:
    """0 or 1 Hopper GPU, or a PPCIE node (8 Hopper GPUs and 4 NVSwitches)."""
    return HardwareSpec(platform=platform, gpus=gpus, switches=4 if gpus == 8 else 0)


@pytest.fixture
def machine(mock_pkis: VendorPkis) -> Callable[[str, int], MockHardware]:
    """``machine(platform, gpus)``: the session's healthy machine of that shape."""

    def get(platform: str, gpus: int) -> MockHardware:
        with _lock:
            key = (platform, gpus)
            if key not in _machines:
                _machines[key] = MockHardware(spec_for(platform, gpus), pkis=mock_pkis)
            return _machines[key]

    return get


@dataclass(frozen=True, slots=True)
class Client:
    """How a test reaches an enclave: its base URL and an httpx client."""

    url: str
    http: httpx.Client
    enclave: MockEnclave

    def attest(self, healthy: MockHardware, **kw: object) -> EnclaveIdentity:
        """``attest()`` with the healthy machine's policy and roots, fetching from the enclave's
        fake vendors."""
        settings = self.enclave.collateral_settings(self.url)
        return attest(
            self.url,
            client=self.http,
            policy=healthy.policy(),
            trust=healthy.trust_store(),
            fetcher=HttpFetcher(settings=settings, client=self.http),
            settings=settings,
            clock=clock,
            **kw,  # type: ignore[arg-type]
        )


@pytest.fixture(params=["mock-transport", "loopback"])
def connect(request: pytest.FixtureRequest) -> Iterator[Callable[[MockHardware], Client]]:
    """``connect(hardware)`` → a Client reaching a mock enclave in process or over loopback."""
    opened: list[Callable[[], None]] = []

    def make(hardware: MockHardware) -> Client:
        enclave = MockEnclave(hardware, clock=clock)
        if request.param == "mock-transport":
            http = httpx.Client(transport=enclave.transport())
            opened.append(http.close)
            return Client(BASE, http, enclave)
        running = enclave.serve()
        http = httpx.Client(trust_env=False)
        opened.extend([running.close, http.close])
        return Client(running.url, http, enclave)

    yield make
    for close in reversed(opened):
        close()


def outcome(run: Callable[[], object]) -> str:
    """``accepted``, the error code raised, or ``check:<failed ids>`` for a policy rejection."""
    try:
        run()
    except AttestationRejected as exc:
        failed = sorted(c.id for c in exc.appraisal.checks if c.status is CheckStatus.FAIL)
        return "check:" + ",".join(failed)
    except TeeclientError as exc:
        return exc.code
    return "accepted"


def matches(got: str, expected: str) -> bool:
    """An error code equals; an expected check id is among the failed checks."""
    if expected.startswith("check:") and got.startswith("check:"):
        return expected.removeprefix("check:") in got.removeprefix("check:").split(",")
    return got == expected
