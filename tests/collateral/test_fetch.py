"""HttpFetcher / AsyncHttpFetcher: retries, Retry-After, timeouts, truncation, sizes, redirects."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from teeclient.collateral.fetch import AsyncHttpFetcher, HttpFetcher, OfflineFetcher, StaticFetcher
from teeclient.collateral.items import CollateralItem, CollateralRequest
from teeclient.errors import CollateralFetchError, CollateralMissingError, CollateralNotFoundError

from .conftest import RawServer, fast_settings

PATH = "/vcek/v1/Genoa/abcd"


def _request(base: str, path: str = PATH, **kw: object) -> CollateralRequest:
    return CollateralRequest(url=base + path, purpose="test.item", **kw)  # type: ignore[arg-type]


class Sleeps:
    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def test_ok_returns_item_with_headers_and_origin(httpserver: HTTPServer) -> None:
    httpserver.expect_request(PATH).respond_with_data(
        b"DATA", headers={"Content-Type": "application/pkix-cert", "X-Thing": "1"}
    )
    item = HttpFetcher(settings=fast_settings(httpserver.url_for(""))).fetch(
        _request(httpserver.url_for(""))
    )
    assert item.data == b"DATA"
    assert item.origin == "network"
    assert item.media_type == "application/pkix-cert"
    assert item.headers["x-thing"] == "1"
    assert item.fetched_at is not None


def test_429_retry_after_is_honoured(httpserver: HTTPServer) -> None:
    calls = []

    def handler(request: Request) -> Response:
        calls.append(request.path)
        if len(calls) == 1:
            return Response(b"slow down", status=429, headers={"Retry-After": "2"})
        return Response(b"OK")

    httpserver.expect_request(PATH).respond_with_handler(handler)
    sleeps = Sleeps()
    fetcher = HttpFetcher(settings=fast_settings(httpserver.url_for(""), deadline=10), sleep=sleeps)
    assert fetcher.fetch(_request(httpserver.url_for(""))).data == b"OK"
    assert sleeps.calls == [2.0]
    assert len(calls) == 2


def test_retry_after_beyond_limit_fails_fast(httpserver: HTTPServer) -> None:
    httpserver.expect_request(PATH).respond_with_data(
        b"", status=429, headers={"Retry-After": "600"}
    )
    sleeps = Sleeps()
    fetcher = HttpFetcher(settings=fast_settings(httpserver.url_for("")), sleep=sleeps)
    with pytest.raises(CollateralFetchError):
        fetcher.fetch(_request(httpserver.url_for("")))
    assert sleeps.calls == []
    assert len(httpserver.log) == 1


def test_503_is_retried_within_bounds_then_fails(httpserver: HTTPServer) -> None:
    httpserver.expect_request(PATH).respond_with_data(b"down", status=503)
    sleeps = Sleeps()
    fetcher = HttpFetcher(settings=fast_settings(httpserver.url_for(""), attempts=3), sleep=sleeps)
    with pytest.raises(CollateralFetchError) as info:
        fetcher.fetch(_request(httpserver.url_for("")))
    assert len(httpserver.log) == 3
    assert len(sleeps.calls) == 2
    assert sleeps.calls[0] < sleeps.calls[1] * 2  # exponential backoff with jitter
    assert info.value.actual == "HTTP 503"


def test_404_is_not_found_without_retry(httpserver: HTTPServer) -> None:
    httpserver.expect_request(PATH).respond_with_data(b"", status=404)
    with pytest.raises(CollateralNotFoundError):
        HttpFetcher(settings=fast_settings(httpserver.url_for(""))).fetch(
            _request(httpserver.url_for(""))
        )
    assert len(httpserver.log) == 1


def test_redirect_is_refused_not_followed(httpserver: HTTPServer) -> None:
    httpserver.expect_request(PATH).respond_with_data(
        b"", status=302, headers={"Location": "http://evil.example/x"}
    )
    with pytest.raises(CollateralFetchError) as info:
        HttpFetcher(settings=fast_settings(httpserver.url_for(""))).fetch(
            _request(httpserver.url_for(""))
        )
    assert "redirect" in str(info.value.actual)
    assert len(httpserver.log) == 1


def test_timeout_is_bounded_by_deadline(
    raw_server: Callable[[Callable[[socket.socket, int], None]], RawServer],
) -> None:
    def never_answer(conn: socket.socket, n: int) -> None:
        time.sleep(1.5)

    server = raw_server(never_answer)
    settings = fast_settings(server.url, read_timeout=0.3, deadline=1.5, attempts=5)
    start = time.monotonic()
    with pytest.raises(CollateralFetchError):
        HttpFetcher(settings=settings).fetch(_request(server.url))
    assert time.monotonic() - start < settings.deadline + 1.0


def test_slow_loris_body_is_cut_at_deadline(
    raw_server: Callable[[Callable[[socket.socket, int], None]], RawServer],
) -> None:
    def trickle(conn: socket.socket, n: int) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
        for _ in range(40):
            conn.sendall(b"x")
            time.sleep(0.1)

    server = raw_server(trickle)
    settings = fast_settings(server.url, read_timeout=0.5, deadline=1.2, attempts=3)
    start = time.monotonic()
    with pytest.raises(CollateralFetchError):
        HttpFetcher(settings=settings).fetch(_request(server.url))
    assert time.monotonic() - start < settings.deadline + 1.0


def test_truncated_body_is_retried_then_fails(
    raw_server: Callable[[Callable[[socket.socket, int], None]], RawServer],
) -> None:
    def truncate(conn: socket.socket, n: int) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + b"x" * 10)

    server = raw_server(truncate)
    with pytest.raises(CollateralFetchError):
        HttpFetcher(settings=fast_settings(server.url, attempts=3), sleep=Sleeps()).fetch(
            _request(server.url)
        )
    assert len(server.connections) == 3


def test_truncated_then_complete_succeeds(
    raw_server: Callable[[Callable[[socket.socket, int], None]], RawServer],
) -> None:
    def flaky(conn: socket.socket, n: int) -> None:
        if n == 0:
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n" + b"x" * 5)
        else:
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\nConnection: close\r\n\r\nGOOD")

    server = raw_server(flaky)
    item = HttpFetcher(settings=fast_settings(server.url), sleep=Sleeps()).fetch(
        _request(server.url)
    )
    assert item.data == b"GOOD"


def test_oversized_body_fails_without_retry(
    raw_server: Callable[[Callable[[socket.socket, int], None]], RawServer],
) -> None:
    def big(conn: socket.socket, n: int) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n" + b"x" * 5000)

    server = raw_server(big)
    with pytest.raises(CollateralFetchError):
        HttpFetcher(settings=fast_settings(server.url, max_body_bytes=1000)).fetch(
            _request(server.url)
        )
    assert len(server.connections) == 1


def test_connection_refused_is_retried_then_fails() -> None:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    sleeps = Sleeps()
    base = f"http://127.0.0.1:{port}"
    with pytest.raises(CollateralFetchError):
        HttpFetcher(settings=fast_settings(base, attempts=3), sleep=sleeps).fetch(_request(base))
    assert len(sleeps.calls) == 2


def test_offline_fetcher_and_allow_network(httpserver: HTTPServer) -> None:
    with pytest.raises(CollateralMissingError):
        OfflineFetcher().fetch(_request("http://127.0.0.1:1"))
    httpserver.expect_request(PATH).respond_with_data(b"x")
    with pytest.raises(CollateralMissingError):
        HttpFetcher(settings=fast_settings(httpserver.url_for(""))).fetch(
            _request(httpserver.url_for(""), allow_network=False)
        )
    assert httpserver.log == []


def test_static_fetcher_serves_by_request_key() -> None:
    item = CollateralItem(data=b"A", source="https://kds.example/x", method="GET")
    fetcher = StaticFetcher([item])
    got = fetcher.fetch(CollateralRequest(url="https://kds.example/x", purpose="p"))
    assert got.data == b"A"
    assert got.origin == "bundle"
    with pytest.raises(CollateralMissingError):
        fetcher.fetch(CollateralRequest(url="https://kds.example/y", purpose="p"))
    with pytest.raises(CollateralMissingError):
        fetcher.fetch(CollateralRequest(url="https://kds.example/x", purpose="p", method="POST"))


def test_async_fetcher_retries_and_succeeds(httpserver: HTTPServer) -> None:
    calls = []

    def handler(request: Request) -> Response:
        calls.append(1)
        return Response(b"", status=503) if len(calls) == 1 else Response(b"ASYNC")

    httpserver.expect_request(PATH).respond_with_handler(handler)

    async def run() -> bytes:
        fetcher = AsyncHttpFetcher(settings=fast_settings(httpserver.url_for("")))
        try:
            return (await fetcher.fetch(_request(httpserver.url_for("")))).data
        finally:
            await fetcher.aclose()

    assert asyncio.run(run()) == b"ASYNC"
    assert len(calls) == 2


def test_retry_after_http_date(httpserver: HTTPServer) -> None:
    from teeclient.collateral.fetch import _retry_after

    now = __import__("datetime").datetime(2026, 1, 1, tzinfo=__import__("datetime").UTC)
    assert _retry_after({"retry-after": "Thu, 01 Jan 2026 00:00:05 GMT"}, now) == 5.0
    assert _retry_after({"retry-after": "7"}, now) == 7.0
    assert _retry_after({"retry-after": "soon"}, now) is None
    assert _retry_after({}, now) is None
