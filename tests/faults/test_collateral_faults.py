"""Fault injection on the collateral services (HttpFetcher / AsyncHttpFetcher over loopback).

Each fault has one test, a documented outcome (docs/security.md, "Fault injection") and a
wall-time bound: nothing may outlive the configured deadline by more than ``SLACK``. Faults
already covered in tests/collateral/test_fetch.py (429/503 + Retry-After, 404, a 302
redirect, a silent server, a trickled body, truncation, an oversized Content-Length body,
connection refused) are not repeated; this file adds the rest of the matrix, both clients.
"""

from __future__ import annotations

import asyncio
import gzip
import logging
import socket
import struct
import time
import tracemalloc
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from teeclient.collateral.fetch import AsyncHttpFetcher, HttpFetcher
from teeclient.collateral.items import CollateralItem, CollateralRequest
from teeclient.collateral.settings import CollateralSettings
from teeclient.errors import CollateralError, CollateralFetchError, TeeclientError
from tests.collateral.conftest import RawServer, fast_settings

pytestmark = pytest.mark.fault

Handler = Callable[[socket.socket, int], None]
ServerFactory = Callable[[Handler], RawServer]
SLACK = 1.0  # seconds beyond the deadline any fault may take (scheduling, thread start)
SECRET = "sk-live-DO-NOT-LEAK-4f9c"


class Sleeps:
    """A sleep stand-in that records the waits (no real sleeping)."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def _request(server: RawServer, **kw: object) -> CollateralRequest:
    return CollateralRequest(url=server.url + "/item", purpose="fault.item", **kw)  # type: ignore[arg-type]


@contextmanager
def _bounded(settings: CollateralSettings) -> Iterator[None]:
    start = time.monotonic()
    yield
    elapsed = time.monotonic() - start
    assert elapsed < settings.deadline + SLACK, f"took {elapsed:.2f}s"


def _fetch_both(
    server: RawServer, settings: CollateralSettings, request: CollateralRequest | None = None
) -> list[BaseException | CollateralItem]:
    """The sync and the async fetcher's outcome for the same request (each time-bounded)."""
    req = request or _request(server)
    out: list[BaseException | CollateralItem] = []
    with _bounded(settings):
        try:
            out.append(HttpFetcher(settings=settings, sleep=Sleeps()).fetch(req))
        except TeeclientError as exc:
            out.append(exc)

    async def run() -> CollateralItem:
        fetcher = AsyncHttpFetcher(settings=settings)
        try:
            return await fetcher.fetch(req)
        finally:
            await fetcher.aclose()

    with _bounded(settings):
        try:
            out.append(asyncio.run(run()))
        except TeeclientError as exc:
            out.append(exc)
    return out


def _both_fail(
    server: RawServer, settings: CollateralSettings, code: str = "collateral.fetch_failed"
) -> list[CollateralError]:
    outcomes = _fetch_both(server, settings)
    for outcome in outcomes:
        assert isinstance(outcome, CollateralError), outcome
        assert outcome.code == code
    return outcomes  # type: ignore[return-value]


def _response(body: bytes, *, status: str = "200 OK", headers: str = "") -> bytes:
    head = f"HTTP/1.1 {status}\r\nContent-Length: {len(body)}\r\nConnection: close\r\n{headers}"
    return head.encode() + b"\r\n" + body


# --- time: the deadline holds in every phase --------------------------------------------------


def test_status_line_trickled_is_cut_at_the_deadline(raw_server: ServerFactory) -> None:
    """A server that sends its status line one byte at a time never reaches the headers."""

    def trickle(conn: socket.socket, n: int) -> None:
        for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 40:
            conn.sendall(bytes([byte]))
            time.sleep(0.05)

    settings = fast_settings(raw_server(trickle).url, read_timeout=0.5, deadline=1.0)
    _both_fail(raw_server(trickle), settings)


def test_headers_trickled_are_cut_at_the_deadline(raw_server: ServerFactory) -> None:
    """Regression: each header byte arrived within the read timeout, so before the deadline
    was enforced per socket read a fetch lasted as long as the server kept trickling."""

    def trickle(conn: socket.socket, n: int) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\n")
        for _ in range(30):
            conn.sendall(b"X")
            time.sleep(0.1)

    server = raw_server(trickle)
    _both_fail(server, fast_settings(server.url, read_timeout=0.5, deadline=1.0))


