"""RFC 9458 Oblivious HTTP and chunked OHTTP encapsulation: client and gateway state machines.

Two variants share one request header and one response key schedule:

* **OHTTP** (RFC 9458 §4): ``encapsulate_request`` seals a whole Binary HTTP request to a
  key configuration; ``ResponseOpener.open`` authenticates the whole response. Gateway side:
  ``Gateway.decapsulate_request`` and ``ResponseSealer.seal``.
* **Chunked OHTTP** (draft-ietf-ohai-chunked-ohttp-08): ``ChunkedRequestSender`` seals a
  request chunk by chunk; ``ChunkedResponseReceiver`` takes response bytes as they arrive and
  returns each authenticated plaintext chunk. Gateway side: ``ChunkedRequestReceiver`` and
  ``ChunkedResponseSender``. Every chunk is prefixed by a QUIC varint length; the final chunk
  has length prefix 0, runs to the end of the stream and is sealed with AAD ``"final"``.

Wire format (both variants)::

    hdr      = key_id (1) || kem_id (2) || kdf_id (2) || aead_id (2)
    info     = label || 0x00 || hdr        # "message/bhttp [chunked ]request"
    request  = hdr || enc || sealed request (or chunks)
    secret   = context.Export("message/bhttp [chunked ]response", max(Nn, Nk))
    prk      = HKDF-Extract(salt = enc || response_nonce, secret)
    key      = HKDF-Expand(prk, "key", Nk);  nonce = HKDF-Expand(prk, "nonce", Nn)
    response = response_nonce (max(Nn, Nk) random bytes) || sealed response (or chunks)
    chunk i  = Seal(key, nonce XOR I2OSP(i, Nn), aad = "" or "final", chunk)

What the state machines enforce (each a typed ``TransportError``):

* the stream ends only after an authenticated final chunk: an end of input at a chunk
  boundary, inside a length prefix, inside a chunk or before the response nonce raises
  ``StreamTruncatedError`` (``transport.stream_truncated``); a final chunk whose
  ciphertext was cut fails authentication;
* reordered, duplicated, dropped, altered or foreign chunks fail AEAD authentication
  (``transport.decrypt_failed``): the chunk counter is in the nonce and the response key
  is derived from this request's HPKE context and ``enc``, so a response replayed from
  another request cannot open; a zero-length non-final chunk is a decryption error (draft §6);
* a chunk longer than ``max_chunk_size`` plaintext bytes is refused from its length prefix,
  before it is buffered (``transport.frame_too_large``); receivers accept 16384 bytes as the
  draft requires and 65536 by default; senders split at 16384 bytes;
* unknown key ids or suites not in the gateway's configuration raise
  ``KeyConfigMismatchError`` (the gateway answers with the ``ohttp-key`` problem type);
* counters never wrap (``SequenceOverflowError``); data after the end or a second
  ``finish`` raise ``ProtocolStateError``.

Chunks received before the final one are authenticated individually and may be used
incrementally, but the message is complete only when ``finish`` returns (draft §7.1).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TypeVar

from cryptography.exceptions import InvalidTag

from teeclient.errors import (
    DecryptError,
    FrameTooLargeError,
    KeyConfigMismatchError,
    MalformedMessageError,
    ProtocolStateError,
    SequenceOverflowError,
    StreamTruncatedError,
    TeeclientError,
    UnsupportedSuiteError,
)
from teeclient.protocol import hpke
from teeclient.protocol._wire import encode_varint
from teeclient.protocol.hpke import PrivateKey, Suite
from teeclient.protocol.keyconfig import KeyConfig, Selection

__all__ = [
    "CHUNKED_REQUEST_LABEL",
    "CHUNKED_REQUEST_MEDIA_TYPE",
    "CHUNKED_RESPONSE_LABEL",
    "CHUNKED_RESPONSE_MEDIA_TYPE",
    "DEFAULT_CHUNK_SIZE",
    "DEFAULT_MAX_CHUNK_SIZE",
    "DEFAULT_MAX_MESSAGE_SIZE",
    "FINAL_AAD",
    "KEY_PROBLEM_TYPE",
    "REQUEST_LABEL",
    "REQUEST_MEDIA_TYPE",
    "RESPONSE_LABEL",
    "RESPONSE_MEDIA_TYPE",
    "ChunkedRequestReceiver",
    "ChunkedRequestSender",
    "ChunkedResponseReceiver",
    "ChunkedResponseSender",
    "Gateway",
    "GatewayKey",
    "RequestHeader",
    "ResponseKeys",
    "ResponseOpener",
    "ResponseSealer",
    "encapsulate_request",
]

REQUEST_MEDIA_TYPE = "message/ohttp-req"
RESPONSE_MEDIA_TYPE = "message/ohttp-res"
CHUNKED_REQUEST_MEDIA_TYPE = "message/ohttp-chunked-req"
CHUNKED_RESPONSE_MEDIA_TYPE = "message/ohttp-chunked-res"
KEY_PROBLEM_TYPE = "https://iana.org/assignments/http-problem-types#ohttp-key"

REQUEST_LABEL = b"message/bhttp request"
RESPONSE_LABEL = b"message/bhttp response"
CHUNKED_REQUEST_LABEL = b"message/bhttp chunked request"
CHUNKED_RESPONSE_LABEL = b"message/bhttp chunked response"
FINAL_AAD = b"final"

DEFAULT_CHUNK_SIZE = 16384  # what senders seal per chunk (draft §3: receivers must accept it)
DEFAULT_MAX_CHUNK_SIZE = 65536  # the largest chunk plaintext receivers accept by default
DEFAULT_MAX_MESSAGE_SIZE = 64 * 1024 * 1024  # non-chunked request or response bodies
_HEADER_SIZE = 7


# --- shared pieces ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestHeader:
    """The encapsulated request header: key id and HPKE suite (RFC 9458 §4.3 ``hdr``)."""

    key_id: int
    suite: Suite

    def __post_init__(self) -> None:
        if not 0 <= self.key_id <= 0xFF:
            raise ValueError("a key id is an 8-bit value")

    def to_bytes(self) -> bytes:
        """``key_id || kem_id || kdf_id || aead_id``."""
        return bytes([self.key_id]) + self.suite.suite_id[4:]

    def info(self, label: bytes) -> bytes:
        """The HPKE ``info``: ``label || 0x00 || hdr``."""
        return label + b"\x00" + self.to_bytes()

    @classmethod
    def parse(cls, data: bytes) -> RequestHeader:
        """Parse the 7-byte header.

        Raises:
            MalformedMessageError: fewer than 7 bytes.
            UnsupportedSuiteError: an algorithm id teeclient does not implement.
        """
        if len(data) < _HEADER_SIZE:
            raise MalformedMessageError(
                "encapsulated request header is truncated",
                field="hdr",
                expected=f"{_HEADER_SIZE} bytes",
                actual=f"{len(data)} bytes",
            )
        suite = Suite.from_ids(
            int.from_bytes(data[1:3], "big"),
            int.from_bytes(data[3:5], "big"),
            int.from_bytes(data[5:7], "big"),
        )
        return cls(key_id=data[0], suite=suite)


class ResponseKeys:
    """The response AEAD key and nonce (RFC 9458 §4.4), with a chunk counter.

    ``nonce_i = nonce XOR I2OSP(i, Nn)``; EHBP's "XOR i into the last 8 bytes" is the same
    value for every i below its 2^64 limit.
    """

    __slots__ = ("_aead", "_counter", "_limit", "_n_n", "_nonce", "suite")

    def __init__(
        self,
        suite: Suite,
        secret: bytes,
        enc: bytes,
        response_nonce: bytes,
        *,
        limit: int | None = None,
    ) -> None:
        key, nonce = hpke.hkdf_derive(
            enc + response_nonce, secret, ((b"key", suite.n_k), (b"nonce", suite.n_n))
        )
        self.suite = suite
        self._aead = hpke.make_aead(suite.aead, key)
        self._nonce = int.from_bytes(nonce, "big")
        self._n_n = suite.n_n
        self._counter = 0
        # chunk counters 0 .. limit-1; by default 256^Nn (draft §6.2)
        self._limit = limit if limit is not None else 1 << (8 * suite.n_n)

    def __repr__(self) -> str:
        return f"<ResponseKeys {self.suite} counter={self._counter}>"

    def _overflow(self) -> SequenceOverflowError:
        return SequenceOverflowError(
            "response chunk counter exhausted", field="counter", actual=self._counter
        )

    def seal(self, plaintext: bytes, aad: bytes = b"") -> bytes:
        """Seal the next chunk (or the whole response) and advance the counter."""
        counter = self._counter
        if counter >= self._limit:
            raise self._overflow()
        sealed = self._aead.encrypt(
            (self._nonce ^ counter).to_bytes(self._n_n, "big"), plaintext, aad
        )
        self._counter = counter + 1
        return sealed

    def seal_chunk(self, plaintext: bytes) -> bytes:
        """``varint(len) || Seal(plaintext)``: one non-final chunk of the chunked format
        (``plaintext`` must be non-empty and at most the chunk size)."""
        sealed = self.seal(plaintext)
        size = len(sealed)
        if size < 0x40:
            return bytes((size,)) + sealed
        if size < 0x4000:
            return (size | 0x4000).to_bytes(2, "big") + sealed
        return encode_varint(size) + sealed

    def open(self, ciphertext: bytes, aad: bytes = b"") -> bytes:
        """Open the next chunk; raise DecryptError (counter unchanged) when it is not authentic."""
        counter = self._counter
        if counter >= self._limit:
            raise self._overflow()
        try:
            plaintext = self._aead.decrypt(
                (self._nonce ^ counter).to_bytes(self._n_n, "big"), ciphertext, aad
            )
        except InvalidTag:
            raise DecryptError(
                "response chunk failed authentication", field="chunk", actual=counter
            ) from None
        self._counter = counter + 1
        return plaintext

    def open_chunks(self, ciphertexts: list[bytes]) -> list[bytes]:
        """Open consecutive non-final chunks (AAD empty) in order; all or nothing.

        Raises:
            DecryptError: a chunk is not authentic or opens to nothing (an empty non-final
                chunk, draft §6); no plaintext of the batch is returned.
            SequenceOverflowError: the counter is exhausted.
        """
        decrypt = self._aead.decrypt
        base, n_n, limit = self._nonce, self._n_n, self._limit
        counter = self._counter
        out: list[bytes] = []
        for ciphertext in ciphertexts:
            if counter >= limit:
                self._counter = counter
                raise self._overflow()
            try:
                plaintext = decrypt((base ^ counter).to_bytes(n_n, "big"), ciphertext, None)
            except InvalidTag:
                self._counter = counter
                raise DecryptError(
                    "response chunk failed authentication", field="chunk", actual=counter
                ) from None
            if not plaintext:
                self._counter = counter + 1
                raise DecryptError("empty non-final response chunk", field="chunk")
            out.append(plaintext)
            counter += 1
        self._counter = counter
        return out


def _entropy_len(suite: Suite) -> int:
    return max(suite.n_n, suite.n_k)


def _response_nonce(suite: Suite, nonce: bytes | None) -> bytes:
    size = _entropy_len(suite)
    if nonce is None:
        return os.urandom(size)
    if len(nonce) != size:
        raise ValueError(f"a response nonce for {suite} is {size} bytes")
    return bytes(nonce)


def _check_chunk_size(size: int) -> None:
    if not 0 < size <= (1 << 30):
        raise ValueError("chunk sizes are 1..2^30 bytes")


def _split(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


# --- client side -----------------------------------------------------------------------------


class ResponseOpener:
    """Client side of one OHTTP exchange: opens the encapsulated response."""

    __slots__ = ("_enc", "_label", "_max_size", "_secret", "suite")

    def __init__(
        self, suite: Suite, secret: bytes, enc: bytes, *, label: bytes, max_size: int
    ) -> None:
        self.suite = suite
        self._secret = secret
        self._enc = enc
        self._label = label
        self._max_size = max_size

    def open(self, data: bytes) -> bytes:
        """Authenticate and decrypt an encapsulated response (RFC 9458 §4.4).

        Raises:
            StreamTruncatedError: shorter than the nonce and a tag.
            FrameTooLargeError: larger than the configured maximum.
            DecryptError: not authentic for this request.
        """
        size = _entropy_len(self.suite)
        if len(data) < size + self.suite.n_t:
            raise StreamTruncatedError(
                "encapsulated response is truncated",
                field="response",
                expected=f"at least {size + self.suite.n_t} bytes",
                actual=f"{len(data)} bytes",
            )
        if len(data) > self._max_size:
            raise FrameTooLargeError(
                "encapsulated response is too large",
                field="response",
                expected=f"at most {self._max_size} bytes",
                actual=f"{len(data)} bytes",
            )
        keys = ResponseKeys(self.suite, self._secret, self._enc, bytes(data[:size]))
        return keys.open(bytes(data[size:]))


def encapsulate_request(
    selection: Selection,
    request: bytes,
    *,
    label: bytes = REQUEST_LABEL,
    response_label: bytes = RESPONSE_LABEL,
    max_response_size: int = DEFAULT_MAX_MESSAGE_SIZE,
    ephemeral: PrivateKey | None = None,
) -> tuple[bytes, ResponseOpener]:
    """Encapsulate a whole request (RFC 9458 §4.3): ``(hdr || enc || ct, opener)``.

    ``ephemeral`` fixes the DHKEM ephemeral key for known-answer tests.
    """
    header = RequestHeader(key_id=selection.config.key_id, suite=selection.suite)
    enc, context = hpke.setup_sender(
        selection.suite,
        selection.config.public_key,
        info=header.info(label),
        ephemeral=ephemeral,
    )
    sealed = context.seal(request)
    secret = context.export(response_label, _entropy_len(selection.suite))
    opener = ResponseOpener(
        selection.suite, secret, enc, label=response_label, max_size=max_response_size
    )
    return header.to_bytes() + enc + sealed, opener


class ChunkedRequestSender:
    """Client side of a chunked OHTTP exchange: seals request chunks, opens the response.

    Write ``header`` first, then what ``seal`` returns for each piece of the Binary HTTP
    request, then what ``finish`` returns. ``response_receiver`` decrypts the response.
    """

    def __init__(
        self,
        selection: Selection,
        *,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        ephemeral: PrivateKey | None = None,
        label: bytes = CHUNKED_REQUEST_LABEL,
        response_label: bytes = CHUNKED_RESPONSE_LABEL,
    ) -> None:
        _check_chunk_size(chunk_size)
        self.selection = selection
        self.chunk_size = chunk_size
        header = bytes((selection.config.key_id,)) + selection.suite.suite_id[4:]
        self._enc, self._context = hpke.setup_sender(
            selection.suite,
            selection.config.public_key,
            info=label + b"\x00" + header,
            ephemeral=ephemeral,
        )
        self.header = header + self._enc
        self._response_label = response_label
        self._finished = False

    @property
    def suite(self) -> Suite:
        """The HPKE suite in use."""
        return self.selection.suite

    def seal(self, plaintext: bytes) -> bytes:
        """Non-final chunks for ``plaintext`` (split at ``chunk_size``; empty input, no chunk).

        Raises:
            ProtocolStateError: after ``finish``.
            SequenceOverflowError: the HPKE context is exhausted.
        """
        if self._finished:
            raise ProtocolStateError("chunked request already finished")
        out = bytearray()
        for piece in _split(bytes(plaintext), self.chunk_size):
            sealed = self._context.seal(piece)
            out += encode_varint(len(sealed)) + sealed
        return bytes(out)

    def finish(self, plaintext: bytes = b"") -> bytes:
        """The last chunks: ``plaintext`` with its last piece in the final chunk (AAD "final")."""
        if self._finished:
            raise ProtocolStateError("chunked request already finished")
        pieces = _split(bytes(plaintext), self.chunk_size) or [b""]
        out = bytearray(self.seal(b"".join(pieces[:-1])))
        out += b"\x00" + self._context.seal(pieces[-1], FINAL_AAD)
        self._finished = True
        return bytes(out)

    def response_receiver(
        self, *, max_chunk_size: int = DEFAULT_MAX_CHUNK_SIZE
    ) -> ChunkedResponseReceiver:
        """A receiver for this request's chunked response."""
        secret = self._context.export(self._response_label, _entropy_len(self.suite))
        return ChunkedResponseReceiver(self.suite, secret, self._enc, max_chunk_size=max_chunk_size)


