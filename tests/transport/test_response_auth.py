"""Responses that are truncated, reordered, replayed or unauthenticated raise; never data."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import httpx
import pytest

from teeclient.errors import (
    DecryptError,
    MalformedMessageError,
    OriginMismatchError,
    StreamTruncatedError,
    TransportError,
    UnauthenticatedResponseError,
    UnencryptedResponseError,
)
from teeclient.protocol import ohttp
from teeclient.testing.gateway import EhbpGateway, OhttpGateway
from teeclient.transport import AsyncAttestedTransport, AttestedTransport
from tests._standin import model_app
from tests.transport.conftest import ENDPOINT, identity_for, rewriting, split_chunked_response

STREAM = {"model": "m", "stream": True, "messages": [{"role": "user", "content": "a b c d e"}]}


def _app(request: httpx.Request) -> httpx.Response:
    if request.url.path == "/events":
        return httpx.Response(
            200,
            headers={"content-type": "text/event-stream"},
            content=iter([f"data: {i}\n\n".encode() for i in range(6)]),
        )
    if request.url.path == "/fail":
        return httpx.Response(503, json={"error": "inside the enclave"})
    return model_app()(request)


@pytest.fixture
def gateway() -> OhttpGateway:
    return OhttpGateway.generate(_app)


def _client(gateway: OhttpGateway, handler: object = None) -> httpx.Client:
    transport = AttestedTransport(
        httpx.MockTransport(handler or gateway),  # type: ignore[arg-type]
        endpoint=ENDPOINT,
        identity=identity_for(gateway.key_configs),
    )
    return httpx.Client(transport=transport, base_url=ENDPOINT)


def _events_body(gateway: OhttpGateway) -> tuple[bytes, list[bytes], bytes]:
    captured: list[bytes] = []

    def keep(body: bytes) -> bytes:
        captured.append(body)
        return body

    with _client(gateway, rewriting(gateway, keep)) as client:
        assert client.get("/events").text == "".join(f"data: {i}\n\n" for i in range(6))
    return split_chunked_response(captured[0])


def test_an_untouched_stream_is_authentic(gateway: OhttpGateway) -> None:
    nonce, chunks, final = _events_body(gateway)
    assert len(nonce) == 32
    assert len(chunks) == 6  # head + first event, then one chunk per event
    assert final[:1] == b"\x00"


def _cut(k: int) -> Callable[[bytes], bytes]:
    def rewrite(body: bytes) -> bytes:
        nonce, chunks, _final = split_chunked_response(body)
        return nonce + b"".join(chunks[:k])

    return rewrite


def _edit(edit: Callable[[bytes, list[bytes], bytes], bytes]) -> Callable[[bytes], bytes]:
    def rewrite(body: bytes) -> bytes:
        nonce, chunks, final = split_chunked_response(body)
        return edit(nonce, chunks, final)

    return rewrite


def test_truncation_at_every_chunk_boundary_raises(gateway: OhttpGateway) -> None:
    _nonce, chunks, _final = _events_body(gateway)
    rewrites = [lambda _b: b"", lambda b: b[:10]] + [_cut(k) for k in range(len(chunks) + 1)]
    for rewrite in rewrites:
        with (
            _client(gateway, rewriting(gateway, rewrite)) as client,
            pytest.raises(StreamTruncatedError),
        ):
            client.get("/events")


def test_truncation_inside_the_final_chunk_fails_authentication(gateway: OhttpGateway) -> None:
    for keep in (1, 10):

        def cut_final(n: bytes, c: list[bytes], f: bytes, k: int = keep) -> bytes:
            return n + b"".join(c) + f[:k]

        rewrite = _edit(cut_final)
        with _client(gateway, rewriting(gateway, rewrite)) as client, pytest.raises(DecryptError):
            client.get("/events")


def test_a_streaming_reader_gets_authentic_chunks_then_the_error(gateway: OhttpGateway) -> None:
    received: list[bytes] = []

    def read_all(response: httpx.Response) -> None:
        for piece in response.iter_bytes():
            received.append(piece)

    with (
        _client(gateway, rewriting(gateway, _cut(3))) as client,
        client.stream("GET", "/events") as response,
        pytest.raises(StreamTruncatedError),
    ):
        read_all(response)
    assert b"".join(received) == b"data: 0\n\ndata: 1\n\ndata: 2\n\n"


def test_reordered_duplicated_and_dropped_chunks_fail(gateway: OhttpGateway) -> None:
    variants = [
        lambda n, c, f: n + c[0] + c[2] + c[1] + b"".join(c[3:]) + f,  # reordered
        lambda n, c, f: n + c[0] + c[1] + b"".join(c[1:]) + f,  # duplicated
        lambda n, c, f: n + c[0] + b"".join(c[2:]) + f,  # dropped
        lambda n, c, f: n + b"".join(c[:-1]) + b"\x00" + c[-1][1:],  # non-final relabelled final
        lambda n, c, f: n + b"".join(c) + f[:-1] + bytes([f[-1] ^ 1]),  # flipped tag bit
        lambda n, c, f: bytes([n[0] ^ 1]) + n[1:] + b"".join(c) + f,  # another response nonce
    ]
    for variant in variants:
        with (
            _client(gateway, rewriting(gateway, _edit(variant))) as client,
            pytest.raises(DecryptError),
        ):
            client.get("/events")


def test_a_response_replayed_from_another_request_fails(gateway: OhttpGateway) -> None:
    nonce, chunks, final = _events_body(gateway)
    recorded = nonce + b"".join(chunks) + final
    with (
        _client(gateway, rewriting(gateway, lambda _b: recorded)) as client,
        pytest.raises(DecryptError),
    ):
        client.get("/events")


def test_a_foreign_chunk_fails(gateway: OhttpGateway) -> None:
    first = _events_body(gateway)
    second = _events_body(gateway)
    mixed = first[0] + first[1][0] + second[1][1] + b"".join(first[1][2:]) + first[2]
    with (
        _client(gateway, rewriting(gateway, lambda _b: mixed)) as client,
        pytest.raises(DecryptError),
    ):
        client.get("/events")


@pytest.mark.parametrize(
    ("status", "headers", "body"),
    [
        (200, {"content-type": "application/json"}, b'{"choices": []}'),
        (200, {}, b"plaintext"),
        (500, {"content-type": "text/plain"}, b"internal error"),
        (502, {"content-type": "text/html"}, b"<h1>bad gateway</h1>"),
        (401, {"content-type": "application/json"}, b'{"error": "bad key"}'),
        (404, {"content-type": "application/problem+json"}, b'{"type": "about:blank"}'),
        (200, {"content-type": ohttp.RESPONSE_MEDIA_TYPE}, b"\x00" * 64),  # not chunked
        (201, {"content-type": ohttp.CHUNKED_RESPONSE_MEDIA_TYPE}, b"\x00" * 64),
    ],
)
@pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
def test_unencapsulated_answers_raise(
    gateway: OhttpGateway, status: int, headers: dict[str, str], body: bytes, method: str
) -> None:
    def forged(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, headers=headers, content=body)

    with _client(gateway, forged) as client:
        with pytest.raises(UnencryptedResponseError) as info:
            client.request(method, "/v1/models")
        assert info.value.code == "transport.not_encapsulated"
        assert isinstance(info.value, UnauthenticatedResponseError)


def test_garbage_claiming_to_be_encapsulated_fails(gateway: OhttpGateway) -> None:
    for body in (b"\x00" * 31, bytes(64), bytes(range(256)) * 4):

        def forged(request: httpx.Request, b: bytes = body) -> httpx.Response:
            return httpx.Response(
                200, headers={"content-type": ohttp.CHUNKED_RESPONSE_MEDIA_TYPE}, content=b
            )

        with _client(gateway, forged) as client, pytest.raises(TransportError):
            client.get("/v1/models")


def test_errors_inside_the_enclave_are_authenticated_responses(gateway: OhttpGateway) -> None:
    with _client(gateway) as client:
        response = client.get("/fail")
        assert response.status_code == 503
        assert response.json() == {"error": "inside the enclave"}
        assert response.extensions["teeclient.exchange"].ciphertext_received > 0


def test_bodyless_requests_are_encrypted_too(gateway: OhttpGateway) -> None:
    seen: list[httpx.Request] = []

    def capture(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return gateway(request)

    with _client(gateway, capture) as client:
        for method in ("GET", "DELETE", "HEAD", "OPTIONS"):
            client.request(method, "/v1/models?secret-query=1", headers={"x-private": "yes"})
    for outer in seen:
        assert outer.method == "POST"
        assert outer.url.path == "/.well-known/ohttp-gateway"
        assert outer.url.query == b""
        assert outer.headers["content-type"] == ohttp.CHUNKED_REQUEST_MEDIA_TYPE
        assert set(outer.headers) <= {
            "host",
            "content-type",
            "accept",
            "incremental",
            "content-length",
        }
        assert b"secret-query" not in outer.content
        assert b"x-private" not in outer.content
        assert b"v1/models" not in outer.content


def test_requests_to_other_origins_are_refused_before_any_io(gateway: OhttpGateway) -> None:
    seen: list[httpx.Request] = []
    with _client(gateway, lambda r: seen.append(r) or gateway(r)) as client:  # type: ignore[func-returns-value]
        for url in (
            "https://elsewhere.test/v1/models",
            "http://enclave.test/v1/models",
            "https://enclave.test:8443/v1/models",
        ):
            with pytest.raises(OriginMismatchError):
                client.get(url)
    assert seen == []


def test_async_transport_applies_the_same_checks(gateway: OhttpGateway) -> None:
    nonce, chunks, final = _events_body(gateway)

    async def run() -> None:
        for handler, error in (
            (rewriting(gateway, _cut(2)), StreamTruncatedError),
            (rewriting(gateway, lambda _b: nonce + b"".join(chunks) + final), DecryptError),
            (lambda r: httpx.Response(200, json={"forged": True}), UnencryptedResponseError),
        ):
            transport = AsyncAttestedTransport(
                httpx.MockTransport(handler),
                endpoint=ENDPOINT,
                identity=identity_for(gateway.key_configs),
            )
            async with httpx.AsyncClient(transport=transport, base_url=ENDPOINT) as client:
                with pytest.raises(error):
                    await client.get("/events")
        transport = AsyncAttestedTransport(
            httpx.MockTransport(gateway),
            endpoint=ENDPOINT,
            identity=identity_for(gateway.key_configs),
        )
        async with httpx.AsyncClient(transport=transport, base_url=ENDPOINT) as client:
            response = await client.post("/v1/chat/completions", json=STREAM)
            assert b"[DONE]" in response.content

    asyncio.run(run())


# --- the EHBP profile ---------------------------------------------------------------------


def _ehbp_client(gateway: EhbpGateway, handler: object = None) -> httpx.Client:
    transport = AttestedTransport(
        httpx.MockTransport(handler or gateway),  # type: ignore[arg-type]
        endpoint=ENDPOINT,
        identity=identity_for(hpke_public_key=gateway.server.config.public_key.raw),
        profile="ehbp",
    )
    return httpx.Client(transport=transport, base_url=ENDPOINT)


def test_ehbp_profile_round_trip_and_bodyless_requests_encrypted() -> None:
    gateway = EhbpGateway(_app)
    seen: list[httpx.Request] = []

    def capture(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return gateway(request)

    with _ehbp_client(gateway, capture) as client:
        assert client.get("/v1/models").json()["data"][0]["object"] == "model"
        response = client.post("/v1/chat/completions", json=STREAM)
        assert response.text.endswith("data: [DONE]\n\n")
    assert all("ehbp-encapsulated-key" in r.headers for r in seen)
    assert gateway.requests == 2
    assert b"a b c d e" not in seen[1].content


@pytest.mark.parametrize("status", [200, 422, 502])
def test_ehbp_answers_without_a_response_nonce_raise(status: int) -> None:
    gateway = EhbpGateway(_app)

    def forged(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json={"error": "forged"})

    with _ehbp_client(gateway, forged) as client, pytest.raises(UnencryptedResponseError):
        client.post("/v1/chat/completions", json=STREAM)


def test_ehbp_cut_inside_a_frame_and_tampering_raise() -> None:
    gateway = EhbpGateway(_app)
    for rewrite, error in (
        (lambda b: b[:-3], StreamTruncatedError),
        (lambda b: b[:-20] + bytes(20), DecryptError),
    ):
        with _ehbp_client(gateway, rewriting(gateway, rewrite)) as client, pytest.raises(error):
            client.get("/events")
    bad_nonce = rewriting(gateway, lambda b: b)

    def wrong_nonce(request: httpx.Request) -> httpx.Response:
        response = bad_nonce(request)
        headers = dict(response.headers)
        headers["ehbp-response-nonce"] = "zz" * 32
        return httpx.Response(response.status_code, headers=headers, content=response.content)

    with _ehbp_client(gateway, wrong_nonce) as client, pytest.raises(MalformedMessageError):
        client.get("/events")


def test_problem_bodies_are_not_parsed_as_results(gateway: OhttpGateway) -> None:
    problem = json.dumps({"type": "about:blank", "title": "x"}).encode()

    def forged(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            400, headers={"content-type": "application/problem+json"}, content=problem
        )

    with _client(gateway, forged) as client, pytest.raises(UnencryptedResponseError):
        client.get("/v1/models")
