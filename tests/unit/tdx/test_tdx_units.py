"""Unit tests of the TDX modules: abi, pck, pcs, tcb and collateral, piece by piece."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from urllib.parse import quote as url_quote

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from teeclient.collateral.items import CollateralItem, CollateralSet
from teeclient.errors import ParseError, TdxCollateralMalformedError, UnsupportedFormatError
from teeclient.platforms import detect_platform
from teeclient.platforms.tdx import abi, pcs, tcb
from teeclient.platforms.tdx.collateral import gather, parse_http_response
from teeclient.platforms.tdx.pck import decode_oid
from teeclient.testing.pki.intel import (
    IntelPki,
    compact,
    level,
    module_identity,
    qe_identity_body,
    tcb_info_body,
)
from teeclient.testing.tdx_evidence import TdQuoteSpec, TdxTestbed, resign_quote

# --- abi -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tb() -> TdxTestbed:
    return TdxTestbed.create()


@pytest.mark.parametrize(("version", "body_type", "size"), [(4, 2, 632), (5, 2, 638), (5, 3, 702)])
def test_round_trip(tb: TdxTestbed, version: int, body_type: int, size: int) -> None:
    spec = TdQuoteSpec(version=version, body_type=body_type, trailing=b"\0" * 5)
    data = tb.quote(spec)
    q = abi.parse_quote(data)
    assert q.signed_size == size
    assert q.signed_bytes == spec.signed_region()
    assert q.body.raw == spec.body()
    assert q.trailing_bytes == 5
    assert q.qe_auth_data == spec.qe_auth_data
    assert len(q.pck_chain_der) == 3
    assert detect_platform(data) == "tdx"


def test_td_attributes_decode() -> None:
    attrs = abi.TdAttributes.decode(bytes.fromhex("0100005080000080"))
    assert attrs.debug
    assert attrs.sept_ve_disable
    assert attrs.pks
    assert attrs.perfmon
    assert not attrs.kl
    assert attrs.reserved_bits == 1 << 39
    assert attrs.to_dict()["value"] == "0x8000008050000001"


def test_pem_chain_rules(tb: TdxTestbed) -> None:
    pem = tb.pki.pck_chain_pem(tb.pck)
    assert len(abi.split_pem_chain(pem + b"\x00\x00")) == 3
    with pytest.raises(ParseError):
        abi.split_pem_chain(pem + b"junk")
    with pytest.raises(ParseError):
        abi.split_pem_chain(pem.split(b"-----END CERTIFICATE-----\n", 1)[1])
    bad = pem.replace(b"MII", b"MI!", 1)
    with pytest.raises(ParseError):
        abi.split_pem_chain(bad)


def test_nested_lengths_must_fill_their_container(tb: TdxTestbed) -> None:
    data = bytearray(tb.quote())
    # Grow the declared signature-data size by one and append a byte: the certification data
    # no longer ends where the signature data does.
    size = int.from_bytes(data[632:636], "little")
    data[632:636] = (size + 1).to_bytes(4, "little")
    with pytest.raises(ParseError) as info:
        abi.parse_quote(bytes(data) + b"\0")
    assert info.value.field == "certification_data"


def test_unsupported_variants(tb: TdxTestbed) -> None:
    for changes in (
        {"certification_type": 5},
        {"inner_certification_type": 4},
        {"att_key_type": 3},
        {"tee_type": 0},
    ):
        with pytest.raises(UnsupportedFormatError):
            abi.parse_quote(tb.quote(TdQuoteSpec().replace(**changes)))
    with pytest.raises(ParseError):
        abi.parse_quote(b"\x04\x00\x02\x00\x81\x00\x00\x00")


def test_resign_quote(tb: TdxTestbed) -> None:
    from teeclient.platforms.tdx.verify import verify

    data = bytearray(tb.quote())
    data[48 + 136] ^= 1  # MRTD
    fixed = resign_quote(bytes(data), tb.attestation_key)
    claims = verify(fixed, trust=tb.trust(), now=tb.now, collateral=tb.collateral())
    assert claims.mr_td.startswith("10")


# --- pck -----------------------------------------------------------------------------------------


def test_decode_oid() -> None:
    assert decode_oid(bytes.fromhex("2a864886f84d010d0102"), field="x") == "1.2.840.113741.1.13.1.2"
    with pytest.raises(ParseError):
        decode_oid(b"\x80\x01", field="x")
    with pytest.raises(ParseError):
        decode_oid(b"\x81", field="x")


def test_pck_extensions_of_generated_certificate(tb: TdxTestbed) -> None:
    from teeclient.platforms.tdx.pck import parse_pck_extensions

    ext = parse_pck_extensions(tb.pck.cert)
    assert ext.fmspc.hex() == "90c06f000000"
    assert ext.sgx_tcb_components[:8] == (5, 5, 2, 2, 3, 1, 0, 5)
    assert ext.configuration == {"dynamic_platform": True, "cached_keys": True, "smt_enabled": True}


# --- pcs -----------------------------------------------------------------------------------------


def test_signed_text_is_taken_verbatim() -> None:
    inner = b'{ "id" : "TDX", "s": "a \\" } {" }'
    body = b'  {"signature" : "' + b"ab" * 64 + b'",\n "tcbInfo":' + inner + b"}\n\0"
    signed = pcs.extract_signed(body, "tcb_info", source="x")
    assert signed.signed == inner
    assert signed.signature == bytes.fromhex("ab" * 64)


@pytest.mark.parametrize(
    "body",
    [
        b'{"tcbInfo":{},"signature":"' + b"ab" * 64 + b'","x":1}',
        b'{"tcbInfo":{},"tcbInfo":{},"signature":"' + b"ab" * 64 + b'"}',
        b'{"tcbInfo":{},"signature":"abc"}',
        b'{"tcbInfo":[],"signature":"' + b"ab" * 64 + b'"}',
        b'{"tcbInfo":{},"signature":"' + b"ab" * 64 + b'"} extra',
        b'{"tcbInfo":{"a":"unterminated}',
        b"[]",
    ],
)
def test_malformed_pcs_bodies(body: bytes) -> None:
    with pytest.raises(TdxCollateralMalformedError):
        pcs.extract_signed(body, "tcb_info", source="x")


def test_tcb_info_strictness() -> None:
    ok = tcb_info_body()
    assert pcs.parse_tcb_info(compact(ok)).fmspc.hex() == "90c06f000000"
    bad = [
        tcb_info_body(version=2),
        tcb_info_body(tcb_id="SGX"),
        tcb_info_body(levels=[level(status="Unknown")]),
        tcb_info_body(levels=[level(tdx=(1, 0, 0) + (0,) * 13), level()]),  # ascending
        tcb_info_body(levels=[level(), level()]),  # duplicate
        tcb_info_body(
            identities=[module_identity(levels=((4, "UpToDate", ()), (6, "OutOfDate", ())))]
        ),
        tcb_info_body(identities=[module_identity(levels=((6, "SWHardeningNeeded", ()),))]),
        {**tcb_info_body(), "tcbType": 1},
        {**tcb_info_body(), "fmspc": "90c06f"},
        {**tcb_info_body(), "issueDate": "2026-01-12"},
        {**tcb_info_body(), "tcbEvaluationDataNumber": True},
    ]
    for body in bad:
        with pytest.raises(TdxCollateralMalformedError):
            pcs.parse_tcb_info(compact(body))
    with pytest.raises(TdxCollateralMalformedError):
        pcs.parse_tcb_info(b'{"id":"TDX","id":"SGX"}')


def test_qe_identity_strictness() -> None:
    assert pcs.parse_qe_identity(compact(qe_identity_body())).isvprodid == 2
    for body in (
        qe_identity_body(version=3),
        qe_identity_body(ident="QE"),
        qe_identity_body(levels=((4, "ConfigurationNeeded"),)),
    ):
        with pytest.raises(TdxCollateralMalformedError):
            pcs.parse_qe_identity(compact(body))


def test_pcs_urls() -> None:
    fmspc = bytes.fromhex("90c06f000000")
    assert pcs.tcb_info_url(fmspc) == (
        "https://api.trustedservices.intel.com/tdx/certification/v4/tcb?fmspc=90c06f000000"
    )
    assert pcs.tcb_info_url(fmspc, tcb_evaluation_data_number=17).endswith(
        "&tcbEvaluationDataNumber=17"
    )
    assert pcs.tcb_info_url(fmspc, update="early").endswith("&update=early")
    with pytest.raises(ValueError, match="mutually exclusive"):
        pcs.tcb_info_url(fmspc, update="early", tcb_evaluation_data_number=17)
    assert pcs.qe_identity_url().endswith("/tdx/certification/v4/qe/identity")
    assert pcs.pck_crl_url("processor").endswith("pckcrl?ca=processor&encoding=der")


# --- tcb -----------------------------------------------------------------------------------------


def _inputs(**changes: object) -> tcb.TcbInputs:
    base: dict[str, object] = {
        "quote_version": 4,
        "td15": False,
        "pck_components": (5, 5, 2, 2, 3, 1, 0, 5) + (0,) * 8,
        "pck_pce_svn": 13,
        "tee_tcb_svn": bytes([6, 1, 3]) + bytes(13),
        "tee_tcb_svn2": None,
        "mr_signer_seam": bytes(48),
        "seam_attributes": bytes(8),
        "qe_isvsvn": 4,
    }
    base.update(changes)
    return tcb.TcbInputs(**base)  # type: ignore[arg-type]


def test_levels_walked_in_order_and_pcesvn_matters() -> None:
    info = pcs.parse_tcb_info(
        compact(
            tcb_info_body(
                levels=[level(), level(pcesvn=5, status="OutOfDate", advisories=["INTEL-SA-00100"])]
            )
        )
    )
    qe = pcs.parse_qe_identity(compact(qe_identity_body()))
    assert tcb.evaluate_tcb(info, qe, _inputs()).status is pcs.TcbStatus.UP_TO_DATE
    low = tcb.evaluate_tcb(info, qe, _inputs(pck_pce_svn=12))
    assert low.status is pcs.TcbStatus.OUT_OF_DATE
    assert low.advisory_ids == ("INTEL-SA-00100",)
    assert low.sgx_level is low.tdx_level
    assert tcb.evaluate_tcb(info, qe, _inputs(pck_pce_svn=4)).status is (
        pcs.TcbStatus.TCB_NOT_SUPPORTED
    )


def test_module_version_zero_compares_all_sixteen() -> None:
    info = pcs.parse_tcb_info(compact(tcb_info_body()))
    qe = pcs.parse_qe_identity(compact(qe_identity_body()))
    # Version 0: index 0 (module SVN 4 < level 5) is compared → not supported.
    result = tcb.evaluate_tcb(info, qe, _inputs(tee_tcb_svn=bytes([4, 0, 3]) + bytes(13)))
    assert result.status is pcs.TcbStatus.TCB_NOT_SUPPORTED
    assert result.module_level is None


def test_tcb_date_is_the_earliest_matched_date() -> None:
    info = pcs.parse_tcb_info(
        compact(
            tcb_info_body(
                levels=[level(date=datetime(2025, 5, 1, tzinfo=UTC))],
                identities=[module_identity(date=datetime(2025, 3, 1, tzinfo=UTC))],
            )
        )
    )
    qe = pcs.parse_qe_identity(compact(qe_identity_body()))
    result = tcb.evaluate_tcb(info, qe, _inputs())
    assert result.tcb_date == datetime(2024, 11, 13, tzinfo=UTC)  # the QE level's date


# --- collateral ----------------------------------------------------------------------------------


def test_http_response_parsing() -> None:
    body, headers = parse_http_response(b"HTTP/2 200\nA: b\nSGX-X: %41\n\n{}", source="x")
    assert body == b"{}"
    assert headers == {"a": "b", "sgx-x": "%41"}
    for bad in (
        b"HTTP/1.1 404 Not Found\r\n\r\n{}",
        b"HTTP/1.1 200 OK\r\nno colon\r\n\r\n",
        b"HTTP/1.1 200 OK",
    ):
        with pytest.raises(TdxCollateralMalformedError):
            parse_http_response(bad, source="x")


def test_gather_rejects_unknown_items() -> None:
    for data in (b'{"hello": 1}', b"\x01\x02\x03", b'{"tcb_info": "x"}'):
        with pytest.raises(TdxCollateralMalformedError):
            gather(CollateralSet.of([CollateralItem(data=data, source="x")]))


def test_gather_sorts_items() -> None:
    pki = IntelPki.generate()
    chain = url_quote(pki.tcb_signing_chain_pem().decode(), safe="")
    coll = gather(
        CollateralSet.of(
            [
                *pki.collateral_items(),
                CollateralItem(data=pki.dcap_qvl_json(), source="bundle"),
                CollateralItem(data=chain.encode(), source="chain.txt"),
            ]
        )
    )
    assert len(coll.tcb_infos) == 2
    assert len(coll.qe_identities) == 2
    assert len(coll.crls) == 4
    assert coll.tcb_infos[0].chain is not None
    assert len(coll.certificates) >= 6
    bundle = json.loads(pki.dcap_qvl_json())
    bundle["extra"] = 1
    with pytest.raises(TdxCollateralMalformedError):
        gather(CollateralSet.of([CollateralItem(data=json.dumps(bundle).encode(), source="b")]))


def test_testbed_keys_are_p256(tb: TdxTestbed) -> None:
    assert isinstance(tb.attestation_key.curve, ec.SECP256R1)
