"""Bundle: evidence + every collateral item exactly as obtained + capture time, as one JSON file.

``teeclient.bundle/v1`` (DESIGN.md §4) re-verifies offline: ``teeclient verify BUNDLE
--offline`` needs no network. Raw bytes are base64; each collateral item keeps its URL,
request method and body, media type, response headers and fetch time, and its SHA-256 is
recorded and checked on load. Every size is bounded.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any

from teeclient._json import strict_loads
from teeclient._time import iso, require_aware
from teeclient.collateral.items import CollateralItem
from teeclient.errors import ParseError

__all__ = ["BUNDLE_FORMAT", "Bundle", "BundleEvidence", "is_bundle"]

BUNDLE_FORMAT = "teeclient.bundle/v1"
MAX_BUNDLE_BYTES = 64 * 1024 * 1024
MAX_ITEMS = 512
MAX_ITEM_BYTES = 16 * 1024 * 1024
_PLATFORM = "bundle"


def is_bundle(data: bytes) -> bool:
    """True if ``data`` looks like a teeclient bundle (JSON naming the bundle format)."""
    head = data.lstrip()[:4096]
    return head.startswith(b"{") and BUNDLE_FORMAT.encode() in head


def _fail(
    message: str, field_name: str, expected: object = None, actual: object = None
) -> ParseError:
    return ParseError(
        message, platform=_PLATFORM, field=field_name, expected=expected, actual=actual
    )


def _b64(value: object, field_name: str, limit: int) -> bytes:
    if not isinstance(value, str):
        raise _fail("expected base64 text", field_name, "string", type(value).__name__)
    if len(value) > limit * 4 // 3 + 4:
        raise _fail("value too large", field_name, f"<= {limit} bytes")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise _fail("invalid base64", field_name) from exc


def _time(value: object, field_name: str) -> datetime:
    if not isinstance(value, str):
        raise _fail("expected an RFC 3339 time", field_name, "string", type(value).__name__)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise _fail("invalid time", field_name, "RFC 3339", value) from exc
    if parsed.tzinfo is None:
        raise _fail("time without timezone", field_name, "RFC 3339 with offset", value)
    return require_aware(parsed)


def _str(
    value: object, field_name: str, *, optional: bool = False, limit: int = 8192
) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise _fail(
            "expected a string", field_name, f"string <= {limit} chars", type(value).__name__
        )
    return value


@dataclass(frozen=True, slots=True, kw_only=True)
class BundleEvidence:
    """The evidence exactly as received."""

    platform: str
    data: bytes
    source: str
    media_type: str = "application/octet-stream"


@dataclass(frozen=True, slots=True, kw_only=True)
class Bundle:
    """A self-contained, re-verifiable record of one attestation."""

    captured_at: datetime
    target: str
    evidence: BundleEvidence | None = None
    document: bytes | None = None
    nonce: str | None = None
    options: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    collateral: tuple[CollateralItem, ...] = ()

    def __post_init__(self) -> None:
        require_aware(self.captured_at, name="captured_at")
        if self.evidence is None and self.document is None:
            raise ValueError("a bundle needs evidence or an attestation document")
        if len(self.collateral) > MAX_ITEMS:
            raise ValueError(f"a bundle holds at most {MAX_ITEMS} collateral items")

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready form."""
        return {
            "format": BUNDLE_FORMAT,
            "captured_at": iso(self.captured_at),
            "target": self.target,
            "nonce": self.nonce,
            "options": dict(self.options),
            "evidence": None
            if self.evidence is None
            else {
                "platform": self.evidence.platform,
                "source": self.evidence.source,
                "media_type": self.evidence.media_type,
                "sha256": hashlib.sha256(self.evidence.data).hexdigest(),
                "data": base64.b64encode(self.evidence.data).decode(),
            },
            "document": None
            if self.document is None
            else {
                "sha256": hashlib.sha256(self.document).hexdigest(),
                "data": base64.b64encode(self.document).decode(),
            },
            "collateral": [
                {
                    "url": item.source,
                    "method": item.method,
                    "request_body": base64.b64encode(item.request_body).decode()
                    if item.request_body is not None
                    else None,
                    "media_type": item.media_type,
                    "headers": dict(item.headers),
                    "fetched_at": iso(item.fetched_at) if item.fetched_at else None,
                    "origin": item.origin,
                    "sha256": hashlib.sha256(item.data).hexdigest(),
                    "data": base64.b64encode(item.data).decode(),
                }
                for item in self.collateral
            ],
        }

    def to_json(self) -> bytes:
        """Serialise (UTF-8 JSON, stable key order)."""
        return (json.dumps(self.to_dict(), indent=1) + "\n").encode()

    @classmethod
    def from_json(cls, data: bytes) -> Bundle:
        """Parse and check a bundle.

        Raises:
            ParseError: not JSON, wrong format, missing or mistyped members, bad base64,
                a SHA-256 that does not match its data, or a size beyond the limits.
        """
        if len(data) > MAX_BUNDLE_BYTES:
            raise _fail(
                "bundle too large", "bundle", f"<= {MAX_BUNDLE_BYTES} bytes", f"{len(data)} bytes"
            )
        try:
            doc = strict_loads(data)  # a repeated member could say two things: refused
        except (ValueError, RecursionError) as exc:
            raise _fail(f"bundle is not JSON: {exc}", "bundle") from exc
        if not isinstance(doc, dict):
            raise _fail("bundle must be a JSON object", "bundle")
        if doc.get("format") != BUNDLE_FORMAT:
            raise _fail("not a teeclient bundle", "format", BUNDLE_FORMAT, doc.get("format"))
        known = {
            "format",
            "captured_at",
            "target",
            "nonce",
            "options",
            "evidence",
            "document",
            "collateral",
        }
        unknown = set(doc) - known
        if unknown:
            raise _fail(
                "unknown bundle members",
                "bundle",
                ", ".join(sorted(known)),
                ", ".join(sorted(unknown)),
            )
        evidence = None
        raw_ev = doc.get("evidence")
        if raw_ev is not None:
            if not isinstance(raw_ev, dict):
                raise _fail("evidence must be an object", "evidence")
            ev_data = _b64(raw_ev.get("data"), "evidence.data", MAX_ITEM_BYTES)
            _check_sha(ev_data, raw_ev.get("sha256"), "evidence.sha256")
            evidence = BundleEvidence(
                platform=str(_str(raw_ev.get("platform"), "evidence.platform", limit=64)),
                source=str(_str(raw_ev.get("source"), "evidence.source")),
                media_type=str(
                    _str(
                        raw_ev.get("media_type", "application/octet-stream"),
                        "evidence.media_type",
                        limit=200,
                    )
                ),
                data=ev_data,
            )
        document = None
        raw_doc = doc.get("document")
        if raw_doc is not None:
            if not isinstance(raw_doc, dict):
                raise _fail("document must be an object", "document")
            document = _b64(raw_doc.get("data"), "document.data", MAX_ITEM_BYTES)
            _check_sha(document, raw_doc.get("sha256"), "document.sha256")
        raw_items = doc.get("collateral", [])
        if not isinstance(raw_items, list) or len(raw_items) > MAX_ITEMS:
            raise _fail("collateral must be a list", "collateral", f"<= {MAX_ITEMS} items")
        items = tuple(_item(raw, i) for i, raw in enumerate(raw_items))
        options = doc.get("options") or {}
        if not isinstance(options, dict) or not all(
            isinstance(k, str) and isinstance(v, str) and len(v) < 256 for k, v in options.items()
        ):
            raise _fail("options must map strings to strings", "options")
        nonce = _str(doc.get("nonce"), "nonce", optional=True, limit=256)
        try:
            return cls(
                captured_at=_time(doc.get("captured_at"), "captured_at"),
                target=str(_str(doc.get("target"), "target")),
                evidence=evidence,
                document=document,
                nonce=nonce,
                options=MappingProxyType(dict(options)),
                collateral=items,
            )
        except ValueError as exc:
            raise _fail(str(exc), "bundle") from exc


