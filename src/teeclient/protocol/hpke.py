"""RFC 9180 HPKE on cryptography primitives: key schedule, sequence-numbered seal/open, export.

``cryptography`` ships a single-shot HPKE (``cryptography.hazmat.primitives.hpke.Suite``):
one ``encrypt``/``decrypt`` per key encapsulation, no sequence numbers and no exporter.
Chunked OHTTP and EHBP need a long-lived context (many ``Seal`` calls with increasing
sequence numbers, plus ``Export``), so this module builds the RFC 9180 key schedule itself
and uses ``cryptography`` only for the primitives: X25519, ML-KEM-768, HMAC/HKDF-SHA256,
SHA3-256/SHAKE256, AES-GCM and ChaCha20-Poly1305.

Supported algorithms (RFC 9180 §7 identifiers):

* KEM ``0x0020`` DHKEM(X25519, HKDF-SHA256), RFC 9180 §4.1; all four modes.
* KEM ``0x647a`` MLKEM768-X25519, the post-quantum/traditional hybrid that
  draft-ietf-hpke-pq registers for HPKE. draft-irtf-cfrg-concrete-hybrid-kems defines it as
  identical to X-Wing: ``ss = SHA3-256(ss_M || ss_X || ct_X || pk_X || "\\.//^\\")``,
  ``enc = ct_M || ct_X`` (1120 bytes), ``pk = pk_M || pk_X`` (1216 bytes), and a 32-byte
  seed as private key, expanded with SHAKE256 to the ML-KEM seed and the X25519 scalar.
  Base and PSK modes only (the hybrid has no AuthEncap).
* KDF ``0x0001`` HKDF-SHA256.
* AEAD ``0x0001`` AES-128-GCM, ``0x0002`` AES-256-GCM, ``0x0003`` ChaCha20-Poly1305.

Errors: bytes from the wire that do not decode raise ``MalformedMessageError``; a failed
decapsulation or AEAD open raises ``DecryptError``; an exhausted sequence number raises
``SequenceOverflowError``; an unknown algorithm id raises ``UnsupportedSuiteError``.
Arguments a caller controls (lengths, modes) raise ``ValueError``.
"""

from __future__ import annotations

import hmac as _hmac
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import IntEnum

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as _crypto_hmac
from cryptography.hazmat.primitives.asymmetric import mlkem, x25519
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

from teeclient.errors import (
    DecryptError,
    MalformedMessageError,
    SequenceOverflowError,
    UnsupportedSuiteError,
)

__all__ = [
    "AeadId",
    "KdfId",
    "KemId",
    "Mode",
    "PrivateKey",
    "PublicKey",
    "RecipientContext",
    "SenderContext",
    "Suite",
    "decapsulate",
    "enc_length",
    "encapsulate",
    "hkdf_derive",
    "hkdf_expand",
    "hkdf_extract",
    "make_aead",
    "public_key_length",
    "setup_recipient",
    "setup_sender",
]

_VERSION = b"HPKE-v1"
_N_H = 32  # HKDF-SHA256 output length
_MAX_INPUT = 0xFFFF  # bound on info, psk, psk_id and exporter context (RFC 9180 §7.2.1)
_XWING_LABEL = b"\\.//^\\"  # 5c2e2f2f5e5c
_MLKEM768_CT = 1088
_MLKEM768_PK = 1184


class KemId(IntEnum):
    """HPKE KEM identifiers teeclient implements."""

    DHKEM_X25519_HKDF_SHA256 = 0x0020
    MLKEM768_X25519 = 0x647A


class KdfId(IntEnum):
    """HPKE KDF identifiers teeclient implements."""

    HKDF_SHA256 = 0x0001


class AeadId(IntEnum):
    """HPKE AEAD identifiers teeclient implements."""

    AES_128_GCM = 0x0001
    AES_256_GCM = 0x0002
    CHACHA20_POLY1305 = 0x0003


class Mode(IntEnum):
    """HPKE modes (RFC 9180 §5)."""

    BASE = 0x00
    PSK = 0x01
    AUTH = 0x02
    AUTH_PSK = 0x03


