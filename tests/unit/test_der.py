"""Strict DER decoding of the primitive values in AMD VEK extensions."""

from __future__ import annotations

import pytest

from teeclient._der import (
    TAG_IA5STRING,
    TAG_INTEGER,
    TAG_OCTET_STRING,
    read_ia5,
    read_integer,
    read_single,
    read_tlv,
)
from teeclient.errors import ParseError


def tlv(data: bytes, offset: int = 0) -> tuple[int, bytes, int]:
    return read_tlv(data, offset, field="f", platform="t")


def test_short_form() -> None:
    assert tlv(b"\x02\x01\x05") == (0x02, b"\x05", 3)
    assert tlv(b"\xff\x04\x02ab\xff", 1) == (0x04, b"ab", 5)
    assert tlv(b"\x05\x00") == (0x05, b"", 2)


def test_long_form_minimal() -> None:
    body = bytes(200)
    assert tlv(b"\x04\x81\xc8" + body) == (0x04, body, 203)
    body = bytes(300)
    assert tlv(b"\x04\x82\x01\x2c" + body) == (0x04, body, 304)


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"\x02", id="truncated-header"),
        pytest.param(b"\x1f\x01\x00", id="high-tag-number"),
        pytest.param(b"\x30\x80\x02\x01\x00\x00\x00", id="indefinite-length"),
        pytest.param(b"\x04\x81\x05abcde", id="long-form-for-short-length"),
        pytest.param(b"\x04\x82\x00\x80" + bytes(128), id="leading-zero-length-byte"),
        pytest.param(b"\x04\x85\x01\x00\x00\x00\x00", id="five-length-bytes"),
        pytest.param(b"\x04\x82\x01", id="truncated-length"),
        pytest.param(b"\x04\x05abc", id="value-past-end"),
        pytest.param(b"\x04\x84\x7f\xff\xff\xff", id="huge-length"),
    ],
)
def test_tlv_rejections(data: bytes) -> None:
    with pytest.raises(ParseError) as info:
        tlv(data)
    assert info.value.code == "evidence.malformed"
    assert info.value.field == "f"
    assert info.value.platform == "t"


def test_offset_past_end() -> None:
    with pytest.raises(ParseError):
        tlv(b"\x02\x01\x00", 2)


def test_read_single_tag_and_trailing() -> None:
    assert read_single(b"\x04\x02hi", TAG_OCTET_STRING, field="f", platform="t") == b"hi"
    with pytest.raises(ParseError) as info:
        read_single(b"\x04\x02hi", TAG_INTEGER, field="f", platform="t")
    assert info.value.expected == "tag 0x02"
    assert info.value.actual == "tag 0x04"
    with pytest.raises(ParseError) as info:
        read_single(b"\x04\x02hi\x00", TAG_OCTET_STRING, field="f", platform="t")
    assert info.value.offset == 4


@pytest.mark.parametrize(
    ("data", "value"),
    [
        (b"\x02\x01\x00", 0),
        (b"\x02\x01\x7f", 127),
        (b"\x02\x02\x00\x80", 128),
        (b"\x02\x02\x00\xd9", 217),  # ucodeSPL 217 as KDS encodes it (sev-snp.md §5.3)
        (b"\x02\x02\x00\xff", 255),
        (b"\x02\x02\x01\x00", 256),
    ],
)
def test_integer_values(data: bytes, value: int) -> None:
    assert read_integer(data, field="f", platform="t") == value


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"\x02\x00", id="empty"),
        pytest.param(b"\x02\x01\x80", id="negative"),
        pytest.param(b"\x02\x01\xff", id="minus-one"),
        pytest.param(b"\x02\x02\x00\x01", id="non-minimal-zero-pad"),
        pytest.param(b"\x02\x02\x00\x7f", id="non-minimal-127"),
        pytest.param(b"\x02\x01\x05\x00", id="trailing-byte"),
        pytest.param(b"\x16\x01\x05", id="wrong-tag"),
        pytest.param(b"\x02\x80\x01\x00\x00", id="indefinite"),
    ],
)
def test_integer_rejections(data: bytes) -> None:
    with pytest.raises(ParseError):
        read_integer(data, field="f", platform="t")


def test_ia5() -> None:
    assert read_ia5(bytes([TAG_IA5STRING, 5]) + b"Genoa", field="f", platform="t") == "Genoa"
    assert read_ia5(b"\x16\x00", field="f", platform="t") == ""
    with pytest.raises(ParseError):
        read_ia5(b"\x16\x02\xc3\xa9", field="f", platform="t")  # UTF-8 "é" is not IA5
    with pytest.raises(ParseError):
        read_ia5(b"\x0c\x05Genoa", field="f", platform="t")  # UTF8String tag
    with pytest.raises(ParseError):
        read_ia5(b"\x16\x05Genoa!", field="f", platform="t")  # trailing
