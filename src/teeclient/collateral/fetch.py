"""Fetchers: obtain a CollateralItem for a CollateralRequest (HTTP, bundle, or not at all).

``Fetcher`` / ``AsyncFetcher`` are one-method protocols. ``HttpFetcher`` and
``AsyncHttpFetcher`` share one retry decision (``_RetryFlow``): bounded attempts, exponential
backoff with jitter, ``Retry-After`` honoured on 429/503, one overall deadline, bounded
bodies, and no redirects (a redirect is refused, never followed). ``StaticFetcher`` serves
items from a bundle; ``OfflineFetcher`` refuses everything.

The overall deadline holds for every socket operation, not only between body chunks: the
fetchers' own httpx clients use a network backend that clamps each connect, read and write
timeout to the time left (a server that trickles its status line or headers is cut at the
deadline). Bodies are read raw and decoded here (gzip, deflate) with the same size bound
applied to the decoded output, so a compression bomb stops at ``max_body_bytes``.
"""

from __future__ import annotations

import contextvars
import email.utils
import random
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Protocol

from teeclient._time import utc_now
from teeclient.collateral.items import CollateralItem, CollateralRequest
from teeclient.collateral.settings import CollateralSettings
from teeclient.errors import (
    CollateralFetchError,
    CollateralMissingError,
    CollateralNotFoundError,
)

if TYPE_CHECKING:
    import httpcore
    import httpx

__all__ = [
    "AsyncFetcher",
    "AsyncHttpFetcher",
    "AsyncStaticFetcher",
    "Fetcher",
    "HttpFetcher",
    "OfflineFetcher",
    "StaticFetcher",
]


def _log(level: int, message: str, *args: object) -> None:
    """Log on this module's logger (``logging`` is imported only when a retry happens)."""
    import logging

    logging.getLogger(__name__).log(level, message, *args)


_DEBUG, _INFO = 10, 20  # logging.DEBUG, logging.INFO

_RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
_MAX_HEADERS = 64
_MAX_HEADER_BYTES = 32 * 1024
_DROP_HEADERS = frozenset({"set-cookie", "set-cookie2", "authorization"})


class Fetcher(Protocol):
    """Obtains one collateral item (synchronously)."""

    def fetch(self, request: CollateralRequest) -> CollateralItem:
        """Return the item for ``request`` or raise a CollateralError."""
        ...


class AsyncFetcher(Protocol):
    """Obtains one collateral item (asynchronously)."""

    async def fetch(self, request: CollateralRequest) -> CollateralItem:
        """Return the item for ``request`` or raise a CollateralError."""
        ...


class OfflineFetcher:
    """Refuses every request: used with ``--offline`` under bundles and caches."""

    def fetch(self, request: CollateralRequest) -> CollateralItem:
        """Always raises CollateralMissingError."""
        raise CollateralMissingError(
            "collateral is not in the bundle or cache, and fetching is disabled (offline)",
            field=request.purpose,
            expected=request.url,
            actual="offline",
        )


class StaticFetcher:
    """Serves items recorded earlier (a bundle), then defers to ``fallback``."""

    def __init__(self, items: Iterable[CollateralItem], *, fallback: Fetcher | None = None) -> None:
        self._items: dict[str, CollateralItem] = {}
        for item in items:
            key = CollateralRequest(
                url=item.source, purpose="", method=item.method, body=item.request_body
            ).key
            self._items.setdefault(key, item)
        self._fallback = fallback if fallback is not None else OfflineFetcher()

    def fetch(self, request: CollateralRequest) -> CollateralItem:
        """The recorded item for ``request``'s key, else the fallback's answer."""
        item = self._items.get(request.key)
        if item is not None:
            return replace(item, origin="bundle")
        return self._fallback.fetch(request)


class AsyncStaticFetcher:
    """Async twin of StaticFetcher."""

    def __init__(self, items: Iterable[CollateralItem], *, fallback: AsyncFetcher) -> None:
        self._static = StaticFetcher(items)
        self._fallback = fallback

    async def fetch(self, request: CollateralRequest) -> CollateralItem:
        """The recorded item for ``request``'s key, else the fallback's answer."""
        try:
            return self._static.fetch(request)
        except CollateralMissingError:
            return await self._fallback.fetch(request)


def _retry_after(headers: Mapping[str, str], now: datetime) -> float | None:
    value = headers.get("retry-after")
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


@dataclass(slots=True)
class _Outcome:
    status: int | None
    headers: Mapping[str, str]
    body: bytes | None
    error: Exception | None


