"""Tinfoil EHBP compatibility profile: HTTP bodies encrypted with HPKE, framed by u32 lengths.

The Encrypted HTTP Body Protocol (tinfoilsh/encrypted-http-body-protocol, tinfoil-ehbp 0.4.1)
as specified in shared/specs/tinfoil-and-ehbp.md §6:

* Suite: HPKE base mode, DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-256-GCM. Key
  configuration: a *bare* RFC 9458 ``key_config`` (no 2-byte list length) with exactly that
  one suite, served as ``application/ohttp-keys`` at ``/.well-known/hpke-keys``.
* Request: ``enc, ctx = SetupBaseS(pk, "ehbp request")``; header
  ``Ehbp-Encapsulated-Key: hex(enc)``; body = frames ``u32be(len) || ctx.Seal("", chunk)``.
* Response: ``secret = ctx.Export("ehbp response", 32)``; a random 32-byte nonce in
  ``Ehbp-Response-Nonce: hex(nonce)``; ``prk = Extract(enc || nonce, secret)``,
  ``key = Expand(prk, "key", 32)``, ``nonce_base = Expand(prk, "nonce", 12)``; frame i =
  ``u32be(len) || AES-256-GCM(key, nonce_base XOR i, "", chunk)``.
* Receivers skip zero-length frames without consuming a sequence number; a partial length
  prefix or frame at the end of the body is an error; frames above 64 MiB are refused.
* A 422 ``application/problem+json`` response of type
  ``urn:ietf:params:ehbp:error:key-config`` means the key changed: re-attest, retry once.

Weaknesses of EHBP (spec §7) and what this profile does about them:

1. **No final-frame marker.** The end of the body is the end of the message, so a stream cut
   at a frame boundary decrypts to a shorter, valid-looking body (tinfoil-ehbp 0.4.1 returns
   it as success). ``ResponseDecryptor.finish`` can only reject a cut *inside* a frame;
   callers must require application-level completion (an SSE ``[DONE]``, complete JSON)
   and should prefer chunked OHTTP, whose final chunk is authenticated.
2. **Bodyless requests are unprotected**: EHBP sends GET/DELETE without a key and gets a
   plaintext response. ``RequestEncryptor.empty_body`` produces the "minimal encrypted body"
   (one frame sealing zero bytes) so such requests get an encrypted, authenticated response.
3. **Method, path, query and headers travel in clear** (including the API key): inherent to
   EHBP; chunked OHTTP with Binary HTTP encrypts them.
4. **Forged non-2xx pass-through**: a non-2xx response without ``Ehbp-Response-Nonce`` is
   plaintext that anyone on path can forge. ``response_nonce_for`` returns None for it, and
   callers must treat such bodies as untrusted diagnostics, never as API results.
5. **HPKE info binds neither key id nor suite** (``"ehbp request"`` only): algorithm or
   key-id confusion is not excluded by the key schedule; this profile accepts exactly one
   suite.
6. **Key configuration not RFC 9458-framed**: accepted only here; the key should come from
   attestation, not from discovery.
7. **Frame lengths are visible** (token timing of streamed completions): inherent.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Sequence
from typing import TypeVar

from teeclient.errors import (
    FrameTooLargeError,
    MalformedMessageError,
    ProtocolStateError,
    StreamTruncatedError,
    TeeclientError,
    UnauthenticatedResponseError,
    UnsupportedSuiteError,
)
from teeclient.protocol import hpke
from teeclient.protocol.hpke import AeadId, KdfId, KemId, PrivateKey, PublicKey, Suite
from teeclient.protocol.keyconfig import KeyConfig, parse_key_config
from teeclient.protocol.ohttp import ResponseKeys

__all__ = [
    "ENCAPSULATED_KEY_HEADER",
    "EXPORT_LABEL",
    "EXPORT_LENGTH",
    "KEYS_MEDIA_TYPE",
    "KEYS_PATH",
    "KEY_CONFIG_MISMATCH_STATUS",
    "KEY_CONFIG_PROBLEM_TYPE",
    "MAX_FRAME_SIZE",
    "MAX_PLAINTEXT_RESPONSE",
    "PROBLEM_MEDIA_TYPE",
    "REQUEST_FRAME_SIZE",
    "REQUEST_INFO",
    "RESPONSE_NONCE_HEADER",
    "RESPONSE_NONCE_LENGTH",
    "SUITE",
    "RequestDecryptor",
    "RequestEncryptor",
    "ResponseDecryptor",
    "ResponseEncryptor",
    "Server",
    "is_key_config_problem",
    "is_reserved_header",
    "parse_encapsulated_key",
    "parse_key_config_body",
    "parse_response_nonce",
    "response_nonce_for",
]

ENCAPSULATED_KEY_HEADER = "Ehbp-Encapsulated-Key"
RESPONSE_NONCE_HEADER = "Ehbp-Response-Nonce"
KEYS_PATH = "/.well-known/hpke-keys"
KEYS_MEDIA_TYPE = "application/ohttp-keys"
PROBLEM_MEDIA_TYPE = "application/problem+json"
KEY_CONFIG_PROBLEM_TYPE = "urn:ietf:params:ehbp:error:key-config"
KEY_CONFIG_MISMATCH_STATUS = 422

SUITE = Suite(kem=KemId.DHKEM_X25519_HKDF_SHA256, kdf=KdfId.HKDF_SHA256, aead=AeadId.AES_256_GCM)
REQUEST_INFO = b"ehbp request"
EXPORT_LABEL = b"ehbp response"
EXPORT_LENGTH = 32
RESPONSE_NONCE_LENGTH = 32
REQUEST_FRAME_SIZE = 64 * 1024  # plaintext per request frame (tinfoil-ehbp 0.4.1)
MAX_FRAME_SIZE = 64 * 1024 * 1024  # largest frame a receiver accepts (tinfoil-ehbp 0.4.1)
MAX_PLAINTEXT_RESPONSE = 64 * 1024 * 1024  # nonce-less pass-through bodies, for transports
_MAX_SEQUENCE = 1 << 64  # frame counters 0 .. 2^64-1
_LENGTH_SIZE = 4
_HEX = re.compile(r"[0-9a-fA-F]*")
_T = TypeVar("_T")


def is_reserved_header(name: str) -> bool:
    """True for headers an EHBP client sets itself (callers must not override them)."""
    lowered = name.lower()
    return lowered in ("content-length", "transfer-encoding", "host") or lowered.startswith("ehbp-")


def parse_key_config_body(body: bytes) -> KeyConfig:
    """Parse ``/.well-known/hpke-keys``: one bare key configuration with exactly EHBP's suite.

    Raises:
        MalformedMessageError: not a well-formed key configuration.
        UnsupportedSuiteError: not X25519 with exactly (HKDF-SHA256, AES-256-GCM).
    """
    config = parse_key_config(body, field="ehbp_key_config")
    if config.kem is not SUITE.kem or config.suites() != (SUITE,) or len(config.algorithms) != 1:
        raise UnsupportedSuiteError(
            "EHBP requires exactly DHKEM(X25519)/HKDF-SHA256/AES-256-GCM",
            field="ehbp_key_config",
            expected=str(SUITE),
            actual=[f"{a.kdf_id:#06x}/{a.aead_id:#06x}" for a in config.algorithms],
        )
    return config


def _parse_hex_header(name: str, value: str, size: int) -> bytes:
    text = value.strip()
    if len(text) != 2 * size or not _HEX.fullmatch(text):
        raise MalformedMessageError(
            f"{name} is not {2 * size} hex digits", field=name, actual=text[:80]
        )
    return bytes.fromhex(text)


def parse_encapsulated_key(value: str) -> bytes:
    """The 32-byte ``enc`` from ``Ehbp-Encapsulated-Key`` (64 hex digits)."""
    return _parse_hex_header(ENCAPSULATED_KEY_HEADER, value, 32)


def parse_response_nonce(values: Sequence[str]) -> bytes:
    """The 32-byte response nonce from all ``Ehbp-Response-Nonce`` header values.

    Raises:
        UnauthenticatedResponseError: the header is missing.
        MalformedMessageError: repeated, or not 64 hex digits.
    """
    if not values:
        raise UnauthenticatedResponseError(
            "response carries no Ehbp-Response-Nonce", field=RESPONSE_NONCE_HEADER
        )
    if len(values) > 1:
        raise MalformedMessageError(
            "Ehbp-Response-Nonce is repeated", field=RESPONSE_NONCE_HEADER, actual=len(values)
        )
    return _parse_hex_header(RESPONSE_NONCE_HEADER, values[0], RESPONSE_NONCE_LENGTH)


def response_nonce_for(status: int, values: Sequence[str]) -> bytes | None:
    """The response nonce, or None for a non-2xx response without one (SPEC §5.3).

    None means EHBP's unauthenticated pass-through: the body is plaintext that an on-path
    attacker could have written; never treat it as an attested result.

    Raises:
        UnauthenticatedResponseError: a 2xx response without the header.
        MalformedMessageError: a repeated or invalid header.
    """
    if not values and not 200 <= status <= 299:
        return None
    return parse_response_nonce(values)


def is_key_config_problem(status: int, content_type: str | None, body: bytes) -> bool:
    """True for the 422 key-configuration problem (re-attest and retry once)."""
    if status != KEY_CONFIG_MISMATCH_STATUS or content_type is None:
        return False
    if content_type.split(";", 1)[0].strip().lower() != PROBLEM_MEDIA_TYPE:
        return False
    try:
        problem = json.loads(body[:65536])
    except (ValueError, UnicodeDecodeError):
        return False
    return isinstance(problem, dict) and problem.get("type") == KEY_CONFIG_PROBLEM_TYPE


def _frame(ciphertext: bytes) -> bytes:
    return len(ciphertext).to_bytes(_LENGTH_SIZE, "big") + ciphertext


def _split(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


class _FrameReader:
    """u32-length frames; zero-length frames skipped; any error ends the stream."""

    def __init__(self, *, max_frame_size: int, what: str) -> None:
        if not 0 < max_frame_size < 1 << 32:
            raise ValueError("max_frame_size is 1..2^32-1")
        self._buf = bytearray()
        self._max = max_frame_size
        self._done = False
        self._what = what
        self._offset = 0

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

    def _frames(self, data: bytes) -> list[bytes]:
        """Append ``data``; return the complete non-empty frames (an empty buffer: no copy)."""
        if self._buf:
            self._buf += data
            buf: bytes | bytearray = self._buf
        else:
            buf = data
        out: list[bytes] = []
        pos = 0
        end = len(buf)
        while end - pos >= _LENGTH_SIZE:
            length = int.from_bytes(buf[pos : pos + _LENGTH_SIZE], "big")
            if length > self._max:
                raise FrameTooLargeError(
                    f"{self._what} frame is too large",
                    field="frame",
                    offset=self._offset + pos,
                    expected=f"at most {self._max} bytes",
                    actual=f"{length} bytes",
                )
            start = pos + _LENGTH_SIZE
            if end - start < length:
                break
            if length:
                out.append(bytes(buf[start : start + length]))
            pos = start + length
        if buf is self._buf:
            del self._buf[:pos]
        elif pos < end:
            self._buf = bytearray(buf[pos:])
        self._offset += pos
        return out

    def _end(self) -> None:
        self._done = True
        if self._buf:
            raise StreamTruncatedError(
                f"{self._what} ends inside a frame",
                field="frame",
                offset=self._offset,
                actual=f"{len(self._buf)} bytes left",
            )


# --- client side -----------------------------------------------------------------------------


class ResponseDecryptor(_FrameReader):
    """Client side: feed encrypted response bytes, get authenticated plaintext frames."""

    def __init__(
        self,
        *,
        exported_secret: bytes,
        enc: bytes,
        response_nonce: bytes,
        max_frame_size: int = MAX_FRAME_SIZE,
    ) -> None:
        if len(exported_secret) != EXPORT_LENGTH or len(enc) != 32:
            raise ValueError("an EHBP exported secret and enc are 32 bytes each")
        if len(response_nonce) != RESPONSE_NONCE_LENGTH:
            raise ValueError("an EHBP response nonce is 32 bytes")
        super().__init__(max_frame_size=max_frame_size, what="EHBP response")
        self._keys = ResponseKeys(SUITE, exported_secret, enc, response_nonce, limit=_MAX_SEQUENCE)

    def feed(self, data: bytes) -> list[bytes]:
        """Consume response bytes; return the plaintext of each complete frame.

        Raises:
            DecryptError: a frame is not authentic or out of order.
            FrameTooLargeError: a length prefix above the maximum (refused before buffering).
            SequenceOverflowError: more than 2^64 frames.
        """
        self._check_open()
        try:
            return [self._keys.open(frame) for frame in self._frames(data)]
        except TeeclientError:
            self._done = True
            raise

    def finish(self) -> None:
        """End of the body. Rejects a cut inside a frame; a cut between frames is undetectable.

        Raises:
            StreamTruncatedError: the body ends inside a length prefix or a frame.
        """
        self._guard(self._end)


class RequestEncryptor:
    """Client side of one EHBP exchange: seals request frames, then decrypts the response."""

    def __init__(
        self,
        server_key: PublicKey,
        *,
        frame_size: int = REQUEST_FRAME_SIZE,
        ephemeral: PrivateKey | None = None,
    ) -> None:
        if server_key.kem is not SUITE.kem:
            raise ValueError("EHBP server keys are X25519")
        if not 0 < frame_size <= MAX_FRAME_SIZE - SUITE.n_t:
            raise ValueError("frame_size must fit a frame")
        self.frame_size = frame_size
        self.enc, self._context = hpke.setup_sender(
            SUITE, server_key, info=REQUEST_INFO, ephemeral=ephemeral
        )
        self._secret = self._context.export(EXPORT_LABEL, EXPORT_LENGTH)

    @classmethod
    def from_key_config(
        cls, config: KeyConfig, *, frame_size: int = REQUEST_FRAME_SIZE
    ) -> RequestEncryptor:
        """An encryptor for an EHBP key configuration (checked by ``parse_key_config_body``)."""
        if config.suites() != (SUITE,):
            raise ValueError("not an EHBP key configuration")
        return cls(config.public_key, frame_size=frame_size)

    def headers(self) -> dict[str, str]:
        """The request headers EHBP adds: ``Ehbp-Encapsulated-Key``."""
        return {ENCAPSULATED_KEY_HEADER: self.enc.hex()}

    def seal(self, chunk: bytes) -> bytes:
        """Frames for a piece of the body, split at ``frame_size`` (empty input, no frame)."""
        return b"".join(
            _frame(self._context.seal(piece)) for piece in _split(bytes(chunk), self.frame_size)
        )

    def empty_body(self) -> bytes:
        """The "minimal encrypted body" for a bodyless request: one frame sealing zero bytes."""
        return _frame(self._context.seal(b""))

    def response_decryptor(
        self, response_nonce: bytes, *, max_frame_size: int = MAX_FRAME_SIZE
    ) -> ResponseDecryptor:
        """A decryptor for the response that carries ``response_nonce``."""
        return ResponseDecryptor(
            exported_secret=self._secret,
            enc=self.enc,
            response_nonce=response_nonce,
            max_frame_size=max_frame_size,
        )


# --- server side -----------------------------------------------------------------------------


class ResponseEncryptor:
    """Server side: the response nonce header, then sealed frames."""

    def __init__(self, exported_secret: bytes, enc: bytes, *, nonce: bytes | None = None) -> None:
        self.nonce = os.urandom(RESPONSE_NONCE_LENGTH) if nonce is None else bytes(nonce)
        if len(self.nonce) != RESPONSE_NONCE_LENGTH:
            raise ValueError("an EHBP response nonce is 32 bytes")
        self._keys = ResponseKeys(SUITE, exported_secret, enc, self.nonce, limit=_MAX_SEQUENCE)

    def headers(self) -> dict[str, str]:
        """The response header EHBP adds: ``Ehbp-Response-Nonce``."""
        return {RESPONSE_NONCE_HEADER: self.nonce.hex()}

    def seal(self, chunk: bytes, *, frame_size: int = REQUEST_FRAME_SIZE) -> bytes:
        """Frames for a piece of the response body (empty input, no frame)."""
        return b"".join(_frame(self._keys.seal(p)) for p in _split(bytes(chunk), frame_size))


class RequestDecryptor(_FrameReader):
    """Server side: feed the request body, get plaintext frames; then encrypt the response."""

    def __init__(
        self, private_key: PrivateKey, enc: bytes, *, max_frame_size: int = MAX_FRAME_SIZE
    ) -> None:
        super().__init__(max_frame_size=max_frame_size, what="EHBP request")
        self.enc = bytes(enc)
        self._context = hpke.setup_recipient(SUITE, self.enc, private_key, info=REQUEST_INFO)
        self._secret = self._context.export(EXPORT_LABEL, EXPORT_LENGTH)

    def feed(self, data: bytes) -> list[bytes]:
        """Consume body bytes; return the plaintext of each complete frame."""
        self._check_open()
        try:
            return [self._context.open(frame) for frame in self._frames(data)]
        except TeeclientError:
            self._done = True
            raise

    def finish(self) -> None:
        """End of the body; rejects a cut inside a frame."""
        self._guard(self._end)

    def response_encryptor(self, *, nonce: bytes | None = None) -> ResponseEncryptor:
        """The encryptor for this request's response (``nonce`` fixed only in tests)."""
        return ResponseEncryptor(self._secret, self.enc, nonce=nonce)


class Server:
    """The EHBP server key: publishes its key configuration, opens requests."""

    def __init__(self, private_key: PrivateKey, *, key_id: int = 0) -> None:
        if private_key.kem is not SUITE.kem:
            raise ValueError("EHBP server keys are X25519")
        self._private = private_key
        self.config = KeyConfig.create(key_id, private_key.public_key(), [SUITE])

    @classmethod
    def generate(cls) -> Server:
        """A server with a fresh X25519 key."""
        return cls(PrivateKey.generate(SUITE.kem))

    def key_config(self) -> bytes:
        """The bare key configuration served at ``/.well-known/hpke-keys``."""
        return self.config.to_bytes()

    def open_request(
        self, encapsulated_key: str, *, max_frame_size: int = MAX_FRAME_SIZE
    ) -> RequestDecryptor:
        """Start decrypting a request from its ``Ehbp-Encapsulated-Key`` header value.

        Raises:
            MalformedMessageError: the header is not 64 hex digits.
            DecryptError: the key does not decapsulate (a low-order point).
        """
        return RequestDecryptor(
            self._private, parse_encapsulated_key(encapsulated_key), max_frame_size=max_frame_size
        )
