"""Fail closed, with a capturing loopback server: no path, header or body byte of a request
leaves before attestation succeeds; rejected or invalid attestation sends nothing."""

from __future__ import annotations

import asyncio

import httpx
import pytest

import teeclient
from teeclient.collateral.fetch import OfflineFetcher
from teeclient.errors import (
    AttestationRejected,
    ReportDataMismatchError,
    TeeclientError,
    TransportError,
)
from teeclient.testing.loopback import LoopbackServer
from teeclient.testing.standin import hardware, policy, standin

API_KEY = "sk-do-not-leak-0123456789"
PROMPT = "my confidential prompt about project nightingale"
CANARIES = (API_KEY.encode(), PROMPT.encode(), b"nightingale", b"/v1/chat", b"x-private")


def _client(url: str, **kwargs: object) -> teeclient.Client:
    args: dict[str, object] = {
        "policy": policy(),
        "trust": hardware().trust,
        "api_key": API_KEY,
        "fetcher": OfflineFetcher(),
    }
    args.update(kwargs)
    return teeclient.Client(url, **args)  # type: ignore[arg-type]


def _send(client: teeclient.Client) -> httpx.Response:
    return client.http.post(
        "/v1/chat/completions",
        json={"model": "m", "messages": [{"role": "user", "content": PROMPT}]},
        headers={"x-private": "1"},
    )


def _wire(server: LoopbackServer) -> bytes:
    return b"".join(bytes(c.received) for c in server.connections)


def _assert_nothing_leaked(server: LoopbackServer) -> None:
    wire = _wire(server)
    for canary in CANARIES:
        assert canary not in wire, canary


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ({"measurement": bytes(48)}, AttestationRejected),  # the policy says no
        ({"bound_keys": b"\x00\x29" + bytes(41)}, ReportDataMismatchError),  # keys not bound
    ],
)
def test_failed_attestation_sends_nothing(
    fault: dict[str, object], error: type[TeeclientError]
) -> None:
    enclave = standin(api_key=API_KEY, **fault)
    with LoopbackServer(enclave, capture=True) as server, _client(server.url) as client:
        with pytest.raises(error):
            _send(client)
        with pytest.raises(error):  # and again: never a fallback
            _send(client)
    assert [r.url.path for r in enclave.seen] == ["/.well-known/teeclient/attestation"] * 2
    assert enclave.gateway.requests == 0
    _assert_nothing_leaked(server)


def test_attestation_endpoint_errors_send_nothing() -> None:
    def broken(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, text="maintenance")

    with (
        LoopbackServer(broken, capture=True) as server,
        _client(server.url) as client,
        pytest.raises(TransportError),
    ):
        _send(client)
    _assert_nothing_leaked(server)
    assert b"GET /.well-known/teeclient/attestation?nonce=" in _wire(server)


def test_openai_sdk_gets_an_error_and_nothing_leaves() -> None:
    openai = pytest.importorskip("openai")
    enclave = standin(api_key=API_KEY, measurement=bytes(48))
    with LoopbackServer(enclave, capture=True) as server, _client(server.url) as client:
        sdk = client.openai(max_retries=0)
        with pytest.raises((AttestationRejected, openai.APIConnectionError)) as info:
            sdk.chat.completions.create(model="m", messages=[{"role": "user", "content": PROMPT}])
        # openai 3.x lets teeclient errors through; older SDKs wrap them (the cause)
        error = info.value if isinstance(info.value, TeeclientError) else info.value.__cause__
        assert isinstance(error, AttestationRejected)
    _assert_nothing_leaked(server)


def test_after_attestation_only_ciphertext_leaves() -> None:
    enclave = standin(api_key=API_KEY)
    with LoopbackServer(enclave, capture=True) as server, _client(server.url) as client:
        response = _send(client)
        assert response.status_code == 200
        assert "nightingale" in response.json()["choices"][0]["message"]["content"]
        stream = client.http.get("/v1/models")
        assert stream.status_code == 200
    _assert_nothing_leaked(server)
    wire = _wire(server)
    assert wire.count(b"POST /.well-known/ohttp-gateway HTTP/1.1") == 2
    assert b"authorization" not in wire.lower()


def test_async_client_fails_closed_too() -> None:
    enclave = standin(api_key=API_KEY, measurement=bytes(48))

    async def run(url: str) -> None:
        async with teeclient.AsyncClient(
            url, policy=policy(), trust=hardware().trust, api_key=API_KEY, fetcher=OfflineFetcher()
        ) as client:
            with pytest.raises(AttestationRejected):
                await client.http.post("/v1/chat/completions", json={"q": PROMPT})

    with LoopbackServer(enclave, capture=True) as server:
        asyncio.run(run(server.url))
    _assert_nothing_leaked(server)
    assert enclave.gateway.requests == 0


def test_constructors_do_no_io(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket
    import ssl

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("I/O in a constructor")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations", refuse)
    monkeypatch.setattr(httpx, "create_ssl_context", refuse)
    client = teeclient.Client("https://enclave.example", policy="/nonexistent/policy.toml")
    aclient = teeclient.AsyncClient("https://enclave.example", policy="/nonexistent/policy.toml")
    assert client.endpoint == "https://enclave.example"
    assert aclient.endpoint == "https://enclave.example"


def test_bad_endpoint_is_a_usage_error() -> None:
    with pytest.raises(teeclient.UsageError):
        teeclient.Client("enclave.example")
