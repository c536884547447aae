"""Real AMD SEV-SNP vectors at fixed times: every decoded field and outcome (expectations.json)."""

from __future__ import annotations

import hashlib
import json
import re
import struct
import uuid
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.utils import CryptographyDeprecationWarning
from cryptography.x509.oid import NameOID

import teeclient
from teeclient._x509 import load_certificate, load_certificates
from teeclient.collateral.items import CollateralItem, CollateralSet
from teeclient.errors import (
    BindingError,
    ChainExpiredError,
    ChainNotYetValidError,
    ChainSignatureError,
    ChainUntrustedError,
    CollateralMissingError,
    ProductRequiredError,
)
from teeclient.platforms.sev_snp.abi import Product, SigningKey
from teeclient.platforms.sev_snp.claims import SnpClaims
from teeclient.platforms.sev_snp.kds import parse_vek_extensions
from teeclient.platforms.sev_snp.verify import verify
from teeclient.policy.appraise import appraise
from teeclient.policy.load import load_baseline, parse_policy
from teeclient.policy.result import CheckStatus
from teeclient.trust import TrustStore
from tests._snp import ROOTS, SNP, Vector, parse_z, spec_tcb, vector_names

NAMES = vector_names()
V2 = [n for n in NAMES if Vector(n).version == 2]
PROVISIONAL = {"milan-v2-trustee", "milan-v2-azure-hcl", "milan-v3-vlek-aws"}  # sev-snp.md §10.5
GUID_VCEK = uuid.UUID("63da758d-e664-4564-adc5-f4b93be8accd")
GUID_ASK = uuid.UUID("4ab7b379-bbac-4fe4-a02f-05aef327c782")
GUID_ARK = uuid.UUID("c0b406a4-a803-4952-9743-3fb6014cd0ae")

PERMIT_PROVISIONAL = """
version = 1
name = "permit-provisional"
[[sev_snp]]
products = ["milan", "genoa", "turin"]
signing_keys = ["vcek", "vlek"]
guest_policy = { allow = ["smt"] }
permit_provisional_firmware = true
"""


@pytest.fixture(scope="module")
def store() -> TrustStore:
    return TrustStore.vendor()


def run(vector: Vector, store: TrustStore, **kwargs: object) -> SnpClaims:
    options: dict[str, object] = {
        "trust": store,
        "now": vector.now,
        "collateral": vector.collateral(),
        "product": vector.v2_product,
    }
    options.update(kwargs)
    evidence = options.pop("evidence", vector.report)
    assert isinstance(evidence, bytes)
    return verify(evidence, **options)  # type: ignore[arg-type]


def _der_sha(cert: x509.Certificate) -> str:
    return hashlib.sha256(cert.public_bytes(Encoding.DER)).hexdigest()


def _cn(name: x509.Name) -> str:
    value = name.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    assert isinstance(value, str)
    return value


