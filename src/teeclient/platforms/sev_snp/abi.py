"""SEV-SNP report bytes ↔ frozen structures (SEV-SNP ABI spec 56860 §7.3); structure checks only.

Nothing here verifies a signature or applies policy: ``parse_report`` checks the size, the
version, the signature algorithm, every must-be-zero range and reserved bit, and returns a
``SnpReport`` holding the decoded fields next to the exact signed bytes (specs/sev-snp.md §1–§4).
"""

from __future__ import annotations

import enum
import struct
import uuid
from dataclasses import dataclass

from teeclient._binary import Reader, require_zero
from teeclient.errors import ParseError, UnsupportedFormatError

__all__ = [
    "CERT_TABLE_GUIDS",
    "REPORT_SIZE",
    "SIGNED_SIZE",
    "CertTableEntry",
    "GuestPolicy",
    "HclReport",
    "PlatformInfo",
    "Product",
    "SignerInfo",
    "SigningKey",
    "SnpReport",
    "TcbVersion",
    "decode_tcb",
    "parse_cert_table",
    "parse_hcl_report",
    "parse_report",
    "product_from_cpuid",
]

PLATFORM = "sev-snp"
REPORT_SIZE = 0x4A0
SIGNED_SIZE = 0x2A0
SIGNATURE_OFFSET = 0x2A0
_COMPONENT_SIZE = 72
_P384_BYTES = 48
SUPPORTED_VERSIONS = frozenset({2, 3, 4, 5})


class Product(enum.StrEnum):
    """AMD EPYC product lines with SEV-SNP (specs/sev-snp.md §4)."""

    MILAN = "milan"
    GENOA = "genoa"
    TURIN = "turin"

    @property
    def kds_name(self) -> str:
        """The product name as AMD KDS and certificate names spell it (``Milan``)."""
        return self.value.capitalize()


class SigningKey(enum.StrEnum):
    """SIGNER_INFO.SIGNING_KEY: which endorsement key signed the report."""

    VCEK = "vcek"
    VLEK = "vlek"
    NONE = "none"


_SIGNING_KEY_CODES = {0: SigningKey.VCEK, 1: SigningKey.VLEK, 7: SigningKey.NONE}

# CPUID (extended family + family, extended model ‖ model) -> product (go-sev-guest abi).
_CPUID_PRODUCTS = {
    (0x19, 0x01): Product.MILAN,
    (0x19, 0x11): Product.GENOA,
    (0x1A, 0x02): Product.TURIN,
}


def product_from_cpuid(family: int, model: int) -> Product | None:
    """The product for a CPUID family/model pair, or None if unknown."""
    return _CPUID_PRODUCTS.get((family, model))


@dataclass(frozen=True, slots=True, kw_only=True)
class TcbVersion:
    """A TCB_VERSION decoded with its product's layout (specs/sev-snp.md §3).

    ``fmc`` is present only on Turin. ``reserved`` holds the layout's reserved bytes in order
    (Milan/Genoa bytes 2–5, Turin bytes 4–6), which KDS certificates call spl4–spl7.
    """

    raw: bytes
    product: Product
    bl: int
    tee: int
    snp: int
    ucode: int
    fmc: int | None
    reserved: bytes

    def __post_init__(self) -> None:
        if len(self.raw) != 8:
            raise ValueError("TCB_VERSION is 8 bytes")

    def parts(self) -> dict[str, int]:
        """The named SPL components (fmc only on Turin)."""
        out = {"bl": self.bl, "tee": self.tee, "snp": self.snp, "ucode": self.ucode}
        if self.fmc is not None:
            out = {"fmc": self.fmc, **out}
        return out

    def dominates(self, other: TcbVersion) -> bool:
        """True if every component of self is >= the same component of ``other``."""
        mine, theirs = self.parts(), other.parts()
        return all(mine[k] >= v for k, v in theirs.items() if k in mine)

    def to_dict(self) -> dict[str, object]:
        """JSON form: raw hex plus the named parts."""
        return {"raw": self.raw.hex(), **self.parts()}


