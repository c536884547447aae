"""Tinfoil attestation documents v2 and v3: strict parsing, REPORT_DATA derivation, certificate
binding (specs/tinfoil-and-ehbp.md §2–§3; docs/protocol.md §7).

Structure only, like ``teeclient.document``: nothing here is trusted until the composite
verifier (``teeclient.attest.verify_tinfoil_document``) has checked the CPU evidence and the
binding. v2 is ``{"format", "body"}`` with base64(gzip(report)) and REPORT_DATA = TLS SPKI
hash ‖ X25519 HPKE key; v3 answers a nonce and binds its ``crypto_material`` and
``device_evidence`` sections by hashing their exact decoded bytes::

    REPORT_DATA = SHA-256("https://tinfoil.sh/report-data/v1" ‖ nonce[32]
                          ‖ SHA-256(crypto_material) ‖ SHA-256(device_evidence)) ‖ 0^32
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from teeclient._json import DuplicateMemberError, strict_loads
from teeclient.errors import (
    BindingError,
    DocumentError,
    KeysNotBoundError,
    UnsupportedDocumentError,
)

__all__ = [
    "COLLATERAL_ROLES",
    "CPU_FORMATS",
    "CRYPTO_MATERIAL_FORMAT",
    "DEVICE_EVIDENCE_FORMAT",
    "GPU_EVIDENCE_FORMAT",
    "KEY_HPKE",
    "KEY_TLS",
    "MAX_DECOMPRESSED_BYTES",
    "REPORT_DATA_ALGORITHM",
    "SWITCH_EVIDENCE_FORMAT",
    "V2_DUMMY",
    "V2_FORMATS",
    "V3_FORMAT",
    "WELL_KNOWN_PATH",
    "TinfoilCollateral",
    "TinfoilDevice",
    "TinfoilV2Document",
    "TinfoilV3Document",
    "check_certificate",
    "dcode_decode",
    "dcode_sans",
    "encode_v2",
    "encode_v3",
    "is_tinfoil_document",
    "parse_tinfoil_document",
    "report_data_v3",
    "spki_sha256",
]

WELL_KNOWN_PATH = "/.well-known/tinfoil-attestation"
V2_SNP = "https://tinfoil.sh/predicate/sev-snp-guest/v2"
V2_TDX = "https://tinfoil.sh/predicate/tdx-guest/v2"
V2_DUMMY = "https://tinfoil.sh/predicate/dummy/v2"
V2_FORMATS = {V2_SNP: "sev-snp", V2_TDX: "tdx"}
V3_FORMAT = "https://tinfoil.sh/predicate/attestation/v3"
REPORT_DATA_ALGORITHM = "https://tinfoil.sh/report-data/v1"
CPU_FORMATS = {
    "https://tinfoil.sh/format/sev-snp-report/v1": "sev-snp",
    "https://tinfoil.sh/format/tdx-quote/v1": "tdx",
}
CRYPTO_MATERIAL_FORMAT = "https://tinfoil.sh/crypto-material/v1"
KEY_TLS = "https://tinfoil.sh/key/spki-fp-sha256/v1"
KEY_HPKE = "https://tinfoil.sh/key/x25519-hpke/v1"
DEVICE_EVIDENCE_FORMAT = "https://tinfoil.sh/device-evidence/v1"
GPU_EVIDENCE_FORMAT = "https://tinfoil.sh/format/nvidia-gpu-evidence/v1"
SWITCH_EVIDENCE_FORMAT = "https://tinfoil.sh/format/nvidia-nvswitch-evidence/v1"
COLLATERAL_ROLES = frozenset({"endorsement", "reference-values"})
COLLATERAL_PREFIX = "https://tinfoil.sh/collateral/"

#: Largest decompressed v2 body (tinfoil-python's cap); an SNP body is exactly 1184 bytes.
MAX_DECOMPRESSED_BYTES = 10 * 1024 * 1024
MAX_DOCUMENT_BYTES = 32 * 1024 * 1024
_MAX_ITEMS = 64
_SNP_REPORT_SIZE = 1184
_HEX = re.compile(r"(?:[0-9a-f]{2})+")
_PLATFORM = "tinfoil"


def _fail(
    message: str, field_name: str, expected: object = None, actual: object = None
) -> DocumentError:
    return DocumentError(
        message, platform=_PLATFORM, field=field_name, expected=expected, actual=actual
    )


# --- documents --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class TinfoilV2Document:
    """A v2 document: the CPU evidence, decompressed, and the exact JSON strings it came in."""

    raw: bytes
    format: str
    body: str
    platform: str
    evidence: bytes

    @property
    def document_hash(self) -> str:
        """``hex(SHA-256(format ‖ body))``, which the enclave certificate's hatt SANs carry."""
        return hashlib.sha256((self.format + self.body).encode()).hexdigest()


