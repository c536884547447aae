"""pytest fixtures for testing code that talks to teeclient-compatible enclaves.

Registered through the ``pytest11`` entry point ``teeclient``, so installing teeclient makes
these fixtures available in any pytest run (docs/testing.md). Nothing is trusted implicitly:
each fixture hands out the trust store and trust file of the generated roots for you to pass.

* ``mock_pkis`` (session) — the generated vendor PKIs, shared by every machine of the session;
* ``mock_hardware`` — a factory: ``mock_hardware(platform="tdx", gpus=8, switches=4,
  faults=["debug"])`` → ``MockHardware``;
* ``mock_enclave_factory`` — ``mock_enclave_factory(hardware=None, **spec)`` → a running
  loopback ``MockEnclaveServer`` (stopped at the end of the test);
* ``mock_enclave`` — a running SEV-SNP enclave with no GPU: ``.url``, ``.trust_store``,
  ``.trust_file`` (a path), ``.policy``, ``.policy_file`` (a path), ``.collateral_settings``,
  ``.enclave`` (the ``MockEnclave``: ``.transport()`` for in-process use).

The pytest import of this module is light: teeclient.testing is imported when a fixture runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from teeclient.collateral.settings import CollateralSettings
    from teeclient.policy.model import Policy
    from teeclient.testing.enclave import MockEnclave, RunningEnclave
    from teeclient.testing.hardware import MockHardware, VendorPkis
    from teeclient.trust import TrustStore

__all__ = [
    "MockEnclaveServer",
    "mock_enclave",
    "mock_enclave_factory",
    "mock_hardware",
    "mock_pkis",
]


@dataclass(frozen=True, slots=True)
class MockEnclaveServer:
    """A running loopback mock enclave and everything a client needs to accept it."""

    running: RunningEnclave
    trust_file: Path
    policy_file: Path

    @property
    def url(self) -> str:
        """The enclave's base URL (``http://127.0.0.1:<port>``)."""
        return self.running.url

    @property
    def enclave(self) -> MockEnclave:
        """The enclave (hardware, keys, request log, ``transport()``)."""
        return self.running.enclave

    @property
    def hardware(self) -> MockHardware:
        """The mock hardware."""
        return self.running.enclave.hardware

    @property
    def trust_store(self) -> TrustStore:
        """A store trusting only the generated roots: pass it as ``trust=``."""
        return self.running.enclave.trust_store()

    @property
    def policy(self) -> Policy:
        """The policy that accepts the healthy enclave."""
        return self.running.enclave.policy()

    def collateral_settings(self) -> CollateralSettings:
        """Collateral settings pointing every vendor service at this enclave (no cache)."""
        return self.running.collateral_settings()


@pytest.fixture(scope="session")
def mock_pkis() -> VendorPkis:
    """Generated vendor PKIs shared by the whole session."""
    from teeclient.testing.hardware import VendorPkis

    return VendorPkis()


@pytest.fixture
def mock_hardware(mock_pkis: VendorPkis) -> Callable[..., MockHardware]:
    """A factory of mock machines: keyword arguments are ``HardwareSpec`` fields."""
    from teeclient.testing.hardware import MockHardware

    def make(**spec: Any) -> MockHardware:
        return MockHardware(pkis=mock_pkis, **spec)

    return make


@pytest.fixture
def mock_enclave_factory(
    mock_hardware: Callable[..., MockHardware], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[..., MockEnclaveServer]]:
    """A factory of running loopback enclaves:
    ``(hardware=None, *, clock=None, gateway=None, **spec)``; ``gateway`` is a layer from
    ``teeclient.testing.gateway`` (``ohttp_gateway``: the model only through chunked OHTTP)."""
    from teeclient.testing.enclave import MockEnclave

    started: list[MockEnclaveServer] = []

    def make(
        hardware: MockHardware | None = None,
        *,
        clock: Any = None,
        gateway: Any = None,
        **spec: Any,
    ) -> MockEnclaveServer:
        hw = hardware if hardware is not None else mock_hardware(**spec)
        options: dict[str, Any] = {"gateway": gateway}
        if clock is not None:
            options["clock"] = clock
        enclave = MockEnclave(hw, **options)
        folder = tmp_path_factory.mktemp("mock-enclave")
        trust_file = folder / "trust.toml"
        trust_file.write_text(hw.trust_file())
        policy_file = folder / "policy.toml"
        policy_file.write_text(hw.policy_toml())
        server = MockEnclaveServer(enclave.serve(), trust_file, policy_file)
        started.append(server)
        return server

    yield make
    for server in started:
        server.running.close()


@pytest.fixture
def mock_enclave(mock_enclave_factory: Callable[..., MockEnclaveServer]) -> MockEnclaveServer:
    """A running SEV-SNP (Genoa, VCEK) mock enclave without GPUs."""
    return mock_enclave_factory()
