"""TLS SPKI pinning checked inside the handshake, before any application byte is sent.

``TlsPins`` holds the SHA-256 of the attested TLS key (``EnclaveIdentity.tls_spki_sha256``);
``TlsPins.ssl_context()`` returns an ``ssl.SSLContext`` whose sockets (``SSLSocket``, used by
httpx's sync transport) and memory-BIO objects (``SSLObject``, used by anyio for the async
transport and by proxies) check the server certificate's SubjectPublicKeyInfo as soon as
``do_handshake`` returns. On a mismatch the connection is closed and ``TlsPinMismatchError``
is raised from the handshake, so httpx never writes the request: the server has completed a
handshake and received nothing else.

The pin is *added* to the usual WebPKI verification (certificate chain and host name, as the
context's ``verify`` setting says), never a replacement for it. States:

* not yet known (before the first attestation): every handshake is refused (fail closed);
* ``None`` (the identity binds no TLS key): ordinary TLS verification only;
* a 32-byte hash: the leaf certificate's SPKI must hash to it.

Use one ``TlsPins`` per transport, and give its context to the inner transport that carries
encrypted requests (``httpx.HTTPTransport(verify=pins.ssl_context())``). Changing the pin
bumps ``generation`` so the owner can drop pooled connections made under the old one.
"""

from __future__ import annotations

import hashlib
import hmac
import ssl
import threading
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from teeclient.errors import TlsPinMismatchError

__all__ = ["TlsPins", "spki_sha256", "tls_context"]

_UNSET: Any = object()


def spki_sha256(certificate_der: bytes) -> bytes:
    """SHA-256 of a DER certificate's SubjectPublicKeyInfo (what ``tls_spki_sha256`` pins).

    Raises:
        ValueError: not a DER certificate.
    """
    cert = x509.load_der_x509_certificate(certificate_der)
    spki = cert.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(spki).digest()


class TlsPins:
    """The attested TLS key pin shared by a transport and its SSL contexts (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pin: bytes | None = _UNSET
        self.generation = 0

    def __repr__(self) -> str:
        pin = self._pin
        shown = "unset" if pin is _UNSET else "none" if pin is None else pin.hex()[:16] + "…"
        return f"<TlsPins {shown} generation={self.generation}>"

    @property
    def known(self) -> bool:
        """True once an attestation said which key (or none) to expect."""
        return self._pin is not _UNSET

    @property
    def pin(self) -> bytes | None:
        """The pinned SPKI hash, or None when the identity binds no TLS key.

        Raises:
            TlsPinMismatchError: no attestation has set the pin yet.
        """
        pin = self._pin
        if pin is _UNSET:
            raise TlsPinMismatchError(
                "no attested TLS key yet: refusing the connection", field="tls_spki_sha256"
            )
        return pin

    def set(self, pin: bytes | None) -> bool:
        """Pin ``pin`` (None: no TLS key bound); return True when it changed."""
        if pin is not None and len(pin) != 32:
            raise ValueError("a TLS SPKI pin is a 32-byte SHA-256")
        with self._lock:
            if self._pin is not _UNSET and self._pin == pin:
                return False
            self._pin = None if pin is None else bytes(pin)
            self.generation += 1
            return True

    def check(self, certificate_der: bytes | None) -> None:
        """Check the server's leaf certificate against the pin.

        Raises:
            TlsPinMismatchError: no pin known yet, no certificate, or another key.
        """
        expected = self.pin
        if expected is None:
            return
        if certificate_der is None:
            raise TlsPinMismatchError(
                "the TLS server presented no certificate", field="tls_spki_sha256"
            )
        try:
            actual = spki_sha256(certificate_der)
        except ValueError as exc:
            raise TlsPinMismatchError(
                "the TLS server certificate cannot be parsed", field="tls_spki_sha256"
            ) from exc
        if not hmac.compare_digest(actual, expected):
            raise TlsPinMismatchError(
                "the TLS server key is not the attested key",
                field="tls_spki_sha256",
                expected=expected.hex(),
                actual=actual.hex(),
            )

    def ssl_context(self, verify: ssl.SSLContext | str | bool = True) -> ssl.SSLContext:
        """A new SSL context that also enforces this pin during every handshake.

        ``verify``: True (the certifi roots, as httpx), a CA bundle path, False (no WebPKI
        check: the pin alone authenticates the server), or a context whose CA certificates,
        host-name and verify-mode settings are copied (the given context is not modified).
        """
        context = tls_context(verify)
        context.sslsocket_class = _PinnedSSLSocket
        context.sslobject_class = _PinnedSSLObject
        context.teeclient_pins = self  # type: ignore[attr-defined]
        return context


def tls_context(verify: ssl.SSLContext | str | bool = True) -> ssl.SSLContext:
    """A fresh client SSL context for ``verify`` (see ``TlsPins.ssl_context``)."""
    if isinstance(verify, ssl.SSLContext):
        context = ssl.create_default_context()
        cadata = verify.get_ca_certs(binary_form=True)
        if cadata:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            for der in cadata:
                context.load_verify_locations(cadata=der)
        context.check_hostname = verify.check_hostname
        context.verify_mode = verify.verify_mode
        context.minimum_version = verify.minimum_version
        return context
    if isinstance(verify, str):
        return ssl.create_default_context(cafile=verify)
    import httpx

    return httpx.create_ssl_context(verify=verify)


def _pins_of(context: ssl.SSLContext) -> TlsPins:
    pins = getattr(context, "teeclient_pins", None)
    if not isinstance(pins, TlsPins):  # pragma: no cover - only our contexts use these classes
        raise TlsPinMismatchError("SSL context without teeclient pins", field="tls_spki_sha256")
    return pins


class _PinnedSSLSocket(ssl.SSLSocket):
    """``SSLSocket`` that checks the pin right after the handshake (httpx sync transport)."""

    def do_handshake(self, block: bool = False) -> None:
        super().do_handshake(block)
        try:
            _pins_of(self.context).check(self.getpeercert(binary_form=True))
        except TlsPinMismatchError:
            self.close()
            raise


class _PinnedSSLObject(ssl.SSLObject):
    """``SSLObject`` that checks the pin right after the handshake (anyio, TLS in TLS)."""

    def do_handshake(self) -> None:
        super().do_handshake()
        _pins_of(self.context).check(self.getpeercert(binary_form=True))
