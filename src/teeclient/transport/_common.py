"""What the sync and async attested transports share: pinning, encapsulation and the request
flow, all without I/O (the drivers in ``sync.py`` and ``async_.py`` do the sending).

The flow follows httpx's ``Auth.auth_flow`` shape: ``request_flow`` is a generator that
yields *actions* and receives their results, and returns the exchange whose answer the driver
then decrypts::

    NeedIdentity(stale=None)  -> Pinned      the current identity (attested if missing/expired)
    Send(exchange)            -> Answer      the outer request went out; its answer's head
    NeedIdentity(stale=p)     -> Pinned      a key-configuration problem: replace ``p``

Rule (DESIGN.md §6): a key-configuration mismatch triggers exactly one re-attestation and one
retry; the retry is encrypted to the newly attested key only; a second mismatch raises. The
answer that reports the mismatch is unauthenticated (RFC 9458 §5.3), so the worst a forger
gets is a re-attestation, which must pass the policy again and may not weaken the pinned
protection (``DowngradeError``).
"""

from __future__ import annotations

import enum
import json
import logging
from collections.abc import Generator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol
from urllib.parse import urlsplit

import httpx

from teeclient.errors import (
    DowngradeError,
    KeyConfigMismatchError,
    MalformedMessageError,
    OriginMismatchError,
    TlsPinUnenforcedError,
    UnencryptedResponseError,
    UnsupportedSuiteError,
    UsageError,
)
from teeclient.identity import EnclaveIdentity
from teeclient.protocol import bhttp, ehbp, ohttp
from teeclient.protocol.hpke import KemId, PublicKey, Suite
from teeclient.protocol.keyconfig import (
    Selection,
    parse_key_config_list,
    select_suite,
)
from teeclient.transport.tls import TlsPins

__all__ = [
    "GATEWAY_PATH",
    "MAX_ERROR_BODY",
    "Answer",
    "Exchange",
    "ExchangeInfo",
    "NeedIdentity",
    "PinState",
    "Pinned",
    "Profile",
    "RequestInfo",
    "ResponseReader",
    "Send",
    "describe_request",
    "pin_identity",
    "request_flow",
]

logger = logging.getLogger("teeclient.transport")

GATEWAY_PATH = "/.well-known/ohttp-gateway"  # RFC 9540 §4: POST encapsulated requests here
MAX_ERROR_BODY = 64 * 1024  # bytes read from an answer that is not an encapsulated response

# Hop-by-hop and connection-specific fields (RFC 9110 §7.6.1, RFC 9113 §8.2.2): never encoded.
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "proxy-authenticate",
        "proxy-authorization",
        "transfer-encoding",
        "upgrade",
        "te",
        "trailer",
        "host",
    }
)


class Profile(enum.Enum):
    """How requests are encrypted: chunked OHTTP (default) or the Tinfoil EHBP profile."""

    OHTTP = "ohttp"
    EHBP = "ehbp"


# --- pinning ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Pinned:
    """An accepted identity and how requests are encrypted to it."""

    identity: EnclaveIdentity
    selection: Selection | None = None  # chunked OHTTP
    ehbp_key: PublicKey | None = None  # EHBP profile
    rank: int = 0  # position of the suite in the preference list (0 = best)
    _fingerprint: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # hashed once here, not on every request (ExchangeInfo carries it)
        object.__setattr__(self, "_fingerprint", self.identity.key_fingerprint)

    @property
    def key_fingerprint(self) -> str:
        """SHA-256 of the pinned key material (``EnclaveIdentity.key_fingerprint``)."""
        return self._fingerprint

    @property
    def suite(self) -> Suite:
        """The HPKE suite requests are sealed with."""
        if self.selection is not None:
            return self.selection.suite
        return ehbp.SUITE

    @property
    def key_id(self) -> int:
        """The key id of the configuration in use (0 for EHBP)."""
        return self.selection.config.key_id if self.selection is not None else 0


