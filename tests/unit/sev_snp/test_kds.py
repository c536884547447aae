"""AMD KDS rules: VEK extensions (specs/sev-snp.md §5.3) and KDS URLs (§7)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography import x509

from teeclient._x509 import load_certificates
from teeclient.errors import ParseError
from teeclient.platforms.sev_snp.abi import Product, SigningKey, decode_tcb
from teeclient.platforms.sev_snp.kds import (
    KDS_BASE_URL,
    cert_chain_url,
    crl_url,
    parse_vek_extensions,
    vcek_url,
)
from teeclient.testing.pki.amd import CertOverrides, der_ia5, der_integer
from tests._pki import amd_pki
from tests._snp import AMD_ARC, SNP, Vector, vector_names

# OID suffix → attribute, from the table in specs/sev-snp.md §5.3.
SPL_OIDS = {
    "3.1": "bl",
    "3.2": "tee",
    "3.3": "snp",
    "3.4": "spl4",
    "3.5": "spl5",
    "3.6": "spl6",
    "3.7": "spl7",
    "3.8": "ucode",
    "3.9": "fmc",
}


def vek_of(vector: Vector) -> x509.Certificate:
    # the first certificate of the file is the VEK (vcek_ask_ark.pem holds VCEK, ASK, ARK)
    return load_certificates(vector.vek_bytes, role="vek", platform="test")[0]


def expected_extensions(amd: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "struct_version": None,
        "product_name": None,
        "spl": {},
        "hwid": None,
        "csp_id": None,
    }
    for oid, value in amd.items():
        suffix = oid.removeprefix(AMD_ARC + ".")
        if suffix == "1":
            out["struct_version"] = value
        elif suffix == "2":
            out["product_name"] = value
        elif suffix == "4":
            out["hwid"] = value
        elif suffix == "5":
            out["csp_id"] = value
        else:
            out["spl"][SPL_OIDS[suffix]] = value
    return out


@pytest.mark.parametrize("name", vector_names())
def test_real_vek_extensions(name: str) -> None:
    vector = Vector(name)
    ext = parse_vek_extensions(vek_of(vector))
    want = expected_extensions(vector.exp["vek_cert"]["amd_extensions"])
    assert ext.to_dict() == want
    assert ext.struct_version == want["struct_version"]
    assert ext.product_line == vector.product.capitalize()
    # REPORTED_TCB equals the certificate's SPLs (expected boolean of every vector)
    assert vector.exp["expected"]["reported_tcb_equals_vek_tcb_extensions"] is True
    reported = decode_tcb(bytes.fromhex(vector.fields["reported_tcb"]), Product(vector.product))
    assert {k: ext.spl[k] for k in reported.parts()} == reported.parts()


def test_stepping_is_split_off() -> None:
    ext = parse_vek_extensions(vek_of(Vector("milan-v2-gsg-debug")))
    assert ext.product_name == "Milan-B0"
    assert (ext.product_line, ext.stepping) == ("Milan", "B0")
    genoa = parse_vek_extensions(vek_of(Vector("genoa-v5-oak")))
    assert (genoa.product_line, genoa.stepping) == ("Genoa", None)


def test_vlek_has_csp_id_and_no_hwid() -> None:
    ext = parse_vek_extensions(vek_of(Vector("milan-v3-vlek-aws")))
    assert ext.csp_id == "CN=cc-us-east-2.amazonaws.com"
    assert ext.hwid is None
    assert ext.spl["ucode"] == 217  # encoded 02 02 00 d9 (§5.3)


def test_turin_vcek_only_virtee() -> None:
    data = (SNP / "turin-vcek-only-virtee" / "vcek.der").read_bytes()
    cert = load_certificates(data, role="vek", platform="test")[0]
    ext = parse_vek_extensions(cert)
    assert ext.hwid == bytes.fromhex("1e550a8ee5cf9f4d")
    assert ext.struct_version == 1
    assert ext.product_name == "Turin"
    assert "spl4" not in ext.spl
    assert ext.spl["fmc"] == 0
    assert {k: ext.spl[k] for k in ("fmc", "bl", "tee", "snp", "ucode")} == {
        "fmc": 0,
        "bl": 0,
        "tee": 0,
        "snp": 0,
        "ucode": 9,
    }


@pytest.mark.parametrize("name", ["vcek-invalid-legacy.der", "vcek-invalid-new.der"])
def test_synthetic_vceks_raw_and_octet_string_hwid(name: str) -> None:
    data = (SNP / "synthetic-bad-vceks-trustee" / name).read_bytes()
    cert = load_certificates(data, role="vek", platform="test")[0]
    ext = parse_vek_extensions(cert)
    assert ext.hwid == bytes(range(64))


def _cert_with(amd: dict[str, bytes | None]) -> x509.Certificate:
    """A Genoa VCEK from the generated PKI with some AMD extension values replaced."""
    return (
        amd_pki("genoa")
        .issue_vcek(
            chip_id=bytes(64), tcb={"ucode": 1}, overrides=CertOverrides(amd_extensions=amd)
        )
        .cert
    )


@pytest.mark.parametrize(
    ("suffix", "value"),
    [
        pytest.param("1", der_ia5("0"), id="structVersion-not-integer"),
        pytest.param("1", b"\x02\x01\xff", id="structVersion-negative"),
        pytest.param("2", der_integer(5), id="productName-not-ia5"),
        pytest.param("2", b"\x16\x02\xc3\xa9", id="productName-not-ascii"),
        pytest.param("3.8", der_integer(256), id="ucode-over-255"),
        pytest.param("3.1", b"\x02\x02\x00\x05", id="bl-non-minimal"),
        pytest.param("3.2", der_integer(1) + b"\x00", id="tee-trailing"),
        pytest.param("4", bytes(63), id="hwid-wrong-length"),
        pytest.param("4", b"\x04\x07" + bytes(7), id="hwid-octet-string-wrong-length"),
        pytest.param("5", der_integer(1), id="cspid-not-ia5"),
    ],
)
def test_malformed_extension_values(suffix: str, value: bytes) -> None:
    with pytest.raises(ParseError) as info:
        parse_vek_extensions(_cert_with({suffix: value}))
    assert info.value.code == "evidence.malformed"


def test_hwid_octet_string_eight_bytes_accepted() -> None:
    cert = _cert_with({"4": b"\x04\x08" + bytes(range(8))})
    assert parse_vek_extensions(cert).hwid == bytes(range(8))


def test_duplicate_amd_extension_rejected() -> None:
    # cryptography's builder refuses duplicates, so rename spl7 (.3.7) to ucodeSPL (.3.8) in
    # the DER: the extension OIDs differ only in their last byte.
    der = amd_pki("genoa").issue_vcek(chip_id=bytes(64), tcb={"ucode": 1}).der
    encoded = bytes.fromhex("060a2b060104019c78010307")  # OID 1.3.6.1.4.1.3704.1.3.7
    assert der.count(encoded) == 1
    cert = load_certificates(der.replace(encoded, encoded[:-1] + b"\x08"), role="v", platform="t")[
        0
    ]
    with pytest.raises(ParseError) as info:
        parse_vek_extensions(cert)
    assert info.value.field == "vek.extensions"


# --- KDS URLs (§7) -------------------------------------------------------------------------


def _split(url: str) -> tuple[str, dict[str, list[str]]]:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}", parse_qs(
        parts.query, strict_parsing=True
    )


def test_turin_vcek_url() -> None:
    vector = Vector("turin-v5-oak")
    chip = bytes.fromhex(vector.fields["chip_id"])
    tcb = decode_tcb(bytes.fromhex(vector.fields["reported_tcb"]), Product.TURIN)
    got = _split(vcek_url(Product.TURIN, chip, tcb))
    # the URL oak's textproto says the VCEK was downloaded from (PROVENANCE.md, spec §7)
    want = _split(
        "https://kdsintf.amd.com/vcek/v1/Turin/3b42092f69c656d3"
        "?ucodeSPL=71&snpSPL=2&teeSPL=0&blSPL=1&fmcSPL=0"
    )
    assert got == want


def test_milan_vcek_url_uses_full_chip_id() -> None:
    vector = Vector("milan-v2-virtee")
    chip = bytes.fromhex(vector.fields["chip_id"])
    tcb = decode_tcb(bytes.fromhex(vector.fields["reported_tcb"]), Product.MILAN)
    base, query = _split(vcek_url(Product.MILAN, chip, tcb))
    hwid = base.rsplit("/", 1)[1]
    assert len(hwid) == 128
    assert hwid == vector.fields["chip_id"]
    assert base == f"https://kdsintf.amd.com/vcek/v1/Milan/{hwid}"
    assert query == {"blSPL": ["3"], "teeSPL": ["0"], "snpSPL": ["8"], "ucodeSPL": ["115"]}


def test_genoa_vcek_url_and_custom_base() -> None:
    vector = Vector("genoa-v5-oak")
    chip = bytes.fromhex(vector.fields["chip_id"])
    tcb = decode_tcb(bytes.fromhex(vector.fields["reported_tcb"]), Product.GENOA)
    base, query = _split(vcek_url(Product.GENOA, chip, tcb, base="http://127.0.0.1:9/"))
    assert base == f"http://127.0.0.1:9/vcek/v1/Genoa/{vector.fields['chip_id']}"
    assert query == {"blSPL": ["10"], "teeSPL": ["0"], "snpSPL": ["25"], "ucodeSPL": ["84"]}


@pytest.mark.parametrize("product", list(Product))
def test_chain_and_crl_urls(product: Product) -> None:
    p = product.value.capitalize()
    assert KDS_BASE_URL == "https://kdsintf.amd.com"
    assert cert_chain_url(product, SigningKey.VCEK) == f"{KDS_BASE_URL}/vcek/v1/{p}/cert_chain"
    assert cert_chain_url(product, SigningKey.VLEK) == f"{KDS_BASE_URL}/vlek/v1/{p}/cert_chain"
    assert crl_url(product, SigningKey.VCEK) == f"{KDS_BASE_URL}/vcek/v1/{p}/crl"
    assert crl_url(product, SigningKey.VLEK) == f"{KDS_BASE_URL}/vlek/v1/{p}/crl"
    with pytest.raises(ValueError):  # noqa: PT011 (a programmer error: no code to assert)
        crl_url(product, SigningKey.NONE)
