"""[[sev_snp]] checks, one function per rule, reading SnpClaims (sev-snp.md §8 steps 12–21)."""

from __future__ import annotations

from datetime import datetime
from types import MappingProxyType

from teeclient._time import iso
from teeclient.platforms.sev_snp.abi import TcbVersion
from teeclient.platforms.sev_snp.claims import SnpClaims
from teeclient.policy.checks import Recorder, allow_list, expected_of, in_list
from teeclient.policy.model import Policy, RevocationMode
from teeclient.policy.sections.sev_snp import (
    GUEST_POLICY_ALLOWABLE,
    GUEST_POLICY_REQUIRABLE,
    PLATFORM_INFO_ALLOWABLE,
    PLATFORM_INFO_REQUIRABLE,
    SnpRule,
    TcbMin,
)

__all__ = ["CHECKS", "check_alternative"]

_GUEST_FLAG_ATTR = {
    "smt": "smt",
    "migrate_ma": "migrate_ma",
    "debug": "debug",
    "cxl": "cxl_allow",
    "single_socket": "single_socket",
    "mem_aes_256_xts": "mem_aes_256_xts",
    "rapl_dis": "rapl_dis",
    "ciphertext_hiding": "ciphertext_hiding",
    "page_swap_disable": "page_swap_disable",
}
_PLATFORM_FLAG_ATTR = {
    "smt": "smt_en",
    "tsme": "tsme_en",
    "tio": "tio_en",
    "bit6": "bit6",
    "ecc": "ecc_en",
    "rapl_disabled": "rapl_dis",
    "ciphertext_hiding_dram": "ciphertext_hiding_dram_en",
    "alias_check_complete": "alias_check_complete",
}

_EXACT_FIELDS = (
    ("measurement", "MEASUREMENT"),
    ("host_data", "HOST_DATA"),
    ("family_id", "FAMILY_ID"),
    ("image_id", "IMAGE_ID"),
    ("report_id", "REPORT_ID"),
    ("report_id_ma", "REPORT_ID_MA"),
    ("report_data", "REPORT_DATA"),
)

CHECKS = MappingProxyType(
    {
        "sev_snp.product": "detected product line is in `products`",
        "sev_snp.signing_key": "endorsement key kind (vcek/vlek) is in `signing_keys`",
        "sev_snp.measurement": "MEASUREMENT equals `measurement` (or one of the list)",
        "sev_snp.host_data": "HOST_DATA equals `host_data` (or one of the list)",
        "sev_snp.family_id": "FAMILY_ID equals `family_id` (or one of the list)",
        "sev_snp.image_id": "IMAGE_ID equals `image_id` (or one of the list)",
        "sev_snp.report_id": "REPORT_ID equals `report_id` (or one of the list)",
        "sev_snp.report_id_ma": "REPORT_ID_MA equals `report_id_ma` (or one of the list)",
        "sev_snp.report_data": "REPORT_DATA equals `report_data` (constant-time compare)",
        "sev_snp.chip_id": "CHIP_ID is in `chip_ids`",
        "sev_snp.masked_chip_id": "CHIP_ID is not masked unless `allow_masked_chip_id`",
        "sev_snp.vmpl": "VMPL is `vmpl` (or one of the list)",
        "sev_snp.guest_svn": "GUEST_SVN >= `min_guest_svn`",
        "sev_snp.guest_policy.abi": "guest policy ABI >= `guest_policy.min_abi`",
        **{
            f"sev_snp.guest_policy.{f}": f"guest policy {f.upper()} is clear unless allowed"
            for f in GUEST_POLICY_ALLOWABLE
        },
        **{
            f"sev_snp.guest_policy.{f}": f"guest policy {f.upper()} is set when required"
            for f in GUEST_POLICY_REQUIRABLE
        },
        **{
            f"sev_snp.platform_info.{f}": f"platform {f} is off unless allowed"
            for f in PLATFORM_INFO_ALLOWABLE
            if f != "bit6"
        },
        **{
            f"sev_snp.platform_info.{f}": f"platform {f} is on when required"
            for f in PLATFORM_INFO_REQUIRABLE
            if f != "bit6"
        },
        "sev_snp.platform_info.bit6": "PLATFORM_INFO bit 6 (Turin iommu_write_safe) is allowed "
        "when set and present when required",
        "sev_snp.platform_info.unknown_bits": "PLATFORM_INFO bits 8–63 per `unknown_bits`",
        "sev_snp.tcb": "REPORTED_TCB >= `min_tcb`, component-wise",
        "sev_snp.launch_tcb": "LAUNCH_TCB >= `min_launch_tcb`, component-wise",
        "sev_snp.firmware": "CURRENT firmware version/build >= `min_firmware`",
        "sev_snp.provisional_firmware": "COMMITTED equals CURRENT (TCB, version) unless "
        "`permit_provisional_firmware`",
        "sev_snp.id_block": "ID key digest is trusted when `require_id_block` or "
        "`trusted_id_key_hashes` is set",
        "sev_snp.author_key": "author key is enabled and trusted when `require_author_key` or "
        "`trusted_author_key_hashes` is set",
        "sev_snp.mitigation.launch": "LAUNCH_MIT_VECTOR contains `min_launch_mitigation_vector`",
        "sev_snp.mitigation.current": "CURRENT_MIT_VECTOR contains `min_current_mitigation_vector`",
        "sev_snp.revocation": "the ARK-signed CRL was applied and is fresh, per "
        "[revocation] amd_crl",
    }
)


