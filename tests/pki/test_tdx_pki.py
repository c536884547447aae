"""Generated Intel PKI: what real vectors cannot show (statuses, expiry, revocation, bad chains)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote as url_quote

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from teeclient.collateral.items import CollateralItem, CollateralSet
from teeclient.errors import TeeclientError
from teeclient.platforms.tdx.claims import TdxClaims
from teeclient.platforms.tdx.pcs import TcbStatus
from teeclient.platforms.tdx.verify import verify
from teeclient.policy.appraise import appraise
from teeclient.policy.load import parse_policy
from teeclient.policy.result import Appraisal, CheckStatus
from teeclient.testing.pki.intel import (
    IntelCertOverrides,
    IntelPki,
    intel_name,
    level,
    module_identity,
    qe_identity_body,
    tcb_info_body,
)
from teeclient.testing.tdx_evidence import TdQuoteSpec, TdxTestbed
from teeclient.trust import INTEL_SGX_ROOT, TrustStore


@pytest.fixture(scope="module")
def tb() -> TdxTestbed:
    return TdxTestbed.create()


def _verify(
    tb: TdxTestbed,
    data: bytes | None = None,
    *,
    now: datetime | None = None,
    collateral: CollateralSet | None = None,
    **coll: Any,
) -> TdxClaims:
    return verify(
        data if data is not None else tb.quote(),
        trust=tb.trust(),
        now=now or tb.now,
        collateral=collateral if collateral is not None else tb.collateral(**coll),
    )


def _code(tb: TdxTestbed, data: bytes | None = None, **kw: Any) -> str:
    try:
        _verify(tb, data, **kw)
    except TeeclientError as exc:
        return exc.code
    return "ok"


_POLICY = """
version = 1
[revocation]
intel_crl = "require"
[[tdx]]
allowed_tcb_status = ["UpToDate"]
"""


def _appraise(claims: TdxClaims, now: datetime, extra: str = "") -> Appraisal:
    return appraise([claims], parse_policy(_POLICY + extra), now)


def _failed(appraisal: Appraisal) -> set[str]:
    return {c.id for c in appraisal.with_status(CheckStatus.FAIL)}


def test_vendor_store_pins_the_intel_root() -> None:
    anchor = TrustStore.vendor().get(INTEL_SGX_ROOT)
    assert anchor is not None
    assert anchor.fingerprints == (
        "44a0196b2b99f889b8e149e95b807a350e7424964399e885a7cbb8ccfab674d3",
    )


def test_generated_quote_is_accepted(tb: TdxTestbed) -> None:
    claims = _verify(tb)
    assert claims.tcb_status is TcbStatus.UP_TO_DATE
    assert _appraise(claims, tb.now).accepted


def test_generated_roots_are_not_trusted_by_default(tb: TdxTestbed) -> None:
    with pytest.raises(TeeclientError) as info:
        verify(tb.quote(), trust=TrustStore.vendor(), now=tb.now, collateral=tb.collateral())
    assert info.value.code == "chain.untrusted"


# --- every TCB status ---------------------------------------------------------------------------

_TD15 = {
    "version": 5,
    "body_type": 3,
    "tee_tcb_svn": bytes([4, 1, 3]) + bytes(13),
    "tee_tcb_svn2": bytes([6, 1, 3]) + bytes(13),
}
_MODULE_OOD = [module_identity(levels=((6, "UpToDate", ()), (4, "OutOfDate", ("INTEL-SA-00003",))))]

_STATUS_CASES: list[tuple[str, dict[str, Any], dict[str, Any], TcbStatus]] = [
    ("uptodate", {}, {}, TcbStatus.UP_TO_DATE),
    *[
        (s, {}, {"tcb_info": tcb_info_body(levels=[level(status=s)])}, TcbStatus(s))
        for s in (
            "SWHardeningNeeded",
            "ConfigurationNeeded",
            "ConfigurationAndSWHardeningNeeded",
            "OutOfDate",
            "OutOfDateConfigurationNeeded",
            "Revoked",
        )
    ],
    (
        "second-level-outofdate",
        {"tee_tcb_svn": bytes([6, 1, 2]) + bytes(13)},
        {
            "tcb_info": tcb_info_body(
                levels=[level(), level(tdx=(5, 0, 2) + (0,) * 13, status="OutOfDate")]
            )
        },
        TcbStatus.OUT_OF_DATE,
    ),
    (
        "not-supported-platform",
        {"tee_tcb_svn": bytes([6, 1, 2]) + bytes(13)},
        {},
        TcbStatus.TCB_NOT_SUPPORTED,
    ),
    (
        "not-supported-module",
        {"tee_tcb_svn": bytes([3, 1, 3]) + bytes(13)},
        {},
        TcbStatus.TCB_NOT_SUPPORTED,
    ),
    ("not-supported-qe", {"qe_isvsvn": 3}, {}, TcbStatus.TCB_NOT_SUPPORTED),
    (
        "module-mismatch-identity",
        {},
        {"tcb_info": tcb_info_body(identities=[module_identity("TDX_03")])},
        TcbStatus.TDX_MODULE_MISMATCH,
    ),
    ("module-mismatch-signer", {"mr_signer_seam": b"\x01" * 48}, {}, TcbStatus.TDX_MODULE_MISMATCH),
    (
        "module-mismatch-attributes",
        {"seam_attributes": b"\x01" + bytes(7)},
        {},
        TcbStatus.TDX_MODULE_MISMATCH,
    ),
    (
        "module-v0-signer-mismatch",
        {"tee_tcb_svn": bytes([5, 0, 3]) + bytes(13)},
        {"tcb_info": tcb_info_body(module_mrsigner="11" * 48)},
        TcbStatus.TDX_MODULE_MISMATCH,
    ),
    (
        "module-outofdate",
        {},
        {"tcb_info": tcb_info_body(identities=[module_identity(levels=((6, "OutOfDate", ()),))])},
        TcbStatus.OUT_OF_DATE,
    ),
    (
        "module-revoked",
        {},
        {"tcb_info": tcb_info_body(identities=[module_identity(levels=((6, "Revoked", ()),))])},
        TcbStatus.REVOKED,
    ),
    (
        "qe-outofdate",
        {},
        {"qe_identity": qe_identity_body(levels=((5, "UpToDate"), (4, "OutOfDate")))},
        TcbStatus.OUT_OF_DATE,
    ),
    (
        "qe-outofdate-config",
        {},
        {
            "tcb_info": tcb_info_body(levels=[level(status="ConfigurationNeeded")]),
            "qe_identity": qe_identity_body(levels=((5, "UpToDate"), (4, "OutOfDate"))),
        },
        TcbStatus.OUT_OF_DATE_CONFIGURATION_NEEDED,
    ),
    (
        "qe-revoked",
        {},
        {"qe_identity": qe_identity_body(levels=((4, "Revoked"),))},
        TcbStatus.REVOKED,
    ),
    (
        "relaunch",
        _TD15,
        {"tcb_info": tcb_info_body(identities=_MODULE_OOD)},
        TcbStatus.TD_RELAUNCH_ADVISED,
    ),
    (
        "relaunch-config",
        _TD15,
        {
            "tcb_info": tcb_info_body(
                levels=[level(status="ConfigurationNeeded")], identities=_MODULE_OOD
            )
        },
        TcbStatus.TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED,
    ),
    (
        "relaunch-module-v0",
        {**_TD15, "tee_tcb_svn2": bytes([5, 0, 3]) + bytes(13)},
        {"tcb_info": tcb_info_body(identities=_MODULE_OOD)},
        TcbStatus.TD_RELAUNCH_ADVISED,
    ),
    (
        "no-relaunch-old-svn2",
        {**_TD15, "tee_tcb_svn2": bytes([5, 1, 3]) + bytes(13)},
        {"tcb_info": tcb_info_body(identities=_MODULE_OOD)},
        TcbStatus.OUT_OF_DATE,
    ),
    (
        "relaunch-svn2-unknown-module",
        {**_TD15, "tee_tcb_svn2": bytes([6, 3, 3]) + bytes(13)},
        {"tcb_info": tcb_info_body(identities=_MODULE_OOD)},
        TcbStatus.TDX_MODULE_MISMATCH,
    ),
    (
        "td10-no-relaunch",
        {**_TD15, "body_type": 2},
        {"tcb_info": tcb_info_body(identities=_MODULE_OOD)},
        TcbStatus.OUT_OF_DATE,
    ),
]


@pytest.mark.parametrize(
    ("case", "spec", "coll", "status"), _STATUS_CASES, ids=[c[0] for c in _STATUS_CASES]
)
def test_every_tcb_status(
    tb: TdxTestbed, case: str, spec: dict[str, Any], coll: dict[str, Any], status: TcbStatus
) -> None:
    claims = _verify(tb, tb.quote(TdQuoteSpec(**spec)), **coll)
    assert claims.tcb_status is status, case
    appraisal = _appraise(claims, tb.now)
    assert appraisal.accepted is (status is TcbStatus.UP_TO_DATE)


def test_advisories_are_the_union_of_levels(tb: TdxTestbed) -> None:
    coll = {
        "tcb_info": tcb_info_body(
            levels=[level(status="SWHardeningNeeded", advisories=["INTEL-SA-00001"])],
            identities=[module_identity(levels=((6, "UpToDate", ("INTEL-SA-00002",)),))],
        )
    }
    claims = _verify(tb, tcb_info=coll["tcb_info"])
    assert claims.advisory_ids == ("INTEL-SA-00001", "INTEL-SA-00002")
    extra = 'allowed_advisory_ids = ["INTEL-SA-00001"]\n'
    policy = _POLICY.replace('["UpToDate"]', '["UpToDate", "SWHardeningNeeded"]') + extra
    appraisal = appraise([claims], parse_policy(policy), tb.now)
    assert _failed(appraisal) == {"tdx.advisory_ids"}
    policy = policy.replace('["INTEL-SA-00001"]', '["INTEL-SA-00001", "INTEL-SA-00002"]')
    assert appraise([claims], parse_policy(policy), tb.now).accepted


def test_out_of_date_grace_from_tcb_date(tb: TdxTestbed) -> None:
    date = datetime(2026, 1, 20, tzinfo=UTC)
    claims = _verify(tb, tcb_info=tcb_info_body(levels=[level(status="OutOfDate", date=date)]))
    assert claims.tcb_date == datetime(2024, 11, 13, tzinfo=UTC)  # QE level is older
    within = _verify(
        tb,
        tcb_info=tcb_info_body(levels=[level(status="OutOfDate", date=date)]),
        qe_identity=qe_identity_body(levels=((4, "UpToDate"),)),
    )
    assert _failed(_appraise(claims, tb.now, 'ootd_grace = "30d"\n')) == {"tdx.tcb_status"}
    appraisal = _appraise(claims, tb.now, 'min_tcb_date = "2024-11-01T00:00:00Z"\n')
    assert appraisal.accepted
    assert [c.status for c in appraisal.checks if c.id == "tdx.tcb_status"] == [CheckStatus.WARN]
    assert within.tcb_status is TcbStatus.OUT_OF_DATE


# --- collateral freshness -----------------------------------------------------------------------


def test_expired_and_not_yet_valid_collateral(tb: TdxTestbed) -> None:
    claims = _verify(tb)
    late = datetime(2026, 3, 1, tzinfo=UTC)  # TCB Info / QE Identity next update 2026-02-11
    expired = _appraise(claims, late)
    assert {"tdx.collateral.tcb_info", "tdx.collateral.qe_identity"} <= _failed(expired)
    graced = _appraise(claims, late, 'collateral_expiry_grace = "30d"\n')
    assert "tdx.collateral.tcb_info" not in _failed(graced)
    warn = {c.id for c in graced.with_status(CheckStatus.WARN)}
    assert {"tdx.collateral.tcb_info", "tdx.collateral.qe_identity"} <= warn
    early = _appraise(claims, datetime(2026, 1, 1, tzinfo=UTC))
    assert {
        "tdx.collateral.tcb_info",
        "tdx.collateral.qe_identity",
        "tdx.revocation.pck_crl",
    } <= _failed(early)
    # A stale PCK CRL: rejected, or accepted within allow-stale-until.
    stale = _appraise(
        claims, datetime(2026, 2, 15, tzinfo=UTC), 'collateral_expiry_grace = "30d"\n'
    )
    assert "tdx.revocation.pck_crl" in _failed(stale)
    lenient = appraise(
        [claims],
        parse_policy(
            _POLICY.replace('"require"', '"allow-stale-until:30d"')
            + 'collateral_expiry_grace = "30d"\n'
        ),
        datetime(2026, 2, 15, tzinfo=UTC),
    )
    assert lenient.accepted


def test_missing_crls_are_judged_by_policy(tb: TdxTestbed) -> None:
    items = [i for i in tb.pki.collateral_items() if "crl" not in i.source]
    claims = _verify(tb, collateral=CollateralSet.of(items))
    assert not claims.pck_crl.checked
    assert not claims.root_crl.checked
    assert {"tdx.revocation.pck_crl", "tdx.revocation.root_crl"} <= _failed(
        _appraise(claims, tb.now)
    )
    if_present = appraise(
        [claims], parse_policy(_POLICY.replace('"require"', '"if-present"')), tb.now
    )
    assert if_present.accepted
    skipped = {c.id for c in if_present.with_status(CheckStatus.SKIP)}
    assert {"tdx.revocation.pck_crl", "tdx.revocation.root_crl"} <= skipped


# --- revocation ---------------------------------------------------------------------------------


def test_revoked_pck(tb: TdxTestbed) -> None:
    crl = tb.pki.pck_crl(revoked=[tb.pck.cert.serial_number])
    assert _code(tb, collateral=tb.collateral(pck_crl=crl)) == "chain.revoked"


def test_revoked_pck_ca(tb: TdxTestbed) -> None:
    crl = tb.pki.root_crl(revoked=[tb.pki.pck_ca.serial_number])
    assert _code(tb, collateral=tb.collateral(root_crl=crl)) == "chain.revoked"


def test_revoked_tcb_signing_certificate(tb: TdxTestbed) -> None:
    crl = tb.pki.root_crl(revoked=[tb.pki.tcb_signing.serial_number])
    assert _code(tb, collateral=tb.collateral(root_crl=crl)) == "tdx.collateral_chain_invalid"


def test_pck_crl_signed_by_another_key(tb: TdxTestbed) -> None:
    crl = tb.pki.pck_crl(signing_key=ec.generate_private_key(ec.SECP256R1()))
    assert _code(tb, collateral=tb.collateral(pck_crl=crl)) == "collateral.signature_invalid"


def test_pck_crl_of_another_ca_is_not_applied(tb: TdxTestbed) -> None:
    crl = tb.pki.pck_crl(issuer=intel_name("Intel SGX PCK Processor CA"))
    claims = _verify(tb, collateral=tb.collateral(pck_crl=crl))
    assert not claims.pck_crl.checked
    assert "tdx.revocation.pck_crl" in _failed(_appraise(claims, tb.now))


# --- chains -------------------------------------------------------------------------------------


def test_wrong_tcb_signing_chain() -> None:
    tb = TdxTestbed.create()
    other = IntelPki.generate()
    swapped = tb.pki.replace(tcb_signing=other.tcb_signing, tcb_signing_key=other.tcb_signing_key)
    tb2 = TdxTestbed(pki=swapped, pck=tb.pck, attestation_key=tb.attestation_key)
    assert _code(tb2) == "tdx.collateral_chain_invalid"


def test_collateral_signed_by_another_key(tb: TdxTestbed) -> None:
    rogue = ec.generate_private_key(ec.SECP256R1())
    body = tb.pki.pcs_body("tcbInfo", tcb_info_body(), key=rogue)
    items = [i for i in tb.pki.collateral_items(with_headers=False) if i.source != "tcb_info.json"]
    items.append(CollateralItem(data=body, source="rogue.json"))
    assert _code(tb, collateral=CollateralSet.of(items)) == "collateral.signature_invalid"


@pytest.mark.parametrize(
    ("role", "overrides", "code"),
    [
        (
            "tcb_signing",
            IntelCertOverrides(not_after=datetime(2025, 1, 1, tzinfo=UTC)),
            "tdx.collateral_chain_invalid",
        ),
        (
            "tcb_signing",
            IntelCertOverrides(subject=intel_name("Intel SGX TCB Signer")),
            "tdx.collateral_chain_invalid",
        ),
        ("tcb_signing", IntelCertOverrides(ca=True, path_length=0), "tdx.collateral_chain_invalid"),
        (
            "pck_ca",
            IntelCertOverrides(not_before=datetime(2027, 1, 1, tzinfo=UTC)),
            "chain.not_yet_valid",
        ),
        (
            "pck_ca",
            IntelCertOverrides(subject=intel_name("Intel SGX PCK Other CA")),
            "chain.bad_certificate",
        ),
        ("pck_ca", IntelCertOverrides(path_length=None), "chain.bad_certificate"),
        ("pck_ca", IntelCertOverrides(ca=False), "chain.bad_certificate"),
        ("root", IntelCertOverrides(not_after=datetime(2025, 1, 1, tzinfo=UTC)), "chain.expired"),
    ],
)
def test_broken_ca_certificates(role: str, overrides: IntelCertOverrides, code: str) -> None:
    pki = IntelPki.generate(**{role: overrides})  # type: ignore[arg-type]
    tb = TdxTestbed.create(pki=pki)
    assert _code(tb) == code


@pytest.mark.parametrize(
    ("extension", "overrides", "code"),
    [
        ({}, IntelCertOverrides(not_after=datetime(2026, 1, 1, tzinfo=UTC)), "chain.expired"),
        ({}, IntelCertOverrides(omit_sgx_extension=True), "chain.bad_certificate"),
        (
            {},
            IntelCertOverrides(subject=intel_name("Intel SGX Other Certificate")),
            "chain.bad_certificate",
        ),
        ({}, IntelCertOverrides(ca=True, path_length=0), "chain.bad_certificate"),
        ({"replace": {"4": None}}, IntelCertOverrides(), "evidence.malformed"),
        (
            {"replace": {"4": bytes.fromhex("0405") + bytes(5)}},
            IntelCertOverrides(),
            "evidence.malformed",
        ),
        ({"components": (255,) * 16, "pce_svn": 65535}, IntelCertOverrides(), "ok"),
    ],
)
def test_pck_leaf_variants(
    extension: dict[str, Any], overrides: IntelCertOverrides, code: str
) -> None:
    pki = IntelPki.generate()
    tb = TdxTestbed.create(pki=pki, overrides=overrides, **extension)
    assert _code(tb) == code


def test_p384_pck_key_is_rejected() -> None:
    pki = IntelPki.generate()
    key = ec.generate_private_key(ec.SECP384R1())
    tb = TdxTestbed.create(pki=pki, overrides=IntelCertOverrides(public_key=key.public_key()))
    assert _code(tb) == "chain.bad_certificate"


# --- binding the collateral to the platform and the QE ----------------------------------------


def test_fmspc_and_pceid_mismatch(tb: TdxTestbed) -> None:
    assert _code(tb, tcb_info=tcb_info_body(fmspc="00a06d080000")) == "tdx.collateral_missing"
    assert _code(tb, tcb_info=tcb_info_body(pce_id="0001")) == "tdx.tcb_info_mismatch"
    # FMSPC hex case does not matter (dcap-qvl collateral writes it upper-case).
    assert _verify(tb, tcb_info=tcb_info_body(fmspc="90C06F000000")).pck.fmspc == "90c06f000000"


def test_module_version_without_identities(tb: TdxTestbed) -> None:
    assert _code(tb, tcb_info=tcb_info_body(identities=[])) == "tdx.tcb_info_mismatch"


@pytest.mark.parametrize(
    ("spec", "qe", "field"),
    [
        ({"qe_mrsigner": b"\x01" * 32}, {}, "qe_report.MRSIGNER"),
        ({"qe_isvprodid": 1}, {}, "qe_report.ISVPRODID"),
        ({"qe_attributes": bytes(16)}, {}, "qe_report.ATTRIBUTES"),
        ({"qe_miscselect": 1}, {}, "qe_report.MISCSELECT"),
        ({}, {"mrsigner": "ab" * 32}, "qe_report.MRSIGNER"),
    ],
)
def test_qe_identity_mismatch(
    tb: TdxTestbed, spec: dict[str, Any], qe: dict[str, Any], field: str
) -> None:
    with pytest.raises(TeeclientError) as info:
        _verify(tb, tb.quote(TdQuoteSpec(**spec)), qe_identity=qe_identity_body(**qe))
    assert (info.value.code, info.value.field) == ("tdx.qe_identity_mismatch", field)


def test_qe_report_data_upper_half_must_be_zero(tb: TdxTestbed) -> None:
    import hashlib

    from teeclient.testing.tdx_evidence import attestation_key_bytes

    spec = TdQuoteSpec()
    good = hashlib.sha256(attestation_key_bytes(tb.attestation_key) + spec.qe_auth_data).digest()
    data = tb.quote(spec.replace(qe_report_data=good + b"\x01" * 32))
    assert _code(tb, data) == "tdx.attestation_key_not_bound"


def test_debug_td_is_rejected_by_policy(tb: TdxTestbed) -> None:
    claims = _verify(tb, tb.quote(td_attributes=bytes.fromhex("0100001000000000")))
    assert claims.td_attributes.debug
    assert _failed(_appraise(claims, tb.now)) == {"tdx.td_attributes.debug"}
    assert _appraise(claims, tb.now, "td_attributes = { allow_debug = true }\n").accepted


# --- collateral forms ----------------------------------------------------------------------------


def test_collateral_forms_are_equivalent(tb: TdxTestbed) -> None:
    with_headers = _verify(tb, collateral=tb.collateral())
    separate = _verify(tb, collateral=tb.collateral(with_headers=False))
    bundle = _verify(
        tb,
        collateral=CollateralSet.of(
            [CollateralItem(data=tb.pki.dcap_qvl_json(), source="collateral.json")]
        ),
    )
    chain = url_quote(tb.pki.tcb_signing_chain_pem().decode(), safe="")
    tcb = tb.pki.pcs_body("tcbInfo", tcb_info_body())
    http = (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTCB-Info-Issuer-Chain: "
        + chain.encode()
        + b"\r\n\r\n"
        + tcb
    )
    items = [i for i in tb.pki.collateral_items() if i.source != "pcs:tcb"]
    saved = _verify(
        tb, collateral=CollateralSet.of([*items, CollateralItem(data=http, source="tcb.http")])
    )
    header_file = _verify(
        tb,
        collateral=CollateralSet.of(
            [
                *tb.pki.collateral_items(with_headers=False)[:2],
                CollateralItem(data=chain.encode(), source="tcb_chain.txt"),
                *tb.pki.collateral_items(with_headers=False)[3:],
            ]
        ),
    )
    statuses = {c.tcb_status for c in (with_headers, separate, bundle, saved, header_file)}
    assert statuses == {TcbStatus.UP_TO_DATE}
    assert with_headers.tcb_info.sha256 == bundle.tcb_info.sha256


def test_newest_matching_tcb_info_is_chosen(tb: TdxTestbed) -> None:
    old = tb.pki.pcs_body(
        "tcbInfo", tcb_info_body(issue=datetime(2025, 1, 1, tzinfo=UTC), evaluation_number=17)
    )
    other = tb.pki.pcs_body("tcbInfo", tcb_info_body(fmspc="00a06d080000"))
    items = tb.pki.collateral_items(with_headers=False)
    items += [
        CollateralItem(data=old, source="old.json"),
        CollateralItem(data=other, source="other.json"),
    ]
    claims = _verify(tb, collateral=CollateralSet.of(items))
    assert claims.tcb_info.tcb_evaluation_data_number == 18
    assert claims.tcb_info.source == "tcb_info.json"


def test_min_tcb_evaluation_data_number(tb: TdxTestbed) -> None:
    claims = _verify(tb)
    assert _appraise(claims, tb.now, "min_tcb_evaluation_data_number = 18\n").accepted
    failed = _failed(_appraise(claims, tb.now, "min_tcb_evaluation_data_number = 19\n"))
    assert failed == {"tdx.tcb_evaluation_data_number"}


def test_quote_v5_with_td10_body(tb: TdxTestbed) -> None:
    claims = _verify(tb, tb.quote(version=5, body_type=2))
    assert (claims.quote_version, claims.body_type, claims.mr_service_td) == (5, 2, None)


def test_verification_time_must_be_aware(tb: TdxTestbed) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        verify(tb.quote(), trust=tb.trust(), now=datetime(2026, 2, 1), collateral=tb.collateral())
