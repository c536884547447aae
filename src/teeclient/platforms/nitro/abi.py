"""AWS Nitro attestation documents: COSE_Sign1 bytes ↔ frozen structures; structure checks only.

A document is a CBOR ``COSE_Sign1`` (RFC 9052 §4.2), optionally wrapped in tag 18, whose
payload is the CBOR attestation map (aws-nitro-enclaves-nsm-api ``attestation_process.md``
§3; specs/nitro.md §1–§2). Decoding is strict where the format is, and as liberal as real
documents require (specs/nitro.md §7): optional keys may be CBOR null, and ``public_key``,
``user_data`` and ``nonce`` may be 1024 bytes. Every size is bounded before it is read.

CBOR is decoded with ``cbor2`` configured to refuse indefinite lengths, duplicate map keys
and *every* tag (the optional outer tag 18 is removed first), with a
small nesting limit and no trailing bytes. Nothing here verifies a signature or a chain, and
nothing applies policy.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any, NoReturn

import cbor2

from teeclient.errors import NitroUnsupportedAlgorithmError, ParseError, UnsupportedFormatError

__all__ = [
    "ALG_ES384",
    "COSE_SIGN1_TAG",
    "DIGEST_SHA384",
    "MAX_DOCUMENT_BYTES",
    "MAX_PAYLOAD_BYTES",
    "OPTIONAL_KEYS",
    "PCR_COUNT",
    "REQUIRED_KEYS",
    "SIGNATURE_BYTES",
    "AttestationDocument",
    "CoseSign1",
    "NitroDocument",
    "RawPayload",
    "decode_payload",
    "parse_attestation",
    "parse_cose_sign1",
    "parse_document",
    "parse_payload",
    "sig_structure",
    "signing_certificates",
]

PLATFORM = "nitro"

COSE_SIGN1_TAG = 18
ALG_ES384 = -35
SIGNATURE_BYTES = 96  # raw r ‖ s, 48 bytes each (RFC 9053 §2.1)
DIGEST_SHA384 = "SHA384"
PCR_COUNT = 32
PCR_BYTES = 48  # SHA-384 PCRs (digest "SHA384" is the only one accepted)

MAX_PAYLOAD_BYTES = 16384  # AWS CDDL: payload bstr .size (1..16384)
#: Tag, array header, protected header, unprotected map, payload and signature around it.
MAX_DOCUMENT_BYTES = MAX_PAYLOAD_BYTES + 512
MAX_PROTECTED_BYTES = 64
MAX_CERT_BYTES = 1024  # AWS CDDL: certificate and each cabundle entry bstr .size (1..1024)
MAX_CABUNDLE = 16
MAX_MODULE_ID = 256
MAX_OPTIONAL_BYTES = 1024  # public_key, user_data, nonce (real documents reach 1024)
MAX_UNKNOWN_KEY = 64
_MAX_DEPTH = 8
#: Timestamps before 1980 are rejected (they look like seconds, not milliseconds).
MIN_TIMESTAMP_MS = 315532800000
MAX_TIMESTAMP_MS = 253402300799999  # 9999-12-31T23:59:59.999Z

REQUIRED_KEYS = ("module_id", "digest", "timestamp", "pcrs", "certificate", "cabundle")
OPTIONAL_KEYS = ("public_key", "user_data", "nonce")
_OPTIONAL_MIN = {"public_key": 1, "user_data": 0, "nonce": 0}  # AWS §3.2.2.2 lower bounds


def _fail(
    message: str,
    *,
    field: str,
    expected: object = None,
    actual: object = None,
    offset: int | None = None,
) -> NoReturn:
    raise ParseError(
        message, platform=PLATFORM, field=field, expected=expected, actual=actual, offset=offset
    )


class _AnyTag(Mapping[int, Any]):
    """A semantic-decoder table that claims every tag number, so cbor2 decodes none of them."""

    def __getitem__(self, tag: int) -> Any:
        return _reject_tag

    def __contains__(self, tag: object) -> bool:
        return True

    def __iter__(self) -> Iterator[int]:
        return iter(())

    def __len__(self) -> int:
        return 0


class _TagRejected(ValueError):
    """Raised inside cbor2 for any tag; cbor2 turns it into CBORDecodeError."""


def _reject_tag(*_: object) -> NoReturn:
    raise _TagRejected("CBOR tags are not allowed here")


_NO_TAGS = _AnyTag()


def _decode(data: bytes, *, field: str) -> Any:
    """Decode exactly one strict CBOR item from ``data``.

    Raises:
        ParseError: not well-formed, indefinite lengths, duplicate map keys, any tag,
            nesting deeper than 8, or trailing bytes.
    """
    decoder = cbor2.CBORDecoder(
        io.BytesIO(data),
        semantic_decoders=_NO_TAGS,
        tag_hook=_reject_tag,
        str_errors="strict",
        max_depth=_MAX_DEPTH,
        allow_indefinite=False,
        allow_duplicate_keys=False,
    )
    try:
        value = decoder.decode()
    except cbor2.CBORDecodeError as exc:
        _fail(f"invalid CBOR: {exc}", field=field)
    except (ValueError, TypeError, OverflowError, RecursionError) as exc:  # defensive
        _fail(f"invalid CBOR: {exc}", field=field)
    try:
        decoder.read(1)
    except cbor2.CBORDecodeError:
        return value
    _fail("trailing bytes after the CBOR item", field=field, expected=f"{len(data)} bytes used")


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    return {int: "uint/nint", bytes: "bstr", str: "tstr", list: "array", dict: "map"}.get(
        type(value), type(value).__name__
    )


def _is_uint(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


# --- COSE_Sign1 --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class CoseSign1:
    """A decoded COSE_Sign1 envelope; ``protected`` and ``payload`` are the bytes as received."""

    protected: bytes
    payload: bytes
    signature: bytes
    tagged: bool
    algorithm: int = ALG_ES384

    def __post_init__(self) -> None:
        if self.algorithm != ALG_ES384:
            raise ValueError("only ES384 (-35) is supported")
        if len(self.signature) != SIGNATURE_BYTES:
            raise ValueError(f"signature must be {SIGNATURE_BYTES} bytes")
        if not 1 <= len(self.payload) <= MAX_PAYLOAD_BYTES:
            raise ValueError(f"payload must be 1..{MAX_PAYLOAD_BYTES} bytes")

    @property
    def r(self) -> int:
        """ECDSA r (first 48 bytes, big-endian)."""
        return int.from_bytes(self.signature[:48], "big")

    @property
    def s(self) -> int:
        """ECDSA s (last 48 bytes, big-endian)."""
        return int.from_bytes(self.signature[48:], "big")

    def to_be_signed(self) -> bytes:
        """The bytes the NSM signed: Sig_structure over the protected header and payload."""
        return sig_structure(self.protected, self.payload)


def sig_structure(protected: bytes, payload: bytes) -> bytes:
    """CBOR ``["Signature1", protected, h'', payload]`` (RFC 9052 §4.4), canonically encoded."""
    return cbor2.dumps(["Signature1", protected, b"", payload])


def _bstr(value: object, *, field: str, minimum: int, maximum: int) -> bytes:
    if not isinstance(value, bytes):
        _fail(
            f"{field} must be a byte string", field=field, expected="bstr", actual=_type_name(value)
        )
    if not minimum <= len(value) <= maximum:
        _fail(
            f"{field} has an invalid length",
            field=field,
            expected=f"{minimum}..{maximum} bytes",
            actual=f"{len(value)} bytes",
        )
    return value


def _parse_protected(protected: bytes) -> int:
    header = _decode(protected, field="protected")
    if not isinstance(header, dict):
        _fail(
            "protected header is not a map",
            field="protected",
            expected="map {1: -35}",
            actual=_type_name(header),
        )
    # Labels are compared by exact type: True and 1.0 equal 1 in Python but are not label 1.
    algs = [v for k, v in header.items() if type(k) is int and k == 1]
    if not algs:
        _fail(
            "protected header has no algorithm (label 1)",
            field="protected.alg",
            expected="{1: -35}",
            actual=repr(header)[:80],
        )
    extra = [k for k in header if not (type(k) is int and k == 1)]
    if extra:
        _fail(
            "protected header has parameters teeclient does not understand",
            field="protected",
            expected="{1: -35} only",
            actual=repr(extra)[:80],
        )
    alg = algs[0]
    if type(alg) is not int:
        _fail(
            "protected header algorithm is not an integer",
            field="protected.alg",
            expected="-35 (ES384)",
            actual=_type_name(alg),
        )
    if alg != ALG_ES384:
        raise NitroUnsupportedAlgorithmError(
            "COSE algorithm is not ES384",
            platform=PLATFORM,
            field="protected.alg",
            expected="-35 (ES384)",
            actual=str(alg),
        )
    return alg


def parse_cose_sign1(data: bytes) -> CoseSign1:
    """Decode a COSE_Sign1 envelope (tagged with 18 or untagged) and check its structure.

    Raises:
        ParseError: not CBOR, not a 4-element array, wrong member types or sizes, a
            protected header other than ``{1: -35}``, a non-empty unprotected map, a
            signature that is not 96 bytes, or trailing bytes.
        NitroUnsupportedAlgorithmError: the protected header names another algorithm.
    """
    data = bytes(data)
    if not data:
        _fail("empty document", field="document", expected="COSE_Sign1")
    if len(data) > MAX_DOCUMENT_BYTES:
        _fail(
            "document too large",
            field="document",
            expected=f"<= {MAX_DOCUMENT_BYTES} bytes",
            actual=f"{len(data)} bytes",
        )
    tagged = data[0] == 0xC0 | COSE_SIGN1_TAG  # tag 18 in its one-byte (preferred) form
    body = data[1:] if tagged else data
    envelope = _decode(body, field="COSE_Sign1")
    if not isinstance(envelope, list) or len(envelope) != 4:
        _fail(
            "COSE_Sign1 is not a 4-element array",
            field="COSE_Sign1",
            expected="[protected, unprotected, payload, signature]",
            actual=_type_name(envelope)
            + (f" of {len(envelope)}" if isinstance(envelope, list) else ""),
        )
    protected_raw, unprotected, payload, signature = envelope
    protected = _bstr(protected_raw, field="protected", minimum=1, maximum=MAX_PROTECTED_BYTES)
    if not isinstance(unprotected, dict):
        _fail(
            "unprotected header is not a map",
            field="unprotected",
            expected="{}",
            actual=_type_name(unprotected),
        )
    if unprotected:
        _fail(
            "unprotected header must be empty (its contents are never trusted)",
            field="unprotected",
            expected="{}",
            actual=repr(sorted(map(repr, unprotected)))[:80],
        )
    payload = _bstr(payload, field="payload", minimum=1, maximum=MAX_PAYLOAD_BYTES)
    signature = _bstr(
        signature, field="signature", minimum=SIGNATURE_BYTES, maximum=SIGNATURE_BYTES
    )
    alg = _parse_protected(protected)
    return CoseSign1(
        protected=protected, payload=payload, signature=signature, tagged=tagged, algorithm=alg
    )


# --- payload -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, eq=False)
class RawPayload:
    """The payload map as decoded (text keys only), before its fields are interpreted."""

    fields: Mapping[str, Any]


def decode_payload(payload: bytes) -> RawPayload:
    """Decode the attestation payload into a map with text-string keys (nothing interpreted).

    Raises:
        ParseError: not strict CBOR, not a map, a key that is not a text string, or too large.
    """
    payload = bytes(payload)
    if not 1 <= len(payload) <= MAX_PAYLOAD_BYTES:
        _fail(
            "payload has an invalid length",
            field="payload",
            expected=f"1..{MAX_PAYLOAD_BYTES} bytes",
            actual=f"{len(payload)} bytes",
        )
    value = _decode(payload, field="payload")
    if not isinstance(value, dict):
        _fail(
            "attestation payload is not a map",
            field="payload",
            expected="map",
            actual=_type_name(value),
        )
    for key in value:
        if not isinstance(key, str):
            _fail(
                "attestation payload keys must be text strings",
                field="payload",
                expected="tstr keys",
                actual=f"{_type_name(key)} key {key!r}"[:80],
            )
    return RawPayload(MappingProxyType(value))


def _required(raw: RawPayload, key: str) -> Any:
    value = raw.fields.get(key)
    if value is None:
        _fail(
            f"required field {key} is missing"
            if key not in raw.fields
            else f"required field {key} is null",
            field=key,
            expected="present, not null",
            actual="absent" if key not in raw.fields else "null",
        )
    return value


def signing_certificates(raw: RawPayload) -> tuple[bytes, tuple[bytes, ...]]:
    """The DER leaf ``certificate`` and the root-first ``cabundle`` (sizes checked, not parsed).

    These are all verification needs before the signature; every other field is interpreted
    only after the signature verifies (``parse_attestation``).

    Raises:
        ParseError: missing, null, wrong type, empty, or larger than 1024 bytes each.
    """
    certificate = _bstr(
        _required(raw, "certificate"), field="certificate", minimum=1, maximum=MAX_CERT_BYTES
    )
    bundle = _required(raw, "cabundle")
    if not isinstance(bundle, list):
        _fail(
            "cabundle must be an array",
            field="cabundle",
            expected="array of bstr",
            actual=_type_name(bundle),
        )
    if not 1 <= len(bundle) <= MAX_CABUNDLE:
        _fail(
            "cabundle has an invalid number of certificates",
            field="cabundle",
            expected=f"1..{MAX_CABUNDLE}",
            actual=len(bundle),
        )
    certs = tuple(
        _bstr(c, field=f"cabundle[{i}]", minimum=1, maximum=MAX_CERT_BYTES)
        for i, c in enumerate(bundle)
    )
    return certificate, certs


@dataclass(frozen=True, slots=True, kw_only=True)
class AttestationDocument:
    """Every field of a Nitro attestation payload (AWS §3.2.2), decoded and size-checked.

    ``public_key``, ``user_data`` and ``nonce`` are None when absent *or* CBOR null; which
    keys were null and which keys teeclient does not know are kept for reporting.
    """

    module_id: str
    digest: str
    timestamp_ms: int
    pcrs: tuple[tuple[int, bytes], ...]
    certificate: bytes
    cabundle: tuple[bytes, ...]
    public_key: bytes | None = None
    user_data: bytes | None = None
    nonce: bytes | None = None
    null_keys: tuple[str, ...] = ()
    unknown_keys: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.module_id:
            raise ValueError("module_id must not be empty")
        if not MIN_TIMESTAMP_MS <= self.timestamp_ms <= MAX_TIMESTAMP_MS:
            raise ValueError("timestamp out of range")
        indexes = [i for i, _ in self.pcrs]
        if indexes != sorted(set(indexes)) or not self.pcrs:
            raise ValueError("pcrs must be sorted by index, unique and non-empty")
        for index, value in self.pcrs:
            if not 0 <= index < PCR_COUNT or len(value) != PCR_BYTES:
                raise ValueError(f"PCR{index} must have index 0..31 and 48 bytes")
        if not self.cabundle:
            raise ValueError("cabundle must not be empty")

    @property
    def timestamp(self) -> datetime:
        """The document's timestamp (milliseconds since the epoch) as aware UTC."""
        return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=self.timestamp_ms)

    def pcr(self, index: int) -> bytes | None:
        """The value of PCR ``index``, or None when the document does not carry it."""
        return next((v for i, v in self.pcrs if i == index), None)

    @property
    def debug(self) -> bool:
        """True when PCR0, PCR1 and PCR2 are all zero (or absent): a ``--debug-mode`` enclave."""
        zero = bytes(PCR_BYTES)
        return all((self.pcr(i) or zero) == zero for i in (0, 1, 2))