@dataclass(frozen=True, slots=True, kw_only=True)
class TinfoilDevice:
    """One ``device_evidence`` item; ``evidence`` is the item's JSON value re-encoded."""

    id: str
    kind: str
    vendor: str
    format: str
    evidence: bytes
    nonce: bytes | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class TinfoilCollateral:
    """One collateral entry (unendorsed transport; each item is authenticated on use)."""

    id: str
    role: str
    format: str
    subjects: tuple[str, ...]
    data: Any


@dataclass(frozen=True, slots=True, kw_only=True)
class TinfoilV3Document:
    """A parsed v3 document with the exact section bytes the CPU report endorses."""

    raw: bytes
    nonce: bytes
    report_data: bytes
    platform: str
    evidence: bytes
    crypto_material: bytes
    device_evidence: bytes
    endorsed_crypto_hash: bytes
    endorsed_device_hash: bytes
    tls_spki_sha256: bytes | None
    hpke_public_key: bytes | None
    key_items: tuple[tuple[str, str, bytes], ...]
    devices: tuple[TinfoilDevice, ...]
    collateral: tuple[TinfoilCollateral, ...]


# --- strict JSON helpers (§3.4) -----------------------------------------------------------------


def _json(data: bytes, where: str) -> Any:
    try:
        return strict_loads(data)
    except DuplicateMemberError as exc:
        raise _fail("duplicate member", exc.member, "each member once", "twice") from exc
    except (ValueError, RecursionError) as exc:
        raise _fail(f"not JSON: {exc}", where) from exc


def _members(
    obj: object, where: str, required: set[str], optional: frozenset[str] = frozenset()
) -> dict[str, Any]:
    if not isinstance(obj, dict):
        raise _fail("expected an object", where, "object", type(obj).__name__)
    unknown = set(obj) - required - optional
    if unknown:
        raise _fail(
            "unknown members", where, ", ".join(sorted(required | optional)), sorted(unknown)
        )
    missing = required - set(obj)
    if missing:
        raise _fail("missing members", where, ", ".join(sorted(required)), sorted(missing))
    return obj


def _text(value: object, where: str, limit: int = 4096) -> str:
    if not isinstance(value, str) or not value or len(value) > limit:
        raise _fail("expected a non-empty string", where, f"1..{limit} characters")
    return value


def _hex(value: object, where: str, size: int | None) -> bytes:
    if not isinstance(value, str) or not _HEX.fullmatch(value):
        raise _fail("expected non-empty lowercase hex", where, "lowercase hex", repr(value)[:80])
    data = bytes.fromhex(value)
    if size is not None and len(data) != size:
        raise _fail("wrong length", where, f"{size} bytes", f"{len(data)} bytes")
    return data


def _b64(value: object, where: str, *, canonical: bool, limit: int) -> bytes:
    if not isinstance(value, str):
        raise _fail("expected base64 text", where, "string", type(value).__name__)
    if len(value) > limit * 4 // 3 + 4:
        raise _fail("value too large", where, f"<= {limit} bytes")
    try:
        data = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise _fail("invalid base64", where) from exc
    if canonical and base64.b64encode(data).decode() != value:
        raise _fail("base64 is not canonical", where, "canonical padded standard base64")
    return data


def _format(value: object, where: str, expected: str) -> str:
    if value != expected:
        raise _fail("unexpected format URI", where, expected, repr(value)[:120])
    return expected


# --- v2 -----------------------------------------------------------------------------------------


def _gunzip(data: bytes, where: str) -> bytes:
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(data, MAX_DECOMPRESSED_BYTES + 1)
    except zlib.error as exc:
        raise _fail(f"body is not gzip: {exc}", where) from exc
    if len(out) > MAX_DECOMPRESSED_BYTES or inflater.unconsumed_tail:
        raise _fail("decompressed body too large", where, f"<= {MAX_DECOMPRESSED_BYTES} bytes")
    if not inflater.eof or inflater.unused_data:
        raise _fail("gzip stream is truncated or followed by other data", where)
    return out


