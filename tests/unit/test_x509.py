"""teeclient._x509: certificates with an invalid version are parse errors, not crashes."""

from __future__ import annotations

import base64

import pytest

from teeclient._x509 import load_certificate, load_certificates
from teeclient.errors import ParseError
from teeclient.platforms.nitro import abi
from tests.nitro_support import PROD, vector


def _bad_version() -> bytes:
    leaf = bytearray(abi.parse_document(vector(PROD)).attestation.certificate)
    at = bytes(leaf).index(b"\xa0\x03\x02\x01\x02")  # [0] EXPLICIT INTEGER 2 (v3)
    leaf[at + 4] = 3  # no such X.509 version: cryptography raises InvalidVersion
    return bytes(leaf)


def test_invalid_version_is_a_parse_error() -> None:
    with pytest.raises(ParseError):
        load_certificate(_bad_version(), role="leaf", platform="test")


def test_invalid_version_in_pem_is_a_parse_error() -> None:
    body = base64.encodebytes(_bad_version())
    pem = b"-----BEGIN CERTIFICATE-----\n" + body + b"-----END CERTIFICATE-----\n"
    with pytest.raises(ParseError):
        load_certificates(pem, role="leaf", platform="test")
