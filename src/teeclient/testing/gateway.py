"""Gateways for tests and the mock enclave: decrypt requests, forward them to an app, encrypt
the answers. Handlers are httpx-shaped (``httpx.Request -> httpx.Response``) so they run in an
``httpx.MockTransport`` or behind ``teeclient.testing.loopback.LoopbackServer``.

* ``OhttpGateway`` — chunked Oblivious HTTP (RFC 9458, draft-ietf-ohai-chunked-ohttp) with
  Binary HTTP (RFC 9292) inside, at ``/.well-known/ohttp-gateway`` (RFC 9540): ``GET``
  serves the ``application/ohttp-keys`` list, ``POST`` takes ``message/ohttp-chunked-req``
  (or whole ``message/ohttp-req``). The request is authenticated completely (final chunk
  included) before the app sees it; the app's answer is sealed piece by piece as it streams,
  and the final chunk is sealed only after the app's body ended, so a cut is detectable.
  An unknown key id or suite gets the RFC 9458 §5.3 ``ohttp-key`` problem (400,
  unencrypted); anything else that fails to decapsulate gets a plain 400.
* ``EhbpGateway`` — the Tinfoil EHBP server side (``teeclient.protocol.ehbp``):
  ``/.well-known/hpke-keys``, ``Ehbp-Encapsulated-Key`` requests, ``Ehbp-Response-Nonce``
  answers, 422 key-config problems; requests without the header pass through in plaintext,
  as EHBP servers do (weakness 2 in docs/protocol-crypto.md).

The app is called with sync ``httpx.Request``s whose body is in memory; its response may
stream (``httpx.Response(content=iterator)``). Responses returned here iterate both sync and
async, so the same gateway serves ``httpx.Client`` and ``httpx.AsyncClient`` mocks.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from typing import Any, Protocol

import httpx

from teeclient.errors import (
    DecryptError,
    FrameTooLargeError,
    KeyConfigMismatchError,
    TeeclientError,
)
from teeclient.protocol import bhttp, ehbp, ohttp
from teeclient.protocol.hpke import AeadId, KdfId, KemId, PrivateKey, Suite
from teeclient.protocol.keyconfig import KeyConfig, serialize_key_config_list
from teeclient.protocol.ohttp import Gateway, GatewayKey

__all__ = [
    "DEFAULT_MAX_REQUEST_BYTES",
    "GATEWAY_PATH",
    "EhbpGateway",
    "GatewayKeys",
    "Handler",
    "OhttpGateway",
    "StreamingBody",
    "WSGIApp",
    "default_suites",
    "ehbp_gateway",
    "not_found",
    "ohttp_gateway",
    "response_fields",
    "wsgi_app",
    "wsgi_handler",
]

logger = logging.getLogger(__name__)

Handler = Callable[[httpx.Request], httpx.Response]

GATEWAY_PATH = "/.well-known/ohttp-gateway"
DEFAULT_MAX_REQUEST_BYTES = 64 * 1024 * 1024
_PROBLEM = "application/problem+json"
_DROP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-connection",
        b"transfer-encoding",
        b"upgrade",
        b"te",
        b"trailer",
        b"host",
    }
)


class StreamingBody(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A response body produced by a sync iterator, readable from sync and async clients."""

    def __init__(self, source: Iterable[bytes], on_close: Callable[[], None] | None = None) -> None:
        self._source = iter(source)
        self._on_close = on_close

    def __iter__(self) -> Iterator[bytes]:
        yield from self._source

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for piece in self._source:
            yield piece

    def close(self) -> None:
        close = getattr(self._source, "close", None)
        if callable(close):
            close()
        if self._on_close is not None:
            self._on_close()

    async def aclose(self) -> None:
        self.close()


