"""Byte flips in every region of real NVIDIA vectors, with the exact error codes."""

from __future__ import annotations

import pytest

from teeclient.collateral.items import CollateralItem, CollateralSet
from teeclient.errors import TeeclientError
from teeclient.platforms.nvidia import rim
from teeclient.platforms.nvidia.verify import verify
from tests._nvidia import E2E, E2E_NONCE, T1, T2, hexfile, vendor

REPORT = hexfile(E2E / "hopperAttestationReport.txt")
CHAIN = (E2E / "hopperCertChain.txt").read_bytes()

# Offsets in the 4117-byte report: request, response header, a block, opaque data, signature.
REGIONS = {
    "request.version": 0,
    "request.nonce": 10,
    "request.slot": 36,
    "response.code": 38,
    "response.block_count": 41,
    "block.1.value": 37 + 8 + 7 + 20,
    "block.40.value": 37 + 8 + 39 * 55 + 30,
    "responder_nonce": 37 + 8 + 3520 + 5,
    "opaque.length": 37 + 8 + 3520 + 32,
    "opaque.vbios": 37 + 8 + 3520 + 34 + 6,
    "opaque.driver": len(REPORT) - 96 - 200,
    "signature.r": len(REPORT) - 90,
    "signature.s": len(REPORT) - 10,
}


@pytest.mark.parametrize(("region", "offset"), sorted(REGIONS.items()))
def test_report_byte_flip_is_a_signature_error(region: str, offset: int) -> None:
    data = bytearray(REPORT)
    data[offset] ^= 0x01
    with pytest.raises(TeeclientError) as info:
        verify(
            bytes(data),
            trust=vendor(),
            now=T1,
            nonce=E2E_NONCE,
            collateral=CollateralSet.of([CollateralItem(data=CHAIN, source="chain")]),
        )
    # The first two bytes are how a bare report is recognised at all.
    want = "evidence.malformed" if region == "request.version" else "nvidia.signature_invalid"
    assert info.value.code == want, region


def test_truncated_and_extended_reports() -> None:
    col = CollateralSet.of([CollateralItem(data=CHAIN, source="chain")])
    for data, code in (
        (REPORT[:100], "evidence.malformed"),
        (REPORT + b"\x00", "nvidia.signature_invalid"),
    ):
        with pytest.raises(TeeclientError) as info:
            verify(data, trust=vendor(), now=T1, collateral=col)
        assert info.value.code == code


def _pem_der_flip(cert_index: int, der_offset: int) -> bytes:
    import base64

    blocks = CHAIN.decode().split("-----END CERTIFICATE-----")
    body = blocks[cert_index].split("-----BEGIN CERTIFICATE-----")[1]
    der = bytearray(base64.b64decode("".join(body.split())))
    der[der_offset] ^= 0x01
    new = base64.encodebytes(bytes(der)).decode()
    blocks[cert_index] = blocks[cert_index].split("-----BEGIN")[0] + (
        "-----BEGIN CERTIFICATE-----\n" + new
    )
    return "-----END CERTIFICATE-----".join(blocks).encode()


@pytest.mark.parametrize(
    ("index", "offset", "codes"),
    [
        (0, 200, {"chain.signature_invalid", "chain.malformed_certificate", "evidence.malformed"}),
        (1, 150, {"chain.signature_invalid", "chain.malformed_certificate", "evidence.malformed"}),
        (2, -20, {"chain.signature_invalid"}),  # the signature value of the ICA
        (3, -20, {"chain.signature_invalid"}),
    ],
)
def test_chain_byte_flip(index: int, offset: int, codes: set[str]) -> None:
    chain = _pem_der_flip(index, offset)
    with pytest.raises(TeeclientError) as info:
        verify(
            REPORT,
            trust=vendor(),
            now=T1,
            nonce=E2E_NONCE,
            collateral=CollateralSet.of([CollateralItem(data=chain, source="chain")]),
        )
    assert info.value.code in codes


def test_supplied_root_flip_is_ignored() -> None:
    chain = _pem_der_flip(4, 300)  # the device's copy of the root is replaced by the pin
    claims = verify(
        REPORT,
        trust=vendor(),
        now=T1,
        nonce=E2E_NONCE,
        collateral=CollateralSet.of([CollateralItem(data=chain, source="chain")]),
    )
    assert claims.gpus[0].fwid_match is True


RIM = (E2E / "NV_GPU_DRIVER_GH100_550.90.07.xml").read_bytes()


def _flip_text(data: bytes, needle: bytes, replacement: bytes) -> bytes:
    assert needle in data
    return data.replace(needle, replacement, 1)


@pytest.mark.parametrize(
    ("name", "mutate", "code"),
    [
        (
            "golden value",
            lambda d: _flip_text(d, b'Hash0="80161aac', b'Hash0="80161aad'),
            "nvidia.rim_digest_mismatch",
        ),
        (
            "colloquialVersion",
            lambda d: _flip_text(
                d, b'colloquialVersion="550.90.07"', b'colloquialVersion="550.90.08"'
            ),
            "nvidia.rim_digest_mismatch",
        ),
        (
            "active flag",
            lambda d: _flip_text(d, b'index="0" active="False"', b'index="0" active="True"'),
            "nvidia.rim_digest_mismatch",
        ),
        (
            "signature value",
            lambda d: _flip_text(d, b"<ds:SignatureValue>uA3a", b"<ds:SignatureValue>uA3b"),
            "nvidia.rim_signature_invalid",
        ),
        (
            "digest value",
            lambda d: _flip_text(d, b"<ds:DigestValue>gMJp", b"<ds:DigestValue>gMJq"),
            "nvidia.rim_signature_invalid",
        ),
        (
            "signature method",
            lambda d: _flip_text(d, b"xmldsig-more#ecdsa-sha384", b"xmldsig-more#ecdsa-sha256"),
            "nvidia.rim_unsupported_signature",
        ),
        (
            "c14n method",
            lambda d: _flip_text(
                d,
                b'CanonicalizationMethod Algorithm="http://www.w3.org/2006/12/xml-c14n11"',
                b'CanonicalizationMethod Algorithm="http://www.w3.org/'
                b'TR/2001/REC-xml-c14n-20010315"',
            ),
            "nvidia.rim_unsupported_signature",
        ),
        (
            "reference uri",
            lambda d: _flip_text(d, b'<ds:Reference URI="">', b'<ds:Reference URI="#x">'),
            "nvidia.rim_unsupported_signature",
        ),
        ("doctype", lambda d: b'<!DOCTYPE x [<!ENTITY e "x">]>' + d, "nvidia.rim_malformed"),
        ("truncated", lambda d: d[: len(d) // 2], "nvidia.rim_malformed"),
    ],
)
def test_rim_mutations(name: str, mutate: object, code: str) -> None:
    data = mutate(RIM)  # type: ignore[operator]
    with pytest.raises(TeeclientError) as info:
        rim.verify_rim(data, trust=vendor(), now=T2, source=name)
    assert info.value.code == code, name
