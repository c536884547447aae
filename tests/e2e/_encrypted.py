"""The mock enclave with the chunked-OHTTP gateway in front of its model, served on loopback
by a capturing server, and a teeclient.Client (or AsyncClient) configured to accept it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import teeclient
from teeclient.testing.enclave import MockEnclave
from teeclient.testing.gateway import ohttp_gateway
from teeclient.testing.hardware import MockHardware
from teeclient.testing.loopback import LoopbackServer


@dataclass
class Running:
    """A running encrypted mock enclave: the server (with its capture) and the enclave."""

    server: LoopbackServer
    enclave: MockEnclave
    healthy: MockHardware

    @property
    def url(self) -> str:
        return self.server.url

    def options(self, **changes: Any) -> dict[str, Any]:
        """Client arguments: the healthy machine's policy and roots, the fake vendors."""
        options: dict[str, Any] = {
            "policy": self.healthy.policy(),
            "trust": self.healthy.trust_store(),
            "settings": self.enclave.collateral_settings(self.url),
        }
        options.update(changes)
        return options

    def client(self, **changes: Any) -> teeclient.Client:
        return teeclient.Client(self.url, **self.options(**changes))

    def async_client(self, **changes: Any) -> teeclient.AsyncClient:
        return teeclient.AsyncClient(self.url, **self.options(**changes))

    def wire(self) -> bytes:
        """Every byte the server received, over all connections."""
        return b"".join(bytes(c.received) for c in self.server.connections)

    def model_requests(self) -> list[tuple[str, str]]:
        """What reached the enclave in clear (method, path), collateral excluded."""
        return [(m, p) for m, p in self.enclave.requests if not p.startswith("/vendors/")]


@contextmanager
def encrypted_enclave(
    healthy: MockHardware, *, serve: MockHardware | None = None
) -> Iterator[Running]:
    """Serve ``serve`` (default: ``healthy``, e.g. ``healthy.with_faults(...)``) encrypted."""
    enclave = MockEnclave(serve or healthy, gateway=ohttp_gateway)
    with LoopbackServer(enclave.handler, capture=True) as server:
        yield Running(server=server, enclave=enclave, healthy=healthy)
