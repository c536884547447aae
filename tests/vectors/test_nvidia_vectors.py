"""Real NVIDIA vectors at fixed times (fixtures/real/nvidia/PROVENANCE.md)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from teeclient.collateral.items import CollateralItem, CollateralSet
from teeclient.errors import TeeclientError
from teeclient.platforms.nvidia import abi, ocsp, rim
from teeclient.platforms.nvidia.claims import GpuClaims, GpuMode, MeasurementResult
from teeclient.platforms.nvidia.nras import Jwks, submods_digests_match, verify_detached_eat
from teeclient.platforms.nvidia.verify import verify
from teeclient.policy.appraise import appraise
from teeclient.policy.load import load_policy, parse_policy
from teeclient.policy.result import CheckStatus
from teeclient.trust import VENDOR_FINGERPRINTS
from tests._nvidia import (
    DEVICE_OCSP,
    E2E,
    E2E_NONCE,
    E2E_RIMS,
    RIM_OCSP,
    T1,
    T2,
    TODAY,
    V,
    hexfile,
    vendor,
)

ROOT = Path(__file__).resolve().parents[2]
DEVICE_ROOT_SHA256 = "102bf659d5419614c9d8e6aecebc80454eb26b1df6a769ac720b9a690b167b48"
CORIM_ROOT_SHA256 = "12977b5115acb0381179279fffeb5a8c4d264971ebb32298023a465fa41df5d1"


def test_pinned_roots_and_fingerprints() -> None:
    assert VENDOR_FINGERPRINTS["nvidia.device.root"] == (DEVICE_ROOT_SHA256,)
    assert VENDOR_FINGERPRINTS["nvidia.corim.root"] == (CORIM_ROOT_SHA256,)
    store = vendor()
    device = store.get("nvidia.device.root")
    corim = store.get("nvidia.corim.root")
    assert device is not None
    assert device.fingerprints == (DEVICE_ROOT_SHA256,)
    assert corim is not None
    assert corim.fingerprints == (CORIM_ROOT_SHA256,)
    # A set: a second root can be added without dropping the first.
    other = store.get("nvidia.corim.root")
    assert other is not None
    both = store.with_added_anchor("nvidia.device.root", other.certificates, source="test")
    anchor = both.get("nvidia.device.root")
    assert anchor is not None
    assert len(anchor.certificates) == 2


def _e2e_verify() -> tuple[object, object]:
    resps = [ocsp.load_response(p.read_bytes(), source=p.name) for p in RIM_OCSP]
    rims = [
        rim.verify_rim(p.read_bytes(), trust=vendor(), now=T2, source=p.name, ocsp_responses=resps)
        for p in E2E_RIMS
    ]
    col = CollateralSet.from_files([E2E / "hopperCertChain.txt", *DEVICE_OCSP])
    claims = verify(
        hexfile(E2E / "hopperAttestationReport.txt"),
        trust=vendor(),
        now=T1,
        collateral=col,
        nonce=E2E_NONCE,
        rims=rims,
    )
    return claims, rims


def test_hopper_e2e_two_clocks_every_claim_true() -> None:
    claims, _ = _e2e_verify()
    gpu = claims.gpus[0]  # type: ignore[attr-defined]
    assert isinstance(gpu, GpuClaims)
    assert gpu.driver_version == "550.90.07"
    assert gpu.vbios_version == "96.00.9F.00.01"
    assert (gpu.project, gpu.project_sku, gpu.chip_sku) == ("1010", "0200", "882")
    assert gpu.hwmodel == "GH100 A01 GSP BROM"
    assert gpu.ueid == "478176379286082186618948445787393647364802107249"
    assert gpu.nonce == E2E_NONCE.hex()
    assert gpu.nonce_checked
    assert gpu.fwid_match is True
    assert gpu.mode is GpuMode.SPT
    assert gpu.nvdec0_enabled is False
    assert gpu.measurements.result is MeasurementResult.SUCCESS
    assert not gpu.measurements.mismatches
    assert 35 in gpu.measurements.compared
    assert dict(gpu.rim_ids) == {
        "driver": "NV_GPU_DRIVER_GH100_550.90.07",
        "vbios": "NV_GPU_VBIOS_1010_0200_882_96009F0001",
    }
    assert gpu.device_chain is not None
    assert gpu.device_chain.ocsp_status.value == "good"
    assert gpu.driver_rim is not None
    assert gpu.driver_rim.chain.ocsp_status.value == "good"
    assert gpu.vbios_rim is not None
    assert gpu.vbios_rim.chain.ocsp_status.value == "good"
    policy = load_policy(ROOT / "policies" / "examples" / "nvidia-hgx-h100.toml")
    appraisal = appraise([claims], policy, T1)  # type: ignore[list-item]
    assert appraisal.accepted, [c.to_dict() for c in appraisal.with_status(CheckStatus.FAIL)]
    assert not appraisal.with_status(CheckStatus.FAIL)
    assert not appraisal.with_status(CheckStatus.WARN)


def test_hopper_e2e_equals_nras_claims() -> None:
    claims, _ = _e2e_verify()
    ours = claims.gpus[0].to_nras_claims()  # type: ignore[attr-defined]
    theirs = json.loads((E2E / "nras_v4_claims3_decoded.json").read_text())["GPU-0"]
    token_only = {"iss", "iat", "nbf", "exp", "jti"}
    assert {k: v for k, v in theirs.items() if k not in token_only} == ours


def test_hopper_e2e_single_clock_reports_the_other_window() -> None:
    col = CollateralSet.from_files(
        [E2E / "hopperCertChain.txt", *E2E_RIMS, *DEVICE_OCSP, *RIM_OCSP]
    )
    claims = verify(
        hexfile(E2E / "hopperAttestationReport.txt"),
        trust=vendor(),
        now=T1,
        collateral=col,
        nonce=E2E_NONCE,
    )
    appraisal = appraise([claims], load_policy(ROOT / "policies/examples/nvidia-hgx-h100.toml"), T1)
    failed = {c.id for c in appraisal.with_status(CheckStatus.FAIL)}
    assert failed == {"nvidia_gpu.ocsp.driver_rim", "nvidia_gpu.ocsp.vbios_rim"}


def test_hopper_e2e_today_fails_with_expiry() -> None:
    col = CollateralSet.from_files([E2E / "hopperCertChain.txt", *DEVICE_OCSP])
    with pytest.raises(TeeclientError) as info:
        verify(
            hexfile(E2E / "hopperAttestationReport.txt"),
            trust=vendor(),
            now=TODAY,
            collateral=col,
            nonce=E2E_NONCE,
        )
    assert info.value.code == "nvidia.ocsp_responder_expired"
    col = CollateralSet.from_files([E2E / "hopperCertChain.txt", *E2E_RIMS])
    with pytest.raises(TeeclientError) as info:
        verify(
            hexfile(E2E / "hopperAttestationReport.txt"),
            trust=vendor(),
            now=TODAY,
            collateral=col,
            nonce=E2E_NONCE,
        )
    assert info.value.code == "nvidia.rim_cert_expired"


REPORTS = [
    (
        "blackwell/blackwellAttestationReport.txt",
        "blackwell/blackwellCertChain.txt",
        True,
        "575.32",
        "97.00.88.00.0F",
    ),
    (
        "nvat-testdata/gpu/hopper_580.159.03_AttestationReport.txt",
        "nvat-testdata/gpu/hopper_580.159.03_CertChain.txt",
        True,
        "580.159.03",
        "96.00.74.00.20",
    ),
    (
        "nvat-testdata/gpu/hopper_535.86.09_AttestationReport.txt",
        "nvat-testdata/gpu/hopper_535.86.09_CertChain.txt",
        None,
        "535.86.09",
        "96.00.5E.00.01",
    ),
    (
        "nvat-testdata/gpu/hopper_570.124.03_AttestationReport_ExpiredVariant.txt",
        "nvat-testdata/gpu/hopper_570.124.03_CertChain_ExpiredVariant.txt",
        True,
        "570.124.03",
        "96.00.5E.00.04",
    ),
    (
        "nvat-testdata/switch/switchAttestationReport.txt",
        "nvat-testdata/switch/switchCertChain.txt",
        None,
        None,
        "96.10.55.00.01",
    ),
]


@pytest.mark.parametrize(
    ("report", "chain", "fwid", "driver", "vbios"),
    REPORTS,
    ids=[r[0].split("/")[-1] for r in REPORTS],
)
def test_other_reports_pass_signature_chain_nonce_fwid(
    report: str, chain: str, fwid: bool | None, driver: str | None, vbios: str
) -> None:
    raw = hexfile(V / report)
    nonce = raw[4:36]
    claims = verify(
        raw,
        trust=vendor(),
        now=TODAY,
        nonce=nonce,
        collateral=CollateralSet.from_files([V / chain]),
    )
    dev = claims.parts()[0]
    assert dev.fwid_match is fwid
    assert dev.nonce_checked
    assert dev.vbios_version == vbios
    assert getattr(dev, "driver_version", None) == driver


EVIDENCE = [
    ("nvat-testdata/evidence/evidence_hopper_590_12.json", 1, 0, GpuMode.PPCIE),
    ("nvat-testdata/evidence/hopper_evidence_cert_hold.json", 1, 0, GpuMode.SPT),
    ("nvat-testdata/evidence/multi_gpu_hopper.json", 4, 0, GpuMode.PPCIE),
    ("nvat-testdata/evidence/switch_evidence_ls10.json", 0, 1, None),
    ("nvat-testdata/evidence/multi_switch_ls10.json", 0, 4, None),
    ("go-nvattest-tools/test_ppcie_data.json", 8, 4, GpuMode.SPT),
]


@pytest.mark.parametrize(
    ("path", "gpus", "switches", "mode"), EVIDENCE, ids=[e[0].split("/")[-1] for e in EVIDENCE]
)
def test_evidence_json_verifies(path: str, gpus: int, switches: int, mode: GpuMode | None) -> None:
    claims = verify((V / path).read_bytes(), trust=vendor(), now=TODAY)
    assert (len(claims.gpus), len(claims.switches), claims.mode) == (gpus, switches, mode)
    assert all(d.fwid_match in (True, None) for d in claims.parts())


PPCIE = V / "ppcie"


def _ppcie_policy() -> object:
    return parse_policy(
        'version = 1\n[gpu]\ncount = 8\nswitch_count = 4\nmode = ["PPCIE"]\n'
        "require_nonce = false\n[[nvidia_gpu]]\nrequire_measurements = false\n"
        "[[nvidia_switch]]\nrequire_measurements = false\n"
        '[revocation]\nnvidia_ocsp = "off"\n'
    )


def test_ppcie_8_gpus_4_switches_topology_passes() -> None:
    nonce = bytes.fromhex("4760e30534a0621357d458b1a7936551b5dc4cd1e69718adf7ed9fb0252a537e")
    claims = verify(
        (PPCIE / "hgx_h100_8gpu_ppcie_590.12_gpu_evidence.json").read_bytes(),
        trust=vendor(),
        now=TODAY,
        nonce=nonce,
        collateral=CollateralSet.from_files([PPCIE / "hgx_4x_ls10_switch_evidence.json"]),
    )
    assert len(claims.gpus) == 8
    assert len(claims.switches) == 4
    assert claims.topology.evaluated
    assert claims.topology.ok
    assert claims.distinct_devices
    appraisal = appraise([claims], _ppcie_policy(), TODAY)  # type: ignore[arg-type]
    assert appraisal.accepted


def test_ppcie_topology_fails_on_edited_sets() -> None:
    gpus = (PPCIE / "hgx_h100_8gpu_ppcie_590.12_gpu_evidence.json").read_bytes()
    switches = json.loads((PPCIE / "hgx_4x_ls10_switch_evidence.json").read_text())
    three = json.dumps(switches[:3]).encode()
    claims = verify(gpus, trust=vendor(), now=TODAY, collateral=CollateralSet.of([_item(three)]))
    assert not claims.topology.ok
    appraisal = appraise([claims], _ppcie_policy(), TODAY)  # type: ignore[arg-type]
    assert "gpu.topology" in {c.id for c in appraisal.with_status(CheckStatus.FAIL)}
    # A switch from another system (its PDI is not among the GPUs' links).
    foreign = json.loads((V / "nvat-testdata/evidence/switch_evidence_ls10.json").read_text())
    mixed = [*switches[:3], {**foreign[0], "nonce": switches[0]["nonce"]}]
    with pytest.raises(TeeclientError) as info:  # it also signed another nonce
        verify(
            gpus,
            trust=vendor(),
            now=TODAY,
            collateral=CollateralSet.of([_item(json.dumps(mixed).encode())]),
        )
    assert info.value.code == "nvidia.nonce_mismatch"


def _item(data: bytes) -> CollateralItem:
    return CollateralItem(data=data, source="edited.json")


@pytest.mark.parametrize(
    ("report", "chain"),
    [
        (
            "nvat-testdata/gpu/hopper_AttestationReport_InvalidSignature.txt",
            "nvat-testdata/gpu/hopper_580.159.03_CertChain.txt",
        ),
        (
            "nvat-testdata/switch/switchAttestationReportInvalidSignature.txt",
            "nvat-testdata/switch/switchCertChain.txt",
        ),
    ],
)
def test_invalid_signature_vectors(report: str, chain: str) -> None:
    with pytest.raises(TeeclientError) as info:
        verify(
            hexfile(V / report),
            trust=vendor(),
            now=TODAY,
            collateral=CollateralSet.from_files([V / chain]),
        )
    assert info.value.code == "nvidia.signature_invalid"


NEGATIVE_RIMS = {
    "incorrect_signature_driver_rim.xml": "nvidia.rim_signature_invalid",
    "incorrect_cert_chain_driver_rim.xml": "nvidia.rim_chain_invalid",
    "NV_GPU_DRIVER_GH100_535.86.09_measurement_mismatch.xml": "nvidia.rim_digest_mismatch",
    "NV_GPU_DRIVER_GH100_570.124.03_expired.xml": "nvidia.rim_digest_mismatch",
    "NV_SWITCH_BIOS_5612_0002_890_9610550001_invalid_signature.xml": "nvidia.rim_digest_mismatch",
    "NV_SWITCH_BIOS_5612_0002_890_9610550001_measurement_mismatch.xml": (
        "nvidia.rim_digest_mismatch"
    ),
}


@pytest.mark.parametrize(("name", "code"), sorted(NEGATIVE_RIMS.items()))
def test_negative_rims(name: str, code: str) -> None:
    with pytest.raises(TeeclientError) as info:
        rim.verify_rim(
            (V / "nvat-testdata/rims" / name).read_bytes(), trust=vendor(), now=T2, source=name
        )
    assert info.value.code == code


def test_valid_rims_and_the_vbios_mismatch_rim_verify() -> None:
    good = {
        "NV_GPU_DRIVER_GH100_550.144.03.xml": ("550.144.03", T2),
        "NV_GPU_VBIOS_1010_0200_882_96005E0001_measurement_mismatch.xml": ("96.00.5E.00.01", T2),
        "switchVBIOSRim_NV_SWITCH_BIOS_5612_0002_890_9610550001.xml": ("96.10.55.00.01", TODAY),
    }
    for name, (version, now) in good.items():
        v = rim.verify_rim(
            (V / "nvat-testdata/rims" / name).read_bytes(), trust=vendor(), now=now, source=name
        )
        assert v.colloquial_version == version


@pytest.mark.parametrize(
    "name",
    [
        "1010_0200_882_96005E0001_PROD.swidtag",
        "g520_0200_885_9600740001_PROD.swidtag",
        "Driver_RIM_test_no_gpu.swidtag",
    ],
)
def test_pip_sample_rims_pass_pinned_and_expire(name: str) -> None:
    data = (V / "pip-2.7.3-samples/rims" / name).read_bytes()
    from datetime import UTC, datetime

    rim.verify_rim(data, trust=vendor(), now=datetime(2025, 3, 1, tzinfo=UTC), source=name)
    with pytest.raises(TeeclientError) as info:
        rim.verify_rim(data, trust=vendor(), now=TODAY, source=name)
    assert info.value.code == "nvidia.rim_cert_expired"


def test_nras_token_parse_only() -> None:
    eat = json.loads((E2E / "nras_v4_claims3_detached_eat.json").read_text())
    assert submods_digests_match(eat)
    switch = json.loads(
        (V / "nvat-testdata/nras/switch_staging_claims3_detached_eat.json").read_text()
    )
    assert submods_digests_match(switch)
    with pytest.raises(TeeclientError) as info:  # the signing JWK was rotated away
        verify_detached_eat(eat, keys=Jwks({}), now=T1, nonce=E2E_NONCE)
    assert info.value.code == "nvidia.nras_key_unknown"


def test_parser_matches_nvidia_oracles() -> None:
    oracle = json.loads((V / "nvat-testdata/oracles/spdm_parsed_output.json").read_text())
    report = abi.parse_report(
        hexfile(V / "nvat-testdata/gpu/hopper_580.159.03_AttestationReport.txt"), abi.DeviceKind.GPU
    )
    resp = report.response
    assert resp.number_of_blocks == int(oracle["NumberOfBlocks"])
    assert resp.record_length == int(oracle["MeasurementRecordLength"])
    assert resp.opaque_length == int(oracle["OpaqueLength"])
    assert "0x" + resp.responder_nonce.hex() == oracle["Nonce"]
    assert "0x" + resp.signature.hex() == oracle["Signature"]
    blocks = oracle["MeasurementRecord"]["MeasurementBlocks"]
    for b in resp.blocks:
        assert "0x" + b.value.hex() == blocks[str(b.index)]["DMTFSpecMeasurementValue"]
    fields = oracle["OpaqueData"]["OpaqueDataField"]
    for name in ("VBIOS_VERSION", "CHIP_SKU", "PROJECT", "DRIVER_VERSION", "FWID"):
        f = resp.opaque.get(name)
        assert f is not None
        assert "0x" + f.value.hex() == fields[f"OPAQUE_FIELD_ID_{name}"]
    req = json.loads((V / "nvat-testdata/oracles/spdm_req_parsed_output.json").read_text())
    assert "0x" + report.request.nonce.hex() == req["Nonce"]
    sw = json.loads((V / "nvat-testdata/oracles/switch_spdm_parsed_output.json").read_text())
    swr = abi.parse_report(
        hexfile(V / "nvat-testdata/switch/switchAttestationReport.txt"), abi.DeviceKind.SWITCH
    ).response
    assert swr.number_of_blocks == int(sw["NumberOfBlocks"])
    assert swr.opaque.device_pdi is not None
    assert (
        "0x" + swr.opaque.device_pdi.hex()
        == sw["OpaqueData"]["OpaqueDataField"]["OPAQUE_FIELD_ID_DEVICE_PDI"]
    )
    assert swr.opaque.vbios_version == "96.10.55.00.01"
    assert base64
