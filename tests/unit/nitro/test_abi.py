"""teeclient.platforms.nitro.abi: the COSE_Sign1 envelope and the payload, structure only."""

from __future__ import annotations

from typing import Any

import cbor2
import pytest

from teeclient.errors import NitroUnsupportedAlgorithmError, ParseError, UnsupportedFormatError
from teeclient.platforms.nitro import abi
from teeclient.testing.nitro_evidence import PROTECTED_ES384, assemble_cose_sign1
from tests.nitro_support import PROD, generate, vector

SIG = bytes(range(96))


def _envelope(*members: Any, tagged: bool = False) -> bytes:
    body = cbor2.dumps(list(members))
    return b"\xd2" + body if tagged else body


def _cose(
    protected: bytes = PROTECTED_ES384,
    unprotected: Any = None,
    payload: bytes = b"\xa0",
    signature: bytes = SIG,
) -> bytes:
    return _envelope(protected, {} if unprotected is None else unprotected, payload, signature)


def _malformed(data: bytes, field: str | None = None) -> ParseError:
    with pytest.raises(ParseError) as info:
        abi.parse_cose_sign1(data)
    assert info.value.code == "evidence.malformed"
    assert info.value.platform == "nitro"
    if field is not None:
        assert info.value.field == field
    return info.value


# --- envelope ----------------------------------------------------------------------------------


def test_untagged_and_tagged_envelopes() -> None:
    plain = abi.parse_cose_sign1(_cose())
    assert plain.tagged is False
    assert plain.algorithm == -35
    assert plain.payload == b"\xa0"
    tagged = abi.parse_cose_sign1(b"\xd2" + _cose())
    assert tagged.tagged is True
    assert tagged.signature == SIG
    assert plain.r == int.from_bytes(SIG[:48], "big")
    assert plain.s == int.from_bytes(SIG[48:], "big")


def test_sig_structure_is_the_rfc9052_encoding() -> None:
    protected, payload = PROTECTED_ES384, b"\xa1\x61a\x01"
    manual = (
        b"\x84\x6aSignature1"
        + b"\x44"
        + protected
        + b"\x40"
        + bytes([0x40 | len(payload)])
        + payload
    )
    assert abi.sig_structure(protected, payload) == manual
    cose = abi.parse_cose_sign1(_cose(payload=payload))
    assert cose.to_be_signed() == manual


def test_real_document_envelope() -> None:
    cose = abi.parse_cose_sign1(vector(PROD))
    assert cose.protected == PROTECTED_ES384
    assert len(cose.payload) == 4546


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (b"", "document"),
        (b"\x83\x40\xa0\x40", "COSE_Sign1"),  # 3 elements
        (cbor2.dumps({"a": 1}), "COSE_Sign1"),
        (_envelope(PROTECTED_ES384, {}, b"\xa0", SIG, b""), "COSE_Sign1"),
        (_envelope("a1013822", {}, b"\xa0", SIG), "protected"),
        (_envelope(PROTECTED_ES384, [], b"\xa0", SIG), "unprotected"),
        (_envelope(PROTECTED_ES384, {4: b"kid"}, b"\xa0", SIG), "unprotected"),
        (_envelope(PROTECTED_ES384, {33: [b"x5chain"]}, b"\xa0", SIG), "unprotected"),
        (_envelope(PROTECTED_ES384, {}, "payload", SIG), "payload"),
        (_envelope(PROTECTED_ES384, {}, b"", SIG), "payload"),
        (_envelope(PROTECTED_ES384, {}, None, SIG), "payload"),
        (_envelope(PROTECTED_ES384, {}, b"\xa0", SIG[:64]), "signature"),
        (_envelope(PROTECTED_ES384, {}, b"\xa0", SIG + b"\x00"), "signature"),
        (_envelope(PROTECTED_ES384, {}, b"\xa0", SIG.hex()), "signature"),
        (_cose() + b"\x00", "COSE_Sign1"),  # trailing bytes
        (b"\xd2\xd2" + _cose(), "COSE_Sign1"),  # nested tag
        (b"\xd8\x12" + _cose(), "COSE_Sign1"),  # tag 18 in a non-preferred form
        (b"\xd1" + _cose(), "COSE_Sign1"),  # tag 17 (COSE_Mac0)
        (b"\x9f" + _cose()[1:] + b"\xff", "COSE_Sign1"),  # indefinite-length array
    ],
)
def test_envelope_rejections(data: bytes, field: str) -> None:
    _malformed(data, field)


