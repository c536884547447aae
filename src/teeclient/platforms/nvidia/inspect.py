"""Describe NVIDIA evidence for `teeclient inspect` (parse only, nothing is verified)."""

from __future__ import annotations

import hashlib
from typing import Any

from teeclient._x509 import common_name
from teeclient.errors import ParseError
from teeclient.platforms import VerifyOptions
from teeclient.platforms.nvidia import abi, certs
from teeclient.platforms.nvidia.abi import DeviceKind
from teeclient.platforms.nvidia.evidence import DeviceEvidence, parse_evidence

__all__ = ["describe_evidence"]


def _kind(dev: DeviceEvidence) -> tuple[DeviceKind, str | None]:
    """Device kind from the (unverified) chain, else the carrier's arch hint, else GPU."""
    if dev.chain_pem is not None:
        try:
            chain = certs.load_chain(dev.chain_pem)
        except ParseError:
            chain = []
        if chain:
            cn = common_name(chain[0].subject) or ""
            arch = certs.arch_from_chip(cn.split(" ", 1)[0])
            if arch is not None:
                return (DeviceKind.SWITCH if arch.is_switch else DeviceKind.GPU), cn
    hint = (dev.arch_hint or "").upper()
    return (DeviceKind.SWITCH if hint == "LS10" else DeviceKind.GPU), None


def _device(dev: DeviceEvidence) -> dict[str, Any]:
    kind, leaf = _kind(dev)
    report = abi.parse_report(dev.report, kind)
    resp = report.response
    out: dict[str, Any] = {
        "label": dev.label,
        "kind": kind.value,
        "arch_hint": dev.arch_hint,
        "leaf_certificate": leaf,
        "report_sha256": hashlib.sha256(dev.report).hexdigest(),
        "request": {
            "version": f"{report.request.version:#04x}",
            "param1": f"{report.request.param1:#04x}",
            "param2": f"{report.request.param2:#04x}",
            "nonce": report.request.nonce.hex(),
            "slot_id": report.request.slot_id,
        },
        "response": {
            "number_of_blocks": resp.number_of_blocks,
            "record_length": resp.record_length,
            "responder_nonce": resp.responder_nonce.hex(),
            "opaque_length": resp.opaque_length,
            "signature": resp.signature.hex(),
        },
        "measurements": {str(b.index): b.value.hex() for b in resp.blocks},
        "opaque": resp.opaque.to_dict(),
    }
    return out


def describe_evidence(data: bytes, *, options: VerifyOptions) -> dict[str, Any]:
    """Decode NVIDIA evidence (any accepted form) without verifying it.

    Raises:
        ParseError: a report or carrier is malformed.
    """
    del options
    ev = parse_evidence(data)
    body: dict[str, Any] = {
        "format": ev.format,
        "nonce_hint": ev.nonce_hint.hex() if ev.nonce_hint else None,
        "devices": [_device(d) for d in ev.devices],
    }
    if ev.nras is not None:
        import jwt

        from teeclient.platforms.nvidia.nras import submods_digests_match

        try:
            overall = jwt.decode(ev.nras[0][1], options={"verify_signature": False})
            devices = {
                k: jwt.decode(v, options={"verify_signature": False}) for k, v in ev.nras[1].items()
            }
        except (jwt.PyJWTError, AttributeError, TypeError) as exc:
            raise ParseError(
                f"NRAS token cannot be decoded: {exc}", platform="nvidia", field="nras"
            ) from exc
        body["nras"] = {
            "overall": overall,
            "devices": devices,
            "submods_digests_match": submods_digests_match(ev.nras),
            "verified": False,
        }
    return body