def response_fields(headers: httpx.Headers) -> list[tuple[bytes, bytes]]:
    """Response header fields Binary HTTP can carry: lowercase, no hop-by-hop fields."""
    listed = {
        token.strip().lower().encode()
        for value in headers.get_list("connection")
        for token in value.split(",")
    }
    out = []
    for name, value in headers.raw:
        lowered = name.lower()
        if lowered in _DROP or lowered in listed:
            continue
        out.append((lowered, value.strip(b" \t")))
    return out


def _problem(status: int, kind: str, title: str) -> httpx.Response:
    body = json.dumps({"type": kind, "title": title}).encode()
    return httpx.Response(status, headers={"content-type": _PROBLEM}, content=body)


def not_found(request: httpx.Request) -> httpx.Response:
    """The default fallback: 404 for anything that is not the gateway."""
    return _problem(404, "about:blank", f"no route for {request.url.path}")


def _request_stream(request: httpx.Request) -> Iterator[bytes]:
    stream = request.stream
    if isinstance(stream, httpx.SyncByteStream):
        return iter(stream)
    return iter([request.content])  # pragma: no cover - MockTransport reads bodies first


def _sync_stream(response: httpx.Response) -> Iterator[bytes]:
    stream = response.stream
    if isinstance(stream, httpx.SyncByteStream):
        return iter(stream)
    raise TypeError("gateway apps must return sync response bodies")


def _call(app: Handler, request: httpx.Request) -> httpx.Response:
    try:
        return app(request)
    except Exception as exc:
        logger.exception("app failed behind the gateway")
        return httpx.Response(
            500, json={"error": {"message": f"internal error: {type(exc).__name__}"}}
        )


def default_suites(kem: KemId) -> tuple[Suite, ...]:
    """Every AEAD teeclient implements, with HKDF-SHA256, for ``kem``."""
    return tuple(
        Suite(kem=kem, kdf=KdfId.HKDF_SHA256, aead=aead)
        for aead in (AeadId.AES_256_GCM, AeadId.CHACHA20_POLY1305, AeadId.AES_128_GCM)
    )


