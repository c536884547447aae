"""[[tdx]] checks, one function per rule, reading TdxClaims (specs/tdx.md §7 steps 15–16, §8)."""

from __future__ import annotations

import hmac
from datetime import datetime, timedelta
from types import MappingProxyType

from teeclient._time import iso
from teeclient.platforms.tdx.claims import CollateralInfo, RevocationInfo, TdxClaims
from teeclient.platforms.tdx.status import TcbStatus
from teeclient.policy.checks import Recorder, allow_list, expected_of
from teeclient.policy.model import Policy, RevocationMode, RevocationSetting
from teeclient.policy.sections.tdx import OPTIONAL_TD_ATTRIBUTES, TdxRule

__all__ = ["CHECKS", "OUT_OF_DATE_FAMILY", "check_alternative"]

_ZERO48 = "00" * 48
#: Statuses a grace period can forgive, and the status each would have if up to date.
OUT_OF_DATE_FAMILY = MappingProxyType(
    {
        TcbStatus.OUT_OF_DATE: TcbStatus.UP_TO_DATE,
        TcbStatus.TD_RELAUNCH_ADVISED: TcbStatus.UP_TO_DATE,
        TcbStatus.OUT_OF_DATE_CONFIGURATION_NEEDED: TcbStatus.CONFIGURATION_NEEDED,
        TcbStatus.TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED: TcbStatus.CONFIGURATION_NEEDED,
    }
)
_MEASUREMENTS = (
    ("mr_seam", "MRSEAM"),
    ("mr_td", "MRTD"),
    ("rtmr0", "RTMR0"),
    ("rtmr1", "RTMR1"),
    ("rtmr2", "RTMR2"),
    ("rtmr3", "RTMR3"),
    ("mr_config_id", "MRCONFIGID"),
    ("mr_owner", "MROWNER"),
    ("mr_owner_config", "MROWNERCONFIG"),
    ("report_data", "REPORTDATA"),
    ("xfam", "XFAM"),
)

CHECKS = MappingProxyType(
    {
        "tdx.tcb_status": "final TCB status (Intel QVL convergence) is in `allowed_tcb_status`, "
        "or is out of date within `ootd_grace` / `min_tcb_date` (reported as warn)",
        "tdx.advisory_ids": "when not UpToDate, every advisory of the matched levels is in "
        "`allowed_advisory_ids`",
        "tdx.tcb_evaluation_data_number": "TCB Info and QE Identity tcbEvaluationDataNumber >= "
        "`min_tcb_evaluation_data_number`",
        "tdx.collateral.tcb_info": "TCB Info issueDate <= now <= nextUpdate "
        "(+ `collateral_expiry_grace`, reported as warn)",
        "tdx.collateral.qe_identity": "QE Identity issueDate <= now <= nextUpdate "
        "(+ `collateral_expiry_grace`, reported as warn)",
        "tdx.revocation.pck_crl": "the PCK CRL of the PCK's issuing CA was applied and is "
        "fresh, per [revocation] intel_crl",
        "tdx.revocation.root_crl": "the Intel SGX Root CA CRL was applied and is fresh, per "
        "[revocation] intel_crl",
        **{
            f"tdx.{attr}": f"{label} equals `{attr}` (or one of the list)"
            for attr, label in _MEASUREMENTS
        },
        "tdx.mr_service_td": "MRSERVICETD equals `mr_service_td` (default all zero: no "
        "service TD); TD Report 1.0 has none",
        "tdx.td_attributes": "TDATTRIBUTES equal `td_attributes` when it is an exact value",
        "tdx.td_attributes.debug": "TD is not debuggable (DEBUG clear) unless `allow_debug`",
        "tdx.td_attributes.sept_ve_disable": "SEPT_VE_DISABLE is set when "
        "`require_sept_ve_disable` (default true)",
        **{
            f"tdx.td_attributes.{bit}": f"{bit.upper()} is set only if allowed and when required"
            for bit in OPTIONAL_TD_ATTRIBUTES
        },
        "tdx.td_attributes.reserved": "no TDATTRIBUTES bit outside the TD 1.0 layout is set, "
        "per `reserved_bits`",
        "tdx.tee_tcb_svn": "TEE_TCB_SVN >= `min_tee_tcb_svn`, byte by byte",
        "tdx.qe_isvsvn": "QE ISVSVN >= `min_qe_isvsvn`",
        "tdx.pce_svn": "PCK PCESVN >= `min_pce_svn`",
        "tdx.fmspc": "FMSPC is in `fmspc`",
        "tdx.ppid": "PPID is in `ppid`",
    }
)