def decode_tcb(raw: bytes, product: Product) -> TcbVersion:
    """Decode 8 TCB_VERSION bytes with ``product``'s layout."""
    if len(raw) != 8:
        raise ValueError("TCB_VERSION is 8 bytes")
    if product is Product.TURIN:
        return TcbVersion(
            raw=raw,
            product=product,
            fmc=raw[0],
            bl=raw[1],
            tee=raw[2],
            snp=raw[3],
            ucode=raw[7],
            reserved=raw[4:7],
        )
    return TcbVersion(
        raw=raw,
        product=product,
        fmc=None,
        bl=raw[0],
        tee=raw[1],
        snp=raw[6],
        ucode=raw[7],
        reserved=raw[2:6],
    )


_POLICY_FLAGS = (
    (16, "smt"),
    (18, "migrate_ma"),
    (19, "debug"),
    (20, "single_socket"),
    (21, "cxl_allow"),
    (22, "mem_aes_256_xts"),
    (23, "rapl_dis"),
    (24, "ciphertext_hiding"),
    (25, "page_swap_disable"),
)
_POLICY_MBO_BIT = 17
_POLICY_RESERVED_MASK = ~((1 << 26) - 1) & 0xFFFF_FFFF_FFFF_FFFF


@dataclass(frozen=True, slots=True, kw_only=True)
class GuestPolicy:
    """The guest POLICY field (specs/sev-snp.md §2.2)."""

    raw: int
    abi_major: int
    abi_minor: int
    smt: bool
    migrate_ma: bool
    debug: bool
    single_socket: bool
    cxl_allow: bool
    mem_aes_256_xts: bool
    rapl_dis: bool
    ciphertext_hiding: bool
    page_swap_disable: bool

    @classmethod
    def decode(cls, raw: int) -> GuestPolicy:
        """Decode a POLICY value (reserved bits are checked by ``parse_report``)."""
        flags = {name: bool(raw >> bit & 1) for bit, name in _POLICY_FLAGS}
        return cls(raw=raw, abi_major=raw >> 8 & 0xFF, abi_minor=raw & 0xFF, **flags)

    def flags(self) -> dict[str, bool]:
        """Each named flag and its value."""
        return {name: getattr(self, name) for _, name in _POLICY_FLAGS}

    def to_dict(self) -> dict[str, object]:
        """JSON form."""
        return {
            "raw": f"{self.raw:#x}",
            "abi": f"{self.abi_major}.{self.abi_minor}",
            **self.flags(),
        }


