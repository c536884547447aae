"""NVIDIA evidence carriers → per-device (report, chain) pairs; recognised by content.

specs/nvidia-gpu.md §1. Accepted forms (docs/nvidia-gpu.md "Evidence files"):

* a raw SPDM report (binary, starting ``11 e0``) or its hex text (NVIDIA's ``*.txt`` samples),
  with the PEM chain supplied as collateral;
* ``nvattest collect-evidence`` JSON: ``[{"arch", "nonce", "evidence", "certificate", …}]``;
* an NRAS request: ``{"nonce", "arch", "evidence_list": [{"evidence", "certificate"}]}``;
* go-nvattest-tools / nv-attestation-sdk jsonpickle dumps: ``{"gpus": [...], "nvswitches": [...]}``;
* teeclient's own ``{"format": "teeclient.nvidia-evidence/v1", "nonce", "devices": [...],
  "nras": <detached EAT>}``, whose device entries may also use the attestation-document shape
  ``{"kind": "nvidia-gpu"|"nvidia-switch", "arch", "evidence", "certificates": PEM}`` or the
  Tinfoil ``{"kind": "gpu", "vendor": "nvidia", "evidence": {…}}`` shape;
* an NRAS detached EAT alone: ``[["JWT", "<overall>"], {"GPU-0": "<device>", …}]``.

Host-supplied ``arch``, ``nonce``, driver and VBIOS fields are untrusted hints: they are only
compared with the signed values.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from teeclient.errors import ParseError
from teeclient.platforms.nvidia.abi import GET_MEASUREMENTS, MIN_REPORT_SIZE, SPDM_VERSION_11

__all__ = [
    "EVIDENCE_FORMAT",
    "DeviceEvidence",
    "NvidiaEvidence",
    "is_detached_eat",
    "looks_like_nvidia",
    "parse_evidence",
]

PLATFORM = "nvidia"
EVIDENCE_FORMAT = "teeclient.nvidia-evidence/v1"
MAX_DEVICES = 64
MAX_JSON_BYTES = 16 * 1024 * 1024
_HEX = frozenset(b"0123456789abcdefABCDEF")


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceEvidence:
    """One device's report and PEM chain as carried, with the carrier's untrusted hints."""

    report: bytes
    chain_pem: bytes | None
    arch_hint: str | None = None
    nonce_hint: bytes | None = None
    driver_hint: str | None = None
    vbios_hint: str | None = None
    label: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class NvidiaEvidence:
    """The devices of one evidence file, an optional NRAS token and the carrier's nonce."""

    format: str
    devices: tuple[DeviceEvidence, ...]
    nonce_hint: bytes | None = None
    nras: Any = None


def _hex_report(data: bytes) -> bytes | None:
    text = b"".join(data.split())
    if len(text) < 2 * MIN_REPORT_SIZE or len(text) % 2 or not set(text) <= _HEX:
        return None
    raw = bytes.fromhex(text.decode("ascii"))
    return raw if raw[:2] == bytes([SPDM_VERSION_11, GET_MEASUREMENTS]) else None


def is_detached_eat(doc: object) -> bool:
    """True for the NRAS detached EAT shape ``[["JWT", token], {...}]``."""
    return (
        isinstance(doc, list)
        and len(doc) == 2
        and isinstance(doc[0], list)
        and len(doc[0]) == 2
        and doc[0][0] == "JWT"
        and isinstance(doc[1], dict)
    )


def _entry_like(item: object) -> bool:
    if not isinstance(item, dict):
        return False
    inner = item.get("evidence")
    if isinstance(inner, dict):
        return item.get("vendor") == "nvidia" and "evidence" in inner
    return isinstance(inner, str) and ("certificate" in item or "certificates" in item)


def _json_shape(doc: object) -> str | None:
    if is_detached_eat(doc):
        return "nras-detached-eat"
    if isinstance(doc, list) and doc and all(_entry_like(x) for x in doc):
        return "nvattest"
    if isinstance(doc, dict):
        if doc.get("format") == EVIDENCE_FORMAT:
            return EVIDENCE_FORMAT
        if isinstance(doc.get("evidence_list"), list):
            return "nras-request"
        if isinstance(doc.get("gpus"), list) or isinstance(doc.get("nvswitches"), list):
            return "jsonpickle"
    return None


