"""Certificate chains checked by hand: issuer signatures, validity at `now`, CA flags, CRLs.

cryptography's PolicyBuilder rejects the vendor chains teeclient must verify (AMD VEKs and the
Nitro leaf lack an AKI, the Intel PCK leaf lacks a SAN), so path validation is explicit here
(specs/sev-snp.md §5.4). Every function raises a typed ChainError or ParseError.
"""

from __future__ import annotations

import hashlib
import threading
import warnings
from collections.abc import Hashable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.utils import CryptographyDeprecationWarning
from cryptography.x509.oid import NameOID

from teeclient._time import iso
from teeclient.errors import (
    ChainExpiredError,
    ChainExtensionError,
    ChainNotYetValidError,
    ChainRevokedError,
    ChainSignatureError,
    ChainUntrustedError,
    CollateralSignatureError,
    MalformedCertificateError,
    ParseError,
)

__all__ = [
    "ParseCache",
    "SignatureMemo",
    "check_validity",
    "common_name",
    "fingerprint",
    "load_certificate",
    "load_certificates",
    "require_ca",
    "verify_issued_by",
]

_MAX_CERT_BYTES = 64 * 1024
_MAX_PEM_BYTES = 4 * 1024 * 1024
_SERIAL_WARNING = r".*serial number which wasn't positive.*"


def load_certificate(data: bytes, *, role: str, platform: str) -> x509.Certificate:
    """Parse one DER certificate (a serial-0 AMD VEK is accepted; sev-snp.md §5.4).

    Raises:
        MalformedCertificateError: not a DER X.509 certificate (a ParseError and a ChainError).
        ParseError: larger than 64 KiB.
    """
    if len(data) > _MAX_CERT_BYTES:
        raise ParseError(
            "certificate too large", platform=platform, field=role, actual=f"{len(data)} bytes"
        )
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings(
                "ignore", message=_SERIAL_WARNING, category=CryptographyDeprecationWarning
            )
            return _names_parsed(x509.load_der_x509_certificate(data))
    except MALFORMED as exc:
        raise MalformedCertificateError(
            f"not a DER X.509 certificate: {exc}", platform=platform, field=role
        ) from exc


#: What cryptography raises for malformed certificate DER: ValueError, InvalidVersion, and
#: TypeError when a name attribute has a type its OID does not allow (a BIT STRING value
#: under any OID but x500UniqueIdentifier; found by fuzzing, tools/fuzz).
MALFORMED: tuple[type[Exception], ...] = (ValueError, TypeError, x509.InvalidVersion)


def crl_parsed(crl: x509.CertificateRevocationList) -> x509.CertificateRevocationList:
    """Return ``crl`` after decoding its issuer name and extensions (lazily decoded otherwise).

    Raises:
        ValueError, TypeError: malformed content (callers convert ``MALFORMED``).
    """
    crl.issuer  # noqa: B018
    crl.extensions  # noqa: B018
    return crl


def names_parsed(cert: x509.Certificate) -> x509.Certificate:
    """Return ``cert`` after decoding its names (see ``_names_parsed``).

    Raises:
        ValueError, TypeError: a malformed name (callers convert ``MALFORMED``).
    """
    return _names_parsed(cert)


def _names_parsed(cert: x509.Certificate) -> x509.Certificate:
    """Return ``cert`` after decoding its names (cryptography decodes them lazily, so a
    malformed name would otherwise raise ValueError later, far from the loader)."""
    cert.issuer  # noqa: B018
    cert.subject  # noqa: B018
    return cert


def load_certificates(data: bytes, *, role: str, platform: str) -> list[x509.Certificate]:
    """Parse PEM (one or more CERTIFICATE blocks) or a single DER certificate.

    Raises:
        ParseError: no certificate could be parsed.
    """
    if len(data) > _MAX_PEM_BYTES:
        raise ParseError("certificate file too large", platform=platform, field=role)
    if b"-----BEGIN CERTIFICATE-----" in data:
        try:
            with warnings.catch_warnings():
                warnings.filterwarnings(
                    "ignore", message=_SERIAL_WARNING, category=CryptographyDeprecationWarning
                )
                return [_names_parsed(c) for c in x509.load_pem_x509_certificates(data)]
        except MALFORMED as exc:
            raise MalformedCertificateError(
                f"invalid PEM certificate: {exc}", platform=platform, field=role
            ) from exc
    return [load_certificate(data, role=role, platform=platform)]


