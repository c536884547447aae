"""Evidence signers: byte-exact SEV-SNP reports built from a spec and signed by a test VEK."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, utils

from teeclient.platforms.sev_snp.abi import REPORT_SIZE, SIGNED_SIZE, Product

__all__ = ["SnpReportSpec", "resign_snp_report", "tcb_bytes"]

_CPUID = {
    Product.MILAN: (0x19, 0x01, 0x01),
    Product.GENOA: (0x19, 0x11, 0x01),
    Product.TURIN: (0x1A, 0x02, 0x01),
}


def tcb_bytes(
    product: Product | str, *, bl: int, tee: int, snp: int, ucode: int, fmc: int = 0
) -> bytes:
    """Encode a TCB_VERSION with the product's layout (specs/sev-snp.md §3)."""
    if Product(product) is Product.TURIN:
        return bytes([fmc, bl, tee, snp, 0, 0, 0, ucode])
    return bytes([bl, tee, 0, 0, 0, 0, snp, ucode])


def _default_tcb() -> bytes:
    return tcb_bytes(Product.GENOA, bl=10, tee=0, snp=25, ucode=84)


@dataclass(frozen=True, slots=True, kw_only=True)
class SnpReportSpec:
    """Every field of an SEV-SNP report; ``build`` lays them out exactly as firmware does."""

    version: int = 5
    guest_svn: int = 0
    policy: int = 0x30000
    family_id: bytes = bytes(16)
    image_id: bytes = bytes(16)
    vmpl: int = 0
    signature_algo: int = 1
    current_tcb: bytes = dataclasses.field(default_factory=_default_tcb)
    platform_info: int = 0x25
    author_key_en: bool = False
    mask_chip_key: bool = False
    signing_key: int = 0
    report_data: bytes = bytes(64)
    measurement: bytes = bytes(48)
    host_data: bytes = bytes(32)
    id_key_digest: bytes = bytes(48)
    author_key_digest: bytes = bytes(48)
    report_id: bytes = bytes(range(32))
    report_id_ma: bytes = b"\xff" * 32
    reported_tcb: bytes = dataclasses.field(default_factory=_default_tcb)
    cpuid: tuple[int, int, int] | None = (0x19, 0x11, 0x01)
    chip_id: bytes = bytes(range(64))
    committed_tcb: bytes = dataclasses.field(default_factory=_default_tcb)
    current_version: tuple[int, int, int] = (1, 55, 43)
    committed_version: tuple[int, int, int] = (1, 55, 43)
    launch_tcb: bytes = dataclasses.field(default_factory=_default_tcb)
    launch_mit_vector: int = 1
    current_mit_vector: int = 1

    @classmethod
    def for_product(cls, product: Product | str, **changes: object) -> SnpReportSpec:
        """A plausible report for ``product`` (CPUID, Turin chip-id shape), then ``changes``."""
        product = Product(product)
        base: dict[str, object] = {"cpuid": _CPUID[product]}
        if product is Product.TURIN:
            tcb = tcb_bytes(product, fmc=0, bl=1, tee=0, snp=2, ucode=71)
            base.update(
                current_tcb=tcb,
                reported_tcb=tcb,
                committed_tcb=tcb,
                launch_tcb=tcb,
                chip_id=bytes(range(1, 9)) + bytes(56),
                platform_info=0x67,
            )
        elif product is Product.MILAN:
            tcb = tcb_bytes(product, bl=3, tee=0, snp=8, ucode=115)
            base.update(current_tcb=tcb, reported_tcb=tcb, committed_tcb=tcb, launch_tcb=tcb)
        base.update(changes)
        return cls(**base)  # type: ignore[arg-type]

    def replace(self, **changes: object) -> SnpReportSpec:
        """A copy with ``changes``."""
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    def unsigned(self) -> bytes:
        """The 1184 report bytes with an all-zero signature."""
        out = bytearray(REPORT_SIZE)

        def put(offset: int, value: bytes) -> None:
            out[offset : offset + len(value)] = value

        def u32(offset: int, value: int) -> None:
            put(offset, value.to_bytes(4, "little"))

        def u64(offset: int, value: int) -> None:
            put(offset, value.to_bytes(8, "little"))

        u32(0x000, self.version)
        u32(0x004, self.guest_svn)
        u64(0x008, self.policy)
        put(0x010, self.family_id)
        put(0x020, self.image_id)
        u32(0x030, self.vmpl)
        u32(0x034, self.signature_algo)
        put(0x038, self.current_tcb)
        u64(0x040, self.platform_info)
        u32(0x048, int(self.author_key_en) | int(self.mask_chip_key) << 1 | self.signing_key << 2)
        put(0x050, self.report_data)
        put(0x090, self.measurement)
        put(0x0C0, self.host_data)
        put(0x0E0, self.id_key_digest)
        put(0x110, self.author_key_digest)
        put(0x140, self.report_id)
        put(0x160, self.report_id_ma)
        put(0x180, self.reported_tcb)
        if self.version >= 3 and self.cpuid is not None:
            put(0x188, bytes(self.cpuid))
        put(0x1A0, self.chip_id)
        put(0x1E0, self.committed_tcb)
        build, minor, major = (
            self.current_version[2],
            self.current_version[1],
            self.current_version[0],
        )
        put(0x1E8, bytes([build, minor, major]))
        c_build, c_minor, c_major = (
            self.committed_version[2],
            self.committed_version[1],
            self.committed_version[0],
        )
        put(0x1EC, bytes([c_build, c_minor, c_major]))
        put(0x1F0, self.launch_tcb)
        if self.version >= 5:
            u64(0x1F8, self.launch_mit_vector)
            u64(0x200, self.current_mit_vector)
        return bytes(out)

    def build(self, key: ec.EllipticCurvePrivateKey) -> bytes:
        """The report signed by ``key`` (ECDSA P-384/SHA-384, r and s little-endian)."""
        return resign_snp_report(self.unsigned(), key)


def resign_snp_report(report: bytes, key: ec.EllipticCurvePrivateKey) -> bytes:
    """Sign ``report[0:0x2A0]`` with ``key`` and write r, s into the signature field."""
    if len(report) != REPORT_SIZE:
        raise ValueError(f"report must be {REPORT_SIZE} bytes")
    der = key.sign(report[:SIGNED_SIZE], ec.ECDSA(hashes.SHA384()))
    r, s = utils.decode_dss_signature(der)
    out = bytearray(report)
    out[0x2A0:0x2E8] = r.to_bytes(72, "little")
    out[0x2E8:0x330] = s.to_bytes(72, "little")
    return bytes(out)