def _exact_fields(rec: Recorder, claims: SnpClaims, rule: SnpRule) -> None:
    for attr, label in _EXACT_FIELDS:
        allow_list(rec, f"sev_snp.{attr}", label, getattr(claims, attr), getattr(rule, attr))


def _identity(rec: Recorder, claims: SnpClaims, rule: SnpRule) -> None:
    if rule.products is None:
        rec.skip("sev_snp.product", "product line is not constrained", actual=claims.product.value)
    else:
        rec.verdict(
            "sev_snp.product",
            claims.product.value in rule.products,
            expected=tuple(sorted(rule.products)),
            actual=claims.product.value,
            passed=f"product {claims.product.kds_name} is accepted",
            failed=f"product {claims.product.kds_name} is not accepted",
        )
    kind = claims.signing_key.value
    if rule.signing_keys is None:
        rec.skip("sev_snp.signing_key", "endorsement key kind is not constrained", actual=kind)
    else:
        rec.verdict(
            "sev_snp.signing_key",
            kind in rule.signing_keys,
            expected=tuple(sorted(rule.signing_keys)),
            actual=kind,
            passed=f"signed by a {kind.upper()}",
            failed=f"signed by a {kind.upper()}, which the policy does not accept",
        )
    if rule.chip_ids is None:
        rec.skip("sev_snp.chip_id", "CHIP_ID is not constrained", actual=claims.chip_id)
    else:
        rec.verdict(
            "sev_snp.chip_id",
            in_list(claims.chip_id, rule.chip_ids),
            expected=expected_of(rule.chip_ids),
            actual=claims.chip_id,
            passed="CHIP_ID is in the allow-list",
            failed="CHIP_ID is not in the allow-list",
        )
    masked = claims.signer_info.mask_chip_key
    rec.verdict(
        "sev_snp.masked_chip_id",
        not masked or rule.allow_masked_chip_id,
        expected="unmasked" if not rule.allow_masked_chip_id else "masked or unmasked",
        actual="masked" if masked else "unmasked",
        passed="CHIP_ID is not masked" if not masked else "masked CHIP_ID accepted by policy",
        failed="CHIP_ID is masked (MASK_CHIP_KEY = 1): the VCEK is bound by TCB only",
    )
    if rule.vmpl is None:
        rec.skip("sev_snp.vmpl", "VMPL is not constrained", actual=claims.vmpl)
    else:
        rec.verdict(
            "sev_snp.vmpl",
            claims.vmpl in rule.vmpl,
            expected=rule.vmpl[0] if len(rule.vmpl) == 1 else tuple(str(v) for v in rule.vmpl),
            actual=claims.vmpl,
            passed=f"VMPL {claims.vmpl} is accepted",
            failed=f"VMPL {claims.vmpl} is not accepted",
        )
    if rule.min_guest_svn is None:
        rec.skip("sev_snp.guest_svn", "GUEST_SVN is not constrained", actual=claims.guest_svn)
    else:
        rec.verdict(
            "sev_snp.guest_svn",
            claims.guest_svn >= rule.min_guest_svn,
            expected=f">= {rule.min_guest_svn}",
            actual=claims.guest_svn,
            passed="GUEST_SVN is at least the minimum",
            failed="GUEST_SVN is below the minimum",
        )


