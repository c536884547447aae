"""Shared helpers for the NVIDIA tests: vector paths, clocks, generated PKI and evidence."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from teeclient.collateral.items import CollateralItem, CollateralSet
from teeclient.platforms.nvidia.claims import NvidiaNodeClaims
from teeclient.platforms.nvidia.verify import verify
from teeclient.testing.nvidia_evidence import SpdmReportSpec, evidence_json, gpu_opaque
from teeclient.testing.pki.nvidia import IssuedDevice, NvidiaPki, RimSpec
from teeclient.trust import TrustStore

V = Path(__file__).resolve().parent.parent / "fixtures" / "real" / "nvidia"
E2E = V / "hopper_e2e"
T1 = datetime(2025, 8, 21, 12, tzinfo=UTC)  # device-chain OCSP window
T2 = datetime(2025, 10, 24, 12, tzinfo=UTC)  # RIM-chain OCSP window
TODAY = datetime(2026, 11, 27, tzinfo=UTC)
E2E_NONCE = bytes.fromhex("931d8dd0add203ac3d8b4fbde75e115278eefcdceac5b87671a748f32364dfcb")
DEVICE_OCSP = sorted((E2E / "ocsp").glob("test_gpu_certificate_*"))
RIM_OCSP = sorted(p for p in (E2E / "ocsp").glob("*.b64") if p not in DEVICE_OCSP)
E2E_RIMS = sorted(E2E.glob("*.xml"))


@functools.cache
def vendor() -> TrustStore:
    """The shipped trust store (built once per test session)."""
    return TrustStore.vendor()


def hexfile(path: Path) -> bytes:
    """The bytes of a hex-text report file."""
    return bytes.fromhex(path.read_text().strip())


@functools.cache
def pki(chip: str = "GH100") -> NvidiaPki:
    """A generated NVIDIA PKI (cached per chip)."""
    return NvidiaPki.generate(chip)


@dataclass(frozen=True, slots=True)
class Generated:
    """One generated GPU with its report, RIMs and OCSP answers."""

    pki: NvidiaPki
    device: IssuedDevice
    spec: SpdmReportSpec
    report: bytes
    driver_rim: bytes
    vbios_rim: bytes
    nonce: bytes

    def evidence(self) -> bytes:
        """nvattest JSON for this one GPU."""
        return evidence_json([(self.report, self.device.chain_pem(), "HOPPER")], nonce=self.nonce)

    def collateral(
        self, *extra: bytes, ocsp: bool = True, device_answers: list[bytes] | None = None
    ) -> CollateralSet:
        """RIMs, OCSP answers for every chain (good, current at T1) and ``extra`` items."""
        items = [self.driver_rim, self.vbios_rim]
        if ocsp:
            answers = device_answers
            if answers is None:
                answers = self.pki.device_ocsp(self.device)
            items += answers + self.pki.rim_ocsp()
        items += list(extra)
        return CollateralSet.of(
            CollateralItem(data=d, source=f"item{i}") for i, d in enumerate(items)
        )

    def verify(
        self,
        *extra: bytes,
        ocsp: bool = True,
        device_answers: list[bytes] | None = None,
        **kw: object,
    ) -> NvidiaNodeClaims:
        """Verify at T1 with this PKI's trust store."""
        args: dict[str, object] = {"nonce": self.nonce, **kw}
        col = self.collateral(*extra, ocsp=ocsp, device_answers=device_answers)
        return verify(self.evidence(), trust=self.pki.trust_store(), now=T1, collateral=col, **args)  # type: ignore[arg-type]


def generated(
    *,
    opaque: bytes | None = None,
    nonce: bytes = bytes(range(32)),
    golden_override: dict[int, bytes] | None = None,
) -> Generated:
    """A consistent generated GPU: report, driver RIM (7, 21–40) and VBIOS RIM (0–6, 8–12)."""
    p = pki()
    dev = p.issue_device()
    spec = SpdmReportSpec(nonce=nonce, opaque=opaque if opaque is not None else gpu_opaque())
    report = spec.build(dev.key)
    golden = {i: spec.blocks[i + 1] for i in range(64)}
    golden.update(golden_override or {})
    driver = p.sign_rim(
        RimSpec(
            colloquial_version="550.90.07", golden={i: (golden[i],) for i in (7, *range(21, 41))}
        )
    )
    vbios = p.sign_rim(
        RimSpec(
            colloquial_version="96.00.9F.00.01",
            golden={i: (golden[i],) for i in (*range(7), *range(8, 13))},
        )
    )
    return Generated(
        pki=p, device=dev, spec=spec, report=report, driver_rim=driver, vbios_rim=vbios, nonce=nonce
    )
