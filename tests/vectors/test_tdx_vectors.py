"""Real Intel TDX quotes and Intel collateral at the times expectations.json suggests."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

import pytest

from teeclient._time import iso, parse_time, utc_now
from teeclient._x509 import load_certificate
from teeclient.collateral.items import CollateralSet
from teeclient.errors import ChainExpiredError, TdxCollateralChainError, TdxCollateralMissingError
from teeclient.platforms.tdx import abi
from teeclient.platforms.tdx.claims import TdxClaims
from teeclient.platforms.tdx.pck import parse_pck_extensions
from teeclient.platforms.tdx.verify import verify
from teeclient.policy.appraise import appraise
from teeclient.policy.load import load_baseline
from teeclient.policy.result import CheckStatus
from tests.tdx_support import (
    TDX,
    collateral,
    expectations,
    names,
    quote,
    suggested_now,
    vendor_trust,
)


def _exp(name: str) -> dict[str, Any]:
    entry: dict[str, Any] = expectations()[name]
    return entry


@pytest.mark.parametrize("name", names())
def test_decode_every_field(name: str) -> None:
    e = _exp(name)
    data = quote(name)
    assert len(data) == e["quote_len"]
    assert hashlib.sha256(data).hexdigest() == e["quote_sha256"]
    q = abi.parse_quote(data)
    h = e["header"]
    assert (q.header.version, q.header.att_key_type) == (h["version"], h["att_key_type"])
    assert f"{q.header.tee_type:#x}" == h["tee_type"]
    assert q.header.reserved_qe_svn == h["qe_svn_or_res"]
    assert q.header.reserved_pce_svn == h["pce_svn_or_res"]
    assert q.header.qe_vendor_id.hex() == h["qe_vendor_id"]
    assert q.header.user_data.hex() == h["user_data"]
    assert int(q.body.body_type) == e["body_type"]
    assert len(q.body.raw) == e["body_len"]
    assert q.signed_size == e["signed_region_len"]
    assert q.signature_data_size == e["sig_data_len"]
    assert q.certification_data_type == e["certification_data_type"]
    assert q.pck_chain_type == e["inner_certification_data_type"]
    assert q.trailing_bytes == e["trailing_zero_padding_bytes"]
    body = q.body.to_dict()
    for key, value in e["td_body"].items():
        if key == "td_attributes":
            assert q.body.td_attributes.raw.hex() == value
        else:
            assert body[key] == value, key
    qe = e["qe_report"]
    r = q.qe_report
    assert (r.isv_svn, r.isv_prod_id, r.misc_select) == (
        qe["isvsvn"],
        qe["isvprodid"],
        qe["miscselect"],
    )
    assert (r.mr_signer.hex(), r.mr_enclave.hex(), r.attributes.hex()) == (
        qe["mrsigner"],
        qe["mrenclave"],
        qe["attributes"],
    )
    leaf = load_certificate(q.pck_chain_der[0], role="PCK", platform="tdx")
    ext = parse_pck_extensions(leaf)
    pck = e["pck"]
    assert ext.fmspc.hex() == pck["fmspc"]
    assert ext.pce_id.hex() == pck["pceid"]
    assert list(ext.sgx_tcb_components) == pck["sgx_tcb_comp_svns"]
    assert ext.pce_svn == pck["pcesvn"]
    assert ext.cpu_svn.hex() == pck["cpusvn"]
    assert ext.sgx_type == pck["sgx_type"]
    issuer = load_certificate(q.pck_chain_der[1], role="PCK CA", platform="tdx")
    assert pck["issuer_ca"] in issuer.subject.rfc4514_string()
    assert iso(leaf.not_valid_before_utc) == pck["not_before"]
    assert iso(leaf.not_valid_after_utc) == pck["not_after"]


def _verified(name: str) -> TdxClaims:
    return verify(
        quote(name), trust=vendor_trust(), now=suggested_now(name), collateral=collateral(name)
    )


@pytest.mark.parametrize("name", names(with_collateral=True))
def test_verifies_at_suggested_time(name: str) -> None:
    e = _exp(name)
    expected = e["expected"]
    assert all(
        expected[k]
        for k in (
            "pck_chain_to_intel_root",
            "qe_report_signature_by_pck",
            "qe_report_data_binds_attestation_key",
            "quote_signature_by_attestation_key",
            "tcb_info_signature",
            "qe_identity_signature",
        )
    )
    claims = _verified(name)
    assert claims.tcb_status.value == expected["final_tcb_status_intel_qvl_rules"]
    assert claims.tcb.qe_status.value == expected["qe_tcb_status"]
    platform = claims.tcb.tdx_level.status.value if claims.tcb.tdx_level else "TCB_NOT_SUPPORTED"
    assert platform == expected["platform_tdx_tcb_status"]
    matched = expected["matched_tcb_level"]
    if matched is None:
        assert claims.tcb.tdx_level is None
        assert claims.tcb_date is None
    else:
        assert claims.tcb.tdx_level is not None
        assert iso(claims.tcb.tdx_level.tcb_date) == matched["tcbDate"]
        assert claims.tcb.tdx_level.status.value == matched["status"]
        assert list(claims.tcb.tdx_level.advisory_ids) == (matched["advisories"] or [])
    module = expected["tdx_module_tcb_level"]
    if module is None:
        assert claims.tcb.module_level is None
    else:
        assert claims.tcb.module_level is not None
        assert claims.tcb.module_level.isvsvn == module["isvsvn"]
        assert claims.tcb.module_level.status.value == module["status"]
    assert claims.advisory_ids == ()
    body = e["td_body"]
    assert claims.mr_td == body["mrtd"]
    assert claims.rtmrs == tuple(body[f"rtmr{i}"] for i in range(4))
    assert claims.report_data == body["report_data"]
    assert claims.mr_seam == body["mrseam"]
    assert claims.td_attributes.raw.hex() == body["td_attributes"]
    assert claims.xfam == body["xfam"]
    assert claims.mr_service_td == body.get("mrservicetd")
    assert claims.tee_tcb_svn2 == body.get("tee_tcb_svn2")
    assert claims.pck.fmspc == e["pck"]["fmspc"]
    assert claims.qe_vendor_id == e["header"]["qe_vendor_id"]
    # Collateral: windows and evaluation numbers exactly as served.
    meta = e["collateral_meta"]
    assert iso(claims.tcb_info.issue_date) == meta["tcb_info"]["issueDate"]
    assert iso(claims.tcb_info.next_update) == meta["tcb_info"]["nextUpdate"]
    assert claims.tcb_info.tcb_evaluation_data_number == meta["tcb_info"]["tcbEvaluationDataNumber"]
    assert iso(claims.qe_identity.issue_date) == meta["qe_identity"]["issueDate"]
    assert claims.pck_crl.checked
    assert claims.root_crl.checked
    assert iso(claims.pck_crl.this_update) == meta["pck_crl"]["this_update"]  # type: ignore[arg-type]
    assert iso(claims.root_crl.next_update) == meta["root_crl"]["next_update"]  # type: ignore[arg-type]
    assert expected["pck_revoked"] is False
    assert expected["intermediate_revoked"] is False
    # JSON form carries what check_vectors.py looks for.
    out = claims.to_dict()
    assert out["mrtd"] == body["mrtd"]
    assert out["tcb_status"] == claims.tcb_status.value


@pytest.mark.parametrize("name", names(with_collateral=True))
def test_baseline_policy_outcome(name: str) -> None:
    claims = _verified(name)
    appraisal = appraise([claims], load_baseline(), suggested_now(name))
    failed = {c.id for c in appraisal.with_status(CheckStatus.FAIL)}
    status = claims.tcb_status.value
    if name == "v4-50806f-debugtd-trustee":
        assert failed == {"tdx.td_attributes.debug"}  # UpToDate, but a debuggable TD
    elif status == "UpToDate":
        assert appraisal.accepted, failed
    else:
        assert "tdx.tcb_status" in failed
    if name == "v5-tdx15-servicetd-trustee":
        assert "tdx.mr_service_td" in failed
    if name == "v4-spr-50806f-gtg":
        assert "tdx.td_attributes.sept_ve_disable" in failed


def test_quote_without_matching_collateral_is_a_collateral_error() -> None:
    name = "v4-gcp-cos113-padded"
    now = datetime(2025, 1, 1, tzinfo=UTC)
    with pytest.raises(TdxCollateralMissingError) as info:
        verify(quote(name), trust=vendor_trust(), now=now, collateral=CollateralSet())
    assert info.value.code == "tdx.collateral_missing"
    assert "00806f050000" in info.value.message
    other = CollateralSet.from_files(
        [TDX / "collateral-2026-01-tinfoil" / "tcb_info_00a06d080000.json"]
    )
    with pytest.raises(TdxCollateralMissingError) as info:
        verify(quote(name), trust=vendor_trust(), now=now, collateral=other)
    assert "00a06d080000" in str(info.value.actual)


def test_real_now_reports_expired_collateral() -> None:
    """At the real current time the dcap-qvl collateral (2025) has long expired."""
    name = "v4-b0c06f-dcap"
    now = utc_now()
    claims = verify(quote(name), trust=vendor_trust(), now=now, collateral=collateral(name))
    appraisal = appraise([claims], load_baseline(), now)
    failed = {c.id for c in appraisal.with_status(CheckStatus.FAIL)}
    assert not appraisal.accepted
    assert {
        "tdx.collateral.tcb_info",
        "tdx.collateral.qe_identity",
        "tdx.revocation.pck_crl",
    } <= failed


def test_2023_collateral_chain_expired_at_real_now() -> None:
    """The 2023 TCB Signing certificate expired on 2025-05-21: the chain itself fails."""
    name = "v4-50806f-debugtd-trustee"
    with pytest.raises(TdxCollateralChainError) as info:
        verify(
            quote(name),
            trust=vendor_trust(),
            now=parse_time("2025-06-01T00:00:00Z"),
            collateral=collateral(name),
        )
    assert info.value.field == "TCB Signing.notAfter"


def test_go_tdx_guest_2053_case_fails_on_the_pck_chain_first() -> None:
    """go-tdx-guest reports 'tcbInfo has expired' at 2053; the PCK chain is checked first here."""
    name = "v4-spr-50806f-gtg"
    with pytest.raises(ChainExpiredError) as info:
        verify(
            quote(name),
            trust=vendor_trust(),
            now=parse_time("2053-07-01T00:00:00Z"),
            collateral=collateral(name),
        )
    assert info.value.code == "chain.expired"


def test_2026_collateral_with_renewed_tcb_signing_certificate() -> None:
    """The renewed TCB Signing certificate (2025-05-06 .. 2032) verifies the 2026 collateral."""
    claims = _verified("v5-tdx15-90c06f-gtg")
    assert claims.tcb_info.signer_sha256 == claims.qe_identity.signer_sha256
    from teeclient._x509 import load_certificates

    path = TDX / "collateral-2026-01-tinfoil" / "tcb_info_90c06f000000_issuer_chain.pem"
    chain = load_certificates(path.read_bytes(), role="chain", platform="tdx")
    assert chain[0].not_valid_before_utc.year == 2025


def test_public_api_verifies_a_tdx_quote() -> None:
    import teeclient

    name = "v4-b0c06f-dcap"
    appraisal = teeclient.verify(
        TDX / name / "quote.dat",
        collateral=[TDX / name / "collateral.json"],
        at=suggested_now(name),
    )
    assert appraisal.accepted
    assert appraisal.components[0].kind == "tdx"