def _optional(raw: RawPayload, key: str, nulls: list[str]) -> bytes | None:
    if key not in raw.fields:
        return None
    value = raw.fields[key]
    if value is None:
        nulls.append(key)  # real NSM documents carry null here (specs/nitro.md §7.1)
        return None
    return _bstr(value, field=key, minimum=_OPTIONAL_MIN[key], maximum=MAX_OPTIONAL_BYTES)


def _module_id(value: object) -> str:
    if not isinstance(value, str):
        _fail(
            "module_id must be a text string",
            field="module_id",
            expected="tstr",
            actual=_type_name(value),
        )
    if not 1 <= len(value) <= MAX_MODULE_ID or not value.isascii() or not value.isprintable():
        _fail(
            "module_id must be 1..256 printable ASCII characters",
            field="module_id",
            expected="e.g. i-0123456789abcdef0-enc0123456789abcdef",
            actual=repr(value)[:80],
        )
    return value


def _pcrs(value: object) -> tuple[tuple[int, bytes], ...]:
    if not isinstance(value, dict):
        _fail(
            "pcrs must be a map", field="pcrs", expected="map uint → bstr", actual=_type_name(value)
        )
    if not 1 <= len(value) <= PCR_COUNT:
        _fail(
            "pcrs has an invalid number of entries",
            field="pcrs",
            expected=f"1..{PCR_COUNT}",
            actual=len(value),
        )
    out: list[tuple[int, bytes]] = []
    for index, digest in value.items():
        if type(index) is not int or not 0 <= index < PCR_COUNT:  # exact type: no bool
            _fail(
                "PCR index must be an unsigned integer 0..31",
                field="pcrs",
                expected="0..31",
                actual=f"{_type_name(index)} {index!r}"[:80],
            )
        if type(digest) is not bytes or len(digest) != PCR_BYTES:
            _bstr(digest, field=f"pcrs[{index}]", minimum=PCR_BYTES, maximum=PCR_BYTES)
        out.append((index, digest))
    return tuple(sorted(out))