# --- every vector verifies, every field as expected ---------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_vector_claims(name: str, store: TrustStore) -> None:
    vector = Vector(name)
    exp = vector.exp
    fields = vector.fields
    claims = run(vector, store)
    # expected booleans: all of report signature, VEK←ASK, ASK←ARK, ARK self, TCB equality
    assert all(
        exp["expected"][k] is True
        for k in (
            "report_signature_valid",
            "vek_signed_by_ask",
            "ask_signed_by_ark",
            "ark_self_signed",
            "reported_tcb_equals_vek_tcb_extensions",
        )
    )
    assert claims.chip_id_bound is (exp["expected"]["chip_id_matches_vek_hwid"] is True)
    assert claims.product is Product(vector.product)
    assert claims.product_source == ("caller" if vector.version == 2 else "cpuid")
    assert claims.report_sha256 == exp["report_sha256"]
    assert claims.version == fields["version"]
    assert claims.guest_svn == fields["guest_svn"]
    assert claims.policy.raw == int(fields["policy"], 16)
    assert claims.policy.debug is fields["policy_decoded"]["debug"]
    assert claims.policy.smt is fields["policy_decoded"]["smt"]
    assert claims.policy.migrate_ma is fields["policy_decoded"]["migrate_ma"]
    assert f"{claims.policy.abi_major}.{claims.policy.abi_minor}" == fields["policy_decoded"]["abi"]
    assert claims.vmpl == fields["vmpl"]
    assert claims.signature_algo == fields["signature_algo"]
    for tcb in ("current_tcb", "reported_tcb", "committed_tcb", "launch_tcb"):
        value = getattr(claims, tcb)
        assert value.raw.hex() == fields[tcb], tcb
        assert value.parts() == spec_tcb(fields[tcb], vector.product), tcb
    assert claims.current_tcb.parts() == fields["current_tcb_decoded"]
    assert claims.reported_tcb.parts() == fields["reported_tcb_decoded"]
    assert claims.platform_info.raw == int(fields["platform_info"], 16)
    assert claims.signer_info.raw == int(fields["signer_info"], 16)
    assert claims.signing_key.value == exp["signing_key"].lower()
    assert claims.signer_info.mask_chip_key is bool(exp["mask_chip_key"])
    assert claims.signer_info.author_key_en is bool(exp["author_key_en"])
    for key in (
        "measurement",
        "report_data",
        "host_data",
        "family_id",
        "image_id",
        "id_key_digest",
        "author_key_digest",
        "report_id",
        "report_id_ma",
        "chip_id",
    ):
        assert getattr(claims, key) == fields[key], key
    assert claims.current_version == fields["current_version"]
    assert claims.committed_version == fields["committed_version"]
    for vec in ("launch_mit_vector", "current_mit_vector"):
        want = fields[vec]
        assert getattr(claims, vec) == (None if want is None else int(want, 16)), vec
    if exp["cpuid_fms"] is None:
        assert claims.cpuid_fam_id is None
    else:
        fms = tuple(int(x, 16) for x in re.findall(r"0x[0-9a-f]+", exp["cpuid_fms"]))
        assert (claims.cpuid_fam_id, claims.cpuid_mod_id, claims.cpuid_step) == fms
    assert claims.hcl is None
    assert claims.revocation.checked is False
    json.dumps(claims.to_dict())  # JSON-ready
    assert claims.to_dict()["measurement"] == fields["measurement"]


@pytest.mark.parametrize("name", NAMES)
def test_vector_vek_and_chain(name: str, store: TrustStore) -> None:
    vector = Vector(name)
    exp_cert = vector.exp["vek_cert"]
    claims = run(vector, store)
    vek = load_certificates(vector.vek_bytes, role="vek", platform="test")[0]
    info = claims.vek
    assert info.kind is SigningKey(vector.exp["signing_key"].lower())
    assert info.subject == vek.subject.rfc4514_string()
    assert info.issuer == vek.issuer.rfc4514_string()
    assert _cn(vek.subject) == exp_cert["subject_cn"]
    assert _cn(vek.issuer) == exp_cert["issuer_cn"]
    assert info.not_before == parse_z(exp_cert["not_before"])
    assert info.not_after == parse_z(exp_cert["not_after"])
    assert info.sha256 == _der_sha(vek)
    amd = exp_cert["amd_extensions"]
    assert info.product_name == amd["1.3.6.1.4.1.3704.1.2"]
    assert info.struct_version == amd["1.3.6.1.4.1.3704.1.1"]
    assert info.hwid == amd.get("1.3.6.1.4.1.3704.1.4")
    assert info.csp_id == amd.get("1.3.6.1.4.1.3704.1.5")
    inter, ark = x509.load_pem_x509_certificates(vector.chain_path.read_bytes())
    assert claims.chain == (_der_sha(vek), _der_sha(inter), _der_sha(ark))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
        assert vek.serial_number == exp_cert["serial"] == 0


# --- baseline appraisal ---------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_baseline_appraisal(name: str, store: TrustStore) -> None:
    vector = Vector(name)
    claims = run(vector, store)
    appraisal = appraise([claims], load_baseline(), vector.now)
    failed = {c.id for c in appraisal.with_status(CheckStatus.FAIL)}
    if name == "milan-v2-gsg-debug":
        assert not appraisal.accepted
        assert failed == {"sev_snp.guest_policy.debug"}
    elif name in PROVISIONAL:
        assert not appraisal.accepted
        assert failed == {"sev_snp.provisional_firmware"}
        permit = appraise([claims], parse_policy(PERMIT_PROVISIONAL), vector.now)
        assert permit.accepted
        assert {c.id: c.status for c in permit.checks}["sev_snp.provisional_firmware"] is (
            CheckStatus.PASS
        )
    else:
        assert appraisal.accepted, failed
        assert failed == set()
    # the baseline pins no workload: the measurement check is listed as skipped
    statuses = {c.id: c.status for c in appraisal.checks}
    assert statuses["sev_snp.measurement"] is CheckStatus.SKIP
    assert statuses["sev_snp.revocation"] is CheckStatus.SKIP


