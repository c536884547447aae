"""Describe AWS Nitro attestation documents for `teeclient inspect` (parse only)."""

from __future__ import annotations

import hashlib
from datetime import UTC
from typing import Any

from cryptography import x509

from teeclient._time import iso
from teeclient._x509 import MALFORMED
from teeclient.platforms import VerifyOptions
from teeclient.platforms.nitro import abi

__all__ = ["describe_evidence"]


def _certificate(der: bytes, role: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "role": role,
        "size": len(der),
        "sha256": hashlib.sha256(der).hexdigest(),
    }
    try:
        cert = x509.load_der_x509_certificate(der)
        out.update(
            subject=cert.subject.rfc4514_string(),
            issuer=cert.issuer.rfc4514_string(),
            not_before=iso(cert.not_valid_before_utc),
            not_after=iso(cert.not_valid_after_utc),
            signature_algorithm=cert.signature_algorithm_oid.dotted_string,
        )
    except MALFORMED as exc:
        out["error"] = f"not a DER X.509 certificate: {exc}"
    return out


def describe_evidence(data: bytes, *, options: VerifyOptions) -> dict[str, Any]:
    """Decode a Nitro attestation document (envelope and payload) without verifying it.

    Raises:
        ParseError: the document is malformed.
    """
    doc = abi.parse_document(data)
    cose, att = doc.cose, doc.attestation

    def hexval(value: bytes | None) -> str | None:
        return value.hex() if value is not None else None

    bundle = [
        _certificate(der, "root" if i == 0 else f"cabundle[{i}]")
        for i, der in enumerate(att.cabundle)
    ]
    return {
        "cose": {
            "tagged": cose.tagged,
            "protected": cose.protected.hex(),
            "algorithm": "ES384" if cose.algorithm == abi.ALG_ES384 else str(cose.algorithm),
            "unprotected": {},
            "payload_size": len(cose.payload),
            "payload_sha256": hashlib.sha256(cose.payload).hexdigest(),
            "signature": {"r": cose.signature[:48].hex(), "s": cose.signature[48:].hex()},
        },
        "module_id": att.module_id,
        "digest": att.digest,
        "timestamp": att.timestamp.astimezone(UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z"),
        "timestamp_ms": att.timestamp_ms,
        "debug": att.debug,
        "pcrs": {str(i): v.hex() for i, v in att.pcrs},
        "public_key": hexval(att.public_key),
        "user_data": hexval(att.user_data),
        "nonce": hexval(att.nonce),
        "null_fields": list(att.null_keys),
        "unknown_fields": list(att.unknown_keys),
        "certificate": _certificate(att.certificate, "certificate"),
        "cabundle": bundle,
        "verified": False,
    }
