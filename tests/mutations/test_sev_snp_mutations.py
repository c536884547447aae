"""Byte flips on the real SEV-SNP vectors: every change is rejected with the exact error class.

Signed region and signature (report[0:0x330]) → snp.signature_invalid: every offset for one
report per product (Genoa v5, Turin v5, Milan v2), every 5th offset for the others, plus an
0xff flip on a sample. Reserved signature tail (report[0x330:0x4A0]) → evidence.malformed.
VEK certificates: every byte of the DER → a chain or signature error, never anything else.
"""

from __future__ import annotations

from collections import Counter

import pytest

from teeclient.collateral.items import CollateralItem, CollateralSet
from teeclient.errors import (
    ChainError,
    ParseError,
    SignatureError,
    SnpSignatureError,
    TeeclientError,
)
from teeclient.platforms.sev_snp.verify import verify
from teeclient.trust import TrustStore
from tests._snp import Vector, vector_names

FULL = ["genoa-v5-oak", "turin-v5-oak", "milan-v2-virtee"]
SAMPLED = [n for n in vector_names() if n not in FULL]
VEKS = {
    "genoa-vcek": "genoa-v5-oak",
    "turin-vcek": "turin-v5-oak",
    "milan-vcek": "milan-v2-virtee",
    "milan-vlek": "milan-v3-vlek-aws",
}

# Mutated names can carry a country attribute of the wrong length; cryptography warns.
pytestmark = pytest.mark.filterwarnings("ignore:Attribute's length:UserWarning")


@pytest.fixture(scope="module")
def store() -> TrustStore:
    return TrustStore.vendor()


def _outcome(data: bytes, vector: Vector, store: TrustStore, collateral: CollateralSet) -> str:
    try:
        verify(data, trust=store, now=vector.now, collateral=collateral, product=vector.v2_product)
    except TeeclientError as exc:
        return f"{type(exc).__name__}:{exc.code}"
    return "ACCEPTED"


def _sweep_signed(name: str, store: TrustStore, offsets: range, mask: int) -> list[str]:
    vector = Vector(name)
    report = vector.report
    collateral = vector.collateral()
    # sanity: the unmodified report verifies with this store and collateral
    verify(report, trust=store, now=vector.now, collateral=collateral, product=vector.v2_product)
    wrong = []
    for offset in offsets:
        data = bytearray(report)
        data[offset] ^= mask
        got = _outcome(bytes(data), vector, store, collateral)
        if got != f"{SnpSignatureError.__name__}:snp.signature_invalid":
            wrong.append(f"{offset:#x}: {got}")
    return wrong


@pytest.mark.parametrize("name", FULL)
def test_every_signed_byte_flip_breaks_the_signature(name: str, store: TrustStore) -> None:
    assert _sweep_signed(name, store, range(0x330), 0x01) == []


@pytest.mark.parametrize("name", FULL + SAMPLED)
def test_sampled_0xff_flips_break_the_signature(name: str, store: TrustStore) -> None:
    assert _sweep_signed(name, store, range(3, 0x330, 17), 0xFF) == []


@pytest.mark.parametrize("name", SAMPLED)
def test_sampled_signed_byte_flips_break_the_signature(name: str, store: TrustStore) -> None:
    assert _sweep_signed(name, store, range(0, 0x330, 5), 0x01) == []


@pytest.mark.parametrize("name", ["milan-v3-vlek-aws", "genoa-v5-oak"])
def test_reserved_signature_tail_is_malformed(name: str, store: TrustStore) -> None:
    vector = Vector(name)
    collateral = vector.collateral()
    wrong = []
    # every offset for one report; every 7th for the second
    step = 1 if name == "milan-v3-vlek-aws" else 7
    for offset in range(0x330, 0x4A0, step):
        data = bytearray(vector.report)
        data[offset] ^= 0x01
        try:
            verify(
                bytes(data),
                trust=store,
                now=vector.now,
                collateral=collateral,
                product=vector.v2_product,
            )
        except ParseError as exc:
            if exc.code != "evidence.malformed" or exc.offset != offset:
                wrong.append(f"{offset:#x}: {exc.code} at {exc.offset}")
        except TeeclientError as exc:
            wrong.append(f"{offset:#x}: {exc.code}")
        else:
            wrong.append(f"{offset:#x}: ACCEPTED")
    assert wrong == []