# --- validity at `now` ---------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_every_vector_expired_in_2033(name: str, store: TrustStore) -> None:
    vector = Vector(name)
    with pytest.raises(ChainExpiredError) as info:
        run(vector, store, now=datetime(2033, 1, 1, tzinfo=UTC))
    assert info.value.code == "chain.expired"


@pytest.mark.parametrize("name", NAMES)
def test_every_vector_not_yet_valid(name: str, store: TrustStore) -> None:
    vector = Vector(name)
    before = parse_z(vector.exp["vek_cert"]["not_before"]) - timedelta(seconds=1)
    with pytest.raises(ChainNotYetValidError) as info:
        run(vector, store, now=before)
    assert info.value.code == "chain.not_yet_valid"


@pytest.mark.parametrize("name", NAMES)
def test_validity_window_edges(name: str, store: TrustStore) -> None:
    vector = Vector(name)
    window = vector.exp["verification_time"]
    run(vector, store, now=parse_z(window["chain_valid_from"]))
    run(vector, store, now=parse_z(window["chain_valid_until"]))
    with pytest.raises(ChainExpiredError):
        run(vector, store, now=parse_z(window["chain_valid_until"]) + timedelta(seconds=1))


def test_vlek_expired_in_2026(store: TrustStore) -> None:
    with pytest.raises(ChainExpiredError) as info:
        run(Vector("milan-v3-vlek-aws"), store, now=datetime(2026, 1, 1, tzinfo=UTC))
    assert info.value.field == "VLEK.notAfter"


# --- product ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", V2)
def test_v2_needs_product(name: str, store: TrustStore) -> None:
    with pytest.raises(ProductRequiredError) as info:
        run(Vector(name), store, product=None)
    assert info.value.code == "snp.product_required"
    assert info.value.field == "product"


@pytest.mark.parametrize("name", V2)
def test_v2_with_wrong_product(name: str, store: TrustStore) -> None:
    for product in ("genoa", "turin"):
        with pytest.raises(ChainUntrustedError):
            run(Vector(name), store, product=product)


def test_v5_with_wrong_product(store: TrustStore) -> None:
    with pytest.raises(ChainUntrustedError):
        run(Vector("genoa-v5-oak"), store, product="milan")
    with pytest.raises(ChainUntrustedError):
        run(Vector("turin-v5-oak"), store, product=Product.GENOA)
    # the matching product is accepted and the CPUID still decides
    claims = run(Vector("genoa-v5-oak"), store, product="GENOA")
    assert claims.product_source == "cpuid"


def test_unknown_product_name(store: TrustStore) -> None:
    with pytest.raises(ProductRequiredError):
        run(Vector("milan-v2-virtee"), store, product="bergamo")


# --- trust store and supplied CA copies ---------------------------------------------------------


def test_replaced_intermediate_rejects(store: TrustStore) -> None:
    genoa_ask = store.require("amd.genoa.ask", platform="t").certificates[0]
    swapped = store.with_anchor("amd.milan.ask", [genoa_ask], source="test: genoa ask")
    for name in ("milan-v2-virtee", "milan-v2-trustee"):
        with pytest.raises(ChainUntrustedError):
            run(Vector(name), swapped)


def test_supplied_fake_ask_rejected(store: TrustStore) -> None:
    pinned_ask = store.require("amd.milan.ask", platform="t").certificates[0]
    key = ec.generate_private_key(ec.SECP384R1())
    fake = (
        x509.CertificateBuilder()
        .subject_name(pinned_ask.subject)
        .issuer_name(pinned_ask.issuer)
        .public_key(key.public_key())
        .serial_number(pinned_ask.serial_number)
        .not_valid_before(datetime(2020, 1, 1, tzinfo=UTC))
        .not_valid_after(datetime(2040, 1, 1, tzinfo=UTC))
        .sign(key, hashes.SHA384())
    )
    assert fake.subject.public_bytes() == pinned_ask.subject.public_bytes()
    vector = Vector("milan-v2-virtee")
    fake_item = CollateralItem(data=fake.public_bytes(Encoding.PEM), source="fake-ask.pem")
    collateral = CollateralSet.of([*vector.collateral(), fake_item])
    with pytest.raises(ChainUntrustedError) as info:
        run(vector, store, collateral=collateral)
    assert info.value.code == "chain.untrusted"
    # the genuine copy is fine
    real = CollateralItem(data=vector.chain_path.read_bytes(), source="chain.pem")
    run(vector, store, collateral=CollateralSet.of([*vector.collateral(), real]))


