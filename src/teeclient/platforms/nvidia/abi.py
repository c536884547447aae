"""NVIDIA SPDM 1.1 GET_MEASUREMENTS request/response bytes ↔ frozen structures; structure only.

Nothing here verifies a signature or applies policy (specs/nvidia-gpu.md §2). ``split_report``
only separates the signed bytes from the trailing 96-byte signature so the verifier can
authenticate before interpreting; ``parse_report`` then checks every length, code and value
strictly: the 37-byte request (§2.1), the response header, DMTF measurement blocks that exactly
fill their record (§2.3), opaque-data TLVs that exactly fill theirs with only known type ids
(§2.4; the table differs for GPUs and NVSwitches), the versioned ``NVDAOD`` layout rejected as
unsupported (§10), exactly 96 signature bytes and nothing after them.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from teeclient._binary import Reader
from teeclient.errors import NvidiaUnsupportedOpaqueError, ParseError

__all__ = [
    "GPU_OPAQUE_TYPES",
    "REQUEST_SIZE",
    "SIGNATURE_SIZE",
    "SWITCH_OPAQUE_TYPES",
    "AttestationReport",
    "DeviceKind",
    "MeasurementBlock",
    "MeasurementRequest",
    "MeasurementResponse",
    "OpaqueData",
    "OpaqueField",
    "format_vbios_version",
    "parse_opaque_data",
    "parse_report",
    "parse_request",
    "parse_response",
    "split_report",
]

PLATFORM = "nvidia"
REQUEST_SIZE = 37
SIGNATURE_SIZE = 96
NONCE_SIZE = 32
SPDM_VERSION_11 = 0x11
GET_MEASUREMENTS = 0xE0
MEASUREMENTS = 0x60
DMTF_MEASUREMENT_SPEC = 0x01
MAX_REPORT_SIZE = 64 * 1024
MIN_REPORT_SIZE = REQUEST_SIZE + 8 + NONCE_SIZE + 2 + SIGNATURE_SIZE
NVDAOD_MAGIC = b"NVDAOD"


class DeviceKind(enum.StrEnum):
    """Which opaque-data table applies: a GPU (Hopper, Blackwell) or an NVSwitch (LS10)."""

    GPU = "gpu"
    SWITCH = "switch"


_COMMON_TYPES = {
    1: "CERT_ISSUER_NAME",
    2: "CERT_AUTHORITY_KEY_IDENTIFIER",
    3: "DRIVER_VERSION",
    4: "GPU_INFO",
    5: "SKU",
    6: "VBIOS_VERSION",
    7: "MANUFACTURER_ID",
    8: "TAMPER_DETECTION",
    9: "SMC",
    10: "VPR",
    11: "NVDEC0_STATUS",
    12: "MSRSCNT",
    13: "CPRINFO",
    14: "BOARD_ID",
    15: "CHIP_SKU",
    16: "CHIP_SKU_MOD",
    17: "PROJECT",
    18: "PROJECT_SKU",
    19: "PROJECT_SKU_MOD",
    20: "FWID",
    21: "PROTECTED_PCIE_STATUS",
}

#: GPU opaque type ids (NVAT gpu_opaque_data_parser.hpp; specs/nvidia-gpu.md §2.4).
GPU_OPAQUE_TYPES: Mapping[int, str] = MappingProxyType(
    {
        **_COMMON_TYPES,
        22: "SWITCH_PDI",
        23: "FLOORSWEPT_PORTS",
        24: "POSITION_ID",
        25: "LOCK_SWITCH_STATUS",
        32: "GPU_LINK_CONN",
        33: "SYS_ENABLE_STATUS",
        34: "OPAQUE_DATA_VERSION",
        35: "CHIP_INFO",
        36: "FEATURE_FLAG",
    }
)

#: NVSwitch (LS10) opaque type ids (NVAT switch_opaque_data_parser.hpp).
SWITCH_OPAQUE_TYPES: Mapping[int, str] = MappingProxyType(
    {
        **_COMMON_TYPES,
        22: "DEVICE_PDI",
        23: "DISABLED_PORTS",
        24: "SWITCH_POSITION_ID",
        25: "SWITCH_LOCK_STATUS",
        26: "SWITCH_GPU_PDIS",
        27: "SWITCH_PORTS",
    }
)

# Fixed value sizes, checked when the field is present (bytes).
_FIXED_SIZES = {
    "NVDEC0_STATUS": 1,
    "FWID": 48,
    "PROTECTED_PCIE_STATUS": 1,
    "BOARD_ID": 4,
    "OPAQUE_DATA_VERSION": 2,
    "FEATURE_FLAG": 2,
    "DEVICE_PDI": 8,
}
_GPU_ONLY_SIZES = {"VBIOS_VERSION": 8}
_MULTIPLE_OF = {"MSRSCNT": 4, "SWITCH_PDI": 8}
_MAX_ASCII = 64


def _fail(
    message: str,
    *,
    field: str,
    offset: int | None = None,
    expected: object = None,
    actual: object = None,
) -> ParseError:
    return ParseError(
        message, platform=PLATFORM, field=field, offset=offset, expected=expected, actual=actual
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class MeasurementRequest:
    """The 37-byte SPDM GET_MEASUREMENTS request (§2.1); ``nonce`` is the verifier's nonce."""

    raw: bytes
    version: int
    code: int
    param1: int
    param2: int
    nonce: bytes
    slot_id: int

    def __post_init__(self) -> None:
        if len(self.raw) != REQUEST_SIZE or len(self.nonce) != NONCE_SIZE:
            raise ValueError("request is 37 bytes with a 32-byte nonce")


