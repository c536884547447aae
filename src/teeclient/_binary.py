"""Bounds-checked reading of little-endian binary structures; every failure is a ParseError."""

from __future__ import annotations

from teeclient.errors import ParseError

__all__ = ["Reader", "require_zero"]


class Reader:
    """Read fixed-width fields from a byte string at explicit offsets, never past its end."""

    __slots__ = ("data", "platform", "structure")

    def __init__(self, data: bytes, *, platform: str, structure: str) -> None:
        self.data = data
        self.platform = platform
        self.structure = structure

    def _need(self, offset: int, size: int, field: str) -> None:
        if offset < 0 or size < 0 or offset + size > len(self.data):
            raise ParseError(
                f"{self.structure} is too short for {field}",
                platform=self.platform,
                field=field,
                offset=offset,
                expected=f"{offset + size} bytes",
                actual=f"{len(self.data)} bytes",
            )

    def bytes(self, offset: int, size: int, field: str) -> bytes:
        """Return ``size`` bytes at ``offset``."""
        self._need(offset, size, field)
        return self.data[offset : offset + size]

    def u8(self, offset: int, field: str) -> int:
        """Read an unsigned 8-bit integer."""
        self._need(offset, 1, field)
        return self.data[offset]

    def u16(self, offset: int, field: str) -> int:
        """Read an unsigned little-endian 16-bit integer."""
        return int.from_bytes(self.bytes(offset, 2, field), "little")

    def u32(self, offset: int, field: str) -> int:
        """Read an unsigned little-endian 32-bit integer."""
        return int.from_bytes(self.bytes(offset, 4, field), "little")

    def u64(self, offset: int, field: str) -> int:
        """Read an unsigned little-endian 64-bit integer."""
        return int.from_bytes(self.bytes(offset, 8, field), "little")

    def zero(self, offset: int, size: int, field: str) -> None:
        """Require ``size`` bytes at ``offset`` to be zero (a reserved, must-be-zero range)."""
        chunk = self.bytes(offset, size, field)
        require_zero(chunk, offset=offset, field=field, platform=self.platform)


def require_zero(chunk: bytes, *, offset: int, field: str, platform: str) -> None:
    """Raise ParseError naming the first non-zero byte of a must-be-zero range."""
    if chunk.count(0) != len(chunk):
        first = next(i for i, b in enumerate(chunk) if b)
        raise ParseError(
            "reserved range must be zero",
            platform=platform,
            field=field,
            offset=offset + first,
            expected="0x00",
            actual=f"{chunk[first]:#04x}",
        )
