"""NVIDIA evidence signers: byte-exact SPDM GET_MEASUREMENTS reports built from a spec.

``SpdmReportSpec`` lays out the 37-byte request and the MEASUREMENTS response exactly as the
GPU firmware does (specs/nvidia-gpu.md §2) and ``build(key)`` signs ``request ‖ response`` (minus
the signature) with ECDSA P-384 and writes raw ``r ‖ s``. ``evidence_json`` wraps reports in
the ``nvattest collect-evidence`` JSON form. Issue 7's mock enclave builds on these.
"""

from __future__ import annotations

import base64
import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, utils

from teeclient.platforms.nvidia.abi import GPU_OPAQUE_TYPES, SWITCH_OPAQUE_TYPES, DeviceKind

__all__ = [
    "SpdmReportSpec",
    "evidence_json",
    "gpu_opaque",
    "sign_report",
    "switch_opaque",
    "tlv",
    "vbios_bytes",
]

_GPU_IDS = {name: type_id for type_id, name in GPU_OPAQUE_TYPES.items()}
_SWITCH_IDS = {name: type_id for type_id, name in SWITCH_OPAQUE_TYPES.items()}


def vbios_bytes(version: str) -> bytes:
    """The 8-byte VBIOS_VERSION value that formats as ``version`` (``96.00.9F.00.01``)."""
    digits = version.replace(".", "")
    if len(digits) != 10:
        raise ValueError("VBIOS version has five byte pairs")
    h = "000000" + digits[8:10] + digits[0:8]
    return bytes.fromhex(h)[::-1]


def tlv(type_id: int, value: bytes) -> bytes:
    """One opaque-data TLV."""
    return type_id.to_bytes(2, "little") + len(value).to_bytes(2, "little") + value


def _ascii(text: str, width: int) -> bytes:
    raw = text.encode("ascii")
    return raw + bytes(max(0, width - len(raw)))


def gpu_opaque(
    *,
    driver_version: str = "550.90.07",
    vbios_version: str = "96.00.9F.00.01",
    project: str = "1010",
    project_sku: str = "0200",
    chip_sku: str = "882",
    fwid: bytes | None = bytes(range(48)),
    nvdec0: int = 0x55,
    protected_pcie: int | None = 0x55,
    feature_flag: int | None = None,
    opaque_data_version: int | None = None,
    chip_info: str | None = None,
    switch_pdis: Sequence[bytes] = (),
    extra: Sequence[tuple[int, bytes]] = (),
) -> bytes:
    """GPU opaque data in the order real Hopper reports use."""
    out = [
        tlv(_GPU_IDS["VBIOS_VERSION"], vbios_bytes(vbios_version)),
        tlv(_GPU_IDS["BOARD_ID"], (0x4A1).to_bytes(4, "little")),
        tlv(_GPU_IDS["CHIP_SKU"], _ascii(chip_sku, 9)),
        tlv(_GPU_IDS["CHIP_SKU_MOD"], _ascii("0", 5)),
        tlv(_GPU_IDS["PROJECT"], _ascii(project, 5)),
        tlv(_GPU_IDS["PROJECT_SKU"], _ascii(project_sku, 5)),
        tlv(_GPU_IDS["PROJECT_SKU_MOD"], bytes(2)),
        tlv(_GPU_IDS["DRIVER_VERSION"], _ascii(driver_version, len(driver_version) + 1)),
        tlv(_GPU_IDS["GPU_INFO"], bytes.fromhex("8001000000000000")),
        tlv(_GPU_IDS["MSRSCNT"], b"".join((1).to_bytes(4, "little") for _ in range(64))),
        tlv(_GPU_IDS["CPRINFO"], bytes.fromhex("00c00100")),
        tlv(_GPU_IDS["NVDEC0_STATUS"], bytes([nvdec0])),
    ]
    if fwid is not None:
        out.append(tlv(_GPU_IDS["FWID"], fwid))
    if protected_pcie is not None:
        out.append(tlv(_GPU_IDS["PROTECTED_PCIE_STATUS"], bytes([protected_pcie])))
    if switch_pdis:
        out.append(tlv(_GPU_IDS["SWITCH_PDI"], b"".join(switch_pdis)))
    if opaque_data_version is not None:
        out.append(tlv(_GPU_IDS["OPAQUE_DATA_VERSION"], opaque_data_version.to_bytes(2, "little")))
    if chip_info is not None:
        out.append(tlv(_GPU_IDS["CHIP_INFO"], _ascii(chip_info, 8)))
    if feature_flag is not None:
        out.append(tlv(_GPU_IDS["FEATURE_FLAG"], feature_flag.to_bytes(2, "little")))
    out.extend(tlv(t, v) for t, v in extra)
    return b"".join(out)


