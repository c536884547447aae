"""Fault injection on the encrypted transport, over real loopback sockets.

``AttestedTransport`` wraps a real ``httpx.HTTPTransport``; the server decapsulates requests
with a genuine ``OhttpGateway`` (the pinned key) and then misbehaves at the byte level: never
answers, resets, truncates the encrypted stream, answers 5xx or a redirect, answers in
plaintext, inflates a chunk, or answers with another key. Every case raises (a typed
``TransportError``, or the httpx timeout/network error the transport passes through for
retry logic), returns no unauthenticated data, leaks neither the prompt nor the API key, and
stays within the client's timeout. Content-level tampering with in-process transports is in
tests/transport/test_response_auth.py; failed attestations (replayed, stale, unbound) send
nothing, tests/e2e/test_fail_closed.py.
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import httpx
import pytest

from teeclient.errors import TeeclientError, TransportError
from teeclient.protocol import ohttp
from teeclient.testing.gateway import OhttpGateway
from teeclient.transport import AttestedTransport
from tests.transport.conftest import identity_for

pytestmark = pytest.mark.fault

API_KEY = "sk-transport-fault-SECRET-9d1e"
PROMPT = b'{"messages":[{"role":"user","content":"confidential prompt 7f3a"}]}'
ANSWER = b'{"choices":[{"message":{"content":"confidential answer 55c2"}}]}'
TIMEOUT = 1.0
SLACK = 1.5


def _app(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, headers={"content-type": "application/json"}, content=ANSWER)


@dataclass
class Outer:
    """What the genuine gateway answered for one outer request."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def head(self, *, status: int | None = None, extra: str = "", chunked: bool = False) -> bytes:
        lines = [f"HTTP/1.1 {status or self.status} X"]
        for name, value in self.headers:
            if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                lines.append(f"{name}: {value}")
        lines.append(
            "Transfer-Encoding: chunked" if chunked else f"Content-Length: {len(self.body)}"
        )
        lines.append("Connection: close")
        return ("\r\n".join(lines) + "\r\n" + extra + "\r\n").encode()


Fault = Callable[[socket.socket, Outer], None]


@dataclass
class Server:
    """A loopback server: genuine gateway, then ``fault`` writes the bytes."""

    gateway: OhttpGateway
    fault: Fault
    port: int = 0
    requests: list[bytes] = field(default_factory=list)


def _read_request(conn: socket.socket) -> tuple[bytes, bytes, bytes]:
    """(request line, headers, body) of one HTTP/1.1 request (Content-Length or chunked)."""
    data = b""
    while b"\r\n\r\n" not in data:
        piece = conn.recv(65536)
        if not piece:
            raise ConnectionError("closed")
        data += piece
    head, rest = data.split(b"\r\n\r\n", 1)
    line, _, headers = head.partition(b"\r\n")
    lowered = headers.lower()
    if b"transfer-encoding: chunked" in lowered:
        body = b""
        while True:
            while b"\r\n" not in rest:
                rest += conn.recv(65536)
            size_line, rest = rest.split(b"\r\n", 1)
            size = int(size_line.split(b";")[0], 16)
            while len(rest) < size + 2:
                rest += conn.recv(65536)
            body += rest[:size]
            rest = rest[size + 2 :]
            if size == 0:
                return line, headers, body
    length = 0
    for header in headers.split(b"\r\n"):
        name, _, value = header.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(rest) < length:
        rest += conn.recv(65536)
    return line, headers, rest[:length]


@pytest.fixture
def serve() -> Iterator[Callable[[Fault], Server]]:
    stop = threading.Event()
    listeners: list[tuple[socket.socket, threading.Thread]] = []

    def start(fault: Fault) -> Server:
        server = Server(gateway=OhttpGateway.generate(_app), fault=fault)
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        listener.settimeout(0.2)
        server.port = listener.getsockname()[1]

        def loop() -> None:
            while not stop.is_set():
                try:
                    conn, _ = listener.accept()
                except TimeoutError:
                    continue
                except OSError:
                    return
                with conn:
                    conn.settimeout(3)
                    try:
                        line, headers, body = _read_request(conn)
                        server.requests.append(line + b"\r\n" + headers + b"\r\n\r\n" + body)
                        method, target, _ = line.decode().split(" ", 2)
                        parsed = [
                            tuple(h.decode().split(":", 1)) for h in headers.split(b"\r\n") if h
                        ]
                        request = httpx.Request(
                            method,
                            f"http://127.0.0.1:{server.port}{target}",
                            headers=[(k.strip(), v.strip()) for k, v in parsed],
                            content=body,
                        )
                        response = server.gateway(request)
                        response.read()
                        outer = Outer(
                            response.status_code, list(response.headers.items()), response.content
                        )
                        server.fault(conn, outer)
                    except (OSError, ConnectionError, ValueError):
                        pass

        thread = threading.Thread(target=loop, daemon=True)
        thread.start()
        listeners.append((listener, thread))
        return server

    yield start
    stop.set()
    for listener, thread in listeners:
        listener.close()
        thread.join(timeout=4)