def _guest_policy(rec: Recorder, claims: SnpClaims, rule: SnpRule) -> None:
    gp = rule.guest_policy
    pol = claims.policy
    abi = (pol.abi_major, pol.abi_minor)
    if gp.min_abi is None:
        rec.skip(
            "sev_snp.guest_policy.abi", "guest ABI is not constrained", actual=f"{abi[0]}.{abi[1]}"
        )
    else:
        want = (gp.min_abi[0], gp.min_abi[1])
        rec.verdict(
            "sev_snp.guest_policy.abi",
            abi >= want,
            expected=f">= {want[0]}.{want[1]}",
            actual=f"{abi[0]}.{abi[1]}",
            passed="guest ABI is at least the minimum",
            failed="guest ABI is below the minimum",
        )
    for flag in GUEST_POLICY_ALLOWABLE:
        value = bool(getattr(pol, _GUEST_FLAG_ATTR[flag]))
        allowed = flag in gp.allow
        rec.verdict(
            f"sev_snp.guest_policy.{flag}",
            allowed or not value,
            expected="allowed" if allowed else "clear",
            actual="set" if value else "clear",
            passed=f"guest policy {flag.upper()} is {'set (allowed)' if value else 'clear'}",
            failed=f"guest policy {flag.upper()} is set but not allowed by the policy",
        )
    for flag in GUEST_POLICY_REQUIRABLE:
        value = bool(getattr(pol, _GUEST_FLAG_ATTR[flag]))
        required = flag in gp.require
        rec.verdict(
            f"sev_snp.guest_policy.{flag}",
            value or not required,
            expected="set" if required else "any",
            actual="set" if value else "clear",
            passed=f"guest policy {flag.upper()} is {'set' if value else 'clear'}",
            failed=f"guest policy {flag.upper()} is required but clear",
        )


def _platform_info(rec: Recorder, claims: SnpClaims, rule: SnpRule) -> None:
    pi = rule.platform_info
    info = claims.platform_info
    for flag in (
        "smt",
        "tsme",
        "tio",
        "ecc",
        "rapl_disabled",
        "ciphertext_hiding_dram",
        "alias_check_complete",
        "bit6",
    ):
        value = bool(getattr(info, _PLATFORM_FLAG_ATTR[flag]))
        allowable = flag in PLATFORM_INFO_ALLOWABLE
        allowed = flag in pi.allow or not allowable
        required = flag in pi.require
        ok = (allowed or not value) and (value or not required)
        if required:
            expected = "on"
        elif allowable and not allowed:
            expected = "off"
        else:
            expected = "any"
        rec.verdict(
            f"sev_snp.platform_info.{flag}",
            ok,
            expected=expected,
            actual="on" if value else "off",
            passed=f"platform {flag} is {'on' if value else 'off'}",
            failed=f"platform {flag} is {'on' if value else 'off'}, the policy requires {expected}",
        )
    unknown = info.unknown_bits
    check_id = "sev_snp.platform_info.unknown_bits"
    if not unknown or pi.unknown_bits == "ignore":
        rec.verdict(
            check_id,
            True,
            expected=pi.unknown_bits,
            actual=f"{unknown:#x}",
            passed="no unknown PLATFORM_INFO bits"
            if not unknown
            else "unknown PLATFORM_INFO bits ignored by policy",
            failed="",
        )
    elif pi.unknown_bits == "warn":
        rec.warn(
            check_id,
            expected="no unknown bits",
            actual=f"{unknown:#x}",
            message="PLATFORM_INFO has bits teeclient does not know",
        )
    else:
        rec.verdict(
            check_id,
            False,
            expected="no unknown bits",
            actual=f"{unknown:#x}",
            passed="",
            failed="PLATFORM_INFO has unknown bits set",
        )