@dataclass(frozen=True, slots=True, kw_only=True)
class MeasurementBlock:
    """One DMTF measurement block (§2.3): 1-based index and its digest."""

    index: int
    spec: int
    value_type: int
    value: bytes
    offset: int


@dataclass(frozen=True, slots=True, kw_only=True)
class OpaqueField:
    """One opaque-data TLV: type id, name from the device table, raw value, offset in report."""

    type_id: int
    name: str
    value: bytes
    offset: int


def format_vbios_version(value: bytes) -> str:
    """Format a GPU VBIOS_VERSION value (8 bytes) as ``96.00.9F.00.01`` (§2.4).

    Reverse the bytes, hex-encode (h), take ``h[8:16] + h[6:8]`` and join the byte pairs with
    dots, upper-case (PIP-V ``format_vbios_version``, NVAT ``get_vbios_version``).
    """
    if len(value) != 8:
        raise ValueError("VBIOS_VERSION is 8 bytes")
    h = value[::-1].hex()
    digits = (h[8:16] + h[6:8]).upper()
    return ".".join(digits[i : i + 2] for i in range(0, len(digits), 2))


def _ascii(value: bytes, name: str, offset: int) -> str:
    text = value.rstrip(b"\x00")
    if b"\x00" in text or len(text) > _MAX_ASCII:
        raise _fail(
            "opaque ASCII value has embedded NULs or is too long", field=name, offset=offset
        )
    try:
        decoded = text.decode("ascii")
    except UnicodeDecodeError as exc:
        raise _fail("opaque value is not ASCII", field=name, offset=offset) from exc
    if not decoded.isprintable():
        raise _fail("opaque value has control characters", field=name, offset=offset)
    return decoded