def test_document_size_is_bounded() -> None:
    big = _cose(payload=b"\x00" * (abi.MAX_PAYLOAD_BYTES + 1))
    _malformed(big, "payload")
    _malformed(b"\x84" + b"\x00" * abi.MAX_DOCUMENT_BYTES, "document")


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ({}, "protected.alg"),
        ({1: -35, 4: b"kid"}, "protected"),
        ({1: -35, 2: [1]}, "protected"),  # crit
        ({1: "ES384"}, "protected.alg"),
        ({1: -35.0}, "protected.alg"),
        ({"1": -35}, "protected.alg"),
        ([1, -35], "protected"),
    ],
)
def test_protected_header_rejections(header: Any, field: str) -> None:
    _malformed(_cose(protected=cbor2.dumps(header)), field)


def test_protected_header_labels_are_compared_by_type() -> None:
    # True == 1 and 1.0 == 1 in Python, but neither is the label 1.
    _malformed(_cose(protected=b"\xa1\xf5\x38\x22"), "protected.alg")
    _malformed(_cose(protected=b"\xa1\xf9\x3c\x00\x38\x22"), "protected.alg")
    _malformed(_cose(protected=b"\xa1\x01\xf5"), "protected.alg")  # alg true


def test_protected_header_with_duplicate_label() -> None:
    _malformed(_cose(protected=b"\xa2\x01\x38\x22\x01\x38\x22"), "protected")


def test_protected_header_must_be_a_single_item() -> None:
    _malformed(_cose(protected=PROTECTED_ES384 + b"\x00"), "protected")


@pytest.mark.parametrize("alg", [-7, -36, -37, -8, 1, 34, -34])
def test_other_algorithms_are_unsupported(alg: int) -> None:
    with pytest.raises(NitroUnsupportedAlgorithmError) as info:
        abi.parse_cose_sign1(_cose(protected=cbor2.dumps({1: alg})))
    assert info.value.code == "nitro.unsupported_algorithm"
    assert info.value.actual == str(alg)


# --- payload -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fields() -> dict[str, Any]:
    gen = generate()
    return gen.spec().fields(certificate=gen.leaf.der, cabundle=gen.pki.cabundle)


def _payload(fields: dict[str, Any], **changes: Any) -> dict[str, Any]:
    out = dict(fields)
    for key, value in changes.items():
        if value is _OMIT:
            out.pop(key)
        else:
            out[key] = value
    return out


_OMIT = object()


def _bad_payload(value: Any, field: str, code: str = "evidence.malformed") -> None:
    with pytest.raises(ParseError) as info:
        abi.parse_payload(cbor2.dumps(value))
    assert info.value.code == code
    assert info.value.field == field


def test_payload_decodes(fields: dict[str, Any]) -> None:
    doc = abi.parse_payload(cbor2.dumps(fields))
    assert doc.module_id == fields["module_id"]
    assert doc.digest == "SHA384"
    assert [i for i, _ in doc.pcrs] == list(range(16))
    assert doc.cabundle == tuple(fields["cabundle"])
    assert doc.public_key is doc.user_data is doc.nonce is None
    assert doc.null_keys == ("public_key", "user_data", "nonce")
    assert doc.unknown_keys == ()
    assert doc.debug is False