def _tcb_text(tcb: TcbVersion) -> str:
    return ", ".join(f"{k}={v}" for k, v in tcb.parts().items())


def _tcb_min(
    rec: Recorder, check_id: str, label: str, tcb: TcbVersion, minimum: TcbMin | None
) -> None:
    if minimum is None:
        rec.skip(check_id, f"{label} is not constrained", actual=_tcb_text(tcb))
        return
    have = tcb.parts()
    want = {k: v for k, v in minimum.parts().items() if k in have}
    ignored = sorted(set(minimum.parts()) - set(have))
    low = [k for k, v in want.items() if have[k] < v]
    note = f" (fmc ignored: {tcb.product.kds_name} has no FMC SPL)" if ignored else ""
    rec.verdict(
        check_id,
        not low and bool(want),
        expected=", ".join(f"{k}>={v}" for k, v in want.items()) or "no applicable component",
        actual=_tcb_text(tcb),
        passed=f"{label} meets the minimum{note}",
        failed=(f"{label} is below the minimum in " + ", ".join(low) + note)
        if want
        else f"{label}: no component of the minimum applies to this product",
    )


def _firmware(rec: Recorder, claims: SnpClaims, rule: SnpRule) -> None:
    current = (claims.current_major, claims.current_minor, claims.current_build)
    fw = rule.min_firmware
    if fw is None:
        rec.skip(
            "sev_snp.firmware", "firmware version is not constrained", actual=claims.current_version
        )
        return
    if fw.version is not None:
        width = len(fw.version)
        ok = current[:width] >= fw.version
    else:
        ok = (fw.api is None or current[:2] >= fw.api) and (
            fw.build is None or current[2] >= fw.build
        )
    rec.verdict(
        "sev_snp.firmware",
        ok,
        expected=fw.describe(),
        actual=claims.current_version,
        passed="firmware meets the minimum",
        failed="firmware is older than the minimum",
    )


def _provisional(rec: Recorder, claims: SnpClaims, rule: SnpRule) -> None:
    committed_v = (claims.committed_major, claims.committed_minor, claims.committed_build)
    current_v = (claims.current_major, claims.current_minor, claims.current_build)
    equal = claims.committed_tcb.raw == claims.current_tcb.raw and committed_v == current_v
    actual = (
        f"committed {_tcb_text(claims.committed_tcb)} v{claims.committed_version}; "
        f"current {_tcb_text(claims.current_tcb)} v{claims.current_version}"
    )
    if rule.permit_provisional_firmware:
        ok = claims.current_tcb.dominates(claims.committed_tcb) and committed_v <= current_v
        rec.verdict(
            "sev_snp.provisional_firmware",
            ok,
            expected="committed <= current",
            actual=actual,
            passed="committed firmware equals current"
            if equal
            else "provisional firmware running (permitted by policy)",
            failed="committed TCB/version exceeds the current one",
        )
        return
    rec.verdict(
        "sev_snp.provisional_firmware",
        equal,
        expected="committed == current",
        actual=actual,
        passed="committed firmware equals current",
        failed="provisional firmware: committed TCB or version differs from current "
        "(set permit_provisional_firmware = true to accept)",
    )


def _keys(rec: Recorder, claims: SnpClaims, rule: SnpRule) -> None:
    author_trusted = bool(rule.trusted_author_key_hashes) and in_list(
        claims.author_key_digest, rule.trusted_author_key_hashes or ()
    )
    author_en = claims.signer_info.author_key_en
    if rule.require_author_key or rule.trusted_author_key_hashes is not None:
        rec.verdict(
            "sev_snp.author_key",
            author_en and author_trusted,
            expected="AUTHOR_KEY_EN set and digest trusted",
            actual=f"AUTHOR_KEY_EN {'set' if author_en else 'clear'}, "
            f"digest {claims.author_key_digest}",
            passed="author key is trusted",
            failed="author key is not enabled or not trusted",
        )
    else:
        rec.skip(
            "sev_snp.author_key", "author key is not required", actual=claims.author_key_digest
        )
    if rule.require_id_block or rule.require_author_key or rule.trusted_id_key_hashes is not None:
        id_trusted = bool(rule.trusted_id_key_hashes) and in_list(
            claims.id_key_digest, rule.trusted_id_key_hashes or ()
        )
        rec.verdict(
            "sev_snp.id_block",
            id_trusted or (author_en and author_trusted),
            expected="ID key digest trusted (or signed by a trusted author key)",
            actual=claims.id_key_digest,
            passed="ID block key is trusted",
            failed="ID block key is not trusted",
        )
    else:
        rec.skip("sev_snp.id_block", "ID block is not required", actual=claims.id_key_digest)


