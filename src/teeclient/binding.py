"""Key and device binding for teeclient.attestation/v1: canonical encodings and derivations.

Pure functions (docs/protocol.md §3 fixes the byte layouts and carries test vectors):

    canonical_keys    = "teeclient.keys/v1" 0x00 ‖ u32(len(ohttp_keys)) ‖ ohttp_keys
                        ‖ (0x01 ‖ tls_spki_sha256[32] | 0x00)
    device_digest     = SHA-256("teeclient.device/v1" 0x00 ‖ lp(kind) ‖ lp(arch)
                                ‖ lp(evidence) ‖ lp(certificates))  lp(x) = u32(len(x)) ‖ x
    canonical_devices = "teeclient.devices/v1" 0x00 ‖ u32(n) ‖ device_digest_1 ‖ … ‖ _n
    keys_digest       = SHA-256(canonical_keys)
    devices_digest    = SHA-256(canonical_devices)
    report_data       = SHA-512("teeclient.report-data/v1" ‖ nonce[32] ‖ keys_digest
                                ‖ devices_digest)                   (64 bytes)
    gpu_nonce         = SHA-256("teeclient.gpu-nonce/v1" ‖ nonce[32] ‖ keys_digest)

u32 is big-endian. SEV-SNP and TDX carry ``report_data`` in REPORT_DATA; AWS Nitro carries
it in ``user_data`` and the nonce itself in ``nonce``; every GPU's SPDM request nonce is
``gpu_nonce``. Comparisons are constant time.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass

from teeclient.errors import BindingError

__all__ = [
    "DEVICES_LABEL",
    "DEVICE_LABEL",
    "GPU_NONCE_LABEL",
    "KEYS_LABEL",
    "NONCE_SIZE",
    "REPORT_DATA_LABEL",
    "BoundDevice",
    "BoundKeys",
    "canonical_device_list",
    "canonical_devices",
    "canonical_keys",
    "check_report_data",
    "device_digest",
    "devices_digest",
    "gpu_nonce",
    "keys_digest",
    "report_data",
    "report_data_from_digests",
]

KEYS_LABEL = b"teeclient.keys/v1\x00"
DEVICE_LABEL = b"teeclient.device/v1\x00"
DEVICES_LABEL = b"teeclient.devices/v1\x00"
REPORT_DATA_LABEL = b"teeclient.report-data/v1"
GPU_NONCE_LABEL = b"teeclient.gpu-nonce/v1"
NONCE_SIZE = 32
_MAX_FIELD = 16 * 1024 * 1024
_MAX_DEVICES = 64


@dataclass(frozen=True, slots=True, kw_only=True)
class BoundKeys:
    """The enclave keys a document binds: RFC 9458 key configurations and an optional TLS pin."""

    ohttp_keys: bytes
    tls_spki_sha256: bytes | None = None

    def __post_init__(self) -> None:
        if not self.ohttp_keys or len(self.ohttp_keys) > _MAX_FIELD:
            raise ValueError("ohttp_keys must be 1 byte to 16 MiB")
        if self.tls_spki_sha256 is not None and len(self.tls_spki_sha256) != 32:
            raise ValueError("tls_spki_sha256 is 32 bytes")


@dataclass(frozen=True, slots=True, kw_only=True)
class BoundDevice:
    """One device's evidence as it appears in the document (bytes exactly as served)."""

    kind: str
    arch: str
    evidence: bytes
    certificates: bytes

    def __post_init__(self) -> None:
        for name in ("kind", "arch"):
            value = getattr(self, name)
            if not value or len(value.encode()) > 64:
                raise ValueError(f"device {name} must be 1–64 bytes")
        if len(self.evidence) > _MAX_FIELD or len(self.certificates) > _MAX_FIELD:
            raise ValueError("device evidence and certificates are at most 16 MiB")


def _lp(data: bytes) -> bytes:
    return len(data).to_bytes(4, "big") + data


def canonical_keys(keys: BoundKeys) -> bytes:
    """The canonical byte encoding of the key section."""
    spki = b"\x01" + keys.tls_spki_sha256 if keys.tls_spki_sha256 is not None else b"\x00"
    return KEYS_LABEL + _lp(keys.ohttp_keys) + spki


def device_digest(device: BoundDevice) -> bytes:
    """SHA-256 of one device's canonical encoding."""
    return hashlib.sha256(
        DEVICE_LABEL
        + _lp(device.kind.encode())
        + _lp(device.arch.encode())
        + _lp(device.evidence)
        + _lp(device.certificates)
    ).digest()


def canonical_device_list(digests: Sequence[bytes]) -> bytes:
    """The canonical encoding of an ordered list of device digests."""
    if len(digests) > _MAX_DEVICES:
        raise ValueError(f"at most {_MAX_DEVICES} devices")
    if any(len(d) != 32 for d in digests):
        raise ValueError("device digests are 32 bytes")
    return DEVICES_LABEL + len(digests).to_bytes(4, "big") + b"".join(digests)


def canonical_devices(devices: Sequence[BoundDevice]) -> bytes:
    """The canonical byte encoding of the device list, in document order."""
    return canonical_device_list([device_digest(d) for d in devices])


def keys_digest(keys: BoundKeys) -> bytes:
    """SHA-256 of the canonical key section."""
    return hashlib.sha256(canonical_keys(keys)).digest()


def devices_digest(devices: Sequence[BoundDevice]) -> bytes:
    """SHA-256 of the canonical device list."""
    return hashlib.sha256(canonical_devices(devices)).digest()


def _nonce(nonce: bytes) -> bytes:
    if len(nonce) != NONCE_SIZE:
        raise ValueError(f"the nonce is {NONCE_SIZE} bytes")
    return nonce


def report_data(nonce: bytes, keys: BoundKeys, devices: Sequence[BoundDevice]) -> bytes:
    """The 64 bytes a CPU report must carry (SEV-SNP/TDX REPORT_DATA, Nitro user_data)."""
    return report_data_from_digests(nonce, keys_digest(keys), devices_digest(devices))


def report_data_from_digests(nonce: bytes, keys_dgst: bytes, devices_dgst: bytes) -> bytes:
    """``report_data`` from already computed (or declared) digests."""
    if len(keys_dgst) != 32 or len(devices_dgst) != 32:
        raise ValueError("digests are 32 bytes")
    return hashlib.sha512(REPORT_DATA_LABEL + _nonce(nonce) + keys_dgst + devices_dgst).digest()


def gpu_nonce(nonce: bytes, keys: BoundKeys) -> bytes:
    """The 32-byte SPDM nonce every GPU and switch must have been asked with."""
    return hashlib.sha256(GPU_NONCE_LABEL + _nonce(nonce) + keys_digest(keys)).digest()


def check_report_data(
    found: bytes, nonce: bytes, keys: BoundKeys, devices: Sequence[BoundDevice], *, platform: str
) -> None:
    """Require ``found`` to equal the derived report data (constant-time).

    Raises:
        BindingError: it does not.
    """
    expected = report_data(nonce, keys, devices)
    if not hmac.compare_digest(found, expected):
        raise BindingError(
            "the evidence does not bind this nonce, these keys and these devices",
            platform=platform,
            field="report_data",
            expected=expected.hex(),
            actual=found.hex(),
        )