@dataclass(frozen=True, slots=True, kw_only=True)
class OpaqueData:
    """Opaque-data TLVs of one report, keyed by name; decoded views of the fields that count."""

    kind: DeviceKind
    raw: bytes
    fields: tuple[OpaqueField, ...]

    def get(self, name: str) -> OpaqueField | None:
        """The field called ``name`` (type ids are unique), or None."""
        for f in self.fields:
            if f.name == name:
                return f
        return None

    def text(self, name: str) -> str | None:
        """An ASCII field with trailing NULs stripped, or None when absent."""
        f = self.get(name)
        return None if f is None else _ascii(f.value, name, f.offset)

    def u16(self, name: str) -> int | None:
        """A little-endian u16 field, or None when absent."""
        f = self.get(name)
        return None if f is None else int.from_bytes(f.value, "little")

    def byte(self, name: str) -> int | None:
        """A one-byte field, or None when absent."""
        f = self.get(name)
        return None if f is None else f.value[0]

    @property
    def driver_version(self) -> str | None:
        """DRIVER_VERSION (GPU), e.g. ``550.90.07``."""
        return self.text("DRIVER_VERSION")

    @property
    def vbios_version(self) -> str | None:
        """VBIOS_VERSION formatted (GPU: 8 bytes → ``96.00.9F.00.01``; NVSwitch: ASCII)."""
        f = self.get("VBIOS_VERSION")
        if f is None:
            return None
        if self.kind is DeviceKind.GPU:
            return format_vbios_version(f.value)
        return _ascii(f.value, "VBIOS_VERSION", f.offset).upper()

    @property
    def fwid(self) -> bytes | None:
        """FWID (48 bytes), absent on old drivers (535.x)."""
        f = self.get("FWID")
        return None if f is None else f.value

    @property
    def switch_pdis(self) -> tuple[bytes, ...]:
        """GPU SWITCH_PDI entries (8 bytes each, as reported; all-zero = link disabled)."""
        f = self.get("SWITCH_PDI") if self.kind is DeviceKind.GPU else None
        if f is None:
            return ()
        return tuple(f.value[i : i + 8] for i in range(0, len(f.value), 8))

    @property
    def device_pdi(self) -> bytes | None:
        """NVSwitch DEVICE_PDI (8 bytes)."""
        f = self.get("DEVICE_PDI") if self.kind is DeviceKind.SWITCH else None
        return None if f is None else f.value

    @property
    def switch_gpu_pdis(self) -> tuple[bytes, ...]:
        """NVSwitch SWITCH_GPU_PDIS: the first 8 × 8 bytes are the GPU PDIs (§6.2)."""
        f = self.get("SWITCH_GPU_PDIS") if self.kind is DeviceKind.SWITCH else None
        if f is None:
            return ()
        return tuple(f.value[i : i + 8] for i in range(0, 64, 8))

    def to_dict(self) -> dict[str, object]:
        """JSON form: every field as hex, decoded views where defined."""
        out: dict[str, object] = {f.name: f.value.hex() for f in self.fields}
        decoded: dict[str, object] = {}
        for name in (
            "DRIVER_VERSION",
            "CHIP_SKU",
            "CHIP_SKU_MOD",
            "PROJECT",
            "PROJECT_SKU",
            "PROJECT_SKU_MOD",
            "CHIP_INFO",
        ):
            if self.get(name) is not None:
                decoded[name] = self.text(name)
        if self.get("VBIOS_VERSION") is not None:
            decoded["VBIOS_VERSION"] = self.vbios_version
        for name in ("OPAQUE_DATA_VERSION", "FEATURE_FLAG"):
            if self.get(name) is not None:
                decoded[name] = self.u16(name)
        return {"fields": out, "decoded": decoded}