_T = TypeVar("_T")


class _ChunkReader:
    """Shared chunk-stream parsing: varint-prefixed chunks, then a final chunk to the end.

    Any error ends the stream: later calls raise ``ProtocolStateError`` (fail closed).
    """

    def __init__(self, *, max_chunk_size: int, tag_size: int, what: str) -> None:
        _check_chunk_size(max_chunk_size)
        self._buf = bytearray()
        self._max_chunk = max_chunk_size + tag_size
        self._final = False  # the 0 length prefix has been read
        self._done = False
        self._what = what
        self._offset = 0  # stream offset of _buf[0]

    def _check_open(self) -> None:
        if self._done:
            raise ProtocolStateError(f"{self._what} already finished or failed")

    def _guard(self, step: Callable[[], _T]) -> _T:
        self._check_open()
        try:
            return step()
        except TeeclientError:
            self._done = True
            raise

    def _too_large(self, size: int, offset: int | None = None) -> FrameTooLargeError:
        return FrameTooLargeError(
            f"{self._what} chunk is too large",
            field="chunk",
            offset=offset,
            expected=f"at most {self._max_chunk} bytes",
            actual=f"{size} bytes",
        )

    def _chunks(self, data: bytes) -> list[bytes]:
        """Append ``data``; return the complete non-final chunk ciphertexts now available.

        The common case, an empty buffer and whole chunks in ``data``, copies nothing twice.
        """
        if self._buf:
            self._buf += data
            buf: bytes | bytearray = self._buf
        else:
            buf = data
        out: list[bytes] = []
        pos = 0
        end = len(buf)
        max_chunk = self._max_chunk
        while not self._final and pos < end:
            first = buf[pos]
            size = 1 << (first >> 6)
            if pos + size > end:
                break
            length = first & 0x3F
            for index in range(pos + 1, pos + size):
                length = (length << 8) | buf[index]
            start = pos + size
            if length == 0:
                self._final = True
                pos = start
                break
            if length > max_chunk:
                raise self._too_large(length, self._offset + pos)
            if start + length > end:
                break
            out.append(bytes(buf[start : start + length]))
            pos = start + length
        if buf is self._buf:
            del self._buf[:pos]
        elif pos < end:
            self._buf = bytearray(buf[pos:])
        self._offset += pos
        if self._final and len(self._buf) > max_chunk:
            raise self._too_large(len(self._buf))
        return out

    def _final_chunk(self) -> bytes:
        self._done = True
        if not self._final:
            raise StreamTruncatedError(
                f"{self._what} ended without its final chunk",
                field="chunk",
                offset=self._offset,
                actual=f"{len(self._buf)} unconsumed bytes",
            )
        final = bytes(self._buf)
        self._buf.clear()
        return final


