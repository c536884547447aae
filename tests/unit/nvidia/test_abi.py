"""NVIDIA SPDM parsing: structure rules, VBIOS formatting, opaque TLVs (specs/nvidia-gpu.md §2)."""

from __future__ import annotations

import pytest

from teeclient.errors import TeeclientError
from teeclient.platforms.nvidia import abi, rim
from teeclient.platforms.nvidia.evidence import looks_like_nvidia, parse_evidence
from teeclient.testing.nvidia_evidence import (
    SpdmReportSpec,
    gpu_opaque,
    switch_opaque,
    tlv,
    vbios_bytes,
)


def test_vbios_formatting_spec_example() -> None:
    assert abi.format_vbios_version(bytes.fromhex("009f009601000000")) == "96.00.9F.00.01"
    for v in ("96.00.9F.00.01", "97.00.88.00.0F", "96.00.A5.00.01"):
        assert abi.format_vbios_version(vbios_bytes(v)) == v


def _parse(spec: SpdmReportSpec, tail: bytes = b"") -> abi.AttestationReport:
    return abi.parse_report(spec.unsigned() + bytes(96) + tail, spec.kind)


def _code(fn: object) -> str:
    with pytest.raises(TeeclientError) as info:
        fn()  # type: ignore[operator]
    return info.value.code


def test_generated_report_parses() -> None:
    report = _parse(SpdmReportSpec(nonce=b"\x01" * 32))
    assert report.request.nonce == b"\x01" * 32
    assert report.response.number_of_blocks == 64
    assert len(report.response.blocks) == 64
    opaque = report.response.opaque
    assert opaque.driver_version == "550.90.07"
    assert opaque.vbios_version == "96.00.9F.00.01"
    assert opaque.text("PROJECT") == "1010"
    assert opaque.byte("NVDEC0_STATUS") == 0x55
    sw = _parse(SpdmReportSpec(kind=abi.DeviceKind.SWITCH, opaque=switch_opaque()))
    assert sw.response.opaque.vbios_version == "96.10.55.00.01"
    assert len(sw.response.opaque.switch_gpu_pdis) == 8


@pytest.mark.parametrize(
    "change",
    [
        {"request_version": 0x12},
        {"request_code": 0xE1},
        {"param1": 0x00},
        {"param2": 0x01},
        {"response_version": 0x12},
        {"response_code": 0x61},
        {"blocks": {}},
    ],
)
def test_header_rules(change: dict[str, object]) -> None:
    spec = SpdmReportSpec().replace(**change)
    assert _code(lambda: _parse(spec)) == "evidence.malformed"


def test_structure_rules() -> None:
    spec = SpdmReportSpec()
    assert _code(lambda: _parse(spec, b"\x00")) == "evidence.malformed"  # trailing byte
    assert _code(lambda: abi.parse_report(spec.unsigned()[:-3] + bytes(96), spec.kind)) == (
        "evidence.malformed"
    )
    assert _code(lambda: _parse(spec.replace(opaque=b""))) == "evidence.malformed"
    assert _code(lambda: _parse(spec.replace(opaque=gpu_opaque(extra=[(3, b"x")])))) == (
        "evidence.malformed"
    )  # duplicate DRIVER_VERSION
    assert _code(lambda: _parse(spec.replace(opaque=gpu_opaque(extra=[(99, b"")])))) == (
        "evidence.malformed"
    )  # unknown type id
    assert _code(lambda: _parse(spec.replace(opaque=tlv(20, bytes(47))))) == "evidence.malformed"
    assert _code(lambda: _parse(spec.replace(opaque=b"NVDAOD\x00\x00\x02\x00\x00\x00"))) == (
        "nvidia.unsupported_opaque_format"
    )
    # A switch-only type id in a GPU report and vice versa.
    assert _code(lambda: _parse(spec.replace(opaque=tlv(26, bytes(64))))) == "evidence.malformed"
    bad_block = SpdmReportSpec(blocks={1: b"\x00" * 48, 2: b"\x00" * 48})
    raw = bytearray(bad_block.unsigned() + bytes(96))
    raw[37 + 8 + 55 + 1] = 0x02  # second block: MeasurementSpecification != DMTF
    assert _code(lambda: abi.parse_report(bytes(raw), abi.DeviceKind.GPU)) == "evidence.malformed"
    raw[37 + 8 + 55 + 1] = 0x01
    raw[37 + 8 + 55] = 0x01  # repeated index 1
    assert _code(lambda: abi.parse_report(bytes(raw), abi.DeviceKind.GPU)) == "evidence.malformed"


def test_rim_ids() -> None:
    assert rim.driver_rim_id("GH100", "550.90.07", blackwell=False) == (
        "NV_GPU_DRIVER_GH100_550.90.07"
    )
    assert rim.driver_rim_id("GB100", "575.32", blackwell=True) == "NV_GPU_CC_DRIVER_GB100_575.32"
    assert rim.vbios_rim_id("1010", "0200", "882", "96.00.9F.00.01") == (
        "NV_GPU_VBIOS_1010_0200_882_96009F0001"
    )
    assert rim.switch_rim_id("5612", "0002", "890", "96.10.55.00.01") == (
        "NV_SWITCH_BIOS_5612_0002_890_9610550001"
    )


def test_evidence_forms_are_recognised() -> None:
    report = SpdmReportSpec().unsigned() + bytes(96)
    assert looks_like_nvidia(report)
    assert looks_like_nvidia(report.hex().encode())
    assert parse_evidence(report.hex().upper().encode()).format == "spdm-report-hex"
    assert not looks_like_nvidia(b'{"foo": 1}')
    assert not looks_like_nvidia(b"\x02" * 2000)
    doc = (
        b'{"format": "teeclient.nvidia-evidence/v1", "nonce": "'
        + b"00" * 32
        + b'", "devices": [{"kind": "nvidia-switch", "evidence": "EeA=", '
        b'"certificates": "-----BEGIN CERTIFICATE-----"}]}'
    )
    ev = parse_evidence(doc)
    assert ev.devices[0].arch_hint == "LS10"
    assert ev.nonce_hint == bytes(32)