def parse_opaque_data(data: bytes, kind: DeviceKind, *, base_offset: int = 0) -> OpaqueData:
    """Parse opaque-data TLVs (``type u16 ‖ length u16 ‖ value``) that exactly fill ``data``.

    Raises:
        NvidiaUnsupportedOpaqueError: the versioned ``NVDAOD`` layout (§10).
        ParseError: empty, truncated, unknown or duplicate type ids, wrong fixed sizes.
    """
    if data[:6] == NVDAOD_MAGIC:
        raise NvidiaUnsupportedOpaqueError(
            "versioned opaque data (NVDAOD, drivers with CUDA 13.5 and later) is not supported "
            "yet; it is never parsed as TLVs",
            platform=PLATFORM,
            field="OpaqueData",
            offset=base_offset,
            expected="TLV opaque data",
            actual="NVDAOD magic",
        )
    if not data:
        raise _fail(
            "opaque data is empty",
            field="OpaqueLength",
            offset=base_offset,
            expected="> 0 bytes",
            actual="0 bytes",
        )
    table = GPU_OPAQUE_TYPES if kind is DeviceKind.GPU else SWITCH_OPAQUE_TYPES
    reader = Reader(data, platform=PLATFORM, structure="opaque data")
    fields: list[OpaqueField] = []
    seen: set[int] = set()
    pos = 0
    while pos < len(data):
        type_id = reader.u16(pos, "OpaqueData.type")
        length = reader.u16(pos + 2, "OpaqueData.length")
        at = base_offset + pos
        name = table.get(type_id)
        if name is None:
            raise _fail(
                f"unknown {kind.value} opaque-data type id",
                field="OpaqueData.type",
                offset=at,
                expected="a known type id (specs/nvidia-gpu.md §2.4)",
                actual=type_id,
            )
        if type_id in seen:
            raise _fail("duplicate opaque-data type id", field=name, offset=at, actual=type_id)
        seen.add(type_id)
        value = reader.bytes(pos + 4, length, name)
        size = _FIXED_SIZES.get(name)
        if size is None and kind is DeviceKind.GPU:
            size = _GPU_ONLY_SIZES.get(name)
        if size is not None and length != size:
            raise _fail(
                "opaque field has the wrong size",
                field=name,
                offset=at,
                expected=f"{size} bytes",
                actual=f"{length} bytes",
            )
        multiple = _MULTIPLE_OF.get(name)
        if multiple is not None and length % multiple:
            raise _fail(
                "opaque field size is not a multiple of its entry size",
                field=name,
                offset=at,
                expected=f"multiple of {multiple}",
                actual=f"{length} bytes",
            )
        if name == "SWITCH_GPU_PDIS" and length < 64:
            raise _fail(
                "SWITCH_GPU_PDIS is shorter than 8 PDIs",
                field=name,
                offset=at,
                expected=">= 64 bytes",
                actual=f"{length} bytes",
            )
        if length == 0 and name in ("NVDEC0_STATUS", "VBIOS_VERSION", "DRIVER_VERSION"):
            raise _fail("opaque field is empty", field=name, offset=at)
        fields.append(OpaqueField(type_id=type_id, name=name, value=value, offset=at + 4))
        pos += 4 + length
    opaque = OpaqueData(kind=kind, raw=bytes(data), fields=tuple(fields))
    # Decode the ASCII fields now so a malformed one is a parse error, not a later surprise.
    for name in ("DRIVER_VERSION", "CHIP_SKU", "PROJECT", "PROJECT_SKU", "CHIP_INFO"):
        opaque.text(name)
    if kind is DeviceKind.SWITCH and opaque.get("VBIOS_VERSION") is not None:
        opaque.vbios_version  # noqa: B018 - validates the ASCII form
    return opaque


@dataclass(frozen=True, slots=True, kw_only=True)
class MeasurementResponse:
    """The SPDM MEASUREMENTS response (§2.2) with its blocks and opaque data."""

    raw: bytes
    version: int
    code: int
    param1: int
    param2: int
    number_of_blocks: int
    record_length: int
    blocks: tuple[MeasurementBlock, ...]
    responder_nonce: bytes
    opaque_length: int
    opaque: OpaqueData
    signature: bytes

    def block(self, index: int) -> MeasurementBlock | None:
        """The block with 1-based ``index``, or None."""
        for b in self.blocks:
            if b.index == index:
                return b
        return None


@dataclass(frozen=True, slots=True, kw_only=True)
class AttestationReport:
    """A whole attestation report: request ‖ response, with the exact signed bytes."""

    raw: bytes
    request: MeasurementRequest
    response: MeasurementResponse

    @property
    def signed_bytes(self) -> bytes:
        """``request ‖ response`` minus the trailing 96-byte signature (§3.1)."""
        return self.raw[:-SIGNATURE_SIZE]

    @property
    def signature(self) -> bytes:
        """The raw ECDSA P-384 ``r ‖ s`` (96 bytes, big-endian)."""
        return self.raw[-SIGNATURE_SIZE:]


