"""[gpu], [[nvidia_gpu]] and [[nvidia_switch]] checks over NVIDIA claims (nvidia-gpu.md §15).

The three section modules (``checks/gpu.py``, ``checks/nvidia_gpu.py``,
``checks/nvidia_switch.py``) expose the ids and entry points; the logic lives here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from types import MappingProxyType

from teeclient._time import iso
from teeclient.platforms.nvidia.claims import (
    CertChainClaims,
    ClaimsSource,
    GpuClaims,
    MeasurementClaims,
    MeasurementResult,
    NvidiaNodeClaims,
    SwitchClaims,
)
from teeclient.platforms.nvidia.ocsp import OcspCheck, OcspStatus
from teeclient.policy.checks import Recorder
from teeclient.policy.model import NvidiaOcspSetting, Policy, RevocationMode
from teeclient.policy.sections.nvidia import GpuNodeRule, NvidiaGpuRule, NvidiaSwitchRule

__all__ = [
    "GPU_CHECKS",
    "NODE_CHECKS",
    "SWITCH_CHECKS",
    "check_gpu",
    "check_node",
    "check_switch",
]

#: Tolerance for thisUpdate in the future (specs/nvidia-gpu.md §4 step 4: skew <= 5 min).
OCSP_SKEW = timedelta(minutes=5)

NODE_CHECKS = MappingProxyType(
    {
        "gpu.count": "number of GPUs is in `count`",
        "gpu.switch_count": "number of NVSwitches is in `switch_count`",
        "gpu.mode": "the GPUs' common FEATURE_FLAG mode is in `mode`",
        "gpu.topology": "PPCIE topology (8 GPUs, 4 switches, PDIs cross-checked) holds when "
        "evaluated, per `require_topology`",
        "gpu.verifier": "devices were appraised where `verifier` says (local, nras, both)",
        "gpu.nonce": "the reports carry the caller's nonce (`require_nonce`)",
        "gpu.distinct_devices": "no device appears twice (`require_distinct_devices`)",
        "gpu.nras": "the NRAS overall token says true and has the accepted issuer",
    }
)

_DEVICE_COMMON = {
    "hwmodel": "BROM common name is in `hwmodel`",
    "ueid": "device id (leaf serial) is in `ueid`",
    "fwid": "report FWID present and equal to the leaf certificate's (`require_fwid`)",
    "measurements": "golden measurements from verified RIMs match, except allowed indices "
    "(`require_measurements`, `allowed_mismatch_indices`)",
    "ocsp.device_chain": "OCSP answers for BROM, provisioner ICA and identity CA per "
    "[revocation] nvidia_ocsp",
    "nras": "NRAS device claims are all true (source nras only)",
}

GPU_CHECKS = MappingProxyType(
    {
        "nvidia_gpu.arch": "architecture from the verified chain is in `arch`",
        **{f"nvidia_gpu.{k}": v for k, v in _DEVICE_COMMON.items()},
        "nvidia_gpu.driver_version": "signed DRIVER_VERSION is allowed by `driver_versions`",
        "nvidia_gpu.vbios_version": "signed VBIOS_VERSION is allowed by `vbios_versions`",
        "nvidia_gpu.protected_pcie": "PROTECTED_PCIE_STATUS equals `protected_pcie`",
        "nvidia_gpu.ocsp.driver_rim": "OCSP answers for the driver RIM chain",
        "nvidia_gpu.ocsp.vbios_rim": "OCSP answers for the VBIOS RIM chain",
    }
)

SWITCH_CHECKS = MappingProxyType(
    {
        **{f"nvidia_switch.{k}": v for k, v in _DEVICE_COMMON.items()},
        "nvidia_switch.bios_version": "signed BIOS version is allowed by `bios_versions`",
        "nvidia_switch.ocsp.switch_rim": "OCSP answers for the switch BIOS RIM chain",
    }
)


def _one(values: Sequence[str]) -> str | tuple[str, ...]:
    return values[0] if len(values) == 1 else tuple(values)


def _allow(
    rec: Recorder, check_id: str, label: str, actual: str | None, allowed: Sequence[str] | None
) -> None:
    if allowed is None:
        rec.skip(check_id, f"{label} is not constrained by the policy", actual=actual)
        return
    rec.verdict(
        check_id,
        actual is not None and actual in allowed,
        expected=_one(allowed),
        actual=actual,
        passed=f"{label} is in the allow-list",
        failed=f"{label} is not in the allow-list"
        if allowed
        else f"{label}: the allow-list is empty, nothing is accepted",
    )


# --- OCSP -------------------------------------------------------------------------------------


def _judge_one(
    check: OcspCheck, setting: NvidiaOcspSetting, now: datetime, max_age: timedelta | None
) -> tuple[str, str]:
    """→ (outcome pass|warn|fail|missing, message) for one certificate.

    The window is judged at the time the answer was verified (``checked_at``: the verification
    time of its chain; a RIM verified earlier keeps its own time), else at ``now``.
    """
    now = check.checked_at or now
    name = check.role.rsplit(".", 1)[-1]
    if check.status is OcspStatus.MISSING:
        return "missing", f"{name}: no OCSP answer"
    assert check.this_update is not None
    assert check.next_update is not None
    if check.this_update > now + OCSP_SKEW:
        return (
            "fail",
            f"{name}: answer issued after the verification time ({iso(check.this_update)})",
        )
    outcome, notes = "pass", []
    if now > check.next_update:
        late = now - check.next_update
        if setting.mode is RevocationMode.ALLOW_STALE and late <= setting.max_staleness:
            outcome = "warn"
            notes.append(f"{name}: answer past nextUpdate by {late} (within the allowed staleness)")
        else:
            return "fail", f"{name}: answer is stale (nextUpdate {iso(check.next_update)})"
    if max_age is not None and now - check.this_update > max_age:
        return "fail", f"{name}: answer older than max_ocsp_age ({now - check.this_update})"
    if check.status is OcspStatus.GOOD:
        return outcome, "; ".join(notes) or f"{name}: good"
    if check.status is OcspStatus.UNKNOWN:
        if setting.allow_unknown:
            return "warn", f"{name}: status unknown (allowed by allow_unknown)"
        return "fail", f"{name}: OCSP status unknown"
    if check.on_hold:
        if setting.allow_certificate_hold:
            return "warn", f"{name}: on certificateHold (allowed by allow_certificate_hold)"
        return "fail", f"{name}: revoked (certificateHold)"
    when = check.revocation_time
    if (
        setting.revoked_grace is not None
        and when is not None
        and now <= when + setting.revoked_grace
    ):
        return "warn", f"{name}: revoked at {iso(when)}, within revoked_grace"
    return "fail", f"{name}: REVOKED ({check.revocation_reason}) at {iso(when) if when else '?'}"


def _ocsp(
    rec: Recorder,
    check_id: str,
    label: str,
    chain: CertChainClaims | None,
    setting: NvidiaOcspSetting,
    policy: Policy,
    now: datetime,
) -> None:
    if chain is None:
        rec.skip(check_id, f"{label}: no verified chain (not supplied, or appraised by NRAS)")
        return
    if setting.mode is RevocationMode.OFF:
        rec.skip(
            check_id,
            f"{label}: OCSP checking is disabled by the policy (off)",
            actual=chain.ocsp_status.value,
        )
        return
    results = [_judge_one(c, setting, now, policy.revocation.max_ocsp_age) for c in chain.ocsp]
    outcomes = {o for o, _ in results}
    message = "; ".join(m for _, m in results)
    actual = ", ".join(f"{c.role.rsplit('.', 1)[-1]}={c.status.value}" for c in chain.ocsp)
    missing = "missing" in outcomes
    if missing and setting.mode is not RevocationMode.IF_PRESENT:
        rec.verdict(
            check_id,
            False,
            expected=str(setting),
            actual=actual,
            passed="",
            failed=f"{label}: OCSP answers are required and missing ({message})",
        )
        return
    if "fail" in outcomes:
        rec.verdict(
            check_id,
            False,
            expected=str(setting),
            actual=actual,
            passed="",
            failed=f"{label}: {message}",
        )
        return
    if outcomes == {"missing"}:
        rec.skip(
            check_id,
            f"NOT CHECKED: no OCSP answers were supplied for the {label} "
            "(nvidia_ocsp = if-present); revocation is unknown",
            actual=actual,
        )
        return
    if "warn" in outcomes or missing:
        rec.warn(check_id, expected=str(setting), actual=actual, message=f"{label}: {message}")
        return
    rec.verdict(
        check_id,
        True,
        expected=str(setting),
        actual=actual,
        passed=f"{label}: every certificate is good and the answers are current",
        failed="",
    )


# --- measurements, FWID, NRAS -----------------------------------------------------------------


def _measurements(
    rec: Recorder,
    check_id: str,
    m: MeasurementClaims,
    required: bool,
    allowed: Sequence[int],
    allow_nvdec0: bool,
) -> None:
    if not required:
        rec.skip(check_id, "measurements are not required by the policy", actual=m.result.value)
        return
    if m.result is MeasurementResult.UNAVAILABLE:
        rec.verdict(
            check_id,
            False,
            expected="success",
            actual="reference values unavailable",
            passed="",
            failed="reference values unavailable: supply RIM "
            + ", ".join(m.missing_rims)
            + " (--collateral)",
        )
        return
    if m.result is MeasurementResult.CONFLICT:
        rec.verdict(
            check_id,
            False,
            expected="success",
            actual="conflict",
            passed="",
            failed="driver and VBIOS RIMs both define index(es) "
            + ", ".join(str(i) for i in m.conflicts),
        )
        return
    refused = [
        x for x in m.mismatches if not (x.index in allowed or (x.nvdec0_skippable and allow_nvdec0))
    ]
    tolerated = [x for x in m.mismatches if x not in refused]
    actual = f"{len(m.compared)} compared, {len(m.mismatches)} mismatch(es)" + (
        f" at {', '.join(str(x.index) for x in m.mismatches)}" if m.mismatches else ""
    )
    if refused:
        rec.verdict(
            check_id,
            False,
            expected="success",
            actual=actual,
            passed="",
            failed="measurement mismatch at index(es) " + ", ".join(str(x.index) for x in refused),
        )
        return
    if any(x.index in allowed for x in tolerated):
        rec.warn(
            check_id,
            expected="success",
            actual=actual,
            message="mismatches accepted by allowed_mismatch_indices: "
            + ", ".join(str(x.index) for x in tolerated),
        )
        return
    note = " (index 35 skipped: NVDEC0 disabled)" if tolerated else ""
    rec.verdict(
        check_id,
        True,
        expected="success",
        actual=actual,
        passed=f"every golden measurement matches{note}",
        failed="",
    )


def _fwid(rec: Recorder, check_id: str, claims: GpuClaims | SwitchClaims, required: bool) -> None:
    match = claims.fwid_match
    if not required:
        rec.skip(
            check_id,
            "FWID is not required by the policy",
            actual={True: "match", False: "differs", None: "absent"}[match],
        )
        return
    actual = (
        "match"
        if match
        else ("absent in the report" if claims.fwid is None else "absent in the certificate")
    )
    rec.verdict(
        check_id,
        match is True,
        expected="present and equal",
        actual=actual,
        passed="report FWID equals the leaf certificate FWID",
        failed="no FWID to compare (old driver?); set require_fwid = false to accept",
    )


_NRAS_TRUE = (
    "arch-check",
    "attestation-report-parsed",
    "attestation-report-nonce-match",
    "attestation-report-signature-verified",
)


def _nras(
    rec: Recorder, check_id: str, claims: GpuClaims | SwitchClaims, setting: NvidiaOcspSetting
) -> None:
    if claims.source is not ClaimsSource.NRAS:
        rec.skip(check_id, "appraised locally, not by NRAS")
        return
    c = dict(claims.nras_claims)
    prefix = "x-nvidia-switch" if isinstance(claims, SwitchClaims) else "x-nvidia-gpu"
    problems = [f"{prefix}-{k}" for k in _NRAS_TRUE if c.get(f"{prefix}-{k}") is not True]
    if "x-nvidia-error-details" in c:
        problems.append("x-nvidia-error-details present")
    for key, value in c.items():
        if key.endswith("cert-chain") and isinstance(value, dict):
            if value.get("x-nvidia-cert-status") != "valid":
                problems.append(f"{key} status {value.get('x-nvidia-cert-status')}")
            status = value.get("x-nvidia-cert-ocsp-status")
            ok = (
                status == "good"
                or (status == "unknown" and setting.allow_unknown)
                or (setting.mode is RevocationMode.OFF)
            )
            if not ok:
                problems.append(f"{key} ocsp {status}")
        if key.endswith("-version-match") and value is not True:
            problems.append(f"{key} false")
    rec.verdict(
        check_id,
        not problems,
        expected="all NRAS device claims true",
        actual="; ".join(problems) or "all true",
        passed="NRAS device claims are all true",
        failed="NRAS device claims: " + "; ".join(problems),
    )


def _versions(rec: Recorder, check_id: str, label: str, version: str | None, rule: object) -> None:
    from teeclient.policy.sections.nvidia import VersionRule

    if rule is None:
        rec.skip(check_id, f"{label} is not constrained by the policy", actual=version)
        return
    assert isinstance(rule, VersionRule)
    rec.verdict(
        check_id,
        rule.accepts(version),
        expected=rule.describe(),
        actual=version,
        passed=f"{label} {version} is accepted",
        failed=f"{label} {version} is not accepted",
    )


def check_gpu(
    claims: GpuClaims,
    rule: NvidiaGpuRule,
    policy: Policy,
    now: datetime,
    *,
    component: str,
    alternative: int,
) -> Recorder:
    """Run every [[nvidia_gpu]] check of one alternative against ``claims``."""
    rec = Recorder(component, alternative, rule.warn_only)
    setting = rule.ocsp if rule.ocsp is not None else policy.revocation.nvidia_ocsp
    if rule.arch is None:
        rec.skip("nvidia_gpu.arch", "architecture is not constrained", actual=claims.arch.value)
    else:
        rec.verdict(
            "nvidia_gpu.arch",
            claims.arch.value in rule.arch,
            expected=tuple(sorted(rule.arch)),
            actual=claims.arch.value,
            passed=f"{claims.arch.value} is accepted",
            failed=f"{claims.arch.value} is not accepted",
        )
    _allow(rec, "nvidia_gpu.hwmodel", "hwmodel", claims.hwmodel, rule.hwmodel)
    _allow(rec, "nvidia_gpu.ueid", "ueid", claims.ueid, rule.ueid)
    _versions(
        rec, "nvidia_gpu.driver_version", "driver", claims.driver_version, rule.driver_versions
    )
    _versions(rec, "nvidia_gpu.vbios_version", "VBIOS", claims.vbios_version, rule.vbios_versions)
    if claims.source is ClaimsSource.NRAS:
        rec.skip("nvidia_gpu.fwid", "appraised by NRAS (see nvidia_gpu.nras)")
    else:
        _fwid(rec, "nvidia_gpu.fwid", claims, rule.require_fwid)
    _measurements(
        rec,
        "nvidia_gpu.measurements",
        claims.measurements,
        rule.require_measurements,
        rule.allowed_mismatch_indices,
        rule.allow_nvdec0_skip,
    )
    if rule.protected_pcie is None:
        rec.skip(
            "nvidia_gpu.protected_pcie",
            "PROTECTED_PCIE_STATUS is not constrained",
            actual=None if claims.protected_pcie is None else claims.protected_pcie,
        )
    else:
        rec.verdict(
            "nvidia_gpu.protected_pcie",
            claims.protected_pcie is rule.protected_pcie,
            expected=rule.protected_pcie,
            actual=claims.protected_pcie,
            passed="PROTECTED_PCIE_STATUS as required",
            failed="PROTECTED_PCIE_STATUS differs from the policy",
        )
    local = claims.source is ClaimsSource.LOCAL
    _ocsp(
        rec,
        "nvidia_gpu.ocsp.device_chain",
        "device chain",
        claims.device_chain,
        setting,
        policy,
        now,
    )
    for attr, check_id, label in (
        ("driver_rim", "nvidia_gpu.ocsp.driver_rim", "driver RIM chain"),
        ("vbios_rim", "nvidia_gpu.ocsp.vbios_rim", "VBIOS RIM chain"),
    ):
        r = getattr(claims, attr)
        if r is None and local and rule.require_measurements:
            rec.skip(check_id, f"{label}: no RIM (see nvidia_gpu.measurements)")
            continue
        _ocsp(rec, check_id, label, r.chain if r else None, setting, policy, now)
    _nras(rec, "nvidia_gpu.nras", claims, setting)
    return rec


def check_switch(
    claims: SwitchClaims,
    rule: NvidiaSwitchRule,
    policy: Policy,
    now: datetime,
    *,
    component: str,
    alternative: int,
) -> Recorder:
    """Run every [[nvidia_switch]] check of one alternative against ``claims``."""
    rec = Recorder(component, alternative, rule.warn_only)
    setting = rule.ocsp if rule.ocsp is not None else policy.revocation.nvidia_ocsp
    _allow(rec, "nvidia_switch.hwmodel", "hwmodel", claims.hwmodel, rule.hwmodel)
    _allow(rec, "nvidia_switch.ueid", "ueid", claims.ueid, rule.ueid)
    _versions(rec, "nvidia_switch.bios_version", "BIOS", claims.vbios_version, rule.bios_versions)
    if claims.source is ClaimsSource.NRAS:
        rec.skip("nvidia_switch.fwid", "appraised by NRAS (see nvidia_switch.nras)")
    else:
        _fwid(rec, "nvidia_switch.fwid", claims, rule.require_fwid)
    _measurements(
        rec,
        "nvidia_switch.measurements",
        claims.measurements,
        rule.require_measurements,
        rule.allowed_mismatch_indices,
        False,
    )
    _ocsp(
        rec,
        "nvidia_switch.ocsp.device_chain",
        "device chain",
        claims.device_chain,
        setting,
        policy,
        now,
    )
    if claims.switch_rim is None and claims.source is ClaimsSource.LOCAL:
        rec.skip("nvidia_switch.ocsp.switch_rim", "no switch RIM (see nvidia_switch.measurements)")
    else:
        _ocsp(
            rec,
            "nvidia_switch.ocsp.switch_rim",
            "switch RIM chain",
            claims.switch_rim.chain if claims.switch_rim else None,
            setting,
            policy,
            now,
        )
    _nras(rec, "nvidia_switch.nras", claims, setting)
    return rec


def check_node(
    claims: NvidiaNodeClaims,
    rule: GpuNodeRule,
    policy: Policy,
    now: datetime,
    *,
    component: str,
    alternative: int,
) -> Recorder:
    """Run every [gpu] check against the node."""
    del policy, now
    rec = Recorder(component, alternative, rule.warn_only)
    for check_id, label, count, allowed in (
        ("gpu.count", "GPU count", len(claims.gpus), rule.count),
        ("gpu.switch_count", "NVSwitch count", len(claims.switches), rule.switch_count),
    ):
        if allowed is None:
            rec.skip(check_id, f"{label} is not constrained", actual=count)
        else:
            rec.verdict(
                check_id,
                count in allowed,
                expected=tuple(str(a) for a in allowed) if len(allowed) > 1 else allowed[0],
                actual=count,
                passed=f"{label} {count} is accepted",
                failed=f"{label} {count} is not accepted",
            )
    mode = claims.mode.value if claims.mode else None
    if rule.mode is None:
        rec.skip("gpu.mode", "GPU mode is not constrained", actual=mode)
    else:
        rec.verdict(
            "gpu.mode",
            mode in rule.mode,
            expected=tuple(sorted(rule.mode)),
            actual=mode,
            passed=f"mode {mode} is accepted",
            failed=f"mode {mode} is not accepted",
        )
    topo = claims.topology
    if not topo.evaluated:
        rec.skip("gpu.topology", "no PPCIE devices: topology not evaluated")
    elif not rule.require_topology:
        rec.skip(
            "gpu.topology",
            "topology is not required by the policy",
            actual="ok" if topo.ok else "; ".join(topo.problems),
        )
    else:
        rec.verdict(
            "gpu.topology",
            topo.ok,
            expected="8 GPUs, 4 NVSwitches, PDIs consistent",
            actual="ok" if topo.ok else "; ".join(topo.problems),
            passed="PPCIE topology checks pass",
            failed="PPCIE topology: " + "; ".join(topo.problems),
        )
    sources = sorted(s.value for s in claims.sources)
    if rule.verifier == "both":
        ok = claims.sources == {ClaimsSource.LOCAL, ClaimsSource.NRAS} and bool(
            claims.local_nras_agree
        )
    else:
        ok = claims.sources == {ClaimsSource(rule.verifier)} or (
            rule.verifier == "local" and ClaimsSource.LOCAL in claims.sources
        )
    rec.verdict(
        "gpu.verifier",
        ok,
        expected=rule.verifier,
        actual=", ".join(sources)
        + (
            ""
            if claims.local_nras_agree is None
            else f" (local and NRAS {'agree' if claims.local_nras_agree else 'DISAGREE'})"
        ),
        passed="devices appraised as the policy requires",
        failed="devices were not appraised as the policy requires",
    )
    if rule.require_nonce:
        rec.verdict(
            "gpu.nonce",
            claims.nonce_checked,
            expected="caller's nonce",
            actual=claims.nonce if claims.nonce_checked else "not checked",
            passed="every report carries the caller's nonce",
            failed="no expected nonce was given (--nonce): replayed evidence cannot be told apart",
        )
    else:
        rec.skip(
            "gpu.nonce",
            "NOT CHECKED: the policy does not require the caller's nonce"
            if not claims.nonce_checked
            else "nonce not required (it was checked)",
            actual=claims.nonce,
        )
    if rule.require_distinct_devices:
        rec.verdict(
            "gpu.distinct_devices",
            claims.distinct_devices,
            expected="distinct ueids",
            actual="distinct" if claims.distinct_devices else "duplicates",
            passed="every device is distinct",
            failed="the same device appears more than once",
        )
    else:
        rec.skip("gpu.distinct_devices", "not required by the policy")
    if claims.nras is None:
        rec.skip("gpu.nras", "no NRAS token")
    else:
        n = claims.nras
        rec.verdict(
            "gpu.nras",
            n.overall_result and n.issuer == rule.nras_issuer,
            expected=f"true from {rule.nras_issuer}",
            actual=f"{n.overall_result} from {n.issuer}",
            passed="NRAS overall result is true",
            failed="NRAS overall result is false or from another issuer",
        )
    return rec
