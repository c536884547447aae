"""TLS SPKI pinning: checked inside the handshake, before any application byte is sent."""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path

import httpx
import pytest

import teeclient
from teeclient.collateral.fetch import OfflineFetcher
from teeclient.errors import TlsPinMismatchError, TlsPinUnenforcedError
from teeclient.testing.loopback import LoopbackServer
from teeclient.transport import TlsPins, spki_sha256
from tests._standin import StandIn, hardware, policy, standin
from tests.transport._certs import LocalCA

SECRET = "sk-pinned-secret"
PROMPT = "the prompt that must not leak"


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> LocalCA:
    return LocalCA(tmp_path_factory.mktemp("ca"))


def _client(enclave: StandIn, url: str, ca: LocalCA) -> teeclient.Client:
    return teeclient.Client(
        url,
        policy=policy(),
        trust=hardware().trust,
        api_key=SECRET,
        fetcher=OfflineFetcher(),
        verify=str(ca.ca_path),
    )


def _leaked(server: LoopbackServer, needle: bytes) -> bool:
    return any(needle in c.received for c in server.connections)


def test_attested_tls_key_is_accepted(ca: LocalCA) -> None:
    leaf = ca.issue()
    enclave = standin(api_key=SECRET, tls_spki_sha256=leaf.spki_sha256)
    with (
        LoopbackServer(enclave, ssl_context=leaf.server_context(), capture=True) as server,
        _client(enclave, server.url, ca) as client,
    ):
        response = client.http.post("/v1/chat/completions", json=_chat())
        assert response.status_code == 200
        assert client.identity is not None
        assert client.identity.tls_spki_sha256 == leaf.spki_sha256
        assert client.transport.tls_pins is not None
        assert client.transport.tls_pins.pin == leaf.spki_sha256


def _chat() -> dict[str, object]:
    return {"model": "m", "messages": [{"role": "user", "content": PROMPT}]}


def test_valid_webpki_certificate_with_unattested_key_gets_nothing(ca: LocalCA) -> None:
    attested = ca.issue()  # the key the enclave binds
    impostor = ca.issue()  # valid for the same name, signed by the same trusted CA
    enclave = standin(api_key=SECRET, tls_spki_sha256=attested.spki_sha256)
    with (
        LoopbackServer(enclave, ssl_context=impostor.server_context(), capture=True) as server,
        _client(enclave, server.url, ca) as client,
    ):
        with pytest.raises(TlsPinMismatchError) as info:
            client.http.post("/v1/chat/completions", json=_chat())
        assert info.value.expected == attested.spki_sha256.hex()
        assert info.value.actual == impostor.spki_sha256.hex()
        # attestation itself went through (a relayed document is not a secret) ...
        assert enclave.attestations == 1
        # ... but the connection for the request completed its handshake and got nothing
        assert [c.handshake_error for c in server.connections] == [None, None]
        assert server.connections[-1].received == b""
        for needle in (SECRET.encode(), PROMPT.encode(), b"/v1/chat", b"ohttp"):
            assert not _leaked(server, needle)


def test_async_client_refuses_the_unattested_key(ca: LocalCA) -> None:
    attested, impostor = ca.issue(), ca.issue()
    enclave = standin(api_key=SECRET, tls_spki_sha256=attested.spki_sha256)

    async def run(url: str) -> None:
        async with teeclient.AsyncClient(
            url,
            policy=policy(),
            trust=hardware().trust,
            api_key=SECRET,
            fetcher=OfflineFetcher(),
            verify=str(ca.ca_path),
        ) as client:
            with pytest.raises(TlsPinMismatchError):
                await client.http.post("/v1/chat/completions", json=_chat())

    with LoopbackServer(enclave, ssl_context=impostor.server_context(), capture=True) as server:
        asyncio.run(run(server.url))
        assert server.connections[-1].received == b""
        assert not _leaked(server, PROMPT.encode())


def test_async_client_accepts_the_attested_key(ca: LocalCA) -> None:
    leaf = ca.issue()
    enclave = standin(api_key=SECRET, tls_spki_sha256=leaf.spki_sha256)

    async def run(url: str) -> int:
        async with teeclient.AsyncClient(
            url,
            policy=policy(),
            trust=hardware().trust,
            api_key=SECRET,
            fetcher=OfflineFetcher(),
            verify=str(ca.ca_path),
        ) as client:
            response = await client.http.get("/v1/models")
            return response.status_code

    with LoopbackServer(enclave, ssl_context=leaf.server_context()) as server:
        assert asyncio.run(run(server.url)) == 200


def test_pins_refuse_every_handshake_until_an_attestation_sets_them(
    ca: LocalCA, tmp_path: Path
) -> None:
    leaf = ca.issue()
    pins = TlsPins()
    assert not pins.known
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200)

    with LoopbackServer(handler, ssl_context=leaf.server_context(), capture=True) as server:
        transport = httpx.HTTPTransport(verify=pins.ssl_context(str(ca.ca_path)))
        with httpx.Client(transport=transport) as client:
            with pytest.raises(TlsPinMismatchError):
                client.get(server.url + "/anything")
            assert seen == []
            assert pins.set(None)  # identity without a TLS key: ordinary TLS
            assert client.get(server.url + "/ok").status_code == 200
            assert pins.set(leaf.spki_sha256)
            assert not pins.set(leaf.spki_sha256)
            transport.close()  # new handshakes from here on
            assert client.get(server.url + "/pinned").status_code == 200
            assert pins.set(bytes(32))
            transport.close()
            with pytest.raises(TlsPinMismatchError):
                client.get(server.url + "/other-key")
    assert [r.url.path for r in seen] == ["/ok", "/pinned"]


def test_spki_hash_matches_openssl_view(ca: LocalCA) -> None:
    leaf = ca.issue()
    der = ssl.PEM_cert_to_DER_cert(leaf.cert_path.read_text())
    assert spki_sha256(der) == leaf.spki_sha256
    with pytest.raises(ValueError):  # noqa: PT011 - cryptography's parse error
        spki_sha256(b"not a certificate")


def test_identity_binding_a_tls_key_needs_an_enforcing_transport() -> None:
    leaf_pin = bytes(range(32))
    enclave = standin(tls_spki_sha256=leaf_pin)
    client = teeclient.Client(
        "https://enclave.test",
        policy=policy(),
        trust=hardware().trust,
        fetcher=OfflineFetcher(),
        transport=httpx.MockTransport(enclave),  # cannot check TLS keys
    )
    with pytest.raises(TlsPinUnenforcedError):
        client.http.get("/v1/models")
    assert all(r.url.path != "/.well-known/ohttp-gateway" for r in enclave.seen)
    unsafe = teeclient.Client(
        "https://enclave.test",
        policy=policy(),
        trust=hardware().trust,
        fetcher=OfflineFetcher(),
        transport=httpx.MockTransport(enclave),
        allow_unpinned_tls=True,
    )
    assert unsafe.http.get("/v1/models").status_code == 200