def looks_like_nvidia(data: bytes) -> bool:
    """True if ``data`` is NVIDIA GPU/NVSwitch evidence in one of the accepted forms."""
    if data[:2] == bytes([SPDM_VERSION_11, GET_MEASUREMENTS]) and len(data) > MIN_REPORT_SIZE:
        return True
    head = data.lstrip()[:1]
    if head in (b"{", b"["):
        if len(data) > MAX_JSON_BYTES or not any(
            marker in data for marker in (b'"evidence', b'"JWT"', b'"gpus"', b'"nvswitches"')
        ):
            return False
        try:
            return _json_shape(json.loads(data)) is not None
        except (ValueError, UnicodeDecodeError, RecursionError):
            return False
    return head[:1] in (b"1",) and _hex_report(data[: 1 << 20]) is not None


def _b64(value: object, field: str) -> bytes:
    if not isinstance(value, str):
        raise ParseError("expected a base64 string", platform=PLATFORM, field=field)
    try:
        return base64.b64decode("".join(value.split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ParseError("invalid base64", platform=PLATFORM, field=field) from exc


def _nonce(value: object, field: str) -> bytes | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ParseError("nonce is not a hex string", platform=PLATFORM, field=field)
    try:
        raw = bytes.fromhex(value)
    except ValueError as exc:
        raise ParseError("nonce is not hex", platform=PLATFORM, field=field) from exc
    if len(raw) != 32:
        raise ParseError(
            "nonce is not 32 bytes",
            platform=PLATFORM,
            field=field,
            expected="64 hex digits",
            actual=f"{len(raw)} bytes",
        )
    return raw


def _pem(entry: dict[str, Any], field: str) -> bytes:
    if isinstance(entry.get("certificates"), str):
        text: str = entry["certificates"]
        if "-----BEGIN CERTIFICATE-----" in text:
            return text.encode("ascii", "replace")
        return _b64(text, f"{field}.certificates")
    return _b64(entry.get("certificate"), f"{field}.certificate")


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _device(entry: object, field: str, arch: str | None, nonce: bytes | None) -> DeviceEvidence:
    if not isinstance(entry, dict):
        raise ParseError("device entry is not an object", platform=PLATFORM, field=field)
    if isinstance(entry.get("evidence"), dict):  # Tinfoil v3 device_evidence item
        entry = {**entry["evidence"], "label": entry.get("id")}
    kind = _text(entry.get("kind"))
    arch_hint = _text(entry.get("arch")) or arch
    if arch_hint is None and kind in ("nvidia-switch", "nvswitch", "switch"):
        arch_hint = "LS10"
    return DeviceEvidence(
        report=_b64(entry.get("evidence"), f"{field}.evidence"),
        chain_pem=_pem(entry, field),
        arch_hint=arch_hint,
        nonce_hint=_nonce(entry.get("nonce"), f"{field}.nonce") or nonce,
        driver_hint=_text(entry.get("driver_version")),
        vbios_hint=_text(entry.get("vbios_version")),
        label=_text(entry.get("label")) or field,
    )


def _pickled_pem(value: object, field: str) -> bytes:
    if isinstance(value, dict) and "pem" in value:
        return _b64(value["pem"], field)
    raise ParseError("jsonpickle certificate has no 'pem'", platform=PLATFORM, field=field)


def _pickled_report(value: object, field: str) -> bytes:
    if isinstance(value, dict) and "py/b64" in value:
        return _b64(value["py/b64"], field)
    return _b64(value, field)


def _jsonpickle(doc: dict[str, Any]) -> list[DeviceEvidence]:
    out: list[DeviceEvidence] = []
    for i, gpu in enumerate(doc.get("gpus") or []):
        field = f"gpus[{i}]"
        if not isinstance(gpu, dict):
            raise ParseError("GPU entry is not an object", platform=PLATFORM, field=field)
        chains = gpu.get("CertificateChains")
        certs = chains.get("GpuAttestationCertificateChain") if isinstance(chains, dict) else None
        if not isinstance(certs, list):
            raise ParseError("GPU entry has no certificate chain", platform=PLATFORM, field=field)
        pem = b"".join(_pickled_pem(c, f"{field}.chain[{j}]") for j, c in enumerate(certs))
        out.append(
            DeviceEvidence(
                report=_pickled_report(gpu.get("AttestationReport"), f"{field}.AttestationReport"),
                chain_pem=pem,
                arch_hint=None,
                driver_hint=_text(gpu.get("DriverVersion")),
                vbios_hint=_text(gpu.get("VbiosVersion")),
                label=field,
            )
        )
    for i, switch in enumerate(doc.get("nvswitches") or []):
        field = f"nvswitches[{i}]"
        if not isinstance(switch, dict) or not isinstance(
            switch.get("attestation_cert_chain"), list
        ):
            raise ParseError(
                "switch entry has no certificate chain", platform=PLATFORM, field=field
            )
        pem = b"".join(
            _pickled_pem(c, f"{field}.chain[{j}]")
            for j, c in enumerate(switch["attestation_cert_chain"])
        )
        out.append(
            DeviceEvidence(
                report=_pickled_report(
                    switch.get("attestation_report"), f"{field}.attestation_report"
                ),
                chain_pem=pem,
                arch_hint="LS10",
                label=field,
            )
        )
    return out


def parse_evidence(data: bytes, *, source: str = "evidence") -> NvidiaEvidence:
    """Split an evidence file into device evidence (and an NRAS token), without verifying.

    Raises:
        ParseError: not one of the accepted forms, or a malformed member.
    """
    if data[:2] == bytes([SPDM_VERSION_11, GET_MEASUREMENTS]):
        return NvidiaEvidence(
            format="spdm-report",
            devices=(DeviceEvidence(report=bytes(data), chain_pem=None, label=source),),
        )
    hex_report = _hex_report(data) if data.lstrip()[:1] not in (b"{", b"[") else None
    if hex_report is not None:
        return NvidiaEvidence(
            format="spdm-report-hex",
            devices=(DeviceEvidence(report=hex_report, chain_pem=None, label=source),),
        )
    if len(data) > MAX_JSON_BYTES:
        raise ParseError("evidence file too large", platform=PLATFORM, field=source)
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise ParseError(
            "NVIDIA evidence is neither an SPDM report nor JSON", platform=PLATFORM, field=source
        ) from exc
    shape = _json_shape(doc)
    devices: list[DeviceEvidence]
    nonce: bytes | None = None
    nras: Any = None
    if shape == "nras-detached-eat":
        devices = []
        nras = doc
    elif shape == "nvattest":
        devices = [_device(e, f"[{i}]", None, None) for i, e in enumerate(doc)]
    elif shape == "nras-request":
        nonce = _nonce(doc.get("nonce"), "nonce")
        arch = _text(doc.get("arch"))
        devices = [
            _device(e, f"evidence_list[{i}]", arch, nonce)
            for i, e in enumerate(doc["evidence_list"])
        ]
    elif shape == "jsonpickle":
        devices = _jsonpickle(doc)
    elif shape == EVIDENCE_FORMAT:
        nonce = _nonce(doc.get("nonce"), "nonce")
        raw_devices = doc.get("devices", [])
        if not isinstance(raw_devices, list):
            raise ParseError("'devices' is not a list", platform=PLATFORM, field="devices")
        devices = [_device(e, f"devices[{i}]", None, nonce) for i, e in enumerate(raw_devices)]
        nras = doc.get("nras")
        if nras is not None and not is_detached_eat(nras):
            raise ParseError("'nras' is not a detached EAT", platform=PLATFORM, field="nras")
    else:
        raise ParseError(
            "JSON is not a known NVIDIA evidence form",
            platform=PLATFORM,
            field=source,
            expected="nvattest list, NRAS request, jsonpickle dump, detached EAT "
            f"or {EVIDENCE_FORMAT}",
        )
    if len(devices) > MAX_DEVICES:
        raise ParseError(
            "too many devices",
            platform=PLATFORM,
            field=source,
            expected=f"<= {MAX_DEVICES}",
            actual=len(devices),
        )
    if not devices and nras is None:
        raise ParseError("evidence lists no device", platform=PLATFORM, field=source)
    return NvidiaEvidence(format=shape, devices=tuple(devices), nonce_hint=nonce, nras=nras)
