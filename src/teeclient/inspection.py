"""Decode evidence and collateral files for `inspect`, without verifying anything."""

from __future__ import annotations

import hashlib
from typing import Any

from cryptography import x509

from teeclient._time import iso
from teeclient._x509 import fingerprint
from teeclient.collateral.items import CollateralItem, ItemKind
from teeclient.errors import InputError, ParseError, TeeclientError
from teeclient.platforms import VerifyOptions, describe_evidence, detect_platform

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
    from teeclient.platforms.tdx.pck import SGX_EXTENSION_OID, parse_pck_extensions

    if any(e.oid.dotted_string == SGX_EXTENSION_OID for e in exts):
        try:
            out["intel_sgx_extensions"] = parse_pck_extensions(cert).to_dict()
        except TeeclientError as exc:
            out["intel_sgx_extensions_error"] = exc.to_dict()
    return out


def describe(data: bytes, *, source: str, product: str | None = None) -> dict[str, Any]:
    """Decode ``data`` (evidence, certificates or CRLs) into a JSON-ready description.

    Raises:
        ParseError: recognised but malformed.
        InputError: not a kind of file teeclient recognises.
    """
    platform = detect_platform(data)
    digest = hashlib.sha256(data).hexdigest()
    if platform is not None:
        decoded = describe_evidence(platform, data, options=VerifyOptions(product=product))
        return {"kind": f"{platform}-evidence", "sha256": digest, "content": decoded}
    nvidia = _nvidia_collateral(data, source)
    if nvidia is not None:
        return {"kind": nvidia[0], "sha256": digest, "content": nvidia[1]}
    item = CollateralItem(data=data, source=source)
    kind = item.kind
    if data.lstrip()[:1] == b"{":
        from teeclient.platforms.tdx.inspect import describe_collateral

        described = describe_collateral(data, source=source)
        if described is not None:
            return {"kind": described["kind"], "sha256": digest, "content": described["content"]}
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
        expected="SEV-SNP report, TDX quote, AWS Nitro document, NVIDIA evidence, Intel TCB "
        "Info / QE Identity, certificate(s), CRL, NVIDIA RIM or OCSP response",
        actual=f"{len(data)} bytes starting {data[:8].hex()}",
    )


def _nvidia_collateral(data: bytes, source: str) -> tuple[str, dict[str, Any]] | None:
    """NVIDIA RIMs and OCSP responses (decoded, not verified), or None."""
    from teeclient.platforms.nvidia import ocsp, rim

    if rim.looks_like_rim(data):
        return "nvidia-rim", rim.describe_rim(data, source=source)
    if b"-----BEGIN" not in data and ocsp.looks_like_ocsp(data):
        return "ocsp-response", ocsp.describe_response(data, source=source)
    return None