def _ehbp_key(identity: EnclaveIdentity) -> PublicKey:
    if identity.ohttp_keys is not None:
        configs = parse_key_config_list(identity.ohttp_keys).configs
        for config in configs:
            if config.kem is KemId.DHKEM_X25519_HKDF_SHA256 and config.offers(ehbp.SUITE):
                return config.public_key
    if identity.hpke_public_key is not None:
        return PublicKey.from_bytes(KemId.DHKEM_X25519_HKDF_SHA256, identity.hpke_public_key)
    raise UnsupportedSuiteError(
        "the attested keys offer no EHBP suite (X25519, HKDF-SHA256, AES-256-GCM)",
        field="keys",
        expected=str(ehbp.SUITE),
    )


def pin_identity(
    identity: EnclaveIdentity, *, profile: Profile, preferences: Sequence[Suite]
) -> Pinned:
    """How to encrypt to ``identity`` under ``profile``.

    Raises:
        UnsupportedSuiteError: no acceptable suite is offered.
        MalformedMessageError: the pinned key configurations do not parse.
    """
    if profile is Profile.EHBP:
        return Pinned(identity=identity, ehbp_key=_ehbp_key(identity))
    if identity.ohttp_keys is None:
        raise UnsupportedSuiteError(
            "the identity pins no RFC 9458 key configuration (chunked OHTTP needs one)",
            field="ohttp_keys",
        )
    selection = select_suite(parse_key_config_list(identity.ohttp_keys), preferences=preferences)
    return Pinned(
        identity=identity, selection=selection, rank=list(preferences).index(selection.suite)
    )


_OHTTP_HEADERS = (
    ("content-type", ohttp.CHUNKED_REQUEST_MEDIA_TYPE),
    ("accept", ohttp.CHUNKED_RESPONSE_MEDIA_TYPE),
    ("incremental", "?1"),
)


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    default = {"http": 80, "https": 443}.get(url.scheme)
    return (url.scheme, url.host, url.port if url.port is not None else default)


class PinState:
    """The endpoint, the pinned identity and the pinning rules (no I/O, no locking).

    Drivers hold the lock around ``needs``/``accept``.
    """

    def __init__(
        self,
        endpoint: str,
        *,
        profile: Profile,
        preferences: Sequence[Suite],
        tls_pins: TlsPins | None,
        allow_unpinned_tls: bool,
        gateway_path: str,
    ) -> None:
        parts = urlsplit(endpoint)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise UsageError(
                "the endpoint must be an absolute http(s) URL",
                field="endpoint",
                expected="https://host[:port][/prefix]",
                actual=endpoint,
            )
        if not preferences:
            raise UsageError("the suite preference list is empty", field="preferences")
        self.endpoint = endpoint.rstrip("/")
        self.url = httpx.URL(self.endpoint)
        self.profile = profile
        self.preferences = tuple(preferences)
        self.tls_pins = tls_pins
        self.allow_unpinned_tls = allow_unpinned_tls
        prefix = parts.path.rstrip("/")
        self.gateway_url = httpx.URL(self.endpoint).copy_with(path=prefix + gateway_path)
        self.current: Pinned | None = None
        self._origin = _origin(self.url)
        # the outer headers of every chunked-OHTTP request (copied, never re-parsed)
        self.ohttp_headers = httpx.Headers(
            [("host", self.gateway_url.netloc.decode("ascii")), *_OHTTP_HEADERS]
        )

    @property
    def tls(self) -> bool:
        """True when the endpoint is reached over TLS."""
        return self.url.scheme == "https"

    def check_origin(self, request: httpx.Request) -> None:
        """Refuse a request to another origin than the attested endpoint (before any I/O).

        Raises:
            OriginMismatchError: scheme, host or port differ.
        """
        if _origin(request.url) != self._origin:
            raise OriginMismatchError(
                "the request is not addressed to the attested endpoint; nothing was sent",
                field="url",
                expected=str(self.url.copy_with(path="/", query=None)),
                actual=str(request.url.copy_with(path="/", query=None, fragment=None)),
            )

    def needs(self, stale: Pinned | None, now: datetime) -> bool:
        """True when an attestation is needed before the next send."""
        current = self.current
        if current is None or current.identity.expired(now):
            return True
        return stale is not None and current is stale

    def accept(self, identity: EnclaveIdentity) -> tuple[Pinned, bool]:
        """Pin a freshly attested identity; return it and whether the TLS pin changed.

        Raises:
            DowngradeError: weaker suite, or a TLS pin lost, compared with the pinned identity.
            TlsPinUnenforcedError: a TLS key is bound but nothing can check it.
            UnsupportedSuiteError: no acceptable suite.
        """
        pinned = pin_identity(identity, profile=self.profile, preferences=self.preferences)
        previous = self.current
        if previous is not None:
            if pinned.rank > previous.rank:
                raise DowngradeError(
                    "re-attestation offers a weaker HPKE suite than the pinned one",
                    field="suite",
                    expected=f"{previous.suite} or better",
                    actual=str(pinned.suite),
                )
            if previous.identity.tls_spki_sha256 is not None and identity.tls_spki_sha256 is None:
                raise DowngradeError(
                    "re-attestation no longer binds a TLS key", field="tls_spki_sha256"
                )
        changed = False
        if identity.tls_spki_sha256 is not None and self.tls and self.tls_pins is None:
            if not self.allow_unpinned_tls:
                raise TlsPinUnenforcedError(
                    "the identity binds a TLS key, but the inner transport cannot check it",
                    field="tls_spki_sha256",
                    expected="an inner transport using TlsPins.ssl_context()",
                    actual="no TlsPins given",
                )
            logger.warning(
                "allow_unpinned_tls: the attested TLS key of %s is NOT checked", self.endpoint
            )
        if self.tls_pins is not None:
            had = self.tls_pins.known
            changed = self.tls_pins.set(identity.tls_spki_sha256) and had
        elif identity.tls_spki_sha256 is not None and not self.tls:
            logger.info("the identity binds a TLS key but %s is plain HTTP", self.endpoint)
        self.current = pinned
        return pinned, changed


