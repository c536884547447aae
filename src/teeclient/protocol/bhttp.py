"""RFC 9292 Binary HTTP: encode and decode requests and responses, known or indeterminate length.

Encoding: ``encode_request``/``encode_response`` write whole messages (known-length by
default, indeterminate-length on request); ``encode_request_head``,
``encode_response_head``, ``encode_content_chunk`` and ``encode_message_end`` write an
indeterminate-length message piece by piece, so a body can be streamed into chunked OHTTP.

Decoding: ``Decoder`` is incremental (``feed`` bytes, get events; ``finish`` at the end of
the message) and bounded by ``Limits``; ``decode_request``/``decode_response`` drive it over
a whole message. Events are ``RequestHead`` or ``InformationalResponse``/``ResponseHead``,
then ``ContentChunk`` as content arrives (never buffered whole), then ``Trailers``.

Strictness (RFC 9292 §3 and §4, RFC 9113 §8.2 and §8.3.1), every violation a
``MalformedMessageError``:

* framing indicator 0..3 and matching the expected kind; informational status 100..199,
  final status 200..599;
* truncation only where §3.2/§3.3 allow it (before a length prefix of a known-length
  message; after control data or a terminator of an indeterminate-length one); padding is
  zero bytes only;
* field names are lowercase tokens (RFC 9110 §5.1); values contain no NUL, CR or LF and do
  not start or end with SP or HTAB; pseudo-fields and connection-specific fields
  (``connection``, ``keep-alive``, ``proxy-connection``, ``transfer-encoding``, ``upgrade``,
  ``te`` other than ``trailers``) are rejected, as HTTP/2 treats them as malformed;
* a ``content-length`` header must match the content (a response with empty content may
  carry any value: HEAD and 304 responses);
* method is a token; scheme follows RFC 3986 syntax; authority has no userinfo; path is
  visible ASCII starting with ``/`` (or ``*``), non-empty except for CONNECT.

Bounds (``Limits``): control data fields, field sections, field count, informational
responses, total content and padding. Exceeding one raises ``FrameTooLargeError``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum, IntEnum
from typing import Literal

from teeclient.errors import (
    FrameTooLargeError,
    MalformedMessageError,
    ProtocolStateError,
    TeeclientError,
)
from teeclient.protocol._wire import encode_varint, peek_varint

__all__ = [
    "CONNECTION_SPECIFIC_FIELDS",
    "DEFAULT_LIMITS",
    "MEDIA_TYPE",
    "ContentChunk",
    "Decoder",
    "Event",
    "Field",
    "Framing",
    "InformationalResponse",
    "Limits",
    "Request",
    "RequestHead",
    "Response",
    "ResponseHead",
    "Trailers",
    "decode_request",
    "decode_response",
    "encode_content_chunk",
    "encode_message_end",
    "encode_request",
    "encode_request_head",
    "encode_response",
    "encode_response_head",
]

MEDIA_TYPE = "message/bhttp"

Field = tuple[bytes, bytes]

CONNECTION_SPECIFIC_FIELDS = frozenset(
    {b"connection", b"keep-alive", b"proxy-connection", b"transfer-encoding", b"upgrade"}
)
_CONTROL_PSEUDO = frozenset({b":method", b":scheme", b":authority", b":path", b":status"})
_NAME = re.compile(rb"[a-z0-9!#$%&'*+\-.^_`|~]+")
_TOKEN = re.compile(r"[A-Za-z0-9!#$%&'*+\-.^_`|~]+")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+\-.]*")
_AUTHORITY = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:\[\]%]*")
_PATH = re.compile(r"[\x21-\x7e]*")
# a valid field value: no NUL, CR or LF, and no SP/HTAB at either end (the common-case check)
_VALUE = re.compile(rb"(?:[^\x00\r\n \t](?:[^\x00\r\n]*[^\x00\r\n \t])?)?")


class Framing(IntEnum):
    """RFC 9292 §3.3 framing indicators."""

    KNOWN_LENGTH_REQUEST = 0
    KNOWN_LENGTH_RESPONSE = 1
    INDETERMINATE_LENGTH_REQUEST = 2
    INDETERMINATE_LENGTH_RESPONSE = 3


@dataclass(frozen=True, slots=True, kw_only=True)
class Limits:
    """Bounds on what a decoder accepts (bytes, counts)."""

    max_control_bytes: int = 16 * 1024
    max_section_bytes: int = 64 * 1024
    max_fields: int = 256
    max_informational: int = 16
    max_content_bytes: int = 1 << 30
    max_padding_bytes: int = 64 * 1024

    def __post_init__(self) -> None:
        positive = (self.max_control_bytes, self.max_section_bytes, self.max_fields)
        if min(positive) <= 0 or self.max_content_bytes <= 0:
            raise ValueError("byte and field limits must be positive")
        if self.max_informational < 0 or self.max_padding_bytes < 0:
            raise ValueError("limits must not be negative")


DEFAULT_LIMITS = Limits()


# --- validation ------------------------------------------------------------------------------


def _field_problem(name: bytes, value: bytes) -> str | None:
    if (
        _NAME.fullmatch(name) is not None
        and _VALUE.fullmatch(value) is not None
        and name not in CONNECTION_SPECIFIC_FIELDS
        and name != b"te"
    ):
        return None  # the common case in two regular expressions; otherwise say why
    if not name:
        return "empty field name"
    if name[:1] == b":":
        return "pseudo-fields are not accepted"
    if not _NAME.fullmatch(name):
        return "field name is not a lowercase token"
    if name in CONNECTION_SPECIFIC_FIELDS:
        return "connection-specific field"
    if name == b"te" and value != b"trailers":
        return "te other than trailers"
    if b"\x00" in value or b"\r" in value or b"\n" in value:
        return "field value contains NUL, CR or LF"
    if value[:1] in (b" ", b"\t") or value[-1:] in (b" ", b"\t"):
        return "field value starts or ends with whitespace"
    return None


def _check_fields(fields: Sequence[Field], where: str) -> None:
    for name, value in fields:
        if not isinstance(name, bytes) or not isinstance(value, bytes):
            raise TypeError(f"{where}: field names and values are bytes")
        problem = _field_problem(name, value)
        if problem is not None:
            raise ValueError(f"{where}: {problem}: {name!r}")


def _control_problem(method: str, scheme: str, authority: str, path: str) -> str | None:
    if not _TOKEN.fullmatch(method):
        return "method is not a token"
    if scheme and not _SCHEME.fullmatch(scheme):
        return "invalid scheme"
    if not _AUTHORITY.fullmatch(authority):
        return "invalid authority (userinfo or disallowed characters)"
    if not _PATH.fullmatch(path):
        return "path has characters outside visible ASCII"
    if method == "CONNECT":
        return None if authority else "CONNECT needs an authority"
    if not scheme:
        return "missing scheme"
    if not path:
        return "empty path"
    if path == "*":
        return None if method == "OPTIONS" else "asterisk path outside OPTIONS"
    if not path.startswith("/"):
        return "path does not start with /"
    return None


def _content_length_problem(
    values: Sequence[bytes], content_length: int, *, response: bool
) -> str | None:
    if not values:
        return None
    if len(set(values)) != 1 or not values[0].isdigit():
        return "invalid content-length"
    declared = int(values[0])
    if declared == content_length or (response and content_length == 0):
        return None
    return f"content-length {declared} does not match {content_length} content bytes"


def _as_fields(fields: Iterable[tuple[bytes, bytes]]) -> tuple[Field, ...]:
    return tuple((bytes(n), bytes(v)) for n, v in fields)


# --- messages --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Request:
    """An HTTP request: control data, header fields, content, trailer fields."""

    method: str
    scheme: str
    authority: str
    path: str
    headers: tuple[Field, ...] = ()
    content: bytes = b""
    trailers: tuple[Field, ...] = ()

    def __post_init__(self) -> None:
        problem = _control_problem(self.method, self.scheme, self.authority, self.path)
        if problem is not None:
            raise ValueError(f"request: {problem}")
        _check_fields(self.headers, "headers")
        _check_fields(self.trailers, "trailers")
        problem = _content_length_problem(
            [v for n, v in self.headers if n == b"content-length"],
            len(self.content),
            response=False,
        )
        if problem is not None:
            raise ValueError(f"request: {problem}")


@dataclass(frozen=True, slots=True, kw_only=True)
class InformationalResponse:
    """An interim (1xx) response and its header fields."""

    status: int
    headers: tuple[Field, ...] = ()

    def __post_init__(self) -> None:
        if not 100 <= self.status <= 199:
            raise ValueError("an informational status is 100..199")
        _check_fields(self.headers, "headers")


@dataclass(frozen=True, slots=True, kw_only=True)
class Response:
    """An HTTP response: interim responses, final status, header fields, content, trailers."""

    status: int
    headers: tuple[Field, ...] = ()
    content: bytes = b""
    trailers: tuple[Field, ...] = ()
    informational: tuple[InformationalResponse, ...] = ()

    def __post_init__(self) -> None:
        if not 200 <= self.status <= 599:
            raise ValueError("a final status is 200..599")
        _check_fields(self.headers, "headers")
        _check_fields(self.trailers, "trailers")
        problem = _content_length_problem(
            [v for n, v in self.headers if n == b"content-length"],
            len(self.content),
            response=True,
        )
        if problem is not None:
            raise ValueError(f"response: {problem}")


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestHead:
    """Decoder event: request control data and header fields."""

    method: str
    scheme: str
    authority: str
    path: str
    headers: tuple[Field, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class ResponseHead:
    """Decoder event: the final status and header fields."""

    status: int
    headers: tuple[Field, ...]


@dataclass(frozen=True, slots=True)
class ContentChunk:
    """Decoder event: the next piece of content."""

    data: bytes


@dataclass(frozen=True, slots=True)
class Trailers:
    """Decoder event: the trailer fields (empty when the message has none)."""

    fields: tuple[Field, ...]


Event = RequestHead | InformationalResponse | ResponseHead | ContentChunk | Trailers


# --- encoding --------------------------------------------------------------------------------


def _lp(data: bytes) -> bytes:
    return encode_varint(len(data)) + data


def _known_section(fields: Sequence[Field]) -> bytes:
    body = b"".join(_lp(n) + _lp(v) for n, v in fields)
    return _lp(body)


def _indeterminate_section(fields: Sequence[Field]) -> bytes:
    return b"".join(_lp(n) + _lp(v) for n, v in fields) + b"\x00"


def _control(method: str, scheme: str, authority: str, path: str) -> bytes:
    return b"".join(_lp(part.encode("ascii")) for part in (method, scheme, authority, path))


def _padding(padding: int) -> bytes:
    if padding < 0:
        raise ValueError("padding must not be negative")
    return bytes(padding)


def encode_request(request: Request, *, indeterminate: bool = False, padding: int = 0) -> bytes:
    """Encode a whole request (known-length unless ``indeterminate``), then ``padding`` zeros."""
    control = _control(request.method, request.scheme, request.authority, request.path)
    if not indeterminate:
        return (
            encode_varint(Framing.KNOWN_LENGTH_REQUEST)
            + control
            + _known_section(request.headers)
            + _lp(request.content)
            + _known_section(request.trailers)
            + _padding(padding)
        )
    return (
        encode_varint(Framing.INDETERMINATE_LENGTH_REQUEST)
        + control
        + _indeterminate_section(request.headers)
        + encode_content_chunk(request.content)
        + encode_message_end(request.trailers, padding=padding)
    )


def encode_response(response: Response, *, indeterminate: bool = False, padding: int = 0) -> bytes:
    """Encode a whole response (known-length unless ``indeterminate``), then ``padding`` zeros."""
    if not indeterminate:
        out = bytearray(encode_varint(Framing.KNOWN_LENGTH_RESPONSE))
        for interim in response.informational:
            out += encode_varint(interim.status) + _known_section(interim.headers)
        out += encode_varint(response.status) + _known_section(response.headers)
        out += _lp(response.content) + _known_section(response.trailers) + _padding(padding)
        return bytes(out)
    return (
        encode_response_head(
            response.status, response.headers, informational=response.informational
        )
        + encode_content_chunk(response.content)
        + encode_message_end(response.trailers, padding=padding)
    )


def encode_request_head(
    method: str,
    scheme: str,
    authority: str,
    path: str,
    headers: Iterable[tuple[bytes, bytes]] = (),
) -> bytes:
    """The start of an indeterminate-length request: framing, control data, header section."""
    problem = _control_problem(method, scheme, authority, path)
    if problem is not None:
        raise ValueError(f"request: {problem}")
    fields = _as_fields(headers)
    _check_fields(fields, "headers")
    return (
        encode_varint(Framing.INDETERMINATE_LENGTH_REQUEST)
        + _control(method, scheme, authority, path)
        + _indeterminate_section(fields)
    )


def encode_response_head(
    status: int,
    headers: Iterable[tuple[bytes, bytes]] = (),
    *,
    informational: Sequence[InformationalResponse] = (),
) -> bytes:
    """The start of an indeterminate-length response: interim responses, status, headers."""
    if not 200 <= status <= 599:
        raise ValueError("a final status is 200..599")
    fields = _as_fields(headers)
    _check_fields(fields, "headers")
    out = bytearray(encode_varint(Framing.INDETERMINATE_LENGTH_RESPONSE))
    for interim in informational:
        out += encode_varint(interim.status) + _indeterminate_section(interim.headers)
    out += encode_varint(status) + _indeterminate_section(fields)
    return bytes(out)


def encode_content_chunk(data: bytes) -> bytes:
    """One indeterminate-length content chunk (empty input writes nothing)."""
    return _lp(bytes(data)) if data else b""


def encode_message_end(trailers: Iterable[tuple[bytes, bytes]] = (), *, padding: int = 0) -> bytes:
    """The end of an indeterminate-length message: content terminator, trailers, padding."""
    fields = _as_fields(trailers)
    _check_fields(fields, "trailers")
    return b"\x00" + _indeterminate_section(fields) + _padding(padding)


# --- decoding --------------------------------------------------------------------------------


class _State(Enum):
    FRAMING = "framing indicator"
    CONTROL = "control data"
    STATUS = "status"
    INFORMATIONAL = "informational header section"
    HEADERS = "header section"
    CONTENT = "content"
    TRAILERS = "trailer section"
    PADDING = "padding"


class Decoder:
    """Incremental, bounded RFC 9292 decoder for one request or one response."""

    def __init__(
        self, kind: Literal["request", "response"], *, limits: Limits = DEFAULT_LIMITS
    ) -> None:
        if kind not in ("request", "response"):
            raise ValueError("kind is 'request' or 'response'")
        self.kind = kind
        self.limits = limits
        self._buf = bytearray()
        self._pos = 0
        self._base = 0  # message offset of _buf[0]
        self._state = _State.FRAMING
        self._known = True
        self._control: tuple[str, str, str, str] | None = None
        self._status = 0
        self._informational = 0
        self._fields: list[Field] = []
        self._section_len: int | None = None  # known-length section size, once read
        self._section_bytes = 0  # indeterminate-length section bytes consumed
        self._content_remaining: int | None = None
        self._chunk_remaining = 0
        self._content_started = False
        self._content_total = 0
        self._content_length: list[bytes] = []
        self._padding = 0
        self._finished = False

    @property
    def framing(self) -> Framing | None:
        """The message's framing indicator, once read."""
        if self._state is _State.FRAMING:
            return None
        if self.kind == "request":
            return Framing(0 if self._known else 2)
        return Framing(1 if self._known else 3)

    # -- errors -------------------------------------------------------------------------------

    def _malformed(self, message: str, *, field: str | None = None, **extra: object) -> Exception:
        return MalformedMessageError(
            f"binary HTTP {self.kind}: {message}",
            field=field or self._state.value,
            offset=self._base + self._pos,
            expected=extra.get("expected"),
            actual=extra.get("actual"),
        )

    def _too_large(self, what: str, limit: int, actual: int) -> Exception:
        return FrameTooLargeError(
            f"binary HTTP {self.kind}: {what} exceeds its limit",
            field=what,
            offset=self._base + self._pos,
            expected=f"at most {limit}",
            actual=actual,
        )

    # -- primitive reads (None: need more data) ----------------------------------------------

    def _varint(self) -> int | None:
        decoded = peek_varint(self._buf, self._pos)
        if decoded is None:
            return None
        value, self._pos = decoded
        return value

    # -- public API ---------------------------------------------------------------------------

    def feed(self, data: bytes) -> list[Event]:
        """Consume more of the message; return the events it completes.

        Raises:
            MalformedMessageError: the bytes break RFC 9292 (see the module docstring).
            FrameTooLargeError: a limit is exceeded.
            ProtocolStateError: called after ``finish`` or after an error.
        """
        if self._finished:
            raise ProtocolStateError(f"binary HTTP {self.kind} decoder already finished")
        if (
            self._state is _State.CONTENT
            and not self._known
            and not self._buf
            and not self._chunk_remaining
            and data
        ):
            # fast path: ``data`` is exactly one whole content chunk (a streamed event); the
            # same bound as _read_chunks, no buffering
            first = data[0]
            size = 1 << (first >> 6)
            if size == 1:
                length = first
            elif size == 2 and len(data) > 1:
                length = ((first & 0x3F) << 8) | data[1]
            else:
                length = 0  # longer prefixes and the terminator: the general path
            if (
                length
                and size + length == len(data)
                and self._content_total + length <= self.limits.max_content_bytes
            ):
                self._content_started = True
                self._content_total += length
                self._base += size + length
                return [ContentChunk(bytes(data[size:]))]
        self._buf += data
        events: list[Event] = []
        try:
            while self._step(events):
                pass
        except TeeclientError:
            self._finished = True  # fail closed: no further input after an error
            raise
        if self._pos:
            del self._buf[: self._pos]
            self._base += self._pos
            self._pos = 0
        return events

    def finish(self) -> list[Event]:
        """End of the message: check it ends where RFC 9292 allows; return the last events.

        A message truncated at an allowed point gets its missing sections as empty ones.

        Raises:
            MalformedMessageError: the message ends early or inside a section.
            ProtocolStateError: called twice.
        """
        if self._finished:
            raise ProtocolStateError(f"binary HTTP {self.kind} decoder already finished")
        self._finished = True
        if len(self._buf) > self._pos:
            raise self._malformed("message is truncated inside a field")
        events: list[Event] = []
        state = self._state
        if state in (_State.FRAMING, _State.CONTROL, _State.STATUS, _State.INFORMATIONAL):
            raise self._malformed("message ends before its final control data")
        if state is _State.HEADERS:
            if self._section_len is not None or self._fields or self._section_bytes:
                raise self._malformed("message ends inside the header section")
            events.append(self._head(()))
            state = _State.CONTENT
        if state is _State.CONTENT:
            if self._content_started or self._content_remaining:
                raise self._malformed("message ends inside the content")
            self._end_content()
            state = _State.TRAILERS
        if state is _State.TRAILERS:
            if self._section_len is not None or self._fields or self._section_bytes:
                raise self._malformed("message ends inside the trailer section")
            events.append(Trailers(()))
        return events

    # -- state machine ------------------------------------------------------------------------

    def _step(self, events: list[Event]) -> bool:
        state = self._state
        if state is _State.FRAMING:
            return self._read_framing()
        if state is _State.CONTROL:
            return self._read_control()
        if state is _State.STATUS:
            return self._read_status()
        if state is _State.CONTENT:
            return self._read_content(events)
        if state is _State.PADDING:
            return self._read_padding()
        fields = self._read_section()
        if fields is None:
            return False
        if state is _State.INFORMATIONAL:
            events.append(InformationalResponse(status=self._status, headers=fields))
            self._state = _State.STATUS
        elif state is _State.HEADERS:
            events.append(self._head(fields))
            self._content_length = [v for n, v in fields if n == b"content-length"]
            self._state = _State.CONTENT
        else:
            events.append(Trailers(fields))
            self._state = _State.PADDING
        return True

    def _read_framing(self) -> bool:
        start = self._pos
        value = self._varint()
        if value is None:
            return False
        allowed = (0, 2) if self.kind == "request" else (1, 3)
        if value not in allowed:
            self._pos = start
            raise self._malformed(
                "unexpected framing indicator", expected=list(allowed), actual=value
            )
        self._known = value < 2
        self._state = _State.CONTROL if self.kind == "request" else _State.STATUS
        return True

    def _read_control(self) -> bool:
        pos = self._pos
        parts: list[bytes] = []
        for name in ("method", "scheme", "authority", "path"):
            decoded = peek_varint(self._buf, pos)
            if decoded is None:
                return False
            length, pos = decoded
            if length > self.limits.max_control_bytes:
                raise self._too_large(f"control data {name}", self.limits.max_control_bytes, length)
            if pos + length > len(self._buf):
                return False
            parts.append(bytes(self._buf[pos : pos + length]))
            pos += length
        try:
            method, scheme, authority, path = (p.decode("ascii") for p in parts)
        except UnicodeDecodeError:
            raise self._malformed("control data is not ASCII") from None
        problem = _control_problem(method, scheme, authority, path)
        if problem is not None:
            raise self._malformed(problem, actual=f"{method} {scheme}://{authority}{path}")
        self._control = (method, scheme, authority, path)
        self._pos = pos
        self._state = _State.HEADERS
        return True

    def _read_status(self) -> bool:
        start = self._pos
        status = self._varint()
        if status is None:
            return False
        if 100 <= status <= 199:
            if self._informational >= self.limits.max_informational:
                raise self._too_large(
                    "informational responses",
                    self.limits.max_informational,
                    self._informational + 1,
                )
            self._informational += 1
            self._state = _State.INFORMATIONAL
        elif 200 <= status <= 599:
            self._state = _State.HEADERS
        else:
            self._pos = start
            raise self._malformed("status code out of range", expected="100..599", actual=status)
        self._status = status
        return True

    def _head(self, fields: tuple[Field, ...]) -> Event:
        if self.kind == "request":
            assert self._control is not None
            method, scheme, authority, path = self._control
            return RequestHead(
                method=method, scheme=scheme, authority=authority, path=path, headers=fields
            )
        return ResponseHead(status=self._status, headers=fields)

    def _field(self, name: bytes, value: bytes) -> None:
        problem = _field_problem(name, value)
        if problem is not None:
            raise self._malformed(problem, actual=name[:64])
        if len(self._fields) >= self.limits.max_fields:
            raise self._too_large("field count", self.limits.max_fields, len(self._fields) + 1)
        self._fields.append((name, value))

    def _take_section(self) -> tuple[Field, ...]:
        fields = tuple(self._fields)
        self._fields = []
        self._section_len = None
        self._section_bytes = 0
        return fields

    def _read_section(self) -> tuple[Field, ...] | None:
        limit = self.limits.max_section_bytes
        if self._known:
            if self._section_len is None:
                length = self._varint()
                if length is None:
                    return None
                if length > limit:
                    raise self._too_large(self._state.value, limit, length)
                self._section_len = length
            end = self._pos + self._section_len
            if end > len(self._buf):
                return None
            while self._pos < end:
                line = self._field_line(end)
                if line is None:
                    raise self._malformed("field line overruns its section")
                self._field(*line)
            return self._take_section()
        # indeterminate length: field lines until a zero name length, decoded inline
        buf = self._buf
        end = len(buf)
        pos = self._pos
        while True:
            if pos >= end:
                return None
            first = buf[pos]
            size = 1 << (first >> 6)
            if pos + size > end:
                return None
            name_len = first & 0x3F
            for index in range(pos + 1, pos + size):
                name_len = (name_len << 8) | buf[index]
            name_at = pos + size
            if name_len == 0:
                self._pos = name_at
                return self._take_section()
            budget = limit - self._section_bytes
            if name_at + name_len - pos > budget:
                raise self._too_large(self._state.value, limit, name_at + name_len - pos)
            value_len_at = name_at + name_len
            if value_len_at >= end:
                return None
            first = buf[value_len_at]
            size = 1 << (first >> 6)
            if value_len_at + size > end:
                return None
            value_len = first & 0x3F
            for index in range(value_len_at + 1, value_len_at + size):
                value_len = (value_len << 8) | buf[index]
            value_at = value_len_at + size
            line_end = value_at + value_len
            if line_end - pos > budget:
                raise self._too_large(self._state.value, limit, line_end - pos)
            if line_end > end:
                return None
            self._pos = line_end
            self._section_bytes += line_end - pos
            self._field(bytes(buf[name_at:value_len_at]), bytes(buf[value_at:line_end]))
            pos = line_end

    def _field_line(self, end: int, *, budget: int | None = None) -> Field | None:
        """Read one field line ending at or before ``end``; None when bytes are missing."""
        pos = self._pos
        out: list[bytes] = []
        for part in ("name", "value"):
            decoded = peek_varint(self._buf, pos)
            if decoded is None or decoded[1] > end:
                return None
            length, pos = decoded
            if part == "name" and length == 0:
                raise self._malformed("empty field name")
            if budget is not None and pos + length - self._pos > budget:
                raise self._too_large(
                    self._state.value, self.limits.max_section_bytes, pos + length - self._pos
                )
            if pos + length > end:
                return None
            out.append(bytes(self._buf[pos : pos + length]))
            pos += length
        self._pos = pos
        return out[0], out[1]

    def _add_content(self, size: int) -> bytes:
        self._content_total += size
        if self._content_total > self.limits.max_content_bytes:
            raise self._too_large("content", self.limits.max_content_bytes, self._content_total)
        data = bytes(self._buf[self._pos : self._pos + size])
        self._pos += size
        return data

    def _end_content(self) -> None:
        problem = _content_length_problem(
            self._content_length, self._content_total, response=self.kind == "response"
        )
        if problem is not None:
            raise self._malformed(problem, field="content-length")
        self._state = _State.TRAILERS

    def _read_content(self, events: list[Event]) -> bool:
        available = len(self._buf) - self._pos
        if self._known:
            if self._content_remaining is None:
                length = self._varint()
                if length is None:
                    return False
                if length > self.limits.max_content_bytes:
                    raise self._too_large("content", self.limits.max_content_bytes, length)
                self._content_remaining = length
                if length == 0:
                    self._end_content()
                return True
            if not available:
                return False
            size = min(available, self._content_remaining)
            events.append(ContentChunk(self._add_content(size)))
            self._content_remaining -= size
            if self._content_remaining == 0:
                self._end_content()
            return True
        return self._read_chunks(events)

    def _read_chunks(self, events: list[Event]) -> bool:
        """Indeterminate-length content: every chunk now buffered, as one ContentChunk event."""
        buf = self._buf
        pos = self._pos
        end = len(buf)
        pieces: list[bytes] = []
        ended = False
        limit = self.limits.max_content_bytes
        while pos < end:
            if self._chunk_remaining == 0:
                first = buf[pos]
                size = 1 << (first >> 6)
                if pos + size > end:
                    break
                length = first & 0x3F
                for index in range(pos + 1, pos + size):
                    length = (length << 8) | buf[index]
                pos += size
                if length == 0:
                    ended = True
                    break
                if self._content_total + length > limit:
                    self._pos = pos - size
                    raise self._too_large("content", limit, self._content_total + length)
                self._content_started = True
                self._chunk_remaining = length
            take = min(end - pos, self._chunk_remaining)
            pieces.append(bytes(buf[pos : pos + take]))
            self._content_total += take
            self._chunk_remaining -= take
            pos += take
        self._pos = pos
        if pieces:
            events.append(ContentChunk(pieces[0] if len(pieces) == 1 else b"".join(pieces)))
        if ended:
            self._end_content()
            return True
        return False

    def _read_padding(self) -> bool:
        rest = self._buf[self._pos :]
        if not rest:
            return False
        if rest.count(0) != len(rest):
            index = next(i for i, b in enumerate(rest) if b)
            self._pos += index
            raise self._malformed("padding is not zero", actual=f"{rest[index]:#04x}")
        self._padding += len(rest)
        if self._padding > self.limits.max_padding_bytes:
            raise self._too_large("padding", self.limits.max_padding_bytes, self._padding)
        self._pos += len(rest)
        return False


