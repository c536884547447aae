"""Hypothesis: any input to the Nitro CBOR/COSE decoding and verification raises only
teeclient errors (ParseError for the parsers), never a third-party or built-in exception."""

from __future__ import annotations

import contextlib
from typing import Any

import cbor2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from teeclient.errors import EvidenceError, ParseError
from teeclient.platforms import VerifyOptions, detect_platform
from teeclient.platforms.nitro import abi
from teeclient.platforms.nitro.inspect import describe_evidence
from teeclient.platforms.nitro.verify import verify
from teeclient.testing.nitro_evidence import PROTECTED_ES384, assemble_cose_sign1
from tests.nitro_support import PROD, suggested_now, vector, vendor

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
REAL = vector(PROD)
REAL_DOC = abi.parse_document(REAL)
REAL_FIELDS: dict[str, Any] = dict(abi.decode_payload(REAL_DOC.cose.payload).fields)
NOW = suggested_now(PROD)

# CBOR data items of every major type, including tags, simple values, floats and big ints.
_scalars = (
    st.integers(min_value=-(2**64), max_value=2**64 - 1)
    | st.integers()
    | st.binary(max_size=80)
    | st.text(max_size=40)
    | st.booleans()
    | st.none()
    | st.floats(allow_nan=True)
    | st.sampled_from([cbor2.undefined, cbor2.CBORSimpleValue(16), cbor2.CBORSimpleValue(255)])
)
_items = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.dictionaries(st.integers(-40, 40) | st.text(max_size=12), inner, max_size=5)
        | st.builds(cbor2.CBORTag, st.integers(0, 2**64 - 1), inner)
    ),
    max_leaves=20,
)


def _encode(value: Any) -> bytes | None:
    try:
        return cbor2.dumps(value)
    except (cbor2.CBOREncodeError, ValueError, TypeError, OverflowError):
        return None


def _parse_everything(data: bytes) -> None:
    for parse in (abi.parse_cose_sign1, abi.decode_payload, abi.parse_payload, abi.parse_document):
        with contextlib.suppress(ParseError):
            parse(data)


@SETTINGS
@given(st.binary(max_size=600))
def test_any_bytes_raise_only_parse_errors(data: bytes) -> None:
    _parse_everything(data)
    _parse_everything(b"\x84" + data)
    _parse_everything(b"\xd2\x84" + data)


@SETTINGS
@given(_items)
def test_any_cbor_item_raises_only_parse_errors(value: Any) -> None:
    data = _encode(value)
    if data is not None:
        _parse_everything(data)


@SETTINGS
@given(_items, _items, _items, _items, st.booleans())
def test_any_envelope_raises_only_parse_errors(a: Any, b: Any, c: Any, d: Any, tag: bool) -> None:
    data = _encode([a, b, c, d])
    if data is not None:
        _parse_everything(b"\xd2" + data if tag else data)


@SETTINGS
@given(_items)
def test_any_protected_header_raises_only_parse_errors(header: Any) -> None:
    protected = _encode(header)
    if protected is None or len(protected) > 64:
        return
    try:
        cose = abi.parse_cose_sign1(assemble_cose_sign1(protected, b"\xa0", bytes(96)))
    except ParseError:
        return
    assert cose.algorithm == -35


@SETTINGS
@given(
    st.dictionaries(
        st.sampled_from([*abi.REQUIRED_KEYS, *abi.OPTIONAL_KEYS, "other"]), _items, max_size=10
    )
)
def test_any_payload_map_raises_only_parse_errors(changes: dict[str, Any]) -> None:
    payload = _encode({**REAL_FIELDS, **changes})
    if payload is None:
        return
    try:
        doc = abi.parse_payload(payload)
    except ParseError:
        return
    assert doc.module_id
    assert doc.pcrs
    assert doc.cabundle


@SETTINGS
@given(st.sampled_from(["pcrs", "nonce", "timestamp", "cabundle"]), st.integers(0, 2**64 - 1))
def test_tags_are_rejected_anywhere(key: str, tag: int) -> None:
    payload = _encode({**REAL_FIELDS, key: cbor2.CBORTag(tag, REAL_FIELDS[key])})
    assert payload is not None
    try:
        abi.decode_payload(payload)
    except ParseError:
        return
    raise AssertionError(f"tag {tag} was accepted")


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_mutated_real_document_never_verifies(data: st.DataObject) -> None:
    doc = bytearray(REAL)
    for _ in range(data.draw(st.integers(1, 4))):
        op = data.draw(st.sampled_from(["flip", "set", "insert", "delete"]))
        at = data.draw(st.integers(0, len(doc) - 1))
        if op == "flip":
            doc[at] ^= 1 << data.draw(st.integers(0, 7))
        elif op == "set":
            doc[at] = data.draw(st.integers(0, 255))
        elif op == "insert":
            doc[at:at] = data.draw(st.binary(min_size=1, max_size=4))
        else:
            del doc[at : at + data.draw(st.integers(1, 4))]
    if bytes(doc) == REAL:
        return
    try:
        verify(bytes(doc), trust=vendor(), now=NOW)
    except EvidenceError:
        return
    raise AssertionError("a mutated document verified")


@SETTINGS
@given(st.binary(max_size=300))
def test_detect_and_describe_raise_only_parse_errors(data: bytes) -> None:
    for candidate in (data, b"\x84\x44" + PROTECTED_ES384 + data):
        if detect_platform(candidate) == "nitro":
            with contextlib.suppress(ParseError):
                describe_evidence(candidate, options=VerifyOptions())
