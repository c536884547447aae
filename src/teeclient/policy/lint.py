"""Advisory findings on a valid policy: things that are legal but probably not meant."""

from __future__ import annotations

from dataclasses import dataclass

from teeclient.policy.model import Policy, RevocationMode
from teeclient.policy.sections.tdx import TdxRule

__all__ = ["LintWarning", "lint_policy"]


@dataclass(frozen=True, slots=True, kw_only=True)
class LintWarning:
    """One advisory finding with a stable code and the key it concerns."""

    code: str
    key_path: str
    message: str

    def to_dict(self) -> dict[str, str]:
        """JSON form."""
        return {"code": self.code, "key_path": self.key_path, "message": self.message}


_RISKY_WARN_ONLY = {
    "nvidia_gpu.measurements",
    "nvidia_gpu.fwid",
    "nvidia_switch.measurements",
    "gpu.nonce",
    "gpu.topology",
    "sev_snp.guest_policy.debug",
    "sev_snp.measurement",
    "sev_snp.signing_key",
    "sev_snp.product",
    "nitro.debug",
    "nitro.partition",
    "nitro.pcr0",
    "nitro.pcr1",
    "nitro.pcr2",
    "nitro.nonce",
    "tdx.tcb_status",
    "tdx.td_attributes.debug",
    "tdx.td_attributes",
    "tdx.mr_td",
    "tdx.mr_seam",
}
_UNSAFE_TDX_STATUSES = ("TCB_NOT_SUPPORTED", "TDX_MODULE_MISMATCH")


def lint_policy(policy: Policy) -> list[LintWarning]:
    """Findings for a loaded policy (never raises)."""
    out: list[LintWarning] = []
    if all(
        getattr(policy, s) is None
        for s in ("sev_snp", "tdx", "nitro", "nvidia_gpu", "nvidia_switch")
    ):
        out.append(
            LintWarning(
                code="lint.no_components",
                key_path="<top level>",
                message="the policy has no component section: it accepts nothing",
            )
        )
    if policy.revocation.amd_crl.mode is RevocationMode.OFF:
        out.append(
            LintWarning(
                code="lint.revocation_off",
                key_path="revocation.amd_crl",
                message="AMD CRL checking is off",
            )
        )
    for i, rule in enumerate(policy.sev_snp or ()):
        where = f"sev_snp[{i}]"
        if rule.measurement is None:
            out.append(
                LintWarning(
                    code="lint.unpinned_measurement",
                    key_path=where,
                    message="no measurement pinned: any workload on genuine hardware is accepted",
                )
            )
        for attr in (
            "measurement",
            "host_data",
            "family_id",
            "image_id",
            "report_id",
            "report_id_ma",
            "report_data",
            "chip_ids",
            "trusted_id_key_hashes",
            "trusted_author_key_hashes",
        ):
            if getattr(rule, attr) == ():
                out.append(
                    LintWarning(
                        code="lint.empty_allow_list",
                        key_path=f"{where}.{attr}",
                        message=f"{attr} is an empty list: this alternative rejects everything",
                    )
                )
        if "debug" in rule.guest_policy.allow:
            out.append(
                LintWarning(
                    code="lint.debug_allowed",
                    key_path=f"{where}.guest_policy.allow",
                    message="debug guests are accepted: the host can read guest memory",
                )
            )
        if rule.products == frozenset():
            out.append(
                LintWarning(
                    code="lint.empty_allow_list",
                    key_path=f"{where}.products",
                    message="products is empty: nothing is accepted",
                )
            )
        for check_id in sorted(rule.warn_only & _RISKY_WARN_ONLY):
            out.append(
                LintWarning(
                    code="lint.risky_warn_only",
                    key_path=f"{where}.warn_only",
                    message=f"{check_id} is warn-only: its failure will not reject",
                )
            )
    if policy.tdx is not None and policy.revocation.intel_crl.mode is RevocationMode.OFF:
        out.append(
            LintWarning(
                code="lint.revocation_off",
                key_path="revocation.intel_crl",
                message="Intel PCK and root CA CRL checking is off",
            )
        )
    for i, tdx in enumerate(policy.tdx or ()):
        out.extend(_lint_tdx(f"tdx[{i}]", tdx))
    out.extend(_lint_nvidia(policy))
    _lint_nitro(policy, out)
    return out


