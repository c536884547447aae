"""NVIDIA device identity chains: path validation to the pinned root, device kind, FWID.

specs/nvidia-gpu.md §3.2–§3.3. The device supplies five certificates (leaf first, its copy of
the root last); the supplied root is dropped and replaced by a pinned ``nvidia.device.root``
certificate (as both NVIDIA SDKs do). Each link is checked by hand with ``_x509`` (issuer name,
signature memoised by content hash, CA constraints, validity at ``now``). The FWID is read from
the leaf as DER: Hopper ``2.23.133.5.4.1`` (TCG DICE FWID) and Blackwell ``2.23.133.5.4.1.1``
(DiceTcbInfo, ``fwids[0]``).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from teeclient._der import read_tlv
from teeclient._x509 import (
    check_validity,
    common_name,
    fingerprint,
    load_certificates,
    require_ca,
    verify_issued_by,
)
from teeclient.errors import ChainExtensionError, ChainUntrustedError, ParseError
from teeclient.trust import TrustStore

__all__ = [
    "DEVICE_ROOT_ANCHOR",
    "DeviceArch",
    "DeviceChain",
    "extract_fwid",
    "load_chain",
    "verify_device_chain",
]

PLATFORM = "nvidia"
DEVICE_ROOT_ANCHOR = "nvidia.device.root"
CHAIN_LENGTH = 5
OID_DICE_FWID = "2.23.133.5.4.1"
OID_DICE_TCB_INFO = "2.23.133.5.4.1.1"
_OID_SHA384_DER = bytes.fromhex("608648016503040202")
_ROLES = ("leaf", "brom", "provisioner_ica", "identity", "root")


class DeviceArch(enum.StrEnum):
    """Device architecture, from the verified chain's common names (§3.2)."""

    HOPPER = "hopper"
    BLACKWELL = "blackwell"
    LS10 = "ls10"

    @property
    def nvidia_name(self) -> str:
        """The name NVIDIA's JSON carriers use (``HOPPER``, ``BLACKWELL``, ``LS10``)."""
        return self.value.upper()

    @property
    def is_switch(self) -> bool:
        """True for NVSwitch architectures."""
        return self is DeviceArch.LS10


def arch_from_chip(chip: str) -> DeviceArch | None:
    """Map a chip name from a certificate CN (``GH100``, ``GB100``, ``LS_10``) to an arch."""
    if chip.startswith("GH1"):
        return DeviceArch.HOPPER
    if chip.startswith(("GB1", "GB2")):
        return DeviceArch.BLACKWELL
    if chip == "LS_10":
        return DeviceArch.LS10
    return None


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceChain:
    """A verified device chain: the four device certificates and the pinned root used."""

    certificates: tuple[x509.Certificate, ...]
    root: x509.Certificate
    arch: DeviceArch
    chip: str
    fwid: bytes | None
    supplied_root_pinned: bool
    sha256: tuple[str, ...] = ()  # fingerprints leaf to pinned root (computed when built)

    @property
    def leaf(self) -> x509.Certificate:
        """Certificate 0 (``… FMC LF``): the attestation key."""
        return self.certificates[0]

    @property
    def hwmodel(self) -> str:
        """The BROM certificate's CN (NRAS claims-3.0 ``hwmodel``)."""
        return common_name(self.certificates[1].subject) or ""

    @property
    def ueid(self) -> str:
        """Decimal of the leaf serial number (NRAS ``ueid``)."""
        return str(self.leaf.serial_number)

    @property
    def expiration(self) -> datetime:
        """The earliest notAfter of the chain including the pinned root."""
        return min(c.not_valid_after_utc for c in (*self.certificates, self.root))

    def fingerprints(self) -> tuple[str, ...]:
        """SHA-256 of each certificate, leaf to pinned root."""
        return self.sha256 or tuple(fingerprint(c) for c in (*self.certificates, self.root))


def load_chain(data: bytes, *, role: str = "device chain") -> list[x509.Certificate]:
    """Parse a PEM chain (leaf first).

    Raises:
        ParseError: not PEM certificates.
    """
    if b"-----BEGIN CERTIFICATE-----" not in data:
        raise ParseError("device certificate chain is not PEM", platform=PLATFORM, field=role)
    return load_certificates(data, role=role, platform=PLATFORM)


