"""Mock hardware: one CPU TEE (SEV-SNP, TDX or Nitro) with 0–8 NVIDIA GPUs and optional
NVSwitches, on generated vendor PKIs, producing attestation documents the real verifiers accept.

``MockHardware`` signs ``teeclient.attestation/v1`` documents (and Tinfoil v2/v3 documents)
for a nonce and the enclave's keys, exactly as real hardware would answer, and hands out what a
client needs to accept them: the collateral (VCEK, AMD CRL, Intel PCS answers, NVIDIA RIMs and
OCSP answers), a ``TrustStore`` and a trust file with the generated roots, and a policy (TOML)
matching the healthy machine. Nothing is trusted unless the caller passes that store or file
explicitly. ``Fault``s switch on the failures a client must catch; ``FAULT_OUTCOMES`` says which
error code or check id each one produces on each platform.

    pkis = VendorPkis()                                   # generated on first use, shareable
    hw = MockHardware(HardwareSpec(platform="tdx", gpus=1), pkis=pkis)
    raw = hw.document(nonce, keys, at=now)                # teeclient.attestation/v1
    verify_document(raw, nonce=nonce, now=now, policy=hw.policy(), trust=hw.trust_store())
    bad = hw.with_faults(Fault.UNBOUND_KEY)               # same machine, one fault

Time-dependent material (OCSP answers, Intel TCB Info, CRLs, Nitro certificates) is issued per
12-hour epoch of the time passed as ``at``, so a long-running mock enclave stays valid.
"""

from __future__ import annotations

import base64
import dataclasses
import enum
import hashlib
import json
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any
from urllib.parse import quote as url_quote

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from teeclient.binding import BoundKeys, device_digest, gpu_nonce, keys_digest, report_data
from teeclient.collateral.items import CollateralItem
from teeclient.collateral.settings import DEFAULT_BASE_URLS
from teeclient.document import CpuEvidence, DeclaredBinding, DeviceEntry, encode_document
from teeclient.platforms.nvidia.abi import DeviceKind
from teeclient.platforms.nvidia.rim import driver_rim_id, switch_rim_id, vbios_rim_id
from teeclient.platforms.sev_snp import kds
from teeclient.platforms.sev_snp.abi import Product, SigningKey, decode_tcb
from teeclient.platforms.tdx import pcs
from teeclient.policy.load import parse_policy
from teeclient.policy.model import Policy
from teeclient.testing.evidence import SnpReportSpec
from teeclient.testing.nitro_evidence import NitroAttester, debug_pcrs, default_pcrs
from teeclient.testing.nvidia_evidence import (
    SpdmReportSpec,
    evidence_json,
    gpu_opaque,
    switch_opaque,
)
from teeclient.testing.pki.amd import AmdPki, IssuedVek
from teeclient.testing.pki.intel import IntelPki, qe_identity_body, tcb_info_body
from teeclient.testing.pki.nitro import NitroPki
from teeclient.testing.pki.nvidia import IssuedDevice, NvidiaPki, RimSpec
from teeclient.testing.tdx_evidence import TdQuoteSpec, TdxTestbed
from teeclient.trust import TrustStore
from teeclient.trust.file import dump_trust_file

__all__ = [
    "CPU_PLATFORMS",
    "FAULT_OUTCOMES",
    "Fault",
    "HardwareSpec",
    "MockHardware",
    "VendorPkis",
    "fault_applies",
    "parse_fault",
]

CPU_PLATFORMS = ("sev-snp", "tdx", "nitro")
EPOCH = timedelta(hours=12)
_TEST_SOURCE = "teeclient.testing generated test PKI: NEVER trust it in production"
_DEFAULT_MEASUREMENT = hashlib.sha384(b"teeclient mock enclave").digest()
_SNP_TCB = {
    Product.MILAN: {"bl": 3, "tee": 0, "snp": 8, "ucode": 115},
    Product.GENOA: {"bl": 10, "tee": 0, "snp": 25, "ucode": 84},
    Product.TURIN: {"fmc": 0, "bl": 1, "tee": 0, "snp": 2, "ucode": 71},
}
_DRIVER = "550.90.07"
_VBIOS = "96.00.9F.00.01"
_SWITCH_BIOS = "96.10.55.00.01"


class Fault(enum.StrEnum):
    """A failure the mock hardware can be switched into (see ``FAULT_OUTCOMES``)."""

    WRONG_MEASUREMENT = "wrong_measurement"  # the CPU measures another image
    UNBOUND_KEY = "unbound_key"  # the served keys are not the ones the evidence binds
    STALE_EVIDENCE = "stale_evidence"  # the whole document answers an old nonce
    REPLAYED_NONCE = "replayed_nonce"  # echoes the client's nonce; the evidence binds an old one
    DEBUG = "debug"  # debuggable TEE (SNP DEBUG policy bit, TDX DEBUG attribute, Nitro debug)
    REVOKED = "revoked"  # AMD CRL lists the ASK/ASVK, Intel CRL the PCK, NVIDIA OCSP a GPU
    MISSING_GPU = "missing_gpu"  # a GPU the evidence binds is not served
    EXTRA_GPU = "extra_gpu"  # a GPU the evidence does not bind is served


_ALIASES = {"revoked_vcek": Fault.REVOKED}


def parse_fault(text: str) -> Fault:
    """A fault by name (``revoked_vcek`` is an alias of ``revoked``).

    Raises:
        ValueError: an unknown fault.
    """
    name = text.strip().lower().replace("-", "_")
    if name in _ALIASES:
        return _ALIASES[name]
    try:
        return Fault(name)
    except ValueError:
        known = ", ".join([*(f.value for f in Fault), *_ALIASES])
        raise ValueError(f"unknown fault {text!r} (known: {known})") from None


