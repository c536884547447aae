"""Fail closed, against the mock enclave behind its chunked-OHTTP gateway and a capturing
loopback server: no path, header or body byte of a request leaves before attestation succeeds;
a faulty or rejected enclave gets nothing but the attestation request."""

from __future__ import annotations

import asyncio

import httpx
import pytest

import teeclient
from teeclient.errors import AttestationRejected, TeeclientError, TransportError
from teeclient.testing.hardware import Fault, HardwareSpec, MockHardware, VendorPkis
from teeclient.testing.loopback import LoopbackServer
from tests.e2e._encrypted import Running, encrypted_enclave

API_KEY = "sk-do-not-leak-0123456789"
PROMPT = "my confidential prompt about project nightingale"
CANARIES = (API_KEY.encode(), PROMPT.encode(), b"nightingale", b"/v1/chat", b"x-private")


@pytest.fixture(scope="module")
def healthy(mock_pkis: VendorPkis) -> MockHardware:
    return MockHardware(HardwareSpec(platform="sev-snp"), pkis=mock_pkis)


def _send(client: teeclient.Client) -> httpx.Response:
    return client.http.post(
        "/v1/chat/completions",
        json={"model": "teeclient-mock-1", "messages": [{"role": "user", "content": PROMPT}]},
        headers={"x-private": "1"},
    )


def _assert_nothing_leaked(running: Running) -> None:
    wire = running.wire()
    for canary in CANARIES:
        assert canary not in wire, canary
    assert all(path != "/.well-known/ohttp-gateway" for _m, path in running.model_requests())


@pytest.mark.parametrize(
    "fault",
    [
        Fault.WRONG_MEASUREMENT,
        Fault.DEBUG,
        Fault.UNBOUND_KEY,
        Fault.REPLAYED_NONCE,
        Fault.STALE_EVIDENCE,
        Fault.REVOKED,
    ],
)
def test_failed_attestation_sends_nothing(healthy: MockHardware, fault: Fault) -> None:
    outcome = healthy.expected_outcome(fault)
    with (
        encrypted_enclave(healthy, serve=healthy.with_faults(fault)) as running,
        running.client(api_key=API_KEY) as client,
    ):
        for _ in range(2):  # and again: never a fallback
            with pytest.raises(TeeclientError) as info:
                _send(client)
            if outcome.startswith("check:"):
                assert isinstance(info.value, AttestationRejected)
                failed = [c.id for c in info.value.appraisal.checks if c.status.value == "fail"]
                assert outcome.removeprefix("check:") in failed
            else:
                assert info.value.code == outcome
        assert client.identity is None
    _assert_nothing_leaked(running)


def test_attestation_endpoint_errors_send_nothing() -> None:
    def broken(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, text="maintenance")

    with (
        LoopbackServer(broken, capture=True) as server,
        teeclient.Client(server.url, api_key=API_KEY, offline=True) as client,
        pytest.raises(TransportError),
    ):
        _send(client)
    wire = b"".join(bytes(c.received) for c in server.connections)
    for canary in CANARIES:
        assert canary not in wire
    assert b"GET /.well-known/teeclient/attestation?nonce=" in wire


def test_openai_sdk_gets_the_error_and_nothing_leaves(healthy: MockHardware) -> None:
    openai = pytest.importorskip("openai")
    serve = healthy.with_faults(Fault.WRONG_MEASUREMENT)
    with encrypted_enclave(healthy, serve=serve) as running, running.client() as client:
        sdk = client.openai(max_retries=0)
        with pytest.raises((AttestationRejected, openai.APIConnectionError)) as info:
            sdk.chat.completions.create(
                model="teeclient-mock-1", messages=[{"role": "user", "content": PROMPT}]
            )
        # openai >= 2 lets teeclient errors through; older SDKs wrap them (the cause)
        error = info.value if isinstance(info.value, TeeclientError) else info.value.__cause__
        assert isinstance(error, AttestationRejected)
    _assert_nothing_leaked(running)


def test_after_attestation_only_ciphertext_leaves(healthy: MockHardware) -> None:
    with encrypted_enclave(healthy) as running, running.client(api_key=API_KEY) as client:
        response = _send(client)
        assert response.status_code == 200
        assert "nightingale" in response.json()["choices"][0]["message"]["content"]
        assert client.http.get("/v1/models").status_code == 200
    wire = running.wire()
    for canary in CANARIES:
        assert canary not in wire, canary
    assert wire.count(b"POST /.well-known/ohttp-gateway HTTP/1.1") == 2
    assert b"authorization" not in wire.lower()
    plain = [p for _m, p in running.model_requests()]
    assert plain.count("/.well-known/ohttp-gateway") == 2
    assert not any(p.startswith("/v1/") for p in plain)


def test_plaintext_model_requests_get_nothing(healthy: MockHardware) -> None:
    with encrypted_enclave(healthy) as running, httpx.Client(base_url=running.url) as plain:
        assert plain.post("/v1/chat/completions", json={"q": PROMPT}).status_code == 404


def test_async_client_fails_closed_too(healthy: MockHardware) -> None:
    async def run(running: Running) -> None:
        async with running.async_client(api_key=API_KEY) as client:
            with pytest.raises(AttestationRejected):
                await client.http.post("/v1/chat/completions", json={"q": PROMPT})

    with encrypted_enclave(healthy, serve=healthy.with_faults(Fault.DEBUG)) as running:
        asyncio.run(run(running))
    _assert_nothing_leaked(running)


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