class OhttpGateway:
    """Chunked-OHTTP gateway in front of ``app`` (see the module docstring)."""

    def __init__(
        self,
        app: Handler,
        *,
        keys: Sequence[GatewayKey],
        path: str = GATEWAY_PATH,
        fallback: Handler = not_found,
        max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES,
        chunk_size: int = ohttp.DEFAULT_CHUNK_SIZE,
    ) -> None:
        self.app = app
        self.path = path
        self.fallback = fallback
        self.max_request_bytes = max_request_bytes
        self.chunk_size = chunk_size
        self._gateway = Gateway(keys)
        self.requests = 0  # decapsulated requests (for tests)

    @classmethod
    def generate(
        cls,
        app: Handler,
        *,
        kems: Sequence[KemId] = (KemId.MLKEM768_X25519, KemId.DHKEM_X25519_HKDF_SHA256),
        first_key_id: int = 1,
        **kwargs: object,
    ) -> OhttpGateway:
        """A gateway with a fresh key per KEM (ids ``first_key_id``, +1, …), every AEAD."""
        keys = [
            GatewayKey.generate((first_key_id + i) % 256, default_suites(kem))
            for i, kem in enumerate(kems)
        ]
        return cls(app, keys=keys, **kwargs)  # type: ignore[arg-type]

    @property
    def key_configs(self) -> bytes:
        """The ``application/ohttp-keys`` list this gateway serves (and an enclave binds)."""
        return serialize_key_config_list(self._gateway.configs)

    def rotate(self, keys: Sequence[GatewayKey]) -> None:
        """Replace the gateway's keys (requests to the old ones get the ``ohttp-key`` problem)."""
        self._gateway = Gateway(keys)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        """Serve one outer request."""
        if request.url.path != self.path:
            return self.fallback(request)
        if request.method == "GET":
            return httpx.Response(
                200,
                headers={"content-type": "application/ohttp-keys", "cache-control": "no-store"},
                content=self.key_configs,
            )
        if request.method != "POST":
            return _problem(405, "about:blank", "the gateway takes POST")
        media = (request.headers.get("content-type") or "").split(";", 1)[0].strip().lower()
        if media == ohttp.CHUNKED_REQUEST_MEDIA_TYPE:
            return self._chunked(request)
        if media == ohttp.REQUEST_MEDIA_TYPE:
            return self._whole(request)
        return _problem(415, "about:blank", f"unsupported media type {media!r}")

    def _key_problem(self) -> httpx.Response:
        return _problem(400, ohttp.KEY_PROBLEM_TYPE, "key configuration not accepted")

    def _inner_request(self, events: Sequence[bhttp.Event], body: bytes) -> httpx.Request:
        head = events[0]
        assert isinstance(head, bhttp.RequestHead)
        return httpx.Request(
            head.method,
            f"{head.scheme}://{head.authority}{head.path}",
            headers=list(head.headers),
            content=body,
        )

    def _decode(self, plaintext: Iterable[bytes]) -> tuple[list[bhttp.Event], bytes]:
        decoder = bhttp.Decoder("request")
        events: list[bhttp.Event] = []
        body = bytearray()
        for piece in plaintext:
            for event in decoder.feed(piece):
                if isinstance(event, bhttp.ContentChunk):
                    body += event.data
                else:
                    events.append(event)
        for event in decoder.finish():
            if isinstance(event, bhttp.ContentChunk):  # pragma: no cover - finish emits none
                body += event.data
            else:
                events.append(event)
        return events, bytes(body)

    def _chunked(self, request: httpx.Request) -> httpx.Response:
        receiver = self._gateway.chunked_request()
        try:
            plaintext: list[bytes] = []
            size = 0
            for part in _request_stream(request):
                size += len(part)
                if size > self.max_request_bytes:
                    raise FrameTooLargeError("request too large", field="request")
                plaintext += receiver.feed(part)
            plaintext.append(receiver.finish())
            events, body = self._decode(plaintext)
        except KeyConfigMismatchError:
            return self._key_problem()
        except TeeclientError as exc:
            logger.info("chunked request refused: %s", exc.code)
            return _problem(400, "about:blank", "the request could not be decapsulated")
        self.requests += 1
        response = _call(self.app, self._inner_request(events, body))
        sender = receiver.response_sender(chunk_size=self.chunk_size)
        return httpx.Response(
            200,
            headers={
                "content-type": ohttp.CHUNKED_RESPONSE_MEDIA_TYPE,
                "cache-control": "no-store",
                "incremental": "?1",
            },
            stream=StreamingBody(self._seal(sender, response)),
        )

    def _seal(
        self, sender: ohttp.ChunkedResponseSender, response: httpx.Response
    ) -> Iterator[bytes]:
        """Seal the app's answer: in-memory bodies in one write, streams piece by piece (the
        response nonce travels with the first chunk; the final chunk only after the end)."""
        try:
            head = bhttp.encode_response_head(
                response.status_code, response_fields(response.headers)
            )
            if isinstance(response.stream, httpx.ByteStream):
                content = b"".join(response.stream)
                yield sender.header + sender.finish(
                    head + bhttp.encode_content_chunk(content) + bhttp.encode_message_end()
                )
                return
            pending = sender.header
            plaintext = head
            for piece in _sync_stream(response):
                if piece:
                    yield pending + sender.seal(plaintext + bhttp.encode_content_chunk(piece))
                    pending = plaintext = b""
            yield pending + sender.finish(plaintext + bhttp.encode_message_end())
        finally:
            response.close()

    def _whole(self, request: httpx.Request) -> httpx.Response:
        data = b"".join(_request_stream(request))
        try:
            plaintext, sealer = self._gateway.decapsulate_request(
                data, max_size=self.max_request_bytes
            )
            events, body = self._decode([plaintext])
        except KeyConfigMismatchError:
            return self._key_problem()
        except TeeclientError as exc:
            logger.info("request refused: %s", exc.code)
            return _problem(400, "about:blank", "the request could not be decapsulated")
        self.requests += 1
        response = _call(self.app, self._inner_request(events, body))
        try:
            content = b"".join(_sync_stream(response))
        finally:
            response.close()
        encoded = bhttp.encode_response(
            bhttp.Response(
                status=response.status_code,
                headers=tuple(
                    f for f in response_fields(response.headers) if f[0] != b"content-length"
                ),
                content=content,
            )
        )
        return httpx.Response(
            200,
            headers={"content-type": ohttp.RESPONSE_MEDIA_TYPE, "cache-control": "no-store"},
            content=sealer.seal(encoded),
        )