#: (platform, fault) → the error code ``verify_document`` raises, or ``check:<id>`` for a
#: check that fails in the appraisal (the policy rejects; ``attest`` raises AttestationRejected).
FAULT_OUTCOMES: Mapping[tuple[str, Fault], str] = MappingProxyType(
    {
        **{(p, Fault.UNBOUND_KEY): "binding.keys_not_bound" for p in CPU_PLATFORMS},
        **{(p, Fault.STALE_EVIDENCE): "freshness.nonce_mismatch" for p in CPU_PLATFORMS},
        **{(p, Fault.MISSING_GPU): "binding.device_missing" for p in CPU_PLATFORMS},
        **{(p, Fault.EXTRA_GPU): "binding.device_extra" for p in CPU_PLATFORMS},
        ("sev-snp", Fault.REPLAYED_NONCE): "binding.report_data_mismatch",
        ("tdx", Fault.REPLAYED_NONCE): "binding.report_data_mismatch",
        ("nitro", Fault.REPLAYED_NONCE): "nitro.nonce_mismatch",
        ("sev-snp", Fault.WRONG_MEASUREMENT): "check:sev_snp.measurement",
        ("tdx", Fault.WRONG_MEASUREMENT): "check:tdx.mr_td",
        ("nitro", Fault.WRONG_MEASUREMENT): "check:nitro.pcr0",
        ("sev-snp", Fault.DEBUG): "check:sev_snp.guest_policy.debug",
        ("tdx", Fault.DEBUG): "check:tdx.td_attributes.debug",
        ("nitro", Fault.DEBUG): "check:nitro.debug",
        ("sev-snp", Fault.REVOKED): "chain.revoked",
        ("tdx", Fault.REVOKED): "chain.revoked",
        ("nitro", Fault.REVOKED): "check:nvidia_gpu.ocsp.device_chain",
    }
)


def fault_applies(fault: Fault, platform: str, gpus: int) -> bool:
    """Whether ``fault`` means something for this machine (a missing GPU needs a GPU; Nitro has
    no CPU revocation, so its ``revoked`` fault revokes a GPU)."""
    if fault is Fault.MISSING_GPU:
        return gpus >= 1
    if fault is Fault.REVOKED and platform == "nitro":
        return gpus >= 1
    return True