def _parse_v2(data: bytes, doc: dict[str, Any]) -> TinfoilV2Document:
    top = _members(doc, "document", {"format", "body"})
    fmt = top["format"]
    if fmt == V2_DUMMY:
        raise UnsupportedDocumentError(
            "the Tinfoil dummy format is for development only and carries no hardware evidence",
            platform=_PLATFORM,
            field="format",
            expected=", ".join(V2_FORMATS),
            actual=fmt,
        )
    body = _text(top["body"], "body", limit=MAX_DOCUMENT_BYTES)
    platform = V2_FORMATS[fmt]
    evidence = _gunzip(_b64(body, "body", canonical=True, limit=MAX_DOCUMENT_BYTES), "body")
    if platform == "sev-snp" and len(evidence) != _SNP_REPORT_SIZE:
        raise _fail(
            "an SEV-SNP body must decompress to one report",
            "body",
            f"{_SNP_REPORT_SIZE} bytes",
            f"{len(evidence)} bytes",
        )
    return TinfoilV2Document(
        raw=bytes(data), format=fmt, body=body, platform=platform, evidence=evidence
    )


# --- v3 -----------------------------------------------------------------------------------------


def _ids(items: Sequence[dict[str, Any]], where: str) -> None:
    seen: set[str] = set()
    for i, item in enumerate(items):
        ident = _text(item["id"], f"{where}[{i}].id", limit=256)
        if ident in seen:
            raise _fail("duplicate item id", f"{where}[{i}].id", "unique ids", ident)
        seen.add(ident)


def _list(value: object, where: str) -> list[Any]:
    if not isinstance(value, list) or len(value) > _MAX_ITEMS:
        raise _fail("expected a list", where, f"<= {_MAX_ITEMS} items")
    return value


def _crypto_material(
    raw: bytes,
) -> tuple[bytes | None, bytes | None, tuple[tuple[str, str, bytes], ...]]:
    obj = _members(_json(raw, "crypto_material"), "crypto_material", {"format", "items"})
    _format(obj["format"], "crypto_material.format", CRYPTO_MATERIAL_FORMAT)
    items = [
        _members(x, f"crypto_material.items[{i}]", {"id", "format", "data"})
        for i, x in enumerate(_list(obj["items"], "crypto_material.items"))
    ]
    _ids(items, "crypto_material.items")
    tls: bytes | None = None
    hpke: bytes | None = None
    out = []
    for i, item in enumerate(items):
        where = f"crypto_material.items[{i}]"
        fmt = _text(item["format"], f"{where}.format")
        known = fmt in (KEY_TLS, KEY_HPKE)
        value = _hex(item["data"], f"{where}.data", 32 if known else None)
        if fmt == KEY_TLS:
            if tls is not None:
                raise _fail("two TLS key fingerprints", where, "one", "two")
            tls = value
        elif fmt == KEY_HPKE:
            if hpke is not None:
                raise _fail("two HPKE keys", where, "one", "two")
            hpke = value
        out.append((item["id"], fmt, value))
    return tls, hpke, tuple(out)


def _devices(raw: bytes) -> tuple[TinfoilDevice, ...]:
    obj = _members(_json(raw, "device_evidence"), "device_evidence", {"format", "items"})
    _format(obj["format"], "device_evidence.format", DEVICE_EVIDENCE_FORMAT)
    items = [
        _members(x, f"device_evidence.items[{i}]", {"id", "kind", "vendor", "format", "evidence"})
        for i, x in enumerate(_list(obj["items"], "device_evidence.items"))
    ]
    _ids(items, "device_evidence.items")
    out = []
    for i, item in enumerate(items):
        where = f"device_evidence.items[{i}]"
        kind = item["kind"]
        if kind not in ("gpu", "nvswitch"):
            raise _fail("unknown device kind", f"{where}.kind", "gpu, nvswitch", repr(kind)[:40])
        if item["vendor"] != "nvidia":
            raise _fail("unknown device vendor", f"{where}.vendor", "nvidia", repr(item["vendor"]))
        expected = GPU_EVIDENCE_FORMAT if kind == "gpu" else SWITCH_EVIDENCE_FORMAT
        _format(item["format"], f"{where}.format", expected)
        nonce = None
        if kind == "gpu":
            ev = _members(
                item["evidence"], f"{where}.evidence", {"arch", "certificate", "evidence", "nonce"}
            )
            if ev["arch"] not in ("HOPPER", "BLACKWELL"):
                raise _fail(
                    "unknown GPU arch", f"{where}.evidence.arch", "HOPPER, BLACKWELL", ev["arch"]
                )
            _b64(ev["certificate"], f"{where}.evidence.certificate", canonical=False, limit=1 << 20)
            _b64(ev["evidence"], f"{where}.evidence.evidence", canonical=False, limit=1 << 20)
            nonce = _hex(ev["nonce"], f"{where}.evidence.nonce", 32)
        elif not isinstance(item["evidence"], list | dict):
            raise _fail("NVSwitch evidence must be nvattest JSON", f"{where}.evidence")
        out.append(
            TinfoilDevice(
                id=item["id"],
                kind=kind,
                vendor="nvidia",
                format=expected,
                evidence=json.dumps(item["evidence"]).encode(),
                nonce=nonce,
            )
        )
    return tuple(out)


