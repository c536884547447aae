"""Bounds-checked big-endian and QUIC varint reading for the byte protocols."""

from __future__ import annotations

from teeclient.errors import MalformedMessageError

__all__ = ["MAX_VARINT", "Cursor", "encode_varint", "peek_varint"]

MAX_VARINT = (1 << 62) - 1


def encode_varint(value: int) -> bytes:
    """The shortest QUIC variable-length integer encoding (RFC 9000 §16)."""
    if value < 0 or value > MAX_VARINT:
        raise ValueError(f"varint out of range: {value}")
    if value < 0x40:
        return bytes([value])
    if value < 0x4000:
        return (value | 0x4000).to_bytes(2, "big")
    if value < 0x4000_0000:
        return (value | 0x8000_0000).to_bytes(4, "big")
    return (value | 0xC000_0000_0000_0000).to_bytes(8, "big")


def peek_varint(data: bytes | bytearray | memoryview, pos: int) -> tuple[int, int] | None:
    """Decode a varint at ``pos``: ``(value, next_pos)``, or None when ``data`` ends first.

    Non-minimal encodings decode normally (RFC 9000 §16: 0x4025 is 37).
    """
    if pos >= len(data):
        return None
    first = data[pos]
    size = 1 << (first >> 6)
    if pos + size > len(data):
        return None
    value = first & 0x3F
    for index in range(pos + 1, pos + size):
        value = (value << 8) | data[index]
    return value, pos + size


class Cursor:
    """Read fields from a byte string in order, never past its end."""

    __slots__ = ("data", "pos", "what")

    def __init__(self, data: bytes, what: str, pos: int = 0) -> None:
        self.data = data
        self.pos = pos
        self.what = what

    @property
    def remaining(self) -> int:
        """Bytes left after the current position."""
        return len(self.data) - self.pos

    def _short(self, field: str, size: int) -> MalformedMessageError:
        return MalformedMessageError(
            f"{self.what} is truncated",
            field=field,
            offset=self.pos,
            expected=f"{size} more bytes",
            actual=f"{self.remaining} bytes",
        )

    def take(self, size: int, field: str) -> bytes:
        """The next ``size`` bytes."""
        if size > self.remaining:
            raise self._short(field, size)
        start = self.pos
        self.pos += size
        return self.data[start : self.pos]

    def uint(self, size: int, field: str) -> int:
        """A big-endian unsigned integer of ``size`` bytes."""
        return int.from_bytes(self.take(size, field), "big")

    def varint(self, field: str) -> int:
        """A QUIC variable-length integer."""
        decoded = peek_varint(self.data, self.pos)
        if decoded is None:
            raise self._short(field, 1)
        value, self.pos = decoded
        return value