@pytest.mark.parametrize("name", ["vcek-invalid-legacy.der", "vcek-invalid-new.der"])
def test_synthetic_vcek_fails_chain(name: str, store: TrustStore) -> None:
    path = SNP / "synthetic-bad-vceks-trustee" / name
    collateral = CollateralSet.of([CollateralItem(data=path.read_bytes(), source=str(path))])
    with pytest.raises(ChainSignatureError) as info:
        run(Vector("milan-v2-trustee"), store, collateral=collateral)
    assert info.value.code == "chain.signature_invalid"


# --- evidence forms -------------------------------------------------------------------------


def cert_table(entries: list[tuple[uuid.UUID, bytes]]) -> bytes:
    header = 24 * (len(entries) + 1)
    head, body = bytearray(), bytearray()
    for guid, data in entries:
        head += guid.bytes + struct.pack("<II", header + len(body), len(data))
        body += data
    return bytes(head + bytes(24) + body)


def _milan_cas() -> tuple[bytes, bytes]:
    ask, ark = x509.load_pem_x509_certificates((ROOTS / "milan_ask_ark.pem").read_bytes())
    return ask.public_bytes(Encoding.DER), ark.public_bytes(Encoding.DER)


def test_extended_report_needs_no_collateral(store: TrustStore) -> None:
    vector = Vector("milan-v2-virtee")
    ask, ark = _milan_cas()
    table = cert_table([(GUID_VCEK, vector.vek_bytes), (GUID_ASK, ask), (GUID_ARK, ark)])
    claims = run(vector, store, evidence=vector.report + table, collateral=CollateralSet())
    assert claims.vek.source == "cert_table:vcek"
    assert claims.measurement == vector.fields["measurement"]
    assert claims.report_sha256 == vector.exp["report_sha256"]


def test_extended_report_ca_entries_are_never_trusted(store: TrustStore) -> None:
    vector = Vector("milan-v2-virtee")
    ask, _ = _milan_cas()
    # a SEV-Milan ASK copy in the table that is not byte-identical to the pinned one
    broken = bytearray(ask)
    broken[-1] ^= 0x01
    table = cert_table([(GUID_VCEK, vector.vek_bytes), (GUID_ASK, bytes(broken))])
    with pytest.raises(ChainUntrustedError):
        run(vector, store, evidence=vector.report + table, collateral=CollateralSet())
    # another product's (genuine) ASK is not a copy of Milan's: it is not used at all
    genoa_ask = store.require("amd.genoa.ask", platform="t").certificates[0]
    other = genoa_ask.public_bytes(Encoding.DER)
    table = cert_table([(GUID_VCEK, vector.vek_bytes), (GUID_ASK, other)])
    claims = run(vector, store, evidence=vector.report + table, collateral=CollateralSet())
    assert claims.chain[1] == _der_sha(x509.load_der_x509_certificate(ask))