def _check_sha(data: bytes, recorded: object, field_name: str) -> None:
    actual = hashlib.sha256(data).hexdigest()
    if recorded != actual:
        raise _fail("recorded SHA-256 does not match the data", field_name, recorded, actual)


def _item(raw: object, index: int) -> CollateralItem:
    where = f"collateral[{index}]"
    if not isinstance(raw, dict):
        raise _fail("collateral item must be an object", where)
    data = _b64(raw.get("data"), f"{where}.data", MAX_ITEM_BYTES)
    _check_sha(data, raw.get("sha256"), f"{where}.sha256")
    headers = raw.get("headers") or {}
    if (
        not isinstance(headers, dict)
        or len(headers) > 64
        or not all(
            isinstance(k, str) and isinstance(v, str) and len(v) <= 32768
            for k, v in headers.items()
        )
    ):
        raise _fail("headers must map strings to strings", f"{where}.headers")
    body = raw.get("request_body")
    fetched = raw.get("fetched_at")
    return CollateralItem(
        data=data,
        source=str(_str(raw.get("url"), f"{where}.url")),
        media_type=_str(raw.get("media_type"), f"{where}.media_type", optional=True, limit=200),
        headers=MappingProxyType({k.lower(): v for k, v in headers.items()}),
        fetched_at=_time(fetched, f"{where}.fetched_at") if fetched is not None else None,
        method=str(_str(raw.get("method", "GET"), f"{where}.method", limit=16)),
        request_body=_b64(body, f"{where}.request_body", 1 << 20) if body is not None else None,
        origin="bundle",
    )