def _collateral(value: object) -> tuple[TinfoilCollateral, ...]:
    entries = [
        _members(x, f"collateral[{i}]", {"id", "role", "format", "data"}, frozenset({"subjects"}))
        for i, x in enumerate(_list(value, "collateral"))
    ]
    _ids(entries, "collateral")
    out = []
    for i, entry in enumerate(entries):
        where = f"collateral[{i}]"
        if entry["role"] not in COLLATERAL_ROLES:
            raise _fail(
                "unknown collateral role", f"{where}.role", sorted(COLLATERAL_ROLES), entry["role"]
            )
        subjects = entry.get("subjects", [])
        if not isinstance(subjects, list) or not all(isinstance(s, str) for s in subjects):
            raise _fail("subjects must be a list of strings", f"{where}.subjects")
        out.append(
            TinfoilCollateral(
                id=entry["id"],
                role=entry["role"],
                format=_text(entry["format"], f"{where}.format"),
                subjects=tuple(subjects),
                data=entry["data"],
            )
        )
    return tuple(out)


def _parse_v3(data: bytes, doc: dict[str, Any]) -> TinfoilV3Document:
    top = _members(
        doc,
        "document",
        {"format", "challenge", "cpu_evidence", "crypto_material", "device_evidence"},
        frozenset({"collateral"}),
    )
    challenge = _members(
        top["challenge"], "challenge", {"nonce", "report_data", "report_data_algorithm"}
    )
    _format(
        challenge["report_data_algorithm"], "challenge.report_data_algorithm", REPORT_DATA_ALGORITHM
    )
    cpu = _members(top["cpu_evidence"], "cpu_evidence", {"format", "report_base64", "endorsed"})
    platform = CPU_FORMATS.get(cpu["format"]) if isinstance(cpu["format"], str) else None
    if platform is None:
        raise _fail(
            "unknown CPU evidence format", "cpu_evidence.format", sorted(CPU_FORMATS), cpu["format"]
        )
    endorsed = _members(
        cpu["endorsed"], "cpu_evidence.endorsed", {"crypto_material_hash", "device_evidence_hash"}
    )
    crypto = _b64(top["crypto_material"], "crypto_material", canonical=True, limit=1 << 20)
    devices = _b64(
        top["device_evidence"], "device_evidence", canonical=True, limit=MAX_DOCUMENT_BYTES
    )
    tls, hpke, keys = _crypto_material(crypto)
    return TinfoilV3Document(
        raw=bytes(data),
        nonce=_hex(challenge["nonce"], "challenge.nonce", 32),
        report_data=_hex(challenge["report_data"], "challenge.report_data", 64),
        platform=platform,
        evidence=_b64(
            cpu["report_base64"], "cpu_evidence.report_base64", canonical=False, limit=1 << 20
        ),
        crypto_material=crypto,
        device_evidence=devices,
        endorsed_crypto_hash=_hex(
            endorsed["crypto_material_hash"], "cpu_evidence.endorsed.crypto_material_hash", 32
        ),
        endorsed_device_hash=_hex(
            endorsed["device_evidence_hash"], "cpu_evidence.endorsed.device_evidence_hash", 32
        ),
        tls_spki_sha256=tls,
        hpke_public_key=hpke,
        key_items=keys,
        devices=_devices(devices),
        collateral=_collateral(top.get("collateral", [])),
    )


def is_tinfoil_document(data: bytes) -> bool:
    """True if ``data`` looks like a Tinfoil document (a JSON object with a Tinfoil format URI)."""
    head = data.lstrip()[:1]
    if head != b"{" or b"https://tinfoil.sh/predicate/" not in data[:4096]:
        return False
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return False
    return isinstance(doc, dict) and str(doc.get("format", "")).startswith(
        "https://tinfoil.sh/predicate/"
    )


