"""Real AWS Nitro attestation documents (fixtures/real/nitro, copied from shared/vectors/nitro).

Every document verifies at its ``suggested_now`` with every field and PCR its
``expectations.json`` lists; the bad-signature document fails with the signature code; debug
documents are flagged and rejected by the baseline policy; each verifies only inside its
window; the pinned root is the one in AWS's zip; the evervault document binds its TLS key.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from teeclient._time import parse_time
from teeclient.errors import (
    ChainExpiredError,
    ChainNotYetValidError,
    NitroNonceMismatchError,
    NitroSignatureError,
)
from teeclient.platforms.nitro import abi
from teeclient.platforms.nitro.claims import NitroClaims
from teeclient.platforms.nitro.verify import verify
from teeclient.policy.appraise import appraise
from teeclient.policy.load import load_baseline, parse_policy
from teeclient.policy.result import CheckStatus
from teeclient.trust import VENDOR_FINGERPRINTS
from tests.nitro_support import (
    BAD_SIGNATURE,
    BINDING,
    BINDING_CERT,
    NITRO,
    PROD,
    ROOT_FINGERPRINT,
    ROOT_ZIP_SHA256,
    expectations,
    names,
    suggested_now,
    valid_names,
    vector,
    vendor,
)


def _verify(name: str, *, now: datetime | None = None) -> NitroClaims:
    return verify(vector(name), trust=vendor(), now=now or suggested_now(name))


# --- the pinned root ---------------------------------------------------------------------------


def test_pinned_root_fingerprint() -> None:
    assert VENDOR_FINGERPRINTS["aws.nitro.root"] == (ROOT_FINGERPRINT,)
    anchor = vendor().get("aws.nitro.root")
    assert anchor is not None
    assert anchor.fingerprints == (ROOT_FINGERPRINT,)
    assert anchor.certificates[0].subject.rfc4514_string() == (
        "CN=aws.nitro-enclaves,OU=AWS,O=Amazon,C=US"
    )


def test_root_zip_matches_the_published_hash_and_the_shipped_root() -> None:
    zipped = (NITRO / "root" / "AWS_NitroEnclaves_Root-G1.zip").read_bytes()
    assert hashlib.sha256(zipped).hexdigest() == ROOT_ZIP_SHA256
    published = (NITRO / "root" / "AWS_NitroEnclaves_Root-G1.zip.sha256").read_text().split()[0]
    assert published == ROOT_ZIP_SHA256
    pem = zipfile.ZipFile(io.BytesIO(zipped)).read("root.pem")
    root = x509.load_pem_x509_certificate(pem)
    assert hashlib.sha256(root.public_bytes(Encoding.DER)).hexdigest() == ROOT_FINGERPRINT
    anchor = vendor().get("aws.nitro.root")
    assert anchor is not None
    assert anchor.certificates[0] == root


@pytest.mark.parametrize("name", names())
def test_cabundle_root_is_the_pinned_root(name: str) -> None:
    bundle = abi.parse_document(vector(name)).attestation.cabundle
    assert hashlib.sha256(bundle[0]).hexdigest() == ROOT_FINGERPRINT
    assert expectations()[name]["expected"]["cabundle0_is_aws_root_g1"] is True


# --- every document at its suggested time ------------------------------------------------------


@pytest.mark.parametrize("name", valid_names())
def test_vector_verifies_with_every_field(name: str) -> None:
    exp = expectations()[name]
    fields = exp["fields"]
    claims = _verify(name)
    assert claims.module_id == fields["module_id"]
    assert claims.digest == fields["digest"]
    assert claims.timestamp_ms == fields["timestamp_ms"]
    assert claims.timestamp == datetime.fromisoformat(fields["timestamp_utc"])
    assert dict(claims.pcrs) == {int(i): v for i, v in fields["pcrs"].items()}
    assert claims.to_dict()["pcrs"] == fields["pcrs"]
    for key in ("public_key", "user_data", "nonce"):
        assert getattr(claims, key) == fields[key], key
        if fields[key] is not None:
            assert len(fields[key]) // 2 == fields["lengths"][key]
    assert sorted(claims.null_fields) == sorted(fields["keys_present_with_null_value"])
    assert claims.debug is fields["debug_mode_all_zero_pcr0_1_2"]
    assert claims.to_dict()["debug"] is fields["debug_mode_all_zero_pcr0_1_2"]
    assert claims.cose_tagged is exp["cose_tagged"]
    assert claims.unknown_fields == ()
    assert claims.partition == "aws"
    assert claims.region == "us-east-1"
    assert claims.instance_id == fields["module_id"].split("-enc")[0]
    assert claims.nonce_verified is False
    assert claims.document_sha256 == exp["sha256"]
    # the leaf and the bundle, as the independent script saw them
    leaf = exp["leaf_cert"]
    assert claims.certificate.subject == leaf["subject"]
    assert claims.certificate.not_before == datetime.fromisoformat(leaf["nb"])
    assert claims.certificate.not_after == datetime.fromisoformat(leaf["na"])
    doc = abi.parse_document(vector(name)).attestation
    assert len(doc.certificate) == fields["lengths"]["certificate"]
    assert claims.certificate.sha256 == hashlib.sha256(doc.certificate).hexdigest()
    bundle = list(reversed(claims.chain[1:]))
    assert [c.subject for c in bundle] == [c["subject"] for c in exp["cabundle"]]
    assert [c.not_before for c in bundle] == [
        datetime.fromisoformat(c["nb"]) for c in exp["cabundle"]
    ]
    assert [c.not_after for c in bundle] == [
        datetime.fromisoformat(c["na"]) for c in exp["cabundle"]
    ]
    assert bundle[0].role == "root"
    assert claims.chain[0].role == "certificate"
    assert claims.valid_until == datetime.fromisoformat(
        exp["verification_time"]["chain_valid_until"]
    )


@pytest.mark.parametrize("name", names())
def test_protected_header_and_signature_shape(name: str) -> None:
    exp = expectations()[name]
    cose = abi.parse_cose_sign1(vector(name))
    assert cose.protected == bytes.fromhex("a1013822")
    assert exp["protected_header"] == {"1": -35}
    assert exp["unprotected_header"] == {}
    assert len(cose.signature) == exp["signature_len"] == 96
    assert cose.tagged is exp["cose_tagged"] is False


def test_bad_signature_document_fails_with_the_signature_code() -> None:
    exp = expectations()[BAD_SIGNATURE]["expected"]
    assert exp["cose_es384_signature_valid"] is False
    assert exp["cert_chain_signatures_valid"] is True
    with pytest.raises(NitroSignatureError) as info:
        _verify(BAD_SIGNATURE)
    assert info.value.code == "nitro.signature_invalid"
    assert info.value.field == "signature"
    # The chain is checked (signatures, validity, constraints) before the COSE signature, so
    # reaching the signature error means the chain itself verified, as expected.


def test_bad_signature_document_still_decodes_with_its_fields() -> None:
    fields = expectations()[BAD_SIGNATURE]["fields"]
    doc = abi.parse_document(vector(BAD_SIGNATURE)).attestation
    assert doc.module_id == fields["module_id"]
    assert doc.timestamp_ms == fields["timestamp_ms"]
    assert {i: v.hex() for i, v in doc.pcrs} == {int(i): v for i, v in fields["pcrs"].items()}
    assert doc.debug is True


# --- verification time -------------------------------------------------------------------------


@pytest.mark.parametrize("name", valid_names())
def test_vector_expires_after_its_window(name: str) -> None:
    until = parse_time(expectations()[name]["verification_time"]["chain_valid_until"])
    _verify(name, now=until)
    with pytest.raises(ChainExpiredError) as info:
        _verify(name, now=until + timedelta(seconds=1))
    assert info.value.field == "certificate.notAfter"


@pytest.mark.parametrize("name", valid_names())
def test_vector_is_not_valid_before_its_window(name: str) -> None:
    start = parse_time(expectations()[name]["verification_time"]["chain_valid_from"])
    _verify(name, now=start)
    with pytest.raises(ChainNotYetValidError) as info:
        _verify(name, now=start - timedelta(seconds=1))
    assert info.value.field == "certificate.notBefore"


@pytest.mark.parametrize("name", valid_names())
def test_vector_verified_now_has_expired(name: str) -> None:
    with pytest.raises(ChainExpiredError):
        _verify(name, now=datetime.now(UTC))


# --- the baseline policy -----------------------------------------------------------------------


@pytest.mark.parametrize("name", valid_names())
def test_baseline_rejects_debug_and_accepts_production(name: str) -> None:
    claims = _verify(name)
    appraisal = appraise([claims], load_baseline(), suggested_now(name))
    debug = [c for c in appraisal.checks if c.id == "nitro.debug"]
    assert len(debug) == 1
    if expectations()[name]["fields"]["debug_mode_all_zero_pcr0_1_2"]:
        assert not appraisal.accepted
        assert debug[0].status is CheckStatus.FAIL
        assert [c.id for c in appraisal.with_status(CheckStatus.FAIL)] == ["nitro.debug"]
    else:
        assert appraisal.accepted
        assert debug[0].status is CheckStatus.PASS


def test_production_vector_pinned_by_pcrs() -> None:
    pcrs = expectations()[PROD]["fields"]["pcrs"]
    text = "version = 1\n[[nitro]]\n" + "".join(
        f'pcr{i} = "{pcrs[str(i)]}"\n' for i in (0, 1, 2, 8)
    )
    policy = parse_policy(text + "max_timestamp_age = '5m'\n")
    appraisal = appraise([_verify(PROD)], policy, suggested_now(PROD))
    assert appraisal.accepted
    wrong = parse_policy(text.replace(pcrs["8"], "00" * 48))
    rejected = appraise([_verify(PROD)], wrong, suggested_now(PROD))
    assert [c.id for c in rejected.with_status(CheckStatus.FAIL)] == ["nitro.pcr8"]


# --- freshness and binding ---------------------------------------------------------------------


def test_nonce_challenge_matches_and_mismatches() -> None:
    name = "eternis-2024-09-09-debug.cbor"
    nonce = bytes.fromhex("00" * 19 + "01")
    claims = verify(vector(name), trust=vendor(), now=suggested_now(name), nonce=nonce)
    assert claims.nonce_verified is True
    with pytest.raises(NitroNonceMismatchError):
        verify(vector(name), trust=vendor(), now=suggested_now(name), nonce=bytes(20))
    with pytest.raises(NitroNonceMismatchError) as info:  # this document carries no nonce
        verify(
            vector("evervault-2022-10-12-debug.cbor"),
            trust=vendor(),
            now=suggested_now("evervault-2022-10-12-debug.cbor"),
            nonce=b"x",
        )
    assert info.value.actual == "absent"


def _spki(cert_der: bytes) -> bytes:
    cert = x509.load_der_x509_certificate(cert_der)
    return cert.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)


def test_user_data_binds_the_tls_certificate_key() -> None:
    cert_der = BINDING_CERT.read_bytes()
    spki = _spki(cert_der)
    claims = _verify(BINDING)
    assert claims.user_data == spki.hex()
    policy = parse_policy(
        f'version = 1\n[[nitro]]\nallow_debug = true\nuser_data = "{spki.hex()}"\n'
    )
    appraisal = appraise([claims], policy, suggested_now(BINDING))
    assert appraisal.accepted
    assert [c.status for c in appraisal.checks if c.id == "nitro.user_data"] == [CheckStatus.PASS]


def test_user_data_does_not_bind_a_changed_certificate_key() -> None:
    cert_der = bytearray(BINDING_CERT.read_bytes())
    spki = _spki(bytes(cert_der))
    point = spki[-20:]  # inside the EC point of the SubjectPublicKeyInfo
    at = bytes(cert_der).index(point)
    cert_der[at + 5] ^= 0x01
    changed = bytes(cert_der)[bytes(cert_der).index(spki[:20]) : at + 20]
    assert changed != spki
    policy = parse_policy(
        f'version = 1\n[[nitro]]\nallow_debug = true\nuser_data = "{changed.hex()}"\n'
    )
    appraisal = appraise([_verify(BINDING)], policy, suggested_now(BINDING))
    assert not appraisal.accepted
    assert [c.id for c in appraisal.with_status(CheckStatus.FAIL)] == ["nitro.user_data"]
