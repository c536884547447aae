"""GpuClaims, SwitchClaims and NvidiaNodeClaims: verified NVIDIA device content for policy.

Only ``teeclient.platforms.nvidia.verify`` (and ``teeclient.testing``) build these. Holding a
``source = local`` claim means the report signature, the device chain to the pinned root at the
verification time, the nonce (when one was given) and the FWID (when both sides carry one)
held; RIMs, OCSP answers and the comparison are recorded as found, for policy to judge.
``source = nras`` claims come from an NRAS token whose signature, issuer, times, nonce and
submods digests verified (specs/nvidia-gpu.md §8.5).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar

from teeclient._time import iso
from teeclient.platforms.nvidia.certs import DeviceArch
from teeclient.platforms.nvidia.ocsp import OcspCheck, OcspStatus
from teeclient.platforms.nvidia.rim import Mismatch, RimKind

__all__ = [
    "CertChainClaims",
    "ClaimsSource",
    "GpuClaims",
    "GpuMode",
    "MeasurementClaims",
    "MeasurementResult",
    "NrasSummary",
    "NvidiaNodeClaims",
    "RimClaims",
    "SwitchClaims",
    "TopologyClaims",
]


class GpuMode(enum.StrEnum):
    """FEATURE_FLAG (opaque 36): single-GPU passthrough, multi-GPU passthrough, protected PCIe."""

    SPT = "SPT"
    MPT = "MPT"
    PPCIE = "PPCIE"


class ClaimsSource(enum.StrEnum):
    """Where the device was appraised: verified locally, or by NVIDIA's NRAS (token checked)."""

    LOCAL = "local"
    NRAS = "nras"


class MeasurementResult(enum.StrEnum):
    """Outcome of the golden-measurement comparison (NRAS ``measres`` plus two local cases)."""

    SUCCESS = "success"
    FAIL = "fail"
    UNAVAILABLE = "unavailable"  # a needed RIM was not supplied: reference values unavailable
    CONFLICT = "conflict"  # driver and VBIOS RIMs both claim an index


_OCSP_ORDER = (OcspStatus.REVOKED, OcspStatus.UNKNOWN, OcspStatus.MISSING, OcspStatus.GOOD)


