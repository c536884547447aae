"""NVIDIA benchmarks: warm per-GPU local verification and an 8-GPU + 4-NVSwitch PPCIE node."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from teeclient.collateral.items import CollateralSet
    from teeclient.trust import TrustStore

import sys
from datetime import UTC, datetime
from pathlib import Path

from benchmarks._harness import Result, measure, measure_process, report

ROOT = Path(__file__).resolve().parent.parent
V = ROOT / "fixtures" / "real" / "nvidia"
E2E = V / "hopper_e2e"
T1 = datetime(2025, 8, 21, 12, tzinfo=UTC)
TODAY = datetime(2026, 11, 27, tzinfo=UTC)
NONCE = bytes.fromhex("931d8dd0add203ac3d8b4fbde75e115278eefcdceac5b87671a748f32364dfcb")
PPCIE_NONCE = bytes.fromhex("4760e30534a0621357d458b1a7936551b5dc4cd1e69718adf7ed9fb0252a537e")


def generated_node(
    n_gpus: int = 8, n_switches: int = 4
) -> tuple[bytes, CollateralSet, TrustStore, bytes]:
    """``n_gpus`` GPUs + ``n_switches`` switches from the generated PKI, with RIMs and OCSP for
    every chain (defaults: a full HGX PPCIE node)."""
    from teeclient.collateral.items import CollateralItem, CollateralSet
    from teeclient.platforms.nvidia.abi import DeviceKind
    from teeclient.testing.nvidia_evidence import (
        SpdmReportSpec,
        evidence_json,
        gpu_opaque,
        switch_opaque,
    )
    from teeclient.testing.pki.nvidia import NvidiaPki, RimSpec

    gpu_pki, sw_pki = NvidiaPki.generate("GH100"), None
    nonce = bytes(range(32))
    switch_pdis = [bytes([0x10 + i]) * 8 for i in range(n_switches)]
    gpus = [gpu_pki.issue_device(serial=0x1000 + i) for i in range(n_gpus)]
    opaque = gpu_opaque(
        feature_flag=2,
        opaque_data_version=1,
        chip_info="GH100",
        switch_pdis=[*switch_pdis, *([bytes(8)] * (18 - n_switches))],
    )
    spec = SpdmReportSpec(nonce=nonce, opaque=opaque)
    entries = [(spec.build(d.key), d.chain_pem(), "HOPPER") for d in gpus]
    sw_pki = gpu_pki.replace(chip="LS_10")
    switches = [sw_pki.issue_device(serial=0x2000 + i, fwid=None) for i in range(n_switches)]
    for i, d in enumerate(switches):
        sw_spec = SpdmReportSpec(
            nonce=nonce,
            kind=DeviceKind.SWITCH,
            blocks={j: bytes([j]) * 48 for j in range(1, 32)},
            opaque=switch_opaque(
                device_pdi=switch_pdis[i][::-1], project="5612", project_sku="0002", chip_sku="890"
            ),
        )
        entries.append((sw_spec.build(d.key), d.chain_pem(), "LS10"))
    driver = gpu_pki.sign_rim(
        RimSpec(
            colloquial_version="550.90.07",
            golden={i: (spec.blocks[i + 1],) for i in (7, *range(21, 41))},
        )
    )
    vbios = gpu_pki.sign_rim(
        RimSpec(
            colloquial_version="96.00.9F.00.01",
            golden={i: (spec.blocks[i + 1],) for i in (*range(7), *range(8, 13))},
        )
    )
    switch_rim = gpu_pki.sign_rim(
        RimSpec(
            colloquial_version="96.10.55.00.01",
            name="LS10",
            product="LS10",
            edition="SWITCH",
            total=31,
            golden={i: (bytes([i + 1]) * 48,) for i in range(31)},
        )
    )
    answers: list[bytes] = gpu_pki.rim_ocsp()
    for d in (*gpus, *switches):
        answers += gpu_pki.device_ocsp(d)
    items = [driver, vbios, switch_rim, *answers]
    col = CollateralSet.of(CollateralItem(data=x, source=f"i{n}") for n, x in enumerate(items))
    return evidence_json(entries, nonce=nonce), col, gpu_pki.trust_store(), nonce


def run() -> list[Result]:
    """Run every NVIDIA benchmark."""
    from teeclient.collateral.items import CollateralSet
    from teeclient.platforms.nvidia import ocsp, rim
    from teeclient.platforms.nvidia.verify import verify
    from teeclient.policy.appraise import appraise
    from teeclient.policy.load import load_baseline
    from teeclient.trust import TrustStore

    trust = TrustStore.vendor()
    report = bytes.fromhex((E2E / "hopperAttestationReport.txt").read_text().strip())
    device_ocsp = sorted((E2E / "ocsp").glob("test_gpu_certificate_*"))
    rim_ocsp = [p for p in sorted((E2E / "ocsp").glob("*.b64")) if p not in device_ocsp]
    responses = [ocsp.load_response(p.read_bytes(), source=p.name) for p in rim_ocsp]
    rims = [
        rim.verify_rim(
            p.read_bytes(),
            trust=trust,
            source=p.name,
            ocsp_responses=responses,
            now=datetime(2025, 10, 24, 12, tzinfo=UTC),
        )
        for p in sorted(E2E.glob("*.xml"))
    ]
    chain_only = CollateralSet.from_files([E2E / "hopperCertChain.txt", *device_ocsp])
    full = CollateralSet.from_files(
        [E2E / "hopperCertChain.txt", *device_ocsp, *sorted(E2E.glob("*.xml"))]
    )
    gpu_json = (V / "ppcie" / "hgx_h100_8gpu_ppcie_590.12_gpu_evidence.json").read_bytes()
    switches = CollateralSet.from_files([V / "ppcie" / "hgx_4x_ls10_switch_evidence.json"])
    node_ev, node_col, node_trust, node_nonce = generated_node()
    policy = load_baseline()

    def node() -> object:
        claims = verify(
            node_ev,
            trust=node_trust,
            now=T1,
            collateral=node_col,
            nonce=node_nonce,
        )
        return appraise([claims], policy, T1)

    results = [
        measure(
            "nvidia per-GPU warm local verify (H100, chain + 3 OCSP, RIMs pre-verified)",
            lambda: verify(
                report, trust=trust, now=T1, collateral=chain_only, nonce=NONCE, rims=rims
            ),
            note="report signature every call; chain/OCSP/RIM signatures memoised by hash",
        ),
        measure(
            "nvidia per-GPU warm local verify (H100, 2 RIM XMLs verified in the call)",
            lambda: verify(report, trust=trust, now=T1, collateral=full, nonce=NONCE),
            note="includes lxml parse, RIM chains and RIM comparison",
        ),
        measure(
            "nvidia PPCIE node, real 8 x H100 + 4 x LS10 (signatures, chains, topology)",
            lambda: verify(
                gpu_json, trust=trust, now=TODAY, collateral=switches, nonce=PPCIE_NONCE
            ),
            samples=60,
        ),
        measure(
            "nvidia PPCIE node, generated 8 GPU + 4 switch, RIMs + 36 OCSP + appraisal",
            node,
            samples=60,
            note="3 RIMs (each XML verified per call), 48 device and RIM OCSP answers",
        ),
        measure(
            "nvidia per-GPU verify, fresh trust store (no memo)",
            lambda: verify(
                report,
                trust=TrustStore.vendor(),
                now=T1,
                collateral=chain_only,
                nonce=NONCE,
                rims=rims,
            ),
            samples=40,
        ),
    ]
    cli = str(Path(sys.executable).with_name("teeclient"))
    results.append(
        measure_process(
            "cold `teeclient verify --offline` NVIDIA e2e process (chain, 2 RIMs, 7 OCSP)",
            [
                cli,
                "verify",
                str(E2E / "hopperAttestationReport.txt"),
                "--offline",
                "--collateral",
                str(E2E / "hopperCertChain.txt"),
                *[x for p in sorted(E2E.glob("*.xml")) for x in ("-c", str(p))],
                *[x for p in (*device_ocsp, *rim_ocsp) for x in ("-c", str(p))],
                "--at",
                "2025-08-21T12:00:00Z",
                "--nonce",
                NONCE.hex(),
                "--json",
            ],
            samples=8,
            ok_codes=(0, 1),
        )
    )
    return results


def main() -> int:
    """Print the results and their JSON."""
    return report(run())


if __name__ == "__main__":
    sys.exit(main())