def _tcb_status(rec: Recorder, claims: TdxClaims, rule: TdxRule, now: datetime) -> None:
    status = claims.tcb_status
    allowed = rule.allowed_tcb_status
    expected = tuple(sorted(allowed))
    date = claims.tcb_date
    if status.value in allowed:
        rec.verdict(
            "tdx.tcb_status",
            True,
            expected=expected,
            actual=status.value,
            passed=f"TCB status {status.value} is accepted",
            failed="",
        )
        return
    base = OUT_OF_DATE_FAMILY.get(status)
    graced = rule.ootd_grace is not None or rule.min_tcb_date is not None
    if base is not None and graced and base.value in allowed and date is not None:
        reasons = []
        if rule.ootd_grace is not None and date + rule.ootd_grace >= now:
            reasons.append(f"tcbDate {iso(date)} + {rule.ootd_grace} >= now")
        if rule.min_tcb_date is not None and date >= rule.min_tcb_date:
            reasons.append(f"tcbDate {iso(date)} >= {iso(rule.min_tcb_date)}")
        if reasons:
            rec.warn(
                "tdx.tcb_status",
                expected=expected,
                actual=status.value,
                message=f"TCB is {status.value}, accepted within the policy's grace ("
                + "; ".join(reasons)
                + ")",
            )
            return
    hint = ""
    if base is not None and graced:
        hint = f" (tcbDate {iso(date) if date else 'unknown'} is outside the grace)"
    rec.verdict(
        "tdx.tcb_status",
        False,
        expected=expected,
        actual=status.value,
        passed="",
        failed=f"TCB status {status.value} is not accepted{hint}",
    )


def _advisories(rec: Recorder, claims: TdxClaims, rule: TdxRule) -> None:
    actual = tuple(claims.advisory_ids)
    shown = actual or "none"
    if rule.allowed_advisory_ids is None:
        rec.skip("tdx.advisory_ids", "advisory ids are not constrained by the policy", actual=shown)
        return
    if claims.tcb_status is TcbStatus.UP_TO_DATE:
        rec.verdict(
            "tdx.advisory_ids",
            True,
            expected=rule.allowed_advisory_ids,
            actual=shown,
            passed="TCB is UpToDate: advisories are not judged",
            failed="",
        )
        return
    unlisted = tuple(a for a in actual if a not in rule.allowed_advisory_ids)
    rec.verdict(
        "tdx.advisory_ids",
        not unlisted,
        expected=rule.allowed_advisory_ids or "none",
        actual=shown,
        passed="every advisory is in the allow-list",
        failed="advisories not in the allow-list: " + ", ".join(unlisted),
    )


def _evaluation_number(rec: Recorder, claims: TdxClaims, rule: TdxRule) -> None:
    have = claims.tcb_evaluation_data_number
    actual = (
        f"TCB Info {claims.tcb_info.tcb_evaluation_data_number}, "
        f"QE Identity {claims.qe_identity.tcb_evaluation_data_number}"
    )
    if rule.min_tcb_evaluation_data_number is None:
        rec.skip(
            "tdx.tcb_evaluation_data_number",
            "tcbEvaluationDataNumber is not constrained",
            actual=actual,
        )
        return
    rec.verdict(
        "tdx.tcb_evaluation_data_number",
        have >= rule.min_tcb_evaluation_data_number,
        expected=f">= {rule.min_tcb_evaluation_data_number}",
        actual=actual,
        passed="collateral reflects the required TCB recovery",
        failed="collateral predates the required TCB recovery",
    )


def _freshness(
    rec: Recorder, check_id: str, label: str, meta: CollateralInfo, grace: timedelta, now: datetime
) -> None:
    window = f"{iso(meta.issue_date)} .. {iso(meta.next_update)}"
    if now < meta.issue_date:
        rec.verdict(
            check_id,
            False,
            expected=f"issueDate <= {iso(now)}",
            actual=window,
            passed="",
            failed=f"{label} was issued after the verification time",
        )
        return
    if now <= meta.next_update:
        rec.verdict(
            check_id,
            True,
            expected=f"valid at {iso(now)}",
            actual=window,
            passed=f"{label} is current",
            failed="",
        )
        return
    late = now - meta.next_update
    if late <= grace:
        rec.warn(
            check_id,
            expected=f"nextUpdate + {grace} >= {iso(now)}",
            actual=window,
            message=f"{label} is past nextUpdate by {late}; accepted within the "
            "policy's collateral_expiry_grace",
        )
        return
    rec.verdict(
        check_id,
        False,
        expected=f"valid at {iso(now)}",
        actual=window,
        passed="",
        failed=f"{label} has expired: past nextUpdate by {late}",
    )