def test_chunked_body_trickled_is_cut_at_the_deadline(raw_server: ServerFactory) -> None:
    def trickle(conn: socket.socket, n: int) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        for _ in range(30):
            conn.sendall(b"1\r\nx\r\n")
            time.sleep(0.1)

    server = raw_server(trickle)
    _both_fail(server, fast_settings(server.url, read_timeout=0.5, deadline=1.0))


def test_silent_server_async(raw_server: ServerFactory) -> None:
    """Accepts, reads the request, never answers (the sync case is in test_fetch.py)."""

    def silent(conn: socket.socket, n: int) -> None:
        time.sleep(1.2)

    server = raw_server(silent)
    _both_fail(server, fast_settings(server.url, read_timeout=0.3, deadline=1.0, attempts=5))


# --- connection faults ------------------------------------------------------------------------


def _reset(conn: socket.socket) -> None:
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()


def test_reset_before_the_status_line_is_retried_then_fails(raw_server: ServerFactory) -> None:
    server = raw_server(lambda conn, n: _reset(conn))
    _both_fail(server, fast_settings(server.url, attempts=3))
    assert len(server.connections) == 6  # three attempts each


def test_reset_in_the_middle_of_the_body(raw_server: ServerFactory) -> None:
    def cut(conn: socket.socket, n: int) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + b"x" * 100)
        time.sleep(0.05)
        _reset(conn)

    server = raw_server(cut)
    _both_fail(server, fast_settings(server.url, attempts=2))


def test_reset_once_then_success_is_retried(raw_server: ServerFactory) -> None:
    def flaky(conn: socket.socket, n: int) -> None:
        if n % 2 == 0:
            _reset(conn)
        else:
            conn.sendall(_response(b"GOOD"))

    server = raw_server(flaky)
    for outcome in _fetch_both(server, fast_settings(server.url)):
        assert isinstance(outcome, CollateralItem)
        assert outcome.data == b"GOOD"


def test_garbage_instead_of_http(raw_server: ServerFactory) -> None:
    server = raw_server(
        lambda conn, n: conn.sendall(b"\x16\x03\x01\x00\xa5 not http at all\r\n\r\n")
    )
    _both_fail(server, fast_settings(server.url, attempts=2))


# --- status codes -----------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["400 Bad Request", "401 Unauthorized", "403 Forbidden"])
def test_client_errors_fail_without_retry(raw_server: ServerFactory, status: str) -> None:
    server = raw_server(lambda conn, n: conn.sendall(_response(b"denied", status=status)))
    _both_fail(server, fast_settings(server.url, attempts=3))
    assert len(server.connections) == 2  # one attempt each


@pytest.mark.parametrize("status", ["500 Internal Server Error", "502 Bad Gateway", "504 Timeout"])
def test_server_errors_are_retried_within_attempts(raw_server: ServerFactory, status: str) -> None:
    server = raw_server(lambda conn, n: conn.sendall(_response(b"", status=status)))
    _both_fail(server, fast_settings(server.url, attempts=3))
    assert len(server.connections) == 6


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_redirects_to_other_hosts_are_refused(raw_server: ServerFactory, status: int) -> None:
    """Never followed: the Location (another host) is not contacted; one attempt each."""

    def redirect(conn: socket.socket, n: int) -> None:
        conn.sendall(
            _response(b"", status=f"{status} Moved", headers="Location: https://evil.example/x\r\n")
        )

    server = raw_server(redirect)
    for outcome in _both_fail(server, fast_settings(server.url, attempts=3)):
        assert "redirect to https://evil.example/x" in str(outcome.actual)
    assert len(server.connections) == 2


# --- Retry-After abuse ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "9" * 400,  # float('9'*400) is inf
        "100000000000",
        "Fri, 31 Dec 9999 23:59:59 GMT",
        "Wed, 21 Oct 2015 07:28:00 GMT",  # in the past: no wait
        "-5",
        "soon",
        "1e9",
        "",
    ],
)
def test_retry_after_abuse_never_waits_beyond_the_limit(
    raw_server: ServerFactory, value: str
) -> None:
    server = raw_server(
        lambda conn, n: conn.sendall(
            _response(b"", status="503 Busy", headers=f"Retry-After: {value}\r\n")
        )
    )
    settings = fast_settings(server.url, attempts=4, max_retry_after=2.0, deadline=3.0)
    sleeps = Sleeps()
    with _bounded(settings), pytest.raises(CollateralFetchError):
        HttpFetcher(settings=settings, sleep=sleeps).fetch(_request(server))
    assert all(0 <= s <= settings.max_retry_after for s in sleeps.calls)
    assert len(sleeps.calls) <= settings.attempts - 1