class ChunkedResponseReceiver(_ChunkReader):
    """Client side: feed encrypted response bytes, get authenticated plaintext chunks."""

    def __init__(
        self,
        suite: Suite,
        secret: bytes,
        enc: bytes,
        *,
        max_chunk_size: int = DEFAULT_MAX_CHUNK_SIZE,
    ) -> None:
        super().__init__(max_chunk_size=max_chunk_size, tag_size=suite.n_t, what="chunked response")
        self.suite = suite
        self._secret = secret
        self._enc = enc
        self._keys: ResponseKeys | None = None

    def feed(self, data: bytes) -> list[bytes]:
        """Consume response bytes; return the plaintext of each complete non-final chunk.

        Raises:
            DecryptError: a chunk is not authentic, out of order, or empty.
            FrameTooLargeError: a chunk exceeds the maximum size.
            ProtocolStateError: called after ``finish`` or after an error.
        """
        keys = self._keys
        if keys is not None and not self._buf and not self._final and not self._done and data:
            # fast path: ``data`` is exactly one whole non-final chunk (a streamed event as
            # it arrives); the same checks as _chunks, then the same authentication
            first = data[0]
            size = 1 << (first >> 6)
            if size == 1:
                length = first
            elif size == 2 and len(data) > 1:
                length = ((first & 0x3F) << 8) | data[1]
            else:
                length = 0  # longer prefixes: the general path
            if 0 < length <= self._max_chunk and size + length == len(data):
                try:
                    out = keys.open_chunks([bytes(data[size:])])
                except TeeclientError:
                    self._done = True
                    raise
                self._offset += size + length
                return out
        self._check_open()
        try:
            if keys is None:
                self._buf += data
                size = _entropy_len(self.suite)
                if len(self._buf) < size:
                    return []
                keys = self._keys = ResponseKeys(
                    self.suite, self._secret, self._enc, bytes(self._buf[:size])
                )
                data = bytes(self._buf[size:])
                self._buf.clear()
                self._offset += size
            return keys.open_chunks(self._chunks(data))
        except TeeclientError:
            self._done = True
            raise

    def finish(self) -> bytes:
        """End of the response stream: authenticate the final chunk and return its plaintext.

        Raises:
            StreamTruncatedError: the stream ended before the final chunk (or the nonce).
            DecryptError: the final chunk is not authentic (including a truncated one).
            ProtocolStateError: called twice, or after an error.
        """
        return self._guard(self._finish)

    def _finish(self) -> bytes:
        if self._keys is None:
            raise StreamTruncatedError(
                "chunked response ended before its nonce",
                field="response_nonce",
                actual=f"{len(self._buf)} bytes",
            )
        final = self._final_chunk()
        return self._keys.open(final, FINAL_AAD)