def switch_opaque(
    *,
    bios_version: str = "96.10.55.00.01",
    device_pdi: bytes = bytes.fromhex("203eb31ad9ed0008"),
    gpu_pdis: Sequence[bytes] | None = None,
    project: str | None = None,
    project_sku: str | None = None,
    chip_sku: str | None = None,
) -> bytes:
    """LS10 opaque data (ASCII BIOS version, DEVICE_PDI, the 8 GPU PDIs + port map)."""
    if gpu_pdis is None:
        gpu_pdis = [bytes([n] * 8) for n in range(1, 9)]
    out = [tlv(_SWITCH_IDS["VBIOS_VERSION"], bios_version.encode())]
    for name, value in (("PROJECT", project), ("PROJECT_SKU", project_sku), ("CHIP_SKU", chip_sku)):
        if value is not None:
            out.append(tlv(_SWITCH_IDS[name], _ascii(value, len(value) + 1)))
    out += [
        tlv(_SWITCH_IDS["DEVICE_PDI"], device_pdi),
        tlv(_SWITCH_IDS["MSRSCNT"], b"".join((1).to_bytes(4, "little") for _ in range(26))),
        tlv(_SWITCH_IDS["SWITCH_GPU_PDIS"], b"".join(gpu_pdis) + bytes(64)),
        tlv(_SWITCH_IDS["DISABLED_PORTS"], bytes(2)),
        tlv(_SWITCH_IDS["SWITCH_POSITION_ID"], bytes([2, 0])),
        tlv(_SWITCH_IDS["SWITCH_LOCK_STATUS"], bytes([1, 0])),
    ]
    return b"".join(out)


def _default_blocks() -> dict[int, bytes]:
    return {i: bytes([i]) * 48 for i in range(1, 65)}


@dataclass(frozen=True, slots=True, kw_only=True)
class SpdmReportSpec:
    """Every field of an NVIDIA SPDM 1.1 attestation report; ``build`` signs it."""

    nonce: bytes = bytes(32)
    kind: DeviceKind = DeviceKind.GPU
    blocks: dict[int, bytes] = field(default_factory=_default_blocks)
    responder_nonce: bytes = b"\x5a" * 32
    opaque: bytes | None = None
    request_version: int = 0x11
    request_code: int = 0xE0
    param1: int = 0x01
    param2: int = 0xFF
    response_version: int = 0x11
    response_code: int = 0x60

    def replace(self, **changes: object) -> SpdmReportSpec:
        """A copy with ``changes``."""
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    def request(self) -> bytes:
        """The 37-byte GET_MEASUREMENTS request."""
        if len(self.nonce) != 32:
            raise ValueError("nonce is 32 bytes")
        return (
            bytes([self.request_version, self.request_code, self.param1, self.param2])
            + self.nonce
            + b"\x00"
        )

    def unsigned(self) -> bytes:
        """``request ‖ response`` without the 96-byte signature."""
        record = b"".join(
            bytes([index, 0x01])
            + (3 + len(v)).to_bytes(2, "little")
            + b"\x01"
            + len(v).to_bytes(2, "little")
            + v
            for index, v in sorted(self.blocks.items())
        )
        opaque = self.opaque
        if opaque is None:
            opaque = gpu_opaque() if self.kind is DeviceKind.GPU else switch_opaque()
        response = (
            bytes([self.response_version, self.response_code, 0, 0, len(self.blocks)])
            + len(record).to_bytes(3, "little")
            + record
            + self.responder_nonce
            + len(opaque).to_bytes(2, "little")
            + opaque
        )
        return self.request() + response

    def build(self, key: ec.EllipticCurvePrivateKey) -> bytes:
        """The whole report signed by ``key`` (ECDSA P-384/SHA-384, raw big-endian r ‖ s)."""
        return sign_report(self.unsigned(), key)


def sign_report(signed: bytes, key: ec.EllipticCurvePrivateKey) -> bytes:
    """Append the raw ``r ‖ s`` signature of ``signed`` by ``key``."""
    r, s = utils.decode_dss_signature(key.sign(signed, ec.ECDSA(hashes.SHA384())))
    return signed + r.to_bytes(48, "big") + s.to_bytes(48, "big")


def evidence_json(entries: Sequence[tuple[bytes, bytes, str]], *, nonce: bytes) -> bytes:
    """``nvattest collect-evidence`` JSON for (report, chain PEM, arch) triples."""
    return json.dumps(
        [
            {
                "arch": arch,
                "nonce": nonce.hex(),
                "evidence": base64.b64encode(report).decode(),
                "certificate": base64.b64encode(chain).decode(),
            }
            for report, chain, arch in entries
        ]
    ).encode()