def parse_tinfoil_document(data: bytes) -> TinfoilV2Document | TinfoilV3Document:
    """Parse a Tinfoil v2 or v3 document (structure only; nothing is verified).

    Raises:
        DocumentError: not JSON, duplicate or unknown members, bad hex/base64, sizes, gzip.
        UnsupportedDocumentError: another format, or the development-only dummy format.
    """
    if len(data) > MAX_DOCUMENT_BYTES:
        raise _fail("document too large", "document", f"<= {MAX_DOCUMENT_BYTES} bytes", len(data))
    doc = _json(data, "document")
    if not isinstance(doc, dict):
        raise _fail("document must be a JSON object", "document")
    given = doc.get("format")
    fmt = given if isinstance(given, str) else None  # only a string names a format
    if fmt == V3_FORMAT:
        return _parse_v3(data, doc)
    if fmt in V2_FORMATS or fmt == V2_DUMMY:
        return _parse_v2(data, doc)
    raise UnsupportedDocumentError(
        "not a Tinfoil attestation document (or an unsupported version)",
        platform=_PLATFORM,
        field="format",
        expected=", ".join([V3_FORMAT, *V2_FORMATS]),
        actual=repr(given)[:120],
    )


# --- derivation (§3.1) --------------------------------------------------------------------------


def report_data_v3(nonce: bytes, crypto_material_hash: bytes, device_evidence_hash: bytes) -> bytes:
    """The 64-byte REPORT_DATA a v3 CPU report carries."""
    if len(nonce) != 32 or len(crypto_material_hash) != 32 or len(device_evidence_hash) != 32:
        raise ValueError("nonce and hashes are 32 bytes")
    digest = hashlib.sha256(
        REPORT_DATA_ALGORITHM.encode() + nonce + crypto_material_hash + device_evidence_hash
    ).digest()
    return digest + bytes(32)


# --- encoders (what an enclave serves; used by teeclient.testing) -------------------------------


def encode_v2(platform: str, evidence: bytes) -> bytes:
    """A v2 document for raw SNP report or TDX quote bytes (gzip at mtime 0: deterministic)."""
    import gzip

    fmt = {v: k for k, v in V2_FORMATS.items()}[platform]
    body = base64.b64encode(gzip.compress(evidence, mtime=0)).decode()
    return json.dumps({"format": fmt, "body": body}).encode()


def crypto_material_section(*, tls_spki_sha256: bytes | None, hpke_public_key: bytes) -> bytes:
    """The exact bytes of a ``crypto_material`` section."""
    items = []
    if tls_spki_sha256 is not None:
        items.append({"id": "tls", "format": KEY_TLS, "data": tls_spki_sha256.hex()})
    items.append({"id": "hpke", "format": KEY_HPKE, "data": hpke_public_key.hex()})
    return json.dumps({"format": CRYPTO_MATERIAL_FORMAT, "items": items}).encode()


def device_evidence_section(items: Sequence[dict[str, Any]]) -> bytes:
    """The exact bytes of a ``device_evidence`` section (items as Tinfoil writes them)."""
    return json.dumps({"format": DEVICE_EVIDENCE_FORMAT, "items": list(items)}).encode()


def encode_v3(
    *,
    nonce: bytes,
    platform: str,
    evidence: bytes,
    crypto_material: bytes,
    device_evidence: bytes,
    collateral: Sequence[dict[str, Any]] = (),
    report_data: bytes | None = None,
) -> bytes:
    """A v3 document; ``report_data`` defaults to the true derivation."""
    cm_hash = hashlib.sha256(crypto_material).digest()
    de_hash = hashlib.sha256(device_evidence).digest()
    rd = report_data if report_data is not None else report_data_v3(nonce, cm_hash, de_hash)
    fmt = {v: k for k, v in CPU_FORMATS.items()}[platform]
    doc = {
        "format": V3_FORMAT,
        "challenge": {
            "nonce": nonce.hex(),
            "report_data": rd.hex(),
            "report_data_algorithm": REPORT_DATA_ALGORITHM,
        },
        "cpu_evidence": {
            "format": fmt,
            "report_base64": base64.b64encode(evidence).decode(),
            "endorsed": {
                "crypto_material_hash": cm_hash.hex(),
                "device_evidence_hash": de_hash.hex(),
            },
        },
        "crypto_material": base64.b64encode(crypto_material).decode(),
        "device_evidence": base64.b64encode(device_evidence).decode(),
        "collateral": list(collateral),
    }
    return json.dumps(doc, indent=1).encode()