class _RetryFlow:
    """The retry decision shared by the sync and async fetchers (no I/O here)."""

    def __init__(
        self,
        request: CollateralRequest,
        settings: CollateralSettings,
        *,
        monotonic: Callable[[], float],
        rng: Callable[[], float],
        clock: Callable[[], datetime],
    ) -> None:
        self.request = request
        self.settings = settings
        self.monotonic = monotonic
        self.rng = rng
        self.clock = clock
        self.deadline = monotonic() + settings.deadline
        self.attempt = 0
        self.last: str = "no attempt"

    def remaining(self) -> float:
        """Seconds left before the overall deadline."""
        return max(0.0, self.deadline - self.monotonic())

    def timeout(self) -> httpx.Timeout:
        """Per-attempt timeouts, never beyond the deadline."""
        import httpx

        left = max(0.05, self.remaining())
        s = self.settings
        return httpx.Timeout(
            connect=min(s.connect_timeout, left),
            read=min(s.read_timeout, left),
            write=min(s.read_timeout, left),
            pool=min(s.connect_timeout, left),
        )

    def decide(self, outcome: _Outcome) -> CollateralItem | float:
        """An item (done), or seconds to wait before the next attempt; raises when giving up."""
        self.attempt += 1
        req = self.request
        if outcome.error is None and outcome.status == 200 and outcome.body is not None:
            return CollateralItem(
                data=outcome.body,
                source=req.url,
                media_type=outcome.headers.get("content-type") or req.media_type,
                headers=MappingProxyType(dict(outcome.headers)),
                fetched_at=self.clock(),
                method=req.method,
                request_body=req.body,
                origin="network",
            )
        if outcome.error is not None:
            self.last = f"{type(outcome.error).__name__}: {outcome.error}"
            import httpx

            retryable = isinstance(outcome.error, httpx.TimeoutException | httpx.TransportError)
            wait_hint = None
        else:
            status = outcome.status or 0
            self.last = f"HTTP {status}"
            if status == 404:
                raise CollateralNotFoundError(
                    f"{req.purpose}: the collateral service has no such item",
                    field=req.purpose,
                    expected=req.url,
                    actual="HTTP 404",
                )
            retryable = status in _RETRY_STATUS
            wait_hint = _retry_after(outcome.headers, self.clock()) if retryable else None
            if 300 <= status < 400:
                self.last = f"HTTP {status} redirect to {outcome.headers.get('location', '?')}"
        if not retryable:
            raise self._give_up("not retryable")
        if self.attempt >= self.settings.attempts:
            raise self._give_up(f"{self.attempt} attempts")
        if wait_hint is not None:
            if wait_hint > self.settings.max_retry_after:
                raise self._give_up(f"Retry-After {wait_hint:.0f}s exceeds the limit")
            wait = wait_hint
        else:
            base = self.settings.backoff_base * (2 ** (self.attempt - 1))
            wait = min(self.settings.backoff_max, base) * (0.5 + self.rng() / 2)
        if wait >= self.remaining():
            raise self._give_up("deadline reached")
        return wait

    def _give_up(self, why: str) -> CollateralFetchError:
        req = self.request
        return CollateralFetchError(
            f"{req.purpose}: fetching collateral failed ({why})",
            field=req.purpose,
            expected=f"{req.method} {req.url} -> HTTP 200",
            actual=self.last,
        )


def _keep_headers(headers: httpx.Headers) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in headers.items():
        lowered = name.lower()
        if lowered in _DROP_HEADERS or len(out) >= _MAX_HEADERS:
            continue
        if len(value) <= _MAX_HEADER_BYTES:
            out[lowered] = value
    return out


def _request_headers(request: CollateralRequest) -> dict[str, str]:
    headers = dict(request.headers)
    if not any(k.lower() == "accept-encoding" for k in headers):
        headers["Accept-Encoding"] = ACCEPT_ENCODING
    return headers


def _require_network(request: CollateralRequest) -> None:
    if not request.allow_network:
        raise CollateralMissingError(
            f"{request.purpose}: taken only from a bundle or the cache, never fetched",
            field=request.purpose,
            expected=request.url,
            actual="not available offline",
        )


class _BodyTooLarge(Exception):
    pass