# --- requests --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestInfo:
    """What is encrypted: the request's control data, fields and (if in memory) content."""

    method: str
    scheme: str
    authority: str
    path: str
    headers: tuple[tuple[bytes, bytes], ...]
    content: bytes | None  # None: streamed (not replayable)
    clear_headers: tuple[tuple[bytes, bytes], ...] = ()  # EHBP only: headers left in clear
    head: bytes = b""  # the encoded Binary HTTP request head
    url: httpx.URL | None = None  # the request's URL (EHBP sends to it; not re-parsed)


def describe_request(request: httpx.Request, *, encode: bool = True) -> RequestInfo:
    """The request as Binary HTTP will carry it (hop-by-hop fields dropped, names lowercase);
    ``encode``: also encode (and so validate) its Binary HTTP head (not needed for EHBP).

    Raises:
        UsageError: a field Binary HTTP cannot carry.
    """
    content: bytes | None
    content = request.content if isinstance(request.stream, httpx.ByteStream) else None
    listed = {
        token.strip().lower()
        for value in request.headers.get_list("connection")
        for token in value.split(",")
    }
    headers: list[tuple[bytes, bytes]] = []
    clear: list[tuple[bytes, bytes]] = []
    for raw_name, raw_value in request.headers.raw:
        name = raw_name.lower()
        text = name.decode("latin-1")
        value = raw_value.strip(b" \t")
        if text in _HOP_BY_HOP or text in listed:
            if text == "te" and value.lower() == b"trailers":
                headers.append((name, b"trailers"))
            continue
        clear.append((name, value))
        if text == "content-length" and (content is None or value != str(len(content)).encode()):
            continue
        headers.append((name, value))
    path = request.url.raw_path.decode("ascii")
    authority = request.url.netloc.decode("ascii")
    try:  # encoded (and so validated) now, before anything is sent
        head = (
            bhttp.encode_request_head(request.method, request.url.scheme, authority, path, headers)
            if encode
            else b""
        )
    except ValueError as exc:
        raise UsageError(
            f"the request cannot be carried in Binary HTTP: {exc}", field="request"
        ) from exc
    return RequestInfo(
        method=request.method,
        scheme=request.url.scheme,
        authority=authority,
        path=path,
        headers=tuple(headers),
        content=content,
        clear_headers=tuple(clear),
        head=head,
        url=request.url,
    )


# --- exchanges -------------------------------------------------------------------------------


