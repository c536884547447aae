"""NVIDIA GPU/NVSwitch verification: chain, signature, nonce, FWID, OCSP, RIMs, node topology.

Pure: (evidence, collateral, pre-verified RIMs, trust store, ``now``) → ``NvidiaNodeClaims`` or
a typed error; no I/O and no clock. Per device the order follows specs/nvidia-gpu.md §11 with
authentication first: the device chain is validated to a pinned root and the report signature
checked over the raw signed bytes *before* any field of the report is interpreted; the strict
parse then runs on authenticated bytes. Multi-device rules (one nonce, no mode mix) and PPCIE
topology are computed over the verified devices (§6).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, utils

from teeclient._time import require_aware
from teeclient._x509 import ParseCache, common_name
from teeclient.collateral.items import CollateralItem, CollateralSet
from teeclient.errors import (
    CollateralMissingError,
    NrasClaimsError,
    NrasKeyError,
    NvidiaArchMismatchError,
    NvidiaDeviceSetError,
    NvidiaFwidMismatchError,
    NvidiaNonceMismatchError,
    NvidiaSignatureError,
    ParseError,
    RimMismatchError,
)
from teeclient.platforms import VerifyOptions
from teeclient.platforms.nvidia import abi, certs, ocsp, rim
from teeclient.platforms.nvidia.abi import AttestationReport, DeviceKind
from teeclient.platforms.nvidia.certs import DeviceArch, DeviceChain
from teeclient.platforms.nvidia.claims import (
    CertChainClaims,
    ClaimsSource,
    GpuClaims,
    GpuMode,
    MeasurementClaims,
    MeasurementResult,
    NvidiaNodeClaims,
    RimClaims,
    SwitchClaims,
    TopologyClaims,
)
from teeclient.platforms.nvidia.evidence import (
    DeviceEvidence,
    NvidiaEvidence,
    is_detached_eat,
    looks_like_nvidia,
    parse_evidence,
)
from teeclient.platforms.nvidia.nras import (
    NRAS_ISSUER,
    Jwks,
    KeyResolver,
    NrasResult,
    verify_detached_eat,
)
from teeclient.platforms.nvidia.ocsp import OcspResponse
from teeclient.platforms.nvidia.rim import RimKind, VerifiedRim
from teeclient.trust import TrustStore

__all__ = [
    "NvidiaCollateral",
    "WantedRim",
    "chain_for",
    "sort_collateral",
    "verify",
    "verify_device",
    "verify_evidence",
    "wanted_rims",
]

PLATFORM = "nvidia"
_MODES = {0: GpuMode.SPT, 1: GpuMode.MPT, 2: GpuMode.PPCIE}
_ARCH_HINTS = {
    "HOPPER": DeviceArch.HOPPER,
    "BLACKWELL": DeviceArch.BLACKWELL,
    "LS10": DeviceArch.LS10,
}
PPCIE_GPUS = 8
PPCIE_SWITCHES = 4


@dataclass(frozen=True, slots=True, kw_only=True)
class NvidiaCollateral:
    """Collateral items sorted by kind (recognised by content)."""

    chains: tuple[tuple[tuple[x509.Certificate, ...], str], ...] = ()
    rims: tuple[tuple[bytes, str, str | None], ...] = ()
    ocsp: tuple[OcspResponse, ...] = ()
    jwks: Jwks | None = None
    devices: tuple[DeviceEvidence, ...] = ()


def _is_jwks(data: bytes) -> bool:
    return data.lstrip()[:1] == b"{" and b'"keys"' in data


def _sort_item(data: bytes, source: str, request: bytes | None) -> tuple[str, object] | None:
    """One collateral item parsed: (kind, value), or None when it is not NVIDIA collateral."""
    if b"-----BEGIN CERTIFICATE-----" in data:
        return "chain", tuple(certs.load_chain(data, role=source))
    if rim.looks_like_rim(data):
        if data.lstrip()[:1] == b"{":
            service_id, xml = rim.parse_service_response(data, source=source)
            return "rim", (xml, source, service_id)
        return "rim", (data, source, None)
    if ocsp.looks_like_ocsp(data):
        return "ocsp", ocsp.load_response(data, source=source, request=request)
    if _is_jwks(data):
        return "jwks", Jwks.from_json(data)
    if looks_like_nvidia(data):
        return "devices", parse_evidence(data, source=source).devices
    return None


def _parse_key(kind: bytes, *parts: bytes) -> bytes:
    digest = hashlib.sha256(kind)
    for part in parts:
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.digest()


def sort_collateral(
    collateral: CollateralSet, *, cache: ParseCache | None = None
) -> NvidiaCollateral:
    """Sort collateral: PEM device chains, RIMs (XML or service JSON), OCSP responses, a JWKS,
    and extra device evidence (for example the NVSwitch list of a PPCIE node).

    ``cache`` (a trust store's ``parsed``) keeps each item's parse by content, source and
    recorded request, so repeated verifications with the same collateral parse it once.

    Raises:
        ParseError / RimMalformedError / OcspMalformedError / NrasKeyError: a malformed item.
    """
    chains: list[tuple[tuple[x509.Certificate, ...], str]] = []
    rims: list[tuple[bytes, str, str | None]] = []
    responses: list[OcspResponse] = []
    jwks: Jwks | None = None
    devices: list[DeviceEvidence] = []
    for item in collateral:
        parsed: tuple[str, object] | None
        if cache is None:
            parsed = _sort_item(item.data, item.source, item.request_body)
        else:
            key = _parse_key(
                b"nvidia.collateral/1",
                item.data,
                item.source.encode(),
                item.request_body if item.request_body is not None else b"\x00none",
            )
            hit = cache.get(key)
            if isinstance(hit, tuple):
                parsed = hit
            else:
                parsed = _sort_item(item.data, item.source, item.request_body)
                cache.put(key, parsed if parsed is not None else ("none", None))
        if parsed is None:
            continue
        kind, value = parsed
        if kind == "chain" and isinstance(value, tuple):
            chains.append((value, item.source))
        elif kind == "rim" and isinstance(value, tuple):
            rims.append(value)
        elif kind == "ocsp" and isinstance(value, OcspResponse):
            responses.append(value)
        elif kind == "jwks" and isinstance(value, Jwks):
            jwks = value if jwks is None else Jwks({**jwks.keys, **value.keys})
        elif kind == "devices" and isinstance(value, tuple):
            devices.extend(value)
    return NvidiaCollateral(
        chains=tuple(chains),
        rims=tuple(rims),
        ocsp=tuple(responses),
        jwks=jwks,
        devices=tuple(devices),
    )


def _check_signature(signed: bytes, signature: bytes, chain: DeviceChain, label: str) -> None:
    key = chain.leaf.public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey)  # checked by verify_device_chain
    r = int.from_bytes(signature[:48], "big")
    s = int.from_bytes(signature[48:], "big")
    try:
        key.verify(utils.encode_dss_signature(r, s), signed, ec.ECDSA(hashes.SHA384()))
    except (InvalidSignature, ValueError) as exc:
        raise NvidiaSignatureError(
            "attestation report signature does not verify with the device leaf key",
            platform=PLATFORM,
            field=f"{label}.Signature",
            expected=f"ECDSA P-384 signature by {common_name(chain.leaf.subject)} "
            f"(ueid {chain.ueid})",
        ) from exc


def _signs(chain: Sequence[x509.Certificate], signed: bytes, signature: bytes) -> bool:
    key = chain[0].public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey):
        return False
    sig = utils.encode_dss_signature(
        int.from_bytes(signature[:48], "big"), int.from_bytes(signature[48:], "big")
    )
    try:
        key.verify(sig, signed, ec.ECDSA(hashes.SHA384()))
    except (InvalidSignature, ValueError):
        return False
    return True


def chain_for(
    dev: DeviceEvidence,
    extra: NvidiaCollateral,
    signed: bytes,
    signature: bytes,
    *,
    cache: ParseCache | None = None,
) -> list[x509.Certificate]:
    """The device's PEM chain as carried, else the supplied five-certificate chain (the one
    whose leaf signed the report, when several were supplied); nothing is validated here.

    Raises:
        CollateralMissingError: a bare report and no five-certificate chain supplied.
        ParseError: the carried chain is not PEM.
    """
    if dev.chain_pem is not None:
        role = f"{dev.label}.certificate"
        if cache is None:
            return certs.load_chain(dev.chain_pem, role=role)
        key = _parse_key(b"nvidia.chain/1", dev.chain_pem)
        hit = cache.get(key)
        if isinstance(hit, tuple):
            return list(hit)
        loaded = certs.load_chain(dev.chain_pem, role=role)
        cache.put(key, tuple(loaded))
        return loaded
    candidates = [list(c) for c, _ in extra.chains if len(c) == certs.CHAIN_LENGTH]
    if not candidates:
        raise CollateralMissingError(
            "no device certificate chain was supplied for the report",
            platform=PLATFORM,
            field=f"{dev.label}.certificate",
            expected="a PEM chain of 5 certificates (--collateral chain.pem)",
            actual=f"{len(extra.chains)} PEM item(s)",
        )
    if len(candidates) == 1:
        return candidates[0]
    for chain in candidates:
        if _signs(chain, signed, signature):
            return chain
    return candidates[0]


def _ocsp_chain(
    chain: DeviceChain,
    responses: Sequence[OcspResponse],
    now: datetime,
    nonce: bytes | None,
    trust: TrustStore,
    label: str,
) -> tuple[ocsp.OcspCheck, ...]:
    device = chain.certificates
    issuers = (device[2], device[3], chain.root)
    roles = ("brom", "provisioner_ica", "identity")
    return tuple(
        ocsp.check_certificate(
            device[i + 1],
            issuers[i],
            responses,
            role=f"{label}.{roles[i]}",
            now=now,
            nonce=nonce,
            memo=trust.memo,
        )
        for i in range(3)
    )


def _rim_claims(kind: RimKind, rim_id: str, v: VerifiedRim) -> RimClaims:
    return RimClaims(
        kind=kind,
        id=rim_id,
        version=v.colloquial_version,
        sha256=v.sha256,
        source=v.source,
        manufacturer_id=v.manufacturer_id,
        chain=CertChainClaims(
            role=f"{kind.value}_rim",
            expiration=v.expiration,
            sha256=tuple(c for c in (*(_fp(x) for x in v.chain), _fp(v.root))),
            ocsp=v.ocsp,
        ),
    )


def _fp(cert: x509.Certificate) -> str:
    from teeclient._x509 import fingerprint

    return fingerprint(cert)


def _select_rim(
    rims: Sequence[VerifiedRim], *, kind: RimKind, rim_id: str, version: str | None, chip: str
) -> VerifiedRim | None:
    if version is None:
        return None
    for candidate in rims:
        if candidate.service_id is not None and candidate.service_id == rim_id:
            rim.check_rim_matches(candidate, kind=kind, rim_id=rim_id, version=version, chip=chip)
            return candidate
    for candidate in rims:
        if candidate.service_id is None and candidate.colloquial_version.upper() == version.upper():
            try:
                rim.check_rim_matches(
                    candidate, kind=kind, rim_id=rim_id, version=version, chip=chip
                )
            except RimMismatchError:
                continue
            return candidate
    return None


def _compare(
    report: AttestationReport,
    wanted: Sequence[tuple[RimKind, str, VerifiedRim | None]],
    nvdec0: int | None,
) -> MeasurementClaims:
    missing = tuple(rim_id for _, rim_id, v in wanted if v is None)
    if missing:
        return MeasurementClaims(
            result=MeasurementResult.UNAVAILABLE,
            missing_rims=missing,
            nvdec0_disabled=nvdec0 == rim.NVDEC0_DISABLED,
        )
    blocks = {b.index: b.value for b in report.response.blocks}
    found = [(kind, v) for kind, _, v in wanted if v is not None]
    result = rim.compare_measurements(blocks, found, nvdec0_status=nvdec0)
    if result.conflicts:
        status = MeasurementResult.CONFLICT
    elif any(not m.nvdec0_skippable for m in result.mismatches):
        status = MeasurementResult.FAIL
    else:
        status = MeasurementResult.SUCCESS
    return MeasurementClaims(
        result=status,
        compared=result.compared,
        mismatches=result.mismatches,
        conflicts=result.conflicts,
        nvdec0_disabled=result.nvdec0_disabled,
    )


def verify_device(
    dev: DeviceEvidence,
    *,
    index: int,
    trust: TrustStore,
    now: datetime,
    nonce: bytes | None,
    rims: Sequence[VerifiedRim] = (),
    ocsp_responses: Sequence[OcspResponse] = (),
    ocsp_nonce: bytes | None = None,
    collateral: NvidiaCollateral | None = None,
) -> GpuClaims | SwitchClaims:
    """Verify one device's report (specs/nvidia-gpu.md §11 steps 1–14) and return its claims.

    Raises:
        ParseError / NvidiaUnsupportedOpaqueError: malformed report or chain.
        ChainError: the chain does not lead to a pinned root at ``now``.
        NvidiaSignatureError: the report signature does not verify.
        NvidiaNonceMismatchError: the request nonce differs from ``nonce`` (or the carrier's).
        NvidiaArchMismatchError / NvidiaFwidMismatchError: endorsement inconsistencies.
        OcspError / RimMismatchError: collateral for this device is not authentic or foreign.
    """
    now = require_aware(now)
    label = dev.label or f"device[{index}]"
    # 1, 5, 6: size only, then chain to the pinned root, then the signature over raw bytes.
    signed, signature = abi.split_report(dev.report)
    chain_certs = chain_for(
        dev, collateral or NvidiaCollateral(), signed, signature, cache=trust.parsed
    )
    chain = certs.verify_device_chain(chain_certs, trust=trust, now=now, prefix=label)
    _check_signature(signed, signature, chain, label)
    # 2–3: strict structure of the authenticated report (table chosen by the verified chain).
    kind = DeviceKind.SWITCH if chain.arch.is_switch else DeviceKind.GPU
    report = abi.parse_report(dev.report, kind)
    opaque = report.response.opaque
    # 4: nonce, constant time.
    request_nonce = report.request.nonce
    want = nonce if nonce is not None else dev.nonce_hint
    if want is not None and not hmac.compare_digest(request_nonce, want):
        raise NvidiaNonceMismatchError(
            "the report's request nonce differs from the "
            + ("verifier's nonce" if nonce is not None else "nonce its carrier declares"),
            platform=PLATFORM,
            field=f"{label}.request.Nonce",
            expected=want.hex(),
            actual=request_nonce.hex(),
        )
    # 9: architecture from the chain; carrier hints and CHIP_INFO must agree.
    if dev.arch_hint is not None:
        hinted = _ARCH_HINTS.get(dev.arch_hint.upper())
        if hinted is not chain.arch:
            raise NvidiaArchMismatchError(
                "declared architecture differs from the certificate chain",
                platform=PLATFORM,
                field=f"{label}.arch",
                expected=chain.arch.nvidia_name,
                actual=dev.arch_hint,
            )
    chip_info = opaque.text("CHIP_INFO") if kind is DeviceKind.GPU else None
    if chip_info is not None and chip_info != chain.chip:
        raise NvidiaArchMismatchError(
            "CHIP_INFO differs from the certificate chain's chip",
            platform=PLATFORM,
            field=f"{label}.CHIP_INFO",
            expected=chain.chip,
            actual=chip_info,
        )
    # 7: FWID.
    report_fwid = opaque.fwid
    fwid_match: bool | None = None
    if report_fwid is not None and chain.fwid is not None:
        if not hmac.compare_digest(report_fwid, chain.fwid):
            raise NvidiaFwidMismatchError(
                "report FWID differs from the leaf certificate FWID",
                platform=PLATFORM,
                field=f"{label}.FWID",
                expected=chain.fwid.hex(),
                actual=report_fwid.hex(),
            )
        fwid_match = True
    # 8: OCSP for BROM, provisioner ICA and identity CA.
    device_ocsp = _ocsp_chain(chain, ocsp_responses, now, ocsp_nonce, trust, label)
    device_chain = CertChainClaims(
        role="attestation_report",
        expiration=chain.expiration,
        sha256=chain.fingerprints(),
        ocsp=device_ocsp,
    )
    project, project_sku = opaque.text("PROJECT"), opaque.text("PROJECT_SKU")
    chip_sku, vbios = opaque.text("CHIP_SKU"), opaque.vbios_version
    common: dict[str, Any] = {
        "index": index,
        "source": ClaimsSource.LOCAL,
        "arch": chain.arch,
        "chip": chain.chip,
        "hwmodel": chain.hwmodel,
        "ueid": chain.ueid,
        "vbios_version": vbios,
        "project": project,
        "project_sku": project_sku,
        "chip_sku": chip_sku,
        "fwid": report_fwid.hex() if report_fwid is not None else None,
        "fwid_in_certificate": chain.fwid is not None,
        "fwid_match": fwid_match,
        "nonce": request_nonce.hex(),
        "nonce_checked": nonce is not None,
        "report_sha256": hashlib.sha256(dev.report).hexdigest(),
        "device_chain": device_chain,
    }
    # 10–14: RIM ids from signed fields, selection, versions, comparison.
    wanted = {w.kind: w for w in wanted_rims(opaque, arch=chain.arch, chip=chain.chip)}
    if kind is DeviceKind.SWITCH:
        switch = wanted[RimKind.SWITCH_BIOS]
        switch_id = switch.id
        switch_rim = _select_rim(
            rims, kind=RimKind.SWITCH_BIOS, rim_id=switch_id, version=vbios, chip=switch.chip
        )
        measurements = _compare(report, [(RimKind.SWITCH_BIOS, switch_id, switch_rim)], None)
        return SwitchClaims(
            **common,
            oemid=switch_rim.manufacturer_id if switch_rim else None,
            measurements=measurements,
            rim_ids=(("switch_bios", switch_id),),
            device_pdi=opaque.device_pdi.hex() if opaque.device_pdi else None,
            gpu_pdis=tuple(p.hex() for p in opaque.switch_gpu_pdis),
            switch_rim=_rim_claims(RimKind.SWITCH_BIOS, switch_id, switch_rim)
            if switch_rim
            else None,
        )
    driver = opaque.driver_version
    driver_id, vbios_id = wanted[RimKind.DRIVER].id, wanted[RimKind.VBIOS].id
    rim_chip = wanted[RimKind.DRIVER].chip
    driver_rim = _select_rim(
        rims, kind=RimKind.DRIVER, rim_id=driver_id, version=driver, chip=rim_chip
    )
    vbios_rim = _select_rim(rims, kind=RimKind.VBIOS, rim_id=vbios_id, version=vbios, chip=rim_chip)
    nvdec0 = opaque.byte("NVDEC0_STATUS")
    measurements = _compare(
        report,
        [(RimKind.DRIVER, driver_id, driver_rim), (RimKind.VBIOS, vbios_id, vbios_rim)],
        nvdec0,
    )
    flag = opaque.u16("FEATURE_FLAG")
    mode = GpuMode.SPT if flag is None else _MODES.get(flag)
    if mode is None:
        raise ParseError(
            "unknown FEATURE_FLAG value",
            platform=PLATFORM,
            field=f"{label}.FEATURE_FLAG",
            expected="0 (SPT), 1 (MPT) or 2 (PPCIE)",
            actual=flag,
        )
    ppcie = opaque.byte("PROTECTED_PCIE_STATUS")
    return GpuClaims(
        **common,
        oemid=next((r.manufacturer_id for r in (driver_rim, vbios_rim) if r is not None), None),
        measurements=measurements,
        rim_ids=(("driver", driver_id), ("vbios", vbios_id)),
        driver_version=driver,
        chip_info=chip_info,
        opaque_data_version=opaque.u16("OPAQUE_DATA_VERSION"),
        feature_flag=flag,
        mode=mode,
        protected_pcie=None if ppcie is None else ppcie == 0xAA,
        nvdec0_enabled=None if nvdec0 is None else nvdec0 != rim.NVDEC0_DISABLED,
        switch_pdis=tuple(p.hex() for p in opaque.switch_pdis),
        driver_rim=_rim_claims(RimKind.DRIVER, driver_id, driver_rim) if driver_rim else None,
        vbios_rim=_rim_claims(RimKind.VBIOS, vbios_id, vbios_rim) if vbios_rim else None,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class WantedRim:
    """A RIM a device needs: its kind, service id, signed version and chip (§5.1).

    ``id`` contains ``?`` when the report lacks a field the id is built from; such a RIM
    cannot be looked up.
    """

    kind: RimKind
    id: str
    version: str | None
    chip: str

    @property
    def known(self) -> bool:
        """True if the id and version are complete (the RIM can be requested)."""
        return self.version is not None and "?" not in self.id


def wanted_rims(opaque: abi.OpaqueData, *, arch: DeviceArch, chip: str) -> tuple[WantedRim, ...]:
    """The RIMs a device's report names: driver and VBIOS for a GPU, BIOS for an NVSwitch.

    Built only from report fields; ``verify_device`` calls it on authenticated reports, the
    collateral planner on reports it has not verified (to build URLs only).
    """
    project, project_sku = opaque.text("PROJECT"), opaque.text("PROJECT_SKU")
    chip_sku, vbios = opaque.text("CHIP_SKU"), opaque.vbios_version
    ids_known = None not in (project, project_sku, chip_sku, vbios)
    if arch.is_switch:
        switch_id = (
            rim.switch_rim_id(project or "", project_sku or "", chip_sku or "", vbios or "")
            if ids_known
            else "NV_SWITCH_BIOS_?"
        )
        return (WantedRim(kind=RimKind.SWITCH_BIOS, id=switch_id, version=vbios, chip="LS10"),)
    chip_info = opaque.text("CHIP_INFO")
    driver = opaque.driver_version
    blackwell = arch is DeviceArch.BLACKWELL
    driver_id = rim.driver_rim_id(chip, driver or "?", blackwell=blackwell, chip_info=chip_info)
    vbios_id = (
        rim.vbios_rim_id(project or "", project_sku or "", chip_sku or "", vbios or "")
        if ids_known
        else "NV_GPU_VBIOS_?"
    )
    rim_chip = chip_info or ("GB100" if blackwell else chip)
    return (
        WantedRim(kind=RimKind.DRIVER, id=driver_id, version=driver, chip=rim_chip),
        WantedRim(kind=RimKind.VBIOS, id=vbios_id, version=vbios, chip=rim_chip),
    )


def _topology(gpus: Sequence[GpuClaims], switches: Sequence[SwitchClaims]) -> TopologyClaims:
    """PPCIE checks (§6.2); evaluated when any GPU is in PPCIE mode or switches are present."""
    if not switches and not any(g.mode is GpuMode.PPCIE for g in gpus):
        return TopologyClaims(evaluated=False, ok=True)
    problems: list[str] = []
    if len(gpus) != PPCIE_GPUS or len(switches) != PPCIE_SWITCHES:
        problems.append(
            f"expected {PPCIE_GPUS} GPUs and {PPCIE_SWITCHES} NVSwitches, found "
            f"{len(gpus)} and {len(switches)}"
        )
    zero = "00" * 8
    sets = [frozenset(p for p in g.switch_pdis if p != zero) for g in gpus]
    for g, seen in zip(gpus, sets, strict=True):
        if len(seen) != PPCIE_SWITCHES:
            problems.append(
                f"GPU {g.index} sees {len(seen)} distinct NVSwitch PDIs, not {PPCIE_SWITCHES}"
            )
    if len(set(sets)) > 1:
        problems.append("GPUs see different sets of NVSwitch PDIs")
    common = sets[0] if sets else frozenset()
    for s in switches:
        reversed_pdi = bytes.fromhex(s.device_pdi)[::-1].hex() if s.device_pdi else None
        if reversed_pdi not in common:
            problems.append(f"NVSwitch {s.index} (PDI {s.device_pdi}) is not linked to the GPUs")
    if len({frozenset(s.gpu_pdis) for s in switches}) > 1:
        problems.append("NVSwitches report different sets of GPU PDIs")
    return TopologyClaims(
        evaluated=True,
        ok=not problems,
        problems=tuple(problems),
        switch_pdis_seen_by_gpus=tuple(sorted(common)),
    )


def _nras_device(
    name: str, claims: Any, index: int, nonce_checked: bool
) -> GpuClaims | SwitchClaims:
    hwmodel = str(claims.get("hwmodel", ""))
    arch = certs.arch_from_chip(hwmodel.split(" ", 1)[0]) if hwmodel else None
    if arch is None:
        arch = DeviceArch.LS10 if name.upper().startswith("SWITCH") else None
    if arch is None:
        raise NrasClaimsError(
            "NRAS device claims name no known chip",
            platform=PLATFORM,
            field=f"nras.{name}.hwmodel",
            actual=hwmodel,
        )
    ok = claims.get("measres") == "success" and "x-nvidia-error-details" not in claims
    measurements = MeasurementClaims(
        result=MeasurementResult.SUCCESS if ok else MeasurementResult.FAIL
    )
    prefix = "x-nvidia-switch" if arch.is_switch else "x-nvidia-gpu"
    common: dict[str, Any] = {
        "index": index,
        "source": ClaimsSource.NRAS,
        "arch": arch,
        "chip": hwmodel.split(" ", 1)[0],
        "hwmodel": hwmodel,
        "ueid": str(claims.get("ueid")),
        "oemid": claims.get("oemid"),
        "vbios_version": claims.get(f"{prefix}-vbios-version")
        or claims.get(f"{prefix}-bios-version"),
        "project": None,
        "project_sku": None,
        "chip_sku": None,
        "fwid": None,
        "fwid_in_certificate": False,
        "fwid_match": claims.get(f"{prefix}-attestation-report-cert-chain-fwid-match"),
        "nonce": str(claims.get("eat_nonce", "")).lower(),
        "nonce_checked": nonce_checked,
        "report_sha256": None,
        "device_chain": None,
        "measurements": measurements,
        "nras_claims": tuple(sorted(dict(claims).items())),
    }
    if arch.is_switch:
        return SwitchClaims(**common, device_pdi=None, gpu_pdis=(), switch_rim=None)
    return GpuClaims(
        **common,
        driver_version=claims.get("x-nvidia-gpu-driver-version"),
        chip_info=None,
        opaque_data_version=None,
        feature_flag=None,
        mode=None,
        protected_pcie=None,
        nvdec0_enabled=None,
        switch_pdis=(),
        driver_rim=None,
        vbios_rim=None,
    )


def verify(
    evidence: bytes | NvidiaEvidence,
    *,
    trust: TrustStore,
    now: datetime,
    collateral: CollateralSet | None = None,
    nonce: bytes | None = None,
    rims: Sequence[VerifiedRim] = (),
    ocsp_nonce: bytes | None = None,
    nras_keys: KeyResolver | None = None,
    nras_issuers: Sequence[str] = (NRAS_ISSUER,),
    nras_x5c_roots: Sequence[x509.Certificate] | None = None,
) -> NvidiaNodeClaims:
    """Verify every NVIDIA device of one node and return the node's claims.

    ``evidence`` is any accepted evidence form (see ``evidence.parse_evidence``). RIMs, OCSP
    responses, device chains (for bare reports), a JWKS and extra device evidence come from
    ``collateral``; ``rims`` adds RIMs verified earlier (for example at the time they were
    fetched — a RIM and its OCSP answers need not share the device's clock). ``nonce`` is the
    verifier's 32-byte nonce; without it the devices must agree on one request nonce and the
    claims say the nonce was not checked.

    Raises:
        EvidenceError: see ``verify_device``; NvidiaDeviceSetError for mixed modes or nonces.
        CollateralError: a supplied RIM or OCSP response is not authentic or usable.
        NrasTokenError: an NRAS token fails validation.
    """
    now = require_aware(now)
    if nonce is not None and len(nonce) != 32:
        raise ValueError("nonce must be 32 bytes")
    ev = evidence if isinstance(evidence, NvidiaEvidence) else parse_evidence(evidence)
    sorted_items = sort_collateral(collateral or CollateralSet(), cache=trust.parsed)
    verified_rims = list(rims)
    for xml, source, service_id in sorted_items.rims:
        verified_rims.append(
            rim.verify_rim(
                xml,
                trust=trust,
                now=now,
                source=source,
                service_id=service_id,
                ocsp_responses=sorted_items.ocsp,
                ocsp_nonce=ocsp_nonce,
            )
        )
    devices = (*ev.devices, *sorted_items.devices)
    expected_nonce = nonce if nonce is not None else ev.nonce_hint
    local: list[GpuClaims | SwitchClaims] = []
    for i, dev in enumerate(devices):
        local.append(
            verify_device(
                dev,
                index=i,
                trust=trust,
                now=now,
                nonce=expected_nonce,
                rims=verified_rims,
                ocsp_responses=sorted_items.ocsp,
                ocsp_nonce=ocsp_nonce,
                collateral=sorted_items,
            )
        )
    nonces = {c.nonce for c in local}
    if len(nonces) > 1:
        raise NvidiaDeviceSetError(
            "devices of one node signed different nonces",
            platform=PLATFORM,
            field="request.Nonce",
            expected="one nonce for every device",
            actual=", ".join(sorted(nonces)),
        )
    nonce_checked = nonce is not None
    local = [_renumber(c, nonce_checked) for c in local]
    gpus = [c for c in local if isinstance(c, GpuClaims)]
    switches = [c for c in local if isinstance(c, SwitchClaims)]
    modes = {g.mode for g in gpus}
    if len(modes) > 1:
        raise NvidiaDeviceSetError(
            "GPUs of one node report different modes (no SPT/MPT/PPCIE mix)",
            platform=PLATFORM,
            field="FEATURE_FLAG",
            expected="one mode",
            actual=", ".join(sorted(m.value for m in modes if m)),
        )
    sources = {ClaimsSource.LOCAL} if local else set()
    nras_result: NrasResult | None = None
    agree: bool | None = None
    if ev.nras is not None:
        keys = nras_keys or sorted_items.jwks
        if keys is None:
            raise NrasKeyError(
                "an NRAS token was given but no JWKS (--collateral jwks.json)",
                platform=PLATFORM,
                field="nras",
                expected="the NRAS JWKS",
            )
        token_nonce = (
            nonce if nonce is not None else (bytes.fromhex(next(iter(nonces))) if nonces else None)
        )
        nras_result = verify_detached_eat(
            ev.nras,
            keys=keys,
            now=now,
            nonce=token_nonce,
            issuers=nras_issuers,
            x5c_roots=nras_x5c_roots,
            expected_count=len(local) or None,
        )
        sources.add(ClaimsSource.NRAS)
        remote = [
            _nras_device(name, claims, i, nonce_checked)
            for i, (name, claims) in enumerate(
                sorted(nras_result.devices.items(), key=lambda kv: _submod_key(kv[0]))
            )
        ]
        if local:
            agree = len(remote) == len(local) and all(
                r.ueid == c.ueid
                and r.vbios_version == c.vbios_version
                and r.measurements.result is c.measurements.result
                for r, c in zip(remote, [*gpus, *switches], strict=False)
            )
        else:
            gpus = [c for c in remote if isinstance(c, GpuClaims)]
            switches = [c for c in remote if isinstance(c, SwitchClaims)]
            nonces = {c.nonce for c in remote}
    mode = next(iter(modes)) if len(modes) == 1 else None
    return NvidiaNodeClaims(
        nonce=next(iter(nonces)) if nonces else (nonce.hex() if nonce else ""),
        nonce_checked=nonce_checked,
        gpus=tuple(gpus),
        switches=tuple(switches),
        mode=mode,
        distinct_devices=len({c.ueid for c in (*gpus, *switches)}) == len(gpus) + len(switches),
        topology=_topology(gpus, switches),
        sources=frozenset(sources),
        nras=nras_result.summary if nras_result else None,
        local_nras_agree=agree,
    )


def _submod_key(name: str) -> tuple[int, int]:
    kind, _, number = name.partition("-")
    return (1 if kind.upper().startswith("SWITCH") else 0, int(number) if number.isdigit() else 0)


def _renumber(c: GpuClaims | SwitchClaims, nonce_checked: bool) -> GpuClaims | SwitchClaims:
    import dataclasses

    return dataclasses.replace(c, nonce_checked=nonce_checked)


def verify_evidence(
    data: bytes,
    *,
    collateral: CollateralSet,
    trust: TrustStore,
    now: datetime,
    options: VerifyOptions,
) -> NvidiaNodeClaims:
    """Registry entry point (see ``teeclient.platforms.verify_evidence``)."""
    return verify(data, trust=trust, now=now, collateral=collateral, nonce=options.nonce)


def collateral_item_kind(item: CollateralItem) -> str:
    """What an NVIDIA collateral item is (for ``inspect``): chain, rim, ocsp, jwks, evidence."""
    data = item.data
    if b"-----BEGIN CERTIFICATE-----" in data:
        return "certificates"
    if rim.looks_like_rim(data):
        return "rim"
    if ocsp.looks_like_ocsp(data):
        return "ocsp"
    if _is_jwks(data):
        return "jwks"
    if looks_like_nvidia(data):
        return "evidence"
    if is_detached_eat(_try_json(data)):
        return "nras"
    return "unknown"


def _try_json(data: bytes) -> object:
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return None