def _mitigation(rec: Recorder, claims: SnpClaims, rule: SnpRule) -> None:
    for which, minimum, value in (
        ("launch", rule.min_launch_mitigation_vector, claims.launch_mit_vector),
        ("current", rule.min_current_mitigation_vector, claims.current_mit_vector),
    ):
        check_id = f"sev_snp.mitigation.{which}"
        if minimum is None:
            rec.skip(
                check_id,
                f"{which} mitigation vector is not constrained",
                actual=None if value is None else f"{value:#x}",
            )
            continue
        rec.verdict(
            check_id,
            value is not None and value & minimum == minimum,
            expected=f"contains {minimum:#x}",
            actual="absent (report version < 5)" if value is None else f"{value:#x}",
            passed=f"{which} mitigation vector contains the required bits",
            failed=f"{which} mitigation vector lacks required bits"
            if value is not None
            else f"report version {claims.version} has no mitigation vectors",
        )


def _revocation(rec: Recorder, claims: SnpClaims, policy: Policy, now: datetime) -> None:
    setting = policy.revocation.amd_crl
    rev = claims.revocation
    check_id = "sev_snp.revocation"
    if setting.mode is RevocationMode.OFF:
        rec.skip(check_id, "CRL checking is disabled by the policy (amd_crl = off)")
        return
    if not rev.checked:
        if setting.mode is RevocationMode.IF_PRESENT:
            rec.skip(
                check_id,
                "NOT CHECKED: no AMD CRL was supplied (amd_crl = if-present); "
                "revocation of the ASK/ASVK is unknown",
            )
        else:
            rec.verdict(
                check_id,
                False,
                expected=str(setting),
                actual="no CRL supplied",
                passed="",
                failed="the policy requires the AMD CRL and none was supplied",
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
            failed="the CRL is issued after the verification time",
        )
        return
    if rev.next_update is None or now <= rev.next_update:
        rec.verdict(
            check_id,
            True,
            expected=str(setting),
            actual=window,
            passed="intermediate not revoked; CRL is current",
            failed="",
        )
        return
    late = now - rev.next_update
    if setting.mode is RevocationMode.ALLOW_STALE and late <= setting.max_staleness:
        rec.warn(
            check_id,
            expected=str(setting),
            actual=window,
            message=f"CRL is past nextUpdate by {late}; accepted within the policy's grace",
        )
        return
    rec.verdict(
        check_id,
        False,
        expected=str(setting),
        actual=window,
        passed="",
        failed=f"CRL is stale: past nextUpdate by {late}",
    )


def check_alternative(
    claims: SnpClaims,
    rule: SnpRule,
    policy: Policy,
    now: datetime,
    *,
    component: str,
    alternative: int,
) -> Recorder:
    """Run every [[sev_snp]] check of one alternative against ``claims``."""
    rec = Recorder(component, alternative, rule.warn_only)
    _identity(rec, claims, rule)
    _exact_fields(rec, claims, rule)
    _guest_policy(rec, claims, rule)
    _platform_info(rec, claims, rule)
    _tcb_min(rec, "sev_snp.tcb", "REPORTED_TCB", claims.reported_tcb, rule.min_tcb)
    _tcb_min(rec, "sev_snp.launch_tcb", "LAUNCH_TCB", claims.launch_tcb, rule.min_launch_tcb)
    _firmware(rec, claims, rule)
    _provisional(rec, claims, rule)
    _keys(rec, claims, rule)
    _mitigation(rec, claims, rule)
    _revocation(rec, claims, policy, now)
    return rec