@dataclass(slots=True, kw_only=True)
class ExchangeInfo:
    """What one exchange protected (``response.extensions["teeclient.exchange"]``)."""

    profile: str
    suite: str
    key_id: int
    key_fingerprint: str
    plaintext_sent: int = 0
    ciphertext_sent: int = 0
    plaintext_received: int = 0
    ciphertext_received: int = 0
    attempts: int = 1


class ResponseReader(Protocol):
    """Turns the outer response body into the authenticated inner response."""

    status: int | None
    headers: list[tuple[bytes, bytes]] | None

    def feed(self, data: bytes) -> list[bytes]:
        """Consume outer body bytes; return inner content now authenticated."""
        ...

    def finish(self) -> list[bytes]:
        """End of the outer body: authenticate the end; return the last content."""
        ...


class _OhttpReader:
    """Chunked OHTTP response → Binary HTTP response events."""

    def __init__(self, receiver: ohttp.ChunkedResponseReceiver, info: ExchangeInfo) -> None:
        self._receiver = receiver
        self._decoder = bhttp.Decoder("response")
        self._info = info
        self.status: int | None = None
        self.headers: list[tuple[bytes, bytes]] | None = None

    def _content(self, events: list[bhttp.Event]) -> list[bytes]:
        out: list[bytes] = []
        for event in events:
            if isinstance(event, bhttp.ContentChunk):
                out.append(event.data)
                self._info.plaintext_received += len(event.data)
            elif isinstance(event, bhttp.ResponseHead):
                self.status = event.status
                self.headers = list(event.headers)
        return out

    def feed(self, data: bytes) -> list[bytes]:
        self._info.ciphertext_received += len(data)
        plaintexts = self._receiver.feed(data)  # each chunk authenticated: decode them at once
        if not plaintexts:
            return []
        joined = plaintexts[0] if len(plaintexts) == 1 else b"".join(plaintexts)
        return self._content(self._decoder.feed(joined))

    def finish(self) -> list[bytes]:
        final = self._receiver.finish()
        out = self._content(self._decoder.feed(final)) if final else []
        out += self._content(self._decoder.finish())
        if self.status is None:
            raise MalformedMessageError("the encapsulated response has no head", field="response")
        return out


class _EhbpReader:
    """EHBP response: clear head (inherent to EHBP), encrypted body frames."""

    def __init__(
        self,
        decryptor: ehbp.ResponseDecryptor,
        status: int,
        headers: httpx.Headers,
        info: ExchangeInfo,
    ) -> None:
        self._decryptor = decryptor
        self._info = info
        self.status: int | None = status
        self.headers: list[tuple[bytes, bytes]] | None = [
            (n.lower(), v)
            for n, v in headers.raw
            if n.lower() not in (b"content-length", b"transfer-encoding", b"connection")
            and not n.lower().startswith(b"ehbp-")
        ]

    def feed(self, data: bytes) -> list[bytes]:
        self._info.ciphertext_received += len(data)
        out = self._decryptor.feed(data)
        self._info.plaintext_received += sum(len(p) for p in out)
        return out

    def finish(self) -> list[bytes]:
        self._decryptor.finish()
        return []


def _media_type(headers: httpx.Headers) -> str | None:
    value = headers.get("content-type")
    return value.split(";", 1)[0].strip().lower() if value is not None else None