def test_huge_retry_after_on_a_500_fails_fast(raw_server: ServerFactory) -> None:
    """Any retryable status may carry Retry-After; one beyond the limit ends the fetch now."""
    server = raw_server(
        lambda conn, n: conn.sendall(
            _response(b"", status="500 Oops", headers="Retry-After: 100000\r\n")
        )
    )
    sleeps = Sleeps()
    settings = fast_settings(server.url, attempts=3)
    with _bounded(settings), pytest.raises(CollateralFetchError) as info:
        HttpFetcher(settings=settings, sleep=sleeps).fetch(_request(server))
    assert "Retry-After" in str(info.value)
    assert sleeps.calls == []
    assert len(server.connections) == 1


# --- sizes and encodings ----------------------------------------------------------------------


def test_oversized_chunked_body_without_content_length(raw_server: ServerFactory) -> None:
    def endless(conn: socket.socket, n: int) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        chunk = b"%x\r\n%s\r\n" % (4096, b"y" * 4096)
        for _ in range(64):
            conn.sendall(chunk)

    server = raw_server(endless)
    _both_fail(server, fast_settings(server.url, max_body_bytes=50_000))
    assert len(server.connections) == 2  # too large is final, not retried


def test_gzip_bomb_stops_at_the_body_limit(raw_server: ServerFactory) -> None:
    """64 MiB of zeros in a 65 KiB gzip body: the decoded size is bounded, not the memory."""
    bomb = gzip.compress(bytes(64 * 1024 * 1024), compresslevel=9)
    assert len(bomb) < 100_000

    def send(conn: socket.socket, n: int) -> None:
        conn.sendall(_response(bomb, headers="Content-Encoding: gzip\r\n"))

    server = raw_server(send)
    settings = fast_settings(server.url, max_body_bytes=1_000_000)
    tracemalloc.start()
    try:
        outcomes = _both_fail(server, settings)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert all("once decoded" in str(o) for o in outcomes)
    assert peak < 16 * 1024 * 1024, peak


@pytest.mark.parametrize(
    ("encoding", "body"),
    [
        ("gzip", b"\x1f\x8b\x08\x00garbage that is not deflate"),
        ("gzip", gzip.compress(b"x" * 1000)[:-12]),  # truncated
        ("gzip", gzip.compress(b"x" * 100) + b"trailing junk"),
        ("deflate", b"\xff\xfe not deflate either"),
        ("br", b"\x0b\x02\x80hello\x03"),
        ("compress", b"\x1f\x9d\x90"),
        ("x-evil", b"data"),
        ("gzip, gzip, gzip", gzip.compress(gzip.compress(gzip.compress(b"x")))),
    ],
)
def test_invalid_or_unsupported_content_encoding(
    raw_server: ServerFactory, encoding: str, body: bytes
) -> None:
    server = raw_server(
        lambda conn, n: conn.sendall(_response(body, headers=f"Content-Encoding: {encoding}\r\n"))
    )
    _both_fail(server, fast_settings(server.url))
    assert len(server.connections) == 2  # not retried


@pytest.mark.parametrize(
    ("encoding", "encode"),
    [
        ("gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", lambda b: zlib.compress(b)[2:-4]),  # raw deflate, as some servers send
        ("gzip, gzip", lambda b: gzip.compress(gzip.compress(b))),
        ("identity", lambda b: b),
    ],
)
def test_valid_content_encodings_decode(
    raw_server: ServerFactory, encoding: str, encode: Callable[[bytes], bytes]
) -> None:
    payload = b'{"tcbInfo": {}}' * 50
    server = raw_server(
        lambda conn, n: conn.sendall(
            _response(encode(payload), headers=f"Content-Encoding: {encoding}\r\n")
        )
    )
    for outcome in _fetch_both(server, fast_settings(server.url)):
        assert isinstance(outcome, CollateralItem)
        assert outcome.data == payload


