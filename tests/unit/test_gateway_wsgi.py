"""The gateways as WSGI layers (how the mock enclave wraps its WSGI model)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from teeclient.identity import EnclaveIdentity
from teeclient.protocol.hpke import KemId, PrivateKey
from teeclient.protocol.keyconfig import KeyConfig, serialize_key_config_list
from teeclient.testing.gateway import default_suites, ehbp_gateway, ohttp_gateway
from teeclient.transport import AttestedTransport

werkzeug_serving = pytest.importorskip("werkzeug.serving")


def model(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """A WSGI model: echoes chunked request bodies, streams three events."""
    body = b""
    stream = environ["wsgi.input"]
    length = environ.get("CONTENT_LENGTH")
    if length:
        body = stream.read(int(length))
    elif environ.get("wsgi.input_terminated"):
        body = stream.read()
    if environ["PATH_INFO"] == "/v1/stream":
        start_response("200 OK", [("Content-Type", "text/event-stream")])
        return iter([b"data: 1\n\n", b"data: 2\n\n", b"data: [DONE]\n\n"])
    answer = json.dumps(
        {
            "path": environ["PATH_INFO"],
            "query": environ.get("QUERY_STRING", ""),
            "auth": environ.get("HTTP_AUTHORIZATION"),
            "body": body.decode(),
        }
    ).encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [answer]


@dataclass(frozen=True)
class Keys:
    configs: tuple[KeyConfig, ...]
    private_keys: tuple[PrivateKey, ...]


def _keys() -> Keys:
    private = PrivateKey.generate(KemId.DHKEM_X25519_HKDF_SHA256)
    config = KeyConfig.create(0, private.public_key(), default_suites(private.kem))
    return Keys(configs=(config,), private_keys=(private,))


def _identity(keys: Keys, endpoint: str, *, ehbp: bool = False) -> EnclaveIdentity:
    now = datetime.now(UTC)
    return EnclaveIdentity(
        endpoint=endpoint,
        layout="test",
        platform="test",
        measurements={},
        devices=(),
        verified_at=now,
        expires_at=now + timedelta(hours=1),
        document_sha256="00" * 32,
        ohttp_keys=None if ehbp else serialize_key_config_list(keys.configs),
        hpke_public_key=keys.configs[0].public_key.raw if ehbp else None,
    )


def _client(app: Any, keys: Keys, *, ehbp: bool = False) -> httpx.Client:
    transport = AttestedTransport(
        httpx.WSGITransport(app=app),
        endpoint="http://enclave.test",
        identity=_identity(keys, "http://enclave.test", ehbp=ehbp),
        profile="ehbp" if ehbp else "ohttp",
    )
    return httpx.Client(transport=transport, base_url="http://enclave.test")


def test_ohttp_gateway_in_front_of_a_wsgi_model() -> None:
    keys = _keys()
    app = ohttp_gateway(model, keys)
    with _client(app, keys) as client:
        answer = client.post("/v1/chat?x=1", json={"q": 1}, headers={"authorization": "Bearer k"})
        assert answer.json() == {
            "path": "/v1/chat",
            "query": "x=1",
            "auth": "Bearer k",
            "body": '{"q":1}',
        }
        assert client.get("/v1/stream").text == "data: 1\n\ndata: 2\n\ndata: [DONE]\n\n"
    with httpx.Client(transport=httpx.WSGITransport(app=app)) as plain:
        assert plain.get("http://enclave.test/v1/chat").status_code == 404  # no plaintext route


def test_ehbp_gateway_in_front_of_a_wsgi_model() -> None:
    keys = _keys()
    with _client(ehbp_gateway(model, keys), keys, ehbp=True) as client:
        assert client.post("/v1/chat", content=b"hello").json()["body"] == "hello"


def test_wsgi_gateway_served_by_werkzeug_streams_both_ways() -> None:
    keys = _keys()
    server = werkzeug_serving.make_server("127.0.0.1", 0, ohttp_gateway(model, keys), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}"
    try:
        transport = AttestedTransport(
            httpx.HTTPTransport(), endpoint=url, identity=_identity(keys, url)
        )
        with httpx.Client(transport=transport, base_url=url) as client:

            def body() -> Iterator[bytes]:
                yield b"streamed "
                yield b"x" * 40000

            answer = client.post("/v1/upload", content=body())
            assert answer.json()["body"] == "streamed " + "x" * 40000
            with client.stream("GET", "/v1/stream") as response:
                assert list(response.iter_lines()) == [
                    "data: 1",
                    "",
                    "data: 2",
                    "",
                    "data: [DONE]",
                    "",
                ]
    finally:
        server.shutdown()
        thread.join(timeout=5)