class EhbpGateway:
    """Tinfoil EHBP server side in front of ``app`` (see the module docstring)."""

    def __init__(
        self,
        app: Handler,
        *,
        server: ehbp.Server | None = None,
        max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES,
    ) -> None:
        self.app = app
        self.server = server if server is not None else ehbp.Server.generate()
        self.max_request_bytes = max_request_bytes
        self.requests = 0

    @property
    def key_config(self) -> bytes:
        """The bare key configuration served at ``/.well-known/hpke-keys``."""
        return self.server.key_config()

    def rotate(self, server: ehbp.Server) -> None:
        """Replace the server key (old-key requests get the 422 key-config problem)."""
        self.server = server

    def __call__(self, request: httpx.Request) -> httpx.Response:
        """Serve one request."""
        if request.url.path == ehbp.KEYS_PATH and request.method == "GET":
            return httpx.Response(
                200, headers={"content-type": ehbp.KEYS_MEDIA_TYPE}, content=self.key_config
            )
        key = request.headers.get(ehbp.ENCAPSULATED_KEY_HEADER)
        if key is None:  # EHBP: unencrypted requests pass through (and are answered) in clear
            return _call(self.app, request)
        try:
            decryptor = self.server.open_request(key)
        except TeeclientError:
            return _problem(400, "about:blank", "invalid encapsulated key")
        plaintext = bytearray()
        opened = 0
        try:
            size = 0
            for part in _request_stream(request):
                size += len(part)
                if size > self.max_request_bytes:
                    raise FrameTooLargeError("request too large", field="request")
                frames = decryptor.feed(part)
                opened += len(frames)
                plaintext += b"".join(frames)
            decryptor.finish()
        except DecryptError:
            if not opened:  # the first frame does not open: most likely another key
                return _problem(
                    ehbp.KEY_CONFIG_MISMATCH_STATUS,
                    ehbp.KEY_CONFIG_PROBLEM_TYPE,
                    "key configuration mismatch",
                )
            return _problem(400, "about:blank", "the request body could not be decrypted")
        except TeeclientError:
            return _problem(400, "about:blank", "the request body could not be decrypted")
        self.requests += 1
        headers = [
            (n, v)
            for n, v in request.headers.raw
            if not n.lower().startswith(b"ehbp-")
            and n.lower() not in (b"content-length", b"transfer-encoding")
        ]
        inner = httpx.Request(
            request.method, request.url, headers=headers, content=bytes(plaintext)
        )
        response = _call(self.app, inner)
        encryptor = decryptor.response_encryptor()
        out_headers = [
            (n, v)
            for n, v in response.headers.raw
            if n.lower() not in (b"content-length", b"transfer-encoding")
        ]
        out_headers += [(k.encode(), v.encode()) for k, v in encryptor.headers().items()]

        def sealed() -> Iterator[bytes]:
            try:
                for piece in _sync_stream(response):
                    if piece:
                        yield encryptor.seal(piece)
            finally:
                response.close()

        return httpx.Response(
            response.status_code,
            headers=out_headers,
            stream=StreamingBody(sealed()),
        )


# --- WSGI adapters (the mock enclave is a WSGI application) ---------------------------------

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class GatewayKeys(Protocol):
    """Key configurations and their private keys, in the same order (the enclave's keys)."""

    @property
    def configs(self) -> Sequence[KeyConfig]:
        """The RFC 9458 key configurations."""
        ...

    @property
    def private_keys(self) -> Sequence[PrivateKey]:
        """The matching private keys."""
        ...


