"""Minimal strict DER decoding of single primitive values (for vendor X.509 extensions)."""

from __future__ import annotations

from teeclient.errors import ParseError

__all__ = ["TAG_IA5STRING", "TAG_INTEGER", "TAG_OCTET_STRING", "read_single", "read_tlv"]

TAG_INTEGER = 0x02
TAG_OCTET_STRING = 0x04
TAG_UTF8STRING = 0x0C
TAG_PRINTABLESTRING = 0x13
TAG_IA5STRING = 0x16

_MAX_LENGTH = 1 << 20


def read_tlv(data: bytes, offset: int, *, field: str, platform: str) -> tuple[int, bytes, int]:
    """Read one DER TLV at ``offset``: return (tag, value, offset after it).

    Only low-tag-number forms and definite lengths are accepted; lengths must be minimal.

    Raises:
        ParseError: truncated, indefinite or non-minimal length, or a high tag number.
    """

    def fail(why: str) -> ParseError:
        return ParseError(f"invalid DER: {why}", platform=platform, field=field, offset=offset)

    if offset + 2 > len(data):
        raise fail("truncated header")
    tag = data[offset]
    if tag & 0x1F == 0x1F:
        raise fail("high tag numbers are not supported")
    first = data[offset + 1]
    pos = offset + 2
    if first < 0x80:
        length = first
    elif first == 0x80:
        raise fail("indefinite length")
    else:
        count = first & 0x7F
        if count > 4 or pos + count > len(data):
            raise fail("length field too long or truncated")
        raw = data[pos : pos + count]
        if raw[0] == 0:
            raise fail("non-minimal length")
        length = int.from_bytes(raw, "big")
        if length < 0x80:
            raise fail("non-minimal length")
        pos += count
    if length > _MAX_LENGTH or pos + length > len(data):
        raise fail("value runs past the end")
    return tag, data[pos : pos + length], pos + length


def read_single(data: bytes, expected_tag: int, *, field: str, platform: str) -> bytes:
    """Decode ``data`` as exactly one TLV with ``expected_tag`` and return its value.

    Raises:
        ParseError: wrong tag, trailing bytes, or invalid DER.
    """
    tag, value, end = read_tlv(data, 0, field=field, platform=platform)
    if tag != expected_tag:
        raise ParseError(
            "unexpected DER type",
            platform=platform,
            field=field,
            expected=f"tag {expected_tag:#04x}",
            actual=f"tag {tag:#04x}",
        )
    if end != len(data):
        raise ParseError(
            "trailing bytes after DER value", platform=platform, field=field, offset=end
        )
    return value


def read_integer(data: bytes, *, field: str, platform: str) -> int:
    """Decode a DER INTEGER that must be non-negative and minimally encoded.

    Raises:
        ParseError: not an INTEGER, negative, or not minimal.
    """
    value = read_single(data, TAG_INTEGER, field=field, platform=platform)
    if not value:
        raise ParseError("empty INTEGER", platform=platform, field=field)
    if value[0] & 0x80:
        raise ParseError("negative INTEGER", platform=platform, field=field)
    if len(value) > 1 and value[0] == 0 and not value[1] & 0x80:
        raise ParseError("non-minimal INTEGER", platform=platform, field=field)
    return int.from_bytes(value, "big")


def read_ia5(data: bytes, *, field: str, platform: str) -> str:
    """Decode a DER IA5String (ASCII).

    Raises:
        ParseError: not an IA5String or not ASCII.
    """
    value = read_single(data, TAG_IA5STRING, field=field, platform=platform)
    try:
        return value.decode("ascii")
    except UnicodeDecodeError as exc:
        raise ParseError("IA5String is not ASCII", platform=platform, field=field) from exc
