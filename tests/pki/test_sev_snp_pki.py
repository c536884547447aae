"""Generated AMD PKIs: what real vectors cannot show (revocation, expiry, broken certificates,
every VEK↔report rule, every policy outcome on verified claims)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from teeclient.collateral.items import CollateralItem, CollateralSet
from teeclient.errors import (
    ChainError,
    ChainExpiredError,
    ChainExtensionError,
    ChainNotYetValidError,
    ChainRevokedError,
    ChainSignatureError,
    ChainUntrustedError,
    CollateralSignatureError,
    SnpChipIdMismatchError,
    SnpEndorsementMismatchError,
    SnpProductMismatchError,
    SnpProductUnknownError,
    SnpSignatureError,
    SnpTcbMismatchError,
    SnpUnsignedReportError,
    TeeclientError,
)
from teeclient.platforms.sev_snp.abi import Product, SigningKey
from teeclient.platforms.sev_snp.claims import SnpClaims
from teeclient.platforms.sev_snp.verify import verify
from teeclient.policy.appraise import appraise
from teeclient.policy.load import load_baseline, parse_policy
from teeclient.policy.result import Appraisal, CheckStatus
from teeclient.testing.evidence import SnpReportSpec, tcb_bytes
from teeclient.testing.pki.amd import AmdPki, CertOverrides, IssuedVek, amd_name, der_integer
from teeclient.trust import TrustStore
from tests._pki import amd_pki
from tests._snp import spec_tcb
from tests._toml import dumps

NOW = datetime(2026, 1, 1, tzinfo=UTC)
PRODUCTS = ["milan", "genoa", "turin"]

# Mutated names below carry a 6-letter country; cryptography warns about its length.
pytestmark = pytest.mark.filterwarnings("ignore:Attribute's length:UserWarning")


@cache
def store() -> TrustStore:
    """One store trusting the three generated PKIs (shared: signatures are memoised)."""
    out = TrustStore.empty()
    for product in PRODUCTS:
        out = amd_pki(product).trust_store(out)
    return out


@cache
def variant(name: str) -> AmdPki:
    """Genoa PKIs with one broken CA certificate (each generated once)."""
    nb = datetime(2020, 1, 1, tzinfo=UTC)
    options: dict[str, dict[str, Any]] = {
        "ask-not-ca": {"ask": CertOverrides(ca=False)},
        "ask-pathlen-1": {"ask": CertOverrides(path_length=1)},
        "ask-no-pathlen": {"ask": CertOverrides(path_length=None)},
        "ask-no-keycertsign": {"ask": CertOverrides(key_cert_sign=False)},
        "ask-expired": {
            "ask": CertOverrides(not_before=nb, not_after=datetime(2025, 1, 1, tzinfo=UTC))
        },
        "asvk-not-ca": {"asvk": CertOverrides(ca=False)},
        "ark-wrong-cn": {
            "ark": CertOverrides(subject=amd_name("ARK-Genoa2"), issuer_name=amd_name("ARK-Genoa2"))
        },
        "ark-not-self-signed": {
            "ark": CertOverrides(signing_key=rsa.generate_private_key(65537, 2048))
        },
        "twin": {},  # same names as the main Genoa PKI, different keys: never trusted
    }
    return AmdPki.generate("genoa", **options[name])


def _sha(der: bytes) -> str:
    return hashlib.sha256(der).hexdigest()


def _cert_sha(cert: x509.Certificate) -> str:
    return _sha(cert.public_bytes(Encoding.DER))


@dataclass(frozen=True, slots=True)
class Built:
    report: bytes
    vek: IssuedVek
    spec: SnpReportSpec
    pki: AmdPki


def build(
    product: str = "genoa",
    *,
    pki: AmdPki | None = None,
    vlek: bool = False,
    vek_tcb: dict[str, int] | None = None,
    vek_chip: bytes | None = None,
    struct_version: int | None = None,
    product_name: str | None = None,
    overrides: CertOverrides | None = None,
    not_before: datetime = datetime(2024, 1, 1, tzinfo=UTC),
    validity: timedelta | None = None,
    sign_with: ec.EllipticCurvePrivateKey | None = None,
    **changes: Any,
) -> Built:
    """A report for ``product`` and a VEK issued for its REPORTED_TCB (spec §3 decoding)."""
    pki = pki or amd_pki(product)
    spec = SnpReportSpec.for_product(product, **({"signing_key": 1} if vlek else {}) | changes)
    tcb = spec_tcb(spec.reported_tcb.hex(), product) | (vek_tcb or {})
    if vlek:
        vek = pki.issue_vlek(
            tcb=tcb,
            overrides=overrides,
            not_before=not_before,
            validity=validity or timedelta(days=365 * 3),
        )
    else:
        vek = pki.issue_vcek(
            chip_id=spec.chip_id if vek_chip is None else vek_chip,
            tcb=tcb,
            struct_version=struct_version,
            product_name=product_name,
            overrides=overrides,
            not_before=not_before,
            validity=validity or timedelta(days=7 * 365),
        )
    return Built(spec.build(sign_with or vek.key), vek, spec, pki)


def run(
    built: Built,
    *extra: bytes,
    trust: TrustStore | None = None,
    now: datetime = NOW,
    product: str | None = None,
    vek: bool = True,
) -> SnpClaims:
    items = [CollateralItem(data=built.vek.der, source="vek.der")] if vek else []
    items += [CollateralItem(data=d, source=f"extra-{i}") for i, d in enumerate(extra)]
    return verify(
        built.report,
        trust=trust or store(),
        now=now,
        collateral=CollateralSet.of(items),
        product=product,
    )


def fails(
    built: Built, error: type[TeeclientError], *extra: bytes, **kwargs: Any
) -> TeeclientError:
    with pytest.raises(error) as info:
        run(built, *extra, **kwargs)
    assert type(info.value) is error, type(info.value)
    return info.value


def judge(
    claims: SnpClaims,
    rule: dict[str, Any] | None = None,
    *,
    revocation: str | None = None,
    now: datetime = NOW,
) -> Appraisal:
    doc: dict[str, Any] = {"version": 1}
    if revocation is not None:
        doc["revocation"] = {"amd_crl": revocation}
    doc["sev_snp"] = [rule or {}]
    return appraise([claims], parse_policy(dumps(doc)), now)


def status(appraisal: Appraisal, check_id: str) -> CheckStatus:
    (found,) = [c for c in appraisal.checks if c.id == check_id]
    return found.status


def failed(appraisal: Appraisal) -> set[str]:
    return {c.id for c in appraisal.with_status(CheckStatus.FAIL)}


# --- positive: every claim equals the spec that built the report ------------------------------


def rich_spec(product: str, **changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "guest_svn": 7,
        "policy": 0x3001F,
        "family_id": bytes(range(16)),
        "image_id": bytes(range(16, 32)),
        "report_data": hashlib.sha512(b"nonce").digest(),
        "measurement": hashlib.sha384(product.encode()).digest(),
        "host_data": b"\x5a" * 32,
        "id_key_digest": b"\x01" * 48,
        "author_key_digest": b"\x02" * 48,
        "author_key_en": True,
        "report_id": b"\x03" * 32,
        "report_id_ma": b"\xff" * 32,
    }
    return base | changes


def assert_claims_equal_spec(claims: SnpClaims, built: Built, kind: SigningKey) -> None:
    spec = built.spec
    assert claims.product is Product(built.pki.product)
    assert claims.product_source == "cpuid"
    assert claims.version == spec.version
    assert claims.guest_svn == spec.guest_svn
    assert claims.policy.raw == spec.policy
    assert claims.vmpl == spec.vmpl
    assert claims.signature_algo == 1
    for name in (
        "family_id",
        "image_id",
        "report_data",
        "measurement",
        "host_data",
        "id_key_digest",
        "author_key_digest",
        "report_id",
        "report_id_ma",
        "chip_id",
    ):
        assert getattr(claims, name) == getattr(spec, name).hex(), name
    for name in ("current_tcb", "reported_tcb", "committed_tcb", "launch_tcb"):
        tcb = getattr(claims, name)
        assert tcb.raw == getattr(spec, name), name
        assert tcb.parts() == spec_tcb(getattr(spec, name).hex(), built.pki.product.value)
    assert claims.platform_info.raw == spec.platform_info
    assert claims.signer_info.author_key_en is spec.author_key_en
    assert claims.signer_info.mask_chip_key is spec.mask_chip_key
    assert claims.signing_key is kind
    assert spec.cpuid is not None
    assert (claims.cpuid_fam_id, claims.cpuid_mod_id, claims.cpuid_step) == spec.cpuid
    assert claims.current_version == ".".join(str(p) for p in spec.current_version)
    assert claims.committed_version == ".".join(str(p) for p in spec.committed_version)
    if spec.version >= 5:
        assert claims.launch_mit_vector == spec.launch_mit_vector
        assert claims.current_mit_vector == spec.current_mit_vector
    else:
        assert claims.launch_mit_vector is None
        assert claims.current_mit_vector is None
    assert claims.vek.kind is kind
    assert claims.vek.sha256 == _sha(built.vek.der)
    inter = built.pki.ask if kind is SigningKey.VCEK else built.pki.asvk
    assert claims.chain == (_sha(built.vek.der), _cert_sha(inter), _cert_sha(built.pki.ark))
    assert claims.report_sha256 == _sha(built.report)
    assert claims.revocation.checked is False


@pytest.mark.parametrize(("product", "version"), [("milan", 3), ("genoa", 5), ("turin", 5)])
def test_positive_vcek(product: str, version: int) -> None:
    built = build(product, **rich_spec(product, version=version))
    claims = run(built)
    assert_claims_equal_spec(claims, built, SigningKey.VCEK)
    assert claims.chip_id_bound is True
    assert (
        claims.vek.hwid
        == (built.spec.chip_id[:8] if product == "turin" else built.spec.chip_id).hex()
    )
    assert judge(claims, {"permit_provisional_firmware": False}).accepted
    assert load_baseline().sev_snp is not None
    assert appraise([claims], load_baseline(), NOW).accepted


@pytest.mark.parametrize(("product", "version"), [("genoa", 5), ("milan", 3), ("turin", 5)])
def test_positive_vlek(product: str, version: int) -> None:
    built = build(
        product, vlek=True, **rich_spec(product, version=version, vmpl=1, chip_id=bytes(64))
    )
    claims = run(built)
    assert_claims_equal_spec(claims, built, SigningKey.VLEK)
    assert claims.chip_id_bound is False
    assert claims.vek.csp_id == "CN=cc-test-1.example.com"
    assert claims.vek.hwid is None
    assert appraise([claims], load_baseline(), NOW).accepted


def test_turin_vlek_struct_version_either() -> None:
    # documented choice (verify._check_endorsement): no public Turin VLEK, accept 0 or 1
    for version in (0, 1):
        built = build(
            "turin", vlek=True, overrides=CertOverrides(amd_extensions={"1": der_integer(version)})
        )
        assert run(built).vek.struct_version == version


# --- revocation ---------------------------------------------------------------------------------


def test_revoked_ask() -> None:
    pki = amd_pki("genoa")
    built = build("genoa")
    err = fails(built, ChainRevokedError, pki.crl(revoked=[pki.ask.serial_number]))
    assert err.code == "chain.revoked"
    assert err.field == "ASK.serialNumber"


def test_revoked_asvk_on_vlek_path() -> None:
    pki = amd_pki("milan")
    built = build("milan", vlek=True, version=3)
    err = fails(built, ChainRevokedError, pki.crl(revoked=[pki.asvk.serial_number]))
    assert err.field == "ASVK.serialNumber"
    # the ASK's serial on the CRL does not concern the VLEK path
    claims = run(built, pki.crl(revoked=[pki.ask.serial_number]))
    assert claims.revocation.checked


def test_crl_not_listing_the_intermediate() -> None:
    pki = amd_pki("turin")
    crl = pki.crl(revoked=[pki.asvk.serial_number, 12345])
    claims = run(build("turin"), crl)
    rev = claims.revocation
    assert rev.checked
    assert rev.crl_sha256 == _sha(crl)
    assert rev.this_update == datetime(2025, 1, 1, tzinfo=UTC)
    assert rev.next_update == datetime(2030, 1, 1, tzinfo=UTC)
    assert rev.source == "extra-0"


def test_crl_pem_form_and_newest_wins() -> None:
    pki = amd_pki("genoa")
    old = pki.crl(this_update=datetime(2024, 1, 1, tzinfo=UTC))
    new = pki.crl(this_update=datetime(2025, 6, 1, tzinfo=UTC))
    pem = x509.load_der_x509_crl(new).public_bytes(Encoding.PEM)
    claims = run(build("genoa"), old, pem)
    assert claims.revocation.crl_sha256 == _sha(new)
    assert claims.revocation.this_update == datetime(2025, 6, 1, tzinfo=UTC)
    # a revoking CRL anywhere in the set still revokes
    fails(build("genoa"), ChainRevokedError, new, pki.crl(revoked=[pki.ask.serial_number]))


def test_crl_signed_by_wrong_key() -> None:
    pki = amd_pki("genoa")
    forged = pki.crl(revoked=[], signing_key=rsa.generate_private_key(65537, 2048))
    err = fails(build("genoa"), CollateralSignatureError, forged)
    assert err.code == "collateral.signature_invalid"


def test_crl_of_another_issuer_is_ignored() -> None:
    pki = amd_pki("genoa")
    other = pki.crl(revoked=[pki.ask.serial_number], issuer=amd_name("ARK-Elsewhere"))
    milan = amd_pki("milan")
    claims = run(build("genoa"), other, milan.crl(revoked=[pki.ask.serial_number]))
    assert claims.revocation.checked is False


def _with_crl(**crl: Any) -> SnpClaims:
    return run(build("genoa"), amd_pki("genoa").crl(**crl))


@pytest.mark.parametrize(
    ("mode", "crl", "expected"),
    [
        ("require", {}, CheckStatus.PASS),
        ("if-present", {}, CheckStatus.PASS),
        ("allow-stale-until:7d", {}, CheckStatus.PASS),
        ("off", {}, CheckStatus.SKIP),
        ("require", None, CheckStatus.FAIL),
        ("if-present", None, CheckStatus.SKIP),
        ("off", None, CheckStatus.SKIP),
        ("allow-stale-until:30d", None, CheckStatus.FAIL),
        # stale: nextUpdate 2025-12-01, verification at 2026-01-01 (31 days late)
        ("require", {"next_update": datetime(2025, 12, 1, tzinfo=UTC)}, CheckStatus.FAIL),
        ("if-present", {"next_update": datetime(2025, 12, 1, tzinfo=UTC)}, CheckStatus.FAIL),
        (
            "allow-stale-until:60d",
            {"next_update": datetime(2025, 12, 1, tzinfo=UTC)},
            CheckStatus.WARN,
        ),
        (
            "allow-stale-until:30d",
            {"next_update": datetime(2025, 12, 1, tzinfo=UTC)},
            CheckStatus.FAIL,
        ),
        ("off", {"next_update": datetime(2025, 12, 1, tzinfo=UTC)}, CheckStatus.SKIP),
        # issued after the verification time
        ("require", {"this_update": datetime(2026, 2, 1, tzinfo=UTC)}, CheckStatus.FAIL),
        ("if-present", {"this_update": datetime(2026, 2, 1, tzinfo=UTC)}, CheckStatus.FAIL),
        (
            "allow-stale-until:365d",
            {"this_update": datetime(2026, 2, 1, tzinfo=UTC)},
            CheckStatus.FAIL,
        ),
    ],
)
def test_crl_freshness_through_policy(
    mode: str, crl: dict[str, Any] | None, expected: CheckStatus
) -> None:
    claims = run(build("genoa")) if crl is None else _with_crl(**crl)
    appraisal = judge(claims, revocation=mode)
    assert status(appraisal, "sev_snp.revocation") is expected
    assert appraisal.accepted is (expected is not CheckStatus.FAIL)


def test_crl_warn_only_turns_stale_fail_into_warn() -> None:
    claims = _with_crl(next_update=datetime(2025, 12, 1, tzinfo=UTC))
    appraisal = judge(claims, {"warn_only": ["sev_snp.revocation"]}, revocation="require")
    assert status(appraisal, "sev_snp.revocation") is CheckStatus.WARN
    assert appraisal.accepted


# --- validity -------------------------------------------------------------------------------


def test_expired_vcek() -> None:
    built = build(
        "genoa", not_before=datetime(2021, 1, 1, tzinfo=UTC), validity=timedelta(days=365)
    )
    err = fails(built, ChainExpiredError)
    assert err.field == "VCEK.notAfter"
    run(built, now=datetime(2021, 6, 1, tzinfo=UTC))


def test_not_yet_valid_vcek() -> None:
    built = build("genoa", not_before=datetime(2027, 1, 1, tzinfo=UTC))
    err = fails(built, ChainNotYetValidError)
    assert err.field == "VCEK.notBefore"


def test_expired_ask() -> None:
    pki = variant("ask-expired")
    built = build("genoa", pki=pki, not_before=datetime(2024, 1, 1, tzinfo=UTC))
    err = fails(built, ChainExpiredError, trust=pki.trust_store())
    assert err.field == "ASK.notAfter"
    run(built, trust=pki.trust_store(), now=datetime(2024, 6, 1, tzinfo=UTC))


# --- wrong roots --------------------------------------------------------------------------------


def test_genoa_vcek_with_milan_cpuid() -> None:
    # a VCEK from the (trusted) Genoa PKI with a report whose CPUID says Milan
    genoa = amd_pki("genoa")
    spec = SnpReportSpec.for_product("milan")
    tcb = spec_tcb(spec.reported_tcb.hex(), "milan")
    vek = genoa.issue_vcek(chip_id=spec.chip_id, tcb=tcb, product_name="Milan-B0")
    built = Built(spec.build(vek.key), vek, spec, genoa)
    fails(built, SnpEndorsementMismatchError)
    fails(built, ChainUntrustedError, product="milan")
    fails(built, SnpProductMismatchError, product="genoa")


def test_vcek_from_untrusted_twin_pki() -> None:
    twin = variant("twin")
    assert twin.ask.subject == amd_pki("genoa").ask.subject
    built = build("genoa", pki=twin)
    err = fails(built, ChainSignatureError)
    assert err.field == "VCEK.signature"


def test_product_store_without_genoa() -> None:
    fails(build("genoa"), ChainUntrustedError, trust=amd_pki("milan").trust_store())


def test_vek_signed_by_another_key() -> None:
    other = ec.generate_private_key(ec.SECP384R1())
    err = fails(build("genoa", sign_with=other), SnpSignatureError)
    assert err.code == "snp.signature_invalid"


# --- VEK TCB and CHIP_ID rules ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("product", "component"),
    [
        (p, c)
        for p in ("milan", "genoa")
        for c in ("bl", "tee", "snp", "ucode", "spl4", "spl5", "spl6", "spl7")
    ]
    + [("turin", c) for c in ("fmc", "bl", "tee", "snp", "ucode", "spl5", "spl6", "spl7")],
)
def test_vek_tcb_differs_from_reported(product: str, component: str) -> None:
    reported = spec_tcb(SnpReportSpec.for_product(product).reported_tcb.hex(), product)
    value = reported.get(component, 0) + 1
    err = fails(build(product, vek_tcb={component: value}), SnpTcbMismatchError)
    assert err.code == "snp.tcb_mismatch"
    assert err.field is not None
    assert err.field.startswith("VCEK.")


def test_turin_vcek_with_spl4_and_genoa_vcek_with_fmc() -> None:
    fails(
        build("turin", overrides=CertOverrides(amd_extensions={"3.4": der_integer(1)})),
        SnpTcbMismatchError,
    )
    fails(
        build("genoa", overrides=CertOverrides(amd_extensions={"3.9": der_integer(1)})),
        SnpTcbMismatchError,
    )
    # an fmcSPL of 0 on a Genoa VCEK is still an extension Genoa does not have
    fails(
        build("genoa", overrides=CertOverrides(amd_extensions={"3.9": der_integer(0)})),
        SnpTcbMismatchError,
    )


def test_vek_tcb_missing_component() -> None:
    built = build("genoa", overrides=CertOverrides(amd_extensions={"3.3": None}))
    fails(built, SnpTcbMismatchError)


def test_reported_above_current_tcb() -> None:
    high = tcb_bytes("genoa", bl=10, tee=0, snp=25, ucode=85)
    built = build("genoa", reported_tcb=high)  # current stays ucode 84
    err = fails(built, SnpTcbMismatchError)
    assert err.field == "REPORTED_TCB"
    low = tcb_bytes("genoa", bl=9, tee=0, snp=25, ucode=84)
    assert run(build("genoa", reported_tcb=low)).reported_tcb.raw == low


def test_hwid_differs_from_chip_id() -> None:
    for product in PRODUCTS:
        chip = SnpReportSpec.for_product(product).chip_id
        wrong = bytes([chip[0] ^ 1]) + chip[1:]
        err = fails(build(product, vek_chip=wrong), SnpChipIdMismatchError)
        assert err.field == "CHIP_ID"
    # the last byte of a 64-byte id matters too
    chip = SnpReportSpec.for_product("genoa").chip_id
    fails(build("genoa", vek_chip=chip[:63] + bytes([chip[63] ^ 0x80])), SnpChipIdMismatchError)


def test_turin_chip_id_tail_must_be_zero() -> None:
    chip = bytes(range(1, 9)) + bytes(55) + b"\x01"
    fails(build("turin", chip_id=chip), SnpChipIdMismatchError)


def test_vcek_hwid_shape() -> None:
    fails(
        build("turin", overrides=CertOverrides(amd_extensions={"4": bytes(range(64))})),
        SnpEndorsementMismatchError,
    )
    fails(
        build("genoa", overrides=CertOverrides(amd_extensions={"4": None})),
        SnpEndorsementMismatchError,
    )


def test_unmasked_zero_chip_id_on_vcek() -> None:
    built = build("genoa", chip_id=bytes(64), vek_chip=bytes(range(64)))
    fails(built, SnpChipIdMismatchError)


def test_masked_chip_id() -> None:
    built = build("genoa", mask_chip_key=True, chip_id=bytes(64), vek_chip=bytes(range(64)))
    claims = run(built)
    assert claims.chip_id_bound is False
    assert claims.signer_info.mask_chip_key
    baseline = appraise([claims], load_baseline(), NOW)
    assert failed(baseline) == {"sev_snp.masked_chip_id"}
    allowed = judge(claims, {"allow_masked_chip_id": True})
    assert allowed.accepted
    assert status(allowed, "sev_snp.masked_chip_id") is CheckStatus.PASS
    # masked flag with a non-zero CHIP_ID: still compared with hwID
    fails(build("genoa", mask_chip_key=True, vek_chip=bytes(64)), SnpChipIdMismatchError)


# --- report fields judged by policy on verified claims ---------------------------------------


def test_provisional_firmware() -> None:
    current = tcb_bytes("genoa", bl=10, tee=0, snp=25, ucode=84)
    lower = tcb_bytes("genoa", bl=10, tee=0, snp=25, ucode=80)
    for changes in (
        {"committed_tcb": lower},
        {"committed_version": (1, 55, 40)},
        {"committed_version": (1, 54, 43)},
    ):
        claims = run(build("genoa", current_tcb=current, **changes))
        assert failed(appraise([claims], load_baseline(), NOW)) == {"sev_snp.provisional_firmware"}
        permit = judge(claims, {"permit_provisional_firmware": True})
        assert status(permit, "sev_snp.provisional_firmware") is CheckStatus.PASS
        assert permit.accepted
    higher = tcb_bytes("genoa", bl=10, tee=0, snp=25, ucode=90)
    for changes in ({"committed_tcb": higher}, {"committed_version": (1, 55, 44)}):
        claims = run(build("genoa", **changes))
        permit = judge(claims, {"permit_provisional_firmware": True})
        assert status(permit, "sev_snp.provisional_firmware") is CheckStatus.FAIL
        assert not permit.accepted


def test_debug_policy_bit() -> None:
    claims = run(build("genoa", policy=0x30000 | 1 << 19))
    assert claims.policy.debug
    assert failed(appraise([claims], load_baseline(), NOW)) == {"sev_snp.guest_policy.debug"}
    allowed = judge(claims, {"guest_policy": {"allow": ["smt", "debug"]}})
    assert allowed.accepted
    assert status(allowed, "sev_snp.guest_policy.debug") is CheckStatus.PASS


def test_vmpl_mismatch() -> None:
    claims = run(build("genoa", vmpl=2))
    assert status(judge(claims, {"vmpl": [0, 1]}), "sev_snp.vmpl") is CheckStatus.FAIL
    assert status(judge(claims, {"vmpl": 0}), "sev_snp.vmpl") is CheckStatus.FAIL
    assert status(judge(claims, {"vmpl": [1, 2]}), "sev_snp.vmpl") is CheckStatus.PASS
    assert status(judge(claims), "sev_snp.vmpl") is CheckStatus.SKIP


@cache
def listed_claims() -> SnpClaims:
    return run(build("genoa", **rich_spec("genoa")))


ALLOW_LISTS = {
    # policy key: (check id, claims attribute)
    "measurement": ("sev_snp.measurement", "measurement"),
    "host_data": ("sev_snp.host_data", "host_data"),
    "family_id": ("sev_snp.family_id", "family_id"),
    "image_id": ("sev_snp.image_id", "image_id"),
    "report_id": ("sev_snp.report_id", "report_id"),
    "report_id_ma": ("sev_snp.report_id_ma", "report_id_ma"),
    "report_data": ("sev_snp.report_data", "report_data"),
    "chip_ids": ("sev_snp.chip_id", "chip_id"),
    "trusted_id_key_hashes": ("sev_snp.id_block", "id_key_digest"),
    "trusted_author_key_hashes": ("sev_snp.author_key", "author_key_digest"),
}


@pytest.mark.parametrize("key", list(ALLOW_LISTS))
def test_allow_lists(key: str) -> None:
    claims = listed_claims()
    check_id, attr = ALLOW_LISTS[key]
    value: str = getattr(claims, attr)
    other = ("f" if value[0] != "f" else "e") + value[1:]
    cases = [
        ([other], CheckStatus.FAIL),
        ([other, value.upper()], CheckStatus.PASS),
        (value, CheckStatus.PASS),
        ("0x" + value, CheckStatus.PASS),
        ([], CheckStatus.FAIL),
    ]
    for listed, want in cases:
        appraisal = judge(claims, {key: listed})
        assert status(appraisal, check_id) is want, (listed, want)
        assert appraisal.accepted is (want is CheckStatus.PASS)


def test_author_key_needs_author_key_en() -> None:
    claims = run(build("genoa", **rich_spec("genoa", author_key_en=False)))
    digest = claims.author_key_digest
    appraisal = judge(claims, {"trusted_author_key_hashes": [digest]})
    assert status(appraisal, "sev_snp.author_key") is CheckStatus.FAIL
    # require_author_key without any trusted hash: nothing is trusted
    appraisal = judge(listed_claims(), {"require_author_key": True})
    assert status(appraisal, "sev_snp.author_key") is CheckStatus.FAIL
    assert status(appraisal, "sev_snp.id_block") is CheckStatus.FAIL


def test_id_block_trusted_through_author_key() -> None:
    claims = listed_claims()
    rule = {"require_id_block": True, "trusted_author_key_hashes": [claims.author_key_digest]}
    appraisal = judge(claims, rule)
    assert status(appraisal, "sev_snp.id_block") is CheckStatus.PASS
    assert status(appraisal, "sev_snp.author_key") is CheckStatus.PASS
    appraisal = judge(claims, {"require_id_block": True})
    assert status(appraisal, "sev_snp.id_block") is CheckStatus.FAIL


# --- VEK kind and extensions versus the report --------------------------------------------


def test_signing_key_vlek_but_vcek_signed() -> None:
    built = build("genoa", signing_key=1)  # a VCEK is issued and signs
    err = fails(built, SnpEndorsementMismatchError)
    assert err.field == "SIGNER_INFO.SIGNING_KEY"


def test_signing_key_vcek_but_vlek_signed() -> None:
    pki = amd_pki("genoa")
    spec = SnpReportSpec.for_product("genoa", signing_key=0)
    vlek = pki.issue_vlek(
        tcb=spec_tcb(spec.reported_tcb.hex(), "genoa"), validity=timedelta(days=3 * 365)
    )
    fails(Built(spec.build(vlek.key), vlek, spec, pki), SnpEndorsementMismatchError)


def test_vlek_with_hwid_or_without_csp_id() -> None:
    with_hwid = CertOverrides(amd_extensions={"4": bytes(64)})
    fails(build("genoa", vlek=True, overrides=with_hwid), SnpEndorsementMismatchError)
    no_csp = CertOverrides(amd_extensions={"5": None})
    fails(build("genoa", vlek=True, overrides=no_csp), SnpEndorsementMismatchError)


@pytest.mark.parametrize(
    ("product", "version"), [("genoa", 1), ("milan", 1), ("turin", 0), ("turin", 2), ("genoa", 5)]
)
def test_wrong_struct_version(product: str, version: int) -> None:
    err = fails(build(product, struct_version=version), SnpEndorsementMismatchError)
    assert err.field == "VCEK.structVersion"


def test_missing_struct_version() -> None:
    built = build("genoa", overrides=CertOverrides(amd_extensions={"1": None}))
    fails(built, SnpEndorsementMismatchError)


@pytest.mark.parametrize("name", ["Genoa", "Cookie-B0", "Turin", "Milano-B0", "-Milan", ""])
def test_wrong_product_name(name: str) -> None:
    err = fails(build("milan", product_name=name), SnpEndorsementMismatchError)
    assert err.field == "VCEK.productName"


def test_product_name_stepping_not_enforced() -> None:
    # CPUID stepping 1, productName stepping B0 or B1: only the product line is compared
    for name in ("Milan-B0", "Milan-B1", "Milan"):
        assert run(build("milan", product_name=name)).vek.product_name == name
    fails(
        build("milan", overrides=CertOverrides(amd_extensions={"2": None})),
        SnpEndorsementMismatchError,
    )


def test_vek_signed_with_pkcs1v15() -> None:
    err = fails(build("genoa", overrides=CertOverrides(use_pkcs1v15=True)), ChainExtensionError)
    assert err.field == "VCEK.signatureAlgorithm"
    err = fails(
        build("genoa", overrides=CertOverrides(hash_algorithm=hashes.SHA256())), ChainExtensionError
    )
    assert err.field == "VCEK.signatureAlgorithm"


def test_vek_with_p256_key() -> None:
    p256 = ec.generate_private_key(ec.SECP256R1()).public_key()
    err = fails(build("genoa", overrides=CertOverrides(public_key=p256)), ChainExtensionError)
    assert err.field == "VCEK.publicKey"


def test_vek_with_rsa_key() -> None:
    key = amd_pki("genoa").ask_key.public_key()
    fails(build("genoa", overrides=CertOverrides(public_key=key)), ChainExtensionError)


@pytest.mark.parametrize(
    "name",
    ["ask-not-ca", "ask-pathlen-1", "ask-no-pathlen", "ask-no-keycertsign", "ark-wrong-cn"],
)
def test_broken_ca_certificates(name: str) -> None:
    pki = variant(name)
    err = fails(build("genoa", pki=pki), ChainExtensionError, trust=pki.trust_store())
    assert err.code == "chain.bad_certificate"


def test_asvk_not_ca_on_vlek_path() -> None:
    pki = variant("asvk-not-ca")
    fails(build("genoa", pki=pki, vlek=True), ChainExtensionError, trust=pki.trust_store())
    run(build("genoa", pki=pki), trust=pki.trust_store())  # the VCEK path is unaffected


def test_ark_not_self_signed() -> None:
    pki = variant("ark-not-self-signed")
    err = fails(build("genoa", pki=pki), ChainSignatureError, trust=pki.trust_store())
    assert err.field == "ARK.signature"


def _vek_name(attribute: str, value: str) -> x509.Name:
    oids = {
        "country": NameOID.COUNTRY_NAME,
        "state": NameOID.STATE_OR_PROVINCE_NAME,
        "org": NameOID.ORGANIZATION_NAME,
        "locality": NameOID.LOCALITY_NAME,
        "ou": NameOID.ORGANIZATIONAL_UNIT_NAME,
        "cn": NameOID.COMMON_NAME,
    }
    attrs: list[x509.NameAttribute[str | bytes]] = []
    for attr in amd_name("SEV-VCEK"):
        if attr.oid == oids[attribute]:
            if value:
                # _validate=False: cryptography refuses a 6-letter country otherwise
                attrs.append(x509.NameAttribute(attr.oid, value, _validate=False))
        else:
            attrs.append(attr)
    return x509.Name(attrs)


@pytest.mark.parametrize(
    ("attribute", "value"),
    [
        ("country", "Canada"),
        ("country", "CA"),
        ("state", "TX"),
        ("org", "Advanced Micro"),
        ("locality", "Austin"),
        ("ou", ""),
        ("cn", "SEV-VCEX"),
        ("cn", "SEV-VLEK"),
    ],
)
def test_vek_with_wrong_name_attributes(attribute: str, value: str) -> None:
    err = fails(
        build("genoa", overrides=CertOverrides(subject=_vek_name(attribute, value))),
        ChainExtensionError,
    )
    assert err.field is not None
    assert err.field.startswith("VCEK.subject")


def test_unsigned_report() -> None:
    built = build("genoa", signing_key=7)
    err = fails(built, SnpUnsignedReportError)
    assert err.code == "snp.unsigned_report"


@pytest.mark.parametrize("cpuid", [(0x19, 0xA0, 0x01), (0x17, 0x31, 0x00), (0x1A, 0x11, 0x00)])
def test_unknown_cpuid(cpuid: tuple[int, int, int]) -> None:
    err = fails(build("genoa", cpuid=cpuid), SnpProductUnknownError)
    assert err.code == "snp.product_unknown"


def test_v2_report_from_generated_pki() -> None:
    built = build("milan", version=2)
    claims = run(built, product="milan")
    assert claims.product_source == "caller"
    assert claims.cpuid_fam_id is None
    with pytest.raises(TeeclientError) as info:
        run(built)
    assert info.value.code == "snp.product_required"


def test_chain_errors_are_exit_code_3() -> None:
    from teeclient.cli.exit_codes import exit_code_for

    with pytest.raises(ChainError) as info:
        run(build("genoa", pki=variant("twin")))
    assert exit_code_for(info.value) == 3