class _Body:
    """One response body as it arrives: bounded in size and by the overall deadline, then
    decoded (the same for the sync and the async fetcher)."""

    __slots__ = ("_chunks", "_flow", "_limit", "_size")

    def __init__(self, limit: int, flow: _RetryFlow) -> None:
        self._chunks: list[bytes] = []
        self._size = 0
        self._limit = limit
        self._flow = flow

    def add(self, chunk: bytes) -> None:
        """Take one raw chunk.

        Raises:
            _BodyTooLarge: the body exceeds the limit.
            httpx.ReadTimeout: the overall deadline has passed.
        """
        import httpx

        self._size += len(chunk)
        if self._size > self._limit:
            raise _BodyTooLarge
        if self._flow.remaining() <= 0:
            raise httpx.ReadTimeout("overall deadline reached while reading body")
        self._chunks.append(chunk)

    def decoded(self, response: httpx.Response, request: CollateralRequest) -> bytes:
        """The whole body with its content encoding undone (bounded too)."""
        return _decode_body(
            b"".join(self._chunks),
            response.headers.get("content-encoding"),
            self._limit,
            request,
        )


def _too_large(request: CollateralRequest, limit: int) -> CollateralFetchError:
    return CollateralFetchError(
        f"{request.purpose}: response body too large",
        field=request.purpose,
        expected=f"<= {limit} bytes",
        actual="larger",
    )


# --- the overall deadline at the socket level -----------------------------------------------

#: Seconds left before the current fetch's deadline (set around each attempt).
_REMAINING: contextvars.ContextVar[Callable[[], float] | None] = contextvars.ContextVar(
    "teeclient_fetch_remaining", default=None
)


@contextmanager
def _deadline(remaining: Callable[[], float]) -> Iterator[None]:
    token = _REMAINING.set(remaining)
    try:
        yield
    finally:
        _REMAINING.reset(token)


def _clamp(timeout: float | None, error: type[Exception]) -> float | None:
    """``timeout`` limited to the time left; ``error`` once the deadline has passed."""
    remaining = _REMAINING.get()
    if remaining is None:
        return timeout
    left = remaining()
    if left <= 0:
        raise error("the overall collateral deadline was reached")
    return left if timeout is None else min(timeout, left)


def _deadline_backend() -> httpcore.NetworkBackend:
    import httpcore

    class Stream(httpcore.NetworkStream):
        def __init__(self, inner: httpcore.NetworkStream) -> None:
            self._inner = inner

        def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
            return self._inner.read(max_bytes, _clamp(timeout, httpcore.ReadTimeout))

        def write(self, buffer: bytes, timeout: float | None = None) -> None:
            self._inner.write(buffer, _clamp(timeout, httpcore.WriteTimeout))

        def close(self) -> None:
            self._inner.close()

        def start_tls(
            self,
            ssl_context: Any,
            server_hostname: str | None = None,
            timeout: float | None = None,
        ) -> httpcore.NetworkStream:
            limit = _clamp(timeout, httpcore.ConnectTimeout)
            return Stream(self._inner.start_tls(ssl_context, server_hostname, limit))

        def get_extra_info(self, info: str) -> Any:
            return self._inner.get_extra_info(info)

    class Backend(httpcore.NetworkBackend):
        def __init__(self) -> None:
            self._inner = httpcore.SyncBackend()

        def connect_tcp(
            self,
            host: str,
            port: int,
            timeout: float | None = None,
            local_address: str | None = None,
            socket_options: Iterable[Any] | None = None,
        ) -> httpcore.NetworkStream:
            limit = _clamp(timeout, httpcore.ConnectTimeout)
            return Stream(self._inner.connect_tcp(host, port, limit, local_address, socket_options))

        def connect_unix_socket(
            self,
            path: str,
            timeout: float | None = None,
            socket_options: Iterable[Any] | None = None,
        ) -> httpcore.NetworkStream:
            limit = _clamp(timeout, httpcore.ConnectTimeout)
            return Stream(self._inner.connect_unix_socket(path, limit, socket_options))

        def sleep(self, seconds: float) -> None:
            self._inner.sleep(seconds)

    return Backend()