# --- gateway side ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class GatewayKey:
    """A key configuration and its private key (the gateway's half)."""

    config: KeyConfig
    private_key: PrivateKey = field(repr=False)

    def __post_init__(self) -> None:
        if self.private_key.public_key() != self.config.public_key:
            raise ValueError("the private key does not match the key configuration")

    @classmethod
    def generate(cls, key_id: int, suites: Iterable[Suite]) -> GatewayKey:
        """A fresh key for ``suites`` (all with the same KEM)."""
        wanted = tuple(suites)
        if not wanted:
            raise ValueError("a gateway key needs at least one suite")
        private = PrivateKey.generate(wanted[0].kem)
        return cls(
            config=KeyConfig.create(key_id, private.public_key(), wanted), private_key=private
        )


class ResponseSealer:
    """Gateway side of one OHTTP exchange: seals the response to the client."""

    __slots__ = ("_enc", "_secret", "suite")

    def __init__(self, suite: Suite, secret: bytes, enc: bytes) -> None:
        self.suite = suite
        self._secret = secret
        self._enc = enc

    def seal(self, response: bytes, *, nonce: bytes | None = None) -> bytes:
        """``response_nonce || Seal(key, nonce, "", response)`` (``nonce`` fixed only in tests)."""
        response_nonce = _response_nonce(self.suite, nonce)
        keys = ResponseKeys(self.suite, self._secret, self._enc, response_nonce)
        return response_nonce + keys.seal(response)