def _post(server: Server, *, identity_keys: bytes | None = None) -> httpx.Response:
    endpoint = f"http://127.0.0.1:{server.port}"
    transport = AttestedTransport(
        httpx.HTTPTransport(),
        endpoint=endpoint,
        identity=identity_for(identity_keys or server.gateway.key_configs, endpoint=endpoint),
    )
    with httpx.Client(transport=transport, base_url=endpoint, timeout=TIMEOUT) as client:
        response = client.post(
            "/v1/chat/completions",
            content=PROMPT,
            headers={"authorization": f"Bearer {API_KEY}", "content-type": "application/json"},
        )
        response.read()
        return response


def _fails(server: Server, **kw: bytes) -> BaseException:
    started = time.monotonic()
    with pytest.raises((TeeclientError, httpx.TransportError)) as info:
        _post(server, **kw)
    assert time.monotonic() - started < TIMEOUT + SLACK
    text = str(info.value) + repr(getattr(info.value, "to_dict", dict)())
    for secret in (API_KEY, PROMPT.decode(), ANSWER.decode()):
        assert secret not in text
    for raw in server.requests:  # only ciphertext left the client
        assert API_KEY.encode() not in raw
        assert b"confidential prompt" not in raw
    return info.value


def _reset(conn: socket.socket) -> None:
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()


def test_the_genuine_exchange_works(serve: Callable[[Fault], Server]) -> None:
    server = serve(lambda conn, outer: conn.sendall(outer.head() + outer.body))
    assert _post(server).content == ANSWER


def test_gateway_never_answers(serve: Callable[[Fault], Server]) -> None:
    error = _fails(serve(lambda conn, outer: time.sleep(TIMEOUT + 0.5)))
    assert isinstance(error, httpx.TimeoutException)


def test_reset_before_the_answer(serve: Callable[[Fault], Server]) -> None:
    error = _fails(serve(lambda conn, outer: _reset(conn)))
    assert isinstance(error, httpx.TransportError)