def _collect(events: Iterable[Event]) -> tuple[list[Event], bytes]:
    others: list[Event] = []
    content = bytearray()
    for event in events:
        if isinstance(event, ContentChunk):
            content += event.data
        else:
            others.append(event)
    return others, bytes(content)


def decode_request(data: bytes, *, limits: Limits = DEFAULT_LIMITS) -> Request:
    """Decode a whole binary HTTP request (either framing).

    Raises:
        MalformedMessageError: the bytes are not a valid RFC 9292 request.
        FrameTooLargeError: a limit is exceeded.
    """
    decoder = Decoder("request", limits=limits)
    events, content = _collect(decoder.feed(bytes(data)) + decoder.finish())
    head = events[0]
    trailers = events[-1]
    assert isinstance(head, RequestHead)
    assert isinstance(trailers, Trailers)
    return Request(
        method=head.method,
        scheme=head.scheme,
        authority=head.authority,
        path=head.path,
        headers=head.headers,
        content=content,
        trailers=trailers.fields,
    )


def decode_response(data: bytes, *, limits: Limits = DEFAULT_LIMITS) -> Response:
    """Decode a whole binary HTTP response (either framing).

    Raises:
        MalformedMessageError: the bytes are not a valid RFC 9292 response.
        FrameTooLargeError: a limit is exceeded.
    """
    decoder = Decoder("response", limits=limits)
    events, content = _collect(decoder.feed(bytes(data)) + decoder.finish())
    informational = tuple(e for e in events if isinstance(e, InformationalResponse))
    head = events[len(informational)]
    trailers = events[-1]
    assert isinstance(head, ResponseHead)
    assert isinstance(trailers, Trailers)
    return Response(
        status=head.status,
        headers=head.headers,
        content=content,
        trailers=trailers.fields,
        informational=informational,
    )