def fingerprint(cert: x509.Certificate) -> str:
    """SHA-256 of the certificate's DER encoding, lowercase hex."""
    return hashlib.sha256(der(cert)).hexdigest()


def der(cert: x509.Certificate) -> bytes:
    """The certificate's DER encoding (as parsed; cryptography keeps the original bytes)."""
    return cert.public_bytes(_der_encoding())


def _der_encoding() -> Any:
    """``Encoding.DER`` without importing ``cryptography...serialization`` (which loads the SSH
    and cipher modules, ~10 ms of start-up): cryptography.x509 already loaded the enum."""
    try:
        from cryptography.hazmat.primitives._serialization import Encoding
    except ImportError:  # pragma: no cover - a future cryptography that moved it
        from cryptography.hazmat.primitives.serialization import Encoding
    return Encoding.DER


def common_name(name: x509.Name) -> str | None:
    """The first commonName attribute of ``name`` as text, or None."""
    attrs = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    if not attrs:
        return None
    value = attrs[0].value
    return value if isinstance(value, str) else value.decode("utf-8", "replace")


def check_validity(cert: x509.Certificate, now: datetime, *, role: str, platform: str) -> None:
    """Require notBefore <= now <= notAfter.

    Raises:
        ChainNotYetValidError: ``now`` is before notBefore.
        ChainExpiredError: ``now`` is after notAfter.
    """
    not_before = cert.not_valid_before_utc
    not_after = cert.not_valid_after_utc
    if now < not_before:
        raise ChainNotYetValidError(
            f"{role} certificate is not yet valid",
            platform=platform,
            field=f"{role}.notBefore",
            expected=f"notBefore <= {iso(now)}",
            actual=iso(not_before),
        )
    if now > not_after:
        raise ChainExpiredError(
            f"{role} certificate has expired",
            platform=platform,
            field=f"{role}.notAfter",
            expected=f"notAfter >= {iso(now)}",
            actual=iso(not_after),
        )


@dataclass(slots=True, eq=False)
class SignatureMemo:
    """Results of content-only checks, keyed by content hashes (never by names).

    ``contains``/``add`` remember successful certificate signature verifications keyed by
    (child DER SHA-256, issuer DER SHA-256); ``get``/``put`` hold other pure functions of
    certificate bytes (decoded extensions, structural checks). Only successes are stored, so
    a different certificate can never hit the cache, and validity at ``now`` is always
    re-checked by the caller. Bounded: cleared when full.
    """

    _verified: set[tuple[bytes, bytes]] = field(default_factory=set)
    _values: dict[tuple[str, Hashable], object] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    max_entries: int = 4096

    def contains(self, key: tuple[bytes, bytes]) -> bool:
        """True if this exact (child, issuer) pair verified before."""
        return key in self._verified

    def add(self, key: tuple[bytes, bytes]) -> None:
        """Remember a successful verification (bounded; cleared when full)."""
        with self._lock:
            if len(self._verified) >= self.max_entries:
                self._verified.clear()
            self._verified.add(key)

    def get(self, kind: str, digest: Hashable) -> object | None:
        """A remembered value for (kind, content key), or None.

        The key is a digest of content, or objects that hash and compare by content (x509
        certificates do: by their DER), never a name.
        """
        return self._values.get((kind, digest))

    def put(self, kind: str, digest: Hashable, value: object) -> None:
        """Remember ``value`` for (kind, content key)."""
        with self._lock:
            if len(self._values) >= self.max_entries:
                self._values.clear()
            self._values[(kind, digest)] = value