class Exchange:
    """One encapsulated request: the outer request's parts, then a reader for its answer."""

    def __init__(
        self,
        pinned: Pinned,
        info: RequestInfo,
        *,
        gateway_url: httpx.URL,
        chunk_size: int,
        max_chunk_size: int,
        attempt: int,
        ohttp_headers: httpx.Headers | None = None,
    ) -> None:
        self.pinned = pinned
        self.request = info
        self.max_chunk_size = max_chunk_size
        self.info = ExchangeInfo(
            profile="ohttp" if pinned.selection is not None else "ehbp",
            suite=str(pinned.suite),
            key_id=pinned.key_id,
            key_fingerprint=pinned.key_fingerprint,
            attempts=attempt,
        )
        self._sealed_any = False
        self._ohttp: ohttp.ChunkedRequestSender | None = None
        self._ehbp: ehbp.RequestEncryptor | None = None
        if pinned.selection is not None:
            self._ohttp = ohttp.ChunkedRequestSender(pinned.selection, chunk_size=chunk_size)
            self.method = "POST"
            self.url = gateway_url
            self.headers: list[tuple[str, str]] = [
                ("host", self.url.netloc.decode("ascii")),
                *_OHTTP_HEADERS,
            ]
            self._outer_headers = ohttp_headers
        else:
            assert pinned.ehbp_key is not None
            self._ehbp = ehbp.RequestEncryptor(pinned.ehbp_key)
            self.method = info.method
            url = info.url
            if url is None or url.fragment or url.userinfo:
                url = httpx.URL(f"{info.scheme}://{info.authority}{info.path}")
            self.url = url
            self.headers = [("host", self.url.netloc.decode("ascii"))]
            self.headers += [
                (n.decode("latin-1"), v.decode("latin-1"))
                for n, v in info.clear_headers
                if not ehbp.is_reserved_header(n.decode("latin-1"))
            ]
            self.headers += list(self._ehbp.headers().items())
            self._outer_headers = None

    def outer_request(
        self,
        extensions: dict[str, object],
        stream: httpx.SyncByteStream | httpx.AsyncByteStream | None = None,
    ) -> httpx.Request:
        """The outer request: the whole encrypted body in memory (``Content-Length``), or
        ``stream`` (chunked) for a streamed body.

        Built from ready headers (``Content-Length`` last, as httpx adds it), without httpx's
        content encoding or URL parsing; the same request ``httpx.Request(content=...)``
        would build.
        """
        template = self._outer_headers
        headers = httpx.Headers(template if template is not None else self.headers)
        if stream is not None:
            headers["transfer-encoding"] = "chunked"
            return httpx.Request(
                self.method, self.url, headers=headers, stream=stream, extensions=extensions
            )
        content = self.request.content
        assert content is not None
        body = self.whole(content)
        if not body:  # pragma: no cover - both profiles always send at least one frame/chunk
            return httpx.Request(
                self.method, self.url, headers=headers, content=body, extensions=extensions
            )
        headers["Content-Length"] = str(len(body))
        outer = httpx.Request(
            self.method,
            self.url,
            headers=headers,
            stream=httpx.ByteStream(body),
            extensions=extensions,
        )
        outer.read()
        return outer

    # -- request body -----------------------------------------------------------------------

    def _count(self, plaintext: int, ciphertext: bytes) -> bytes:
        self.info.plaintext_sent += plaintext
        self.info.ciphertext_sent += len(ciphertext)
        return ciphertext

    def whole(self, content: bytes) -> bytes:
        """The complete outer body for an in-memory request."""
        return self.start(content) + self.end()

    def start(self, content: bytes | None = None) -> bytes:
        """The first bytes of the outer body (with ``content`` when it is in memory)."""
        info = self.request
        if self._ohttp is not None:
            head = info.head or bhttp.encode_request_head(
                info.method, info.scheme, info.authority, info.path, info.headers
            )
            data = head + bhttp.encode_content_chunk(content or b"")
            self.info.ciphertext_sent += len(self._ohttp.header)  # key id, suite, enc
            return self._ohttp.header + self._count(len(data), self._ohttp.seal(data))
        return self.piece(content or b"")

    def piece(self, data: bytes) -> bytes:
        """Outer bytes for the next piece of a streamed body (empty input, nothing)."""
        if not data:
            return b""
        if self._ohttp is not None:
            chunk = bhttp.encode_content_chunk(data)
            return self._count(len(chunk), self._ohttp.seal(chunk))
        assert self._ehbp is not None
        self._sealed_any = True
        return self._count(len(data), self._ehbp.seal(data))

    def end(self) -> bytes:
        """The last outer bytes (chunked OHTTP: the final chunk, AAD "final")."""
        if self._ohttp is not None:
            end = bhttp.encode_message_end()
            return self._count(len(end), self._ohttp.finish(end))
        assert self._ehbp is not None
        if not self._sealed_any:  # bodyless request: the minimal encrypted body (weakness 2)
            return self._count(0, self._ehbp.empty_body())
        return b""

    # -- answer -----------------------------------------------------------------------------

    def accepts(self, status: int, headers: httpx.Headers) -> bool:
        """True when the answer claims to be this exchange's encrypted response."""
        if self._ohttp is not None:
            return status == 200 and _media_type(headers) == ohttp.CHUNKED_RESPONSE_MEDIA_TYPE
        return bool(headers.get_list(ehbp.RESPONSE_NONCE_HEADER))

    def reader(self, status: int, headers: httpx.Headers) -> ResponseReader:
        """A reader for an accepted answer.

        Raises:
            MalformedMessageError: an invalid EHBP response nonce.
        """
        if self._ohttp is not None:
            receiver = self._ohttp.response_receiver(max_chunk_size=self.max_chunk_size)
            return _OhttpReader(receiver, self.info)
        assert self._ehbp is not None
        nonce = ehbp.parse_response_nonce(headers.get_list(ehbp.RESPONSE_NONCE_HEADER))
        return _EhbpReader(self._ehbp.response_decryptor(nonce), status, headers, self.info)

    def is_key_problem(self, answer: Answer) -> bool:
        """True for the gateway's key-configuration problem (unauthenticated by nature)."""
        if self._ehbp is not None:
            return ehbp.is_key_config_problem(answer.status, answer.content_type, answer.body)
        if not 400 <= answer.status <= 499:
            return False
        if (answer.content_type or "").split(";", 1)[0].strip().lower() != (
            "application/problem+json"
        ):
            return False
        try:
            problem = json.loads(answer.body)
        except (ValueError, UnicodeDecodeError):
            return False
        return isinstance(problem, dict) and problem.get("type") == ohttp.KEY_PROBLEM_TYPE