# --- enclave certificate binding (§2 "dcode") ---------------------------------------------------


def spki_sha256(cert: x509.Certificate) -> bytes:
    """SHA-256 of a certificate's DER SubjectPublicKeyInfo."""
    return hashlib.sha256(
        cert.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    ).digest()


def dcode_sans(data: bytes, prefix: str, domain: str, *, chunk: int = 50) -> list[str]:
    """Encode ``data`` as dcode DNS SANs ``NN<base32>.<prefix>.<domain>`` (lower-case)."""
    text = base64.b32encode(data).decode().rstrip("=").lower()
    parts = [text[i : i + chunk] for i in range(0, len(text), chunk)] or [""]
    return [f"{i:02d}{part}.{prefix}.{domain}" for i, part in enumerate(parts)]


def dcode_decode(names: Sequence[str], prefix: str) -> bytes | None:
    """Decode the dcode SANs with ``prefix`` among ``names`` (None when there are none).

    Raises:
        BindingError: malformed labels or base32.
    """
    marker = f".{prefix}."
    chunks: list[tuple[int, str]] = []
    for name in names:
        if marker not in name:
            continue
        label = name.split(".", 1)[0]
        if len(label) < 2 or not label[:2].isdigit():
            raise BindingError("malformed dcode SAN", platform=_PLATFORM, field=prefix, actual=name)
        chunks.append((int(label[:2]), label[2:]))
    if not chunks:
        return None
    indexes = [i for i, _ in chunks]
    if sorted(indexes) != list(range(len(chunks))):
        raise BindingError(
            "dcode SAN chunks are not numbered 00..n",
            platform=_PLATFORM,
            field=prefix,
            actual=indexes,
        )
    text = "".join(c for _, c in sorted(chunks)).upper()
    text += "=" * (-len(text) % 8)
    try:
        return base64.b32decode(text)
    except (binascii.Error, ValueError) as exc:
        raise BindingError("dcode SANs are not base32", platform=_PLATFORM, field=prefix) from exc


def check_certificate(
    certificate: bytes | x509.Certificate,
    *,
    tls_spki_sha256: bytes,
    hpke_public_key: bytes | None,
    document_hash: str | None = None,
) -> None:
    """Check a Tinfoil enclave TLS certificate against attested values: its SPKI hash, the
    HPKE key in its ``.hpke.`` SANs and (when given) the document hash in its ``.hatt.`` SANs.

    Raises:
        KeysNotBoundError: the certificate's key or HPKE SANs are not the attested ones.
        BindingError: the hatt SANs name another document, or SANs are malformed.
        DocumentError: the certificate does not parse.
    """
    import hmac

    if isinstance(certificate, x509.Certificate):
        cert = certificate
    else:
        try:
            cert = (
                x509.load_pem_x509_certificate(certificate)
                if b"-----BEGIN" in certificate
                else x509.load_der_x509_certificate(certificate)
            )
        except ValueError as exc:
            raise _fail(f"enclave certificate does not parse: {exc}", "certificate") from exc
    found = spki_sha256(cert)
    if not hmac.compare_digest(found, tls_spki_sha256):
        raise KeysNotBoundError(
            "the enclave certificate's key is not the attested TLS key",
            platform=_PLATFORM,
            field="tls_spki_sha256",
            expected=tls_spki_sha256.hex(),
            actual=found.hex(),
        )
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names = san.get_values_for_type(x509.DNSName)
    except x509.ExtensionNotFound:
        names = []
    hpke = dcode_decode(names, "hpke")
    if hpke is not None and (
        hpke_public_key is None or not hmac.compare_digest(hpke, hpke_public_key)
    ):
        raise KeysNotBoundError(
            "the enclave certificate names another HPKE key",
            platform=_PLATFORM,
            field="hpke",
            expected=hpke_public_key.hex() if hpke_public_key else None,
            actual=hpke.hex(),
        )
    hatt = dcode_decode(names, "hatt")
    if (
        hatt is not None
        and document_hash is not None
        and hatt.decode("ascii", "replace") != document_hash
    ):
        raise BindingError(
            "the enclave certificate attests another document",
            platform=_PLATFORM,
            field="hatt",
            expected=document_hash,
            actual=hatt.decode("ascii", "replace"),
        )
