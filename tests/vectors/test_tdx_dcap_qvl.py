"""Differential test against Phala's dcap-qvl (Rust, Python bindings) as a test-only oracle.

For every real vector and for generated collateral covering every TCB status, teeclient and
dcap-qvl must agree on signatures (both accept or both reject) and on the TCB status and
advisory ids. Where the libraries are known to differ (specs/tdx.md §9), the expected
difference is asserted — teeclient follows Intel QVL — rather than skipped:

* dcap-qvl turns Revoked, TCB_NOT_SUPPORTED and TDX_MODULE_MISMATCH into verification errors;
  teeclient returns them as statuses (Intel QVL semantics) that no policy can accept by default.
* dcap-qvl rejects a debuggable TD during verification; teeclient verifies it and leaves the
  decision to policy (``tdx.td_attributes.debug``, rejected by the baseline).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from teeclient.errors import TeeclientError
from teeclient.platforms.tdx import pcs
from teeclient.platforms.tdx.pcs import TcbStatus
from teeclient.platforms.tdx.verify import verify
from teeclient.testing.pki.intel import level, module_identity, qe_identity_body, tcb_info_body
from teeclient.testing.tdx_evidence import TdQuoteSpec, TdxTestbed
from tests.tdx_support import (
    TDX,
    collateral,
    expectations,
    names,
    quote,
    suggested_now,
    vendor_trust,
)

dcap_qvl = pytest.importorskip(
    "dcap_qvl", reason="DIFFERENTIAL TEST SKIPPED: pip install dcap-qvl (in the test extra)"
)

# Our status -> what dcap-qvl reports: a status string, or ("error", substring).
_AS_DCAP: dict[TcbStatus, Any] = {
    TcbStatus.TD_RELAUNCH_ADVISED: "TDRelaunchAdvised",
    TcbStatus.TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED: "TDRelaunchAdvisedConfigurationNeeded",
    TcbStatus.REVOKED: ("error", "Revoked"),
    TcbStatus.TCB_NOT_SUPPORTED: ("error", ""),
    TcbStatus.TDX_MODULE_MISMATCH: ("error", "TDX module"),
}


def _dcap_collateral(name: str) -> Any:
    files = expectations()[name]["collateral_files"]
    base = TDX / name
    if "collateral_json" in files:
        loaded: Any = dcap_qvl.QuoteCollateralV3.from_json(
            (base / files["collateral_json"]).read_text()
        )
        return loaded

    def read(key: str) -> bytes:
        data: bytes = (base / files[key]).resolve().read_bytes()
        return data

    tcb = pcs.extract_signed(read("tcb_info"), "tcb_info", source="tcb")
    qe = pcs.extract_signed(read("qe_identity"), "qe_identity", source="qe")
    return dcap_qvl.QuoteCollateralV3(
        read("pck_crl_issuer_chain").decode(),
        read("root_ca_crl"),
        read("pck_crl"),
        read("tcb_info_issuer_chain").decode(),
        tcb.signed.decode(),
        tcb.signature,
        read("qe_identity_issuer_chain").decode(),
        qe.signed.decode(),
        qe.signature,
    )


def _dcap(run: Callable[[], Any]) -> tuple[str, list[str]] | tuple[str, str]:
    try:
        report = run()
    except ValueError as exc:
        return "error", str(exc)
    return report.status, list(report.advisory_ids)


def _agree(ours: TcbStatus, advisories: tuple[str, ...], theirs: tuple[str, Any]) -> None:
    expected = _AS_DCAP.get(ours, ours.value)
    if isinstance(expected, tuple):
        assert theirs[0] == "error", (ours, theirs)
        assert expected[1] in theirs[1]
        return
    assert theirs == (expected, list(advisories)), (ours, theirs)


@pytest.mark.parametrize("name", names(with_collateral=True))
def test_real_vectors_agree(name: str) -> None:
    now = suggested_now(name)
    claims = verify(quote(name), trust=vendor_trust(), now=now, collateral=collateral(name))
    theirs = _dcap(
        lambda: dcap_qvl.verify(quote(name), _dcap_collateral(name), int(now.timestamp()))
    )
    if claims.td_attributes.debug:
        # Documented difference: dcap-qvl rejects DEBUG in verification; we leave it to policy.
        assert theirs[0] == "error"
        assert "Debug" in theirs[1]
        assert claims.tcb_status is TcbStatus.UP_TO_DATE
        return
    _agree(claims.tcb_status, claims.advisory_ids, theirs)


@pytest.mark.parametrize(
    ("offset", "what"), [(0x1E, "header user data"), (0x3C, "TD body"), (0x2A0, "signature")]
)
def test_tampered_real_quote_rejected_by_both(offset: int, what: str) -> None:
    name = "v4-b0c06f-dcap"
    data = bytearray(quote(name))
    data[offset] ^= 0x01
    now = suggested_now(name)
    with pytest.raises(TeeclientError):
        verify(bytes(data), trust=vendor_trust(), now=now, collateral=collateral(name))
    theirs = _dcap(
        lambda: dcap_qvl.verify(bytes(data), _dcap_collateral(name), int(now.timestamp()))
    )
    assert theirs[0] == "error", what


_OOD = ("INTEL-SA-00001",)
_CASES: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "up-to-date": ({}, {}),
    **{
        f"platform-{s}": (
            {},
            {"tcb_info": tcb_info_body(levels=[level(status=s, advisories=_OOD)])},
        )
        for s in (
            "SWHardeningNeeded",
            "ConfigurationNeeded",
            "ConfigurationAndSWHardeningNeeded",
            "OutOfDate",
            "OutOfDateConfigurationNeeded",
            "Revoked",
        )
    },
    **{
        f"module-ood-over-{s}": (
            {},
            {
                "tcb_info": tcb_info_body(
                    levels=[level(status=s)],
                    identities=[module_identity(levels=((6, "OutOfDate", ("INTEL-SA-00002",)),))],
                )
            },
        )
        for s in (
            "UpToDate",
            "SWHardeningNeeded",
            "ConfigurationNeeded",
            "ConfigurationAndSWHardeningNeeded",
        )
    },
    "module-revoked": (
        {},
        {"tcb_info": tcb_info_body(identities=[module_identity(levels=((6, "Revoked", ()),))])},
    ),
    "module-identity-missing": (
        {},
        {"tcb_info": tcb_info_body(identities=[module_identity("TDX_03")])},
    ),
    "module-below-every-level": ({"tee_tcb_svn": bytes([3, 1, 3]) + bytes(13)}, {}),
    "module-version-0": ({"tee_tcb_svn": bytes([5, 0, 3]) + bytes(13)}, {}),
    "tee-svn0-below-level-ignored-for-v1": (
        {"tee_tcb_svn": bytes([4, 1, 3]) + bytes(13)},
        {"tcb_info": tcb_info_body(identities=[module_identity(levels=((4, "UpToDate", ()),))])},
    ),
    "platform-below-every-level": ({"tee_tcb_svn": bytes([6, 1, 2]) + bytes(13)}, {}),
    "qe-out-of-date": (
        {},
        {"qe_identity": qe_identity_body(levels=((5, "UpToDate"), (4, "OutOfDate")))},
    ),
    "qe-revoked": ({}, {"qe_identity": qe_identity_body(levels=((5, "UpToDate"), (4, "Revoked")))}),
    "qe-not-supported": ({}, {"qe_identity": qe_identity_body(levels=((5, "UpToDate"),))}),
    "relaunch-advised": (
        {
            "version": 5,
            "body_type": 3,
            "tee_tcb_svn": bytes([4, 1, 3]) + bytes(13),
            "tee_tcb_svn2": bytes([6, 1, 3]) + bytes(13),
        },
        {
            "tcb_info": tcb_info_body(
                identities=[
                    module_identity(
                        levels=((6, "UpToDate", ()), (4, "OutOfDate", ("INTEL-SA-00003",)))
                    )
                ]
            )
        },
    ),
    "relaunch-advised-configuration-needed": (
        {
            "version": 5,
            "body_type": 3,
            "tee_tcb_svn": bytes([4, 1, 3]) + bytes(13),
            "tee_tcb_svn2": bytes([6, 1, 3]) + bytes(13),
        },
        {
            "tcb_info": tcb_info_body(
                levels=[level(status="ConfigurationNeeded")],
                identities=[module_identity(levels=((6, "UpToDate", ()), (4, "OutOfDate", ())))],
            )
        },
    ),
}


@pytest.fixture(scope="module")
def testbed() -> TdxTestbed:
    return TdxTestbed.create()


@pytest.mark.parametrize("case", sorted(_CASES))
def test_generated_statuses_agree(testbed: TdxTestbed, case: str) -> None:
    from cryptography.hazmat.primitives.serialization import Encoding

    spec_changes, collateral_kw = _CASES[case]
    data = testbed.quote(TdQuoteSpec(**spec_changes))
    claims = verify(
        data, trust=testbed.trust(), now=testbed.now, collateral=testbed.collateral(**collateral_kw)
    )
    bundle = dcap_qvl.QuoteCollateralV3.from_json(
        testbed.pki.dcap_qvl_json(**collateral_kw).decode()
    )
    root = testbed.pki.root.public_bytes(Encoding.DER)
    theirs = _dcap(
        lambda: dcap_qvl.verify_with_root_ca(data, bundle, root, int(testbed.now.timestamp()))
    )
    _agree(claims.tcb_status, claims.advisory_ids, theirs)
