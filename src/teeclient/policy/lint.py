"""Advisory findings on a valid policy: things that are legal but probably not meant."""

from __future__ import annotations

from dataclasses import dataclass

from teeclient.policy.model import Policy, RevocationMode

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
}


def lint_policy(policy: Policy) -> list[LintWarning]:
    """Findings for a loaded policy (never raises)."""
    out: list[LintWarning] = []
    if policy.sev_snp is None and policy.nvidia_gpu is None and policy.nvidia_switch is None:
        out.append(LintWarning(code="lint.no_components", key_path="<top level>",
                               message="the policy has no component section: it accepts "
                               "nothing"))  # fmt: skip
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
            out.append(LintWarning(code="lint.risky_warn_only", key_path=f"{where}.warn_only",
                                   message=f"{check_id} is warn-only: its failure will not "
                                   "reject"))  # fmt: skip
    out.extend(_lint_nvidia(policy))
    return out


def _lint_nvidia(policy: Policy) -> list[LintWarning]:
    out: list[LintWarning] = []
    if policy.nvidia_gpu is not None or policy.nvidia_switch is not None:
        if policy.revocation.nvidia_ocsp.mode is RevocationMode.OFF:
            out.append(LintWarning(code="lint.revocation_off", key_path="revocation.nvidia_ocsp",
                                   message="NVIDIA OCSP checking is off"))  # fmt: skip
        if not policy.gpu.require_nonce:
            out.append(LintWarning(code="lint.nonce_not_required", key_path="gpu.require_nonce",
                                   message="GPU evidence is accepted without the caller's nonce: "
                                   "recorded evidence can be replayed"))  # fmt: skip
    for section in ("nvidia_gpu", "nvidia_switch"):
        for i, rule in enumerate(getattr(policy, section) or ()):
            where = f"{section}[{i}]"
            if not rule.require_measurements:
                out.append(LintWarning(code="lint.measurements_not_required", key_path=where,
                                       message="RIM measurements are not required: any firmware "
                                       "on genuine hardware is accepted"))  # fmt: skip
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
                out.append(LintWarning(code="lint.risky_warn_only", key_path=f"{where}.warn_only",
                                       message=f"{check_id} is warn-only: its failure will not "
                                       "reject"))  # fmt: skip
    return out