def test_reset_in_the_middle_of_the_encrypted_stream(serve: Callable[[Fault], Server]) -> None:
    def cut(conn: socket.socket, outer: Outer) -> None:
        conn.sendall(outer.head() + outer.body[: len(outer.body) // 2])
        time.sleep(0.05)
        _reset(conn)

    _fails(serve(cut))


@pytest.mark.parametrize("keep", [0, 16, 33, -17, -1])
def test_encrypted_stream_cut_cleanly(serve: Callable[[Fault], Server], keep: int) -> None:
    """The HTTP message ends properly (chunked framing intact) but the OHTTP stream does not:
    before its nonce, between chunks, inside the final chunk."""

    def truncated(conn: socket.socket, outer: Outer) -> None:
        body = outer.body[:keep]
        frame = (b"%x\r\n%s\r\n" % (len(body), body) if body else b"") + b"0\r\n\r\n"
        conn.sendall(outer.head(chunked=True) + frame)

    error = _fails(serve(truncated))
    assert isinstance(error, TransportError)
    assert error.code in {"transport.stream_truncated", "transport.decrypt_failed"}


@pytest.mark.parametrize("status", [500, 502, 503])
def test_gateway_5xx_is_not_data(serve: Callable[[Fault], Server], status: int) -> None:
    def fail(conn: socket.socket, outer: Outer) -> None:
        body = b"upstream error"
        head = f"HTTP/1.1 {status} X\r\nContent-Length: {len(body)}\r\nConnection: close\r\n"
        conn.sendall(head.encode() + b"\r\n" + body)

    assert isinstance(_fails(serve(fail)), TransportError)


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_redirects_are_not_followed(serve: Callable[[Fault], Server], status: int) -> None:
    def redirect(conn: socket.socket, outer: Outer) -> None:
        conn.sendall(
            f"HTTP/1.1 {status} X\r\nLocation: http://evil.example/\r\nContent-Length: 0\r\n"
            "Connection: close\r\n\r\n".encode()
        )

    server = serve(redirect)
    assert isinstance(_fails(server), TransportError)
    assert len(server.requests) == 1


def test_plaintext_answer_is_refused(serve: Callable[[Fault], Server]) -> None:
    def plaintext(conn: socket.socket, outer: Outer) -> None:
        conn.sendall(
            f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(ANSWER)}"
            "\r\nConnection: close\r\n\r\n".encode()
            + ANSWER
        )

    assert isinstance(_fails(serve(plaintext)), TransportError)


def test_plaintext_answer_labelled_as_encapsulated(serve: Callable[[Fault], Server]) -> None:
    def masquerade(conn: socket.socket, outer: Outer) -> None:
        conn.sendall(
            f"HTTP/1.1 200 OK\r\nContent-Type: {ohttp.CHUNKED_RESPONSE_MEDIA_TYPE}\r\n"
            f"Content-Length: {len(ANSWER) * 3}\r\nConnection: close\r\n\r\n".encode()
            + ANSWER * 3
        )

    error = _fails(serve(masquerade))
    assert isinstance(error, TransportError)


def test_inflated_chunk_length_and_oversized_error_bodies(serve: Callable[[Fault], Server]) -> None:
    def inflated(conn: socket.socket, outer: Outer) -> None:
        body = outer.body[:32] + b"\xff" * 8 + bytes(1000)
        conn.sendall(outer.head(chunked=True) + b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body))

    assert _fails(serve(inflated)).code == "transport.frame_too_large"  # type: ignore[attr-defined]

    def huge_error(conn: socket.socket, outer: Outer) -> None:
        conn.sendall(b"HTTP/1.1 500 X\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
        block = b"%x\r\n%s\r\n" % (65536, b"e" * 65536)
        for _ in range(64):  # 4 MiB; at most 64 KiB of it is read
            conn.sendall(block)

    assert isinstance(_fails(serve(huge_error)), TransportError)


def test_answer_from_another_key_or_exchange(serve: Callable[[Fault], Server]) -> None:
    """An impostor gateway (another key, same ids) cannot open the request; an answer recorded
    from an earlier exchange does not authenticate for a new one."""
    impostor = OhttpGateway.generate(_app)
    server = serve(lambda conn, outer: conn.sendall(outer.head() + outer.body))
    assert isinstance(_fails(server, identity_keys=impostor.key_configs), TeeclientError)

    recorded: list[Outer] = []

    def replay(conn: socket.socket, outer: Outer) -> None:
        if not recorded:
            recorded.append(outer)
        conn.sendall(recorded[0].head() + recorded[0].body)

    server = serve(replay)
    assert _post(server).content == ANSWER  # the first exchange is genuine
    error = _fails(server)
    assert isinstance(error, TransportError)
    assert error.code == "transport.decrypt_failed"


# --- the async transport: the same faults, the same outcomes ----------------------------------


def _apost(server: Server) -> bytes:
    from teeclient.transport import AsyncAttestedTransport

    endpoint = f"http://127.0.0.1:{server.port}"

    async def run() -> bytes:
        transport = AsyncAttestedTransport(
            httpx.AsyncHTTPTransport(),
            endpoint=endpoint,
            identity=identity_for(server.gateway.key_configs, endpoint=endpoint),
        )
        async with httpx.AsyncClient(
            transport=transport, base_url=endpoint, timeout=TIMEOUT
        ) as client:
            response = await client.post(
                "/v1/chat/completions", content=PROMPT, headers={"authorization": API_KEY}
            )
            return await response.aread()

    import asyncio

    return asyncio.run(run())


def _cut_final(conn: socket.socket, outer: Outer) -> None:
    body = outer.body[:-1]
    conn.sendall(outer.head(chunked=True) + b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body))


@pytest.mark.parametrize(
    ("name", "fault", "errors"),
    [
        ("never answers", lambda conn, outer: time.sleep(TIMEOUT + 0.5), httpx.TimeoutException),
        ("reset", lambda conn, outer: _reset(conn), httpx.TransportError),
        ("cut inside the final chunk", _cut_final, TransportError),
        (
            "plaintext",
            lambda conn, outer: conn.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
                b"Connection: close\r\n\r\n%s" % (len(ANSWER), ANSWER)
            ),
            TransportError,
        ),
    ],
)
def test_async_transport_faults(
    serve: Callable[[Fault], Server], name: str, fault: Fault, errors: type[BaseException]
) -> None:
    genuine = serve(lambda conn, outer: conn.sendall(outer.head() + outer.body))
    assert _apost(genuine) == ANSWER
    server = serve(fault)
    started = time.monotonic()
    with pytest.raises(errors) as info:
        _apost(server)
    assert time.monotonic() - started < TIMEOUT + SLACK, name
    assert API_KEY not in str(info.value)
