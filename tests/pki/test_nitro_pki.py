"""Generated Nitro PKI (teeclient.testing): what real documents cannot show.

Expired and not-yet-valid certificates at every level, a wrong root, wrong algorithms and
curves, missing and oversized fields, broken CA constraints and key usages, reordered or
truncated bundles, a leaf that names another module, and nonce challenges.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, utils
from cryptography.x509.oid import ObjectIdentifier

from teeclient.errors import ChainError, TeeclientError
from teeclient.platforms.nitro.abi import MAX_PAYLOAD_BYTES, sig_structure
from teeclient.platforms.nitro.verify import verify
from teeclient.testing.nitro_evidence import (
    PROTECTED_ES384,
    NitroAttester,
    NitroDocumentSpec,
    assemble_cose_sign1,
    debug_pcrs,
    resign_document,
    sign_cose_sign1,
    timestamp_ms,
)
from teeclient.testing.pki.nitro import CertOverrides, NitroPki, leaf_name
from teeclient.trust import TrustStore
from tests.nitro_support import AT, SOON, Generated, attester, generate, vendor


def _pki(role: str, overrides: CertOverrides) -> NitroPki:
    kwargs: dict[str, Any] = {role: overrides}
    return NitroPki.generate(at=AT, **kwargs)


@pytest.fixture(scope="module")
def gen() -> Generated:
    return generate()


def _code(data: bytes, trust: TrustStore, **kwargs: Any) -> TeeclientError:
    kwargs.setdefault("now", SOON)
    with pytest.raises(TeeclientError) as info:
        verify(data, trust=trust, **kwargs)
    return info.value


def _expect(
    data: bytes, trust: TrustStore, code: str, field: str | None = None, **kwargs: Any
) -> None:
    err = _code(data, trust, **kwargs)
    assert err.code == code, err
    if field is not None:
        assert err.field == field, err


# --- the happy path ----------------------------------------------------------------------------


def test_generated_document_verifies(gen: Generated) -> None:
    spec = gen.spec(nonce=b"n" * 32, user_data=b"u" * 64, public_key=b"k" * 97)
    claims = verify(gen.document(spec), trust=gen.trust, now=SOON)
    assert claims.module_id == gen.leaf.module_id
    assert claims.timestamp_ms == timestamp_ms(AT)
    assert claims.nonce == (b"n" * 32).hex()
    assert claims.user_data == (b"u" * 64).hex()
    assert claims.public_key == (b"k" * 97).hex()
    assert claims.debug is False
    assert claims.region == "us-east-1"
    assert claims.instance_id == "i-0123456789abcdef0"
    assert claims.partition == "aws"
    assert claims.null_fields == ()
    assert [c.role for c in claims.chain] == [
        "certificate",
        "cabundle[3]",
        "cabundle[2]",
        "cabundle[1]",
        "root",
    ]
    assert claims.chain[-1].subject == "CN=aws.nitro-enclaves,OU=AWS,O=Amazon,C=US"


def test_generated_pki_is_shaped_like_aws(gen: Generated) -> None:
    pki = gen.pki
    path_lengths = [
        c.extensions.get_extension_for_class(x509.BasicConstraints).value.path_length
        for c in pki.certificates
    ]
    assert path_lengths == [None, 2, 1, 0]
    leaf = gen.leaf.cert
    assert leaf.not_valid_after_utc - leaf.not_valid_before_utc == timedelta(hours=3)
    with pytest.raises(x509.ExtensionNotFound):
        leaf.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier)
    assert leaf.subject == leaf_name(gen.leaf.module_id, "us-east-1")
    assert all(isinstance(c.public_key(), ec.EllipticCurvePublicKey) for c in pki.certificates)


def test_tagged_document_verifies(gen: Generated) -> None:
    claims = verify(gen.document(tagged=True), trust=gen.trust, now=SOON)
    assert claims.cose_tagged is True


def test_null_and_absent_optional_fields(gen: Generated) -> None:
    claims = verify(gen.document(), trust=gen.trust, now=SOON)
    assert claims.null_fields == ("public_key", "user_data", "nonce")
    absent = gen.spec(omit=frozenset({"public_key", "user_data", "nonce"}))
    claims = verify(gen.document(absent), trust=gen.trust, now=SOON)
    assert claims.null_fields == ()
    assert claims.nonce is None


def test_maximum_sizes_verify(gen: Generated) -> None:
    spec = gen.spec(
        public_key=b"\x01" * 1024,
        user_data=b"\x01" * 1024,
        nonce=b"\x01" * 1024,
        pcrs={i: bytes([i]) * 48 for i in range(32)},
        module_id=gen.leaf.module_id,
    )
    claims = verify(gen.document(spec), trust=gen.trust, now=SOON)
    assert len(claims.pcrs) == 32
    assert len(claims.nonce or "") == 2048


def test_unknown_fields_are_reported(gen: Generated) -> None:
    spec = gen.spec(extra={"vendor_extension": {"a": [1, 2]}})
    claims = verify(gen.document(spec), trust=gen.trust, now=SOON)
    assert claims.unknown_fields == ("vendor_extension",)


def test_debug_document_is_flagged() -> None:
    a = attester(debug=True)
    claims = verify(a.attest(at=AT), trust=a.pki.trust_store(), now=SOON)
    assert claims.debug is True
    assert dict(claims.pcrs)[0] == "00" * 48


# --- time ---------------------------------------------------------------------------------------


def test_leaf_expired_and_not_yet_valid(gen: Generated) -> None:
    doc = gen.document()
    after = gen.leaf.cert.not_valid_after_utc + timedelta(seconds=1)
    _expect(doc, gen.trust, "chain.expired", "certificate.notAfter", now=after)
    before = gen.leaf.cert.not_valid_before_utc - timedelta(seconds=1)
    _expect(doc, gen.trust, "chain.not_yet_valid", "certificate.notBefore", now=before)


@pytest.mark.parametrize(
    ("role", "index"), [("root", 0), ("regional", 1), ("zonal", 2), ("instance", 3)]
)
def test_expired_ca_at_each_level(role: str, index: int) -> None:
    ov = CertOverrides(not_before=AT - timedelta(days=30), not_after=AT - timedelta(seconds=1))
    g = generate(_pki(role, ov))
    _expect(g.document(), g.trust, "chain.expired", f"cabundle[{index}].notAfter")


@pytest.mark.parametrize(("role", "index"), [("regional", 1), ("instance", 3)])
def test_not_yet_valid_ca(role: str, index: int) -> None:
    ov = CertOverrides(not_before=AT + timedelta(hours=1))
    g = generate(_pki(role, ov))
    _expect(g.document(), g.trust, "chain.not_yet_valid", f"cabundle[{index}].notBefore")


def test_naive_time_is_a_programming_error(gen: Generated) -> None:
    with pytest.raises(ValueError, match="timezone"):
        verify(gen.document(), trust=gen.trust, now=SOON.replace(tzinfo=None))


# --- roots --------------------------------------------------------------------------------------


def test_generated_root_is_not_trusted_by_the_vendor_store(gen: Generated) -> None:
    _expect(gen.document(), vendor(), "chain.untrusted", "cabundle[0]")


def test_store_without_a_nitro_root(gen: Generated) -> None:
    store = vendor().without("aws.nitro.root")
    _expect(gen.document(), store, "chain.untrusted", "aws.nitro.root")
    _expect(gen.document(), TrustStore.empty(), "chain.untrusted")


def test_wrong_root_same_name(gen: Generated) -> None:
    other = NitroPki.generate(at=AT)
    bundle = (other.cabundle[0], *gen.pki.cabundle[1:])
    _expect(gen.document(cabundle=bundle), gen.trust, "chain.untrusted", "cabundle[0]")
    # trusting the impostor instead: the regional CA's signature no longer verifies
    _expect(
        gen.document(cabundle=bundle),
        other.trust_store(),
        "chain.signature_invalid",
        "cabundle[1].signature",
    )


def test_foreign_chain_under_a_trusted_root(gen: Generated) -> None:
    other = generate()
    doc = other.document()
    _expect(doc, gen.trust, "chain.untrusted", "cabundle[0]")


def test_second_partition_root() -> None:
    g = generate()
    store = vendor().with_anchor("aws-cn.nitro.root", [g.pki.root], source="test")
    claims = verify(g.document(), trust=store, now=SOON)
    assert claims.partition == "aws-cn"


# --- chain structure -----------------------------------------------------------------------------


def test_bundle_in_reverse_order(gen: Generated) -> None:
    _expect(
        gen.document(cabundle=tuple(reversed(gen.pki.cabundle))),
        gen.trust,
        "chain.untrusted",
        "cabundle[0]",
    )


def test_missing_intermediate(gen: Generated) -> None:
    bundle = gen.pki.cabundle
    _expect(
        gen.document(cabundle=(bundle[0], bundle[1], bundle[3])),
        gen.trust,
        "chain.untrusted",
        "cabundle[2].issuer",
    )
    _expect(gen.document(cabundle=bundle[:1]), gen.trust, "chain.untrusted", "certificate.issuer")


def test_impostor_intermediate_with_the_same_name(gen: Generated) -> None:
    other = NitroPki.generate(at=AT)
    impostor = x509.load_der_x509_certificate(other.cabundle[2])
    assert impostor.subject != gen.pki.zonal.subject  # names are random per PKI
    forged = NitroPki.generate(
        at=AT,
        zonal=CertOverrides(subject=gen.pki.zonal.subject, issuer_name=gen.pki.regional.subject),
    )
    bundle = (*gen.pki.cabundle[:2], forged.cabundle[2], gen.pki.cabundle[3])
    _expect(
        gen.document(cabundle=bundle), gen.trust, "chain.signature_invalid", "cabundle[2].signature"
    )


def test_leaf_not_signed_by_the_instance_ca(gen: Generated) -> None:
    stranger = ec.generate_private_key(ec.SECP384R1())
    leaf = gen.pki.issue_leaf(
        not_before=AT - timedelta(minutes=1), overrides=CertOverrides(signing_key=stranger)
    )
    g = Generated(gen.pki, leaf, gen.trust)
    _expect(g.document(), gen.trust, "chain.signature_invalid", "certificate.signature")


# --- algorithms ----------------------------------------------------------------------------------


@pytest.mark.parametrize("alg", [-7, -36, -37])
def test_cose_algorithm_other_than_es384(gen: Generated, alg: int) -> None:
    import cbor2

    doc = gen.document(protected=cbor2.dumps({1: alg}))
    _expect(doc, gen.trust, "nitro.unsupported_algorithm", "protected.alg")


def test_cose_signature_with_sha256(gen: Generated) -> None:
    payload = gen.spec().payload(certificate=gen.leaf.der, cabundle=gen.pki.cabundle)
    doc = sign_cose_sign1(payload, gen.leaf.key, hash_algorithm=hashes.SHA256())
    _expect(doc, gen.trust, "nitro.signature_invalid", "signature")


def test_document_signed_by_another_key(gen: Generated) -> None:
    doc = resign_document(gen.document(), ec.generate_private_key(ec.SECP384R1()))
    _expect(doc, gen.trust, "nitro.signature_invalid", "signature")


def test_leaf_with_a_p256_key(gen: Generated) -> None:
    leaf = gen.pki.issue_leaf(
        not_before=AT - timedelta(minutes=1), overrides=CertOverrides(curve=ec.SECP256R1())
    )
    payload = gen.spec().payload(certificate=leaf.der, cabundle=gen.pki.cabundle)
    r, s = utils.decode_dss_signature(
        leaf.key.sign(sig_structure(PROTECTED_ES384, payload), ec.ECDSA(hashes.SHA384()))
    )
    signature = r.to_bytes(48, "big") + s.to_bytes(48, "big")  # padded to the ES384 size
    doc = assemble_cose_sign1(PROTECTED_ES384, payload, signature)
    _expect(doc, gen.trust, "chain.bad_certificate", "certificate.publicKey")
    # as the P-256 key signs it (64-byte signature), the envelope is already malformed
    g = Generated(gen.pki, leaf, gen.trust)
    _expect(g.document(), gen.trust, "evidence.malformed", "signature")


@pytest.mark.parametrize("role", ["regional", "instance"])
def test_ca_signed_with_sha256(role: str) -> None:
    g = generate(_pki(role, CertOverrides(hash_algorithm=hashes.SHA256())))
    index = {"regional": 1, "instance": 3}[role]
    _expect(g.document(), g.trust, "chain.bad_certificate", f"cabundle[{index}].signatureAlgorithm")


def test_leaf_signed_with_sha512(gen: Generated) -> None:
    leaf = gen.pki.issue_leaf(
        not_before=AT - timedelta(minutes=1),
        overrides=CertOverrides(hash_algorithm=hashes.SHA512()),
    )
    g = Generated(gen.pki, leaf, gen.trust)
    _expect(g.document(), gen.trust, "chain.bad_certificate", "certificate.signatureAlgorithm")


def test_zonal_ca_with_a_p256_key() -> None:
    g = generate(NitroPki.generate(at=AT, zonal=CertOverrides(curve=ec.SECP256R1())))
    _expect(g.document(), g.trust, "chain.bad_certificate", "cabundle[2].publicKey")


# --- constraints -------------------------------------------------------------------------------


def _ku(**set_bits: bool) -> x509.KeyUsage:
    bits = dict.fromkeys(
        (
            "digital_signature",
            "content_commitment",
            "key_encipherment",
            "data_encipherment",
            "key_agreement",
            "key_cert_sign",
            "crl_sign",
            "encipher_only",
            "decipher_only",
        ),
        False,
    )
    bits.update(set_bits)
    return x509.KeyUsage(**bits)


@pytest.mark.parametrize(
    ("role", "overrides", "field"),
    [
        ("instance", CertOverrides(ca=False), "cabundle[3].basicConstraints"),
        ("zonal", CertOverrides(omit_basic_constraints=True), "cabundle[2].basicConstraints"),
        ("regional", CertOverrides(path_length=0), "cabundle[1].basicConstraints.pathLen"),
        ("zonal", CertOverrides(path_length=0), "cabundle[2].basicConstraints.pathLen"),
        ("instance", CertOverrides(key_usage=_ku(digital_signature=True)), "cabundle[3].keyUsage"),
        ("zonal", CertOverrides(omit_key_usage=True), "cabundle[2].keyUsage"),
        ("root", CertOverrides(ca=False), "cabundle[0].basicConstraints"),
        (
            "zonal",
            CertOverrides(
                extra_extensions=(
                    (
                        x509.UnrecognizedExtension(
                            ObjectIdentifier("1.3.6.1.4.1.99999.1"), b"\x05\x00"
                        ),
                        True,
                    ),
                )
            ),
            "cabundle[2].extensions",
        ),
    ],
)
def test_ca_constraints(role: str, overrides: CertOverrides, field: str) -> None:
    g = generate(_pki(role, overrides))
    _expect(g.document(), g.trust, "chain.bad_certificate", field)


def test_path_length_none_is_unlimited() -> None:
    g = generate(NitroPki.generate(at=AT, regional=CertOverrides(path_length=None)))
    verify(g.document(), trust=g.trust, now=SOON)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        (CertOverrides(ca=True, path_length=0), "certificate.basicConstraints"),
        (CertOverrides(key_usage=_ku(content_commitment=True)), "certificate.keyUsage"),
        (CertOverrides(omit_key_usage=True), "certificate.keyUsage"),
    ],
)
def test_leaf_constraints(gen: Generated, overrides: CertOverrides, field: str) -> None:
    leaf = gen.pki.issue_leaf(not_before=AT - timedelta(minutes=1), overrides=overrides)
    g = Generated(gen.pki, leaf, gen.trust)
    _expect(g.document(), gen.trust, "chain.bad_certificate", field)


def test_leaf_without_basic_constraints_is_not_a_ca(gen: Generated) -> None:
    leaf = gen.pki.issue_leaf(
        not_before=AT - timedelta(minutes=1), overrides=CertOverrides(omit_basic_constraints=True)
    )
    verify(Generated(gen.pki, leaf, gen.trust).document(), trust=gen.trust, now=SOON)


def test_longer_bundle_respects_path_lengths() -> None:
    """Five CAs below a root whose children allow only what the real profile allows."""
    g = generate()
    pki = g.pki
    extra = NitroPki.generate(
        at=AT,
        instance=CertOverrides(
            subject=x509.Name.from_rfc4514_string("CN=extra"),
            issuer_name=pki.instance.subject,
            signing_key=pki.instance_key,
        ),
    )
    bundle = (*pki.cabundle, extra.cabundle[3])
    leaf = pki.replace(instance=extra.instance, instance_key=extra.instance_key).issue_leaf(
        not_before=AT - timedelta(minutes=1), module_id=g.leaf.module_id
    )
    doc = Generated(pki, leaf, g.trust).document(cabundle=bundle)
    err = _code(doc, g.trust)
    assert isinstance(err, ChainError)
    assert err.field == "cabundle[1].basicConstraints.pathLen"  # 3 CAs below a pathLen of 2


# --- fields --------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["module_id", "digest", "timestamp", "pcrs"])
def test_missing_required_field_after_authentication(gen: Generated, key: str) -> None:
    _expect(gen.document(gen.spec(omit=frozenset({key}))), gen.trust, "evidence.malformed", key)


@pytest.mark.parametrize("key", ["certificate", "cabundle"])
def test_missing_chain_field(gen: Generated, key: str) -> None:
    _expect(gen.document(gen.spec(omit=frozenset({key}))), gen.trust, "evidence.malformed", key)


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"user_data": b"\x01" * 1025}, "user_data"),
        ({"nonce": b"\x01" * 1025}, "nonce"),
        ({"public_key": b"\x01" * 1025}, "public_key"),
        ({"module_id": "i-" + "0" * 255}, "module_id"),
        ({"pcrs": {i: bytes(48) for i in range(33)}}, "pcrs"),
        ({"pcrs": {0: bytes(49)}}, "pcrs[0]"),
        ({"cabundle": [b"\x30"] * 17}, "cabundle"),
        ({"timestamp": 1725719886}, "timestamp"),
    ],
)
def test_oversized_or_wrong_fields(gen: Generated, extra: dict[str, Any], field: str) -> None:
    _expect(gen.document(gen.spec(extra=extra)), gen.trust, "evidence.malformed", field)


def test_oversized_certificate(gen: Generated) -> None:
    oid = ObjectIdentifier("1.3.6.1.4.1.99999.2")
    big = x509.UnrecognizedExtension(oid, b"\x04\x82\x01\x90" + bytes(400))
    ov = CertOverrides(extra_extensions=((big, False),))
    leaf = gen.pki.issue_leaf(not_before=AT - timedelta(minutes=1), overrides=ov)
    assert len(Generated(gen.pki, leaf, gen.trust).leaf.der) > 1024
    doc = Generated(gen.pki, leaf, gen.trust).document()
    _expect(doc, gen.trust, "evidence.malformed", "certificate")


def test_oversized_payload(gen: Generated) -> None:
    spec = gen.spec(extra={"padding": b"\x00" * MAX_PAYLOAD_BYTES})
    _expect(gen.document(spec), gen.trust, "evidence.malformed", "document")


def test_unsupported_digest(gen: Generated) -> None:
    _expect(gen.document(gen.spec(digest="SHA512")), gen.trust, "evidence.unsupported", "digest")


def test_leaf_names_another_module(gen: Generated) -> None:
    spec = gen.spec(module_id="i-0123456789abcdef0-enc00000000000000aa")
    _expect(gen.document(spec), gen.trust, "nitro.certificate_mismatch", "certificate.subject.CN")


def test_leaf_with_an_unexpected_name(gen: Generated) -> None:
    name = x509.Name.from_rfc4514_string(f"CN={gen.leaf.module_id}")
    leaf = gen.pki.issue_leaf(
        not_before=AT - timedelta(minutes=1),
        module_id=gen.leaf.module_id,
        overrides=CertOverrides(subject=name),
    )
    doc = Generated(gen.pki, leaf, gen.trust).document()
    _expect(doc, gen.trust, "nitro.certificate_mismatch")


# --- nonce challenge -----------------------------------------------------------------------------


def test_nonce_challenge(gen: Generated) -> None:
    doc = gen.document(gen.spec(nonce=b"\x07" * 32))
    assert verify(doc, trust=gen.trust, now=SOON, nonce=b"\x07" * 32).nonce_verified
    assert not verify(doc, trust=gen.trust, now=SOON).nonce_verified
    _expect(doc, gen.trust, "nitro.nonce_mismatch", "nonce", nonce=b"\x07" * 31)
    _expect(doc, gen.trust, "nitro.nonce_mismatch", "nonce", nonce=b"\x07" * 31 + b"\x08")
    _expect(gen.document(), gen.trust, "nitro.nonce_mismatch", "nonce", nonce=b"\x07")


# --- the attester (issue 7 builds the mock enclave on it) ----------------------------------------


def test_attester_issues_verifiable_documents() -> None:
    a = attester()
    doc = a.attest(at=AT, nonce=b"challenge", user_data=bytes(64), public_key=b"hpke-key")
    claims = verify(doc, trust=a.pki.trust_store(), now=SOON, nonce=b"challenge")
    assert claims.module_id == a.module_id
    assert claims.user_data == "00" * 64
    assert claims.public_key == b"hpke-key".hex()
    later = AT + timedelta(hours=2)
    assert verify(a.attest(at=later), trust=a.pki.trust_store(), now=later).timestamp_ms == (
        timestamp_ms(later)
    )


def test_attester_with_custom_pcrs_and_spec() -> None:
    a = NitroAttester.create(at=AT, pcrs=debug_pcrs("x"))
    spec = a.spec(at=AT)
    assert isinstance(spec, NitroDocumentSpec)
    assert spec.module_id == a.module_id
    assert verify(a.attest(at=AT), trust=a.pki.trust_store(), now=SOON).debug


def test_attester_renews_its_signing_certificate() -> None:
    a = attester()
    later = AT + timedelta(hours=5)
    trust = a.pki.trust_store()
    _expect(a.attest(at=later), trust, "chain.expired", "certificate.notAfter", now=later)
    renewed = a.renewed(at=later)
    assert renewed.module_id == a.module_id
    assert verify(renewed.attest(at=later), trust=trust, now=later).module_id == a.module_id
