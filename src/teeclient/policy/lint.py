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
}


def lint_policy(policy: Policy) -> list[LintWarning]:
    """Findings for a loaded policy (never raises)."""
    out: list[LintWarning] = []
    if policy.sev_snp is None and policy.nitro is None:
        out.append(LintWarning(code="lint.no_components", key_path="<top level>",
                               message="the policy has no component section: it accepts "
                               "nothing"))  # fmt: skip
    if policy.revocation.amd_crl.mode is RevocationMode.OFF:
        out.append(LintWarning(code="lint.revocation_off", key_path="revocation.amd_crl",
                               message="AMD CRL checking is off"))  # fmt: skip
    for i, rule in enumerate(policy.sev_snp or ()):
        where = f"sev_snp[{i}]"
        if rule.measurement is None:
            out.append(LintWarning(code="lint.unpinned_measurement", key_path=where,
                                   message="no measurement pinned: any workload on genuine "
                                   "hardware is accepted"))  # fmt: skip
        for attr in ("measurement", "host_data", "family_id", "image_id", "report_id",
                     "report_id_ma", "report_data", "chip_ids", "trusted_id_key_hashes",
                     "trusted_author_key_hashes"):  # fmt: skip
            if getattr(rule, attr) == ():
                out.append(LintWarning(code="lint.empty_allow_list", key_path=f"{where}.{attr}",
                                       message=f"{attr} is an empty list: this alternative "
                                       "rejects everything"))  # fmt: skip
        if "debug" in rule.guest_policy.allow:
            out.append(LintWarning(code="lint.debug_allowed",
                                   key_path=f"{where}.guest_policy.allow",
                                   message="debug guests are accepted: the host can read "
                                   "guest memory"))  # fmt: skip
        if rule.products == frozenset():
            out.append(LintWarning(code="lint.empty_allow_list", key_path=f"{where}.products",
                                   message="products is empty: nothing is accepted"))  # fmt: skip
        for check_id in sorted(rule.warn_only & _RISKY_WARN_ONLY):
            out.append(LintWarning(code="lint.risky_warn_only", key_path=f"{where}.warn_only",
                                   message=f"{check_id} is warn-only: its failure will not "
                                   "reject"))  # fmt: skip
    _lint_nitro(policy, out)
    return out


def _lint_nitro(policy: Policy, out: list[LintWarning]) -> None:
    for i, rule in enumerate(policy.nitro or ()):
        where = f"nitro[{i}]"
        if all(rule.pcr(n) is None for n in (0, 1, 2)):
            out.append(LintWarning(code="lint.unpinned_measurement", key_path=where,
                                   message="no PCR0, PCR1 or PCR2 pinned: any enclave image on "
                                   "genuine Nitro hardware is accepted"))  # fmt: skip
        lists = [f"pcr{n}" for n in range(32)] + ["nonce", "user_data", "public_key", "regions",
                                                  "partition_root"]  # fmt: skip
        for attr in lists:
            value = getattr(rule, attr)
            if value is not None and not value:
                out.append(LintWarning(code="lint.empty_allow_list", key_path=f"{where}.{attr}",
                                       message=f"{attr} is an empty list: this alternative "
                                       "rejects everything"))  # fmt: skip
        if rule.allow_debug:
            out.append(LintWarning(code="lint.debug_allowed", key_path=f"{where}.allow_debug",
                                   message="debug-mode enclaves are accepted: the parent "
                                   "instance can read the enclave's console"))  # fmt: skip
        if not rule.require_nonce and rule.nonce is None and rule.max_timestamp_age is None:
            out.append(LintWarning(code="lint.no_freshness", key_path=where,
                                   message="neither a nonce nor max_timestamp_age is required: "
                                   "a recorded document is accepted while its certificates "
                                   "are valid (about 3 hours)"))  # fmt: skip
        for check_id in sorted(rule.warn_only & _RISKY_WARN_ONLY):
            out.append(LintWarning(code="lint.risky_warn_only", key_path=f"{where}.warn_only",
                                   message=f"{check_id} is warn-only: its failure will not "
                                   "reject"))  # fmt: skip