@dataclass(slots=True, eq=False)
class ParseCache:
    """Values derived deterministically from exact bytes (parsed collateral), by content hash.

    Keys are SHA-256 digests of the bytes a value was derived from (with a domain prefix), so a
    hit returns exactly what parsing those bytes again would return. Nothing that depends on
    the verification time, or on a signature check, is stored here. Bounded; cleared when full.
    """

    _values: dict[bytes, object] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    max_entries: int = 512

    def get(self, key: bytes) -> object | None:
        """The value stored under ``key``, or None."""
        return self._values.get(key)

    def put(self, key: bytes, value: object) -> None:
        """Store ``value`` under ``key``."""
        with self._lock:
            if len(self._values) >= self.max_entries:
                self._values.clear()
            self._values[key] = value


def verify_issued_by(
    child: x509.Certificate,
    issuer: x509.Certificate,
    *,
    role: str,
    platform: str,
    memo: SignatureMemo | None = None,
    digests: tuple[bytes, bytes] | None = None,
) -> None:
    """Require ``child`` to name ``issuer`` as issuer and carry a valid signature by its key.

    ``digests`` (child, issuer DER SHA-256) may be passed when the caller has them already.

    Raises:
        ChainUntrustedError: the issuer name does not match.
        ChainSignatureError: the signature does not verify, is not DER (unused bits in its BIT
            STRING), or uses an unsupported algorithm.
    """
    key: tuple[bytes, bytes] | None = None
    if memo is not None:
        key = digests or (
            hashlib.sha256(der(child)).digest(),
            hashlib.sha256(der(issuer)).digest(),
        )
        if memo.contains(key):
            return
    if child.issuer.public_bytes() != issuer.subject.public_bytes():
        raise ChainUntrustedError(
            f"{role} certificate is not issued by the expected certificate",
            platform=platform,
            field=f"{role}.issuer",
            expected=issuer.subject.rfc4514_string(),
            actual=child.issuer.rfc4514_string(),
        )
    encoded = der(child)
    if encoded[-len(child.signature) - 1] != 0:
        # DER: the signatureValue BIT STRING has no unused bits. cryptography ignores the
        # count, so without this check a changed, unsigned byte would still verify.
        raise ChainSignatureError(
            f"{role} certificate signature BIT STRING declares unused bits",
            platform=platform,
            field=f"{role}.signature",
            expected="0 unused bits",
            actual=f"{encoded[-len(child.signature) - 1]} unused bits",
        )
    try:
        child.verify_directly_issued_by(issuer)
    except InvalidSignature as exc:
        raise ChainSignatureError(
            f"{role} certificate signature does not verify under its issuer's key",
            platform=platform,
            field=f"{role}.signature",
            expected=f"signed by {common_name(issuer.subject)}",
        ) from exc
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise ChainSignatureError(
            f"{role} certificate signature cannot be checked: {exc}",
            platform=platform,
            field=f"{role}.signature",
        ) from exc
    if memo is not None and key is not None:
        memo.add(key)


