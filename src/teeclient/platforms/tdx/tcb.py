"""TDX TCB status exactly as Intel's Quote Verification Library computes it (specs/tdx.md §5).

Pure functions over verified inputs: the PCK TCB (component SVNs, PCESVN), the TD report's
TEE_TCB_SVN / TEE_TCB_SVN2, MRSIGNERSEAM and SEAMATTRIBUTES, the QE's ISVSVN, and the
authenticated TCB Info and QE Identity. Steps are numbered as in Intel QVL
(``QuoteVerifier.cpp`` 4.1.2.4.11, ``TcbLevelCheck.cpp``, ``TdxModuleCheck.cpp``,
``TDRelaunchCheck.cpp``, ``EnclaveReportVerifier.cpp``). Levels are walked in Intel's
descending order, which ``pcs.parse_tcb_info`` has already enforced on the document.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from teeclient._time import iso
from teeclient.errors import TdxTcbInfoMismatchError
from teeclient.platforms.tdx.pcs import (
    EnclaveTcbLevel,
    QeIdentity,
    TcbInfo,
    TcbLevel,
    TcbStatus,
    TdxModuleIdentity,
)

__all__ = ["TcbEvaluation", "TcbInputs", "evaluate_tcb", "qe_tcb_level", "qe_tcb_status"]

PLATFORM = "tdx"
_CONFIG = frozenset(
    {
        TcbStatus.CONFIGURATION_NEEDED,
        TcbStatus.OUT_OF_DATE_CONFIGURATION_NEEDED,
        TcbStatus.CONFIGURATION_AND_SW_HARDENING_NEEDED,
        TcbStatus.TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED,
    }
)
_OK_LIKE = frozenset({TcbStatus.UP_TO_DATE, TcbStatus.SW_HARDENING_NEEDED})
_CONFIG_LIKE = frozenset(
    {TcbStatus.CONFIGURATION_NEEDED, TcbStatus.CONFIGURATION_AND_SW_HARDENING_NEEDED}
)


@dataclass(frozen=True, slots=True, kw_only=True)
class TcbInputs:
    """What the TCB evaluation reads from the verified quote and PCK certificate."""

    quote_version: int
    td15: bool
    pck_components: tuple[int, ...]
    pck_pce_svn: int
    tee_tcb_svn: bytes
    tee_tcb_svn2: bytes | None
    mr_signer_seam: bytes
    seam_attributes: bytes
    qe_isvsvn: int


@dataclass(frozen=True, slots=True, kw_only=True)
class TcbEvaluation:
    """The converged status and every level that contributed to it."""

    status: TcbStatus
    sgx_level: TcbLevel | None
    tdx_level: TcbLevel | None
    module_identity: str | None
    module_level: EnclaveTcbLevel | None
    module_status: TcbStatus | None
    module_check: str
    qe_level: EnclaveTcbLevel | None
    qe_status: TcbStatus
    relaunch_advised: bool

    @property
    def advisory_ids(self) -> tuple[str, ...]:
        """Union of the advisories of the TDX level, the module level and the QE level."""
        out: list[str] = []
        for level in (self.tdx_level, self.module_level, self.qe_level):
            for advisory in level.advisory_ids if level is not None else ():
                if advisory not in out:
                    out.append(advisory)
        return tuple(out)

    @property
    def tcb_date(self) -> datetime | None:
        """The earliest tcbDate of the matched TDX, module and QE levels (None if unmatched)."""
        if self.tdx_level is None:
            return None
        dates = [lv.tcb_date for lv in (self.tdx_level, self.module_level, self.qe_level) if lv]
        return min(dates)

    def to_dict(self) -> dict[str, object]:
        """JSON form."""
        return {
            "status": self.status.value,
            "platform_status": self.tdx_level.status.value if self.tdx_level else None,
            "sgx_level_status": self.sgx_level.status.value if self.sgx_level else None,
            "module_status": self.module_status.value if self.module_status else None,
            "module_check": self.module_check,
            "qe_status": self.qe_status.value,
            "relaunch_advised": self.relaunch_advised,
            "tcb_date": iso(self.tcb_date) if self.tcb_date else None,
            "advisory_ids": list(self.advisory_ids),
            "tdx_level": self.tdx_level.to_dict() if self.tdx_level else None,
            "sgx_level": self.sgx_level.to_dict() if self.sgx_level else None,
            "module_identity": self.module_identity,
            "module_level": self.module_level.to_dict() if self.module_level else None,
            "qe_level": self.qe_level.to_dict() if self.qe_level else None,
        }


def qe_tcb_level(identity: QeIdentity, isvsvn: int) -> EnclaveTcbLevel | None:
    """4.1.2.9.9: the first (highest) QE Identity level with ``isvsvn <= QE ISVSVN``."""
    return next((lv for lv in identity.tcb_levels if lv.isvsvn <= isvsvn), None)


def qe_tcb_status(level: EnclaveTcbLevel | None) -> TcbStatus:
    """4.1.2.9.10: UpToDate stays, Revoked stays, anything else is OutOfDate; none → not
    supported."""
    if level is None:
        return TcbStatus.TCB_NOT_SUPPORTED
    if level.status in (TcbStatus.UP_TO_DATE, TcbStatus.REVOKED):
        return level.status
    return TcbStatus.OUT_OF_DATE


def find_module_identity(
    identities: tuple[TdxModuleIdentity, ...] | None, version: int
) -> TdxModuleIdentity | None:
    """``findTdxModuleIdentity``: the identity ``TDX_%02X`` (case-insensitive), or None."""
    wanted = f"TDX_{version:02X}"
    return next((i for i in identities or () if i.id.upper() == wanted), None)


def _module_signer_matches(info: TcbInfo, inputs: TcbInputs) -> tuple[bool, str]:
    """4.1.2.4.11: MRSIGNERSEAM and SEAMATTRIBUTES against the module (identity) in TCB Info.

    Raises:
        TdxTcbInfoMismatchError: TEE_TCB_SVN[1] > 0 but the TCB Info has no module identities.
    """
    version = inputs.tee_tcb_svn[1]
    mrsigner = info.tdx_module.mrsigner
    attributes = info.tdx_module.attributes
    source = "tdxModule"
    if inputs.quote_version > 3 and version > 0:
        if info.tdx_module_identities is None:
            raise TdxTcbInfoMismatchError(
                "the TDX module reports a major version but the TCB Info has no module identities",
                platform=PLATFORM,
                field="tcbInfo.tdxModuleIdentities",
                expected=f"an identity TDX_{version:02X}",
                actual="absent",
            )
        identity = find_module_identity(info.tdx_module_identities, version)
        if identity is None:
            return False, f"no module identity TDX_{version:02X} in the TCB Info"
        mrsigner, attributes, source = identity.mrsigner, identity.attributes, identity.id
    if inputs.mr_signer_seam != mrsigner:
        return False, f"MRSIGNERSEAM differs from {source}.mrsigner"
    # Intel QVL compares bytewise, ignores the mask, and requires all-zero SEAMATTRIBUTES.
    if any(b != 0 or b != e for b, e in zip(inputs.seam_attributes, attributes, strict=True)):
        return False, f"SEAMATTRIBUTES are not zero or differ from {source}.attributes"
    return True, f"MRSIGNERSEAM and SEAMATTRIBUTES match {source}"


def _sgx_ok(level: TcbLevel, inputs: TcbInputs) -> bool:
    return inputs.pck_pce_svn >= level.pce_svn and all(
        have >= need for have, need in zip(inputs.pck_components, level.sgx_components, strict=True)
    )


def _tdx_ok(level: TcbLevel, tee_tcb_svn: bytes) -> bool:
    start = 2 if tee_tcb_svn[1] > 0 else 0
    return all(tee_tcb_svn[i] >= level.tdx_components[i] for i in range(start, 16))


def _match_levels(info: TcbInfo, inputs: TcbInputs) -> tuple[TcbLevel | None, TcbLevel | None]:
    """``matchTcbLevels``: the first SGX-acceptable level, and the first level that is both
    SGX- and TDX-acceptable (4.1.2.4.17.1–3)."""
    sgx_level: TcbLevel | None = None
    for level in info.tcb_levels:
        if _sgx_ok(level, inputs):
            if sgx_level is None:
                sgx_level = level
            if _tdx_ok(level, inputs.tee_tcb_svn):
                return sgx_level, level
    return sgx_level, None


def _converge_module(platform: TcbStatus, module: TcbStatus) -> TcbStatus:
    """``convergeTcbStatusWithTdxModuleStatus``."""
    if module is TcbStatus.OUT_OF_DATE:
        if platform in _OK_LIKE:
            return TcbStatus.OUT_OF_DATE
        if platform in _CONFIG_LIKE:
            return TcbStatus.OUT_OF_DATE_CONFIGURATION_NEEDED
    if module is TcbStatus.REVOKED:
        return TcbStatus.REVOKED
    return platform


def _converge_qe(status: TcbStatus, qe: TcbStatus) -> TcbStatus:
    """``convergeTcbStatusWithQeTcbStatus`` (4.1.2.4.17.5)."""
    if qe is TcbStatus.OUT_OF_DATE:
        if status in _OK_LIKE:
            return TcbStatus.OUT_OF_DATE
        if status in _CONFIG_LIKE:
            return TcbStatus.OUT_OF_DATE_CONFIGURATION_NEEDED
    if qe is TcbStatus.REVOKED:
        return TcbStatus.REVOKED
    if qe is TcbStatus.TCB_NOT_SUPPORTED:
        return TcbStatus.TCB_NOT_SUPPORTED
    return status


def _relaunch(
    info: TcbInfo,
    svn2: bytes,
    sgx_status: TcbStatus,
    tdx_status: TcbStatus,
    module_status: TcbStatus | None,
    qe_status: TcbStatus,
) -> TcbStatus:
    """``checkForRelaunch`` (TD Report 1.5, 4.1.2.4.17.4.3)."""
    if qe_status in (TcbStatus.OUT_OF_DATE, TcbStatus.REVOKED, TcbStatus.TCB_NOT_SUPPORTED):
        return tdx_status
    if sgx_status not in _OK_LIKE | _CONFIG_LIKE:
        return tdx_status
    if tdx_status not in (TcbStatus.OUT_OF_DATE, TcbStatus.OUT_OF_DATE_CONFIGURATION_NEEDED):
        return tdx_status
    if module_status is not TcbStatus.OUT_OF_DATE:
        return tdx_status
    latest = info.tcb_levels[0]
    if svn2[1] == 0:
        advised = svn2[0] >= latest.tdx_components[0] and svn2[2] >= latest.tdx_components[2]
    else:
        identity = find_module_identity(info.tdx_module_identities, svn2[1])
        if identity is None:
            # Intel QVL returns STATUS_TDX_MODULE_MISMATCH here (and its QE convergence then
            # maps it to "unrecognised"); teeclient keeps TDX_MODULE_MISMATCH (docs/tdx.md).
            return TcbStatus.TDX_MODULE_MISMATCH
        advised = svn2[0] >= identity.tcb_levels[0].isvsvn and svn2[2] >= latest.tdx_components[2]
    if not advised:
        return tdx_status
    if sgx_status in _CONFIG or tdx_status in _CONFIG:
        return TcbStatus.TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED
    return TcbStatus.TD_RELAUNCH_ADVISED


def evaluate_tcb(info: TcbInfo, identity: QeIdentity, inputs: TcbInputs) -> TcbEvaluation:
    """The final TCB status with the levels behind it (tdx.md §5.3–§5.7).

    Raises:
        TdxTcbInfoMismatchError: the module reports a major version the TCB Info cannot judge.
    """
    qe_level = qe_tcb_level(identity, inputs.qe_isvsvn)
    qe_status = qe_tcb_status(qe_level)
    version = inputs.tee_tcb_svn[1]
    identity_found = (
        find_module_identity(info.tdx_module_identities, version)
        if inputs.quote_version > 3 and version > 0
        else None
    )
    module_name = identity_found.id if identity_found is not None else None

    signer_ok, check = _module_signer_matches(info, inputs)

    def result(
        status: TcbStatus,
        *,
        sgx_level: TcbLevel | None = None,
        tdx_level: TcbLevel | None = None,
        module_level: EnclaveTcbLevel | None = None,
        module_status: TcbStatus | None = None,
        relaunch_advised: bool = False,
    ) -> TcbEvaluation:
        return TcbEvaluation(
            status=status,
            sgx_level=sgx_level,
            tdx_level=tdx_level,
            module_identity=module_name,
            module_level=module_level,
            module_status=module_status,
            module_check=check,
            qe_level=qe_level,
            qe_status=qe_status,
            relaunch_advised=relaunch_advised,
        )

    # 4.1.2.4.11: the module signer and attributes (a mismatch ends the evaluation).
    if not signer_ok:
        return result(TcbStatus.TDX_MODULE_MISMATCH)
    # 4.1.2.4.17.1–3: platform levels.
    sgx_level, tdx_level = _match_levels(info, inputs)
    if sgx_level is None or tdx_level is None:
        return result(TcbStatus.TCB_NOT_SUPPORTED, sgx_level=sgx_level)
    # 4.1.2.4.17.4.1: the module's own TCB level.
    module_level: EnclaveTcbLevel | None = None
    module_status: TcbStatus
    if inputs.quote_version > 3 and version == 0:
        module_status = TcbStatus.UP_TO_DATE
    else:
        assert identity_found is not None  # a missing identity was a mismatch above
        module_level = next(
            (lv for lv in identity_found.tcb_levels if lv.isvsvn <= inputs.tee_tcb_svn[0]), None
        )
        if module_level is None:
            return result(TcbStatus.TCB_NOT_SUPPORTED, sgx_level=sgx_level, tdx_level=tdx_level)
        module_status = module_level.status
    tdx_status = _converge_module(tdx_level.status, module_status)
    if tdx_status is TcbStatus.REVOKED:
        return result(
            TcbStatus.REVOKED,
            sgx_level=sgx_level,
            tdx_level=tdx_level,
            module_level=module_level,
            module_status=module_status,
        )
    # 4.1.2.4.17.4.3: TD relaunch (TD Report 1.5 only).
    relaunched: TcbStatus = tdx_status
    if inputs.td15 and inputs.tee_tcb_svn2 is not None:
        relaunched = _relaunch(
            info, inputs.tee_tcb_svn2, sgx_level.status, tdx_status, module_status, qe_status
        )
        if relaunched is TcbStatus.TDX_MODULE_MISMATCH:
            return result(
                relaunched,
                sgx_level=sgx_level,
                tdx_level=tdx_level,
                module_level=module_level,
                module_status=module_status,
            )
    advised = relaunched in (
        TcbStatus.TD_RELAUNCH_ADVISED,
        TcbStatus.TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED,
    )
    # 4.1.2.4.17.5: converge with the QE status.
    return result(
        _converge_qe(relaunched, qe_status),
        sgx_level=sgx_level,
        tdx_level=tdx_level,
        module_level=module_level,
        module_status=module_status,
        relaunch_advised=advised,
    )
