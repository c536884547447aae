"""Decode evidence and collateral files for `inspect`, without verifying anything."""

from __future__ import annotations

import hashlib
from typing import Any

from cryptography import x509

from teeclient._time import iso
from teeclient._x509 import fingerprint
from teeclient.collateral.items import CollateralItem, ItemKind
from teeclient.errors import InputError, ParseError
from teeclient.platforms import detect_platform

__all__ = ["describe"]


def _certificate(cert: x509.Certificate) -> dict[str, Any]:
    out: dict[str, Any] = {
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "not_before": iso(cert.not_valid_before_utc),
        "not_after": iso(cert.not_valid_after_utc),
        "sha256": fingerprint(cert),
        "signature_algorithm": cert.signature_algorithm_oid.dotted_string,
    }
    from teeclient.platforms.sev_snp.kds import AMD_OID_ARC, parse_vek_extensions

    try:
        exts = list(cert.extensions)
    except (ValueError, x509.DuplicateExtension) as exc:
        out["extensions_error"] = str(exc)
        return out
    if any(e.oid.dotted_string.startswith(AMD_OID_ARC + ".") for e in exts):
        try:
            out["amd_extensions"] = parse_vek_extensions(cert).to_dict()
        except ParseError as exc:
            out["amd_extensions_error"] = exc.to_dict()
    return out


def _snp(data: bytes, product: str | None) -> dict[str, Any]:
    from teeclient.platforms.sev_snp import abi
    from teeclient.platforms.sev_snp.verify import split_evidence

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
        "cpuid": None if report.cpuid_fam_id is None else {
            "family": report.cpuid_fam_id, "model": report.cpuid_mod_id,
            "stepping": report.cpuid_step},
        "chip_id": report.chip_id.hex(),
        "current_version": report.current_version,
        "committed_version": report.committed_version,
        "launch_mit_vector": None if report.launch_mit_vector is None
        else f"{report.launch_mit_vector:#x}",
        "current_mit_vector": None if report.current_mit_vector is None
        else f"{report.current_mit_vector:#x}",
        "signature": {"r": report.signature_r.hex(), "s": report.signature_s.hex()},
    }  # fmt: skip
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


def describe(data: bytes, *, source: str, product: str | None = None) -> dict[str, Any]:
    """Decode ``data`` (evidence, certificates or CRLs) into a JSON-ready description.

    Raises:
        ParseError: recognised but malformed.
        InputError: not a kind of file teeclient recognises.
    """
    platform = detect_platform(data)
    digest = hashlib.sha256(data).hexdigest()
    if platform == "sev-snp":
        return {"kind": "sev-snp-report", "sha256": digest, "content": _snp(data, product)}
    item = CollateralItem(data=data, source=source)
    kind = item.kind
    if kind in (ItemKind.CERTIFICATES, ItemKind.PEM_BUNDLE, ItemKind.CRL):
        content: dict[str, Any] = {}
        certs = item.certificates()
        if certs:
            content["certificates"] = [_certificate(c) for c in certs]
        crls = item.crls()
        if crls:
            content["crls"] = [
                {
                    "issuer": crl.issuer.rfc4514_string(),
                    "this_update": iso(crl.last_update_utc),
                    "next_update": iso(crl.next_update_utc) if crl.next_update_utc else None,
                    "revoked": [
                        {"serial": str(r.serial_number), "date": iso(r.revocation_date_utc)}
                        for r in crl
                    ],
                }
                for crl in crls
            ]
        return {"kind": kind.value, "sha256": digest, "content": content}
    raise InputError(
        "not a file teeclient can decode",
        field=source,
        expected="SEV-SNP report, certificate(s) or CRL",
        actual=f"{len(data)} bytes starting {data[:8].hex()}",
    )
