"""The bounds-checked little-endian reader: never reads past the end, names what failed."""

from __future__ import annotations

import pytest

from teeclient._binary import Reader, require_zero
from teeclient.errors import ParseError

DATA = bytes(range(1, 17))  # 01 02 … 10


def reader(data: bytes = DATA) -> Reader:
    return Reader(data, platform="test", structure="thing")


def test_integers_are_little_endian() -> None:
    r = reader()
    assert r.u8(0, "a") == 0x01
    assert r.u16(0, "a") == 0x0201
    assert r.u32(4, "a") == 0x08070605
    assert r.u64(8, "a") == int.from_bytes(bytes(range(9, 17)), "little")
    assert r.bytes(14, 2, "a") == b"\x0f\x10"
    assert r.bytes(16, 0, "a") == b""


@pytest.mark.parametrize(
    ("method", "offset", "needed"),
    [("u8", 16, 1), ("u16", 15, 2), ("u32", 13, 4), ("u64", 9, 8), ("u64", 100, 8)],
)
def test_reads_past_the_end_are_parse_errors(method: str, offset: int, needed: int) -> None:
    with pytest.raises(ParseError) as info:
        getattr(reader(), method)(offset, "FIELD")
    err = info.value
    assert err.code == "evidence.malformed"
    assert err.field == "FIELD"
    assert err.platform == "test"
    assert err.offset == offset
    assert err.expected == f"{offset + needed} bytes"
    assert err.actual == "16 bytes"


@pytest.mark.parametrize(("offset", "size"), [(-1, 1), (0, -1), (0, 17), (16, 1), (8, 9)])
def test_bytes_out_of_bounds(offset: int, size: int) -> None:
    with pytest.raises(ParseError) as info:
        reader().bytes(offset, size, "F")
    assert info.value.field == "F"


def test_empty_buffer() -> None:
    with pytest.raises(ParseError):
        reader(b"").u8(0, "x")


@pytest.mark.parametrize("position", [0, 1, 5, 15])
def test_zero_reports_first_nonzero_offset(position: int) -> None:
    data = bytearray(32)
    data[8 + position] = 0x5A
    data[8 + 15] |= 0x01  # a later non-zero byte must not be the one reported (unless first)
    with pytest.raises(ParseError) as info:
        reader(bytes(data)).zero(8, 16, "reserved")
    err = info.value
    assert err.offset == 8 + position
    assert err.field == "reserved"
    assert err.actual == f"{data[8 + position]:#04x}"
    assert err.expected == "0x00"


def test_zero_accepts_zero_and_checks_bounds() -> None:
    r = reader(bytes(8))
    r.zero(0, 8, "ok")
    with pytest.raises(ParseError):
        r.zero(4, 8, "too long")


def test_require_zero_offsets_are_absolute() -> None:
    require_zero(bytes(4), offset=0x100, field="f", platform="p")
    with pytest.raises(ParseError) as info:
        require_zero(b"\x00\x00\x00\x80", offset=0x100, field="f", platform="p")
    assert info.value.offset == 0x103
    assert info.value.platform == "p"
