"""teeclient.attestation/v1 documents: strict parsing and canonical encoding (docs/protocol.md).

A document is what a teeclient-compatible endpoint serves at
``/.well-known/teeclient/attestation?nonce=<64 lowercase hex>``: the echoed nonce, the CPU
evidence, the device evidence, the enclave's keys, the digests the CPU evidence declares it
binds, and optional collateral. Nothing in it is trusted until the composite verifier
(``teeclient.attest``) has checked it; this module only checks structure. Unknown and
duplicate members are rejected at every level, hex is lowercase with exact lengths, base64
is canonical, and every size is bounded.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Any

from teeclient._json import DuplicateMemberError, strict_loads
from teeclient._time import iso, require_aware
from teeclient.binding import (
    NONCE_SIZE,
    BoundDevice,
    BoundKeys,
    device_digest,
    keys_digest,
)
from teeclient.collateral.items import CollateralItem
from teeclient.errors import DocumentError, UnsupportedDocumentError

__all__ = [
    "ATTESTATION_FORMAT",
    "CPU_PLATFORMS",
    "DEVICE_KINDS",
    "MAX_DOCUMENT_BYTES",
    "WELL_KNOWN_PATH",
    "AttestationDocument",
    "CpuEvidence",
    "DeclaredBinding",
    "DeviceEntry",
    "encode_document",
    "parse_document",
]

ATTESTATION_FORMAT = "teeclient.attestation/v1"
WELL_KNOWN_PATH = "/.well-known/teeclient/attestation"
MAX_DOCUMENT_BYTES = 32 * 1024 * 1024
MAX_DEVICES = 64
MAX_COLLATERAL = 256
MAX_FIELD_BYTES = 16 * 1024 * 1024
CPU_PLATFORMS = frozenset({"sev-snp", "tdx", "nitro"})
DEVICE_KINDS = frozenset({"nvidia-gpu", "nvidia-switch"})
DEVICE_ARCHS = frozenset({"hopper", "blackwell", "ls10"})
_PRODUCTS = frozenset({"milan", "genoa", "turin"})
_HEX = re.compile(r"[0-9a-f]*")
_PLATFORM = "document"
_PEM_LIMIT = 256 * 1024


def _fail(
    message: str, field_name: str, expected: object = None, actual: object = None
) -> DocumentError:
    return DocumentError(
        message, platform=_PLATFORM, field=field_name, expected=expected, actual=actual
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class CpuEvidence:
    """The CPU's evidence: platform, raw evidence bytes, and certificates that come with it."""

    platform: str
    evidence: bytes
    certificates: bytes | None = None
    product: str | None = None

    def __post_init__(self) -> None:
        if self.platform not in CPU_PLATFORMS:
            raise ValueError(f"unknown CPU platform {self.platform!r}")
        if self.product is not None and self.product not in _PRODUCTS:
            raise ValueError(f"unknown product {self.product!r}")


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceEntry:
    """One device's evidence (an NVIDIA SPDM request‖response) and its PEM chain."""

    kind: str
    arch: str
    evidence: bytes
    certificates: bytes

    def __post_init__(self) -> None:
        if self.kind not in DEVICE_KINDS:
            raise ValueError(f"unknown device kind {self.kind!r}")
        if self.arch not in DEVICE_ARCHS:
            raise ValueError(f"unknown device arch {self.arch!r}")

    def bound(self) -> BoundDevice:
        """The device as the binding sees it."""
        return BoundDevice(
            kind=self.kind, arch=self.arch, evidence=self.evidence, certificates=self.certificates
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class DeclaredBinding:
    """The digests the document says its CPU evidence binds (checked, never trusted)."""

    keys_digest: bytes
    device_digests: tuple[bytes, ...]

    def __post_init__(self) -> None:
        if len(self.keys_digest) != 32 or any(len(d) != 32 for d in self.device_digests):
            raise ValueError("binding digests are 32 bytes")


@dataclass(frozen=True, slots=True, kw_only=True)
class AttestationDocument:
    """A parsed teeclient.attestation/v1 document, with the exact bytes it was parsed from."""

    raw: bytes
    nonce: bytes
    cpu: CpuEvidence
    devices: tuple[DeviceEntry, ...]
    keys: BoundKeys
    binding: DeclaredBinding
    collateral: tuple[CollateralItem, ...] = ()
    issued_at: datetime | None = None

    def __post_init__(self) -> None:
        if len(self.nonce) != NONCE_SIZE:
            raise ValueError("the nonce is 32 bytes")


def _members(
    obj: object, where: str, required: set[str], optional: frozenset[str] = frozenset()
) -> dict[str, Any]:
    if not isinstance(obj, dict):
        raise _fail("expected an object", where, "object", type(obj).__name__)
    unknown = set(obj) - required - optional
    if unknown:
        raise _fail(
            "unknown members",
            where,
            ", ".join(sorted(required | optional)),
            ", ".join(sorted(unknown)),
        )
    missing = required - set(obj)
    if missing:
        raise _fail(
            "missing members",
            where,
            ", ".join(sorted(required)),
            "missing " + ", ".join(sorted(missing)),
        )
    return obj


def _hex(value: object, where: str, size: int | None) -> bytes:
    if not isinstance(value, str) or not _HEX.fullmatch(value) or len(value) % 2:
        raise _fail("expected lowercase hex", where, "lowercase hex", repr(value)[:80])
    data = bytes.fromhex(value)
    if size is not None and len(data) != size:
        raise _fail("wrong length", where, f"{size} bytes", f"{len(data)} bytes")
    return data


def _b64(value: object, where: str, limit: int = MAX_FIELD_BYTES) -> bytes:
    if not isinstance(value, str):
        raise _fail("expected base64 text", where, "string", type(value).__name__)
    if len(value) > limit * 4 // 3 + 4:
        raise _fail("value too large", where, f"<= {limit} bytes")
    try:
        data = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise _fail("invalid base64", where) from exc
    if base64.b64encode(data).decode() != value:
        raise _fail("base64 is not canonical", where, "canonical padded base64")
    return data


def _text(
    value: object, where: str, choices: frozenset[str] | None = None, limit: int = 4096
) -> str:
    if not isinstance(value, str):
        raise _fail("expected a string", where, "string", type(value).__name__)
    if len(value) > limit:
        raise _fail("string too long", where, f"<= {limit} characters", len(value))
    if choices is not None and value not in choices:
        raise _fail("unsupported value", where, ", ".join(sorted(choices)), value)
    return value


def _time(value: object, where: str) -> datetime:
    text = _text(value, where)
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise _fail("invalid time", where, "RFC 3339", text) from exc
    if parsed.tzinfo is None:
        raise _fail("time without timezone", where, "RFC 3339 with offset", text)
    return require_aware(parsed)


def _collateral_item(raw: object, index: int) -> CollateralItem:
    where = f"collateral[{index}]"
    obj = _members(
        raw, where, {"url", "data"}, frozenset({"method", "media_type", "headers", "request_body"})
    )
    headers = obj.get("headers") or {}
    if (
        not isinstance(headers, dict)
        or len(headers) > 64
        or not all(
            isinstance(k, str) and isinstance(v, str) and len(v) <= 32768
            for k, v in headers.items()
        )
    ):
        raise _fail("headers must map strings to strings", f"{where}.headers")
    body = obj.get("request_body")
    media = obj.get("media_type")
    return CollateralItem(
        data=_b64(obj["data"], f"{where}.data"),
        source=_text(obj["url"], f"{where}.url"),
        media_type=_text(media, f"{where}.media_type") if media is not None else None,
        headers=MappingProxyType({k.lower(): v for k, v in headers.items()}),
        method=_text(obj.get("method", "GET"), f"{where}.method", frozenset({"GET", "POST"})),
        request_body=_b64(body, f"{where}.request_body", 1 << 20) if body is not None else None,
        origin="document",
    )


def parse_document(data: bytes) -> AttestationDocument:
    """Parse a teeclient.attestation/v1 document (structure only; nothing is verified).

    Raises:
        DocumentError: not JSON, duplicate or unknown members, wrong types, bad hex or
            base64, sizes beyond the limits.
        UnsupportedDocumentError: another format (or version).
    """
    if len(data) > MAX_DOCUMENT_BYTES:
        raise _fail(
            "document too large", "document", f"<= {MAX_DOCUMENT_BYTES} bytes", f"{len(data)} bytes"
        )
    try:
        doc = strict_loads(data)
    except DuplicateMemberError as exc:
        raise _fail("duplicate member", exc.member, "each member once", "twice") from exc
    except (ValueError, RecursionError) as exc:
        raise _fail(f"document is not JSON: {exc}", "document") from exc
    if not isinstance(doc, dict):
        raise _fail("document must be a JSON object", "document")
    fmt = doc.get("format")
    if fmt != ATTESTATION_FORMAT:
        raise UnsupportedDocumentError(
            "not a teeclient attestation document (or an unsupported version)",
            platform=_PLATFORM,
            field="format",
            expected=ATTESTATION_FORMAT,
            actual=repr(fmt)[:80],
        )
    top = _members(
        doc,
        "document",
        {"format", "nonce", "cpu", "keys", "binding"},
        frozenset({"devices", "collateral", "issued_at"}),
    )
    cpu_obj = _members(
        top["cpu"], "cpu", {"platform", "evidence"}, frozenset({"certificates", "product"})
    )
    certs = cpu_obj.get("certificates")
    product = cpu_obj.get("product")
    cpu = CpuEvidence(
        platform=_text(cpu_obj["platform"], "cpu.platform", CPU_PLATFORMS),
        evidence=_b64(cpu_obj["evidence"], "cpu.evidence"),
        certificates=_text(certs, "cpu.certificates", limit=_PEM_LIMIT).encode()
        if certs is not None
        else None,
        product=_text(product, "cpu.product", _PRODUCTS) if product is not None else None,
    )
    raw_devices = top.get("devices", [])
    if not isinstance(raw_devices, list) or len(raw_devices) > MAX_DEVICES:
        raise _fail("devices must be a list", "devices", f"<= {MAX_DEVICES} entries")
    devices = []
    for i, raw in enumerate(raw_devices):
        obj = _members(raw, f"devices[{i}]", {"kind", "arch", "evidence", "certificates"})
        devices.append(
            DeviceEntry(
                kind=_text(obj["kind"], f"devices[{i}].kind", DEVICE_KINDS),
                arch=_text(obj["arch"], f"devices[{i}].arch", DEVICE_ARCHS),
                evidence=_b64(obj["evidence"], f"devices[{i}].evidence"),
                certificates=_text(
                    obj["certificates"], f"devices[{i}].certificates", limit=_PEM_LIMIT
                ).encode(),
            )
        )
    keys_obj = _members(top["keys"], "keys", {"ohttp"}, frozenset({"tls_spki_sha256"}))
    spki = keys_obj.get("tls_spki_sha256")
    ohttp = _b64(keys_obj["ohttp"], "keys.ohttp", 64 * 1024)
    if not ohttp:
        raise _fail("empty key configuration", "keys.ohttp", "RFC 9458 key configurations")
    keys = BoundKeys(
        ohttp_keys=ohttp,
        tls_spki_sha256=_hex(spki, "keys.tls_spki_sha256", 32) if spki is not None else None,
    )
    binding_obj = _members(top["binding"], "binding", {"keys_digest", "device_digests"})
    digests = binding_obj["device_digests"]
    if not isinstance(digests, list) or len(digests) > MAX_DEVICES:
        raise _fail("device_digests must be a list", "binding.device_digests")
    binding = DeclaredBinding(
        keys_digest=_hex(binding_obj["keys_digest"], "binding.keys_digest", 32),
        device_digests=tuple(
            _hex(d, f"binding.device_digests[{i}]", 32) for i, d in enumerate(digests)
        ),
    )
    raw_collateral = top.get("collateral", [])
    if not isinstance(raw_collateral, list) or len(raw_collateral) > MAX_COLLATERAL:
        raise _fail("collateral must be a list", "collateral", f"<= {MAX_COLLATERAL} items")
    issued = top.get("issued_at")
    return AttestationDocument(
        raw=bytes(data),
        nonce=_hex(top["nonce"], "nonce", NONCE_SIZE),
        cpu=cpu,
        devices=tuple(devices),
        keys=keys,
        binding=binding,
        collateral=tuple(_collateral_item(c, i) for i, c in enumerate(raw_collateral)),
        issued_at=_time(issued, "issued_at") if issued is not None else None,
    )


def encode_document(
    *,
    nonce: bytes,
    cpu: CpuEvidence,
    keys: BoundKeys,
    devices: Sequence[DeviceEntry] = (),
    collateral: Sequence[CollateralItem] = (),
    issued_at: datetime | None = None,
    binding: DeclaredBinding | None = None,
) -> bytes:
    """Encode a document (what an enclave serves). ``binding`` defaults to the true digests."""
    declared = binding or DeclaredBinding(
        keys_digest=keys_digest(keys),
        device_digests=tuple(device_digest(d.bound()) for d in devices),
    )
    doc: dict[str, Any] = {
        "format": ATTESTATION_FORMAT,
        "nonce": nonce.hex(),
        "cpu": {
            "platform": cpu.platform,
            "evidence": base64.b64encode(cpu.evidence).decode(),
            **({"certificates": cpu.certificates.decode()} if cpu.certificates else {}),
            **({"product": cpu.product} if cpu.product else {}),
        },
        "devices": [
            {
                "kind": d.kind,
                "arch": d.arch,
                "evidence": base64.b64encode(d.evidence).decode(),
                "certificates": d.certificates.decode(),
            }
            for d in devices
        ],
        "keys": {
            "ohttp": base64.b64encode(keys.ohttp_keys).decode(),
            **({"tls_spki_sha256": keys.tls_spki_sha256.hex()} if keys.tls_spki_sha256 else {}),
        },
        "binding": {
            "keys_digest": declared.keys_digest.hex(),
            "device_digests": [d.hex() for d in declared.device_digests],
        },
    }
    if collateral:
        doc["collateral"] = [_encode_item(c) for c in collateral]
    if issued_at is not None:
        doc["issued_at"] = iso(issued_at)
    return json.dumps(doc, indent=1).encode()


def _encode_item(item: CollateralItem) -> dict[str, Any]:
    out: dict[str, Any] = {"url": item.source, "data": base64.b64encode(item.data).decode()}
    if item.method != "GET":
        out["method"] = item.method
    if item.request_body is not None:
        out["request_body"] = base64.b64encode(item.request_body).decode()
    if item.media_type is not None:
        out["media_type"] = item.media_type
    if item.headers:
        out["headers"] = dict(item.headers)
    return out
