"""CollateralItem (bytes exactly as obtained, with source and headers) and CollateralSet.

Items are recognised by content, not by file name: PEM blocks (certificates, CRLs), DER
certificates or CRLs, and JSON documents. Parsed views are computed on demand and never
replace the raw bytes, which stay available for bundles and re-verification.
"""

from __future__ import annotations

import enum
import hashlib
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import MappingProxyType

from cryptography import x509
from cryptography.x509 import ocsp

from teeclient._x509 import MALFORMED, crl_parsed, load_certificate, load_certificates
from teeclient.errors import InputError, MalformedCertificateError, ParseError

__all__ = ["CollateralItem", "CollateralRequest", "CollateralSet", "ItemKind", "classify"]

MAX_ITEM_BYTES = 16 * 1024 * 1024
_PEM_CRL = re.compile(rb"-----BEGIN X509 CRL-----\r?\n.+?\r?\n-----END X509 CRL-----", re.DOTALL)


class ItemKind(enum.StrEnum):
    """What a collateral item holds, recognised from its bytes."""

    CERTIFICATES = "certificates"
    CRL = "crl"
    PEM_BUNDLE = "pem-bundle"
    JSON = "json"
    OCSP = "ocsp-response"
    XML = "xml"
    UNKNOWN = "unknown"


def classify(data: bytes) -> ItemKind:
    """Recognise an item's kind from its content."""
    head = data.lstrip()[:64]
    has_cert = b"-----BEGIN CERTIFICATE-----" in data
    has_crl = b"-----BEGIN X509 CRL-----" in data
    if has_cert and has_crl:
        return ItemKind.PEM_BUNDLE
    if has_cert:
        return ItemKind.CERTIFICATES
    if has_crl:
        return ItemKind.CRL
    if head.startswith((b"{", b"[")):
        return ItemKind.JSON
    if head.startswith(b"<"):
        return ItemKind.XML
    if data[:1] == b"\x30":
        try:
            load_certificate(data, role="collateral", platform="collateral")
        except ParseError:
            pass
        else:
            return ItemKind.CERTIFICATES
        try:
            crl_parsed(x509.load_der_x509_crl(data))
        except MALFORMED:
            pass
        else:
            return ItemKind.CRL
        try:
            ocsp.load_der_ocsp_response(data)
        except ValueError:
            return ItemKind.UNKNOWN
        return ItemKind.OCSP
    return ItemKind.UNKNOWN


@dataclass(frozen=True, slots=True, kw_only=True)
class CollateralRequest:
    """One collateral item a verification needs: where to get it and what it is for.

    Requests are planned from evidence by pure functions (``platforms.<p>.collateral``) and
    fetched by a ``Fetcher``; ``key`` identifies the response in caches and bundles.
    ``required`` items make verification fail when unobtainable; ``absent_ok`` relaxes that
    for items that simply do not exist or are not at hand offline (HTTP 404, nothing in the
    bundle or cache): they are listed as unavailable and the platform verifier reports what
    their absence means, while outages (timeouts, 429/5xx) still fail. ``allow_network=False``
    items are taken only from a bundle or the cache (never fetched).
    """

    url: str
    purpose: str
    method: str = "GET"
    body: bytes | None = None
    media_type: str | None = None
    required: bool = True
    absent_ok: bool = False
    allow_network: bool = True
    headers: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def key(self) -> str:
        """SHA-256 over method, URL and body: the identity of the response."""
        digest = hashlib.sha256()
        digest.update(self.method.upper().encode() + b"\0" + self.url.encode() + b"\0")
        digest.update(self.body or b"")
        return digest.hexdigest()