def _async_deadline_backend() -> httpcore.AsyncNetworkBackend:
    import httpcore

    class Stream(httpcore.AsyncNetworkStream):
        def __init__(self, inner: httpcore.AsyncNetworkStream) -> None:
            self._inner = inner

        async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
            return await self._inner.read(max_bytes, _clamp(timeout, httpcore.ReadTimeout))

        async def write(self, buffer: bytes, timeout: float | None = None) -> None:
            await self._inner.write(buffer, _clamp(timeout, httpcore.WriteTimeout))

        async def aclose(self) -> None:
            await self._inner.aclose()

        async def start_tls(
            self,
            ssl_context: Any,
            server_hostname: str | None = None,
            timeout: float | None = None,
        ) -> httpcore.AsyncNetworkStream:
            limit = _clamp(timeout, httpcore.ConnectTimeout)
            return Stream(await self._inner.start_tls(ssl_context, server_hostname, limit))

        def get_extra_info(self, info: str) -> Any:
            return self._inner.get_extra_info(info)

    class Backend(httpcore.AsyncNetworkBackend):
        def __init__(self) -> None:
            self._inner = httpcore.AnyIOBackend()

        async def connect_tcp(
            self,
            host: str,
            port: int,
            timeout: float | None = None,
            local_address: str | None = None,
            socket_options: Iterable[Any] | None = None,
        ) -> httpcore.AsyncNetworkStream:
            limit = _clamp(timeout, httpcore.ConnectTimeout)
            inner = await self._inner.connect_tcp(host, port, limit, local_address, socket_options)
            return Stream(inner)

        async def connect_unix_socket(
            self,
            path: str,
            timeout: float | None = None,
            socket_options: Iterable[Any] | None = None,
        ) -> httpcore.AsyncNetworkStream:
            limit = _clamp(timeout, httpcore.ConnectTimeout)
            return Stream(await self._inner.connect_unix_socket(path, limit, socket_options))

        async def sleep(self, seconds: float) -> None:
            await self._inner.sleep(seconds)

    return Backend()


def _client() -> httpx.Client:
    """An httpx client whose every socket operation respects the current fetch's deadline."""
    import httpcore
    import httpx

    transport = httpx.HTTPTransport(trust_env=False)
    # httpx 0.27/0.28 take no network backend; the pool is rebuilt with ours (same defaults)
    transport._pool = httpcore.ConnectionPool(
        ssl_context=httpx.create_ssl_context(trust_env=False),
        max_connections=100,
        max_keepalive_connections=20,
        keepalive_expiry=5.0,
        network_backend=_deadline_backend(),
    )
    return httpx.Client(transport=transport, follow_redirects=False, trust_env=False)


def _async_client() -> httpx.AsyncClient:
    """The async twin of ``_client``."""
    import httpcore
    import httpx

    transport = httpx.AsyncHTTPTransport(trust_env=False)
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=httpx.create_ssl_context(trust_env=False),
        max_connections=100,
        max_keepalive_connections=20,
        keepalive_expiry=5.0,
        network_backend=_async_deadline_backend(),
    )
    return httpx.AsyncClient(transport=transport, follow_redirects=False, trust_env=False)


# --- bounded content decoding ---------------------------------------------------------------

#: What the fetchers decode themselves (and so advertise in Accept-Encoding).
ACCEPT_ENCODING = "gzip, deflate"
_MAX_CODINGS = 2


def _bad_encoding(request: CollateralRequest, message: str, actual: str) -> CollateralFetchError:
    return CollateralFetchError(
        f"{request.purpose}: {message}",
        field=request.purpose,
        expected=f"identity or {ACCEPT_ENCODING}, decoding to at most the body limit",
        actual=actual,
    )


def _decode_body(
    raw: bytes, content_encoding: str | None, limit: int, request: CollateralRequest
) -> bytes:
    """Undo Content-Encoding (gzip, deflate; applied in order), never producing > ``limit``.

    Raises:
        CollateralFetchError: an unsupported or corrupt encoding, or decoded output too large.
    """
    codings = [c.strip().lower() for c in (content_encoding or "").split(",") if c.strip()]
    codings = [c for c in codings if c != "identity"]
    if len(codings) > _MAX_CODINGS:
        raise _bad_encoding(request, "too many content codings", content_encoding or "")
    data = raw
    for coding in reversed(codings):
        if coding in ("gzip", "x-gzip"):
            attempts = [zlib.MAX_WBITS | 16]
        elif coding == "deflate":
            attempts = [zlib.MAX_WBITS, -zlib.MAX_WBITS]  # zlib-wrapped, or raw as some send
        else:
            raise _bad_encoding(request, "unsupported content encoding", coding)
        for index, wbits in enumerate(attempts):
            decoder = zlib.decompressobj(wbits)
            try:
                out = decoder.decompress(data, limit + 1)
            except zlib.error as exc:
                if index + 1 < len(attempts):
                    continue
                raise _bad_encoding(request, f"invalid {coding} body", str(exc)) from None
            if len(out) > limit or decoder.unconsumed_tail:
                raise CollateralFetchError(
                    f"{request.purpose}: response body too large once decoded",
                    field=request.purpose,
                    expected=f"<= {limit} bytes",
                    actual=f"more ({coding})",
                )
            if not decoder.eof or decoder.unused_data:
                raise _bad_encoding(request, f"truncated or padded {coding} body", coding)
            data = out
            break
    return data