def _chip_of(cert: x509.Certificate, role: str) -> str:
    cn = common_name(cert.subject) or ""
    chip = cn.split(" ", 1)[0]
    if arch_from_chip(chip) is None:
        raise ChainExtensionError(
            "device certificate names no known NVIDIA chip",
            platform=PLATFORM,
            field=f"{role}.subject.CN",
            expected="GH100…, GB100… or LS_10…",
            actual=cn,
        )
    return chip


def extract_fwid(cert: x509.Certificate, *, role: str = "leaf") -> bytes | None:
    """The FWID of a device leaf (Hopper DICE FWID or Blackwell DiceTcbInfo fwids[0]).

    Returns None when the leaf carries neither extension.

    Raises:
        ChainExtensionError: the extension is present but malformed.
    """
    for ext in cert.extensions:
        oid = ext.oid.dotted_string
        if oid not in (OID_DICE_FWID, OID_DICE_TCB_INFO):
            continue
        value = ext.value
        raw = value.value if isinstance(value, x509.UnrecognizedExtension) else b""
        try:
            if oid == OID_DICE_FWID:
                return _fwid_from_dice(raw)
            return _fwid_from_tcb_info(raw)
        except ParseError as exc:
            raise ChainExtensionError(
                f"malformed FWID extension {oid}: {exc.message}",
                platform=PLATFORM,
                field=f"{role}.extension.{oid}",
            ) from exc
    return None


def _digest_pair(value: bytes, field: str) -> bytes:
    """SEQUENCE { OID sha384, OCTET STRING (48) } → the digest."""
    tag, oid, pos = read_tlv(value, 0, field=field, platform=PLATFORM)
    if tag != 0x06 or oid != _OID_SHA384_DER:
        raise ParseError("FWID hash algorithm is not SHA-384", platform=PLATFORM, field=field)
    tag, digest, end = read_tlv(value, pos, field=field, platform=PLATFORM)
    if tag != 0x04 or len(digest) != 48 or end != len(value):
        raise ParseError(
            "FWID digest is not a 48-byte OCTET STRING", platform=PLATFORM, field=field
        )
    return digest


def _fwid_from_dice(raw: bytes) -> bytes:
    field = "DiceFWID"
    tag, body, end = read_tlv(raw, 0, field=field, platform=PLATFORM)
    if tag != 0x30 or end != len(raw):
        raise ParseError("DICE FWID is not one SEQUENCE", platform=PLATFORM, field=field)
    last: tuple[int, bytes] | None = None
    pos = 0
    while pos < len(body):
        t, v, pos = read_tlv(body, pos, field=field, platform=PLATFORM)
        last = (t, v)
    if last is None or last[0] != 0x30:
        raise ParseError("DICE FWID has no digest SEQUENCE", platform=PLATFORM, field=field)
    return _digest_pair(last[1], field)


def _fwid_from_tcb_info(raw: bytes) -> bytes:
    field = "DiceTcbInfo"
    tag, body, end = read_tlv(raw, 0, field=field, platform=PLATFORM)
    if tag != 0x30 or end != len(raw):
        raise ParseError("DiceTcbInfo is not one SEQUENCE", platform=PLATFORM, field=field)
    pos = 0
    while pos < len(body):
        t, v, pos = read_tlv(body, pos, field=field, platform=PLATFORM)
        if t == 0xA6:  # [6] IMPLICIT fwids SEQUENCE OF FWID
            if not v:
                break
            ft, first, _ = read_tlv(v, 0, field=f"{field}.fwids", platform=PLATFORM)
            if ft != 0x30:
                raise ParseError(
                    "DiceTcbInfo fwids[0] is not a SEQUENCE",
                    platform=PLATFORM,
                    field=f"{field}.fwids",
                )
            return _digest_pair(first, f"{field}.fwids[0]")
    raise ParseError("DiceTcbInfo has no fwids", platform=PLATFORM, field=field)