def test_absent_and_null_optional_fields_are_equivalent(fields: dict[str, Any]) -> None:
    absent = abi.parse_payload(
        cbor2.dumps(_payload(fields, public_key=_OMIT, user_data=_OMIT, nonce=_OMIT))
    )
    assert absent.public_key is absent.user_data is absent.nonce is None
    assert absent.null_keys == ()


@pytest.mark.parametrize("key", ["public_key", "user_data", "nonce"])
def test_optional_fields_up_to_1024_bytes(fields: dict[str, Any], key: str) -> None:
    doc = abi.parse_payload(cbor2.dumps(_payload(fields, **{key: b"\x01" * 1024})))
    assert getattr(doc, key) == b"\x01" * 1024
    _bad_payload(_payload(fields, **{key: b"\x01" * 1025}), key)
    _bad_payload(_payload(fields, **{key: "text"}), key)
    _bad_payload(_payload(fields, **{key: 1}), key)


def test_empty_optional_fields(fields: dict[str, Any]) -> None:
    doc = abi.parse_payload(cbor2.dumps(_payload(fields, user_data=b"", nonce=b"")))
    assert doc.user_data == b""
    assert doc.nonce == b""
    _bad_payload(_payload(fields, public_key=b""), "public_key")  # AWS: 1..1024


@pytest.mark.parametrize("key", abi.REQUIRED_KEYS)
def test_required_fields_missing_or_null(fields: dict[str, Any], key: str) -> None:
    _bad_payload(_payload(fields, **{key: _OMIT}), key)
    _bad_payload(_payload(fields, **{key: None}), key)


@pytest.mark.parametrize(
    ("key", "value", "field"),
    [
        ("module_id", "", "module_id"),
        ("module_id", "x" * 257, "module_id"),
        ("module_id", "i-0\n", "module_id"),
        ("module_id", "i-é", "module_id"),
        ("module_id", b"i-0", "module_id"),
        ("digest", "SHA256", "digest"),
        ("digest", b"SHA384", "digest"),
        ("timestamp", -1, "timestamp"),
        ("timestamp", 1725719886, "timestamp"),  # seconds, not milliseconds
        ("timestamp", 0, "timestamp"),
        ("timestamp", 2**64 - 1, "timestamp"),
        ("timestamp", True, "timestamp"),
        ("timestamp", 1725719886508.0, "timestamp"),
        ("timestamp", "1725719886508", "timestamp"),
        ("pcrs", {}, "pcrs"),
        ("pcrs", [bytes(48)], "pcrs"),
        ("pcrs", {i: bytes(48) for i in range(33)}, "pcrs"),
        ("pcrs", {32: bytes(48)}, "pcrs"),
        ("pcrs", {-1: bytes(48)}, "pcrs"),
        ("pcrs", {"0": bytes(48)}, "pcrs"),
        ("pcrs", {0: bytes(32)}, "pcrs[0]"),
        ("pcrs", {0: bytes(64)}, "pcrs[0]"),
        ("pcrs", {0: "00" * 48}, "pcrs[0]"),
        ("certificate", b"", "certificate"),
        ("certificate", b"\x30" * 1025, "certificate"),
        ("certificate", "cert", "certificate"),
        ("cabundle", [], "cabundle"),
        ("cabundle", b"\x30", "cabundle"),
        ("cabundle", [b"\x30"] * 17, "cabundle"),
        ("cabundle", [b""], "cabundle[0]"),
        ("cabundle", [b"\x30", b"\x30" * 1025], "cabundle[1]"),
        ("cabundle", [b"\x30", None], "cabundle[1]"),
    ],
)
def test_field_rejections(fields: dict[str, Any], key: str, value: Any, field: str) -> None:
    code = "evidence.unsupported" if value == "SHA256" else "evidence.malformed"
    _bad_payload(_payload(fields, **{key: value}), field, code)