def _revocation(
    rec: Recorder,
    check_id: str,
    label: str,
    rev: RevocationInfo,
    setting: RevocationSetting,
    now: datetime,
) -> None:
    if setting.mode is RevocationMode.OFF:
        rec.skip(check_id, f"{label} checking is disabled by the policy (intel_crl = off)")
        return
    if not rev.checked:
        if setting.mode is RevocationMode.IF_PRESENT:
            rec.skip(check_id, f"NOT CHECKED: no {label} was supplied (intel_crl = if-present)")
        else:
            rec.verdict(
                check_id,
                False,
                expected=str(setting),
                actual="no CRL supplied",
                passed="",
                failed=f"the policy requires the {label} (issued by "
                f"{rev.issuer}) and none was supplied",
            )
        return
    assert rev.this_update is not None
    window = f"{iso(rev.this_update)} .. {iso(rev.next_update) if rev.next_update else 'open'}"
    if now < rev.this_update:
        rec.verdict(
            check_id,
            False,
            expected=f"thisUpdate <= {iso(now)}",
            actual=window,
            passed="",
            failed=f"the {label} is issued after the verification time",
        )
        return
    if rev.next_update is None or now <= rev.next_update:
        rec.verdict(
            check_id,
            True,
            expected=str(setting),
            actual=window,
            passed=f"not revoked; {label} is current",
            failed="",
        )
        return
    late = now - rev.next_update
    if setting.mode is RevocationMode.ALLOW_STALE and late <= setting.max_staleness:
        rec.warn(
            check_id,
            expected=str(setting),
            actual=window,
            message=f"{label} is past nextUpdate by {late}; accepted within the policy's grace",
        )
        return
    rec.verdict(
        check_id,
        False,
        expected=str(setting),
        actual=window,
        passed="",
        failed=f"{label} is stale: past nextUpdate by {late}",
    )


def _measurements(rec: Recorder, claims: TdxClaims, rule: TdxRule) -> None:
    for attr, label in _MEASUREMENTS:
        allow_list(rec, f"tdx.{attr}", label, getattr(claims, attr), getattr(rule, attr))
    actual = claims.mr_service_td
    allowed = rule.mr_service_td
    if allowed is None:
        rec.skip("tdx.mr_service_td", 'MRSERVICETD is not constrained ("any")', actual=actual)
    elif actual is None:
        rec.verdict(
            "tdx.mr_service_td",
            allowed == (_ZERO48,),
            expected=expected_of(allowed),
            actual="absent (TD Report 1.0)",
            passed="TD Report 1.0 binds no service TD",
            failed="the policy requires a service TD but TD Report 1.0 has none",
        )
    else:
        allow_list(rec, "tdx.mr_service_td", "MRSERVICETD", actual, allowed)