def verify_device_chain(
    certs: list[x509.Certificate], *, trust: TrustStore, now: datetime, prefix: str = "device"
) -> DeviceChain:
    """Validate a five-certificate device chain to the pinned NVIDIA Device Identity CA.

    Raises:
        ChainExtensionError: wrong length, constraints, key type, or unknown chip.
        ChainUntrustedError: the identity CA is not issued by a pinned root.
        ChainSignatureError / ChainExpiredError / ChainNotYetValidError: per link.
    """
    if len(certs) != CHAIN_LENGTH:
        raise ChainExtensionError(
            "an NVIDIA device chain has five certificates (leaf first, root last)",
            platform=PLATFORM,
            field=f"{prefix}.chain",
            expected=f"{CHAIN_LENGTH} certificates",
            actual=f"{len(certs)} certificates",
        )
    roles = [f"{prefix}.{r}" for r in _ROLES]
    # Everything but validity at `now` depends only on the certificates and this store's
    # anchors: a chain that passed once is remembered by content (certificates hash and
    # compare by their DER) in the store's memo, and only its validity is checked again.
    memo_key = tuple(certs)
    known = trust.memo.get(_CHAIN_MEMO, memo_key)
    if isinstance(known, DeviceChain):
        for i, cert in enumerate((*known.certificates, known.root)):
            check_validity(cert, now, role=roles[i], platform=PLATFORM)
        return known
    chain = _verify_structure(certs, trust=trust, now=now, roles=roles, prefix=prefix)
    trust.memo.put(_CHAIN_MEMO, memo_key, chain)
    return chain


_CHAIN_MEMO = "nvidia.device_chain"


def _verify_structure(
    certs: list[x509.Certificate],
    *,
    trust: TrustStore,
    now: datetime,
    roles: list[str],
    prefix: str,
) -> DeviceChain:
    """Every check of ``verify_device_chain``, in order (signatures, validity at ``now``,
    constraints, keys, chip)."""
    device = certs[:4]
    supplied_root = certs[4]
    anchor = trust.require(DEVICE_ROOT_ANCHOR, platform=PLATFORM)
    roots = [c for c in anchor.certificates if c.subject == device[3].issuer]
    if not roots:
        raise ChainUntrustedError(
            "the device identity CA is not issued by a pinned NVIDIA root",
            platform=PLATFORM,
            field=f"{prefix}.identity.issuer",
            expected=", ".join(c.subject.rfc4514_string() for c in anchor.certificates),
            actual=device[3].issuer.rfc4514_string(),
        )
    root = roots[0]
    # Signatures first (memoised by content hash), then validity at `now`.
    verify_issued_by(root, root, role=roles[4], platform=PLATFORM, memo=trust.memo)
    for i in range(3, -1, -1):
        issuer = root if i == 3 else device[i + 1]
        verify_issued_by(device[i], issuer, role=roles[i], platform=PLATFORM, memo=trust.memo)
    for i, cert in enumerate((*device, root)):
        check_validity(cert, now, role=roles[i], platform=PLATFORM)
    require_ca(root, role=roles[4], platform=PLATFORM)
    for i in (1, 2, 3):
        require_ca(device[i], role=roles[i], platform=PLATFORM)
    leaf = device[0]
    try:
        ku = leaf.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound as exc:
        raise ChainExtensionError(
            "device leaf has no KeyUsage",
            platform=PLATFORM,
            field=f"{roles[0]}.keyUsage",
            expected="digitalSignature",
            actual="absent",
        ) from exc
    if not ku.digital_signature:
        raise ChainExtensionError(
            "device leaf may not sign",
            platform=PLATFORM,
            field=f"{roles[0]}.keyUsage",
            expected="digitalSignature",
            actual="digitalSignature not set",
        )
    try:
        bc = leaf.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        bc = None
    if bc is not None and bc.ca:
        raise ChainExtensionError(
            "device leaf is a CA",
            platform=PLATFORM,
            field=f"{roles[0]}.basicConstraints",
            expected="CA=false",
            actual="CA=true",
        )
    key = leaf.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP384R1):
        raise ChainExtensionError(
            "device attestation key is not ECDSA P-384",
            platform=PLATFORM,
            field=f"{roles[0]}.publicKey",
            expected="EC secp384r1",
            actual=type(key).__name__,
        )
    chip = _chip_of(leaf, roles[0])
    if _chip_of(device[1], roles[1]) != chip:
        raise ChainExtensionError(
            "leaf and BROM certificates name different chips",
            platform=PLATFORM,
            field=f"{roles[1]}.subject.CN",
            expected=chip,
            actual=common_name(device[1].subject),
        )
    arch = arch_from_chip(chip)
    assert arch is not None  # _chip_of checked it
    return DeviceChain(
        certificates=tuple(device),
        root=root,
        arch=arch,
        chip=chip,
        fwid=extract_fwid(leaf, role=roles[0]),
        supplied_root_pinned=anchor.contains(supplied_root),
        sha256=tuple(fingerprint(c) for c in (*device, root)),
    )
