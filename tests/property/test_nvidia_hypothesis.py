"""Any bytes into every NVIDIA parser raise only TeeclientError subclasses (or parse)."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from teeclient.errors import TeeclientError
from teeclient.platforms.nvidia import abi, ocsp, rim
from teeclient.platforms.nvidia.evidence import parse_evidence
from teeclient.testing.nvidia_evidence import SpdmReportSpec, gpu_opaque, switch_opaque, tlv
from tests._nvidia import E2E, hexfile, vendor

REPORT = hexfile(E2E / "hopperAttestationReport.txt")
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _only_ours(fn: object, *args: object) -> None:
    with contextlib.suppress(TeeclientError):
        fn(*args)  # type: ignore[operator]


@SETTINGS
@given(st.binary(max_size=5000), st.sampled_from(list(abi.DeviceKind)))
def test_parse_report_any_bytes(data: bytes, kind: abi.DeviceKind) -> None:
    _only_ours(abi.parse_report, data, kind)


@SETTINGS
@given(st.integers(0, len(REPORT) - 1), st.integers(1, 255), st.sampled_from(list(abi.DeviceKind)))
def test_parse_report_mutated_real_report(offset: int, xor: int, kind: abi.DeviceKind) -> None:
    data = bytearray(REPORT)
    data[offset] ^= xor
    _only_ours(abi.parse_report, bytes(data), kind)


_TLV = st.builds(tlv, st.integers(0, 0xFFFF), st.binary(max_size=80))


@SETTINGS
@given(
    st.lists(_TLV, max_size=12).map(b"".join) | st.binary(max_size=600),
    st.sampled_from(list(abi.DeviceKind)),
)
def test_parse_opaque_any_bytes(data: bytes, kind: abi.DeviceKind) -> None:
    try:
        opaque = abi.parse_opaque_data(data, kind)
    except TeeclientError:
        return
    opaque.to_dict()
    opaque.switch_pdis  # noqa: B018
    opaque.switch_gpu_pdis  # noqa: B018


@SETTINGS
@given(
    st.sampled_from(
        [gpu_opaque(), gpu_opaque(feature_flag=2, switch_pdis=[b"\x01" * 8]), switch_opaque()]
    ),
    st.data(),
)
def test_generated_opaque_round_trips(opaque: bytes, data: st.DataObject) -> None:
    kind = abi.DeviceKind.SWITCH if opaque == switch_opaque() else abi.DeviceKind.GPU
    spec = SpdmReportSpec(opaque=opaque, kind=kind)
    parsed = abi.parse_report(spec.unsigned() + bytes(96), kind)
    assert parsed.response.opaque.raw == opaque
    cut = data.draw(st.integers(0, len(opaque) - 1))
    _only_ours(abi.parse_opaque_data, opaque[:cut], kind)


@SETTINGS
@given(st.binary(max_size=3000) | st.text(max_size=2000).map(str.encode))
def test_evidence_any_bytes(data: bytes) -> None:
    _only_ours(parse_evidence, data)


@SETTINGS
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=20),
        lambda c: (
            st.lists(c, max_size=4)
            | st.dictionaries(
                st.sampled_from(
                    [
                        "evidence",
                        "certificate",
                        "arch",
                        "nonce",
                        "gpus",
                        "evidence_list",
                        "devices",
                        "format",
                        "JWT",
                    ]
                ),
                c,
                max_size=4,
            )
        ),
        max_leaves=12,
    )
)
def test_evidence_any_json(doc: object) -> None:
    import json

    _only_ours(parse_evidence, json.dumps(doc).encode())


@SETTINGS
@given(st.binary(max_size=2000))
def test_ocsp_any_bytes(data: bytes) -> None:
    with contextlib.suppress(TeeclientError):
        ocsp.load_response(data, source="fuzz")


@settings(max_examples=40, deadline=None)
@given(
    st.binary(max_size=400).map(lambda b: b"<SoftwareIdentity>" + b + b"</SoftwareIdentity>")
    | st.binary(max_size=400)
)
def test_rim_any_bytes(data: bytes) -> None:
    with contextlib.suppress(TeeclientError):
        rim.verify_rim(data, trust=vendor(), now=datetime(2025, 1, 1, tzinfo=UTC), source="fuzz")