def test_the_fetcher_asks_only_for_encodings_it_bounds(raw_server: ServerFactory) -> None:
    server = raw_server(lambda conn, n: conn.sendall(_response(b"ok")))
    _fetch_both(server, fast_settings(server.url))
    for request in server.connections:
        assert b"accept-encoding: gzip, deflate\r\n" in request.lower()


def test_huge_response_headers_are_refused(raw_server: ServerFactory) -> None:
    def headers(conn: socket.socket, n: int) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\n" + b"X-Pad: " + b"a" * 200_000 + b"\r\n\r\n")

    server = raw_server(headers)
    _both_fail(server, fast_settings(server.url, attempts=1))


def test_many_response_headers_are_capped(raw_server: ServerFactory) -> None:
    extra = "".join(f"X-H{i}: {i}\r\n" for i in range(300))
    server = raw_server(lambda conn, n: conn.sendall(_response(b"ok", headers=extra)))
    for outcome in _fetch_both(server, fast_settings(server.url)):
        assert isinstance(outcome, CollateralItem)
        assert len(outcome.headers) <= 64


# --- hostile content reaches the parsers as typed errors --------------------------------------


@pytest.mark.parametrize(
    "body",
    [b"", b"{not json", b'{"tcbInfo": 1}', b"\x30\x82\xff\xff", b"<html>maintenance</html>"],
)
def test_hostile_collateral_bodies_are_typed_errors_downstream(
    raw_server: ServerFactory, body: bytes
) -> None:
    """The fetcher returns bytes; every consumer (TDX gather, SNP verify) rejects them typed."""
    from teeclient.collateral.items import CollateralSet
    from teeclient.platforms.sev_snp.verify import verify as snp_verify
    from teeclient.platforms.tdx.collateral import gather
    from teeclient.trust import TrustStore
    from tests._snp import Vector

    server = raw_server(lambda conn, n: conn.sendall(_response(body)))
    item = HttpFetcher(settings=fast_settings(server.url)).fetch(_request(server))
    assert item.data == body
    collateral = CollateralSet.of([item]) if body else CollateralSet.of([])
    with pytest.raises(TeeclientError):
        gather(CollateralSet.of([item if body else CollateralItem(data=b"\x00", source="x")]))
    vector = Vector("genoa-v5-oak")
    with pytest.raises(TeeclientError):
        snp_verify(vector.report, trust=TrustStore.vendor(), now=vector.now, collateral=collateral)


# --- nothing secret in errors or logs ---------------------------------------------------------


def test_no_secret_in_errors_or_logs(
    raw_server: ServerFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """A request header (an API key) never reaches an error or any log record (httpx and
    httpcore DEBUG included); response cookies and bodies never reach our errors or our logs
    (httpcore's own DEBUG trace prints response headers: configure it accordingly)."""
    served = "srv-cookie-DO-NOT-LEAK-77a1"

    def deny(conn: socket.socket, n: int) -> None:
        conn.sendall(
            _response(
                f"token {served} rejected".encode(),
                status="503 Busy",
                headers=f"Set-Cookie: session={served}\r\nRetry-After: 0\r\n",
            )
        )

    server = raw_server(deny)
    request = _request(server, headers={"Ocp-Apim-Subscription-Key": SECRET})
    caplog.set_level(logging.DEBUG)
    errors = []
    for outcome in _fetch_both(server, fast_settings(server.url, attempts=2), request):
        assert isinstance(outcome, CollateralFetchError)
        errors.append(outcome)
    assert any(SECRET.encode() in r for r in server.connections)  # it was sent...
    for exc in errors:  # ...and appears nowhere on our side
        for secret in (SECRET, served):
            assert secret not in str(exc)
            assert secret not in repr(exc.to_dict())
    assert SECRET not in caplog.text
    ours = [r.getMessage() for r in caplog.records if r.name.startswith("teeclient")]
    assert ours
    assert not any(served in m for m in ours)


def test_sensitive_response_headers_are_not_kept(raw_server: ServerFactory) -> None:
    server = raw_server(
        lambda conn, n: conn.sendall(
            _response(
                b"ok",
                headers=f"Set-Cookie: a={SECRET}\r\nAuthorization: Bearer {SECRET}\r\n",
            )
        )
    )
    for outcome in _fetch_both(server, fast_settings(server.url)):
        assert isinstance(outcome, CollateralItem)
        assert SECRET not in repr(dict(outcome.headers))