def _td_attributes(rec: Recorder, claims: TdxClaims, rule: TdxRule) -> None:
    attrs = claims.td_attributes
    spec = rule.td_attributes
    names = ("debug", "sept_ve_disable", *OPTIONAL_TD_ATTRIBUTES, "reserved")
    if spec.exact is not None:
        rec.verdict(
            "tdx.td_attributes",
            hmac.compare_digest(attrs.raw.hex(), spec.exact),
            expected=spec.exact,
            actual=attrs.raw.hex(),
            passed="TDATTRIBUTES equal the policy's value",
            failed="TDATTRIBUTES differ from the policy's value",
        )
        for name in names:
            rec.skip(f"tdx.td_attributes.{name}", "decided by the exact td_attributes value")
        return
    rec.skip(
        "tdx.td_attributes",
        "no exact TDATTRIBUTES value: judged bit by bit",
        actual=attrs.raw.hex(),
    )
    rec.verdict(
        "tdx.td_attributes.debug",
        spec.allow_debug or not attrs.debug,
        expected="allowed" if spec.allow_debug else "clear",
        actual="set" if attrs.debug else "clear",
        passed="TD is not debuggable"
        if not attrs.debug
        else "debuggable TD accepted by the policy (allow_debug)",
        failed="TD is debuggable (DEBUG set): the host can read and write its memory and registers",
    )
    rec.verdict(
        "tdx.td_attributes.sept_ve_disable",
        attrs.sept_ve_disable or not spec.require_sept_ve_disable,
        expected="set" if spec.require_sept_ve_disable else "any",
        actual="set" if attrs.sept_ve_disable else "clear",
        passed=f"SEPT_VE_DISABLE is {'set' if attrs.sept_ve_disable else 'clear'}",
        failed="SEPT_VE_DISABLE is required but clear (EPT-violation #VE can be "
        "injected by the host)",
    )
    for bit in OPTIONAL_TD_ATTRIBUTES:
        value = bool(getattr(attrs, bit))
        allowed = bit in spec.allowed_bits
        required = bit in spec.required_bits
        expected = "set" if required else ("any" if allowed else "clear")
        rec.verdict(
            f"tdx.td_attributes.{bit}",
            (allowed or not value) and (value or not required),
            expected=expected,
            actual="set" if value else "clear",
            passed=f"{bit.upper()} is {'set' if value else 'clear'}",
            failed=f"{bit.upper()} is {'set' if value else 'clear'}, the policy "
            f"requires {expected}",
        )
    reserved = attrs.reserved_bits
    mode = spec.reserved_bits
    if not reserved or mode == "ignore":
        rec.verdict(
            "tdx.td_attributes.reserved",
            True,
            expected=mode,
            actual=f"{reserved:#x}",
            passed="no reserved TDATTRIBUTES bit is set"
            if not reserved
            else "reserved TDATTRIBUTES bits ignored by policy",
            failed="",
        )
    elif mode == "warn":
        rec.warn(
            "tdx.td_attributes.reserved",
            expected="no reserved bits",
            actual=f"{reserved:#x}",
            message="TDATTRIBUTES has bits outside the TD 1.0 layout set",
        )
    else:
        rec.verdict(
            "tdx.td_attributes.reserved",
            False,
            expected="no reserved bits",
            actual=f"{reserved:#x}",
            passed="",
            failed="TDATTRIBUTES has bits outside the TD 1.0 layout set",
        )


def _minimums(rec: Recorder, claims: TdxClaims, rule: TdxRule) -> None:
    svn = claims.tee_tcb_svn
    if rule.min_tee_tcb_svn is None:
        rec.skip("tdx.tee_tcb_svn", "TEE_TCB_SVN is not constrained", actual=svn)
    else:
        have, want = bytes.fromhex(svn), bytes.fromhex(rule.min_tee_tcb_svn)
        low = [i for i in range(16) if have[i] < want[i]]
        rec.verdict(
            "tdx.tee_tcb_svn",
            not low,
            expected=f">= {rule.min_tee_tcb_svn}",
            actual=svn,
            passed="TEE_TCB_SVN meets the minimum",
            failed="TEE_TCB_SVN is below the minimum at byte(s) " + ", ".join(str(i) for i in low),
        )
    for check_id, label, have_value, want_value in (
        ("tdx.qe_isvsvn", "QE ISVSVN", claims.qe_report.isvsvn, rule.min_qe_isvsvn),
        ("tdx.pce_svn", "PCESVN", claims.pck.pce_svn, rule.min_pce_svn),
    ):
        if want_value is None:
            rec.skip(check_id, f"{label} is not constrained", actual=have_value)
            continue
        rec.verdict(
            check_id,
            have_value >= want_value,
            expected=f">= {want_value}",
            actual=have_value,
            passed=f"{label} meets the minimum",
            failed=f"{label} is below the minimum",
        )
    allow_list(rec, "tdx.fmspc", "FMSPC", claims.pck.fmspc, rule.fmspc)
    allow_list(rec, "tdx.ppid", "PPID", claims.pck.ppid, rule.ppid)


def check_alternative(
    claims: TdxClaims,
    rule: TdxRule,
    policy: Policy,
    now: datetime,
    *,
    component: str,
    alternative: int,
) -> Recorder:
    """Run every [[tdx]] check of one alternative against ``claims``."""
    rec = Recorder(component, alternative, rule.warn_only)
    _tcb_status(rec, claims, rule, now)
    _advisories(rec, claims, rule)
    _evaluation_number(rec, claims, rule)
    grace = rule.collateral_expiry_grace
    _freshness(rec, "tdx.collateral.tcb_info", "TCB Info", claims.tcb_info, grace, now)
    _freshness(rec, "tdx.collateral.qe_identity", "QE Identity", claims.qe_identity, grace, now)
    setting = policy.revocation.intel_crl
    _revocation(rec, "tdx.revocation.pck_crl", "PCK CRL", claims.pck_crl, setting, now)
    _revocation(
        rec, "tdx.revocation.root_crl", "Intel SGX Root CA CRL", claims.root_crl, setting, now
    )
    _measurements(rec, claims, rule)
    _td_attributes(rec, claims, rule)
    _minimums(rec, claims, rule)
    return rec
