"""Any bytes into every TDX quote and collateral parser raise only TeeclientError subclasses."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from teeclient.collateral.items import CollateralItem, CollateralSet
from teeclient.errors import TeeclientError
from teeclient.platforms import VerifyOptions
from teeclient.platforms.tdx import abi, pck, pcs
from teeclient.platforms.tdx.collateral import gather
from teeclient.platforms.tdx.inspect import describe_collateral, describe_evidence
from teeclient.platforms.tdx.verify import verify
from tests.tdx_support import TDX, collateral, quote, suggested_now, vendor_trust

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
QUOTES = [quote(n) for n in ("v4-b0c06f-dcap", "v5-tdx15-90c06f-gtg", "v4-spr-50806f-gtg")]
TCB_JSON = (TDX / "collateral-2026-01-tinfoil" / "tcb_info_90c06f000000.json").read_bytes()
QE_JSON = (TDX / "collateral-2026-01-tinfoil" / "qe_identity.json").read_bytes()
DCAP_JSON = (TDX / "v4-b0c06f-dcap" / "collateral.json").read_bytes()


def _only_teeclient_errors(fn: Callable[[], object]) -> None:
    with contextlib.suppress(TeeclientError):
        fn()


@st.composite
def mutated(draw: st.DrawFn, seeds: list[bytes]) -> bytes:
    """A real input with a few bytes replaced, cut, or extended."""
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 4))):
        pos = draw(st.integers(0, len(data) - 1))
        data[pos] = draw(st.integers(0, 255))
    cut = draw(st.one_of(st.none(), st.integers(0, len(data))))
    if cut is not None:
        data = data[:cut]
    return bytes(data) + draw(st.binary(max_size=8))


@FAST
@given(st.one_of(st.binary(max_size=6000), mutated(QUOTES)))
def test_parse_quote(data: bytes) -> None:
    _only_teeclient_errors(lambda: abi.parse_quote(data))
    _only_teeclient_errors(lambda: describe_evidence(data, options=VerifyOptions()))


@FAST
@given(st.binary(max_size=4000))
def test_pem_and_enclave_report(data: bytes) -> None:
    _only_teeclient_errors(lambda: abi.split_pem_chain(data))
    _only_teeclient_errors(lambda: abi.parse_enclave_report(data))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated(QUOTES[:1]))
def test_verify_mutated_quote(data: bytes) -> None:
    name = "v4-b0c06f-dcap"
    _only_teeclient_errors(
        lambda: verify(
            data, trust=vendor_trust(), now=suggested_now(name), collateral=collateral(name)
        )
    )


@FAST
@given(st.one_of(st.binary(max_size=3000), mutated([TCB_JSON, QE_JSON])))
def test_pcs_json(data: bytes) -> None:
    _only_teeclient_errors(lambda: pcs.top_level_spans(data, field="x"))
    _only_teeclient_errors(lambda: pcs.extract_signed(data, "tcb_info", source="x"))
    _only_teeclient_errors(lambda: pcs.extract_signed(data, "qe_identity", source="x"))
    _only_teeclient_errors(lambda: describe_collateral(data, source="x"))


def _inner(raw: bytes, member: str) -> bytes:
    spans = pcs.top_level_spans(raw, field="x")
    start, stop = spans[member]
    return raw[start:stop]


@FAST
@given(st.one_of(st.binary(max_size=3000), mutated([_inner(TCB_JSON, "tcbInfo")])))
def test_parse_tcb_info(data: bytes) -> None:
    _only_teeclient_errors(lambda: pcs.parse_tcb_info(data))


@FAST
@given(st.one_of(st.binary(max_size=2000), mutated([_inner(QE_JSON, "enclaveIdentity")])))
def test_parse_qe_identity(data: bytes) -> None:
    _only_teeclient_errors(lambda: pcs.parse_qe_identity(data))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)


@FAST
@given(json_values)
def test_parse_structured_json(value: object) -> None:
    text = json.dumps(value).encode()
    _only_teeclient_errors(lambda: pcs.parse_tcb_info(text))
    _only_teeclient_errors(lambda: pcs.parse_qe_identity(text))
    wrapped = json.dumps({"tcbInfo": value, "signature": "00" * 64}).encode()
    _only_teeclient_errors(
        lambda: gather(CollateralSet.of([CollateralItem(data=wrapped, source="x")]))
    )


@FAST
@given(
    st.one_of(
        st.binary(min_size=1, max_size=3000), mutated([DCAP_JSON[:4000], TCB_JSON, DCAP_JSON])
    )
)
def test_gather_collateral(data: bytes) -> None:
    item = CollateralItem(data=data or b"x", source="fuzz")
    _only_teeclient_errors(lambda: gather(CollateralSet.of([item])))
    http = CollateralItem(
        data=b"HTTP/1.1 200 OK\r\nTCB-Info-Issuer-Chain: %zz\r\n\r\n" + data, source="fuzz.http"
    )
    _only_teeclient_errors(lambda: gather(CollateralSet.of([http])))


@FAST
@given(st.binary(max_size=400))
def test_sgx_extension_der(data: bytes) -> None:
    _only_teeclient_errors(lambda: pck._members(data, "fuzz"))
    _only_teeclient_errors(lambda: pck._tcb(data, "fuzz"))
    _only_teeclient_errors(lambda: pck.decode_oid(data, field="fuzz"))
