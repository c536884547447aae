"""Explanations of failed and warned checks: what was expected, what was found, cause, remedy.

One table, keyed by stable check id (``EXPLANATIONS``); ``tests/policy/test_explain.py`` fails
when a check id listed by ``policy.checks.all_checks()`` has no entry, and
``tools/gen_docs.py`` prints every entry in docs/checks.md. A few ids get a sharper text from
the verified claims (TDX TCB status and dates, SEV-SNP TCB components): those are computed
by ``explain``, which is pure (the verification time is passed in).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType

from teeclient._time import iso
from teeclient.policy.result import Appraisal, Check, CheckStatus, CheckValue, Claims

__all__ = ["EXPLANATIONS", "ExplainedCheck", "Explanation", "explain", "explain_appraisal"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Explanation:
    """Why a check usually fails and what to do about it (static text for one check id)."""

    cause: str
    remedy: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ExplainedCheck:
    """One failed or warned check with the expected and found values, cause and remedy."""

    id: str
    component: str
    status: CheckStatus
    alternative: int | None
    expected: CheckValue
    found: CheckValue
    message: str
    cause: str
    remedy: str

    def to_dict(self) -> dict[str, object]:
        """JSON form (the ``explanation`` member of a check in ``verify --json --explain``)."""
        return {
            "expected": _json(self.expected),
            "found": _json(self.found),
            "cause": self.cause,
            "remedy": self.remedy,
        }

    def lines(self) -> list[str]:
        """Human-readable lines for the CLI."""
        alt = f" (alternative {self.alternative})" if self.alternative is not None else ""
        return [
            f"{self.status.value.upper()} {self.id} [{self.component}]{alt}: {self.message}",
            f"  expected  {_text(self.expected)}",
            f"  found     {_text(self.found)}",
            f"  cause     {self.cause}",
            f"  remedy    {self.remedy}",
        ]


def _json(value: CheckValue) -> object:
    return list(value) if isinstance(value, tuple) else value


def _text(value: CheckValue) -> str:
    if value is None:
        return "-"
    if isinstance(value, tuple):
        return ", ".join(value) if value else "(empty list: nothing is accepted)"
    return str(value)


_PIN = (
    "If the new value is the one you intend to run, add it to `{key}` (an allow-list keeps "
    "the old value accepted during a roll-out); otherwise do not deploy it."
)


def _exact(field: str, key: str, what: str) -> Explanation:
    return Explanation(
        cause=f"{field} differs from the policy's value(s): {what}",
        remedy=_PIN.format(key=key),
    )


def _flag_clear(section: str, flag: str, what: str) -> Explanation:
    return Explanation(
        cause=f"{flag} is set, and the policy does not allow it: {what}",
        remedy=f"Launch the guest without {flag}; if it is intended, add it to `{section}.allow`.",
    )


def _flag_set(section: str, flag: str, what: str) -> Explanation:
    return Explanation(
        cause=f"{flag} is required by the policy but clear: {what}",
        remedy=f"Launch the guest (or configure the host) with {flag}, or remove it from "
        f"`{section}.require`.",
    )


def _ocsp(chain: str) -> Explanation:
    return Explanation(
        cause=f"No current OCSP answer with status good for the {chain}: the answer is "
        "missing (offline or not supplied), past its nextUpdate, unknown, or the certificate "
        "is revoked.",
        remedy="Fetch fresh OCSP answers (run without --offline, or `teeclient fetch` to record "
        "them in a bundle). A revoked certificate means the device or RIM must not be trusted; "
        'for an outage, `[revocation] nvidia_ocsp = "allow-stale-until:24h"` (or '
        "`if-present`) tolerates a stale or missing answer.",
    )


def _table() -> dict[str, Explanation]:
    t: dict[str, Explanation] = {}
    # --- general and collateral
    t["policy.component"] = Explanation(
        cause="The policy has no alternative for this kind of evidence (no "
        "[[section]] table, or an empty list), so the component cannot be accepted.",
        remedy="Add a section for the platform (`teeclient policy init BUNDLE` writes one "
        "pinning what the evidence shows), or use a policy written for this platform.",
    )
    t["collateral.sources"] = Explanation(
        cause="Informational: lists where each collateral item came from.",
        remedy="Nothing to do.",
    )
    t["collateral.stale"] = Explanation(
        cause="A vendor service was unreachable and a cached item past its own validity was "
        "used, within `[collateral] max_staleness`.",
        remedy="Restore access to the vendor service (or refresh the cache with `teeclient "
        "cache prefetch`); lower `max_staleness` to refuse stale collateral.",
    )
    t["collateral.unavailable"] = Explanation(
        cause="Optional collateral (for example a CRL under `if-present`) could not be "
        "obtained, so the checks that need it were skipped.",
        remedy="Run with network access or supply the item with --collateral; set the "
        "revocation mode to `require` to make its absence a failure.",
    )
    # --- attestation documents: these record what was verified; failures are errors
    t["freshness.nonce"] = Explanation(
        cause="Informational: the document answered this session's nonce. A stale or "
        "replayed document fails with freshness.nonce_mismatch / freshness.nonce_reused.",
        remedy="Nothing to do; on those errors, re-attest (a fresh nonce is drawn each time).",
    )
    t["freshness.age"] = Explanation(
        cause="Informational: the evidence arrived within [freshness] max_evidence_age of the "
        "nonce. Slower answers fail with freshness.too_old.",
        remedy="On freshness.too_old: check the endpoint's latency, or raise max_evidence_age.",
    )
    t["binding.report_data"] = Explanation(
        cause="Informational: the CPU evidence binds the nonce, the keys and the devices. "
        "Otherwise verification fails with binding.report_data_mismatch: the evidence was "
        "produced for another session or other keys (replay or relay).",
        remedy="On binding.report_data_mismatch: do not use the endpoint; the enclave or a "
        "proxy in front of it is serving evidence that is not its own.",
    )
    t["binding.keys"] = Explanation(
        cause="Informational: the served keys are the bound ones. Otherwise "
        "binding.keys_not_bound: someone substituted the encryption keys.",
        remedy="On binding.keys_not_bound: do not send data; report the endpoint.",
    )
    t["binding.devices"] = Explanation(
        cause="Informational: the served devices are exactly those the CPU evidence binds. "
        "Otherwise binding.device_missing / device_extra / devices_reordered.",
        remedy="On those errors: the host attached, removed or swapped a device; do not use "
        "the endpoint until its operator explains the change.",
    )
    t["binding.gpu_nonce"] = Explanation(
        cause="Informational: every GPU answered the SPDM nonce derived from this session. "
        "Otherwise nvidia.nonce_mismatch: GPU evidence replayed or relayed from elsewhere.",
        remedy="On nvidia.nonce_mismatch: do not use the endpoint.",
    )
    t["binding.layout"] = Explanation(
        cause="The document's binding layout (teeclient-v1, tinfoil-v2 or tinfoil-v3) is not "
        "one the policy accepts in [binding] layouts.",
        remedy="Add the layout to [binding] layouts if you accept it; tinfoil-v2 is static "
        'evidence (no nonce) and also needs [freshness] nonce = "optional".',
    )
    t["binding.pin"] = Explanation(
        cause="The document does not bind a key [binding] pin requires (for example no TLS "
        "SPKI hash when pin includes tls_spki).",
        remedy="Remove the key from [binding] pin, or have the enclave bind it (teeclient "
        "documents: keys.tls_spki_sha256).",
    )
    t["binding.code_provenance"] = Explanation(
        cause="Informational: the Tinfoil document carries Sigstore code-provenance entries, "
        "which teeclient does not verify.",
        remedy="Pin the enclave's measurements in the policy ([[sev_snp]] measurement, "
        "[[tdx]] mr_td and rtmr0..2).",
    )
    t["log.changed"] = Explanation(
        cause="The trust log recorded a different measurement or key for this endpoint or "
        "evidence source in an earlier accepted verification: the deployment changed.",
        remedy="Confirm the change was an intended deployment (`teeclient log show` lists "
        "the history). If it was not, treat the endpoint as compromised until explained.",
    )
    # --- SEV-SNP
    snp = "sev_snp"
    t["sev_snp.product"] = Explanation(
        cause="The report comes from an AMD product line (Milan, Genoa, Turin) that the "
        "alternative does not list in `products`.",
        remedy="Add the product to `products` if machines of that generation are intended, "
        "or schedule the workload on the accepted hardware.",
    )
    t["sev_snp.signing_key"] = Explanation(
        cause="The report was signed by a key kind (VCEK: per chip; VLEK: per cloud "
        "provider) that `signing_keys` does not accept.",
        remedy="Add the kind to `signing_keys` (AWS uses VLEK) or use hosts that sign with "
        "the accepted kind.",
    )
    t["sev_snp.measurement"] = _exact(
        "MEASUREMENT",
        "measurement",
        "the launch digest of the guest image (firmware, kernel, initrd, command line) "
        "changed — a new image, a different VM size, or a different OVMF build",
    )
    t["sev_snp.host_data"] = _exact(
        "HOST_DATA", "host_data", "the host supplied different data at launch"
    )
    t["sev_snp.family_id"] = _exact("FAMILY_ID", "family_id", "the ID block names another family")
    t["sev_snp.image_id"] = _exact("IMAGE_ID", "image_id", "the ID block names another image")
    t["sev_snp.report_id"] = _exact("REPORT_ID", "report_id", "another guest instance")
    t["sev_snp.report_id_ma"] = _exact(
        "REPORT_ID_MA", "report_id_ma", "another migration agent (or none)"
    )
    t["sev_snp.report_data"] = _exact(
        "REPORT_DATA",
        "report_data",
        "the guest bound other data (a nonce or key) into the report",
    )
    t["sev_snp.chip_id"] = Explanation(
        cause="The report comes from a chip that is not in `chip_ids` (another machine).",
        remedy="Add the machine's CHIP_ID to `chip_ids` if it belongs to the fleet.",
    )
    t["sev_snp.masked_chip_id"] = Explanation(
        cause="The guest was launched with MASK_CHIP_KEY = 1: CHIP_ID is zero, so the "
        "report cannot be tied to one machine.",
        remedy="Launch without masking the chip id, or set `allow_masked_chip_id = true` "
        "if binding to a machine is not required.",
    )
    t["sev_snp.vmpl"] = Explanation(
        cause="The report was requested at a VMPL the policy does not accept (VMPL 0 is the "
        "most privileged; paravisors such as Azure's or AWS's run the guest above it).",
        remedy="Request the report at the expected VMPL, or list the VMPL in `vmpl` "
        "(for example `vmpl = [0, 1]`).",
    )
    t["sev_snp.guest_svn"] = Explanation(
        cause="The guest's security version (from its ID block) is below `min_guest_svn`: "
        "an older, possibly vulnerable image.",
        remedy="Deploy the current image, or lower `min_guest_svn` if the older image is "
        "still acceptable.",
    )
    t["sev_snp.guest_policy.abi"] = Explanation(
        cause="The guest policy declares an older minimum firmware ABI than "
        "`guest_policy.min_abi`.",
        remedy="Launch with a guest policy that declares the required ABI, or lower "
        "`guest_policy.min_abi`.",
    )
    for flag, what in (
        ("smt", "simultaneous multithreading may be enabled for the guest"),
        ("migrate_ma", "a migration agent may be associated with the guest"),
        ("debug", "the hypervisor can debug the guest and read its memory"),
        ("cxl", "CXL-attached memory may be used"),
    ):
        t[f"sev_snp.guest_policy.{flag}"] = _flag_clear(f"{snp}.guest_policy", flag.upper(), what)
    for flag, what in (
        ("single_socket", "the guest may be activated on several sockets"),
        ("mem_aes_256_xts", "memory is not encrypted with AES-256-XTS"),
        ("rapl_dis", "RAPL power telemetry is not disabled"),
        ("ciphertext_hiding", "ciphertext hiding is not enabled"),
        ("page_swap_disable", "page swapping is not disabled"),
    ):
        t[f"sev_snp.guest_policy.{flag}"] = _flag_set(f"{snp}.guest_policy", flag.upper(), what)
    for flag, what in (
        ("smt", "SMT is enabled on the host"),
        ("tsme", "TSME is enabled on the host"),
        ("tio", "SEV-TIO is enabled on the host"),
    ):
        t[f"sev_snp.platform_info.{flag}"] = Explanation(
            cause=f"The host reports a feature the policy does not allow: {what}.",
            remedy=f"Use hosts with the feature off, or add `{flag}` to `platform_info.allow`.",
        )
    for flag, what in (
        ("ecc", "ECC memory"),
        ("rapl_disabled", "RAPL disabled"),
        ("ciphertext_hiding_dram", "ciphertext hiding for DRAM"),
        ("alias_check_complete", "the memory alias check"),
    ):
        t[f"sev_snp.platform_info.{flag}"] = Explanation(
            cause=f"The policy requires {what} on the host and the report says it is off.",
            remedy=f"Use hosts configured with {what}, or remove `{flag}` from "
            "`platform_info.require`.",
        )
    t["sev_snp.platform_info.bit6"] = Explanation(
        cause="PLATFORM_INFO bit 6 (Turin: IOMMU write-safe) does not match the policy.",
        remedy="Adjust `platform_info.allow` / `platform_info.require` for bit6, or use "
        "hosts configured as the policy expects.",
    )
    t["sev_snp.platform_info.unknown_bits"] = Explanation(
        cause="PLATFORM_INFO has bits set that this teeclient version does not know "
        "(newer firmware).",
        remedy="Check AMD's current ABI specification and update teeclient; "
        '`platform_info.unknown_bits = "ignore"` silences it.',
    )
    t["sev_snp.tcb"] = Explanation(
        cause="The platform's REPORTED_TCB is below `min_tcb`: the host runs AMD firmware "
        "(boot loader, TEE, SNP) or microcode older than required.",
        remedy="The host needs an AMD firmware or microcode update (ask the provider). To "
        "accept the older TCB, lower `min_tcb` for the component, or add the id to "
        "`warn_only` for a reviewed transition period.",
    )
    t["sev_snp.launch_tcb"] = Explanation(
        cause="The TCB at guest launch (LAUNCH_TCB) is below `min_launch_tcb`: the guest "
        "started before the host was updated.",
        remedy="Relaunch the guest on the updated host, or lower `min_launch_tcb`.",
    )
    t["sev_snp.firmware"] = Explanation(
        cause="The SEV firmware version/build is older than `min_firmware`.",
        remedy="The host needs an AMD SEV firmware update, or lower `min_firmware`.",
    )
    t["sev_snp.provisional_firmware"] = Explanation(
        cause="The host runs provisional firmware: COMMITTED TCB or version differs from "
        "CURRENT (an update was loaded but not committed, so a rollback is possible).",
        remedy="Ask the provider to commit the firmware, or set "
        "`permit_provisional_firmware = true` (common on AWS and Azure).",
    )
    t["sev_snp.id_block"] = Explanation(
        cause="The guest was launched without an ID block signed by a trusted key "
        "(`trusted_id_key_hashes`).",
        remedy="Launch with an ID block signed by your key, and list the key digest in "
        "`trusted_id_key_hashes`.",
    )
    t["sev_snp.author_key"] = Explanation(
        cause="No enabled author key, or its digest is not in `trusted_author_key_hashes`.",
        remedy="Sign the ID key with your author key at launch and list its digest.",
    )
    for which in ("launch", "current"):
        t[f"sev_snp.mitigation.{which}"] = Explanation(
            cause=f"The {which.upper()}_MIT_VECTOR lacks mitigation bits the policy "
            "requires (or the report is older than version 5 and has none).",
            remedy="The host needs firmware that enables the mitigations, or lower "
            f"`min_{which}_mitigation_vector`.",
        )
    t["sev_snp.revocation"] = Explanation(
        cause="The AMD CRL was required but not supplied, or it is past its nextUpdate.",
        remedy="Run without --offline (or record the CRL with `teeclient fetch`); "
        '`[revocation] amd_crl = "allow-stale-until:7d"` tolerates a stale CRL, '
        '`"if-present"` a missing one.',
    )
    # --- Intel TDX
    t["tdx.tcb_status"] = Explanation(
        cause="The platform's TCB status (Intel's TCB Info, converged with the QE identity) "
        "is not in `allowed_tcb_status`: OutOfDate means Intel has published fixes (CPU "
        "microcode, TDX module, BIOS/SEAM loader) that the host has not installed.",
        remedy="The host needs the platform update (microcode/BIOS/TDX module). To accept "
        'the current level temporarily, set `ootd_grace = "30d"` (or `min_tcb_date`), or '
        "list the status in `allowed_tcb_status`.",
    )
    t["tdx.advisory_ids"] = Explanation(
        cause="The platform's TCB level is affected by Intel security advisories that "
        "`allowed_advisory_ids` does not list.",
        remedy="Read the advisories; update the platform, or list them in "
        "`allowed_advisory_ids` if the risk is accepted.",
    )
    t["tdx.tcb_evaluation_data_number"] = Explanation(
        cause="The TCB Info or QE Identity is from an older TCB recovery event than "
        "`min_tcb_evaluation_data_number`.",
        remedy="Fetch current collateral from Intel PCS (or your PCCS), or lower the minimum.",
    )
    for what, key in (("TCB Info", "tcb_info"), ("QE Identity", "qe_identity")):
        t[f"tdx.collateral.{key}"] = Explanation(
            cause=f"The {what} is not valid at the verification time (past nextUpdate, or "
            "issued later).",
            remedy="Fetch current collateral (run without --offline, or refresh the "
            "bundle with `teeclient fetch`); `collateral_expiry_grace` accepts a short "
            "overrun as a warning.",
        )
    for which, what in (("pck_crl", "PCK CRL"), ("root_crl", "Intel SGX Root CA CRL")):
        t[f"tdx.revocation.{which}"] = Explanation(
            cause=f"The {what} was required but not supplied, or it is past nextUpdate.",
            remedy="Fetch current collateral (DCAP collateral carries both CRLs); "
            '`[revocation] intel_crl = "allow-stale-until:7d"` tolerates a stale CRL.',
        )
    for key, label, what in (
        ("mr_seam", "MRSEAM", "the TDX module version changed (a host update)"),
        ("mr_td", "MRTD", "the TD's initial image (virtual firmware, TDVF) changed"),
        ("rtmr0", "RTMR0", "the firmware configuration changed"),
        ("rtmr1", "RTMR1", "the OS loader or kernel changed"),
        ("rtmr2", "RTMR2", "the kernel command line or initrd changed"),
        ("rtmr3", "RTMR3", "runtime measurements extended by the guest changed"),
        ("mr_config_id", "MRCONFIGID", "the host supplied another configuration id"),
        ("mr_owner", "MROWNER", "the host supplied another owner id"),
        ("mr_owner_config", "MROWNERCONFIG", "the host supplied another owner configuration"),
        ("report_data", "REPORTDATA", "the guest bound other data (a nonce or key)"),
        ("xfam", "XFAM", "the TD enables another set of CPU extended features"),
        ("mr_service_td", "MRSERVICETD", "a service TD (for example a migration TD) is bound"),
    ):
        t[f"tdx.{key}"] = _exact(label, key, what)
    t["tdx.td_attributes"] = Explanation(
        cause="TDATTRIBUTES differ from the exact value in `td_attributes`.",
        remedy="Launch the TD with the expected attributes, or use the table form of "
        "`td_attributes` to state which bits may or must be set.",
    )
    t["tdx.td_attributes.debug"] = Explanation(
        cause="The TD is debuggable (DEBUG set): the host can read and write its memory and "
        "registers. Never acceptable in production.",
        remedy="Launch the TD without debug; `td_attributes = { allow_debug = true }` is for "
        "development only.",
    )
    t["tdx.td_attributes.sept_ve_disable"] = Explanation(
        cause="SEPT_VE_DISABLE is clear: the host can inject #VE on EPT violations, a known "
        "attack surface.",
        remedy="Launch the TD with SEPT_VE_DISABLE (default in current guest kernels), or "
        "set `td_attributes.require_sept_ve_disable = false`.",
    )
    for bit in ("pks", "kl", "perfmon"):
        t[f"tdx.td_attributes.{bit}"] = Explanation(
            cause=f"{bit.upper()} is set but not in `td_attributes.allowed_bits`, or required "
            "by `required_bits` and clear.",
            remedy="Launch the TD with the expected feature setting, or adjust "
            "`td_attributes.allowed_bits` / `required_bits`.",
        )
    t["tdx.td_attributes.reserved"] = Explanation(
        cause="A TDATTRIBUTES bit outside the TD 1.0 layout is set (newer TDX module or "
        "unexpected configuration).",
        remedy='Check Intel\'s current TDX ABI; `td_attributes.reserved_bits = "warn"` '
        "reports it without rejecting.",
    )
    t["tdx.tee_tcb_svn"] = Explanation(
        cause="The TDX module's TEE_TCB_SVN is below `min_tee_tcb_svn`: an older TDX module.",
        remedy="The host needs a TDX module update, or lower `min_tee_tcb_svn`.",
    )
    t["tdx.qe_isvsvn"] = Explanation(
        cause="The Quoting Enclave's ISVSVN is below `min_qe_isvsvn`: an older QE.",
        remedy="The host needs the current DCAP quoting enclave, or lower `min_qe_isvsvn`.",
    )
    t["tdx.pce_svn"] = Explanation(
        cause="The PCK certificate's PCESVN is below `min_pce_svn`.",
        remedy="The host needs a platform update and a new PCK certificate, or lower "
        "`min_pce_svn`.",
    )
    t["tdx.fmspc"] = Explanation(
        cause="The platform model (FMSPC) is not in `fmspc`: another CPU family or platform.",
        remedy="Add the FMSPC if that platform model is intended.",
    )
    t["tdx.ppid"] = Explanation(
        cause="The machine (PPID) is not in `ppid`.",
        remedy="Add the machine's PPID if it belongs to the fleet.",
    )
    # --- AWS Nitro
    t["nitro.partition"] = Explanation(
        cause="The document chains to the root of an AWS partition not listed in `partition_root`.",
        remedy="Add the partition to `partition_root` if it is intended.",
    )
    t["nitro.debug"] = Explanation(
        cause="The enclave runs in debug mode (PCR0, PCR1, PCR2 all zero): the parent "
        "instance can read its console, and the measurements mean nothing.",
        remedy="Run the enclave without --debug-mode; `allow_debug = true` is for "
        "development only.",
    )
    pcr_meaning = {
        0: "the enclave image file (EIF) changed",
        1: "the Linux kernel or bootstrap changed",
        2: "the application changed",
        3: "the parent instance's IAM role changed",
        4: "the parent instance changed",
        8: "the EIF signing certificate changed",
    }
    for index in range(32):
        t[f"nitro.pcr{index}"] = _exact(
            f"PCR{index}",
            f"pcr{index}",
            pcr_meaning.get(index, "the enclave extended this PCR with other data"),
        )
    t["nitro.nonce"] = Explanation(
        cause="The document's nonce is not the caller's challenge (or one of `nonce`): a "
        "replayed or foreign document.",
        remedy="Request a fresh document with your nonce and pass the same nonce to "
        "verify (--nonce).",
    )
    t["nitro.timestamp.age"] = Explanation(
        cause="The document is older than `max_timestamp_age` at the verification time.",
        remedy="Request a fresh document, or verify a recorded one at its own time (--at).",
    )
    t["nitro.timestamp.future"] = Explanation(
        cause="The document's timestamp is ahead of the verification time by more than "
        "`clock_skew`: a wrong local clock or a wrong --at.",
        remedy="Fix the local clock or --at; raise `clock_skew` (max 1h) if needed.",
    )
    t["nitro.user_data"] = _exact(
        "user_data", "user_data", "the enclave bound other data into the document"
    )
    t["nitro.public_key"] = _exact(
        "public_key", "public_key", "the enclave presents another public key"
    )
    t["nitro.module_id"] = Explanation(
        cause="The enclave's module_id does not match `module_id_regex`.",
        remedy="Fix the regular expression or check which enclave answered.",
    )
    t["nitro.region"] = Explanation(
        cause="The signing certificate names an AWS region not in `regions`.",
        remedy="Add the region if deployments there are intended.",
    )
    t["nitro.unknown_fields"] = Explanation(
        cause="The document carries fields AWS does not define (ignored).",
        remedy="Informational; check the document's producer if unexpected.",
    )
    t["nitro.revocation"] = Explanation(
        cause="AWS publishes no CRLs for Nitro attestation certificates: not checked.",
        remedy="Nothing to do; the short certificate lifetimes bound the exposure.",
    )
    # --- NVIDIA
    t["gpu.count"] = Explanation(
        cause="The node has another number of GPUs than `count` allows (a GPU is missing "
        "from the evidence, or the node is of another size).",
        remedy="Collect evidence from every GPU, or adjust `count`.",
    )
    t["gpu.switch_count"] = Explanation(
        cause="The node has another number of NVSwitches than `switch_count`.",
        remedy="Collect evidence from every switch (PPCIE), or adjust `switch_count`.",
    )
    t["gpu.mode"] = Explanation(
        cause="The GPUs run in a confidential-computing mode (SPT, MPT, PPCIE) that `mode` "
        "does not accept, or the GPUs disagree.",
        remedy="Configure the GPUs' CC mode as required, or add the mode to `mode`.",
    )
    t["gpu.topology"] = Explanation(
        cause="The PPCIE topology check failed: GPUs and switches do not see each other as "
        "expected (a device is missing or substituted).",
        remedy="Collect evidence from all 8 GPUs and 4 switches of the node; investigate a "
        "substitution.",
    )
    t["gpu.verifier"] = Explanation(
        cause="The devices were appraised elsewhere than `verifier` requires (local "
        "teeclient, NVIDIA NRAS, or both).",
        remedy="Supply the evidence form the policy expects (raw reports for local, an "
        "NRAS token for nras), or change `verifier`.",
    )
    t["gpu.nonce"] = Explanation(
        cause="The GPU reports do not carry the caller's nonce (none given, or another one): "
        "they could be replayed.",
        remedy="Pass the challenge with --nonce (a bundle records it), or set "
        "`require_nonce = false` for recorded evidence you trust.",
    )
    t["gpu.distinct_devices"] = Explanation(
        cause="The same device appears twice in the evidence: one GPU's report was "
        "duplicated to fake a larger node.",
        remedy="Collect evidence from each device once; investigate the duplication.",
    )
    t["gpu.nras"] = Explanation(
        cause="The NRAS overall token says false, or comes from another issuer.",
        remedy="Read the per-device NRAS claims; check `nras_issuer`.",
    )
    for kind, label in (("nvidia_gpu", "GPU"), ("nvidia_switch", "NVSwitch")):
        t[f"{kind}.hwmodel"] = Explanation(
            cause=f"The {label}'s hardware model (BROM name) is not in `hwmodel`.",
            remedy="Add the model if that hardware is intended.",
        )
        t[f"{kind}.ueid"] = Explanation(
            cause=f"The {label}'s device id is not in `ueid` (another device).",
            remedy="Add the device id if it belongs to the fleet.",
        )
        t[f"{kind}.fwid"] = Explanation(
            cause=f"The {label} report's FWID is missing or differs from the FWID in its "
            "device certificate: the running firmware is not the certified one.",
            remedy="Update or reflash the device firmware; set `require_fwid = false` only "
            "for devices that carry no FWID.",
        )
        t[f"{kind}.measurements"] = Explanation(
            cause=f"The {label}'s measurements do not match the reference values of its "
            "signed RIMs, or a RIM was not available: the firmware or driver is not the one "
            "NVIDIA published for that version.",
            remedy="Supply the RIMs (run without --offline or record them with `teeclient "
            "fetch`); for a known benign index, list it in `allowed_mismatch_indices`.",
        )
        t[f"{kind}.ocsp.device_chain"] = _ocsp(f"{label}'s device certificate chain")
        t[f"{kind}.nras"] = Explanation(
            cause=f"NRAS reported a {label} claim as false.",
            remedy="Read the NRAS claims of the device; appraise locally for details.",
        )
    t["nvidia_gpu.arch"] = Explanation(
        cause="The GPU architecture (Hopper, Blackwell) is not in `arch`.",
        remedy="Add the architecture if that hardware is intended.",
    )
    t["nvidia_gpu.driver_version"] = Explanation(
        cause="The GPU driver version is not allowed by `driver_versions` (an older or "
        "unreviewed driver).",
        remedy="Install an allowed driver, or add the version (or lower the `{min = …}`).",
    )
    t["nvidia_gpu.vbios_version"] = Explanation(
        cause="The VBIOS version is not allowed by `vbios_versions`.",
        remedy="Update the VBIOS, or add the version to `vbios_versions`.",
    )
    t["nvidia_gpu.protected_pcie"] = Explanation(
        cause="PROTECTED_PCIE_STATUS differs from `protected_pcie`.",
        remedy="Configure protected PCIe as required, or change `protected_pcie`.",
    )
    t["nvidia_gpu.ocsp.driver_rim"] = _ocsp("driver RIM signing chain")
    t["nvidia_gpu.ocsp.vbios_rim"] = _ocsp("VBIOS RIM signing chain")
    t["nvidia_switch.bios_version"] = Explanation(
        cause="The NVSwitch BIOS version is not allowed by `bios_versions`.",
        remedy="Update the switch BIOS, or add the version to `bios_versions`.",
    )
    t["nvidia_switch.ocsp.switch_rim"] = _ocsp("switch BIOS RIM signing chain")
    return t


#: Every check id's explanation (docs/checks.md prints them).
EXPLANATIONS: Mapping[str, Explanation] = MappingProxyType(_table())

_GENERIC = Explanation(
    cause="The verified value does not satisfy the policy rule for this check.",
    remedy="Compare the expected and found values with docs/checks.md; fix the deployment "
    "or the policy.",
)

Detail = Callable[[Check, Claims | None, datetime], tuple[str, str] | None]


def _tdx_tcb_status(check: Check, claims: Claims | None, now: datetime) -> tuple[str, str] | None:
    date = getattr(claims, "tcb_date", None)
    advisories: tuple[str, ...] = tuple(getattr(claims, "advisory_ids", ()) or ())
    if not isinstance(date, datetime):
        return None
    status = str(check.actual)
    adv = f" affected by {', '.join(advisories)}" if advisories else ""
    cause = (
        f"TCB status {status}: the platform's TCB level is dated {iso(date)[:10]}{adv}; "
        "Intel has published newer microcode, BIOS or TDX module fixes the host has not "
        "installed."
    )
    days = max(0, math.ceil((now - date).total_seconds() / 86400)) + 30
    remedy = (
        "The host needs a platform update (CPU microcode / BIOS / TDX module) to reach "
        "UpToDate. To accept it for 30 more days, add `ootd_grace = "
        + f'"{days}d"` (tcbDate + grace >= now) in the [[tdx]] alternative; it is then '
        + "reported as a warning."
    )
    if "OutOfDate" not in status and "RELAUNCH" not in status:
        remedy = (
            f"Read Intel's guidance for {status}; list it in `allowed_tcb_status` only "
            "after review."
        )
    return cause, remedy


def _snp_tcb(check: Check, claims: Claims | None, now: datetime) -> tuple[str, str] | None:
    del claims, now
    text = str(check.message)
    if "below the minimum in" not in text:
        return None
    parts = text.split("below the minimum in", 1)[1].split("(")[0].strip()
    what = {
        "ucode": "CPU microcode",
        "snp": "SNP firmware",
        "tee": "PSP (TEE) firmware",
        "bl": "PSP boot loader",
        "fmc": "FMC firmware",
    }
    names = [what.get(p.strip(), p.strip()) for p in parts.split(",") if p.strip()]
    cause = f"The host's {', '.join(names)} is older than the policy requires."
    remedy = (
        "The host needs an AMD firmware/microcode update (ask the provider); lower the "
        "component in `min_tcb` to accept it, or add the id to `warn_only` for a reviewed "
        "transition period."
    )
    return cause, remedy


_DETAILS: Mapping[str, Detail] = MappingProxyType(
    {"tdx.tcb_status": _tdx_tcb_status, "sev_snp.tcb": _snp_tcb}
)


def explain(check: Check, *, claims: Claims | None = None, now: datetime) -> ExplainedCheck:
    """Explain one check (meant for ``fail`` and ``warn``), using claims where they help."""
    base = EXPLANATIONS.get(check.id, _GENERIC)
    cause, remedy = base.cause, base.remedy
    detail = _DETAILS.get(check.id)
    sharper = detail(check, claims, now) if detail is not None else None
    if sharper is not None:
        cause, remedy = sharper
    return ExplainedCheck(
        id=check.id,
        component=check.component,
        status=check.status,
        alternative=check.alternative,
        expected=check.expected,
        found=check.actual,
        message=check.message,
        cause=cause,
        remedy=remedy,
    )


def explain_appraisal(appraisal: Appraisal) -> list[tuple[Check, ExplainedCheck]]:
    """Every failed or warned check of an appraisal, explained (claims of its component)."""
    by_label = {comp.label: comp.claims for comp in appraisal.components}
    out: list[tuple[Check, ExplainedCheck]] = []
    for check in appraisal.checks:
        if check.status in (CheckStatus.FAIL, CheckStatus.WARN):
            claims = by_label.get(check.component)
            out.append((check, explain(check, claims=claims, now=appraisal.at)))
    return out
