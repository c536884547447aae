"""`policy init`: a commented policy that pins what verified claims show (a starting point).

``initial_policy(claims)`` reads verified claims only (data) and writes TOML: for SEV-SNP
the product, key kind, MEASUREMENT (and HOST_DATA, ID block values), VMPL, guest SVN, TCB and
firmware minimums; for TDX MRSEAM, MRTD, RTMR0–3, XFAM, TD attributes, TEE/QE/PCE SVN
minimums, FMSPC and the TCB status; for AWS Nitro PCR0–4 and PCR8, region and debug mode;
for NVIDIA the node's GPU and switch counts and mode, each device's model and its driver,
VBIOS and switch BIOS versions. Values that change on every request (report data, nonces,
timestamps) or pin one machine (CHIP_ID, PPID, device ids) are written commented out, so a
reviewer can decide. The output is meant to be read and edited, then checked into CI with
``teeclient policy test``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from teeclient._time import iso
from teeclient.platforms.nitro.claims import NitroClaims
from teeclient.platforms.nvidia.claims import GpuClaims, NvidiaNodeClaims, SwitchClaims
from teeclient.platforms.sev_snp.claims import SnpClaims
from teeclient.platforms.tdx.claims import TdxClaims
from teeclient.policy.result import Claims

__all__ = ["initial_policy"]

_ZERO48 = "00" * 48


def _q(value: str) -> str:
    return json.dumps(value)


def _list(values: Sequence[str]) -> str:
    return "[" + ", ".join(_q(v) for v in values) + "]"


def _zero(text: str) -> bool:
    return not text.strip("0")


class _Writer:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def comment(self, text: str) -> None:
        for line in text.splitlines() or [""]:
            self.lines.append(f"# {line}".rstrip())

    def key(self, name: str, value: str, note: str | None = None) -> None:
        self.lines.append(f"{name} = {value}" + (f"  # {note}" if note else ""))

    def off(self, name: str, value: str, note: str) -> None:
        self.lines.append(f"# {name} = {value}  # {note}")

    def blank(self) -> None:
        if self.lines and self.lines[-1] != "":
            self.lines.append("")

    def table(self, header: str, comment: str | None = None) -> None:
        self.blank()
        if comment:
            self.comment(comment)
        self.lines.append(header)


def _snp(w: _Writer, c: SnpClaims, index: int) -> list[str]:
    notes: list[str] = []
    product = c.product.value
    kind = c.signing_key.value
    w.table("[[sev_snp]]", f"AMD SEV-SNP component {index}: {product}, signed by a {kind.upper()}")
    w.key("name", _q(f"{product}-pinned"))
    w.key("products", _list([product]))
    w.key("signing_keys", _list([kind]))
    w.key("measurement", _q(c.measurement), "launch digest of the guest image")
    w.key("host_data", _q(c.host_data))
    for name in ("family_id", "image_id"):
        value = getattr(c, name)
        if _zero(value):
            w.off(name, _q(value), "all zero in the evidence: no ID block value to pin")
        else:
            w.key(name, _q(value))
    w.key("vmpl", str(c.vmpl))
    w.key("min_guest_svn", str(c.guest_svn))
    tcb = ", ".join(f"{k} = {v}" for k, v in c.reported_tcb.parts().items())
    w.key("min_tcb", "{ " + tcb + " }", "REPORTED_TCB of the evidence; raise as hosts update")
    launch = ", ".join(f"{k} = {v}" for k, v in c.launch_tcb.parts().items())
    w.key("min_launch_tcb", "{ " + launch + " }")
    w.key("min_firmware", _q(c.current_version))
    committed = (c.committed_major, c.committed_minor, c.committed_build)
    current = (c.current_major, c.current_minor, c.current_build)
    provisional = committed != current or c.committed_tcb.raw != c.current_tcb.raw
    w.key(
        "permit_provisional_firmware",
        "true" if provisional else "false",
        "the evidence shows provisional firmware" if provisional else None,
    )
    pol = c.policy
    allow = [
        flag
        for flag, attr in (
            ("smt", "smt"),
            ("migrate_ma", "migrate_ma"),
            ("debug", "debug"),
            ("cxl", "cxl_allow"),
        )
        if getattr(pol, attr)
    ]
    if "debug" in allow:
        notes.append("SEV-SNP guest policy allows DEBUG: the host can read guest memory")
    if "migrate_ma" in allow:
        notes.append("SEV-SNP guest policy allows a migration agent")
    require = [
        flag
        for flag in (
            "single_socket",
            "mem_aes_256_xts",
            "rapl_dis",
            "ciphertext_hiding",
            "page_swap_disable",
        )
        if getattr(pol, flag)
    ]
    abi = (
        f", min_abi = {_q(f'{pol.abi_major}.{pol.abi_minor}')}"
        if pol.abi_major or pol.abi_minor
        else ""
    )
    w.key(
        "guest_policy",
        "{ allow = " + _list(allow) + ", require = " + _list(require) + abi + " }",
        "WARNING: DEBUG allowed" if "debug" in allow else None,
    )
    masked = c.signer_info.mask_chip_key
    if masked:
        w.key("allow_masked_chip_id", "true", "the evidence masks CHIP_ID")
    else:
        w.off("chip_ids", _list([c.chip_id]), "pins this one machine")
    w.off("report_data", _q(c.report_data), "changes with every request")
    return notes


def _tdx(w: _Writer, c: TdxClaims, index: int) -> list[str]:
    notes: list[str] = []
    status = c.tcb_status.value
    date = c.tcb_date
    w.table(
        "[[tdx]]",
        f"Intel TDX component {index}: FMSPC {c.pck.fmspc}, TCB status {status}"
        + (f" (tcbDate {iso(date)[:10]})" if date else ""),
    )
    w.key("name", _q("tdx-pinned"))
    statuses = ["UpToDate"] if status == "UpToDate" else ["UpToDate", status]
    if status != "UpToDate":
        notes.append(f"Intel TDX TCB status is {status}: review before accepting it")
    w.key(
        "allowed_tcb_status",
        _list(statuses),
        None if status == "UpToDate" else f"REVIEW: the evidence is {status}",
    )
    advisories = c.advisory_ids
    if advisories:
        w.key("allowed_advisory_ids", _list(list(advisories)), "advisories of the matched level")
    w.key("min_tcb_evaluation_data_number", str(c.tcb_evaluation_data_number))
    w.key("mr_seam", _q(c.mr_seam), "TDX module")
    w.key("mr_td", _q(c.mr_td), "initial TD image (TDVF)")
    for i, what in enumerate(("firmware", "OS loader, kernel", "command line, initrd", "runtime")):
        w.key(f"rtmr{i}", _q(getattr(c, f"rtmr{i}")), what)
    for name in ("mr_config_id", "mr_owner", "mr_owner_config"):
        value = getattr(c, name)
        if value != _ZERO48:
            w.key(name, _q(value))
    service = c.mr_service_td
    if service is not None and service != _ZERO48:
        w.key("mr_service_td", _q(service), "a service TD is bound")
    w.key("xfam", _q(c.xfam))
    attrs = c.td_attributes
    if attrs.debug:
        notes.append("Intel TDX TD is debuggable: the host can read its memory")
    allowed = [b for b in ("pks", "kl", "perfmon") if getattr(attrs, b)]
    w.key(
        "td_attributes",
        "{ allow_debug = "
        + ("true" if attrs.debug else "false")
        + ", require_sept_ve_disable = "
        + ("true" if attrs.sept_ve_disable else "false")
        + f", allowed_bits = {_list(allowed)}, required_bits = {_list(allowed)}"
        + (', reserved_bits = "warn"' if attrs.reserved_bits else "")
        + " }",
        "WARNING: debuggable TD" if attrs.debug else None,
    )
    w.key("min_tee_tcb_svn", _q(c.tee_tcb_svn))
    w.key("min_qe_isvsvn", str(c.qe_report.isvsvn))
    w.key("min_pce_svn", str(c.pck.pce_svn))
    w.key("fmspc", _list([c.pck.fmspc]), "platform model")
    w.off("ppid", _list([c.pck.ppid]), "pins this one machine")
    w.off("report_data", _q(c.report_data), "changes with every request")
    return notes


def _nitro(w: _Writer, c: NitroClaims, index: int) -> list[str]:
    notes: list[str] = []
    pcr = c.pcr
    debug = c.debug
    w.table(
        "[[nitro]]",
        f"AWS Nitro Enclave component {index}: region {c.region or 'unknown'}"
        + (" (DEBUG MODE)" if debug else ""),
    )
    w.key("name", _q("nitro-pinned"))
    w.key("partition_root", _q(c.partition))
    if debug:
        notes.append("AWS Nitro enclave runs in debug mode: PCRs are zero")
        w.key("allow_debug", "true", "WARNING: debug-mode enclave")
    meaning = {0: "enclave image", 1: "kernel and bootstrap", 2: "application", 8: "signing cert"}
    for i in (0, 1, 2, 3, 4, 8):
        value = pcr(i)
        if value is None:
            continue
        if i in (3, 4, 8) and _zero(value):
            continue
        note = meaning.get(i, "instance-specific: IAM role" if i == 3 else "parent instance")
        if i == 4:
            w.off(f"pcr{i}", _q(value), "pins one parent instance")
        else:
            w.key(f"pcr{i}", _q(value), note)
    region = c.region
    if region:
        w.key("regions", _list([region]))
    if c.public_key:
        w.off("public_key", _q(c.public_key), "the enclave's key; often per boot")
    return notes


def _node(w: _Writer, c: NvidiaNodeClaims) -> list[str]:
    gpus = c.gpus
    switches = c.switches
    mode = c.mode
    w.table("[gpu]", "NVIDIA node: device counts and mode as the evidence shows them")
    w.key("count", str(len(gpus)))
    w.key("switch_count", str(len(switches)))
    if mode is not None:
        w.key("mode", _list([mode.value]))
    w.key("require_nonce", "true" if c.nonce_checked else "false")
    notes = []
    if not c.nonce_checked:
        notes.append("NVIDIA reports were verified without a nonce: require_nonce = false")
    return notes


def _gpus(w: _Writer, gpus: Sequence[GpuClaims]) -> list[str]:
    models = list(dict.fromkeys(g.hwmodel for g in gpus))
    w.table("[[nvidia_gpu]]", f"NVIDIA GPUs ({len(gpus)}): {', '.join(models)}")
    w.key("name", _q("gpus-pinned"))
    w.key("arch", _list(list(dict.fromkeys(g.arch.value for g in gpus))))
    w.key("hwmodel", _list(models))
    drivers = [v for v in dict.fromkeys(g.driver_version for g in gpus) if v]
    if drivers:
        w.key("driver_versions", _list(drivers))
    vbios = [v.upper() for v in dict.fromkeys(g.vbios_version for g in gpus) if v]
    if vbios:
        w.key("vbios_versions", _list(vbios))
    w.key("require_fwid", "true" if all(g.fwid_match is True for g in gpus) else "false")
    pcie = {g.protected_pcie for g in gpus}
    if len(pcie) == 1 and None not in pcie:
        w.key("protected_pcie", "true" if pcie.pop() else "false")
    w.off("ueid", _list([g.ueid for g in gpus]), "pins these devices")
    return []


def _switches(w: _Writer, switches: Sequence[SwitchClaims]) -> list[str]:
    models = list(dict.fromkeys(s.hwmodel for s in switches))
    w.table("[[nvidia_switch]]", f"NVIDIA NVSwitches ({len(switches)}): {', '.join(models)}")
    w.key("name", _q("switches-pinned"))
    w.key("hwmodel", _list(models))
    bios = [v.upper() for v in dict.fromkeys(s.vbios_version for s in switches) if v]
    if bios:
        w.key("bios_versions", _list(bios))
    w.off("ueid", _list([s.ueid for s in switches]), "pins these devices")
    return []


def _revocation(w: _Writer, claims: Sequence[Claims]) -> None:
    kinds = {c.kind for c in claims}
    w.table("[revocation]", "Revocation as the evidence was checked; tighten for production.")
    if "sev-snp" in kinds:
        checked = all(
            getattr(getattr(c, "revocation", None), "checked", False)
            for c in claims
            if c.kind == "sev-snp"
        )
        w.key(
            "amd_crl",
            _q("require" if checked else "if-present"),
            None if checked else "no AMD CRL was recorded: record one and say require",
        )
    if "tdx" in kinds:
        w.key("intel_crl", _q("require"))
    if kinds & {"nvidia-node", "nvidia-gpu", "nvidia-switch"}:
        w.key(
            "nvidia_ocsp",
            _q("if-present"),
            "say require once fresh OCSP answers are recorded",
        )


def initial_policy(
    claims: Sequence[Claims], *, name: str, source: str, at: datetime
) -> tuple[str, list[str]]:
    """(TOML text, review notes) of a policy pinning what ``claims`` show.

    ``claims`` are verified claims as ``appraise`` takes them (an NVIDIA node followed by its
    devices is handled either way).
    """
    expanded: list[Claims] = []
    for c in claims:
        expanded.append(c)
        parts = getattr(c, "parts", None)
        if callable(parts):
            expanded.extend(p for p in parts() if all(p is not e for e in expanded))
    w = _Writer()
    w.comment(f"Policy written by `teeclient policy init` from {source}")
    w.comment(f"(verified at {iso(at)}). It pins what that evidence shows: review every value,")
    w.comment("remove what should not be pinned, and check it with")
    w.comment("`teeclient policy test` before relying on it. Reference: docs/policy-reference.md")
    w.blank()
    w.key("version", "1")
    w.key("name", _q(name))
    w.key("description", _q(f"pinned from {source}"[:2000]))
    _revocation(w, expanded)
    notes: list[str] = []
    snp = [c for c in expanded if isinstance(c, SnpClaims)]
    tdx = [c for c in expanded if isinstance(c, TdxClaims)]
    nitro = [c for c in expanded if isinstance(c, NitroClaims)]
    for i, s in enumerate(snp):
        notes += _snp(w, s, i)
    for i, t in enumerate(tdx):
        notes += _tdx(w, t, i)
    for i, n in enumerate(nitro):
        notes += _nitro(w, n, i)
    for node in (c for c in expanded if isinstance(c, NvidiaNodeClaims)):
        notes += _node(w, node)
    gpus = [c for c in expanded if isinstance(c, GpuClaims)]
    if gpus:
        notes += _gpus(w, gpus)
    switches = [c for c in expanded if isinstance(c, SwitchClaims)]
    if switches:
        notes += _switches(w, switches)
    if notes:
        w.blank()
        w.comment("REVIEW:")
        for note in notes:
            w.comment(f"- {note}")
    return "\n".join(w.lines).rstrip() + "\n", notes