class ChunkedResponseSender:
    """Gateway side: the response nonce, then sealed chunks, then the final chunk."""

    def __init__(
        self,
        suite: Suite,
        secret: bytes,
        enc: bytes,
        *,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        nonce: bytes | None = None,
    ) -> None:
        _check_chunk_size(chunk_size)
        self.suite = suite
        self.chunk_size = chunk_size
        self.header = _response_nonce(suite, nonce)
        self._keys = ResponseKeys(suite, secret, enc, self.header)
        self._finished = False

    def seal(self, plaintext: bytes) -> bytes:
        """Non-final chunks for ``plaintext`` (empty input, no chunk)."""
        if self._finished:
            raise ProtocolStateError("chunked response already finished")
        if len(plaintext) <= self.chunk_size:  # the common case: one chunk, no split
            return self._keys.seal_chunk(bytes(plaintext)) if plaintext else b""
        seal_chunk = self._keys.seal_chunk
        return b"".join(seal_chunk(piece) for piece in _split(bytes(plaintext), self.chunk_size))

    def finish(self, plaintext: bytes = b"") -> bytes:
        """The last chunks, the final one sealed with AAD "final"."""
        if self._finished:
            raise ProtocolStateError("chunked response already finished")
        pieces = _split(bytes(plaintext), self.chunk_size) or [b""]
        out = bytearray(self.seal(b"".join(pieces[:-1])))
        out += b"\x00" + self._keys.seal(pieces[-1], FINAL_AAD)
        self._finished = True
        return bytes(out)


