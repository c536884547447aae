"""Regressions found by the coverage-guided fuzzer (tools/fuzz): each input, its exact code.

The inputs live in ``tests/fuzz/regressions/<target>/`` (the fast fuzz subset replays them
too); docs/security.md lists the findings.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest

from teeclient._x509 import load_certificate, load_certificates
from teeclient.errors import TeeclientError
from teeclient.platforms.nvidia import ocsp, rim

REGRESSIONS = Path(__file__).resolve().parent / "regressions"

pytestmark = pytest.mark.fuzz


def _code(call: object) -> str:
    with pytest.raises(TeeclientError) as info:
        call()  # type: ignore[operator]
    return info.value.code


def test_ocsp_describe_unknown_certid_hash_algorithm() -> None:
    """describe_response read CertID.hashAlgorithm, which raises UnsupportedAlgorithm."""
    data = (REGRESSIONS / "nvidia_ocsp" / "unknown-certid-hash-oid.der").read_bytes()
    described = ocsp.describe_response(data, source="regression")
    responses = described["responses"]
    assert isinstance(responses, list)
    assert responses[0]["hash_algorithm"] == "unsupported"


def test_ocsp_embedded_certificate_with_malformed_subject() -> None:
    """The responder certificates' names were decoded lazily (ValueError mid-verification)."""
    data = (REGRESSIONS / "nvidia_ocsp" / "embedded-cert-bad-subject.der").read_bytes()
    assert _code(lambda: ocsp.load_response(data, source="regression")) == "nvidia.ocsp_malformed"
    assert _code(lambda: ocsp.describe_response(data, source="regression")) == (
        "nvidia.ocsp_malformed"
    )


def _keyinfo_certificate() -> bytes:
    xml = (REGRESSIONS / "nvidia_rim" / "keyinfo-cert-bitstring-name.xml").read_bytes()
    blocks = re.findall(rb"<ds:X509Certificate>([^<]*)</ds:X509Certificate>", xml)
    for block in blocks:
        der = base64.b64decode(b"".join(block.split()))
        try:
            load_certificate(der, role="probe", platform="test")
        except TeeclientError:
            return der
    raise AssertionError("no malformed KeyInfo certificate in the regression input")


def test_name_attribute_of_the_wrong_type_is_a_malformed_certificate() -> None:
    """cryptography raises TypeError (not ValueError) for a BIT STRING name attribute under
    another OID; every certificate loader must turn it into chain.malformed_certificate."""
    der = _keyinfo_certificate()
    assert _code(lambda: load_certificate(der, role="leaf", platform="test")) == (
        "chain.malformed_certificate"
    )
    pem = (
        b"-----BEGIN CERTIFICATE-----\n" + base64.encodebytes(der) + b"-----END CERTIFICATE-----\n"
    )
    assert _code(lambda: load_certificates(pem, role="chain", platform="test")) == (
        "chain.malformed_certificate"
    )
    xml = (REGRESSIONS / "nvidia_rim" / "keyinfo-cert-bitstring-name.xml").read_bytes()
    assert _code(lambda: rim.peek_rim(xml, source="regression")) == "nvidia.rim_malformed"


def test_ocsp_time_out_of_range_is_malformed() -> None:
    """A nextUpdate in year 0 raised ValueError when ``inspect`` (or verification) read it."""
    data = (REGRESSIONS / "nvidia_ocsp" / "next-update-year-zero.der").read_bytes()
    assert _code(lambda: ocsp.load_response(data, source="regression")) == "nvidia.ocsp_malformed"
    assert _code(lambda: ocsp.describe_response(data, source="regression")) == (
        "nvidia.ocsp_malformed"
    )


def test_tinfoil_format_that_is_not_a_string() -> None:
    """``"format": {...}`` was looked up in a set of strings: TypeError (unhashable dict)."""
    from teeclient.tinfoil import parse_tinfoil_document

    data = (REGRESSIONS / "tinfoil_document" / "format-not-a-string.json").read_bytes()
    assert _code(lambda: parse_tinfoil_document(data)) == "document.unsupported"