@pytest.mark.parametrize("name", ["milan-v2-azure-hcl", "genoa-v3-azure-hcl"])
def test_hcl_report_binds_runtime_claims(name: str, store: TrustStore) -> None:
    vector = Vector(name)
    data = (vector.dir / "hcl_report.bin").read_bytes()
    claims = run(vector, store, evidence=data)
    assert claims.hcl is not None
    claim_size = int.from_bytes(data[1232:1236], "little")
    runtime = data[1236 : 1236 + claim_size]
    assert claims.hcl.runtime_claims_size == claim_size
    assert claims.hcl.runtime_claims_sha256 == hashlib.sha256(runtime).hexdigest()
    assert claims.hcl.runtime_claims_sha256 == vector.fields["report_data"][:64]
    for position in (0, claim_size // 2, claim_size - 1):
        tampered = bytearray(data)
        tampered[1236 + position] ^= 0x01
        with pytest.raises(BindingError) as info:
            run(vector, store, evidence=bytes(tampered))
        assert info.value.code == "binding.mismatch"
    # bytes after the claims are not covered and not read
    run(vector, store, evidence=data + b"\x00")


def test_all_real_veks_at_once(store: TrustStore) -> None:
    items = [CollateralItem(data=Vector(n).vek_bytes, source=n) for n in NAMES]
    turin_only = SNP / "turin-vcek-only-virtee" / "vcek.der"
    items.append(CollateralItem(data=turin_only.read_bytes(), source="turin-only"))
    collateral = CollateralSet.of(items)
    for name in NAMES:
        vector = Vector(name)
        claims = run(vector, store, collateral=collateral)
        own = load_certificates(vector.vek_bytes, role="vek", platform="t")[0]
        assert claims.vek.sha256 == _der_sha(own), name
        assert claims.vek.source == name


def test_no_vek_is_collateral_missing(store: TrustStore) -> None:
    vector = Vector("genoa-v5-oak")
    with pytest.raises(CollateralMissingError) as info:
        run(vector, store, collateral=CollateralSet())
    assert info.value.code == "collateral.missing"
    chain_only = CollateralItem(data=vector.chain_path.read_bytes(), source="chain")
    with pytest.raises(CollateralMissingError):
        run(vector, store, collateral=CollateralSet.of([chain_only]))
    # a VEK for another report only is not this report's VEK
    other = CollateralItem(data=Vector("milan-v2-virtee").vek_bytes, source="other")
    wrong = CollateralItem(data=Vector("turin-v5-oak").vek_bytes, source="wrong")
    with pytest.raises(CollateralMissingError):
        run(vector, store, collateral=CollateralSet.of([other, wrong]))


# --- collateral file formats ------------------------------------------------------------------


def _pem_of(der: bytes) -> bytes:
    return load_certificate(der, role="t", platform="t").public_bytes(Encoding.PEM)


def test_collateral_formats(store: TrustStore, tmp_path: Path) -> None:
    genoa = Vector("genoa-v5-oak")
    der_item = CollateralItem(data=genoa.vek_bytes, source="vcek.der")
    pem_item = CollateralItem(data=_pem_of(genoa.vek_bytes), source="vcek.pem")
    assert run(genoa, store, collateral=CollateralSet.of([der_item])).vek.source == "vcek.der"
    assert run(genoa, store, collateral=CollateralSet.of([pem_item])).vek.source == "vcek.pem"
    # a real PEM file (genoa-v3-azure-hcl/vcek.pem) and a VCEK+ASK+ARK bundle
    run(Vector("genoa-v3-azure-hcl"), store)
    azure = Vector("milan-v2-azure-hcl")
    assert azure.vek_path.name == "vcek_ask_ark.pem"
    assert len(load_certificates(azure.vek_bytes, role="t", platform="t")) == 3
    claims = run(azure, store)
    assert claims.vek.source == str(azure.vek_path)
    # files through the public API, recognised by content whatever their names
    (tmp_path / "a.bin").write_bytes(_pem_of(genoa.vek_bytes))
    (tmp_path / "b.crt").write_bytes(genoa.chain_path.read_bytes())
    appraisal = teeclient.verify(
        genoa.dir / "report.bin",
        collateral=[tmp_path / "a.bin", tmp_path / "b.crt"],
        at=genoa.now,
        trust=store,
    )
    assert appraisal.accepted
    claims_only = teeclient.verify_claims(
        genoa.report, collateral=[genoa.vek_bytes], at=genoa.now, trust=store
    )
    assert isinstance(claims_only, SnpClaims)
    assert claims_only.measurement == genoa.fields["measurement"]


# --- cryptography and serial-0 certificates (sev-snp.md §5.4, §10.6) -------------------------


def test_serial_zero_vek_still_loads() -> None:
    """Fails when cryptography stops accepting the serial-0 certificates AMD KDS issues."""
    der = Vector("genoa-v5-oak").vek_bytes
    with pytest.warns(CryptographyDeprecationWarning):
        cert = x509.load_der_x509_certificate(der)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
        assert cert.serial_number == 0
    # teeclient's loaders suppress that one warning, even when warnings are errors
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert load_certificate(der, role="vek", platform="t").subject == cert.subject
        assert len(load_certificates(_pem_of(der), role="vek", platform="t")) == 1


@pytest.mark.parametrize("name", ["genoa-v5-oak", "milan-v3-vlek-aws", "milan-v2-azure-hcl"])
def test_verify_with_warnings_as_errors(name: str) -> None:
    vector = Vector(name)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        claims = run(vector, TrustStore.vendor())
    assert claims.measurement == vector.fields["measurement"]


def test_reported_tcb_equals_vek_spls(store: TrustStore) -> None:
    for name in NAMES:
        vector = Vector(name)
        claims = run(vector, store)
        vek = load_certificates(vector.vek_bytes, role="vek", platform="t")[0]
        spl = parse_vek_extensions(vek).spl
        assert {k: spl[k] for k in claims.reported_tcb.parts()} == claims.reported_tcb.parts()