def require_ca(
    cert: x509.Certificate, *, role: str, platform: str, path_length: int | None = None
) -> None:
    """Require BasicConstraints CA=true (critical) and KeyUsage keyCertSign.

    ``path_length`` (when given) must equal the certificate's pathLenConstraint.

    Raises:
        ChainExtensionError: a constraint is missing or wrong.
    """
    try:
        bc = cert.extensions.get_extension_for_class(x509.BasicConstraints)
    except x509.ExtensionNotFound as exc:
        raise ChainExtensionError(
            f"{role} certificate has no BasicConstraints",
            platform=platform,
            field=f"{role}.basicConstraints",
            expected="CA=true",
            actual="absent",
        ) from exc
    if not bc.value.ca:
        raise ChainExtensionError(
            f"{role} certificate is not a CA",
            platform=platform,
            field=f"{role}.basicConstraints",
            expected="CA=true",
            actual="CA=false",
        )
    if path_length is not None and bc.value.path_length != path_length:
        raise ChainExtensionError(
            f"{role} certificate has the wrong path length constraint",
            platform=platform,
            field=f"{role}.basicConstraints.pathLen",
            expected=path_length,
            actual=str(bc.value.path_length),
        )
    try:
        ku = cert.extensions.get_extension_for_class(x509.KeyUsage)
    except x509.ExtensionNotFound as exc:
        raise ChainExtensionError(
            f"{role} certificate has no KeyUsage",
            platform=platform,
            field=f"{role}.keyUsage",
            expected="keyCertSign",
            actual="absent",
        ) from exc
    if not ku.value.key_cert_sign:
        raise ChainExtensionError(
            f"{role} certificate may not sign certificates",
            platform=platform,
            field=f"{role}.keyUsage",
            expected="keyCertSign",
            actual="keyCertSign not set",
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class CrlStatus:
    """What a verified CRL says about one certificate."""

    issuer: str
    this_update: datetime
    next_update: datetime | None
    sha256: str
    revoked_serials: int


def require_der_crl_signature(
    crl: x509.CertificateRevocationList, *, role: str, platform: str
) -> None:
    """Require the CRL's signatureValue BIT STRING to declare no unused bits (DER).

    cryptography ignores the count (as for certificates, see ``verify_issued_by``), so a
    CRL with that octet changed would verify although its bytes are not the signed ones.

    Raises:
        CollateralSignatureError: unused bits declared.
    """
    from cryptography.hazmat.primitives.serialization import Encoding

    encoded = crl.public_bytes(Encoding.DER)
    unused = encoded[-len(crl.signature) - 1]
    if unused != 0:
        raise CollateralSignatureError(
            f"{role} signature BIT STRING declares unused bits",
            platform=platform,
            field=f"{role}.signature",
            expected="0 unused bits",
            actual=f"{unused} unused bits",
        )


def verify_crl(
    crl: x509.CertificateRevocationList,
    issuer: x509.Certificate,
    *,
    role: str,
    platform: str,
) -> CrlStatus:
    """Require the CRL to be issued and signed by ``issuer``; return its metadata.

    Validity windows are judged by the caller (policy decides how stale is acceptable).

    Raises:
        CollateralSignatureError: wrong issuer name or invalid signature.
    """
    if crl.issuer != issuer.subject:
        raise CollateralSignatureError(
            f"{role} is not issued by the expected CA",
            platform=platform,
            field=f"{role}.issuer",
            expected=issuer.subject.rfc4514_string(),
            actual=crl.issuer.rfc4514_string(),
        )
    require_der_crl_signature(crl, role=role, platform=platform)
    try:
        valid = crl.is_signature_valid(issuer.public_key())  # type: ignore[arg-type]
    except (TypeError, ValueError, UnsupportedAlgorithm) as exc:
        raise CollateralSignatureError(
            f"{role} signature cannot be checked: {exc}", platform=platform, field=role
        ) from exc
    if not valid:
        raise CollateralSignatureError(
            f"{role} signature does not verify under the issuer's key",
            platform=platform,
            field=f"{role}.signature",
            expected=f"signed by {common_name(issuer.subject)}",
        )
    return CrlStatus(
        issuer=issuer.subject.rfc4514_string(),
        this_update=crl.last_update_utc,
        next_update=crl.next_update_utc,
        sha256=hashlib.sha256(crl.public_bytes(_der_encoding())).hexdigest(),
        revoked_serials=len(crl),
    )


def require_not_revoked(
    crl: x509.CertificateRevocationList,
    cert: x509.Certificate,
    *,
    role: str,
    platform: str,
) -> None:
    """Require ``cert``'s serial number not to be listed in ``crl``.

    Raises:
        ChainRevokedError: the serial is listed.
    """
    entry = crl.get_revoked_certificate_by_serial_number(cert.serial_number)
    if entry is not None:
        raise ChainRevokedError(
            f"{role} certificate is revoked",
            platform=platform,
            field=f"{role}.serialNumber",
            expected="not listed in the CRL",
            actual=f"serial {cert.serial_number} revoked at {iso(entry.revocation_date_utc)}",
        )
