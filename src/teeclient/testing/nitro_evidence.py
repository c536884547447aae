"""AWS Nitro attestation documents built from a spec and signed like the NSM signs them.

``NitroDocumentSpec`` holds every payload field and lays the CBOR map out in the NSM's key
order; ``sign_cose_sign1`` wraps a payload in a COSE_Sign1 with an ES384 signature (raw
``r‖s``, RFC 9053 §2.1) over the Sig_structure. ``NitroAttester`` is a small mock NSM on a
generated ``NitroPki``: one enclave (PCRs, leaf certificate) answering attestation requests
with a nonce, user data and public key, as a mock enclave needs (issue 7).
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, utils

from teeclient.platforms.nitro.abi import sig_structure
from teeclient.testing.pki.nitro import IssuedLeaf, NitroPki

__all__ = [
    "PROTECTED_ES384",
    "NitroAttester",
    "NitroDocumentSpec",
    "assemble_cose_sign1",
    "debug_pcrs",
    "default_pcrs",
    "resign_document",
    "sign_cose_sign1",
    "timestamp_ms",
]

#: The protected header every NSM document carries: ``{1: -35}`` (alg ES384).
PROTECTED_ES384 = bytes.fromhex("a1013822")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def timestamp_ms(at: datetime) -> int:
    """Milliseconds since the UNIX epoch (the NSM's ``timestamp`` unit)."""
    return (at - _EPOCH) // timedelta(milliseconds=1)


def default_pcrs(label: str = "teeclient.testing") -> dict[int, bytes]:
    """16 SHA-384 PCRs like a production enclave's: PCR0–4 set (derived from ``label``), the
    rest zero."""
    out = {i: bytes(48) for i in range(16)}
    for i in (0, 1, 2, 3, 4):
        out[i] = hashlib.sha384(f"{label} pcr{i}".encode()).digest()
    return out


def debug_pcrs(label: str = "teeclient.testing") -> dict[int, bytes]:
    """16 PCRs like a ``--debug-mode`` enclave's: PCR0, PCR1 and PCR2 all zero."""
    out = default_pcrs(label)
    for i in (0, 1, 2):
        out[i] = bytes(48)
    return out


def assemble_cose_sign1(
    protected: bytes,
    payload: bytes,
    signature: bytes,
    *,
    unprotected: Mapping[Any, Any] | None = None,
    tagged: bool = False,
) -> bytes:
    """CBOR ``[protected, unprotected, payload, signature]``, optionally in tag 18 (unsigned)."""
    body = cbor2.dumps([protected, dict(unprotected or {}), payload, signature])
    return (b"\xd2" + body) if tagged else body


def sign_cose_sign1(
    payload: bytes,
    key: ec.EllipticCurvePrivateKey,
    *,
    protected: bytes = PROTECTED_ES384,
    unprotected: Mapping[Any, Any] | None = None,
    tagged: bool = False,
    hash_algorithm: hashes.SHA256 | hashes.SHA384 | hashes.SHA512 | None = None,
) -> bytes:
    """A COSE_Sign1 over ``payload``: ECDSA (SHA-384 unless told) over the Sig_structure, the
    signature as raw big-endian ``r‖s`` of the key's size (96 bytes for P-384)."""
    der = key.sign(sig_structure(protected, payload), ec.ECDSA(hash_algorithm or hashes.SHA384()))
    r, s = utils.decode_dss_signature(der)
    size = (key.curve.key_size + 7) // 8
    signature = r.to_bytes(size, "big") + s.to_bytes(size, "big")
    return assemble_cose_sign1(
        protected, payload, signature, unprotected=unprotected, tagged=tagged
    )


def resign_document(document: bytes, key: ec.EllipticCurvePrivateKey) -> bytes:
    """Re-sign a (modified) document's payload with ``key``, keeping its protected header."""
    tagged = document[:1] == b"\xd2"
    protected, unprotected, payload, _ = cbor2.loads(document[1:] if tagged else document)
    return sign_cose_sign1(
        payload, key, protected=protected, unprotected=unprotected, tagged=tagged
    )


def _frozen_pcrs() -> Mapping[int, bytes]:
    return MappingProxyType(default_pcrs())


@dataclass(frozen=True, slots=True, kw_only=True)
class NitroDocumentSpec:
    """Every field of an attestation payload (AWS §3.2.2); ``payload`` lays them out as the
    NSM does, optional fields present with CBOR null when None (as real documents carry them).

    ``omit`` leaves keys out entirely; ``extra`` adds keys or replaces any value with raw CBOR
    data (a wrong type, an oversized value, an unknown key).
    """

    module_id: str
    timestamp_ms: int
    digest: str = "SHA384"
    pcrs: Mapping[int, bytes] = field(default_factory=_frozen_pcrs)
    public_key: bytes | None = None
    user_data: bytes | None = None
    nonce: bytes | None = None
    omit: frozenset[str] = frozenset()
    extra: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    def replace(self, **changes: object) -> NitroDocumentSpec:
        """A copy with ``changes``."""
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    def fields(self, *, certificate: bytes, cabundle: Sequence[bytes]) -> dict[str, Any]:
        """The payload map (before CBOR encoding), in the NSM's key order."""
        out: dict[str, Any] = {
            "module_id": self.module_id,
            "digest": self.digest,
            "timestamp": self.timestamp_ms,
            "pcrs": {i: self.pcrs[i] for i in sorted(self.pcrs)},
            "certificate": certificate,
            "cabundle": list(cabundle),
            "public_key": self.public_key,
            "user_data": self.user_data,
            "nonce": self.nonce,
        }
        for key in self.omit:
            out.pop(key, None)
        out.update(self.extra)
        return out

    def payload(self, *, certificate: bytes, cabundle: Sequence[bytes]) -> bytes:
        """The CBOR-encoded payload."""
        return cbor2.dumps(self.fields(certificate=certificate, cabundle=cabundle))

    def build(
        self,
        *,
        key: ec.EllipticCurvePrivateKey,
        certificate: bytes,
        cabundle: Sequence[bytes],
        tagged: bool = False,
        protected: bytes = PROTECTED_ES384,
        unprotected: Mapping[Any, Any] | None = None,
    ) -> bytes:
        """The signed document (COSE_Sign1, untagged unless ``tagged``)."""
        return sign_cose_sign1(
            self.payload(certificate=certificate, cabundle=cabundle),
            key,
            protected=protected,
            unprotected=unprotected,
            tagged=tagged,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class NitroAttester:
    """A mock NSM: one enclave on a generated PKI that answers attestation requests.

    Build one with ``NitroAttester.create``; trust its root explicitly with
    ``attester.pki.trust_store()``. ``attest`` signs a fresh document at time ``at`` (the
    leaf certificate is valid for three hours from ``leaf_not_before``).
    """

    pki: NitroPki
    leaf: IssuedLeaf
    pcrs: Mapping[int, bytes]

    @classmethod
    def create(
        cls,
        *,
        at: datetime,
        pcrs: Mapping[int, bytes] | None = None,
        debug: bool = False,
        pki: NitroPki | None = None,
        module_id: str | None = None,
    ) -> NitroAttester:
        """An enclave whose chain is valid from a minute before ``at`` for about three hours."""
        chosen = pki or NitroPki.generate(at=at)
        leaf = chosen.issue_leaf(not_before=at - timedelta(minutes=1), module_id=module_id)
        values = dict(pcrs) if pcrs is not None else (debug_pcrs() if debug else default_pcrs())
        return cls(pki=chosen, leaf=leaf, pcrs=MappingProxyType(values))

    @property
    def module_id(self) -> str:
        """The enclave's module_id (also in its certificate's name)."""
        return self.leaf.module_id

    def renewed(self, *, at: datetime) -> NitroAttester:
        """The same enclave with a fresh three-hour signing certificate starting just before
        ``at`` (the NSM rotates it; the CAs of ``pki`` must still be valid then)."""
        leaf = self.pki.issue_leaf(not_before=at - timedelta(minutes=1), module_id=self.module_id)
        return dataclasses.replace(self, leaf=leaf)

    def spec(
        self,
        *,
        at: datetime,
        nonce: bytes | None = None,
        user_data: bytes | None = None,
        public_key: bytes | None = None,
    ) -> NitroDocumentSpec:
        """The payload spec of a document issued at ``at``."""
        return NitroDocumentSpec(
            module_id=self.module_id,
            timestamp_ms=timestamp_ms(at),
            pcrs=self.pcrs,
            nonce=nonce,
            user_data=user_data,
            public_key=public_key,
        )

    def attest(
        self,
        *,
        at: datetime,
        nonce: bytes | None = None,
        user_data: bytes | None = None,
        public_key: bytes | None = None,
    ) -> bytes:
        """A signed attestation document, as the NSM's Attestation request returns it."""
        spec = self.spec(at=at, nonce=nonce, user_data=user_data, public_key=public_key)
        return spec.build(key=self.leaf.key, certificate=self.leaf.der, cabundle=self.pki.cabundle)
