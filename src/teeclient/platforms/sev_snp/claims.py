"""SnpClaims: the verified content of an SEV-SNP report, the only thing policy reads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from teeclient._time import iso
from teeclient.platforms.sev_snp.abi import (
    GuestPolicy,
    PlatformInfo,
    Product,
    SignerInfo,
    SigningKey,
    TcbVersion,
)

__all__ = ["HclBinding", "RevocationInfo", "SnpClaims", "VekInfo"]


@dataclass(frozen=True, slots=True, kw_only=True)
class VekInfo:
    """The endorsement key certificate that signed the report (after chain validation)."""

    kind: SigningKey
    subject: str
    issuer: str
    not_before: datetime
    not_after: datetime
    sha256: str
    product_name: str | None
    struct_version: int | None
    hwid: str | None
    csp_id: str | None
    source: str

    def to_dict(self) -> dict[str, object]:
        """JSON form."""
        return {
            "kind": self.kind.value,
            "subject": self.subject,
            "issuer": self.issuer,
            "not_before": iso(self.not_before),
            "not_after": iso(self.not_after),
            "sha256": self.sha256,
            "product_name": self.product_name,
            "struct_version": self.struct_version,
            "hwid": self.hwid,
            "csp_id": self.csp_id,
            "source": self.source,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class RevocationInfo:
    """Whether the ARK-signed CRL was checked, and the CRL's own validity window.

    Verification rejects a CRL with a bad signature and a listed intermediate; whether a
    missing or stale CRL is acceptable is for policy (``[revocation] amd_crl``).
    """

    checked: bool
    crl_sha256: str | None = None
    this_update: datetime | None = None
    next_update: datetime | None = None
    source: str | None = None

    def to_dict(self) -> dict[str, object]:
        """JSON form."""
        return {
            "checked": self.checked,
            "crl_sha256": self.crl_sha256,
            "this_update": iso(self.this_update) if self.this_update else None,
            "next_update": iso(self.next_update) if self.next_update else None,
            "source": self.source,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class HclBinding:
    """An Azure HCL wrapper whose runtime claims are bound by REPORT_DATA[0:32] (checked)."""

    runtime_claims_sha256: str
    runtime_claims_size: int

    def to_dict(self) -> dict[str, object]:
        """JSON form."""
        return {
            "runtime_claims_sha256": self.runtime_claims_sha256,
            "runtime_claims_size": self.runtime_claims_size,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class SnpClaims:
    """Every field of a verified SEV-SNP report; binary values as lowercase hex.

    Only ``teeclient.platforms.sev_snp.verify`` (and ``teeclient.testing``) build these:
    holding one means the report signature, the VEK chain to the pinned AMD roots at the
    verification time, and the VEK-to-report consistency rules all held.
    """

    kind: ClassVar[str] = "sev-snp"

    product: Product
    product_source: str
    version: int
    guest_svn: int
    policy: GuestPolicy
    family_id: str
    image_id: str
    vmpl: int
    signature_algo: int
    current_tcb: TcbVersion
    reported_tcb: TcbVersion
    committed_tcb: TcbVersion
    launch_tcb: TcbVersion
    platform_info: PlatformInfo
    signer_info: SignerInfo
    report_data: str
    measurement: str
    host_data: str
    id_key_digest: str
    author_key_digest: str
    report_id: str
    report_id_ma: str
    chip_id: str
    chip_id_bound: bool
    cpuid_fam_id: int | None
    cpuid_mod_id: int | None
    cpuid_step: int | None
    current_major: int
    current_minor: int
    current_build: int
    committed_major: int
    committed_minor: int
    committed_build: int
    launch_mit_vector: int | None
    current_mit_vector: int | None
    vek: VekInfo
    chain: tuple[str, ...]
    revocation: RevocationInfo
    report_sha256: str
    hcl: HclBinding | None = None

    def __post_init__(self) -> None:
        for name, size in (
            ("report_data", 64),
            ("measurement", 48),
            ("host_data", 32),
            ("chip_id", 64),
            ("family_id", 16),
            ("image_id", 16),
            ("id_key_digest", 48),
            ("author_key_digest", 48),
            ("report_id", 32),
            ("report_id_ma", 32),
        ):
            value = getattr(self, name)
            if len(value) != 2 * size or value != value.lower():
                raise ValueError(f"{name} must be {size} bytes of lowercase hex")

    @property
    def signing_key(self) -> SigningKey:
        """The key kind that signed the report."""
        return self.signer_info.signing_key

    @property
    def current_version(self) -> str:
        """Current firmware MAJOR.MINOR.BUILD."""
        return f"{self.current_major}.{self.current_minor}.{self.current_build}"

    @property
    def committed_version(self) -> str:
        """Committed firmware MAJOR.MINOR.BUILD."""
        return f"{self.committed_major}.{self.committed_minor}.{self.committed_build}"

    def summary(self) -> list[str]:
        """Human-readable lines for the CLI."""
        tcb = " ".join(f"{k}={v}" for k, v in self.reported_tcb.parts().items())
        issuer = self.vek.issuer.split(",")[0]
        return [
            f"{self.product.kds_name}, report v{self.version}, signed by "
            f"{self.signing_key.value.upper()} ({issuer}), firmware {self.current_version}",
            f"reported TCB {tcb}; VMPL {self.vmpl}; guest policy {self.policy.raw:#x}",
            f"measurement {self.measurement}",
            f"report_data {self.report_data}",
        ]

    def to_dict(self) -> dict[str, object]:
        """JSON form (the ``claims`` member of ``--json`` output)."""
        return {
            "product": self.product.value,
            "product_source": self.product_source,
            "version": self.version,
            "guest_svn": self.guest_svn,
            "policy": self.policy.to_dict(),
            "family_id": self.family_id,
            "image_id": self.image_id,
            "vmpl": self.vmpl,
            "signature_algo": self.signature_algo,
            "current_tcb": self.current_tcb.to_dict(),
            "reported_tcb": self.reported_tcb.to_dict(),
            "committed_tcb": self.committed_tcb.to_dict(),
            "launch_tcb": self.launch_tcb.to_dict(),
            "platform_info": self.platform_info.to_dict(),
            "signer_info": self.signer_info.to_dict(),
            "signing_key": self.signing_key.value,
            "report_data": self.report_data,
            "measurement": self.measurement,
            "host_data": self.host_data,
            "id_key_digest": self.id_key_digest,
            "author_key_digest": self.author_key_digest,
            "report_id": self.report_id,
            "report_id_ma": self.report_id_ma,
            "chip_id": self.chip_id,
            "chip_id_bound": self.chip_id_bound,
            "cpuid": None
            if self.cpuid_fam_id is None
            else {
                "family": self.cpuid_fam_id,
                "model": self.cpuid_mod_id,
                "stepping": self.cpuid_step,
            },
            "current_version": self.current_version,
            "committed_version": self.committed_version,
            "launch_mit_vector": None
            if self.launch_mit_vector is None
            else f"{self.launch_mit_vector:#x}",
            "current_mit_vector": None
            if self.current_mit_vector is None
            else f"{self.current_mit_vector:#x}",
            "vek": self.vek.to_dict(),
            "chain": list(self.chain),
            "revocation": self.revocation.to_dict(),
            "report_sha256": self.report_sha256,
            "hcl": self.hcl.to_dict() if self.hcl else None,
        }
