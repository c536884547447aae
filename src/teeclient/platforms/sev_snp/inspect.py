"""Describe SEV-SNP evidence for `teeclient inspect` (parse only, nothing is verified)."""

from __future__ import annotations

import hashlib
from typing import Any

from teeclient.platforms import VerifyOptions
from teeclient.platforms.sev_snp import abi
from teeclient.platforms.sev_snp.verify import split_evidence

__all__ = ["describe_evidence"]


def describe_evidence(data: bytes, *, options: VerifyOptions) -> dict[str, Any]:
    """Decode an SEV-SNP report (raw, extended or HCL) without verifying it.

    Raises:
        ParseError: the report is malformed.
    """
    product = options.product
    ev = split_evidence(data)
    report = abi.parse_report(ev.report)
    chosen = abi.Product(product.lower()) if product else report.cpuid_product
    tcbs: dict[str, Any] = {}
    for name in ("current_tcb", "reported_tcb", "committed_tcb", "launch_tcb"):
        raw: bytes = getattr(report, name)
        tcbs[name] = abi.decode_tcb(raw, chosen).to_dict() if chosen else {"raw": raw.hex()}
    body: dict[str, Any] = {
        "version": report.version,
        "product": chosen.value if chosen else None,
        "product_source": "argument" if product else ("cpuid" if chosen else None),
        "guest_svn": report.guest_svn,
        "policy": report.policy.to_dict(),
        "family_id": report.family_id.hex(),
        "image_id": report.image_id.hex(),
        "vmpl": report.vmpl,
        "signature_algo": report.signature_algo,
        **tcbs,
        "platform_info": report.platform_info.to_dict(),
        "signer_info": report.signer_info.to_dict(),
        "report_data": report.report_data.hex(),
        "measurement": report.measurement.hex(),
        "host_data": report.host_data.hex(),
        "id_key_digest": report.id_key_digest.hex(),
        "author_key_digest": report.author_key_digest.hex(),
        "report_id": report.report_id.hex(),
        "report_id_ma": report.report_id_ma.hex(),
        "cpuid": None
        if report.cpuid_fam_id is None
        else {
            "family": report.cpuid_fam_id,
            "model": report.cpuid_mod_id,
            "stepping": report.cpuid_step,
        },
        "chip_id": report.chip_id.hex(),
        "current_version": report.current_version,
        "committed_version": report.committed_version,
        "launch_mit_vector": None
        if report.launch_mit_vector is None
        else f"{report.launch_mit_vector:#x}",
        "current_mit_vector": None
        if report.current_mit_vector is None
        else f"{report.current_mit_vector:#x}",
        "signature": {"r": report.signature_r.hex(), "s": report.signature_s.hex()},
    }
    if ev.cert_table:
        body["cert_table"] = [
            {"guid": str(e.guid), "role": e.role, "size": len(e.data)} for e in ev.cert_table
        ]
    if ev.hcl is not None:
        body["hcl"] = {
            "report_type": ev.hcl.report_type,
            "hash_type": ev.hcl.hash_type,
            "runtime_claims_sha256": hashlib.sha256(ev.hcl.runtime_claims).hexdigest(),
            "runtime_claims_size": len(ev.hcl.runtime_claims),
        }
    return body