def _epoch_start(at: datetime) -> datetime:
    seconds = EPOCH.total_seconds()
    return datetime.fromtimestamp(int(at.timestamp() // seconds * seconds), UTC)


def _old_nonce(nonce: bytes) -> bytes:
    """The nonce of an earlier session (what stale and replayed evidence answers)."""
    return hashlib.sha256(b"teeclient.testing previous session" + nonce).digest()


# --- PKIs ---------------------------------------------------------------------------------------


class VendorPkis:
    """Generated PKIs for every vendor, created on first use and shared between machines.

    One instance per test session keeps runs fast (the AMD PKIs use RSA-2048, not AMD's 4096).
    Thread-safe; constructing it does no work.
    """

    def __init__(self, *, key_size: int = 2048) -> None:
        self._key_size = key_size
        self._lock = threading.RLock()
        self._amd: dict[Product, AmdPki] = {}
        self._intel: IntelPki | None = None
        self._nvidia: NvidiaPki | None = None
        self._nitro: dict[int, NitroPki] = {}
        self._nitro_root: NitroPki | None = None

    def amd(self, product: Product | str) -> AmdPki:
        """ARK/ASK/ASVK for ``product``."""
        chosen = Product(product)
        with self._lock:
            if chosen not in self._amd:
                self._amd[chosen] = AmdPki.generate(chosen, key_size=self._key_size)
            return self._amd[chosen]

    def intel(self) -> IntelPki:
        """Intel SGX root, PCK platform CA and TCB Signing."""
        with self._lock:
            if self._intel is None:
                self._intel = IntelPki.generate()
            return self._intel

    def nvidia(self) -> NvidiaPki:
        """NVIDIA device identity and RIM signing PKI (GH100; other chips share its roots)."""
        with self._lock:
            if self._nvidia is None:
                self._nvidia = NvidiaPki.generate("GH100")
            return self._nvidia

    def _nitro_base(self) -> NitroPki:
        with self._lock:
            if self._nitro_root is None:
                self._nitro_root = NitroPki.generate(at=datetime(2026, 1, 1, tzinfo=UTC))
            return self._nitro_root

    def nitro(self, at: datetime) -> NitroPki:
        """The AWS Nitro PKI whose intermediates are valid around ``at`` (same root always)."""
        start = _epoch_start(at)
        key = int(start.timestamp())
        base = self._nitro_base()
        with self._lock:
            if key not in self._nitro:
                if len(self._nitro) > 8:
                    self._nitro.pop(min(self._nitro))
                self._nitro[key] = base.renewed(at=start)
            return self._nitro[key]

    def trust_store(
        self, *, platform: str, product: str | None = None, base: TrustStore | None = None
    ) -> TrustStore:
        """A store trusting this set's roots for ``platform`` and NVIDIA (on ``base``, else
        on an empty store: the vendor roots are not included unless ``base`` has them)."""
        store = base if base is not None else TrustStore.empty()
        if platform == "sev-snp":
            store = self.amd(product or "genoa").trust_store(store)
        elif platform == "tdx":
            store = self.intel().trust_store(store)
        elif platform == "nitro":
            store = self._nitro_base().trust_store(store)
        return self.nvidia().trust_store(store)


# --- the machine --------------------------------------------------------------------------------


def _frozen(mapping: Mapping[Any, Any] | None) -> Mapping[Any, Any]:
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True, slots=True, kw_only=True)
class HardwareSpec:
    """What the mock machine is. Every field of the evidence can be changed through ``snp``
    (``SnpReportSpec`` fields), ``tdx`` (``TdQuoteSpec`` fields), ``nitro_pcrs`` and
    ``gpu_opaque`` (``gpu_opaque`` arguments: driver_version, vbios_version, …)."""

    platform: str = "sev-snp"
    product: str = "genoa"
    signing_key: str = "vcek"
    gpus: int = 0
    gpu_arch: str = "hopper"
    switches: int = 0
    measurement: bytes = _DEFAULT_MEASUREMENT
    snp: Mapping[str, Any] = field(default_factory=lambda: _frozen(None))
    tdx: Mapping[str, Any] = field(default_factory=lambda: _frozen(None))
    nitro_pcrs: Mapping[int, bytes] | None = None
    gpu_opaque: Mapping[str, Any] = field(default_factory=lambda: _frozen(None))
    faults: frozenset[Fault] = frozenset()
    embed_vek: bool = True
    embed_collateral: bool = True

    def __post_init__(self) -> None:
        if self.platform not in CPU_PLATFORMS:
            raise ValueError(f"platform must be one of {CPU_PLATFORMS}")
        Product(self.product)
        if self.signing_key not in ("vcek", "vlek"):
            raise ValueError("signing_key is vcek or vlek")
        if not 0 <= self.gpus <= 8:
            raise ValueError("0 to 8 GPUs")
        if self.gpu_arch not in ("hopper", "blackwell"):
            raise ValueError("gpu_arch is hopper or blackwell")
        if self.switches not in (0, 4) or (
            self.switches and (self.gpus != 8 or self.gpu_arch != "hopper")
        ):
            raise ValueError("NVSwitches: 4, with 8 Hopper GPUs (PPCIE), or none")
        if len(self.measurement) != 48:
            raise ValueError("the measurement is 48 bytes")
        for fault in self.faults:
            if not fault_applies(fault, self.platform, self.gpus):
                raise ValueError(f"fault {fault.value} does not apply to {self.describe()}")
        object.__setattr__(self, "snp", _frozen(self.snp))
        object.__setattr__(self, "tdx", _frozen(self.tdx))
        object.__setattr__(self, "gpu_opaque", _frozen(self.gpu_opaque))

    def describe(self) -> str:
        """A one-line description (``sev-snp genoa vcek, 8 hopper GPUs, 4 NVSwitches``)."""
        cpu = self.platform
        if self.platform == "sev-snp":
            cpu += f" {self.product} {self.signing_key}"
        out = f"{cpu}, {self.gpus} {self.gpu_arch} GPU{'s' if self.gpus != 1 else ''}"
        if self.switches:
            out += f", {self.switches} NVSwitches"
        if self.faults:
            out += ", faults: " + ", ".join(sorted(f.value for f in self.faults))
        return out


@dataclass(frozen=True, slots=True)
class _Device:
    kind: str  # nvidia-gpu | nvidia-switch
    arch: str  # hopper | blackwell | ls10
    issued: IssuedDevice
    spec: SpdmReportSpec  # nonce filled per report

    def report(self, nonce: bytes) -> bytes:
        return self.spec.replace(nonce=nonce).build(self.issued.key)


class _Machine:
    """The keys and devices of one machine (shared by every fault variant of it)."""

    def __init__(self, spec: HardwareSpec, pkis: VendorPkis) -> None:
        self.pkis = pkis
        self.lock = threading.Lock()
        self.epochs: dict[int, dict[str, Any]] = {}
        self.vek: IssuedVek | None = None
        self.tdx: TdxTestbed | None = None
        self.snp_spec: SnpReportSpec | None = None
        self.nitro_module = (
            f"i-0123456789abcdef0-enc{hashlib.sha256(spec.measurement).hexdigest()[:16]}"
        )
        if spec.platform == "sev-snp":
            product = Product(spec.product)
            amd = pkis.amd(product)
            tcb = _SNP_TCB[product]
            base = SnpReportSpec.for_product(product, measurement=spec.measurement)
            self.snp_spec = base.replace(
                signing_key=1 if spec.signing_key == "vlek" else 0, **dict(spec.snp)
            )
            if spec.signing_key == "vlek":
                self.vek = amd.issue_vlek(tcb=tcb, validity=timedelta(days=7 * 365))
            else:
                self.vek = amd.issue_vcek(chip_id=self.snp_spec.chip_id, tcb=tcb)
        elif spec.platform == "tdx":
            self.tdx = TdxTestbed.create(pki=pkis.intel())
        self.devices, self.spare = self._devices(spec)
        self.rims = self._rims(spec)

    def _devices(self, spec: HardwareSpec) -> tuple[list[_Device], _Device | None]:
        if spec.gpus == 0:
            return [], None
        nv = pkis_chip(self.pkis.nvidia(), "GB100" if spec.gpu_arch == "blackwell" else "GH100")
        switch_pdis = [bytes([0x10 + i]) * 8 for i in range(spec.switches)]
        opaque_args: dict[str, Any] = {"driver_version": _DRIVER, "vbios_version": _VBIOS}
        if spec.gpu_arch == "blackwell":
            opaque_args.update(chip_info="GB100", opaque_data_version=1, feature_flag=1)
        if spec.switches:
            opaque_args.update(
                feature_flag=2,
                opaque_data_version=1,
                chip_info="GH100",
                switch_pdis=[*switch_pdis, *([bytes(8)] * 14)],
            )
        opaque_args.update(spec.gpu_opaque)
        gpu_spec = SpdmReportSpec(opaque=gpu_opaque(**opaque_args))
        arch = spec.gpu_arch
        gpus = [
            _Device("nvidia-gpu", arch, nv.issue_device(serial=0x1000 + i), gpu_spec)
            for i in range(spec.gpus + 1)
        ]
        devices = gpus[:-1]
        sw_pki = pkis_chip(self.pkis.nvidia(), "LS_10")
        for i in range(spec.switches):
            sw_spec = SpdmReportSpec(
                kind=DeviceKind.SWITCH,
                blocks={j: bytes([j]) * 48 for j in range(1, 32)},
                opaque=switch_opaque(
                    bios_version=_SWITCH_BIOS,
                    device_pdi=switch_pdis[i][::-1],
                    project="5612",
                    project_sku="0002",
                    chip_sku="890",
                ),
            )
            devices.append(
                _Device(
                    "nvidia-switch",
                    "ls10",
                    sw_pki.issue_device(serial=0x2000 + i, fwid=None),
                    sw_spec,
                )
            )
        return devices, gpus[-1]

    def _rims(self, spec: HardwareSpec) -> dict[str, bytes]:
        """RIM id → RIM service JSON (``{"id", "rim": base64 XML, "sha256", "rim_format"}``)."""
        if spec.gpus == 0:
            return {}
        nv = self.pkis.nvidia()
        gpu = self.devices[0].spec
        blackwell = spec.gpu_arch == "blackwell"
        chip = "GB100" if blackwell else "GH100"
        driver = str(spec.gpu_opaque.get("driver_version", _DRIVER))
        vbios = str(spec.gpu_opaque.get("vbios_version", _VBIOS))
        project = str(spec.gpu_opaque.get("project", "1010"))
        project_sku = str(spec.gpu_opaque.get("project_sku", "0200"))
        chip_sku = str(spec.gpu_opaque.get("chip_sku", "882"))
        out = {
            driver_rim_id(
                chip, driver, blackwell=blackwell, chip_info=chip if blackwell else None
            ): nv.sign_rim(
                RimSpec(
                    colloquial_version=driver,
                    name=chip,
                    product=chip,
                    golden={i: (gpu.blocks[i + 1],) for i in (7, *range(21, 41))},
                )
            ),
            vbios_rim_id(project, project_sku, chip_sku, vbios): nv.sign_rim(
                RimSpec(
                    colloquial_version=vbios,
                    name=chip,
                    product=chip,
                    golden={i: (gpu.blocks[i + 1],) for i in (*range(7), *range(8, 13))},
                )
            ),
        }
        if spec.switches:
            out[switch_rim_id("5612", "0002", "890", _SWITCH_BIOS)] = nv.sign_rim(
                RimSpec(
                    colloquial_version=_SWITCH_BIOS,
                    name="LS10",
                    product="LS10",
                    edition="SWITCH",
                    total=31,
                    golden={i: (bytes([i + 1]) * 48,) for i in range(31)},
                )
            )
        return {
            rim_id: json.dumps(
                {
                    "id": rim_id,
                    "rim": base64.b64encode(xml).decode(),
                    "sha256": hashlib.sha256(xml).hexdigest(),
                    "rim_format": "TCG",
                }
            ).encode()
            for rim_id, xml in out.items()
        }

    def epoch(self, at: datetime, name: str, build: Callable[[datetime], Any]) -> Any:
        """The time-dependent material ``name`` of ``at``'s epoch (``build(start)``, once)."""
        start = _epoch_start(at)
        key = int(start.timestamp())
        with self.lock:
            cached = self.epochs.setdefault(key, {})
            if len(self.epochs) > 4:
                self.epochs.pop(min(self.epochs))
        if name not in cached:
            value = build(start)
            with self.lock:
                cached.setdefault(name, value)
        return cached[name]


def pkis_chip(pki: NvidiaPki, chip: str) -> NvidiaPki:
    """The same NVIDIA roots issuing devices of another chip (GB100, LS_10)."""
    return pki if pki.chip == chip else pki.replace(chip=chip)


class MockHardware:
    """A mock machine (see the module docstring). Thread-safe; share one ``VendorPkis``."""

    def __init__(
        self,
        spec: HardwareSpec | None = None,
        *,
        pkis: VendorPkis | None = None,
        _machine: _Machine | None = None,
        **changes: Any,
    ) -> None:
        base = spec if spec is not None else HardwareSpec()
        if "faults" in changes:
            changes["faults"] = frozenset(
                f if isinstance(f, Fault) else parse_fault(str(f)) for f in changes["faults"]
            )
        self.spec = dataclasses.replace(base, **changes) if changes else base
        self.pkis = pkis if pkis is not None else VendorPkis()
        self._m = _machine if _machine is not None else _Machine(self.spec, self.pkis)

    # -- variants -----------------------------------------------------------------------------

    def with_faults(self, *faults: Fault | str) -> MockHardware:
        """The same machine (keys, devices, PKIs) with ``faults`` switched on instead."""
        chosen = frozenset(f if isinstance(f, Fault) else parse_fault(f) for f in faults)
        spec = dataclasses.replace(self.spec, faults=chosen)
        return MockHardware(spec, pkis=self.pkis, _machine=self._m)

    @property
    def platform(self) -> str:
        """The CPU platform."""
        return self.spec.platform

    def expected_outcome(self, fault: Fault) -> str:
        """The error code (or ``check:<id>``) ``fault`` produces on this machine."""
        return FAULT_OUTCOMES[(self.platform, fault)]

    # -- trust and policy ---------------------------------------------------------------------

    def trust_store(self, base: TrustStore | None = None) -> TrustStore:
        """A store trusting this machine's generated roots (CPU vendor and NVIDIA) — on ``base``
        if given (e.g. ``TrustStore.vendor()``), else on an empty store."""
        return self.pkis.trust_store(platform=self.platform, product=self.spec.product, base=base)

    def trust_anchors(self) -> dict[str, tuple[x509.Certificate, ...]]:
        """Anchor name → certificates of the generated roots this machine needs."""
        store = self.trust_store()
        return {a.name: a.certificates for a in store}

    def trust_file(self, *, as_json: bool = False) -> str:
        """A ``teeclient.trust/v1`` file (TOML, or JSON) with the generated roots."""
        return dump_trust_file(
            self.trust_anchors(),
            source=f"teeclient mock hardware ({self.spec.describe()}); {_TEST_SOURCE}",
            as_json=as_json,
        )

    def policy_toml(self) -> str:
        """A policy that accepts this machine when healthy (and rejects every fault)."""
        s = self.spec
        lines = [
            "# Matches the teeclient mock hardware; for tests and demos only.",
            "version = 1",
            f'name = "mock-enclave {s.platform}"',
            f"description = {json.dumps('teeclient mock hardware: ' + s.describe())}",
            "",
            "[revocation]",
            'amd_crl = "require"',
            'intel_crl = "require"',
            'nvidia_ocsp = "require"',
            "",
            "[freshness]",
            'nonce = "required"',
            'max_evidence_age = "5m"',
            "",
            "[binding]",
            'layouts = ["teeclient-v1", "tinfoil-v3"]',
            'pin = ["hpke"]',
            "",
        ]
        if s.platform == "sev-snp":
            assert self._m.snp_spec is not None
            lines += [
                "[[sev_snp]]",
                f'name = "mock {s.product} {s.signing_key}"',
                f'products = ["{s.product}"]',
                f'signing_keys = ["{s.signing_key}"]',
                f'measurement = "{self._m.snp_spec.measurement.hex()}"',
                'guest_policy = { allow = ["smt"] }',
            ]
        elif s.platform == "tdx":
            spec = self._tdx_spec()
            lines += [
                "[[tdx]]",
                'name = "mock tdx"',
                'allowed_tcb_status = ["UpToDate"]',
                f'mr_td = "{spec.mr_td.hex()}"',
                *(f'rtmr{i} = "{spec.rtmrs[i].hex()}"' for i in range(3)),
                "td_attributes = { allow_debug = false, require_sept_ve_disable = true }",
            ]
        else:
            pcrs = self._pcrs()
            lines += [
                "[[nitro]]",
                'name = "mock nitro"',
                'partition_root = ["aws"]',
                "allow_debug = false",
                "require_nonce = true",
                *(f'pcr{i} = "{pcrs[i].hex()}"' for i in range(3)),
            ]
        if s.gpus:
            lines += [
                "",
                "[gpu]",
                f"count = [{s.gpus}]",
                f"switch_count = [{s.switches}]",
                "require_nonce = true",
                "require_distinct_devices = true",
                f"require_topology = {'true' if s.switches else 'false'}",
                "",
                "[[nvidia_gpu]]",
                f'arch = ["{s.gpu_arch}"]',
                "require_fwid = true",
                "require_measurements = true",
            ]
            if s.switches:
                lines += ["", "[[nvidia_switch]]", "require_measurements = true"]
        return "\n".join(lines) + "\n"

    def policy(self) -> Policy:
        """``policy_toml`` parsed."""
        return parse_policy(self.policy_toml(), source="<mock hardware policy>")

    # -- evidence -----------------------------------------------------------------------------

    def _tdx_spec(self) -> TdQuoteSpec:
        return TdQuoteSpec(mr_td=self.spec.measurement).replace(**dict(self.spec.tdx))

    def _pcrs(self) -> dict[int, bytes]:
        pcrs = dict(self.spec.nitro_pcrs) if self.spec.nitro_pcrs else default_pcrs()
        if self.spec.nitro_pcrs is None:
            pcrs[0] = self.spec.measurement
        return pcrs

    def _cpu(self, rd: bytes, nonce: bytes, at: datetime) -> CpuEvidence:
        faults = self.spec.faults
        wrong = Fault.WRONG_MEASUREMENT in faults
        debug = Fault.DEBUG in faults
        flip = hashlib.sha384(b"another image").digest()
        if self.platform == "sev-snp":
            assert self._m.snp_spec is not None
            assert self._m.vek is not None
            spec = self._m.snp_spec.replace(report_data=rd)
            if wrong:
                spec = spec.replace(measurement=flip)
            if debug:
                spec = spec.replace(policy=spec.policy | 1 << 19)
            vlek = self.spec.signing_key == "vlek"
            return CpuEvidence(
                platform="sev-snp",
                evidence=spec.build(self._m.vek.key),
                certificates=self._m.vek.pem if (self.spec.embed_vek or vlek) else None,
                product=self.spec.product,
            )
        if self.platform == "tdx":
            assert self._m.tdx is not None
            tspec = self._tdx_spec().replace(report_data=rd)
            if wrong:
                tspec = tspec.replace(mr_td=flip)
            if debug:
                attrs = bytearray(tspec.td_attributes)
                attrs[0] |= 1
                tspec = tspec.replace(td_attributes=bytes(attrs))
            return CpuEvidence(platform="tdx", evidence=self._m.tdx.quote(tspec))
        pcrs = debug_pcrs() if debug else self._pcrs()
        if wrong:
            pcrs[0] = flip
        attester = self._nitro(at)
        attester = dataclasses.replace(attester, pcrs=MappingProxyType(pcrs))
        return CpuEvidence(
            platform="nitro", evidence=attester.attest(at=at, nonce=nonce, user_data=rd)
        )

    def _nitro(self, at: datetime) -> NitroAttester:
        """The enclave's NSM, with a signing certificate issued this hour (valid three)."""
        hour = at.replace(minute=0, second=0, microsecond=0)
        base: NitroAttester = self._m.epoch(
            at,
            "nitro",
            lambda start: NitroAttester.create(
                at=start, pki=self.pkis.nitro(start), module_id=self._m.nitro_module
            ),
        )
        leaf: NitroAttester = self._m.epoch(
            at, f"nitro-{int(hour.timestamp())}", lambda _: base.renewed(at=hour)
        )
        return leaf

    def _devices(self, nonce: bytes) -> list[DeviceEntry]:
        return [
            DeviceEntry(
                kind=d.kind,
                arch=d.arch,
                evidence=d.report(nonce),
                certificates=d.issued.chain_pem(),
            )
            for d in self._m.devices
        ]

    def document(self, nonce: bytes, keys: BoundKeys, *, at: datetime | None = None) -> bytes:
        """A ``teeclient.attestation/v1`` document answering ``nonce`` for the enclave ``keys``
        (issued at ``at``, default now), with this machine's faults applied."""
        at = at if at is not None else datetime.now(UTC)
        faults = self.spec.faults
        doc_nonce = _old_nonce(nonce) if Fault.STALE_EVIDENCE in faults else nonce
        evidence_nonce = (
            _old_nonce(nonce) if faults & {Fault.STALE_EVIDENCE, Fault.REPLAYED_NONCE} else nonce
        )
        served_keys = keys
        if Fault.UNBOUND_KEY in faults:
            served_keys = BoundKeys(
                ohttp_keys=_attacker_keys(keys.ohttp_keys), tls_spki_sha256=keys.tls_spki_sha256
            )
        devices = self._devices(gpu_nonce(evidence_nonce, keys))
        rd = report_data(evidence_nonce, keys, [d.bound() for d in devices])
        binding = DeclaredBinding(
            keys_digest=keys_digest(keys),
            device_digests=tuple(device_digest(d.bound()) for d in devices),
        )
        served = list(devices)
        if Fault.MISSING_GPU in faults:
            gpus = [i for i, d in enumerate(served) if d.kind == "nvidia-gpu"]
            del served[gpus[-1]]
        if Fault.EXTRA_GPU in faults:
            spare = self._m.spare or self._spare()
            served.append(
                DeviceEntry(
                    kind=spare.kind,
                    arch=spare.arch,
                    evidence=spare.report(gpu_nonce(evidence_nonce, keys)),
                    certificates=spare.issued.chain_pem(),
                )
            )
        return encode_document(
            nonce=doc_nonce,
            cpu=self._cpu(rd, evidence_nonce, at),
            keys=served_keys,
            devices=served,
            collateral=self.collateral(at) if self.spec.embed_collateral else (),
            issued_at=at,
            binding=binding,
        )

    def _spare(self) -> _Device:
        nv = self.pkis.nvidia()
        return _Device(
            "nvidia-gpu",
            "hopper",
            nv.issue_device(serial=0x1FFF),
            SpdmReportSpec(opaque=gpu_opaque()),
        )

    # -- collateral ---------------------------------------------------------------------------

    def vek(self) -> IssuedVek | None:
        """The SEV-SNP VCEK or VLEK (None on other platforms)."""
        return self._m.vek

    def rims(self) -> Mapping[str, bytes]:
        """NVIDIA RIM id → RIM service JSON answer."""
        return MappingProxyType(self._m.rims)

    def ocsp_certificates(self) -> list[tuple[x509.Certificate, NvidiaPki]]:
        """Every certificate NVIDIA OCSP answers for on this machine, with the PKI to answer."""
        if not self._m.devices:
            return []
        nv = self.pkis.nvidia()
        seen: dict[bytes, tuple[x509.Certificate, NvidiaPki]] = {}
        for d in self._m.devices:
            for cert in d.issued.chain[1:4]:
                seen.setdefault(cert.fingerprint(hashes.SHA256()), (cert, nv))
        for cert in (nv.rim_l4.cert, nv.rim_l3.cert, nv.rim_l2.cert):
            seen.setdefault(cert.fingerprint(hashes.SHA256()), (cert, nv))
        return list(seen.values())

    def revoked_serials(self) -> frozenset[int]:
        """Serial numbers NVIDIA OCSP answers ``revoked`` for (the ``revoked`` fault on Nitro)."""
        if Fault.REVOKED in self.spec.faults and self.platform == "nitro" and self._m.devices:
            return frozenset({self._m.devices[0].issued.chain[1].serial_number})
        return frozenset()

    def ocsp_answer(
        self,
        cert: x509.Certificate,
        *,
        at: datetime,
        nonce: bytes | None = None,
        algorithm: Any = None,
    ) -> bytes:
        """An NVIDIA OCSP answer about ``cert`` current at ``at`` (good unless revoked)."""
        start = _epoch_start(at)
        status = "revoked" if cert.serial_number in self.revoked_serials() else "good"
        return self.pkis.nvidia().ocsp_response(
            cert,
            status=status,
            revoked_at=start - timedelta(days=1),
            reason=x509.ReasonFlags.key_compromise if status == "revoked" else None,
            this_update=start - timedelta(hours=1),
            next_update=start + timedelta(hours=23),
            nonce=nonce,
            algorithm=algorithm,
        )

    def amd_crl(self, at: datetime) -> bytes:
        """The ARK-signed CRL of this product's VCEK (or VLEK) path, current at ``at``."""
        amd = self.pkis.amd(self.spec.product)
        vlek = self.spec.signing_key == "vlek"
        revoked = []
        if Fault.REVOKED in self.spec.faults:
            revoked = [(amd.asvk if vlek else amd.ask).serial_number]
        start = _epoch_start(at)
        return amd.crl(
            revoked=revoked,
            this_update=start - timedelta(days=1),
            next_update=start + timedelta(days=30),
        )

    def intel_collateral(self, at: datetime) -> dict[str, tuple[bytes, dict[str, str]]]:
        """Intel PCS answers current at ``at``: name → (body, headers); names ``tcb``, ``qe``,
        ``pckcrl``, ``rootcrl``."""
        intel = self.pkis.intel()
        assert self._m.tdx is not None
        start = _epoch_start(at)
        issue = start - timedelta(days=1)
        revoked = [self._m.tdx.pck.cert.serial_number] if Fault.REVOKED in self.spec.faults else []
        chain = url_quote(intel.tcb_signing_chain_pem().decode(), safe="")
        crl_chain = url_quote(intel.pck_crl_chain_pem().decode(), safe="")
        return {
            "tcb": (
                intel.pcs_body("tcbInfo", tcb_info_body(issue=issue)),
                {"TCB-Info-Issuer-Chain": chain},
            ),
            "qe": (
                intel.pcs_body("enclaveIdentity", qe_identity_body(issue=issue)),
                {"SGX-Enclave-Identity-Issuer-Chain": chain},
            ),
            "pckcrl": (
                intel.pck_crl(
                    revoked=revoked, this_update=issue, next_update=issue + timedelta(days=30)
                ),
                {"SGX-PCK-CRL-Issuer-Chain": crl_chain},
            ),
            "rootcrl": (
                intel.root_crl(this_update=issue, next_update=issue + timedelta(days=365)),
                {},
            ),
        }

    def collateral(self, at: datetime) -> tuple[CollateralItem, ...]:
        """Every collateral item a verifier needs at ``at`` besides the evidence (the VCEK is
        in the document unless ``embed_vek`` is off), sourced at the real vendor URLs."""
        revoked = Fault.REVOKED in self.spec.faults
        items: tuple[CollateralItem, ...] = self._m.epoch(
            at, f"collateral-{revoked}", self._collateral
        )
        return items

    def _collateral(self, at: datetime) -> tuple[CollateralItem, ...]:
        items: list[CollateralItem] = []
        if self.platform == "sev-snp":
            product = Product(self.spec.product)
            kind = SigningKey.VLEK if self.spec.signing_key == "vlek" else SigningKey.VCEK
            items.append(
                CollateralItem(
                    data=self.amd_crl(at),
                    source=kds.crl_url(product, kind),
                    media_type="application/pkix-crl",
                )
            )
        elif self.platform == "tdx":
            assert self._m.tdx is not None
            urls = {
                "tcb": pcs.tcb_info_url(bytes.fromhex("90c06f000000")),
                "qe": pcs.qe_identity_url(),
                "pckcrl": pcs.pck_crl_url("platform"),
                "rootcrl": pcs.ROOT_CA_CRL_URL,
            }
            for name, (body, headers) in self.intel_collateral(at).items():
                items.append(CollateralItem(data=body, source=urls[name], headers=headers))
        base_rim = DEFAULT_BASE_URLS["nvidia_rim"]
        for rim_id, answer in self._m.rims.items():
            items.append(
                CollateralItem(
                    data=answer, source=f"{base_rim}/v1/rim/{rim_id}", media_type="application/json"
                )
            )
        ocsp_url = DEFAULT_BASE_URLS["nvidia_ocsp"] + "/"
        for cert, _ in self.ocsp_certificates():
            items.append(
                CollateralItem(
                    data=self.ocsp_answer(cert, at=at),
                    source=ocsp_url,
                    method="POST",
                    media_type="application/ocsp-response",
                )
            )
        return tuple(items)

    def vcek_url(self) -> str | None:
        """The AMD KDS URL of this machine's VCEK (None for VLEK or non-SNP machines)."""
        if self.platform != "sev-snp" or self.spec.signing_key != "vcek":
            return None
        assert self._m.snp_spec is not None
        product = Product(self.spec.product)
        spec = self._m.snp_spec
        return kds.vcek_url(product, spec.chip_id, decode_tcb(spec.reported_tcb, product))

    # -- Tinfoil --------------------------------------------------------------------------------

    def tinfoil_v2(
        self, *, hpke_public_key: bytes, tls_spki_sha256: bytes, at: datetime | None = None
    ) -> bytes:
        """A Tinfoil v2 document (REPORT_DATA = TLS SPKI hash ‖ HPKE key; no nonce)."""
        from teeclient.tinfoil import encode_v2

        if self.platform == "nitro":
            raise ValueError("Tinfoil documents exist for SEV-SNP and TDX only")
        rd = tls_spki_sha256 + hpke_public_key
        cpu = self._cpu(rd, bytes(32), at or datetime.now(UTC))
        return encode_v2(self.platform, cpu.evidence)

    def tinfoil_v3(
        self,
        nonce: bytes,
        *,
        hpke_public_key: bytes,
        tls_spki_sha256: bytes | None,
        at: datetime | None = None,
    ) -> bytes:
        """A Tinfoil v3 document answering ``nonce`` with this machine's faults applied."""
        from teeclient import tinfoil

        if self.platform == "nitro":
            raise ValueError("Tinfoil documents exist for SEV-SNP and TDX only")
        at = at if at is not None else datetime.now(UTC)
        faults = self.spec.faults
        challenge = _old_nonce(nonce) if Fault.STALE_EVIDENCE in faults else nonce
        bound_nonce = (
            _old_nonce(nonce) if faults & {Fault.STALE_EVIDENCE, Fault.REPLAYED_NONCE} else nonce
        )
        crypto = tinfoil.crypto_material_section(
            tls_spki_sha256=tls_spki_sha256, hpke_public_key=hpke_public_key
        )
        items = self._tinfoil_devices(bound_nonce, self._m.devices)
        device_section = tinfoil.device_evidence_section(items)
        cm_hash = hashlib.sha256(crypto).digest()
        de_hash = hashlib.sha256(device_section).digest()
        rd = tinfoil.report_data_v3(bound_nonce, cm_hash, de_hash)
        cpu = self._cpu(rd, bound_nonce, at)
        served_crypto, served_devices = crypto, device_section
        if Fault.UNBOUND_KEY in faults:
            served_crypto = tinfoil.crypto_material_section(
                tls_spki_sha256=tls_spki_sha256, hpke_public_key=hashlib.sha256(crypto).digest()
            )
        if Fault.MISSING_GPU in faults or Fault.EXTRA_GPU in faults:
            devices = list(self._m.devices)
            if Fault.MISSING_GPU in faults:
                devices.pop(max(i for i, d in enumerate(devices) if d.kind == "nvidia-gpu"))
            if Fault.EXTRA_GPU in faults:
                devices.append(self._m.spare or self._spare())
            served_devices = tinfoil.device_evidence_section(
                self._tinfoil_devices(bound_nonce, devices)
            )
        doc = json.loads(
            tinfoil.encode_v3(
                nonce=challenge,
                platform=self.platform,
                evidence=cpu.evidence,
                crypto_material=crypto,
                device_evidence=device_section,
                collateral=self._tinfoil_collateral(at),
                report_data=rd,
            )
        )
        doc["crypto_material"] = base64.b64encode(served_crypto).decode()
        doc["device_evidence"] = base64.b64encode(served_devices).decode()
        return json.dumps(doc, indent=1).encode()

    def _tinfoil_devices(self, nonce: bytes, devices: Sequence[_Device]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        switches = [d for d in devices if d.kind == "nvidia-switch"]
        for i, d in enumerate(d for d in devices if d.kind == "nvidia-gpu"):
            out.append(
                {
                    "id": f"gpu{i}",
                    "kind": "gpu",
                    "vendor": "nvidia",
                    "format": "https://tinfoil.sh/format/nvidia-gpu-evidence/v1",
                    "evidence": {
                        "arch": d.arch.upper(),
                        "certificate": base64.b64encode(d.issued.chain_pem()).decode(),
                        "evidence": base64.b64encode(d.report(nonce)).decode(),
                        "nonce": nonce.hex(),
                    },
                }
            )
        if switches:
            out.append(
                {
                    "id": "nvswitch0",
                    "kind": "nvswitch",
                    "vendor": "nvidia",
                    "format": "https://tinfoil.sh/format/nvidia-nvswitch-evidence/v1",
                    "evidence": json.loads(
                        evidence_json(
                            [(d.report(nonce), d.issued.chain_pem(), "LS10") for d in switches],
                            nonce=nonce,
                        )
                    ),
                }
            )
        return out

    def _tinfoil_collateral(self, at: datetime) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        vek = self._m.vek
        if self.platform == "sev-snp" and vek is not None:
            amd = self.pkis.amd(self.spec.product)
            out.append(
                {
                    "id": "vcek",
                    "role": "endorsement",
                    "format": "https://tinfoil.sh/collateral/amd-vcek/v1",
                    "subjects": ["cpu"],
                    "data": {
                        "vcek_der_base64": base64.b64encode(vek.der).decode(),
                        "cert_chain_pem": amd.chain_pem(
                            vlek=self.spec.signing_key == "vlek"
                        ).decode(),
                    },
                }
            )
            out.append(
                {
                    "id": "amd-crl",
                    "role": "endorsement",
                    "format": "https://tinfoil.sh/collateral/amd-crl/v1",
                    "subjects": ["cpu"],
                    "data": {"crl_der_base64": base64.b64encode(self.amd_crl(at)).decode()},
                }
            )
        elif self.platform == "tdx":
            responses = []
            for item in self.collateral(at):
                if item.source.startswith(DEFAULT_BASE_URLS["nvidia_rim"]) or item.method == "POST":
                    continue
                responses.append(
                    {
                        "url": item.source,
                        "headers": {k: [v] for k, v in item.headers.items()},
                        "body_base64": base64.b64encode(item.data).decode(),
                    }
                )
            out.append(
                {
                    "id": "intel-pcs",
                    "role": "endorsement",
                    "format": "https://tinfoil.sh/collateral/intel-pcs/v1",
                    "subjects": ["cpu"],
                    "data": {"responses": responses},
                }
            )
        if self._m.devices:
            out.append(
                {
                    "id": "nvidia",
                    "role": "endorsement",
                    "format": "https://tinfoil.sh/collateral/nvidia-gpu/v1",
                    "subjects": [f"gpu{i}" for i in range(self.spec.gpus)],
                    "data": {
                        "rims": [json.loads(v) for v in self._m.rims.values()],
                        "ocsp": [
                            base64.b64encode(self.ocsp_answer(c, at=_epoch_start(at))).decode()
                            for c, _ in self.ocsp_certificates()
                        ],
                    },
                }
            )
        return out


def _attacker_keys(genuine: bytes) -> bytes:
    """A key configuration list of the same shape as ``genuine`` with another public key."""
    from teeclient.protocol.hpke import AeadId, KdfId, KemId, PrivateKey, Suite
    from teeclient.protocol.keyconfig import KeyConfig, serialize_key_config_list

    key = PrivateKey.derive(KemId.DHKEM_X25519_HKDF_SHA256, hashlib.sha256(genuine).digest())
    suite = Suite(
        kem=KemId.DHKEM_X25519_HKDF_SHA256, kdf=KdfId.HKDF_SHA256, aead=AeadId.AES_128_GCM
    )
    return serialize_key_config_list([KeyConfig.create(0, key.public_key(), [suite])])