# Distribution of codes over every single-byte xor-0x01 flip of each VEK's DER (cryptography
# 50.0.2; recorded when this test was written, not asserted — only the classes are):
#   genoa-vcek (1347 bytes): chain.signature_invalid 996, chain.malformed_certificate 275,
#                            chain.untrusted 76
#   turin-vcek (1289 bytes): chain.signature_invalid 939, chain.malformed_certificate 274,
#                            chain.untrusted 76
#   milan-vcek (1360 bytes): chain.signature_invalid 998, chain.malformed_certificate 286,
#                            chain.untrusted 76
#   milan-vlek (1319 bytes): chain.signature_invalid 960, chain.malformed_certificate 278,
#                            chain.untrusted 81
# chain.untrusted: the flip lands in the issuer name, which then names no pinned ASK/ASVK.
# chain.malformed_certificate: the DER no longer parses (tags, lengths, version, names).
# Everything else changes signed or signature bytes. Before fixes 0a5183d and fb6c43d, 16
# flips escaped as cryptography exceptions and one (the unused-bits octet of the signature
# BIT STRING) was accepted.
@pytest.mark.parametrize("label", list(VEKS))
def test_every_vek_byte_flip_is_a_chain_or_signature_error(label: str, store: TrustStore) -> None:
    vector = Vector(VEKS[label])
    vek = vector.vek_bytes
    report = vector.report
    codes: Counter[str] = Counter()
    wrong = []
    for offset in range(len(vek)):
        data = bytearray(vek)
        data[offset] ^= 0x01
        collateral = CollateralSet.of([CollateralItem(data=bytes(data), source="mutated")])
        try:
            verify(
                report,
                trust=store,
                now=vector.now,
                collateral=collateral,
                product=vector.v2_product,
            )
        except (ChainError, SignatureError) as exc:
            codes[exc.code] += 1
        except TeeclientError as exc:
            wrong.append(f"{offset}: {type(exc).__name__} {exc.code}")
        else:
            wrong.append(f"{offset}: ACCEPTED")
    assert wrong == [], (wrong[:20], dict(codes))
    assert sum(codes.values()) == len(vek)
    assert codes["chain.signature_invalid"] > len(vek) // 2


# --- regressions found by the sweep above -----------------------------------------------------


def _flip_vek(store: TrustStore, offset: int) -> TeeclientError:
    vector = Vector("genoa-v5-oak")
    data = bytearray(vector.vek_bytes)
    data[offset] ^= 0x01
    collateral = CollateralSet.of([CollateralItem(data=bytes(data), source="mutated")])
    with pytest.raises(TeeclientError) as info:
        verify(vector.report, trust=store, now=vector.now, collateral=collateral)
    return info.value


def test_signature_bit_string_unused_bits_is_rejected(store: TrustStore) -> None:
    # genoa-v5-oak/vcek.der: the signatureValue BIT STRING starts at 830 (03 82 02 01), so
    # 834 is its unused-bits octet; cryptography ignores it (fixed in fb6c43d)
    der = Vector("genoa-v5-oak").vek_bytes
    assert der[830:835] == bytes.fromhex("0382020100")
    err = _flip_vek(store, 834)
    assert err.code == "chain.signature_invalid"


@pytest.mark.parametrize(
    "offset",
    [
        pytest.param(12, id="version-3"),  # x509.InvalidVersion, not a ValueError
        pytest.param(90, id="issuer-attribute-tag"),  # lazily decoded name → ValueError
    ],
)
def test_unparseable_vek_is_malformed_certificate(store: TrustStore, offset: int) -> None:
    # fixed in 0a5183d: these escaped as cryptography exceptions
    assert _flip_vek(store, offset).code == "chain.malformed_certificate"