# --- the flow --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NeedIdentity:
    """Action: the current identity (``stale`` set: replace that one, it was refused)."""

    stale: Pinned | None = None


@dataclass(frozen=True, slots=True)
class Send:
    """Action: send ``exchange``'s outer request and report its answer."""

    exchange: Exchange


@dataclass(frozen=True, slots=True, kw_only=True)
class Answer:
    """The answer to a ``Send``: accepted (its body is read later) or a bounded error body."""

    accepted: bool
    status: int
    content_type: str | None = None
    body: bytes = field(default=b"", repr=False)


Action = NeedIdentity | Send


def _unencrypted(answer: Answer) -> UnencryptedResponseError:
    return UnencryptedResponseError(
        "the gateway did not answer with an encapsulated response (untrusted; nothing returned)",
        field="response",
        expected="HTTP 200 message/ohttp-chunked-res (or an EHBP response nonce)",
        actual=f"HTTP {answer.status} {answer.content_type or 'no content type'}",
    )


def request_flow(
    info: RequestInfo,
    *,
    gateway_url: httpx.URL,
    chunk_size: int,
    max_chunk_size: int,
    ohttp_headers: httpx.Headers | None = None,
) -> Generator[Action, Pinned | Answer, Exchange]:
    """Encrypt ``info`` to the pinned key; on a key problem, re-attest once and retry once.

    Raises:
        KeyConfigMismatchError: the gateway refused the key again after re-attesting, or the
            body was streamed (not replayable) — the identity is refreshed for the next request.
        UnencryptedResponseError: any other answer that is not an encapsulated response.
    """
    attempt = 1
    stale: Pinned | None = None
    while True:
        pinned = yield NeedIdentity(stale=stale)
        assert isinstance(pinned, Pinned)
        exchange = Exchange(
            pinned,
            info,
            gateway_url=gateway_url,
            chunk_size=chunk_size,
            max_chunk_size=max_chunk_size,
            attempt=attempt,
            ohttp_headers=ohttp_headers,
        )
        answer = yield Send(exchange)
        assert isinstance(answer, Answer)
        if answer.accepted:
            return exchange
        if not exchange.is_key_problem(answer):
            raise _unencrypted(answer)
        if attempt > 1:
            raise KeyConfigMismatchError(
                "the gateway refused the key configuration again after re-attestation",
                field="key_id",
                actual=pinned.key_id,
            )
        logger.info("key configuration refused by %s: re-attesting once", gateway_url)
        stale = pinned
        attempt += 1
        if info.content is None:
            yield NeedIdentity(stale=stale)
            raise KeyConfigMismatchError(
                "the gateway refused the key configuration; the identity was refreshed, but "
                "a streamed request body cannot be replayed: send the request again",
                field="key_id",
                actual=pinned.key_id,
            )
