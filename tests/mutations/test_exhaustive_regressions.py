"""Regressions found by the exhaustive sweep (tools/exhaustive.py): exact codes."""

from __future__ import annotations

import pytest

from teeclient.collateral.items import CollateralItem, CollateralSet, ItemKind, classify
from teeclient.errors import TeeclientError
from teeclient.platforms.tdx.verify import verify
from tests.tdx_support import TDX, collateral_paths, quote, suggested_now, vendor_trust

V5 = "v5-tdx15-90c06f-gtg"
ROOT_CRL = TDX / "collateral-2026-01-tinfoil" / "root_ca_crl.der"


def _crl_with_version(value: int) -> bytes:
    """The real Intel root CA CRL with its version INTEGER set to ``value`` (offset 9)."""
    data = bytearray(ROOT_CRL.read_bytes())
    assert data[7:10] == b"\x02\x01\x01"  # tbsCertList.version = v2 (1)
    data[9] = value
    return bytes(data)


@pytest.mark.parametrize("version", [0, 0xFE])
def test_crl_with_an_invalid_version_is_typed(version: int) -> None:
    """cryptography raises x509.InvalidVersion (not a ValueError) for these; classify() and
    the TDX verifier let it escape before the fix."""
    data = _crl_with_version(version)
    assert classify(data) is ItemKind.UNKNOWN
    items = [
        CollateralItem(data=data if p == ROOT_CRL.resolve() else p.read_bytes(), source=str(p))
        for p in collateral_paths(V5)
    ]
    with pytest.raises(TeeclientError) as info:
        verify(
            quote(V5),
            trust=vendor_trust(),
            now=suggested_now(V5),
            collateral=CollateralSet.of(items),
        )
    assert info.value.code == "tdx.collateral_malformed"


@pytest.mark.parametrize(
    ("folder", "quote_name"),
    [("collateral-2023-06-gtg", "v4-spr-50806f-gtg"), ("collateral-2026-01-tinfoil", V5)],
)
def test_crl_signature_bit_string_unused_bits_is_rejected(folder: str, quote_name: str) -> None:
    """The PCK CRL's signatureValue BIT STRING unused-bits octet (03 LL 00): cryptography
    ignores it, so a CRL whose bytes differ from the signed ones verified."""
    path = (TDX / folder / "pck_crl_platform.der").resolve()
    data = bytearray(path.read_bytes())
    from cryptography import x509

    signature = x509.load_der_x509_crl(bytes(data)).signature
    at = len(data) - len(signature) - 1
    assert data[at - 2] == 0x03
    assert data[at] == 0
    data[at] ^= 0x01
    items = [
        CollateralItem(data=bytes(data) if p == path else p.read_bytes(), source=str(p))
        for p in collateral_paths(quote_name)
    ]
    with pytest.raises(TeeclientError) as info:
        verify(
            quote(quote_name),
            trust=vendor_trust(),
            now=suggested_now(quote_name),
            collateral=CollateralSet.of(items),
        )
    assert info.value.code == "collateral.signature_invalid"
