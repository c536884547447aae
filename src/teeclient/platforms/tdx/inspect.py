"""Describe TDX quotes and Intel collateral for `teeclient inspect` (nothing is verified)."""

from __future__ import annotations

import hashlib
from typing import Any

from teeclient._time import iso
from teeclient._x509 import fingerprint, load_certificate
from teeclient.collateral.items import CollateralItem, CollateralSet
from teeclient.errors import TeeclientError
from teeclient.platforms import VerifyOptions
from teeclient.platforms.tdx import abi, pcs
from teeclient.platforms.tdx.collateral import DCAP_QVL_KEYS, gather
from teeclient.platforms.tdx.pck import parse_pck_extensions

__all__ = ["describe_collateral", "describe_evidence"]


def _pck_chain(quote: abi.Quote) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for index, block in enumerate(quote.pck_chain_der):
        entry: dict[str, Any] = {"index": index}
        try:
            cert = load_certificate(block, role=f"pck_chain[{index}]", platform="tdx")
        except TeeclientError as exc:
            entry["error"] = exc.to_dict()
            out.append(entry)
            continue
        entry.update(
            subject=cert.subject.rfc4514_string(),
            issuer=cert.issuer.rfc4514_string(),
            serial=f"{cert.serial_number:x}",
            not_before=iso(cert.not_valid_before_utc),
            not_after=iso(cert.not_valid_after_utc),
            sha256=fingerprint(cert),
        )
        if index == 0:
            try:
                entry["sgx_extensions"] = parse_pck_extensions(cert).to_dict()
            except TeeclientError as exc:
                entry["sgx_extensions_error"] = exc.to_dict()
        out.append(entry)
    return out


def describe_evidence(data: bytes, *, options: VerifyOptions) -> dict[str, Any]:
    """Decode a TDX quote (header, TD report, QE report, PCK chain) without verifying it.

    Raises:
        ParseError: the quote is malformed.
    """
    del options
    quote = abi.parse_quote(data)
    return {
        "quote_version": quote.version,
        "header": quote.header.to_dict(),
        "body": quote.body.to_dict(),
        "signed_region_len": quote.signed_size,
        "signature_data_len": quote.signature_data_size,
        "quote_signature": quote.signature.hex(),
        "attestation_key": quote.attestation_key.hex(),
        "certification_data_type": quote.certification_data_type,
        "qe_report": quote.qe_report.to_dict(),
        "qe_report_signature": quote.qe_report_signature.hex(),
        "qe_auth_data": quote.qe_auth_data.hex(),
        "qe_report_data_binds_attestation_key": hashlib.sha256(
            quote.attestation_key + quote.qe_auth_data
        ).digest()
        == quote.qe_report.report_data[:32],
        "inner_certification_data_type": quote.pck_chain_type,
        "pck_chain": _pck_chain(quote),
        "trailing_bytes": quote.trailing_bytes,
        "quote_sha256": hashlib.sha256(quote.raw).hexdigest(),
    }


def describe_collateral(data: bytes, *, source: str) -> dict[str, Any] | None:
    """Decode a PCS TCB Info or QE Identity body, or a dcap-qvl collateral bundle (signatures
    not checked), or None if the JSON is none of these.

    Raises:
        TdxCollateralMalformedError: it claims to be one but is malformed.
    """
    spans = pcs.top_level_spans(data, field=source)
    if "tcbInfo" in spans:
        signed = pcs.extract_signed(data, "tcb_info", source=source)
        return {"kind": "intel-tcb-info", "content": _tcb_info(signed.signed)}
    if "enclaveIdentity" in spans:
        signed = pcs.extract_signed(data, "qe_identity", source=source)
        return {"kind": "intel-qe-identity", "content": _qe_identity(signed.signed)}
    if set(spans) & DCAP_QVL_KEYS:
        coll = gather(CollateralSet.of([CollateralItem(data=data, source=source)]))
        return {
            "kind": "dcap-qvl-collateral",
            "content": {
                "tcb_info": _tcb_info(coll.tcb_infos[0].signed.signed),
                "qe_identity": _qe_identity(coll.qe_identities[0].signed.signed),
                "crls": [
                    {
                        "issuer": c.crl.issuer.rfc4514_string(),
                        "this_update": iso(c.crl.last_update_utc),
                        "next_update": iso(c.crl.next_update_utc)
                        if c.crl.next_update_utc
                        else None,
                        "revoked": len(c.crl),
                        "sha256": c.sha256,
                    }
                    for c in coll.crls
                ],
                "certificates": [c.subject.rfc4514_string() for c, _ in coll.certificates],
                "signatures_verified": False,
            },
        }
    return None


def _tcb_info(signed: bytes) -> dict[str, Any]:
    info = pcs.parse_tcb_info(signed)
    return {
        "id": info.id,
        "version": info.version,
        "issue_date": iso(info.issue_date),
        "next_update": iso(info.next_update),
        "fmspc": info.fmspc.hex(),
        "pce_id": info.pce_id.hex(),
        "tcb_evaluation_data_number": info.tcb_evaluation_data_number,
        "tdx_module_identities": [i.id for i in info.tdx_module_identities or ()],
        "tcb_levels": [lv.to_dict() for lv in info.tcb_levels],
        "signature_verified": False,
    }


def _qe_identity(signed: bytes) -> dict[str, Any]:
    ident = pcs.parse_qe_identity(signed)
    return {
        "id": ident.id,
        "version": ident.version,
        "issue_date": iso(ident.issue_date),
        "next_update": iso(ident.next_update),
        "tcb_evaluation_data_number": ident.tcb_evaluation_data_number,
        "mrsigner": ident.mrsigner.hex(),
        "isvprodid": ident.isvprodid,
        "tcb_levels": [lv.to_dict() for lv in ident.tcb_levels],
        "signature_verified": False,
    }