@dataclass(frozen=True, slots=True)
class _KemParams:
    n_secret: int
    n_enc: int
    n_pk: int
    n_sk: int
    auth: bool
    name: str


@dataclass(frozen=True, slots=True)
class _AeadParams:
    n_k: int
    n_n: int
    n_t: int
    name: str


_KEMS: dict[KemId, _KemParams] = {
    KemId.DHKEM_X25519_HKDF_SHA256: _KemParams(32, 32, 32, 32, True, "DHKEM(X25519, HKDF-SHA256)"),
    KemId.MLKEM768_X25519: _KemParams(32, 1120, 1216, 32, False, "MLKEM768-X25519"),
}
_AEADS: dict[AeadId, _AeadParams] = {
    AeadId.AES_128_GCM: _AeadParams(16, 12, 16, "AES-128-GCM"),
    AeadId.AES_256_GCM: _AeadParams(32, 12, 16, "AES-256-GCM"),
    AeadId.CHACHA20_POLY1305: _AeadParams(32, 12, 16, "ChaCha20-Poly1305"),
}


def public_key_length(kem: KemId) -> int:
    """Npk: the length of a serialized public key for ``kem``."""
    return _KEMS[kem].n_pk


def enc_length(kem: KemId) -> int:
    """Nenc: the length of an encapsulated key for ``kem``."""
    return _KEMS[kem].n_enc


def _kem_id(value: int) -> KemId:
    try:
        return KemId(value)
    except ValueError:
        raise UnsupportedSuiteError(
            "unsupported HPKE KEM", field="kem_id", actual=f"{value:#06x}"
        ) from None


def _kdf_id(value: int) -> KdfId:
    try:
        return KdfId(value)
    except ValueError:
        raise UnsupportedSuiteError(
            "unsupported HPKE KDF", field="kdf_id", actual=f"{value:#06x}"
        ) from None


def _aead_id(value: int) -> AeadId:
    try:
        return AeadId(value)
    except ValueError:
        raise UnsupportedSuiteError(
            "unsupported HPKE AEAD", field="aead_id", actual=f"{value:#06x}"
        ) from None


@dataclass(frozen=True, slots=True, kw_only=True)
class Suite:
    """An HPKE cipher suite: KEM, KDF and AEAD (RFC 9180 §5.1 ``suite_id``)."""

    kem: KemId
    kdf: KdfId
    aead: AeadId
    # per-suite constants, computed once (the key schedule runs on every request)
    _suite_id: bytes = field(init=False, repr=False, compare=False)
    _labels: bytes = field(init=False, repr=False, compare=False)  # "HPKE-v1" || suite_id
    _n_k: int = field(init=False, repr=False, compare=False)
    _n_n: int = field(init=False, repr=False, compare=False)
    _psk_id_hash: bytes = field(init=False, repr=False, compare=False)  # of the empty psk_id

    def __post_init__(self) -> None:
        suite_id = (
            b"HPKE"
            + self.kem.to_bytes(2, "big")
            + self.kdf.to_bytes(2, "big")
            + self.aead.to_bytes(2, "big")
        )
        aead = _AEADS[self.aead]
        object.__setattr__(self, "_suite_id", suite_id)
        object.__setattr__(self, "_labels", _VERSION + suite_id)
        object.__setattr__(self, "_n_k", aead.n_k)
        object.__setattr__(self, "_n_n", aead.n_n)
        object.__setattr__(
            self, "_psk_id_hash", _labeled_extract(suite_id, b"", b"psk_id_hash", b"")
        )

    @classmethod
    def from_ids(cls, kem_id: int, kdf_id: int, aead_id: int) -> Suite:
        """The suite for three wire identifiers.

        Raises:
            UnsupportedSuiteError: an identifier teeclient does not implement.
        """
        return cls(kem=_kem_id(kem_id), kdf=_kdf_id(kdf_id), aead=_aead_id(aead_id))

    @property
    def n_enc(self) -> int:
        """Length of the encapsulated key ``enc``."""
        return _KEMS[self.kem].n_enc

    @property
    def n_pk(self) -> int:
        """Length of a serialized public key."""
        return _KEMS[self.kem].n_pk

    @property
    def n_k(self) -> int:
        """AEAD key length."""
        return self._n_k

    @property
    def n_n(self) -> int:
        """AEAD nonce length."""
        return self._n_n

    @property
    def n_t(self) -> int:
        """AEAD tag length (ciphertext expansion)."""
        return _AEADS[self.aead].n_t

    @property
    def n_h(self) -> int:
        """KDF output length."""
        return _N_H

    @property
    def suite_id(self) -> bytes:
        """``"HPKE" || I2OSP(kem_id, 2) || I2OSP(kdf_id, 2) || I2OSP(aead_id, 2)``."""
        return self._suite_id

    @property
    def post_quantum(self) -> bool:
        """True when the KEM resists a quantum attacker (the ML-KEM hybrid)."""
        return self.kem is KemId.MLKEM768_X25519

    def __str__(self) -> str:
        return f"{_KEMS[self.kem].name}/HKDF-SHA256/{_AEADS[self.aead].name}"


