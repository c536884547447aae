"""[[sev_snp]] policy alternatives: the rule model (checks live in policy/checks/sev_snp.py)."""

from __future__ import annotations

from dataclasses import dataclass

from teeclient.errors import PolicyTypeError, PolicyValueError
from teeclient.policy._schema import (
    U64,
    Boolean,
    Custom,
    FlagSet,
    HexValues,
    IntChoices,
    Integer,
    KeyPath,
    Table,
    Text,
    Version,
    policy_field,
    render_path,
)
from teeclient.policy.sections import warn_only_field_type

__all__ = [
    "GUEST_POLICY_ALLOWABLE",
    "GUEST_POLICY_REQUIRABLE",
    "PLATFORM_INFO_ALLOWABLE",
    "PLATFORM_INFO_REQUIRABLE",
    "FirmwareMin",
    "GuestPolicyRule",
    "PlatformInfoRule",
    "SnpRule",
    "TcbMin",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class TcbMin:
    """Component-wise minimum of a TCB_VERSION ({fmc?, bl, tee, snp, ucode})."""

    fmc: int | None = policy_field(
        Integer(0, 255), "minimum FMC SPL (Turin only; ignored for Milan/Genoa)", default=None
    )
    bl: int | None = policy_field(Integer(0, 255), "minimum boot loader SPL", default=None)
    tee: int | None = policy_field(Integer(0, 255), "minimum TEE (PSP OS) SPL", default=None)
    snp: int | None = policy_field(Integer(0, 255), "minimum SNP firmware SPL", default=None)
    ucode: int | None = policy_field(Integer(0, 255), "minimum microcode SPL", default=None)

    def __post_init__(self) -> None:
        if all(v is None for v in (self.fmc, self.bl, self.tee, self.snp, self.ucode)):
            raise ValueError("a TCB minimum needs at least one of fmc, bl, tee, snp, ucode")

    def parts(self) -> dict[str, int]:
        """The components that are set."""
        items = {
            "fmc": self.fmc,
            "bl": self.bl,
            "tee": self.tee,
            "snp": self.snp,
            "ucode": self.ucode,
        }
        return {k: v for k, v in items.items() if v is not None}


@dataclass(frozen=True, slots=True, kw_only=True)
class FirmwareMin:
    """Minimum SEV firmware: a full version (compared in order) or API and build separately."""

    version: tuple[int, ...] | None = None
    api: tuple[int, int] | None = None
    build: int | None = None

    def describe(self) -> str:
        """Human form of the minimum."""
        if self.version is not None:
            return ">= " + ".".join(str(p) for p in self.version)
        parts = []
        if self.api is not None:
            parts.append(f"api >= {self.api[0]}.{self.api[1]}")
        if self.build is not None:
            parts.append(f"build >= {self.build}")
        return ", ".join(parts)


def _firmware(value: object, path: KeyPath) -> FirmwareMin:
    if isinstance(value, str):
        return FirmwareMin(version=Version(2, 3).convert(value, path))
    if isinstance(value, dict):
        unknown = set(value) - {"api", "build"}
        if unknown or not value:
            raise PolicyValueError(
                f"{render_path(path)} has an invalid value",
                key_path=render_path(path),
                expected="{api = 'MAJ.MIN', build = N} (one or both)",
                actual=repr(value),
            )
        api = Version(2, 2).convert(value["api"], (*path, "api")) if "api" in value else None
        build = (
            Integer(0, 255).convert(value["build"], (*path, "build")) if "build" in value else None
        )
        return FirmwareMin(api=(api[0], api[1]) if api else None, build=build)
    raise PolicyTypeError(
        f"{render_path(path)} has the wrong type",
        key_path=render_path(path),
        expected="'MAJ.MIN[.BUILD]' or {api, build}",
        actual=repr(value),
    )


_FIRMWARE = Custom(
    _firmware,
    {
        "oneOf": [
            {"type": "string", "pattern": r"^[0-9]+\.[0-9]+(\.[0-9]+)?$"},
            {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "api": {"type": "string", "pattern": r"^[0-9]+\.[0-9]+$"},
                    "build": {"type": "integer", "minimum": 0, "maximum": 255},
                },
            },
        ]
    },
)

