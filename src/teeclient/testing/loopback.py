"""A small threaded HTTP/1.1 server on loopback that runs an httpx-shaped handler.

For tests, demos and benchmarks: ``LoopbackServer(handler)`` listens on 127.0.0.1 (port 0:
any free port), optionally with TLS, and calls ``handler(httpx.Request) -> httpx.Response``
for every request. Request bodies are streamed to the handler (``Content-Length`` or
``Transfer-Encoding: chunked``); response bodies are written as they are produced (chunked
unless the handler set ``Content-Length``), each piece flushed at once so streamed answers
arrive incrementally.

With ``capture=True`` the server records every byte it read from each connection (after TLS
decryption), and every TLS handshake that failed, so fail-closed tests can assert that a
client sent *nothing*. Never bind anything but loopback.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import socketserver
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, BinaryIO, cast

import httpx

from teeclient.testing.gateway import Handler

__all__ = ["Connection", "LoopbackServer"]

logger = logging.getLogger(__name__)

_MAX_LINE = 64 * 1024
_MAX_HEADERS = 200
_DRAIN_LIMIT = 1024 * 1024


@dataclass(slots=True)
class Connection:
    """What one accepted connection carried (when the server captures)."""

    received: bytearray = field(default_factory=bytearray)
    requests: int = 0
    handshake_error: str | None = None


class _Tee:
    """A binary reader that also records what it returns."""

    def __init__(self, raw: BinaryIO, record: Connection | None) -> None:
        self._raw = raw
        self._record = record

    def _keep(self, data: bytes) -> bytes:
        if self._record is not None:
            self._record.received += data
        return data

    def readline(self, limit: int) -> bytes:
        return self._keep(self._raw.readline(limit))

    def read(self, size: int) -> bytes:
        return self._keep(self._raw.read(size))


class _BadRequest(Exception):
    pass


def _chunked_body(rfile: _Tee) -> Iterator[bytes]:
    while True:
        line = rfile.readline(_MAX_LINE)
        if not line.endswith(b"\n"):
            raise _BadRequest("truncated chunk size")
        size = int(line.split(b";", 1)[0].strip(), 16)
        if size == 0:
            while rfile.readline(_MAX_LINE) not in (b"\r\n", b"\n", b""):
                pass
            return
        data = rfile.read(size)
        if len(data) != size or rfile.readline(_MAX_LINE) not in (b"\r\n", b"\n"):
            raise _BadRequest("truncated chunk")
        yield data


def _sized_body(rfile: _Tee, length: int) -> Iterator[bytes]:
    remaining = length
    while remaining:
        data = rfile.read(min(remaining, 65536))
        if not data:
            raise _BadRequest("truncated body")
        remaining -= len(data)
        yield data


class _RequestBody(httpx.SyncByteStream):
    def __init__(self, source: Iterator[bytes]) -> None:
        self._source = source
        self.consumed = False

    def __iter__(self) -> Iterator[bytes]:
        yield from self._source
        self.consumed = True

    def drain(self) -> bool:
        total = 0
        for piece in self._source:
            total += len(piece)
            if total > _DRAIN_LIMIT:
                return False
        self.consumed = True
        return True


class _Handler(socketserver.BaseRequestHandler):
    server: _Server

    def setup(self) -> None:
        self.record = Connection() if self.server.owner.capture else None
        if self.record is not None:
            with self.server.owner.lock:
                self.server.owner.connections.append(self.record)

    def handle(self) -> None:
        owner = self.server.owner
        conn: socket.socket = self.request
        with contextlib.suppress(OSError):  # write each response piece at once (no Nagle delay)
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if owner.ssl_context is not None:
            try:
                conn = owner.ssl_context.wrap_socket(conn, server_side=True)
            except (ssl.SSLError, OSError) as exc:
                if self.record is not None:
                    self.record.handshake_error = f"{type(exc).__name__}: {exc}"
                return
        with owner.lock:
            owner.open_sockets.add(conn)
        try:
            self._serve(conn)
        except (OSError, _BadRequest, ValueError) as exc:
            logger.debug("loopback connection ended: %s", exc)
        finally:
            with owner.lock:
                owner.open_sockets.discard(conn)
            with contextlib.suppress(OSError):
                conn.close()

    def _serve(self, conn: socket.socket) -> None:
        owner = self.server.owner
        rfile = _Tee(conn.makefile("rb"), self.record)
        wfile = cast(IO[bytes], conn.makefile("wb", buffering=0))
        scheme = "https" if owner.ssl_context is not None else "http"
        while True:
            line = rfile.readline(_MAX_LINE)
            if not line:
                return
            parts = line.decode("latin-1").rstrip("\r\n").split(" ")
            if len(parts) != 3:
                raise _BadRequest("bad request line")
            method, target, _version = parts
            headers: list[tuple[bytes, bytes]] = []
            for _ in range(_MAX_HEADERS):
                header = rfile.readline(_MAX_LINE)
                if header in (b"\r\n", b"\n"):
                    break
                if not header:
                    return
                name, _, value = header.partition(b":")
                headers.append((name.strip(), value.strip()))
            else:
                raise _BadRequest("too many headers")
            lowered = {n.lower(): v for n, v in headers}
            if b"chunked" in lowered.get(b"transfer-encoding", b"").lower():
                source = _chunked_body(rfile)
            else:
                source = _sized_body(rfile, int(lowered.get(b"content-length", b"0")))
            body = _RequestBody(source)
            host = lowered.get(b"host", b"localhost").decode("latin-1")
            request = httpx.Request(
                method, f"{scheme}://{host}{target}", headers=headers, stream=body
            )
            if self.record is not None:
                self.record.requests += 1
            response = owner.handler(request)
            keep = body.consumed or body.drain()
            if lowered.get(b"connection", b"").lower() == b"close":
                keep = False
            self._write(wfile, method, response, keep)
            if not keep:
                return

    def _write(self, wfile: IO[bytes], method: str, response: httpx.Response, keep: bool) -> None:
        try:
            sized = "content-length" in response.headers
            head = [f"HTTP/1.1 {response.status_code} {response.reason_phrase}".encode()]
            for name, value in response.headers.raw:
                if name.lower() in (b"transfer-encoding", b"connection"):
                    continue
                head.append(name + b": " + value)
            if not sized:
                head.append(b"transfer-encoding: chunked")
            if not keep:
                head.append(b"connection: close")
            pending = b"\r\n".join(head) + b"\r\n\r\n"
            if method == "HEAD":
                wfile.write(pending)
                return
            stream = response.stream
            assert isinstance(stream, httpx.SyncByteStream)
            for piece in stream:
                if not piece:
                    continue
                if sized:
                    wfile.write(pending + piece)
                else:
                    wfile.write(pending + b"%x\r\n%b\r\n" % (len(piece), piece))
                pending = b""
            wfile.write(pending + (b"" if sized else b"0\r\n\r\n"))
        finally:
            response.close()


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    owner: LoopbackServer


class LoopbackServer:
    """Serve ``handler`` on 127.0.0.1 in a background thread (a context manager)."""

    def __init__(
        self,
        handler: Handler,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        ssl_context: ssl.SSLContext | None = None,
        capture: bool = False,
    ) -> None:
        if host not in ("127.0.0.1", "::1", "localhost"):
            raise ValueError("the loopback server binds loopback addresses only")
        self.handler = handler
        self.ssl_context = ssl_context
        self.capture = capture
        self.lock = threading.Lock()
        self.connections: list[Connection] = []
        self.open_sockets: set[socket.socket] = set()
        self._host = host
        self._port = port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The bound port (after ``start``)."""
        assert self._server is not None, "the server is not started"
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """``http(s)://127.0.0.1:PORT``."""
        scheme = "https" if self.ssl_context is not None else "http"
        return f"{scheme}://{self._host}:{self.port}"

    def start(self) -> LoopbackServer:
        """Bind and serve in a daemon thread."""
        server = _Server((self._host, self._port), _Handler)
        server.owner = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving and close every open connection."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        with self.lock:
            sockets = list(self.open_sockets)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None

    def __enter__(self) -> LoopbackServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