def test_pcr_keys_are_typed(fields: dict[str, Any]) -> None:
    payload = cbor2.dumps(_payload(fields, pcrs={0: bytes(48)}))
    # replace the uint key 0 by the simple value true (0xf5), which Python equates with 1
    patched = payload.replace(b"\xa1\x00\x58\x30", b"\xa1\xf5\x58\x30")
    assert patched != payload
    with pytest.raises(ParseError) as info:
        abi.parse_payload(patched)
    assert info.value.field == "pcrs"


def test_unknown_fields_are_reported_and_ignored(fields: dict[str, Any]) -> None:
    doc = abi.parse_payload(cbor2.dumps(_payload(fields, zeta=1, alpha={"nested": [1.5]})))
    assert doc.unknown_keys == ("alpha", "zeta")


@pytest.mark.parametrize(
    "payload",
    [
        cbor2.dumps([1, 2]),
        cbor2.dumps({1: "x"}),
        cbor2.dumps({b"module_id": "x"}),
        b"\xa1\x61a\x01\x00",  # trailing byte
        b"\xbf\x61a\x01\xff",  # indefinite-length map
        b"\xa2\x61a\x01\x61a\x02",  # duplicate key
        b"\xa1\x61a\xc1\x1a\x51\x4b\x67\xb0",  # tag 1 (epoch date) inside
        b"\xa1\x61a\xc2\x41\x01",  # tag 2 (bignum) inside
        b"\xa1\x61a\xd8\x1c\x80",  # tag 28 (shareable) inside
        b"\xa1\x61a\xd9\xd9\xf7\x01",  # tag 55799 (self-described CBOR) inside
        b"\xa1\x62\xc3\x28\x01",  # invalid UTF-8 key
        b"\xa1\x61a" + b"\x81" * 10 + b"\x01",  # nesting too deep
        b"",
    ],
)
def test_payload_cbor_rejections(payload: bytes) -> None:
    with pytest.raises(ParseError) as info:
        abi.decode_payload(payload)
    assert info.value.code == "evidence.malformed"


def test_unsupported_digest_is_a_parse_error_subclass(fields: dict[str, Any]) -> None:
    with pytest.raises(UnsupportedFormatError):
        abi.parse_payload(cbor2.dumps(_payload(fields, digest="SHA512")))


def test_debug_detection(fields: dict[str, Any]) -> None:
    zero = bytes(48)
    debug = abi.parse_payload(cbor2.dumps(_payload(fields, pcrs=dict.fromkeys(range(16), zero))))
    assert debug.debug is True
    one_set = dict.fromkeys(range(16), zero) | {1: b"\x01" * 48}
    assert abi.parse_payload(cbor2.dumps(_payload(fields, pcrs=one_set))).debug is False
    # absent PCR0-2 count as zero: fail closed
    absent = abi.parse_payload(cbor2.dumps(_payload(fields, pcrs={3: b"\x01" * 48})))
    assert absent.debug is True


def test_signing_certificates_only_reads_the_chain(fields: dict[str, Any]) -> None:
    raw = abi.decode_payload(cbor2.dumps(_payload(fields, digest=7, pcrs="garbage")))
    leaf, bundle = abi.signing_certificates(raw)
    assert leaf == fields["certificate"]
    assert bundle == tuple(fields["cabundle"])


def test_parse_document_round_trip() -> None:
    doc = abi.parse_document(vector(PROD))
    assert doc.raw == vector(PROD)
    assert doc.cose.payload.startswith(b"\xa9")
    rebuilt = assemble_cose_sign1(doc.cose.protected, doc.cose.payload, doc.cose.signature)
    assert rebuilt == vector(PROD)


def test_hand_built_structures_check_their_invariants() -> None:
    with pytest.raises(ValueError, match="signature"):
        abi.CoseSign1(protected=PROTECTED_ES384, payload=b"\xa0", signature=b"", tagged=False)
    with pytest.raises(ValueError, match="PCR"):
        abi.AttestationDocument(
            module_id="m",
            digest="SHA384",
            timestamp_ms=1725719886508,
            pcrs=((0, b"\x00"),),
            certificate=b"c",
            cabundle=(b"r",),
        )
