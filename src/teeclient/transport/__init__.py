"""httpx transports that encrypt every request to an attested enclave key (DESIGN.md §6).

``AttestedTransport`` (sync) and ``AsyncAttestedTransport`` wrap an inner httpx transport;
``TlsPins`` enforces the attested TLS key at the handshake; ``Profile`` picks chunked OHTTP
(default) or the Tinfoil EHBP compatibility profile. docs/client.md describes the rules.
"""

from __future__ import annotations

from teeclient.transport._common import GATEWAY_PATH, ExchangeInfo, Profile
from teeclient.transport.async_ import AsyncAttestedTransport
from teeclient.transport.sync import AttestedTransport
from teeclient.transport.tls import TlsPins, spki_sha256

__all__ = [
    "GATEWAY_PATH",
    "AsyncAttestedTransport",
    "AttestedTransport",
    "ExchangeInfo",
    "Profile",
    "TlsPins",
    "spki_sha256",
]
