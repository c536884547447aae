"""EnclaveIdentity: what an accepted attestation pins (keys, measurements, expiry) — data only."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import TYPE_CHECKING

from teeclient._time import iso, require_aware

if TYPE_CHECKING:
    from teeclient.policy.result import Appraisal

__all__ = ["EnclaveIdentity"]


@dataclass(frozen=True, slots=True, kw_only=True)
class EnclaveIdentity:
    """An attested enclave: the keys the transport must pin, and until when.

    Built only by ``teeclient.attest`` after the evidence verified, its binding held and the
    policy accepted every component. ``ohttp_keys`` are the RFC 9458 key configurations
    (teeclient documents); ``hpke_public_key`` is a raw X25519 key (Tinfoil documents).
    """

    endpoint: str
    layout: str
    platform: str
    measurements: Mapping[str, str]
    devices: tuple[str, ...]
    verified_at: datetime
    expires_at: datetime
    document_sha256: str
    nonce: bytes | None = None
    ohttp_keys: bytes | None = None
    hpke_public_key: bytes | None = None
    tls_spki_sha256: bytes | None = None
    appraisal: Appraisal | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        require_aware(self.verified_at, name="verified_at")
        require_aware(self.expires_at, name="expires_at")
        if self.ohttp_keys is None and self.hpke_public_key is None:
            raise ValueError("an identity pins at least one encryption key")
        if self.tls_spki_sha256 is not None and len(self.tls_spki_sha256) != 32:
            raise ValueError("tls_spki_sha256 is 32 bytes")
        if self.hpke_public_key is not None and len(self.hpke_public_key) != 32:
            raise ValueError("hpke_public_key is a 32-byte X25519 key")
        object.__setattr__(self, "measurements", MappingProxyType(dict(self.measurements)))

    def expired(self, now: datetime) -> bool:
        """True once ``now`` is past the identity's expiry."""
        return require_aware(now) >= self.expires_at

    @property
    def key_fingerprint(self) -> str:
        """SHA-256 of the pinned encryption key material (key configurations or raw key)."""
        material = self.ohttp_keys if self.ohttp_keys is not None else self.hpke_public_key
        assert material is not None
        return hashlib.sha256(material).hexdigest()

    def to_dict(self) -> dict[str, object]:
        """JSON form (no secrets: identities hold public keys only)."""
        return {
            "endpoint": self.endpoint,
            "layout": self.layout,
            "platform": self.platform,
            "measurements": dict(self.measurements),
            "devices": list(self.devices),
            "verified_at": iso(self.verified_at),
            "expires_at": iso(self.expires_at),
            "document_sha256": self.document_sha256,
            "nonce": self.nonce.hex() if self.nonce is not None else None,
            "ohttp_keys_sha256": hashlib.sha256(self.ohttp_keys).hexdigest()
            if self.ohttp_keys is not None
            else None,
            "hpke_public_key": self.hpke_public_key.hex() if self.hpke_public_key else None,
            "tls_spki_sha256": self.tls_spki_sha256.hex() if self.tls_spki_sha256 else None,
        }