class HttpFetcher:
    """Fetch collateral over HTTP(S) with bounded retries; the httpx client is injectable."""

    def __init__(
        self,
        *,
        settings: CollateralSettings | None = None,
        client: httpx.Client | None = None,
        clock: Callable[[], datetime] = utc_now,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.settings = settings if settings is not None else CollateralSettings()
        self._client = client
        self._owns_client = client is None
        self._clock, self._sleep, self._monotonic, self._rng = clock, sleep, monotonic, rng

    def _http(self) -> httpx.Client:

        if self._client is None:
            self._client = _client()
        return self._client

    def close(self) -> None:
        """Close the httpx client if this fetcher created it."""
        if self._owns_client and self._client is not None:
            self._client.close()
            self._client = None

    def __enter__(self) -> HttpFetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _once(self, request: CollateralRequest, flow: _RetryFlow) -> _Outcome:
        import httpx

        try:
            with (
                _deadline(flow.remaining),
                self._http().stream(
                    request.method,
                    request.url,
                    content=request.body,
                    headers=_request_headers(request),
                    timeout=flow.timeout(),
                    follow_redirects=False,
                ) as response,
            ):
                headers = _keep_headers(response.headers)
                if response.status_code != 200:
                    return _Outcome(response.status_code, headers, None, None)
                body = _Body(self.settings.max_body_bytes, flow)
                for chunk in response.iter_raw():
                    body.add(chunk)
                return _Outcome(200, headers, body.decoded(response, request), None)
        except _BodyTooLarge:
            raise _too_large(request, self.settings.max_body_bytes) from None
        except httpx.HTTPError as exc:
            return _Outcome(None, {}, None, exc)

    def fetch(self, request: CollateralRequest) -> CollateralItem:
        """Fetch ``request`` with retries; raises CollateralFetchError / NotFound when done."""
        _require_network(request)
        flow = _RetryFlow(
            request, self.settings, monotonic=self._monotonic, rng=self._rng, clock=self._clock
        )
        while True:
            _log(
                _DEBUG,
                "fetching %s (%s), attempt %d",
                request.url,
                request.purpose,
                flow.attempt + 1,
            )
            decision = flow.decide(self._once(request, flow))
            if isinstance(decision, CollateralItem):
                return decision
            _log(_INFO, "retrying %s in %.2fs after %s", request.url, decision, flow.last)
            self._sleep(decision)


class AsyncHttpFetcher:
    """Async twin of HttpFetcher (httpx.AsyncClient, asyncio.sleep)."""

    def __init__(
        self,
        *,
        settings: CollateralSettings | None = None,
        client: httpx.AsyncClient | None = None,
        clock: Callable[[], datetime] = utc_now,
        monotonic: Callable[[], float] = time.monotonic,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.settings = settings if settings is not None else CollateralSettings()
        self._client = client
        self._owns_client = client is None
        self._clock, self._monotonic, self._rng = clock, monotonic, rng

    def _http(self) -> httpx.AsyncClient:

        if self._client is None:
            self._client = _async_client()
        return self._client

    async def aclose(self) -> None:
        """Close the httpx client if this fetcher created it."""
        if self._owns_client and self._client is not None:
            await self._client.aclose()
            self._client = None

    async def _once(self, request: CollateralRequest, flow: _RetryFlow) -> _Outcome:
        import httpx

        try:
            with _deadline(flow.remaining):
                async with self._http().stream(
                    request.method,
                    request.url,
                    content=request.body,
                    headers=_request_headers(request),
                    timeout=flow.timeout(),
                    follow_redirects=False,
                ) as response:
                    headers = _keep_headers(response.headers)
                    if response.status_code != 200:
                        return _Outcome(response.status_code, headers, None, None)
                    body = _Body(self.settings.max_body_bytes, flow)
                    async for chunk in response.aiter_raw():
                        body.add(chunk)
                    return _Outcome(200, headers, body.decoded(response, request), None)
        except _BodyTooLarge:
            raise _too_large(request, self.settings.max_body_bytes) from None
        except httpx.HTTPError as exc:
            return _Outcome(None, {}, None, exc)

    async def fetch(self, request: CollateralRequest) -> CollateralItem:
        """Fetch ``request`` with retries (see HttpFetcher.fetch)."""
        _require_network(request)
        flow = _RetryFlow(
            request, self.settings, monotonic=self._monotonic, rng=self._rng, clock=self._clock
        )
        while True:
            decision = flow.decide(await self._once(request, flow))
            if isinstance(decision, CollateralItem):
                return decision
            _log(_INFO, "retrying %s in %.2fs after %s", request.url, decision, flow.last)
            import asyncio

            await asyncio.sleep(decision)