class Gateway:
    """The gateway's keys: decapsulates requests addressed to any of them."""

    def __init__(self, keys: Iterable[GatewayKey]) -> None:
        self._keys: dict[int, GatewayKey] = {}
        for key in keys:
            if key.config.key_id in self._keys:
                raise ValueError(f"two gateway keys share key id {key.config.key_id}")
            self._keys[key.config.key_id] = key
        if not self._keys:
            raise ValueError("a gateway needs at least one key")
        # every accepted request header (key id and suite), looked up in one step
        self._accepted: dict[bytes, tuple[RequestHeader, GatewayKey]] = {}
        for key in self._keys.values():
            for suite in key.config.suites():
                header = RequestHeader(key_id=key.config.key_id, suite=suite)
                self._accepted[header.to_bytes()] = (header, key)

    @property
    def configs(self) -> tuple[KeyConfig, ...]:
        """The public key configurations (what ``application/ohttp-keys`` serves)."""
        return tuple(k.config for k in self._keys.values())

    def _lookup(self, data: bytes) -> tuple[RequestHeader, GatewayKey]:
        accepted = self._accepted.get(bytes(data[:_HEADER_SIZE]))
        if accepted is not None:
            return accepted
        # not accepted: find out why (each reason has its own error)
        try:
            header = RequestHeader.parse(data)
        except UnsupportedSuiteError as exc:
            raise KeyConfigMismatchError(
                "request uses algorithms no gateway key accepts", field="hdr"
            ) from exc
        key = self._keys.get(header.key_id)
        if key is None:
            raise KeyConfigMismatchError(
                "request names an unknown key id",
                field="key_id",
                expected=sorted(self._keys),
                actual=header.key_id,
            )
        key.config.require(header.suite)
        return header, key

    def decapsulate_request(
        self,
        data: bytes,
        *,
        label: bytes = REQUEST_LABEL,
        response_label: bytes = RESPONSE_LABEL,
        max_size: int = DEFAULT_MAX_MESSAGE_SIZE,
    ) -> tuple[bytes, ResponseSealer]:
        """Open a whole encapsulated request: ``(request, sealer for the response)``.

        Raises:
            KeyConfigMismatchError: unknown key id or a suite the key does not accept.
            MalformedMessageError: truncated header or ``enc``.
            FrameTooLargeError: larger than ``max_size``.
            DecryptError: not authentic.
        """
        data = bytes(data)
        if len(data) > max_size:
            raise FrameTooLargeError(
                "encapsulated request is too large",
                field="request",
                expected=f"at most {max_size} bytes",
                actual=f"{len(data)} bytes",
            )
        header, key = self._lookup(data)
        n_enc = header.suite.n_enc
        enc = data[_HEADER_SIZE : _HEADER_SIZE + n_enc]
        context = hpke.setup_recipient(header.suite, enc, key.private_key, info=header.info(label))
        request = context.open(data[_HEADER_SIZE + n_enc :])
        secret = context.export(response_label, _entropy_len(header.suite))
        return request, ResponseSealer(header.suite, secret, enc)

    def chunked_request(
        self,
        *,
        max_chunk_size: int = DEFAULT_MAX_CHUNK_SIZE,
        label: bytes = CHUNKED_REQUEST_LABEL,
        response_label: bytes = CHUNKED_RESPONSE_LABEL,
    ) -> ChunkedRequestReceiver:
        """A receiver for one chunked encapsulated request."""
        return ChunkedRequestReceiver(
            self, max_chunk_size=max_chunk_size, label=label, response_label=response_label
        )


