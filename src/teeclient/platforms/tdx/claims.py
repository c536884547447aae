"""TdxClaims: the verified content of an Intel TDX quote, the only thing policy reads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from teeclient._time import iso
from teeclient.platforms.tdx.abi import TdAttributes
from teeclient.platforms.tdx.status import TcbStatus
from teeclient.platforms.tdx.tcb import TcbEvaluation

__all__ = ["CollateralInfo", "PckInfo", "QeReportInfo", "RevocationInfo", "TdxClaims"]


@dataclass(frozen=True, slots=True, kw_only=True)
class PckInfo:
    """The PCK leaf certificate after path validation, and its SGX extensions."""

    subject: str
    issuer: str
    ca: str
    serial: str
    not_before: datetime
    not_after: datetime
    sha256: str
    fmspc: str
    pce_id: str
    ppid: str
    sgx_tcb_components: tuple[int, ...]
    pce_svn: int
    cpu_svn: str
    sgx_type: int

    def to_dict(self) -> dict[str, object]:
        """JSON form."""
        return {
            "subject": self.subject,
            "issuer": self.issuer,
            "ca": self.ca,
            "serial": self.serial,
            "not_before": iso(self.not_before),
            "not_after": iso(self.not_after),
            "sha256": self.sha256,
            "fmspc": self.fmspc,
            "pceid": self.pce_id,
            "ppid": self.ppid,
            "sgx_tcb_comp_svns": list(self.sgx_tcb_components),
            "pcesvn": self.pce_svn,
            "cpusvn": self.cpu_svn,
            "sgx_type": self.sgx_type,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class QeReportInfo:
    """The Quoting Enclave's report (signed by the PCK key, matched to the QE Identity)."""

    isvsvn: int
    isvprodid: int
    mrsigner: str
    mrenclave: str
    miscselect: int
    attributes: str

    def to_dict(self) -> dict[str, object]:
        """JSON form."""
        return {
            "isvsvn": self.isvsvn,
            "isvprodid": self.isvprodid,
            "mrsigner": self.mrsigner,
            "mrenclave": self.mrenclave,
            "miscselect": self.miscselect,
            "attributes": self.attributes,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class CollateralInfo:
    """A verified TCB Info or QE Identity: its validity window and where it came from.

    The signature and issuer chain were verified; whether the window covers the verification
    time is for policy (``tdx.collateral.*`` checks, ``collateral_expiry_grace``).
    """

    id: str
    version: int
    issue_date: datetime
    next_update: datetime
    tcb_evaluation_data_number: int
    sha256: str
    signer_sha256: str
    source: str

    def to_dict(self) -> dict[str, object]:
        """JSON form."""
        return {
            "id": self.id,
            "version": self.version,
            "issue_date": iso(self.issue_date),
            "next_update": iso(self.next_update),
            "tcb_evaluation_data_number": self.tcb_evaluation_data_number,
            "sha256": self.sha256,
            "signer_sha256": self.signer_sha256,
            "source": self.source,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class RevocationInfo:
    """Whether a CRL was applied (signature verified, certificate not listed), and its window.

    A revoked certificate or a badly signed CRL fails verification; whether a missing or stale
    CRL is acceptable is for policy (``[revocation] intel_crl``).
    """

    checked: bool
    issuer: str | None = None
    crl_sha256: str | None = None
    this_update: datetime | None = None
    next_update: datetime | None = None
    source: str | None = None

    def to_dict(self) -> dict[str, object]:
        """JSON form."""
        return {
            "checked": self.checked,
            "issuer": self.issuer,
            "crl_sha256": self.crl_sha256,
            "this_update": iso(self.this_update) if self.this_update else None,
            "next_update": iso(self.next_update) if self.next_update else None,
            "source": self.source,
        }


_HEX_SIZES = (
    ("qe_vendor_id", 16),
    ("user_data", 20),
    ("tee_tcb_svn", 16),
    ("mr_seam", 48),
    ("mr_signer_seam", 48),
    ("seam_attributes", 8),
    ("xfam", 8),
    ("mr_td", 48),
    ("mr_config_id", 48),
    ("mr_owner", 48),
    ("mr_owner_config", 48),
    ("rtmr0", 48),
    ("rtmr1", 48),
    ("rtmr2", 48),
    ("rtmr3", 48),
    ("report_data", 64),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class TdxClaims:
    """Every field of a verified TDX quote, its TCB appraisal and the collateral behind it.

    Only ``teeclient.platforms.tdx.verify`` (and ``teeclient.testing``) build these: holding one
    means the PCK chain to the pinned Intel root, the QE report and quote signatures, the
    attestation-key binding, the QE identity, and the TCB Info / QE Identity signatures all
    held at the verification time. Binary values are lowercase hex.
    """

    kind: ClassVar[str] = "tdx"

    quote_version: int
    body_type: int
    att_key_type: int
    tee_type: int
    qe_vendor_id: str
    user_data: str
    tee_tcb_svn: str
    tee_tcb_svn2: str | None
    mr_seam: str
    mr_signer_seam: str
    seam_attributes: str
    td_attributes: TdAttributes
    xfam: str
    mr_td: str
    mr_config_id: str
    mr_owner: str
    mr_owner_config: str
    rtmr0: str
    rtmr1: str
    rtmr2: str
    rtmr3: str
    report_data: str
    mr_service_td: str | None
    tcb: TcbEvaluation
    pck: PckInfo
    qe_report: QeReportInfo
    tcb_info: CollateralInfo
    qe_identity: CollateralInfo
    pck_crl: RevocationInfo
    root_crl: RevocationInfo
    chain: tuple[str, ...]
    quote_sha256: str
    trailing_bytes: int

    def __post_init__(self) -> None:
        for name, size in _HEX_SIZES:
            value = getattr(self, name)
            if len(value) != 2 * size or value != value.lower():
                raise ValueError(f"{name} must be {size} bytes of lowercase hex")
        for name, size in (("tee_tcb_svn2", 16), ("mr_service_td", 48)):
            value = getattr(self, name)
            if value is not None and (len(value) != 2 * size or value != value.lower()):
                raise ValueError(f"{name} must be {size} bytes of lowercase hex")

    @property
    def tcb_status(self) -> TcbStatus:
        """The final status, converged as Intel QVL does (tdx.md §5)."""
        return self.tcb.status

    @property
    def advisory_ids(self) -> tuple[str, ...]:
        """Advisories of the matched TDX, module and QE levels."""
        return self.tcb.advisory_ids

    @property
    def tcb_date(self) -> datetime | None:
        """Earliest tcbDate of the matched levels (None when no level matched)."""
        return self.tcb.tcb_date

    @property
    def tcb_evaluation_data_number(self) -> int:
        """The lower of the TCB Info's and the QE Identity's evaluation data numbers."""
        return min(
            self.tcb_info.tcb_evaluation_data_number, self.qe_identity.tcb_evaluation_data_number
        )

    @property
    def rtmrs(self) -> tuple[str, str, str, str]:
        """RTMR0–3."""
        return self.rtmr0, self.rtmr1, self.rtmr2, self.rtmr3

    @property
    def xfam_value(self) -> int:
        """XFAM as a u64."""
        return int.from_bytes(bytes.fromhex(self.xfam), "little")

    def summary(self) -> list[str]:
        """Human-readable lines for the CLI."""
        report = "TD Report 1.5" if self.body_type == 3 else "TD Report 1.0"
        date = iso(self.tcb_date) if self.tcb_date else "-"
        advisories = ", ".join(self.advisory_ids) or "none"
        return [
            f"Intel TDX quote v{self.quote_version} ({report}), PCK by {self.pck.ca}, "
            f"FMSPC {self.pck.fmspc}",
            f"TCB status {self.tcb_status.value} (tcbDate {date}; advisories {advisories}; "
            f"tcbEvaluationDataNumber {self.tcb_info.tcb_evaluation_data_number})",
            f"MRTD {self.mr_td}",
            f"TD attributes {self.td_attributes.raw.hex()}"
            f"{' (DEBUG)' if self.td_attributes.debug else ''}; XFAM {self.xfam}",
            f"report_data {self.report_data}",
        ]

    def to_dict(self) -> dict[str, object]:
        """JSON form (the ``claims`` member of ``--json`` output)."""
        return {
            "tcb_status": self.tcb_status.value,
            "advisory_ids": list(self.advisory_ids),
            "tcb_date": iso(self.tcb_date) if self.tcb_date else None,
            "tcb_evaluation_data_number": self.tcb_info.tcb_evaluation_data_number,
            "quote_version": self.quote_version,
            "body_type": self.body_type,
            "att_key_type": self.att_key_type,
            "tee_type": f"{self.tee_type:#x}",
            "qe_vendor_id": self.qe_vendor_id,
            "user_data": self.user_data,
            "tee_tcb_svn": self.tee_tcb_svn,
            "tee_tcb_svn2": self.tee_tcb_svn2,
            "mrseam": self.mr_seam,
            "mrsignerseam": self.mr_signer_seam,
            "seam_attributes": self.seam_attributes,
            "td_attributes": self.td_attributes.to_dict(),
            "xfam": self.xfam,
            "mrtd": self.mr_td,
            "mrconfigid": self.mr_config_id,
            "mrowner": self.mr_owner,
            "mrownerconfig": self.mr_owner_config,
            "rtmr0": self.rtmr0,
            "rtmr1": self.rtmr1,
            "rtmr2": self.rtmr2,
            "rtmr3": self.rtmr3,
            "report_data": self.report_data,
            "mrservicetd": self.mr_service_td,
            "fmspc": self.pck.fmspc,
            "tcb": self.tcb.to_dict(),
            "pck": self.pck.to_dict(),
            "qe_report": self.qe_report.to_dict(),
            "tcb_info": self.tcb_info.to_dict(),
            "qe_identity": self.qe_identity.to_dict(),
            "revocation": {"pck_crl": self.pck_crl.to_dict(), "root_crl": self.root_crl.to_dict()},
            "chain": list(self.chain),
            "quote_sha256": self.quote_sha256,
            "trailing_bytes": self.trailing_bytes,
        }