GUEST_POLICY_ALLOWABLE = ("smt", "migrate_ma", "debug", "cxl")
GUEST_POLICY_REQUIRABLE = (
    "single_socket",
    "mem_aes_256_xts",
    "rapl_dis",
    "ciphertext_hiding",
    "page_swap_disable",
)
PLATFORM_INFO_ALLOWABLE = ("smt", "tsme", "tio", "bit6")
PLATFORM_INFO_REQUIRABLE = (
    "ecc",
    "rapl_disabled",
    "ciphertext_hiding_dram",
    "alias_check_complete",
    "bit6",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class GuestPolicyRule:
    """Guest POLICY bits: which risky bits may be set, which hardening bits must be set."""

    min_abi: tuple[int, ...] | None = policy_field(
        Version(2, 2), "minimum guest ABI 'MAJ.MIN' the guest policy declares", default=None
    )
    allow: frozenset[str] = policy_field(
        FlagSet(GUEST_POLICY_ALLOWABLE),
        "bits that may be set: smt, migrate_ma, debug, cxl (others must be clear)",
        default=frozenset({"smt"}),
    )
    require: frozenset[str] = policy_field(
        FlagSet(GUEST_POLICY_REQUIRABLE),
        "bits that must be set: single_socket, mem_aes_256_xts, rapl_dis, "
        "ciphertext_hiding, page_swap_disable",
        default=frozenset(),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class PlatformInfoRule:
    """PLATFORM_INFO bits: permitted host features, required host features, unknown bits."""

    allow: frozenset[str] = policy_field(
        FlagSet(PLATFORM_INFO_ALLOWABLE),
        "host features that may be enabled: smt, tsme, tio, bit6 (others must be off)",
        default=frozenset(PLATFORM_INFO_ALLOWABLE),
    )
    require: frozenset[str] = policy_field(
        FlagSet(PLATFORM_INFO_REQUIRABLE),
        "host features that must be enabled: ecc, rapl_disabled, ciphertext_hiding_dram, "
        "alias_check_complete, bit6 (Turin iommu_write_safe)",
        default=frozenset(),
    )
    unknown_bits: str = policy_field(
        Text(("ignore", "warn", "fail")),
        "what a set bit outside the known ones (8–63) does: ignore | warn | fail",
        default="warn",
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class SnpRule:
    """One [[sev_snp]] alternative: every rule set here must hold (AND)."""

    name: str | None = policy_field(Text(), "label shown in results", default=None)
    products: frozenset[str] | None = policy_field(
        FlagSet(("milan", "genoa", "turin")), "accepted product lines", default=None
    )
    signing_keys: frozenset[str] | None = policy_field(
        FlagSet(("vcek", "vlek")), "accepted endorsement key kinds", default=None
    )
    measurement: tuple[str, ...] | None = policy_field(
        HexValues(48), "MEASUREMENT: exact value or allow-list", default=None
    )
    host_data: tuple[str, ...] | None = policy_field(
        HexValues(32), "HOST_DATA: exact value or allow-list", default=None
    )
    family_id: tuple[str, ...] | None = policy_field(
        HexValues(16), "FAMILY_ID: exact value or allow-list", default=None
    )
    image_id: tuple[str, ...] | None = policy_field(
        HexValues(16), "IMAGE_ID: exact value or allow-list", default=None
    )
    report_id: tuple[str, ...] | None = policy_field(
        HexValues(32), "REPORT_ID: exact value or allow-list", default=None
    )
    report_id_ma: tuple[str, ...] | None = policy_field(
        HexValues(32), "REPORT_ID_MA: exact value or allow-list", default=None
    )
    report_data: tuple[str, ...] | None = policy_field(
        HexValues(64), "REPORT_DATA: exact value or allow-list", default=None
    )
    chip_ids: tuple[str, ...] | None = policy_field(
        HexValues(64), "CHIP_ID allow-list (Turin ids zero-padded to 64 bytes)", default=None
    )
    allow_masked_chip_id: bool = policy_field(
        Boolean(),
        "accept MASK_CHIP_KEY = 1 (CHIP_ID all zero, VCEK bound by TCB only)",
        default=False,
    )
    vmpl: tuple[int, ...] | None = policy_field(
        IntChoices(0, 3), "VMPL: a value or a list (AWS VLEK guests report 1)", default=None
    )
    min_guest_svn: int | None = policy_field(Integer(), "minimum GUEST_SVN", default=None)
    guest_policy: GuestPolicyRule = policy_field(
        Table(GuestPolicyRule), "guest POLICY rules", factory=GuestPolicyRule
    )
    platform_info: PlatformInfoRule = policy_field(
        Table(PlatformInfoRule), "PLATFORM_INFO rules", factory=PlatformInfoRule
    )
    min_tcb: TcbMin | None = policy_field(
        Table(TcbMin), "minimum REPORTED_TCB, component-wise", default=None
    )
    min_launch_tcb: TcbMin | None = policy_field(
        Table(TcbMin), "minimum LAUNCH_TCB, component-wise", default=None
    )
    min_firmware: FirmwareMin | None = policy_field(
        _FIRMWARE,
        "minimum firmware: 'MAJ.MIN.BUILD' (ordered) or {api = 'MAJ.MIN', build = N}",
        default=None,
    )
    permit_provisional_firmware: bool = policy_field(
        Boolean(),
        "accept COMMITTED < CURRENT (TCB, version, build); otherwise they must be equal",
        default=False,
    )
    require_id_block: bool = policy_field(
        Boolean(),
        "ID_KEY_DIGEST must be trusted (directly or through a trusted author key)",
        default=False,
    )
    require_author_key: bool = policy_field(
        Boolean(), "AUTHOR_KEY_EN must be set and AUTHOR_KEY_DIGEST trusted", default=False
    )
    trusted_id_key_hashes: tuple[str, ...] | None = policy_field(
        HexValues(48), "trusted ID key digests (SHA-384 of the SEV-format key)", default=None
    )
    trusted_author_key_hashes: tuple[str, ...] | None = policy_field(
        HexValues(48), "trusted author key digests", default=None
    )
    min_launch_mitigation_vector: int | None = policy_field(
        U64(), "bits LAUNCH_MIT_VECTOR must contain (report v5+)", default=None
    )
    min_current_mitigation_vector: int | None = policy_field(
        U64(), "bits CURRENT_MIT_VECTOR must contain (report v5+)", default=None
    )
    warn_only: frozenset[str] = policy_field(
        warn_only_field_type("sev_snp"),
        "check ids that report 'warn' instead of 'fail'",
        default=frozenset(),
    )