_PLATFORM_INFO_FLAGS = (
    (0, "smt_en"),
    (1, "tsme_en"),
    (2, "ecc_en"),
    (3, "rapl_dis"),
    (4, "ciphertext_hiding_dram_en"),
    (5, "alias_check_complete"),
    (6, "bit6"),
    (7, "tio_en"),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class PlatformInfo:
    """PLATFORM_INFO (specs/sev-snp.md §2.3). Unknown bits are kept, never rejected here."""

    raw: int
    smt_en: bool
    tsme_en: bool
    ecc_en: bool
    rapl_dis: bool
    ciphertext_hiding_dram_en: bool
    alias_check_complete: bool
    bit6: bool
    tio_en: bool
    unknown_bits: int

    @classmethod
    def decode(cls, raw: int) -> PlatformInfo:
        """Decode a PLATFORM_INFO value."""
        flags = {name: bool(raw >> bit & 1) for bit, name in _PLATFORM_INFO_FLAGS}
        return cls(raw=raw, unknown_bits=raw & ~0xFF, **flags)

    def flags(self) -> dict[str, bool]:
        """Each named flag and its value."""
        return {name: getattr(self, name) for _, name in _PLATFORM_INFO_FLAGS}

    def to_dict(self) -> dict[str, object]:
        """JSON form."""
        return {"raw": f"{self.raw:#x}", **self.flags(), "unknown_bits": f"{self.unknown_bits:#x}"}


@dataclass(frozen=True, slots=True, kw_only=True)
class SignerInfo:
    """SIGNER_INFO (specs/sev-snp.md §2.4)."""

    raw: int
    author_key_en: bool
    mask_chip_key: bool
    signing_key: SigningKey

    def to_dict(self) -> dict[str, object]:
        """JSON form."""
        return {
            "raw": f"{self.raw:#x}",
            "author_key_en": self.author_key_en,
            "mask_chip_key": self.mask_chip_key,
            "signing_key": self.signing_key.value,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class SnpReport:
    """A parsed ATTESTATION_REPORT. TCB fields are raw bytes: their layout depends on product."""

    raw: bytes
    version: int
    guest_svn: int
    policy: GuestPolicy
    family_id: bytes
    image_id: bytes
    vmpl: int
    signature_algo: int
    current_tcb: bytes
    platform_info: PlatformInfo
    signer_info: SignerInfo
    report_data: bytes
    measurement: bytes
    host_data: bytes
    id_key_digest: bytes
    author_key_digest: bytes
    report_id: bytes
    report_id_ma: bytes
    reported_tcb: bytes
    cpuid_fam_id: int | None
    cpuid_mod_id: int | None
    cpuid_step: int | None
    chip_id: bytes
    committed_tcb: bytes
    current_build: int
    current_minor: int
    current_major: int
    committed_build: int
    committed_minor: int
    committed_major: int
    launch_tcb: bytes
    launch_mit_vector: int | None
    current_mit_vector: int | None
    signature_r: bytes
    signature_s: bytes

    def __post_init__(self) -> None:
        if len(self.raw) != REPORT_SIZE:
            raise ValueError(f"an SNP report is {REPORT_SIZE} bytes")
        if len(self.measurement) != 48 or len(self.report_data) != 64 or len(self.chip_id) != 64:
            raise ValueError("SNP report field sizes are fixed")

    @property
    def signed_bytes(self) -> bytes:
        """``report[0:0x2A0]``, the bytes the signature covers."""
        return self.raw[:SIGNED_SIZE]

    @property
    def cpuid_product(self) -> Product | None:
        """The product named by the CPUID bytes (v3+), or None."""
        if self.cpuid_fam_id is None or self.cpuid_mod_id is None:
            return None
        return product_from_cpuid(self.cpuid_fam_id, self.cpuid_mod_id)

    @property
    def current_version(self) -> str:
        """Firmware version MAJOR.MINOR.BUILD."""
        return f"{self.current_major}.{self.current_minor}.{self.current_build}"

    @property
    def committed_version(self) -> str:
        """Committed firmware version MAJOR.MINOR.BUILD."""
        return f"{self.committed_major}.{self.committed_minor}.{self.committed_build}"


# Every fixed field of the report in one little-endian layout (offsets in the comments).
_LAYOUT = struct.Struct(
    "<"
    "I"  # 0x000 VERSION
    "I"  # 0x004 GUEST_SVN
    "Q"  # 0x008 POLICY
    "16s"  # 0x010 FAMILY_ID
    "16s"  # 0x020 IMAGE_ID
    "I"  # 0x030 VMPL
    "I"  # 0x034 SIGNATURE_ALGO
    "8s"  # 0x038 CURRENT_TCB
    "Q"  # 0x040 PLATFORM_INFO
    "I"  # 0x048 SIGNER_INFO
    "4s"  # 0x04C reserved
    "64s"  # 0x050 REPORT_DATA
    "48s"  # 0x090 MEASUREMENT
    "32s"  # 0x0C0 HOST_DATA
    "48s"  # 0x0E0 ID_KEY_DIGEST
    "48s"  # 0x110 AUTHOR_KEY_DIGEST
    "32s"  # 0x140 REPORT_ID
    "32s"  # 0x160 REPORT_ID_MA
    "8s"  # 0x180 REPORTED_TCB
    "B"  # 0x188 CPUID_FAM_ID
    "B"  # 0x189 CPUID_MOD_ID
    "B"  # 0x18A CPUID_STEP
    "21s"  # 0x18B reserved
    "64s"  # 0x1A0 CHIP_ID
    "8s"  # 0x1E0 COMMITTED_TCB
    "B"  # 0x1E8 CURRENT_BUILD
    "B"  # 0x1E9 CURRENT_MINOR
    "B"  # 0x1EA CURRENT_MAJOR
    "B"  # 0x1EB reserved
    "B"  # 0x1EC COMMITTED_BUILD
    "B"  # 0x1ED COMMITTED_MINOR
    "B"  # 0x1EE COMMITTED_MAJOR
    "B"  # 0x1EF reserved
    "8s"  # 0x1F0 LAUNCH_TCB
    "Q"  # 0x1F8 LAUNCH_MIT_VECTOR
    "Q"  # 0x200 CURRENT_MIT_VECTOR
    "152s"  # 0x208 reserved
    "72s"  # 0x2A0 SIGNATURE.R
    "72s"  # 0x2E8 SIGNATURE.S
    "368s"  # 0x330 SIGNATURE reserved
)
assert _LAYOUT.size == REPORT_SIZE


def _malformed(
    message: str, field: str, offset: int, expected: object, actual: object
) -> ParseError:
    return ParseError(
        message, platform=PLATFORM, field=field, offset=offset, expected=expected, actual=actual
    )


def parse_report(data: bytes) -> SnpReport:
    """Parse a 1184-byte SEV-SNP report (a longer buffer must be split by the caller).

    Raises:
        ParseError: wrong size, a non-zero reserved range, a reserved bit, bad SIGNING_KEY.
        UnsupportedFormatError: VERSION not in {2, 3, 4, 5} or SIGNATURE_ALGO != 1.
    """
    if len(data) != REPORT_SIZE:
        raise _malformed(
            "an SEV-SNP report is exactly 1184 bytes",
            "report",
            0,
            f"{REPORT_SIZE} bytes",
            f"{len(data)} bytes",
        )
    data = bytes(data)
    (
        version,
        guest_svn,
        policy_raw,
        family_id,
        image_id,
        vmpl,
        signature_algo,
        current_tcb,
        platform_info,
        signer_raw,
        rsvd_04c,
        report_data,
        measurement,
        host_data,
        id_key_digest,
        author_key_digest,
        report_id,
        report_id_ma,
        reported_tcb,
        cpuid_fam,
        cpuid_mod,
        cpuid_step,
        rsvd_18b,
        chip_id,
        committed_tcb,
        current_build,
        current_minor,
        current_major,
        rsvd_1eb,
        committed_build,
        committed_minor,
        committed_major,
        rsvd_1ef,
        launch_tcb,
        launch_mit,
        current_mit,
        rsvd_208,
        sig_r,
        sig_s,
        rsvd_330,
    ) = _LAYOUT.unpack(data)
    if version not in SUPPORTED_VERSIONS:
        raise UnsupportedFormatError(
            "unsupported report version",
            platform=PLATFORM,
            field="VERSION",
            offset=0,
            expected="2, 3, 4 or 5",
            actual=version,
        )
    if signature_algo != 1:
        raise UnsupportedFormatError(
            "unsupported signature algorithm",
            platform=PLATFORM,
            field="SIGNATURE_ALGO",
            offset=0x34,
            expected="1 (ECDSA P-384 with SHA-384)",
            actual=signature_algo,
        )
    if not policy_raw >> _POLICY_MBO_BIT & 1:
        raise _malformed(
            "POLICY bit 17 must be one", "POLICY", 0x8, "bit 17 set", f"{policy_raw:#x}"
        )
    if policy_raw & _POLICY_RESERVED_MASK:
        raise _malformed(
            "POLICY reserved bits 26–63 must be zero",
            "POLICY",
            0x8,
            "bits 26–63 clear",
            f"{policy_raw:#x}",
        )
    if signer_raw >> 5:
        raise _malformed(
            "SIGNER_INFO reserved bits 5–31 must be zero",
            "SIGNER_INFO",
            0x48,
            "bits 5–31 clear",
            f"{signer_raw:#x}",
        )
    signing_code = signer_raw >> 2 & 0x7
    signing_key = _SIGNING_KEY_CODES.get(signing_code)
    if signing_key is None:
        raise _malformed(
            "reserved SIGNING_KEY value",
            "SIGNER_INFO.SIGNING_KEY",
            0x48,
            "0 (VCEK), 1 (VLEK) or 7 (none)",
            signing_code,
        )
    if vmpl > 3:
        raise _malformed("VMPL out of range", "VMPL", 0x30, "0–3", vmpl)
    zero_ranges: list[tuple[int, bytes, str]] = [
        (0x04C, rsvd_04c, "reserved@0x4C"),
        (0x1EB, bytes([rsvd_1eb]), "reserved@0x1EB"),
        (0x1EF, bytes([rsvd_1ef]), "reserved@0x1EF"),
        (0x208, rsvd_208, "reserved@0x208"),
        (0x330, rsvd_330, "SIGNATURE reserved@0x330"),
    ]
    if version == 2:
        zero_ranges.append(
            (0x188, bytes([cpuid_fam, cpuid_mod, cpuid_step]) + rsvd_18b, "reserved@0x188")
        )
        cpuid: tuple[int | None, int | None, int | None] = (None, None, None)
    else:
        zero_ranges.append((0x18B, rsvd_18b, "reserved@0x18B"))
        cpuid = (cpuid_fam, cpuid_mod, cpuid_step)
    launch_vector: int | None = launch_mit
    current_vector: int | None = current_mit
    if version < 5:
        zero_ranges.append(
            (0x1F8, data[0x1F8:0x208], "reserved@0x1F8 (mitigation vectors before v5)")
        )
        launch_vector = current_vector = None
    for offset, chunk, name in sorted(zero_ranges):
        if any(chunk):
            require_zero(chunk, offset=offset, field=name, platform=PLATFORM)
    return SnpReport(
        raw=data,
        version=version,
        guest_svn=guest_svn,
        policy=GuestPolicy.decode(policy_raw),
        family_id=family_id,
        image_id=image_id,
        vmpl=vmpl,
        signature_algo=signature_algo,
        current_tcb=current_tcb,
        platform_info=PlatformInfo.decode(platform_info),
        signer_info=SignerInfo(
            raw=signer_raw,
            author_key_en=bool(signer_raw & 1),
            mask_chip_key=bool(signer_raw >> 1 & 1),
            signing_key=signing_key,
        ),
        report_data=report_data,
        measurement=measurement,
        host_data=host_data,
        id_key_digest=id_key_digest,
        author_key_digest=author_key_digest,
        report_id=report_id,
        report_id_ma=report_id_ma,
        reported_tcb=reported_tcb,
        cpuid_fam_id=cpuid[0],
        cpuid_mod_id=cpuid[1],
        cpuid_step=cpuid[2],
        chip_id=chip_id,
        committed_tcb=committed_tcb,
        current_build=current_build,
        current_minor=current_minor,
        current_major=current_major,
        committed_build=committed_build,
        committed_minor=committed_minor,
        committed_major=committed_major,
        launch_tcb=launch_tcb,
        launch_mit_vector=launch_vector,
        current_mit_vector=current_vector,
        signature_r=sig_r,
        signature_s=sig_s,
    )


def signature_components(raw: bytes) -> tuple[int, int] | None:
    """(r, s) of a report's signature as integers, or None if either exceeds 48 bytes.

    Works on the raw buffer so the signature can be checked before the report is parsed.
    """
    r_bytes = raw[SIGNATURE_OFFSET : SIGNATURE_OFFSET + _COMPONENT_SIZE]
    s_bytes = raw[SIGNATURE_OFFSET + _COMPONENT_SIZE : SIGNATURE_OFFSET + 2 * _COMPONENT_SIZE]
    if len(r_bytes) != _COMPONENT_SIZE or len(s_bytes) != _COMPONENT_SIZE:
        return None
    if any(r_bytes[_P384_BYTES:]) or any(s_bytes[_P384_BYTES:]):
        return None
    return int.from_bytes(r_bytes, "little"), int.from_bytes(s_bytes, "little")


# --- extended report certificate table (specs/sev-snp.md §5.6) -----------------------------

CERT_TABLE_GUIDS = {
    uuid.UUID("63da758d-e664-4564-adc5-f4b93be8accd"): "vcek",
    uuid.UUID("a8074bc2-a25a-483e-aae6-39c045a0b8a1"): "vlek",
    uuid.UUID("4ab7b379-bbac-4fe4-a02f-05aef327c782"): "ask",
    uuid.UUID("c0b406a4-a803-4952-9743-3fb6014cd0ae"): "ark",
    uuid.UUID("ecae0c0f-9502-43b1-afa2-0ae2e0d565b6"): "extra_platform_info",
}
_MAX_CERT_TABLE_ENTRIES = 64
_MAX_CERT_TABLE_BYTES = 1 << 20


@dataclass(frozen=True, slots=True, kw_only=True)
class CertTableEntry:
    """One certificate-table entry: GUID, its known role (or None) and the raw data."""

    guid: uuid.UUID
    role: str | None
    data: bytes


def parse_cert_table(data: bytes) -> tuple[CertTableEntry, ...]:
    """Parse an extended-report certificate table (entries end with an all-zero entry).

    Offsets are relative to the start of the table; every entry's data must lie after the
    terminator and inside ``data``.

    Raises:
        ParseError: truncated, unterminated, duplicate GUIDs, too many entries, or entries
            out of bounds.
    """
    if len(data) > _MAX_CERT_TABLE_BYTES:
        raise ParseError(
            "certificate table too large",
            platform=PLATFORM,
            field="cert_table",
            expected=f"<= {_MAX_CERT_TABLE_BYTES} bytes",
            actual=f"{len(data)} bytes",
        )
    r = Reader(data, platform=PLATFORM, structure="certificate table")
    raw_entries: list[tuple[int, uuid.UUID, int, int]] = []
    seen: set[uuid.UUID] = set()
    index = 0
    while True:
        base = index * 24
        guid_bytes = r.bytes(base, 16, f"cert_table[{index}].guid")
        offset = r.u32(base + 16, f"cert_table[{index}].offset")
        length = r.u32(base + 20, f"cert_table[{index}].length")
        if guid_bytes == bytes(16):
            if offset or length:
                raise ParseError(
                    "terminating entry must be all zero",
                    platform=PLATFORM,
                    field=f"cert_table[{index}]",
                    offset=base,
                )
            break
        if index >= _MAX_CERT_TABLE_ENTRIES:
            raise ParseError(
                "certificate table has too many entries",
                platform=PLATFORM,
                field="cert_table",
                expected=f"<= {_MAX_CERT_TABLE_ENTRIES} entries",
            )
        guid = uuid.UUID(bytes=guid_bytes)
        if guid in seen:
            raise ParseError(
                "duplicate GUID in certificate table",
                platform=PLATFORM,
                field=f"cert_table[{index}].guid",
                actual=str(guid),
            )
        seen.add(guid)
        raw_entries.append((index, guid, offset, length))
        index += 1
    table_end = (index + 1) * 24
    entries: list[CertTableEntry] = []
    for entry_index, guid, offset, length in raw_entries:
        if offset < table_end or offset + length > len(data):
            raise ParseError(
                "certificate table entry out of bounds",
                platform=PLATFORM,
                field=f"cert_table[{entry_index}]",
                expected=f"data within {table_end}..{len(data)}",
                actual=f"{offset}..{offset + length}",
            )
        entries.append(
            CertTableEntry(
                guid=guid, role=CERT_TABLE_GUIDS.get(guid), data=data[offset : offset + length]
            )
        )
    return tuple(entries)


# --- Azure HCL wrapper (specs/sev-snp.md §10.12) ---------------------------------------------

HCL_MAGIC = b"HCLA"
_HCL_HEADER = 32
_HCL_RUNTIME = _HCL_HEADER + REPORT_SIZE
_MAX_HCL_CLAIMS = 64 * 1024


@dataclass(frozen=True, slots=True, kw_only=True)
class HclReport:
    """An Azure HCL report: the SNP report plus the runtime claims it binds."""

    report: bytes
    report_type: int
    hash_type: int
    runtime_claims: bytes


def parse_hcl_report(data: bytes) -> HclReport:
    """Split an Azure HCL report into the SNP report and the runtime-claims JSON bytes.

    Raises:
        ParseError: missing magic, truncated, or a claims size that does not fit.
    """
    r = Reader(data, platform=PLATFORM, structure="Azure HCL report")
    if r.bytes(0, 4, "HCL.signature") != HCL_MAGIC:
        raise ParseError(
            "not an Azure HCL report",
            platform=PLATFORM,
            field="HCL.signature",
            expected="HCLA",
            actual=data[:4].hex(),
        )
    report = r.bytes(_HCL_HEADER, REPORT_SIZE, "HCL.report")
    report_type = r.u32(_HCL_RUNTIME + 8, "HCL.runtime.report_type")
    hash_type = r.u32(_HCL_RUNTIME + 12, "HCL.runtime.hash_type")
    claim_size = r.u32(_HCL_RUNTIME + 16, "HCL.runtime.claim_size")
    if claim_size > _MAX_HCL_CLAIMS:
        raise ParseError(
            "HCL runtime claims too large",
            platform=PLATFORM,
            field="HCL.runtime.claim_size",
            expected=f"<= {_MAX_HCL_CLAIMS}",
            actual=claim_size,
        )
    if report_type != 2:
        raise UnsupportedFormatError(
            "HCL report does not carry an SEV-SNP report",
            platform=PLATFORM,
            field="HCL.runtime.report_type",
            expected=2,
            actual=report_type,
        )
    claims = r.bytes(_HCL_RUNTIME + 20, claim_size, "HCL.runtime.claims")
    return HclReport(
        report=report, report_type=report_type, hash_type=hash_type, runtime_claims=claims
    )