@dataclass(frozen=True, slots=True, kw_only=True)
class CertChainClaims:
    """A verified certificate chain: expiry, fingerprints and the OCSP answers for it."""

    role: str
    expiration: datetime
    sha256: tuple[str, ...]
    ocsp: tuple[OcspCheck, ...]

    @property
    def ocsp_status(self) -> OcspStatus:
        """The worst status over the checked certificates (revoked > unknown > missing > good)."""
        statuses = {c.status for c in self.ocsp}
        for status in _OCSP_ORDER:
            if status in statuses:
                return status
        return OcspStatus.MISSING

    def to_dict(self) -> dict[str, object]:
        """JSON form."""
        return {
            "role": self.role,
            "status": "valid",
            "expiration": iso(self.expiration),
            "sha256": list(self.sha256),
            "ocsp_status": self.ocsp_status.value,
            "ocsp": [c.to_dict() for c in self.ocsp],
        }

    def nras(self) -> dict[str, object]:
        """NRAS claims-3.0 certificate-chain object."""
        reason = next((c.revocation_reason for c in self.ocsp if c.revocation_reason), None)
        return {
            "x-nvidia-cert-status": "valid",
            "x-nvidia-cert-ocsp-status": self.ocsp_status.value,
            "x-nvidia-cert-expiration-date": iso(self.expiration),
            "x-nvidia-cert-revocation-reason": reason,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class RimClaims:
    """The verified RIM used for one component (driver, VBIOS or switch BIOS)."""

    kind: RimKind
    id: str
    version: str
    sha256: str
    source: str
    manufacturer_id: str | None
    chain: CertChainClaims

    def to_dict(self) -> dict[str, object]:
        """JSON form."""
        return {
            "kind": self.kind.value,
            "id": self.id,
            "version": self.version,
            "sha256": self.sha256,
            "source": self.source,
            "manufacturer_id": self.manufacturer_id,
            "chain": self.chain.to_dict(),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class MeasurementClaims:
    """Golden-measurement comparison (specs/nvidia-gpu.md §5.6)."""

    result: MeasurementResult
    compared: tuple[int, ...] = ()
    mismatches: tuple[Mismatch, ...] = ()
    conflicts: tuple[int, ...] = ()
    missing_rims: tuple[str, ...] = ()
    nvdec0_disabled: bool = False

    def to_dict(self) -> dict[str, object]:
        """JSON form."""
        return {
            "result": self.result.value,
            "compared_indices": list(self.compared),
            "mismatches": [m.to_dict() for m in self.mismatches],
            "conflicts": list(self.conflicts),
            "missing_rims": list(self.missing_rims),
            "nvdec0_disabled": self.nvdec0_disabled,
        }


def _opt_iso(value: datetime | None) -> str | None:
    return iso(value) if value is not None else None


@dataclass(frozen=True, slots=True, kw_only=True)
class _DeviceClaims:
    """Fields common to GPUs and NVSwitches."""

    index: int
    source: ClaimsSource
    arch: DeviceArch
    chip: str
    hwmodel: str
    ueid: str
    oemid: str | None
    vbios_version: str | None
    project: str | None
    project_sku: str | None
    chip_sku: str | None
    fwid: str | None
    fwid_in_certificate: bool
    fwid_match: bool | None
    nonce: str
    nonce_checked: bool
    report_sha256: str | None
    device_chain: CertChainClaims | None
    measurements: MeasurementClaims
    rim_ids: tuple[tuple[str, str], ...] = ()
    nras_claims: tuple[tuple[str, object], ...] = field(default=(), compare=False)

    def _common(self) -> dict[str, object]:
        return {
            "index": self.index,
            "source": self.source.value,
            "arch": self.arch.value,
            "chip": self.chip,
            "hwmodel": self.hwmodel,
            "ueid": self.ueid,
            "oemid": self.oemid,
            "vbios_version": self.vbios_version,
            "project": self.project,
            "project_sku": self.project_sku,
            "chip_sku": self.chip_sku,
            "fwid": self.fwid,
            "fwid_in_certificate": self.fwid_in_certificate,
            "fwid_match": self.fwid_match,
            "nonce": self.nonce,
            "nonce_checked": self.nonce_checked,
            "report_sha256": self.report_sha256,
            "device_chain": self.device_chain.to_dict() if self.device_chain else None,
            "measurements": self.measurements.to_dict(),
            "rim_ids": dict(self.rim_ids),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class GpuClaims(_DeviceClaims):
    """A verified NVIDIA GPU (Hopper or Blackwell)."""

    kind: ClassVar[str] = "nvidia-gpu"

    driver_version: str | None
    chip_info: str | None
    opaque_data_version: int | None
    feature_flag: int | None
    mode: GpuMode | None
    protected_pcie: bool | None
    nvdec0_enabled: bool | None
    switch_pdis: tuple[str, ...]
    driver_rim: RimClaims | None
    vbios_rim: RimClaims | None

    def summary(self) -> list[str]:
        """Human-readable lines for the CLI."""
        fwid = {True: "FWID matches", False: "FWID differs", None: "no FWID"}[self.fwid_match]
        return [
            f"{self.hwmodel} ({self.arch.value}), ueid {self.ueid}, source {self.source.value}",
            f"driver {self.driver_version}, VBIOS {self.vbios_version}, mode "
            f"{self.mode.value if self.mode else '-'}, {fwid}",
            f"measurements {self.measurements.result.value}"
            + (
                f" ({len(self.measurements.mismatches)} mismatch(es))"
                if self.measurements.mismatches
                else ""
            ),
        ]

    def to_dict(self) -> dict[str, object]:
        """JSON form (the ``claims`` member of ``--json`` output)."""
        return {
            **self._common(),
            "driver_version": self.driver_version,
            "chip_info": self.chip_info,
            "opaque_data_version": self.opaque_data_version,
            "feature_flag": self.feature_flag,
            "mode": self.mode.value if self.mode else None,
            "protected_pcie": self.protected_pcie,
            "nvdec0_enabled": self.nvdec0_enabled,
            "switch_pdis": list(self.switch_pdis),
            "driver_rim": self.driver_rim.to_dict() if self.driver_rim else None,
            "vbios_rim": self.vbios_rim.to_dict() if self.vbios_rim else None,
        }

    def to_nras_claims(self) -> dict[str, object]:
        """The NRAS claims-3.0 device claims these local results correspond to (§8.3).

        For ``source = nras`` claims this is the verified token's own claim set.
        """
        if self.nras_claims:
            return dict(self.nras_claims)
        m = self.measurements
        driver, vbios = self.driver_rim, self.vbios_rim
        ok = m.result is MeasurementResult.SUCCESS
        out: dict[str, object] = {
            "hwmodel": self.hwmodel,
            "ueid": self.ueid,
            "oemid": self.oemid,
            "eat_nonce": self.nonce,
            "measres": "success" if ok else "fail",
            "secboot": ok,
            "dbgstat": "disabled" if ok else "enabled",
            "x-nvidia-gpu-driver-version": self.driver_version,
            "x-nvidia-gpu-vbios-version": self.vbios_version,
            "x-nvidia-gpu-arch-check": True,
            "x-nvidia-gpu-attestation-report-parsed": True,
            "x-nvidia-gpu-attestation-report-signature-verified": True,
            "x-nvidia-gpu-attestation-report-nonce-match": True,
            "x-nvidia-gpu-attestation-report-cert-chain-fwid-match": self.fwid_match is True,
            "x-nvidia-gpu-vbios-index-no-conflict": not m.conflicts,
            "x-nvidia-attestation-warning": None,
        }
        if self.device_chain is not None:
            out["x-nvidia-gpu-attestation-report-cert-chain"] = self.device_chain.nras()
        for name, rim in (("driver", driver), ("vbios", vbios)):
            present = rim is not None
            for suffix in (
                "fetched",
                "schema-validated",
                "signature-verified",
                "version-match",
                "measurements-available",
            ):
                out[f"x-nvidia-gpu-{name}-rim-{suffix}"] = present
            if rim is not None:
                out[f"x-nvidia-gpu-{name}-rim-cert-chain"] = rim.chain.nras()
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class SwitchClaims(_DeviceClaims):
    """A verified NVIDIA NVSwitch (LS10)."""

    kind: ClassVar[str] = "nvidia-switch"

    device_pdi: str | None
    gpu_pdis: tuple[str, ...]
    switch_rim: RimClaims | None

    def summary(self) -> list[str]:
        """Human-readable lines for the CLI."""
        return [
            f"{self.hwmodel} ({self.arch.value}), ueid {self.ueid}, source {self.source.value}",
            f"BIOS {self.vbios_version}, PDI {self.device_pdi}, measurements "
            f"{self.measurements.result.value}",
        ]

    def to_dict(self) -> dict[str, object]:
        """JSON form."""
        return {
            **self._common(),
            "device_pdi": self.device_pdi,
            "gpu_pdis": list(self.gpu_pdis),
            "switch_rim": self.switch_rim.to_dict() if self.switch_rim else None,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class TopologyClaims:
    """PPCIE topology (specs/nvidia-gpu.md §6.2), computed from the verified devices."""

    evaluated: bool
    ok: bool
    problems: tuple[str, ...] = ()
    switch_pdis_seen_by_gpus: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, object]:
        """JSON form."""
        return {
            "evaluated": self.evaluated,
            "ok": self.ok,
            "problems": list(self.problems),
            "switch_pdis_seen_by_gpus": list(self.switch_pdis_seen_by_gpus),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class NrasSummary:
    """The verified NRAS overall token (when one was supplied)."""

    issuer: str
    kid: str
    overall_result: bool
    submods: tuple[str, ...]
    issued_at: datetime
    expires_at: datetime
    version: str | None

    def to_dict(self) -> dict[str, object]:
        """JSON form."""
        return {
            "issuer": self.issuer,
            "kid": self.kid,
            "overall_result": self.overall_result,
            "submods": list(self.submods),
            "issued_at": iso(self.issued_at),
            "expires_at": iso(self.expires_at),
            "version": self.version,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class NvidiaNodeClaims:
    """Every NVIDIA device of one node verified with one nonce, plus node-level facts.

    Appraisal treats this as a composite: the node itself is judged by ``[gpu]``, each GPU by
    ``[[nvidia_gpu]]`` and each switch by ``[[nvidia_switch]]``.
    """

    kind: ClassVar[str] = "nvidia-node"

    nonce: str
    nonce_checked: bool
    gpus: tuple[GpuClaims, ...]
    switches: tuple[SwitchClaims, ...]
    mode: GpuMode | None
    distinct_devices: bool
    topology: TopologyClaims
    sources: frozenset[ClaimsSource]
    nras: NrasSummary | None = None
    local_nras_agree: bool | None = None

    def parts(self) -> tuple[GpuClaims | SwitchClaims, ...]:
        """The per-device claims (appraised by their own sections)."""
        return (*self.gpus, *self.switches)

    def summary(self) -> list[str]:
        """Human-readable lines for the CLI."""
        return [
            f"{len(self.gpus)} GPU(s), {len(self.switches)} NVSwitch(es), mode "
            f"{self.mode.value if self.mode else '-'}, sources "
            f"{', '.join(sorted(s.value for s in self.sources))}",
            f"nonce {self.nonce} ({'checked' if self.nonce_checked else 'NOT checked'})",
        ]

    def to_dict(self) -> dict[str, object]:
        """JSON form (devices are listed as their own components)."""
        return {
            "nonce": self.nonce,
            "nonce_checked": self.nonce_checked,
            "gpu_count": len(self.gpus),
            "switch_count": len(self.switches),
            "mode": self.mode.value if self.mode else None,
            "distinct_devices": self.distinct_devices,
            "topology": self.topology.to_dict(),
            "sources": sorted(s.value for s in self.sources),
            "nras": self.nras.to_dict() if self.nras else None,
            "local_nras_agree": self.local_nras_agree,
        }
