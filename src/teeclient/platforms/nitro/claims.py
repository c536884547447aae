"""NitroClaims: the verified content of an AWS Nitro attestation document, the only thing policy
reads."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import ClassVar

from cryptography import x509

from teeclient._time import iso

__all__ = ["NitroCertInfo", "NitroClaims"]

_HEX = re.compile(r"[0-9a-f]*")
_ZERO_PCR = "0" * 96
_MAX_OPTIONAL_HEX = 2 * 1024


def _iso_ms(value: datetime) -> str:
    """RFC 3339 with millisecond precision (document timestamps are milliseconds)."""
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True, slots=True, kw_only=True)
class NitroCertInfo:
    """One certificate of the verified chain (leaf or CA bundle entry), with its exact DER.

    Names and the serial number are decoded from ``der`` on access, so building claims on
    the verification path does not pay for rendering X.509 names nobody reads.
    """

    role: str
    der: bytes
    sha256: str
    not_before: datetime
    not_after: datetime

    def __post_init__(self) -> None:
        if len(self.sha256) != 64 or not _HEX.fullmatch(self.sha256):
            raise ValueError("sha256 must be a SHA-256 in lowercase hex")

    def certificate(self) -> x509.Certificate:
        """The parsed certificate."""
        return x509.load_der_x509_certificate(self.der)

    @property
    def subject(self) -> str:
        """Subject name, RFC 4514."""
        return self.certificate().subject.rfc4514_string()

    @property
    def issuer(self) -> str:
        """Issuer name, RFC 4514."""
        return self.certificate().issuer.rfc4514_string()

    @property
    def serial(self) -> str:
        """Serial number, lowercase hex."""
        return f"{self.certificate().serial_number:x}"

    def to_dict(self) -> dict[str, object]:
        """JSON form."""
        cert = self.certificate()
        return {
            "role": self.role,
            "subject": cert.subject.rfc4514_string(),
            "issuer": cert.issuer.rfc4514_string(),
            "serial": f"{cert.serial_number:x}",
            "not_before": iso(self.not_before),
            "not_after": iso(self.not_after),
            "sha256": self.sha256,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class NitroClaims:
    """Every field of a verified Nitro attestation document; binary values as lowercase hex.

    Only ``teeclient.platforms.nitro.verify`` (and ``teeclient.testing``) build these: holding
    one means the COSE_Sign1 ES384 signature verified with the leaf certificate's key, and the
    leaf chained through the document's CA bundle to a pinned AWS Nitro root at the
    verification time (specs/nitro.md §6 steps 1–6).
    """

    kind: ClassVar[str] = "nitro"

    module_id: str
    digest: str
    timestamp_ms: int
    pcrs: tuple[tuple[int, str], ...]
    public_key: str | None
    user_data: str | None
    nonce: str | None
    nonce_verified: bool
    partition: str
    region: str | None
    certificate: NitroCertInfo
    chain: tuple[NitroCertInfo, ...]
    cose_tagged: bool
    null_fields: tuple[str, ...] = ()
    unknown_fields: tuple[str, ...] = ()
    document_sha256: str
    payload_sha256: str

    def __post_init__(self) -> None:
        if not self.module_id:
            raise ValueError("module_id must not be empty")
        indexes = [i for i, _ in self.pcrs]
        if not self.pcrs or indexes != sorted(set(indexes)):
            raise ValueError("pcrs must be non-empty, sorted by index and unique")
        for index, value in self.pcrs:
            if not 0 <= index < 32 or len(value) != 96 or not _HEX.fullmatch(value):
                raise ValueError(f"PCR{index} must be 48 bytes of lowercase hex, index 0..31")
        for name in ("public_key", "user_data", "nonce"):
            value = getattr(self, name)
            if value is not None and (
                len(value) % 2 or len(value) > _MAX_OPTIONAL_HEX or not _HEX.fullmatch(value)
            ):
                raise ValueError(f"{name} must be at most 1024 bytes of lowercase hex")
        if self.nonce_verified and self.nonce is None:
            raise ValueError("nonce_verified requires a nonce")
        for name in ("document_sha256", "payload_sha256"):
            value = getattr(self, name)
            if len(value) != 64 or not _HEX.fullmatch(value):
                raise ValueError(f"{name} must be a SHA-256 in lowercase hex")

    @property
    def timestamp(self) -> datetime:
        """The document's timestamp as aware UTC (millisecond precision)."""
        return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=self.timestamp_ms)

    def pcr(self, index: int) -> str | None:
        """PCR ``index`` as lowercase hex, or None when the document does not carry it."""
        return next((v for i, v in self.pcrs if i == index), None)

    @property
    def debug(self) -> bool:
        """True when PCR0, PCR1 and PCR2 are all zero (``--debug-mode``; absent counts as zero)."""
        return all((self.pcr(i) or _ZERO_PCR) == _ZERO_PCR for i in (0, 1, 2))

    @property
    def instance_id(self) -> str | None:
        """The parent EC2 instance id from ``module_id`` (``i-…-enc…``), if it has that shape."""
        match = re.fullmatch(r"(i-[0-9a-f]+)-enc[0-9a-f]+", self.module_id)
        return match.group(1) if match else None

    @property
    def valid_until(self) -> datetime:
        """The earliest notAfter of the chain: the document verifies until then at most."""
        return min(c.not_after for c in self.chain)

    def summary(self) -> list[str]:
        """Human-readable lines for the CLI."""
        mode = "DEBUG MODE (PCR0-2 all zero)" if self.debug else "production (PCR0-2 set)"
        sizes = ", ".join(
            f"{name} {len(value) // 2} bytes" if value is not None else f"{name} absent"
            for name, value in (
                ("nonce", self.nonce),
                ("user_data", self.user_data),
                ("public_key", self.public_key),
            )
        )
        lines = [
            f"AWS Nitro Enclave {self.module_id}, region {self.region or 'unknown'}, "
            f"partition {self.partition}; {mode}",
            f"document {_iso_ms(self.timestamp)}; chain valid until {iso(self.valid_until)}; "
            f"{sizes}" + ("; nonce matches the challenge" if self.nonce_verified else ""),
        ]
        for index in (0, 1, 2, 8):
            value = self.pcr(index)
            if value is not None and (index < 3 or value != _ZERO_PCR):
                lines.append(f"PCR{index} {value}")
        return lines

    def to_dict(self) -> dict[str, object]:
        """JSON form (the ``claims`` member of ``--json`` output); ``pcrs`` is keyed by index."""
        return {
            "module_id": self.module_id,
            "instance_id": self.instance_id,
            "region": self.region,
            "partition": self.partition,
            "digest": self.digest,
            "timestamp": _iso_ms(self.timestamp),
            "timestamp_ms": self.timestamp_ms,
            "debug": self.debug,
            "pcrs": {str(i): v for i, v in self.pcrs},
            "public_key": self.public_key,
            "user_data": self.user_data,
            "nonce": self.nonce,
            "nonce_verified": self.nonce_verified,
            "certificate": self.certificate.to_dict(),
            "chain": [c.to_dict() for c in self.chain],
            "valid_until": iso(self.valid_until),
            "cose_tagged": self.cose_tagged,
            "null_fields": list(self.null_fields),
            "unknown_fields": list(self.unknown_fields),
            "document_sha256": self.document_sha256,
            "payload_sha256": self.payload_sha256,
        }