class ChunkedRequestReceiver(_ChunkReader):
    """Gateway side: feed encapsulated request bytes, get plaintext chunks; then respond."""

    def __init__(
        self,
        gateway: Gateway,
        *,
        max_chunk_size: int = DEFAULT_MAX_CHUNK_SIZE,
        label: bytes = CHUNKED_REQUEST_LABEL,
        response_label: bytes = CHUNKED_RESPONSE_LABEL,
    ) -> None:
        super().__init__(max_chunk_size=max_chunk_size, tag_size=16, what="chunked request")
        self._gateway = gateway
        self._label = label
        self._response_label = response_label
        self.header: RequestHeader | None = None
        self._enc = b""
        self._context: hpke.RecipientContext | None = None

    def feed(self, data: bytes) -> list[bytes]:
        """Consume request bytes; return the plaintext of each complete non-final chunk.

        Raises:
            KeyConfigMismatchError: unknown key id or suite (checked on the first 7 bytes).
            DecryptError: ``enc`` does not decapsulate, or a chunk is not authentic or empty.
            FrameTooLargeError: a chunk exceeds the maximum size.
            ProtocolStateError: called after ``finish`` or after an error.
        """
        self._check_open()
        try:
            context = self._context
            if context is None:
                self._buf += data
                if len(self._buf) < _HEADER_SIZE:
                    return []
                header, key = self._gateway._lookup(bytes(self._buf[:_HEADER_SIZE]))
                n_enc = header.suite.n_enc
                if len(self._buf) < _HEADER_SIZE + n_enc:
                    return []
                self._enc = bytes(self._buf[_HEADER_SIZE : _HEADER_SIZE + n_enc])
                context = self._context = hpke.setup_recipient(
                    header.suite, self._enc, key.private_key, info=header.info(self._label)
                )
                self.header = header
                self._max_chunk = self._max_chunk - 16 + header.suite.n_t
                data = bytes(self._buf[_HEADER_SIZE + n_enc :])
                self._buf.clear()
                self._offset += _HEADER_SIZE + n_enc
            out = []
            for chunk in self._chunks(data):
                plaintext = context.open(chunk)
                if not plaintext:
                    raise DecryptError("empty non-final request chunk", field="chunk")
                out.append(plaintext)
            return out
        except TeeclientError:
            self._done = True
            raise

    def finish(self) -> bytes:
        """End of the request stream: authenticate the final chunk and return its plaintext.

        Raises:
            StreamTruncatedError: the stream ended before the final chunk (or the header).
            DecryptError: the final chunk is not authentic.
            ProtocolStateError: called twice, or after an error.
        """
        return self._guard(self._finish)

    def _finish(self) -> bytes:
        if self._context is None:
            raise StreamTruncatedError(
                "chunked request ended before its header and encapsulated key",
                field="hdr",
                actual=f"{len(self._buf)} bytes",
            )
        final = self._final_chunk()
        return self._context.open(final, FINAL_AAD)

    def response_sender(
        self, *, chunk_size: int = DEFAULT_CHUNK_SIZE, nonce: bytes | None = None
    ) -> ChunkedResponseSender:
        """The sender for this request's chunked response (once the header is read)."""
        if self._context is None or self.header is None:
            raise ProtocolStateError("the request header has not been received yet")
        secret = self._context.export(self._response_label, _entropy_len(self.header.suite))
        return ChunkedResponseSender(
            self.header.suite, secret, self._enc, chunk_size=chunk_size, nonce=nonce
        )