def _timestamp(value: object) -> int:
    if not _is_uint(value):
        _fail(
            "timestamp must be an unsigned integer (milliseconds)",
            field="timestamp",
            expected="uint",
            actual=_type_name(value),
        )
    assert isinstance(value, int)
    if not MIN_TIMESTAMP_MS <= value <= MAX_TIMESTAMP_MS:
        _fail(
            "timestamp is not milliseconds since the epoch between 1980 and 9999",
            field="timestamp",
            expected=f"{MIN_TIMESTAMP_MS}..{MAX_TIMESTAMP_MS}",
            actual=value,
        )
    return value


def parse_attestation(raw: RawPayload) -> AttestationDocument:
    """Interpret every field of a decoded payload (specs/nitro.md §2).

    Raises:
        ParseError: a required field is missing or null, or a field has the wrong type or size.
        UnsupportedFormatError: ``digest`` is not ``"SHA384"``.
    """
    certificate, cabundle = signing_certificates(raw)
    module_id = _module_id(_required(raw, "module_id"))
    digest = _required(raw, "digest")
    if not isinstance(digest, str):
        _fail(
            "digest must be a text string",
            field="digest",
            expected="tstr",
            actual=_type_name(digest),
        )
    if digest != DIGEST_SHA384:
        raise UnsupportedFormatError(
            "only SHA384 PCRs are supported",
            platform=PLATFORM,
            field="digest",
            expected=DIGEST_SHA384,
            actual=digest[:40],
        )
    timestamp = _timestamp(_required(raw, "timestamp"))
    pcrs = _pcrs(_required(raw, "pcrs"))
    nulls: list[str] = []
    optional = {key: _optional(raw, key, nulls) for key in OPTIONAL_KEYS}
    known = set(REQUIRED_KEYS) | set(OPTIONAL_KEYS)
    unknown = tuple(sorted(k[:MAX_UNKNOWN_KEY] for k in raw.fields if k not in known))
    return AttestationDocument(
        module_id=module_id,
        digest=digest,
        timestamp_ms=timestamp,
        pcrs=pcrs,
        certificate=certificate,
        cabundle=cabundle,
        public_key=optional["public_key"],
        user_data=optional["user_data"],
        nonce=optional["nonce"],
        null_keys=tuple(nulls),
        unknown_keys=unknown,
    )


def parse_payload(payload: bytes) -> AttestationDocument:
    """Decode and interpret an attestation payload (``decode_payload`` + ``parse_attestation``).

    Raises:
        ParseError: see ``decode_payload`` and ``parse_attestation``.
    """
    return parse_attestation(decode_payload(payload))


@dataclass(frozen=True, slots=True, kw_only=True)
class NitroDocument:
    """A whole attestation document: the exact bytes, the envelope and the decoded payload."""

    raw: bytes
    cose: CoseSign1
    attestation: AttestationDocument


def parse_document(data: bytes) -> NitroDocument:
    """Decode a whole document (envelope and payload) without verifying anything.

    Raises:
        ParseError: see ``parse_cose_sign1`` and ``parse_payload``.
    """
    cose = parse_cose_sign1(data)
    return NitroDocument(raw=bytes(data), cose=cose, attestation=parse_payload(cose.payload))