# --- KDF -------------------------------------------------------------------------------------
#
# HKDF is written out over cryptography's HMAC-SHA256 (RFC 5869 is two lines of HMAC): one
# HMAC object per extract, and for the several expands of one PRK a keyed HMAC that is copied
# (``HMAC.copy``) instead of re-keyed, so a key schedule builds no KDF objects.

_SHA256 = hashes.SHA256()


def _mac(key: bytes, data: bytes) -> bytes:
    mac = _crypto_hmac.HMAC(key, _SHA256)
    mac.update(data)
    return mac.finalize()


def _expand(keyed: _crypto_hmac.HMAC, info: bytes, length: int) -> bytes:
    """HKDF-Expand with ``keyed`` = HMAC keyed with the PRK (left unused, so reusable)."""
    mac = keyed.copy()
    mac.update(info + b"\x01")
    block = mac.finalize()
    if length <= _N_H:
        return block[:length]
    out = [block]
    for counter in range(2, -(-length // _N_H) + 1):
        mac = keyed.copy()
        mac.update(block + info + bytes([counter]))
        block = mac.finalize()
        out.append(block)
    return b"".join(out)[:length]


def hkdf_extract(salt: bytes, ikm: bytes, *, kdf: KdfId = KdfId.HKDF_SHA256) -> bytes:
    """HKDF-Extract (RFC 5869 §2.2) with the suite's hash; an empty salt means Nh zero bytes."""
    if kdf is not KdfId.HKDF_SHA256:  # pragma: no cover - the enum has one member
        raise ValueError(f"unsupported KDF {kdf!r}")
    return _mac(salt, ikm)


def hkdf_expand(prk: bytes, info: bytes, length: int, *, kdf: KdfId = KdfId.HKDF_SHA256) -> bytes:
    """HKDF-Expand (RFC 5869 §2.3); ``length`` at most 255 * Nh."""
    if kdf is not KdfId.HKDF_SHA256:  # pragma: no cover - the enum has one member
        raise ValueError(f"unsupported KDF {kdf!r}")
    if not 0 < length <= 255 * _N_H:
        raise ValueError(f"HKDF-Expand length must be 1..{255 * _N_H}, not {length}")
    return _expand(_crypto_hmac.HMAC(prk, _SHA256), info, length)


def hkdf_derive(
    salt: bytes, ikm: bytes, outputs: Sequence[tuple[bytes, int]], *, kdf: KdfId = KdfId.HKDF_SHA256
) -> list[bytes]:
    """HKDF-Extract, then one HKDF-Expand per ``(info, length)`` of ``outputs`` from that PRK."""
    if kdf is not KdfId.HKDF_SHA256:  # pragma: no cover - the enum has one member
        raise ValueError(f"unsupported KDF {kdf!r}")
    keyed = _crypto_hmac.HMAC(_mac(salt, ikm), _SHA256)
    out = []
    for info, length in outputs:
        if not 0 < length <= 255 * _N_H:
            raise ValueError(f"HKDF-Expand length must be 1..{255 * _N_H}, not {length}")
        out.append(_expand(keyed, info, length))
    return out


def _labeled_extract(suite_id: bytes, salt: bytes, label: bytes, ikm: bytes) -> bytes:
    return _mac(salt, _VERSION + suite_id + label + ikm)


def _labeled_expand(suite_id: bytes, prk: bytes, label: bytes, info: bytes, length: int) -> bytes:
    labeled_info = length.to_bytes(2, "big") + _VERSION + suite_id + label + info
    return _expand(_crypto_hmac.HMAC(prk, _SHA256), labeled_info, length)


def _sha3_256(*parts: bytes) -> bytes:
    digest = hashes.Hash(hashes.SHA3_256())
    for part in parts:
        digest.update(part)
    return digest.finalize()


def _shake256(data: bytes, length: int) -> bytes:
    digest = hashes.Hash(hashes.SHAKE256(digest_size=length))
    digest.update(data)
    return digest.finalize()


# --- keys ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class PublicKey:
    """An HPKE recipient (or sender) public key in its serialized form, validated on creation."""

    kem: KemId
    raw: bytes
    _x25519: x25519.X25519PublicKey = field(init=False, repr=False, compare=False)
    _mlkem: mlkem.MLKEM768PublicKey | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        params = _KEMS[self.kem]
        if len(self.raw) != params.n_pk:
            raise ValueError(f"a {params.name} public key is {params.n_pk} bytes")
        if self.kem is KemId.MLKEM768_X25519:
            pq = mlkem.MLKEM768PublicKey.from_public_bytes(self.raw[:_MLKEM768_PK])
            classic = x25519.X25519PublicKey.from_public_bytes(self.raw[_MLKEM768_PK:])
        else:
            pq = None
            classic = x25519.X25519PublicKey.from_public_bytes(self.raw)
        object.__setattr__(self, "_mlkem", pq)
        object.__setattr__(self, "_x25519", classic)

    @classmethod
    def from_bytes(cls, kem: KemId, raw: bytes, *, field_name: str = "public_key") -> PublicKey:
        """Deserialize a public key received from a peer.

        Raises:
            MalformedMessageError: wrong length or not a valid key (ML-KEM modulus check).
        """
        try:
            return cls(kem=kem, raw=bytes(raw))
        except ValueError as exc:
            raise MalformedMessageError(
                f"invalid {_KEMS[kem].name} public key",
                field=field_name,
                expected=f"{_KEMS[kem].n_pk} bytes",
                actual=f"{len(raw)} bytes",
            ) from exc

    @classmethod
    def from_cryptography(
        cls, key: x25519.X25519PublicKey, pq_key: mlkem.MLKEM768PublicKey | None = None
    ) -> PublicKey:
        """Wrap cryptography key objects (an ML-KEM-768 key makes it the hybrid KEM)."""
        if pq_key is None:
            return cls(kem=KemId.DHKEM_X25519_HKDF_SHA256, raw=key.public_bytes_raw())
        return cls(
            kem=KemId.MLKEM768_X25519, raw=pq_key.public_bytes_raw() + key.public_bytes_raw()
        )

    @property
    def x25519_key(self) -> x25519.X25519PublicKey:
        """The X25519 component."""
        return self._x25519

    @property
    def mlkem_key(self) -> mlkem.MLKEM768PublicKey | None:
        """The ML-KEM-768 component of the hybrid KEM (None for DHKEM)."""
        return self._mlkem


@dataclass(frozen=True, slots=True, kw_only=True)
class PrivateKey:
    """An HPKE private key (X25519 scalar, or X-Wing seed or component keys); never printed."""

    kem: KemId
    x25519_key: x25519.X25519PrivateKey = field(repr=False, compare=False)
    mlkem_key: mlkem.MLKEM768PrivateKey | None = field(default=None, repr=False, compare=False)
    seed: bytes | None = field(default=None, repr=False, compare=False)
    _public: PublicKey = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if (self.kem is KemId.MLKEM768_X25519) != (self.mlkem_key is not None):
            raise ValueError("the ML-KEM-768 component goes with (and only with) MLKEM768-X25519")
        pq = self.mlkem_key.public_key() if self.mlkem_key is not None else None
        object.__setattr__(
            self, "_public", PublicKey.from_cryptography(self.x25519_key.public_key(), pq)
        )

    @classmethod
    def generate(cls, kem: KemId) -> PrivateKey:
        """A fresh random key pair (for a hybrid KEM, from a random 32-byte seed)."""
        if kem is KemId.MLKEM768_X25519:
            return cls.from_bytes(kem, os.urandom(32))
        return cls(kem=kem, x25519_key=x25519.X25519PrivateKey.generate())

    @classmethod
    def from_bytes(cls, kem: KemId, raw: bytes) -> PrivateKey:
        """Deserialize: a 32-byte X25519 scalar, or the 32-byte X-Wing seed.

        The X-Wing seed expands as ``SHAKE256(seed, 96)``: bytes 0..64 are the ML-KEM-768
        seed (d || z, FIPS 203 KeyGen_internal) and bytes 64..96 the X25519 scalar.
        """
        if len(raw) != _KEMS[kem].n_sk:
            raise ValueError(f"a {_KEMS[kem].name} private key is {_KEMS[kem].n_sk} bytes")
        if kem is KemId.MLKEM768_X25519:
            expanded = _shake256(raw, 96)
            return cls(
                kem=kem,
                x25519_key=x25519.X25519PrivateKey.from_private_bytes(expanded[64:]),
                mlkem_key=mlkem.MLKEM768PrivateKey.from_seed_bytes(expanded[:64]),
                seed=bytes(raw),
            )
        return cls(kem=kem, x25519_key=x25519.X25519PrivateKey.from_private_bytes(raw))

    @classmethod
    def derive(cls, kem: KemId, ikm: bytes) -> PrivateKey:
        """DeriveKeyPair for DHKEM(X25519, HKDF-SHA256) (RFC 9180 §7.1.3); tests and vectors."""
        if kem is not KemId.DHKEM_X25519_HKDF_SHA256:
            raise ValueError("DeriveKeyPair is implemented for DHKEM(X25519, HKDF-SHA256) only")
        kem_suite = b"KEM" + kem.to_bytes(2, "big")
        dkp_prk = _labeled_extract(kem_suite, b"", b"dkp_prk", ikm)
        return cls.from_bytes(kem, _labeled_expand(kem_suite, dkp_prk, b"sk", b"", 32))

    def public_key(self) -> PublicKey:
        """The matching public key."""
        return self._public

    def to_bytes(self) -> bytes:
        """Serialize: the X25519 scalar, or the X-Wing seed.

        Raises:
            ValueError: a hybrid key built from component keys has no seed to serialize.
        """
        if self.kem is KemId.MLKEM768_X25519:
            if self.seed is None:
                raise ValueError("this hybrid key was built from components and has no seed")
            return self.seed
        return self.x25519_key.private_bytes_raw()


# --- KEMs ------------------------------------------------------------------------------------


def _kem_suite_id(kem: KemId) -> bytes:
    return b"KEM" + kem.to_bytes(2, "big")


_ZERO_DH = bytes(32)
_DHKEM_LABELS = _VERSION + _kem_suite_id(KemId.DHKEM_X25519_HKDF_SHA256)


def _x25519_dh(
    private: x25519.X25519PrivateKey, public: x25519.X25519PublicKey, *, decap: bool
) -> bytes:
    try:
        shared = private.exchange(public)
    except ValueError as exc:
        shared = b""
        cause: Exception | None = exc
    else:
        cause = None
    if len(shared) != 32 or _hmac.compare_digest(shared, _ZERO_DH):
        # RFC 9180 §7.1.4: an all-zero X25519 output (a low-order point) must be rejected.
        if decap:
            raise DecryptError("X25519 produced an all-zero shared secret", field="enc") from cause
        raise MalformedMessageError(
            "recipient X25519 public key is a low-order point", field="public_key"
        ) from cause
    return shared


def _dhkem_shared_secret(dh: bytes, kem_context: bytes) -> bytes:
    # DHKEM(X25519, HKDF-SHA256) ExtractAndExpand (RFC 9180 §4.1), labels precomputed
    eae_prk = _mac(b"", _DHKEM_LABELS + b"eae_prk" + dh)
    info = b"\x00\x20" + _DHKEM_LABELS + b"shared_secret" + kem_context
    return _expand(_crypto_hmac.HMAC(eae_prk, _SHA256), info, 32)


def _xwing_combine(ss_m: bytes, ss_x: bytes, ct_x: bytes, pk_x: bytes) -> bytes:
    return _sha3_256(ss_m, ss_x, ct_x, pk_x, _XWING_LABEL)


def encapsulate(
    pk_r: PublicKey,
    *,
    sk_s: PrivateKey | None = None,
    ephemeral: PrivateKey | None = None,
) -> tuple[bytes, bytes]:
    """KEM Encap / AuthEncap: returns ``(shared_secret, enc)``.

    ``ephemeral`` fixes the DHKEM ephemeral key (known-answer tests only; the hybrid KEM has
    no deterministic encapsulation in ``cryptography``).

    Raises:
        MalformedMessageError: the recipient X25519 key is a low-order point.
        UnsupportedSuiteError: AuthEncap with a KEM that has none (the hybrid).
    """
    if pk_r.kem is KemId.MLKEM768_X25519:
        if sk_s is not None:
            raise UnsupportedSuiteError("MLKEM768-X25519 has no authenticated mode", field="mode")
        if ephemeral is not None:
            raise ValueError("deterministic encapsulation is not available for MLKEM768-X25519")
        assert pk_r.mlkem_key is not None
        ek_x = x25519.X25519PrivateKey.generate()
        ct_x = ek_x.public_key().public_bytes_raw()
        ss_x = _x25519_dh(ek_x, pk_r.x25519_key, decap=False)
        ss_m, ct_m = pk_r.mlkem_key.encapsulate()
        pk_x = pk_r.raw[_MLKEM768_PK:]
        return _xwing_combine(ss_m, ss_x, ct_x, pk_x), ct_m + ct_x
    if ephemeral is None:
        ek = x25519.X25519PrivateKey.generate()
        enc = ek.public_key().public_bytes_raw()
    elif ephemeral.kem is not pk_r.kem:
        raise ValueError("the ephemeral key is for another KEM")
    else:
        ek = ephemeral.x25519_key
        enc = ephemeral.public_key().raw
    dh = _x25519_dh(ek, pk_r.x25519_key, decap=False)
    kem_context = enc + pk_r.raw
    if sk_s is not None:
        if sk_s.kem is not pk_r.kem:
            raise ValueError("the sender key is for another KEM")
        dh += _x25519_dh(sk_s.x25519_key, pk_r.x25519_key, decap=False)
        kem_context += sk_s.public_key().raw
    return _dhkem_shared_secret(dh, kem_context), enc


def decapsulate(enc: bytes, sk_r: PrivateKey, *, pk_s: PublicKey | None = None) -> bytes:
    """KEM Decap / AuthDecap: the shared secret for ``enc``.

    Raises:
        MalformedMessageError: ``enc`` has the wrong length.
        DecryptError: decapsulation failed (low-order point, invalid ML-KEM ciphertext).
        UnsupportedSuiteError: AuthDecap with a KEM that has none.
    """
    params = _KEMS[sk_r.kem]
    if len(enc) != params.n_enc:
        raise MalformedMessageError(
            "encapsulated key has the wrong length",
            field="enc",
            expected=f"{params.n_enc} bytes",
            actual=f"{len(enc)} bytes",
        )
    if sk_r.kem is KemId.MLKEM768_X25519:
        if pk_s is not None:
            raise UnsupportedSuiteError("MLKEM768-X25519 has no authenticated mode", field="mode")
        assert sk_r.mlkem_key is not None
        ct_m, ct_x = enc[:_MLKEM768_CT], enc[_MLKEM768_CT:]
        try:
            ss_m = sk_r.mlkem_key.decapsulate(ct_m)
        except ValueError as exc:
            raise DecryptError("ML-KEM-768 decapsulation failed", field="enc") from exc
        pk_e = x25519.X25519PublicKey.from_public_bytes(ct_x)
        ss_x = _x25519_dh(sk_r.x25519_key, pk_e, decap=True)
        pk_x = sk_r.public_key().raw[_MLKEM768_PK:]
        return _xwing_combine(ss_m, ss_x, ct_x, pk_x)
    pk_e = x25519.X25519PublicKey.from_public_bytes(enc)
    dh = _x25519_dh(sk_r.x25519_key, pk_e, decap=True)
    kem_context = bytes(enc) + sk_r.public_key().raw
    if pk_s is not None:
        if pk_s.kem is not sk_r.kem:
            raise ValueError("the sender key is for another KEM")
        dh += _x25519_dh(sk_r.x25519_key, pk_s.x25519_key, decap=True)
        kem_context += pk_s.raw
    return _dhkem_shared_secret(dh, kem_context)


# --- key schedule and contexts ---------------------------------------------------------------


def _mode(psk: bytes | None, psk_id: bytes | None, authenticated: bool) -> Mode:
    # RFC 9180 §5.1 VerifyPSKInputs: psk and psk_id come together.
    if (psk is None) != (psk_id is None):
        raise ValueError("psk and psk_id must be given together")
    if psk is not None and (not psk or not psk_id):
        raise ValueError("psk and psk_id must not be empty")
    if psk is not None:
        return Mode.AUTH_PSK if authenticated else Mode.PSK
    return Mode.AUTH if authenticated else Mode.BASE


def _check_input(name: str, value: bytes) -> None:
    if len(value) > _MAX_INPUT:
        raise ValueError(f"{name} is longer than {_MAX_INPUT} bytes")


def _key_schedule(
    suite: Suite, mode: Mode, shared_secret: bytes, info: bytes, psk: bytes, psk_id: bytes
) -> tuple[bytes, bytes, bytes]:
    labels = suite._labels  # "HPKE-v1" || suite_id
    psk_id_hash = _mac(b"", labels + b"psk_id_hash" + psk_id) if psk_id else suite._psk_id_hash
    info_hash = _mac(b"", labels + b"info_hash" + info)
    context = bytes([mode]) + psk_id_hash + info_hash
    secret = _crypto_hmac.HMAC(_mac(shared_secret, labels + b"secret" + psk), _SHA256)
    n_k, n_n = suite._n_k, suite._n_n
    key = _expand(secret, n_k.to_bytes(2, "big") + labels + b"key" + context, n_k)
    base_nonce = _expand(secret, n_n.to_bytes(2, "big") + labels + b"base_nonce" + context, n_n)
    exporter_secret = _expand(secret, _N_H.to_bytes(2, "big") + labels + b"exp" + context, _N_H)
    return key, base_nonce, exporter_secret


def make_aead(aead: AeadId, key: bytes) -> AESGCM | ChaCha20Poly1305:
    """The cryptography AEAD object for an AEAD id and key."""
    if aead is AeadId.CHACHA20_POLY1305:
        return ChaCha20Poly1305(key)
    return AESGCM(key)


class _Context:
    """Shared state of an HPKE context: AEAD key, base nonce, sequence number, exporter."""

    __slots__ = (
        "_aead",
        "_base_nonce",
        "_exporter_secret",
        "_key",
        "_max_seq",
        "_n_n",
        "_seq",
        "mode",
        "suite",
    )

    def __init__(
        self, suite: Suite, mode: Mode, key: bytes, base_nonce: bytes, exporter_secret: bytes
    ) -> None:
        self.suite = suite
        self.mode = mode
        self._key = key
        self._base_nonce = int.from_bytes(base_nonce, "big")
        self._exporter_secret = exporter_secret
        self._aead = make_aead(suite.aead, key)
        self._seq = 0
        self._n_n = suite.n_n
        self._max_seq = (1 << (8 * suite.n_n)) - 1

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.suite} mode={self.mode.name} seq={self._seq}>"

    @property
    def seq(self) -> int:
        """The sequence number the next seal/open will use."""
        return self._seq

    def _next_nonce(self) -> bytes:
        if self._seq >= self._max_seq:
            raise SequenceOverflowError("HPKE message limit reached", field="seq", actual=self._seq)
        return (self._base_nonce ^ self._seq).to_bytes(self._n_n, "big")

    def export(self, exporter_context: bytes, length: int) -> bytes:
        """Secret export (RFC 9180 §5.3): ``LabeledExpand(exporter_secret, "sec", ctx, L)``."""
        _check_input("exporter_context", exporter_context)
        if not 0 < length <= 255 * _N_H:
            raise ValueError(f"export length must be 1..{255 * _N_H}")
        return _labeled_expand(
            self.suite.suite_id, self._exporter_secret, b"sec", exporter_context, length
        )


class SenderContext(_Context):
    """The sender's HPKE context: ``seal`` with an increasing sequence number."""

    __slots__ = ()

    def seal(self, plaintext: bytes, aad: bytes = b"") -> bytes:
        """Encrypt and authenticate one message (RFC 9180 §5.2 ``ContextS.Seal``).

        Raises:
            SequenceOverflowError: the context has sealed its last allowed message.
        """
        nonce = self._next_nonce()
        ciphertext = self._aead.encrypt(nonce, plaintext, aad)
        self._seq += 1
        return ciphertext


class RecipientContext(_Context):
    """The recipient's HPKE context: ``open`` with an increasing sequence number."""

    __slots__ = ()

    def open(self, ciphertext: bytes, aad: bytes = b"") -> bytes:
        """Authenticate and decrypt one message; a failure leaves the sequence number unchanged.

        Raises:
            DecryptError: the ciphertext, its position or the AAD is not authentic.
            SequenceOverflowError: the context has opened its last allowed message.
        """
        nonce = self._next_nonce()
        try:
            plaintext = self._aead.decrypt(nonce, ciphertext, aad)
        except InvalidTag:
            raise DecryptError(
                "AEAD authentication failed", field="ciphertext", actual=f"seq {self._seq}"
            ) from None
        self._seq += 1
        return plaintext


def setup_sender(
    suite: Suite,
    pk_r: PublicKey,
    *,
    info: bytes = b"",
    psk: bytes | None = None,
    psk_id: bytes | None = None,
    sk_s: PrivateKey | None = None,
    ephemeral: PrivateKey | None = None,
) -> tuple[bytes, SenderContext]:
    """SetupBaseS / SetupPSKS / SetupAuthS / SetupAuthPSKS (RFC 9180 §5.1): ``(enc, context)``.

    The mode follows from the arguments: a ``psk`` (with ``psk_id``) adds PSK, a sender key
    ``sk_s`` adds Auth. ``ephemeral`` fixes the DHKEM ephemeral key for known-answer tests.

    Raises:
        MalformedMessageError: the recipient X25519 key is a low-order point.
        UnsupportedSuiteError: an authenticated mode with the hybrid KEM.
    """
    if pk_r.kem is not suite.kem:
        raise ValueError("the recipient key is not for this suite's KEM")
    _check_input("info", info)
    mode = _mode(psk, psk_id, sk_s is not None)
    shared_secret, enc = encapsulate(pk_r, sk_s=sk_s, ephemeral=ephemeral)
    key, base_nonce, exporter = _key_schedule(
        suite, mode, shared_secret, info, psk or b"", psk_id or b""
    )
    return enc, SenderContext(suite, mode, key, base_nonce, exporter)


def setup_recipient(
    suite: Suite,
    enc: bytes,
    sk_r: PrivateKey,
    *,
    info: bytes = b"",
    psk: bytes | None = None,
    psk_id: bytes | None = None,
    pk_s: PublicKey | None = None,
) -> RecipientContext:
    """SetupBaseR / SetupPSKR / SetupAuthR / SetupAuthPSKR (RFC 9180 §5.1).

    Raises:
        MalformedMessageError: ``enc`` has the wrong length.
        DecryptError: decapsulation failed.
        UnsupportedSuiteError: an authenticated mode with the hybrid KEM.
    """
    if sk_r.kem is not suite.kem:
        raise ValueError("the recipient key is not for this suite's KEM")
    _check_input("info", info)
    mode = _mode(psk, psk_id, pk_s is not None)
    shared_secret = decapsulate(enc, sk_r, pk_s=pk_s)
    key, base_nonce, exporter = _key_schedule(
        suite, mode, shared_secret, info, psk or b"", psk_id or b""
    )
    return RecipientContext(suite, mode, key, base_nonce, exporter)