def _lint_nvidia(policy: Policy) -> list[LintWarning]:
    out: list[LintWarning] = []
    if policy.nvidia_gpu is not None or policy.nvidia_switch is not None:
        if policy.revocation.nvidia_ocsp.mode is RevocationMode.OFF:
            out.append(
                LintWarning(
                    code="lint.revocation_off",
                    key_path="revocation.nvidia_ocsp",
                    message="NVIDIA OCSP checking is off",
                )
            )
        if not policy.gpu.require_nonce:
            out.append(
                LintWarning(
                    code="lint.nonce_not_required",
                    key_path="gpu.require_nonce",
                    message="GPU evidence is accepted without the caller's nonce: "
                    "recorded evidence can be replayed",
                )
            )
    for section in ("nvidia_gpu", "nvidia_switch"):
        for i, rule in enumerate(getattr(policy, section) or ()):
            where = f"{section}[{i}]"
            if not rule.require_measurements:
                out.append(
                    LintWarning(
                        code="lint.measurements_not_required",
                        key_path=where,
                        message="RIM measurements are not required: any firmware "
                        "on genuine hardware is accepted",
                    )
                )
            if rule.allowed_mismatch_indices:
                out.append(
                    LintWarning(
                        code="lint.allowed_mismatches",
                        key_path=f"{where}.allowed_mismatch_indices",
                        message="measurement mismatches are accepted at indices "
                        + ", ".join(str(x) for x in rule.allowed_mismatch_indices),
                    )
                )
            for check_id in sorted(rule.warn_only & _RISKY_WARN_ONLY):
                out.append(
                    LintWarning(
                        code="lint.risky_warn_only",
                        key_path=f"{where}.warn_only",
                        message=f"{check_id} is warn-only: its failure will not reject",
                    )
                )
    return out


def _lint_tdx(where: str, rule: TdxRule) -> list[LintWarning]:
    out: list[LintWarning] = []
    if rule.mr_td is None:
        out.append(
            LintWarning(
                code="lint.unpinned_measurement",
                key_path=where,
                message="no MRTD pinned: any TD on genuine hardware is accepted",
            )
        )
    for attr in (
        "mr_seam",
        "mr_td",
        "rtmr0",
        "rtmr1",
        "rtmr2",
        "rtmr3",
        "mr_config_id",
        "mr_owner",
        "mr_owner_config",
        "mr_service_td",
        "report_data",
        "xfam",
        "fmspc",
        "ppid",
    ):
        if getattr(rule, attr) == ():
            out.append(
                LintWarning(
                    code="lint.empty_allow_list",
                    key_path=f"{where}.{attr}",
                    message=f"{attr} is an empty list: this alternative rejects everything",
                )
            )
    if not rule.allowed_tcb_status:
        out.append(
            LintWarning(
                code="lint.empty_allow_list",
                key_path=f"{where}.allowed_tcb_status",
                message="allowed_tcb_status is empty: nothing is accepted",
            )
        )
    for status in _UNSAFE_TDX_STATUSES:
        if status in rule.allowed_tcb_status:
            out.append(
                LintWarning(
                    code="lint.unsafe_tcb_status",
                    key_path=f"{where}.allowed_tcb_status",
                    message=f"{status} is accepted: Intel could not judge this platform's TCB",
                )
            )
    if (rule.ootd_grace is not None or rule.min_tcb_date is not None) and (
        "OutOfDate" in rule.allowed_tcb_status
    ):
        out.append(
            LintWarning(
                code="lint.grace_without_effect",
                key_path=f"{where}.ootd_grace",
                message="OutOfDate is accepted outright, so ootd_grace / "
                "min_tcb_date do not limit it",
            )
        )
    if rule.td_attributes.exact is None and rule.td_attributes.allow_debug:
        out.append(
            LintWarning(
                code="lint.debug_allowed",
                key_path=f"{where}.td_attributes",
                message="debuggable TDs are accepted: the host can read TD memory",
            )
        )
    for check_id in sorted(rule.warn_only & _RISKY_WARN_ONLY):
        out.append(
            LintWarning(
                code="lint.risky_warn_only",
                key_path=f"{where}.warn_only",
                message=f"{check_id} is warn-only: its failure will not reject",
            )
        )
    return out


def _lint_nitro(policy: Policy, out: list[LintWarning]) -> None:
    for i, rule in enumerate(policy.nitro or ()):
        where = f"nitro[{i}]"
        if all(rule.pcr(n) is None for n in (0, 1, 2)):
            out.append(
                LintWarning(
                    code="lint.unpinned_measurement",
                    key_path=where,
                    message="no PCR0, PCR1 or PCR2 pinned: any enclave image on "
                    "genuine Nitro hardware is accepted",
                )
            )
        lists = [f"pcr{n}" for n in range(32)] + [
            "nonce",
            "user_data",
            "public_key",
            "regions",
            "partition_root",
        ]
        for attr in lists:
            value = getattr(rule, attr)
            if value is not None and not value:
                out.append(
                    LintWarning(
                        code="lint.empty_allow_list",
                        key_path=f"{where}.{attr}",
                        message=f"{attr} is an empty list: this alternative rejects everything",
                    )
                )
        if rule.allow_debug:
            out.append(
                LintWarning(
                    code="lint.debug_allowed",
                    key_path=f"{where}.allow_debug",
                    message="debug-mode enclaves are accepted: the parent "
                    "instance can read the enclave's console",
                )
            )
        if not rule.require_nonce and rule.nonce is None and rule.max_timestamp_age is None:
            out.append(
                LintWarning(
                    code="lint.no_freshness",
                    key_path=where,
                    message="neither a nonce nor max_timestamp_age is required: "
                    "a recorded document is accepted while its certificates "
                    "are valid (about 3 hours)",
                )
            )
        for check_id in sorted(rule.warn_only & _RISKY_WARN_ONLY):
            out.append(
                LintWarning(
                    code="lint.risky_warn_only",
                    key_path=f"{where}.warn_only",
                    message=f"{check_id} is warn-only: its failure will not reject",
                )
            )