def split_report(data: bytes) -> tuple[bytes, bytes]:
    """Split a report into (signed bytes, 96-byte signature) after a size check only.

    Raises:
        ParseError: shorter than the smallest possible report, or larger than 64 KiB.
    """
    if not MIN_REPORT_SIZE < len(data) <= MAX_REPORT_SIZE:
        raise _fail(
            "attestation report has an impossible size",
            field="report",
            expected=f"{MIN_REPORT_SIZE + 1}..{MAX_REPORT_SIZE} bytes",
            actual=f"{len(data)} bytes",
        )
    return data[:-SIGNATURE_SIZE], data[-SIGNATURE_SIZE:]


def parse_request(data: bytes) -> MeasurementRequest:
    """Parse the 37-byte GET_MEASUREMENTS request (§2.1; §11 step 2).

    Raises:
        ParseError: wrong size, version, code, Param1 without the signature bit, Param2 != 0xFF.
    """
    r = Reader(data, platform=PLATFORM, structure="SPDM request")
    if len(data) != REQUEST_SIZE:
        raise _fail(
            "GET_MEASUREMENTS request is 37 bytes",
            field="request",
            expected="37 bytes",
            actual=f"{len(data)} bytes",
        )
    checks = (
        (0, "SPDMVersion", SPDM_VERSION_11, "0x11"),
        (1, "RequestResponseCode", GET_MEASUREMENTS, "0xe0 (GET_MEASUREMENTS)"),
        (3, "Param2", 0xFF, "0xff (all measurement blocks)"),
        (36, "SlotIDParam", 0x00, "0x00"),
    )
    for offset, name, want, text in checks:
        got = r.u8(offset, f"request.{name}")
        if got != want:
            raise _fail(
                "unexpected SPDM request field",
                field=f"request.{name}",
                offset=offset,
                expected=text,
                actual=f"{got:#04x}",
            )
    param1 = r.u8(2, "request.Param1")
    if not param1 & 0x01:
        raise _fail(
            "GET_MEASUREMENTS did not request a signature",
            field="request.Param1",
            offset=2,
            expected="bit 0 set",
            actual=f"{param1:#04x}",
        )
    return MeasurementRequest(
        raw=bytes(data),
        version=data[0],
        code=data[1],
        param1=param1,
        param2=data[3],
        nonce=bytes(data[4:36]),
        slot_id=data[36],
    )


def parse_response(
    data: bytes, kind: DeviceKind, *, base_offset: int = REQUEST_SIZE
) -> MeasurementResponse:
    """Parse a MEASUREMENTS response strictly (§2.2–§2.4; §11 step 3).

    Raises:
        NvidiaUnsupportedOpaqueError: versioned (NVDAOD) opaque data.
        ParseError: any inconsistency, or bytes after the 96-byte signature.
    """
    r = Reader(data, platform=PLATFORM, structure="SPDM response")
    for offset, name, want, text in (
        (0, "SPDMVersion", SPDM_VERSION_11, "0x11"),
        (1, "RequestResponseCode", MEASUREMENTS, "0x60 (MEASUREMENTS)"),
        (2, "Param1", 0x00, "0x00"),
        (3, "Param2", 0x00, "0x00"),
    ):
        got = r.u8(offset, f"response.{name}")
        if got != want:
            raise _fail(
                "unexpected SPDM response field",
                field=f"response.{name}",
                offset=base_offset + offset,
                expected=text,
                actual=f"{got:#04x}",
            )
    count = r.u8(4, "response.NumberOfBlocks")
    if count == 0:
        raise _fail(
            "response has no measurement blocks",
            field="response.NumberOfBlocks",
            offset=base_offset + 4,
            expected="> 0",
            actual=0,
        )
    record_length = int.from_bytes(r.bytes(5, 3, "response.MeasurementRecordLength"), "little")
    record = r.bytes(8, record_length, "response.MeasurementRecord")
    blocks = _parse_blocks(record, count, base_offset + 8)
    after = 8 + record_length
    responder_nonce = r.bytes(after, NONCE_SIZE, "response.Nonce")
    opaque_length = r.u16(after + NONCE_SIZE, "response.OpaqueLength")
    opaque_at = after + NONCE_SIZE + 2
    opaque_raw = r.bytes(opaque_at, opaque_length, "response.OpaqueData")
    sig_at = opaque_at + opaque_length
    signature = r.bytes(sig_at, SIGNATURE_SIZE, "response.Signature")
    if sig_at + SIGNATURE_SIZE != len(data):
        raise _fail(
            "bytes after the signature",
            field="response.Signature",
            offset=base_offset + sig_at + SIGNATURE_SIZE,
            expected=f"report ends at {base_offset + sig_at + SIGNATURE_SIZE}",
            actual=f"{base_offset + len(data)} bytes",
        )
    opaque = parse_opaque_data(opaque_raw, kind, base_offset=base_offset + opaque_at)
    return MeasurementResponse(
        raw=bytes(data),
        version=data[0],
        code=data[1],
        param1=data[2],
        param2=data[3],
        number_of_blocks=count,
        record_length=record_length,
        blocks=blocks,
        responder_nonce=responder_nonce,
        opaque_length=opaque_length,
        opaque=opaque,
        signature=signature,
    )


