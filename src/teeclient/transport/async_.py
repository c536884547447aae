"""AsyncAttestedTransport: the async twin of ``AttestedTransport`` (``sync.py``), same rules.

The request flow, pinning and encapsulation are shared (``_common.py``, no I/O); this module
only awaits: the attestor, the inner ``httpx.AsyncBaseTransport`` and the response body.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import cast

import anyio
import httpx

from teeclient._time import Clock, utc_now
from teeclient.errors import IdentityExpiredError, UsageError
from teeclient.identity import EnclaveIdentity
from teeclient.protocol.hpke import Suite
from teeclient.protocol.keyconfig import DEFAULT_PREFERENCES
from teeclient.protocol.ohttp import DEFAULT_CHUNK_SIZE, DEFAULT_MAX_CHUNK_SIZE
from teeclient.transport._common import (
    GATEWAY_PATH,
    MAX_ERROR_BODY,
    Answer,
    Exchange,
    NeedIdentity,
    Pinned,
    PinState,
    Profile,
    ResponseReader,
    describe_request,
    request_flow,
)
from teeclient.transport.tls import TlsPins

__all__ = ["AsyncAttestedTransport", "AsyncAttestor"]

AsyncAttestor = Callable[[], Awaitable[EnclaveIdentity]]


class _RequestBody(httpx.AsyncByteStream):
    """The outer body of a streamed request: encrypted piece by piece as the caller yields."""

    def __init__(self, exchange: Exchange, stream: httpx.AsyncByteStream) -> None:
        self._exchange = exchange
        self._stream = stream

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self._exchange.start()
        async for piece in self._stream:
            out = self._exchange.piece(piece)
            if out:
                yield out
        yield self._exchange.end()


class _ResponseBody(httpx.AsyncByteStream):
    """The inner response body: authenticated content as the outer body arrives."""

    def __init__(
        self,
        reader: ResponseReader,
        outer: httpx.Response,
        iterator: AsyncIterator[bytes],
        pending: list[bytes],
        done: bool,
    ) -> None:
        self._reader = reader
        self._outer = outer
        self._iterator = iterator
        self._pending = pending
        self._done = done

    async def __aiter__(self) -> AsyncIterator[bytes]:
        pending, self._pending = self._pending, []
        if pending:
            yield b"".join(pending)
        if self._done:
            return
        self._done = True
        async for chunk in self._iterator:
            pieces = self._reader.feed(chunk)
            if pieces:  # what one read authenticated, as one piece (as plaintext httpx reads)
                yield pieces[0] if len(pieces) == 1 else b"".join(pieces)
        last = self._reader.finish()
        if last:
            yield b"".join(last)

    async def aclose(self) -> None:
        await self._outer.aclose()


async def _read_bounded(stream: httpx.AsyncByteStream, limit: int) -> bytes:
    out = bytearray()
    async for chunk in stream:
        out += chunk[: limit - len(out)]
        if len(out) >= limit:
            break
    return bytes(out)


class AsyncAttestedTransport(httpx.AsyncBaseTransport):
    """Encrypt every request to the attested enclave; authenticate every response (async).

    Give either ``identity`` (already attested) or ``attestor`` (called to attest on first
    use, after expiry, and once on a key-configuration problem), or both.
    ``inner`` defaults to ``httpx.HTTPTransport`` with a TLS context that enforces the
    attested TLS key (``tls_pins``). With your own ``inner`` over https, pass the ``TlsPins``
    whose ``ssl_context()`` it uses; an identity that binds a TLS key is otherwise refused
    (``TlsPinUnenforcedError``) unless ``allow_unpinned_tls`` (logged as a warning).
    """

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport | None = None,
        *,
        endpoint: str,
        identity: EnclaveIdentity | None = None,
        attestor: AsyncAttestor | None = None,
        tls_pins: TlsPins | None = None,
        allow_unpinned_tls: bool = False,
        profile: Profile | str = Profile.OHTTP,
        preferences: Sequence[Suite] = DEFAULT_PREFERENCES,
        clock: Clock = utc_now,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        max_chunk_size: int = DEFAULT_MAX_CHUNK_SIZE,
        gateway_path: str = GATEWAY_PATH,
    ) -> None:
        if identity is None and attestor is None:
            raise UsageError("an attested transport needs an identity or an attestor")
        if inner is None and tls_pins is None:
            tls_pins = TlsPins()
        self._inner = inner
        self._attestor = attestor
        self._clock = clock
        self._chunk_size = chunk_size
        self._max_chunk_size = max_chunk_size
        self._lock: anyio.Lock | None = None
        self._state = PinState(
            endpoint,
            profile=Profile(profile),
            preferences=preferences,
            tls_pins=tls_pins,
            allow_unpinned_tls=allow_unpinned_tls,
            gateway_path=gateway_path,
        )
        if identity is not None:
            self._state.accept(identity)

    # -- identity -----------------------------------------------------------------------------

    @property
    def identity(self) -> EnclaveIdentity | None:
        """The pinned identity (None before the first attestation)."""
        current = self._state.current
        return current.identity if current is not None else None

    @property
    def tls_pins(self) -> TlsPins | None:
        """The TLS pin holder whose contexts check the attested TLS key."""
        return self._state.tls_pins

    def _get_lock(self) -> anyio.Lock:
        if self._lock is None:
            self._lock = anyio.Lock()
        return self._lock

    async def attest(self) -> EnclaveIdentity:
        """Attest now (even if the pinned identity is still valid) and pin the result.

        Raises:
            IdentityExpiredError: no attestor was given.
            AttestationRejected, EvidenceError, CollateralError, TransportError: attestation.
            DowngradeError: the new identity is weaker than the pinned one.
        """
        async with self._get_lock():
            return (await self._attest_locked()).identity

    async def _attest_locked(self) -> Pinned:
        if self._attestor is None:
            raise IdentityExpiredError(
                "the pinned identity expired and this transport cannot attest again",
                field="expires_at",
            )
        pinned, tls_changed = self._state.accept(await self._attestor())
        if tls_changed and self._inner is not None:
            await self._inner.aclose()  # drop pooled connections verified under the old TLS pin
        return pinned

    async def _pinned(self, stale: Pinned | None) -> Pinned:
        async with self._get_lock():
            if self._state.needs(stale, self._clock()):
                return await self._attest_locked()
            current = self._state.current
            assert current is not None
            return current

    # -- I/O ----------------------------------------------------------------------------------

    def _inner_transport(self) -> httpx.AsyncBaseTransport:
        if self._inner is None:
            pins = self._state.tls_pins
            assert pins is not None
            self._inner = httpx.AsyncHTTPTransport(verify=pins.ssl_context())
        return self._inner

    async def _send(
        self, exchange: Exchange, request: httpx.Request
    ) -> tuple[httpx.Response | None, Answer]:
        if exchange.request.content is not None:
            outer = exchange.outer_request(request.extensions)
        else:
            streamed = _RequestBody(exchange, cast(httpx.AsyncByteStream, request.stream))
            outer = exchange.outer_request(request.extensions, streamed)
        response = await self._inner_transport().handle_async_request(outer)
        if exchange.accepts(response.status_code, response.headers):
            return response, Answer(accepted=True, status=response.status_code)
        try:
            body = await _read_bounded(cast(httpx.AsyncByteStream, response.stream), MAX_ERROR_BODY)
        finally:
            await response.aclose()
        return None, Answer(
            accepted=False,
            status=response.status_code,
            content_type=response.headers.get("content-type"),
            body=body,
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Encrypt ``request``, send the encapsulation through the inner transport, and return
        the authenticated inner response (its body is decrypted while you read it).

        Raises:
            OriginMismatchError, UsageError: before anything is sent.
            TransportError: the answer is not authentic (``transport.*`` codes).
        """
        self._state.check_origin(request)
        info = describe_request(request, encode=self._state.profile is Profile.OHTTP)
        flow = request_flow(
            info,
            gateway_url=self._state.gateway_url,
            chunk_size=self._chunk_size,
            max_chunk_size=self._max_chunk_size,
            ohttp_headers=self._state.ohttp_headers,
        )
        response: httpx.Response | None = None
        try:
            action = next(flow)
            while True:
                if isinstance(action, NeedIdentity):
                    action = flow.send(await self._pinned(action.stale))
                else:
                    response, answer = await self._send(action.exchange, request)
                    action = flow.send(answer)
        except StopIteration as stop:
            exchange: Exchange = stop.value
        assert response is not None
        return await self._open(exchange, response)

    async def _open(self, exchange: Exchange, outer: httpx.Response) -> httpx.Response:
        try:
            reader = exchange.reader(outer.status_code, outer.headers)
            iterator = aiter(cast(httpx.AsyncByteStream, outer.stream))
            pending: list[bytes] = []
            done = False
            while reader.status is None:
                chunk = await anext(iterator, None)
                if chunk is None:
                    pending += reader.finish()
                    done = True
                    break
                pending += reader.feed(chunk)
            assert reader.status is not None
            assert reader.headers is not None
        except BaseException:
            await outer.aclose()
            raise
        return httpx.Response(
            reader.status,
            headers=reader.headers,
            stream=_ResponseBody(reader, outer, iterator, pending, done),
            extensions={"http_version": b"HTTP/1.1", "teeclient.exchange": exchange.info},
        )

    async def aclose(self) -> None:
        """Close the inner transport."""
        if self._inner is not None:
            await self._inner.aclose()