@dataclass(frozen=True, slots=True, kw_only=True)
class CollateralItem:
    """One piece of collateral exactly as obtained: bytes, where from, and response headers.

    ``source`` is the URL or file path; ``origin`` says how this copy was obtained:
    ``supplied`` (by the caller), ``bundle``, ``network``, ``cache`` or ``cache-stale``
    (past its validity, used because the service was unreachable, within the policy's grace).
    """

    data: bytes
    source: str
    media_type: str | None = None
    headers: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    fetched_at: datetime | None = None
    method: str = "GET"
    request_body: bytes | None = None
    origin: str = "supplied"
    _parsed: dict[str, object] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.data) > MAX_ITEM_BYTES:
            raise ValueError(f"collateral item {self.source} exceeds {MAX_ITEM_BYTES} bytes")

    @classmethod
    def from_file(cls, path: str | Path) -> CollateralItem:
        """Read a collateral file from disk.

        Raises:
            InputError: unreadable, empty or larger than 16 MiB.
        """
        p = Path(path)
        try:
            size = p.stat().st_size
            if size > MAX_ITEM_BYTES:
                raise InputError(
                    "collateral file too large",
                    field=str(p),
                    expected=f"<= {MAX_ITEM_BYTES} bytes",
                    actual=f"{size} bytes",
                )
            data = p.read_bytes()
        except OSError as exc:
            raise InputError(f"cannot read collateral file: {exc.strerror}", field=str(p)) from exc
        if not data:
            raise InputError("collateral file is empty", field=str(p))
        return cls(data=data, source=str(p))

    @property
    def kind(self) -> ItemKind:
        """The item's kind, recognised from its content (computed once)."""
        kind = self._parsed.get("kind")
        if not isinstance(kind, ItemKind):
            kind = classify(self.data)
            self._parsed["kind"] = kind
        return kind

    def certificates(self) -> list[x509.Certificate]:
        """Every certificate in the item (PEM or DER), parsed once; empty for CRLs and JSON.

        Raises:
            MalformedCertificateError: a certificate block is malformed, or the item is
                neither a certificate, a CRL nor JSON (corrupt collateral is never ignored).
        """
        cached = self._parsed.get("certificates")
        if isinstance(cached, list):
            return list(cached)
        kind = self.kind
        if kind is ItemKind.UNKNOWN:
            raise MalformedCertificateError(
                "collateral item is not a parseable certificate, CRL or JSON document",
                platform="collateral",
                field=self.source,
                actual=f"{len(self.data)} bytes starting {self.data[:8].hex()}",
            )
        certs: list[x509.Certificate] = []
        if kind in (ItemKind.CERTIFICATES, ItemKind.PEM_BUNDLE):
            try:
                certs = load_certificates(self.data, role=self.source, platform="collateral")
            except ParseError as exc:
                raise MalformedCertificateError(
                    exc.message, platform="collateral", field=self.source
                ) from exc
        self._parsed["certificates"] = certs
        return list(certs)

    def crls(self) -> list[x509.CertificateRevocationList]:
        """Every CRL in the item (PEM blocks or one DER CRL); empty for other kinds.

        Raises:
            ParseError: a CRL is malformed.
        """
        kind = self.kind
        try:
            if kind is ItemKind.CRL and self.data[:1] == b"\x30":
                return [crl_parsed(x509.load_der_x509_crl(self.data))]
            if kind in (ItemKind.CRL, ItemKind.PEM_BUNDLE):
                return [
                    crl_parsed(x509.load_pem_x509_crl(m.group(0)))
                    for m in _PEM_CRL.finditer(self.data)
                ]
        except MALFORMED as exc:
            raise ParseError(
                f"invalid CRL: {exc}", platform="collateral", field=self.source
            ) from exc
        return []


@dataclass(frozen=True, slots=True)
class CollateralSet:
    """An ordered, immutable collection of collateral items."""

    items: tuple[CollateralItem, ...] = ()

    @classmethod
    def of(cls, items: Iterable[CollateralItem]) -> CollateralSet:
        """Build a set from any iterable of items."""
        return cls(tuple(items))

    @classmethod
    def from_files(cls, paths: Iterable[str | Path]) -> CollateralSet:
        """Read every file in ``paths`` (see ``CollateralItem.from_file``)."""
        return cls(tuple(CollateralItem.from_file(p) for p in paths))

    def __iter__(self) -> Iterator[CollateralItem]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def certificates(self) -> list[tuple[x509.Certificate, str]]:
        """Every certificate with the source it came from, in order."""
        return [(cert, item.source) for item in self.items for cert in item.certificates()]

    def crls(self) -> list[tuple[x509.CertificateRevocationList, str]]:
        """Every CRL with the source it came from, in order."""
        return [(crl, item.source) for item in self.items for crl in item.crls()]