def _parse_blocks(record: bytes, count: int, base: int) -> tuple[MeasurementBlock, ...]:
    blocks: list[MeasurementBlock] = []
    seen: set[int] = set()
    pos = 0
    total = len(record)
    while pos < total:
        at = base + pos
        if pos + 7 > total:
            raise _fail(
                "measurement block header runs past the record",
                field="MeasurementBlock",
                offset=at,
                expected="7 header bytes",
                actual=f"{total - pos} bytes",
            )
        index, spec = record[pos], record[pos + 1]
        size = record[pos + 2] | record[pos + 3] << 8
        if spec != DMTF_MEASUREMENT_SPEC:
            raise _fail(
                "measurement block is not in DMTF format",
                field="MeasurementBlock.MeasurementSpecification",
                offset=at + 1,
                expected="0x01 (DMTF)",
                actual=f"{spec:#04x}",
            )
        if index == 0 or index in seen:
            raise _fail(
                "measurement block index is zero or repeated",
                field="MeasurementBlock.Index",
                offset=at,
                expected="unique, 1..255",
                actual=index,
            )
        seen.add(index)
        value_type = record[pos + 4]
        value_size = record[pos + 5] | record[pos + 6] << 8
        if size != 3 + value_size:
            raise _fail(
                "MeasurementSize does not equal 3 + DMTFSpecMeasurementValueSize",
                field="MeasurementBlock.MeasurementSize",
                offset=at + 2,
                expected=3 + value_size,
                actual=size,
            )
        if pos + 7 + value_size > total:
            raise _fail(
                "measurement value runs past the record",
                field="MeasurementBlock.value",
                offset=at + 7,
                expected=f"{value_size} bytes",
                actual=f"{total - pos - 7} bytes",
            )
        value = record[pos + 7 : pos + 7 + value_size]
        blocks.append(
            MeasurementBlock(
                index=index, spec=spec, value_type=value_type, value=value, offset=at + 7
            )
        )
        pos += 4 + size
    if len(blocks) != count:
        raise _fail(
            "NumberOfBlocks does not match the measurement record",
            field="response.NumberOfBlocks",
            offset=base - 4,
            expected=len(blocks),
            actual=count,
        )
    return tuple(blocks)


def parse_report(data: bytes, kind: DeviceKind) -> AttestationReport:
    """Parse a whole attestation report (request ‖ response) for a GPU or an NVSwitch.

    Raises:
        NvidiaUnsupportedOpaqueError: versioned (NVDAOD) opaque data.
        ParseError: any structural problem (field name and offset included).
    """
    split_report(data)
    request = parse_request(data[:REQUEST_SIZE])
    response = parse_response(data[REQUEST_SIZE:], kind)
    return AttestationReport(raw=bytes(data), request=request, response=response)
