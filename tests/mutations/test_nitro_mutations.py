"""Byte flips on the real Nitro documents: protected header, payload fields, certificates,
CBOR structure and signature, each with the exact code (or the exact set of codes) expected.

Only the envelope, ``certificate`` and ``cabundle`` are read before the chain and the COSE
signature verify, so a flipped bit in any other payload field is a signature failure; a bit
in the pinned root is an untrusted chain; a bit in the signature is a signature failure.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest

from teeclient.errors import EvidenceError, TeeclientError
from teeclient.platforms.nitro import abi
from teeclient.platforms.nitro.verify import verify
from tests.nitro_support import names, suggested_now, valid_names, vector, vendor

SIGNATURE = "nitro.signature_invalid"
MALFORMED = "evidence.malformed"
UNSUPPORTED_ALG = "nitro.unsupported_algorithm"
# A flipped bit inside a certificate: its issuer's signature fails, the DER no longer
# parses, or the issuer name no longer matches.
CERT_CODES = {"chain.signature_invalid", MALFORMED, "chain.untrusted"}


def _code(name: str, data: bytes) -> str:
    with pytest.raises(TeeclientError) as info:
        verify(data, trust=vendor(), now=suggested_now(name))
    assert isinstance(info.value, EvidenceError)
    return info.value.code


def _flip(data: bytes, offset: int, mask: int = 0x01) -> bytes:
    out = bytearray(data)
    out[offset] ^= mask
    return bytes(out)


def _positions(start: int, length: int, count: int = 6) -> list[int]:
    """First, last and evenly spread offsets of a region."""
    if length <= count:
        return list(range(start, start + length))
    step = (length - 1) / (count - 1)
    return sorted({start + round(i * step) for i in range(count)})


def _regions(name: str) -> Iterator[tuple[str, int, int]]:
    """(label, offset, length) of each authenticated value inside the document."""
    data = vector(name)
    doc = abi.parse_document(data)
    payload_at = data.index(doc.cose.payload)
    payload = doc.cose.payload
    att = doc.attestation

    def where(
        value: bytes, label: str, after: int = 0, prefix: bytes = b""
    ) -> tuple[str, int, int]:
        at = payload.index(prefix + value, after) + len(prefix)
        return label, payload_at + at, len(value)

    yield where(att.module_id.encode(), "module_id")
    yield where(att.digest.encode(), "digest")
    yield where(att.timestamp_ms.to_bytes(8, "big"), "timestamp")
    pcrs_at = payload.index(b"pcrs")
    for index, value in att.pcrs:
        yield where(value, f"pcr{index}", pcrs_at, prefix=bytes([index]) + b"\x58\x30")
    for key in ("public_key", "user_data", "nonce"):
        value = getattr(att, key)
        if value:
            yield where(value, key, payload.index(key.encode()))
    yield where(b"module_id", "key module_id")
    yield where(b"timestamp", "key timestamp")
    yield where(b"pcrs", "key pcrs")


@pytest.mark.parametrize("name", names())
def test_signature_flips(name: str) -> None:
    data = vector(name)
    start = len(data) - abi.SIGNATURE_BYTES
    for offset in _positions(start, abi.SIGNATURE_BYTES, 12):
        for mask in (0x01, 0x80):
            assert _code(name, _flip(data, offset, mask)) == SIGNATURE, offset


@pytest.mark.parametrize("name", names())
def test_protected_header_flips(name: str) -> None:
    data = vector(name)
    assert data[2:6] == bytes.fromhex("a1013822")
    for offset in range(2, 6):
        for bit in range(8):
            mask = 1 << bit
            # a1 01 38 22: flipping the negative-int major type of 0x38 into 0x18 (uint 34)
            # or any bit of the value 0x22 still decodes to {1: alg} with another alg.
            want = UNSUPPORTED_ALG if offset == 5 or (offset == 4 and mask == 0x20) else MALFORMED
            assert _code(name, _flip(data, offset, mask)) == want, (offset, mask)


@pytest.mark.parametrize("name", valid_names())
def test_payload_value_flips_are_signature_failures(name: str) -> None:
    data = vector(name)
    for label, start, length in _regions(name):
        for offset in _positions(start, length):
            for mask in (0x01, 0x40):
                assert _code(name, _flip(data, offset, mask)) == SIGNATURE, (label, offset, mask)


@pytest.mark.parametrize("name", names())
def test_root_flips_are_untrusted(name: str) -> None:
    data = vector(name)
    root = abi.parse_document(data).attestation.cabundle[0]
    start = data.index(root)
    for offset in _positions(start, len(root), 10):
        assert _code(name, _flip(data, offset)) == "chain.untrusted"


@pytest.mark.parametrize("name", names())
def test_intermediate_and_leaf_flips_are_chain_failures(name: str) -> None:
    data = vector(name)
    att = abi.parse_document(data).attestation
    for cert in (*att.cabundle[1:], att.certificate):
        start = data.index(cert)
        codes = {_code(name, _flip(data, offset)) for offset in _positions(start, len(cert), 10)}
        assert codes <= CERT_CODES, codes
    # a bit in a certificate's signature value is exactly a chain signature failure
    for cert in (*att.cabundle[1:], att.certificate):
        offset = data.index(cert) + len(cert) - 3
        assert _code(name, _flip(data, offset)) == "chain.signature_invalid"


@pytest.mark.parametrize("name", names())
def test_envelope_structure_flips(name: str) -> None:
    data = vector(name)
    assert data[0] == 0x84
    assert data[6] == 0xA0
    for offset in (0, 1, 6, 7, 8, 9, len(data) - 97, len(data) - 98):
        for mask in (0x01, 0x02, 0x20):
            assert _code(name, _flip(data, offset, mask)) == MALFORMED, (offset, mask)


@pytest.mark.parametrize("name", names())
def test_truncation_and_extension(name: str) -> None:
    data = vector(name)
    for cut in (1, 2, 96, 97, len(data) // 2, len(data) - 1):
        assert _code(name, data[:cut]) == MALFORMED
    assert _code(name, data + b"\x00") == MALFORMED
    assert _code(name, b"\xd2" + data + b"\x00") == MALFORMED


@pytest.mark.parametrize("name", valid_names())
def test_random_flips_never_verify(name: str) -> None:
    """A deterministic sample of single-bit flips across the whole document."""
    data = vector(name)
    rng = random.Random(name)
    for _ in range(60):
        offset = rng.randrange(len(data))
        _code(name, _flip(data, offset, 1 << rng.randrange(8)))


@pytest.mark.slow
def test_every_byte_of_one_document() -> None:
    """Exhaustive: flipping the low bit of any byte of a real document is rejected."""
    name = "evervault-2022-10-12-debug.cbor"
    data = vector(name)
    for offset in range(0, len(data), 2):
        _code(name, _flip(data, offset))