def wsgi_handler(app: WSGIApp) -> Handler:
    """An httpx-shaped handler that calls a WSGI application (its body streams back)."""
    return httpx.WSGITransport(app=app).handle_request


class _WsgiInput(httpx.SyncByteStream):
    def __init__(self, environ: dict[str, Any]) -> None:
        self._input = environ.get("wsgi.input")
        length = environ.get("CONTENT_LENGTH") or ""
        self._remaining: int | None = int(length) if length.isdigit() else None
        if self._remaining is None and not environ.get("wsgi.input_terminated"):
            self._remaining = 0  # no length and not terminated: no body (PEP 3333)

    def __iter__(self) -> Iterator[bytes]:
        if self._input is None:
            return
        while self._remaining is None or self._remaining > 0:
            size = 65536 if self._remaining is None else min(65536, self._remaining)
            data = self._input.read(size)
            if not data:
                return
            if self._remaining is not None:
                self._remaining -= len(data)
            yield data


class _Closing:
    """The WSGI result: the response body, closed when the server is done with it."""

    def __init__(self, response: httpx.Response) -> None:
        self._response = response

    def __iter__(self) -> Iterator[bytes]:
        stream = self._response.stream
        assert isinstance(stream, httpx.SyncByteStream)
        for piece in stream:
            if piece:
                yield piece

    def close(self) -> None:
        self._response.close()


def wsgi_app(handler: Handler) -> WSGIApp:
    """A WSGI application that serves an httpx-shaped handler (request bodies streamed in)."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        headers: list[tuple[str, str]] = []
        for key, value in environ.items():
            if key.startswith("HTTP_"):
                headers.append((key[5:].replace("_", "-").lower(), value))
            elif key in ("CONTENT_TYPE", "CONTENT_LENGTH") and value:
                headers.append((key.replace("_", "-").lower(), value))
        host = environ.get("HTTP_HOST") or (
            f"{environ.get('SERVER_NAME', 'localhost')}:{environ.get('SERVER_PORT', '80')}"
        )
        query = environ.get("QUERY_STRING", "")
        path = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
        url = f"{environ.get('wsgi.url_scheme', 'http')}://{host}{path}"
        request = httpx.Request(
            environ["REQUEST_METHOD"],
            url + (f"?{query}" if query else ""),
            headers=headers,
            stream=_WsgiInput(environ),
        )
        response = handler(request)
        out = [
            (n.decode("latin-1"), v.decode("latin-1"))
            for n, v in response.headers.raw
            if n.lower() not in (b"connection", b"transfer-encoding", b"keep-alive")
        ]
        start_response(f"{response.status_code} {response.reason_phrase}", out)
        return _Closing(response)

    return app


def _gateway_keys(keys: GatewayKeys) -> list[GatewayKey]:
    return [
        GatewayKey(config=config, private_key=private)
        for config, private in zip(keys.configs, keys.private_keys, strict=True)
    ]


def ohttp_gateway(model_app: WSGIApp, keys: GatewayKeys) -> WSGIApp:
    """The chunked-OHTTP gateway in front of a WSGI model (``MockEnclave(gateway=…)``): requests
    to ``/.well-known/ohttp-gateway`` are decrypted and forwarded; anything else is refused
    (404), so the model is reachable only through the encryption."""
    return wsgi_app(OhttpGateway(wsgi_handler(model_app), keys=_gateway_keys(keys)))


def ehbp_gateway(model_app: WSGIApp, keys: GatewayKeys) -> WSGIApp:
    """The EHBP gateway in front of a WSGI model, with the enclave's first (X25519) key."""
    server = ehbp.Server(keys.private_keys[0], key_id=keys.configs[0].key_id)
    return wsgi_app(EhbpGateway(wsgi_handler(model_app), server=server))
