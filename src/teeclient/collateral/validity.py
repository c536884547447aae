"""How long a collateral item is usable, read from its own content (never from HTTP caching).

Certificates: notAfter. CRLs: nextUpdate. Intel TCB Info / QE Identity JSON: nextUpdate.
OCSP responses: nextUpdate. Anything else: unknown (the cache applies its default TTL).
"""

from __future__ import annotations

import json
from datetime import datetime

from cryptography.x509 import ocsp

from teeclient.collateral.items import CollateralItem, ItemKind
from teeclient.errors import TeeclientError

__all__ = ["content_valid_until", "item_is_well_formed"]


def _json_next_update(data: bytes) -> datetime | None:
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(doc, dict):
        return None
    for key in ("tcbInfo", "enclaveIdentity", "qeIdentity"):
        body = doc.get(key)
        if isinstance(body, dict) and isinstance(body.get("nextUpdate"), str):
            try:
                return datetime.fromisoformat(body["nextUpdate"].replace("Z", "+00:00"))
            except ValueError:
                return None
    return None


def content_valid_until(item: CollateralItem) -> datetime | None:
    """The end of the item's own validity, or None when its content does not say."""
    kind = item.kind
    try:
        if kind is ItemKind.CERTIFICATES:
            certs = item.certificates()
            return min(c.not_valid_after_utc for c in certs) if certs else None
        if kind is ItemKind.CRL:
            crls = item.crls()
            updates = [c.next_update_utc for c in crls if c.next_update_utc is not None]
            return min(updates) if updates else None
        if kind is ItemKind.JSON:
            return _json_next_update(item.data)
        if kind is ItemKind.OCSP:
            response = ocsp.load_der_ocsp_response(item.data)
            if response.response_status is ocsp.OCSPResponseStatus.SUCCESSFUL:
                return response.next_update_utc
    except (TeeclientError, ValueError):
        return None
    return None


def item_is_well_formed(item: CollateralItem) -> bool:
    """True if the item parses as what it claims to be (used to discard corrupt cache entries
    and to refuse unusable answers, such as an unsuccessful OCSP response)."""
    kind = item.kind
    try:
        if kind in (ItemKind.CERTIFICATES, ItemKind.PEM_BUNDLE):
            return bool(item.certificates())
        if kind is ItemKind.CRL:
            return bool(item.crls())
        if kind is ItemKind.JSON:
            json.loads(item.data)
            return True
        if kind is ItemKind.OCSP:
            response = ocsp.load_der_ocsp_response(item.data)
            # tryLater, unauthorized, ... carry no answer: never cache or use them.
            return response.response_status is ocsp.OCSPResponseStatus.SUCCESSFUL
    except (TeeclientError, ValueError, UnicodeDecodeError):
        return False
    return kind is not ItemKind.UNKNOWN
