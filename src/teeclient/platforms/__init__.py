"""Platform verifiers and the registry that picks one for a piece of evidence.

Each platform package has ``abi`` (bytes ↔ structures), ``verify`` (signatures, chains,
consistency → claims) and ``claims``. This module recognises evidence by content and
dispatches to the platform's ``verify_evidence``; platform modules are imported on use.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from teeclient.collateral.items import CollateralRequest, CollateralSet
    from teeclient.collateral.settings import CollateralSettings
    from teeclient.policy.result import Claims
    from teeclient.trust import TrustStore

__all__ = [
    "PLATFORMS",
    "VerifyOptions",
    "describe_evidence",
    "detect_platform",
    "plan_collateral",
    "plan_rounds",
    "verify_evidence",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifyOptions:
    """Per-call verification options that are not evidence, collateral or trust."""

    product: str | None = None  # SEV-SNP: required for version 2 reports
    # The caller's challenge. Nitro: the document's nonce must equal it. Platforms whose
    # verifier does not compare it ignore it here; teeclient.verification refuses it for them.
    nonce: bytes | None = None


# platform name -> package. Each package's `verify` module defines
# `verify_evidence(data, *, collateral, trust, now, options) -> Claims` and its `inspect`
# module defines `describe_evidence(data, *, options) -> dict` (parse only).
PLATFORMS: dict[str, str] = {
    "sev-snp": "teeclient.platforms.sev_snp",
    "nvidia": "teeclient.platforms.nvidia",
    "tdx": "teeclient.platforms.tdx",
    "nitro": "teeclient.platforms.nitro",
}


def _is_sev_snp(data: bytes) -> bool:
    if data[:4] == b"HCLA":
        return True
    if len(data) < 0x4A0:
        return False
    version = int.from_bytes(data[0:4], "little")
    algo = int.from_bytes(data[0x34:0x38], "little")
    return 2 <= version <= 5 and algo == 1


def _is_nvidia(data: bytes) -> bool:
    from teeclient.platforms.nvidia.evidence import looks_like_nvidia

    return looks_like_nvidia(data)


def _is_tdx(data: bytes) -> bool:
    # DCAP quote header: version 3-5, ECDSA key type 2 or 3, TEE type TDX (0x81) or SGX (0);
    # SGX quotes are recognised so that they fail with a clear "unsupported" error.
    if len(data) < 48:
        return False
    version = int.from_bytes(data[0:2], "little")
    key_type = int.from_bytes(data[2:4], "little")
    tee_type = int.from_bytes(data[4:8], "little")
    return 3 <= version <= 5 and key_type in (2, 3) and tee_type in (0x00, 0x81)


def _is_nitro(data: bytes) -> bool:
    # COSE_Sign1: optional tag 18 (0xd2), a 4-element array (0x84), then a byte string
    # (the protected header). The algorithm and everything else are checked by the parser.
    body = data[1:] if data[:1] == b"\xd2" else data
    return len(body) >= 2 and body[0] == 0x84 and 0x40 <= body[1] <= 0x5B


_SNIFFERS: tuple[tuple[str, Callable[[bytes], bool]], ...] = (
    ("sev-snp", _is_sev_snp),
    ("nvidia", _is_nvidia),
    ("tdx", _is_tdx),
    ("nitro", _is_nitro),
)


def detect_platform(data: bytes) -> str | None:
    """The platform whose evidence ``data`` looks like (by content), or None."""
    for name, sniff in _SNIFFERS:
        if sniff(data):
            return name
    return None


def verify_evidence(
    platform: str,
    data: bytes,
    *,
    collateral: CollateralSet,
    trust: TrustStore,
    now: datetime,
    options: VerifyOptions,
) -> Claims:
    """Verify ``data`` with ``platform``'s verifier and return its claims."""
    module = importlib.import_module(PLATFORMS[platform] + ".verify")
    result: Claims = module.verify_evidence(
        data, collateral=collateral, trust=trust, now=now, options=options
    )
    return result


def plan_rounds(platform: str) -> int:
    """How many planning rounds ``platform``'s collateral may need (its planner module's
    ``PLAN_ROUNDS``, default 1): NVIDIA plans OCSP for a RIM's chain once the RIM is at hand."""
    try:
        module = importlib.import_module(PLATFORMS[platform] + ".collateral")
    except ModuleNotFoundError:
        return 1
    rounds = getattr(module, "PLAN_ROUNDS", 1)
    return rounds if isinstance(rounds, int) and rounds >= 1 else 1


def plan_collateral(
    platform: str,
    data: bytes,
    *,
    supplied: CollateralSet,
    options: VerifyOptions,
    settings: CollateralSettings,
    revocation: str,
) -> list[CollateralRequest]:
    """The collateral requests ``platform``'s verifier needs for ``data`` (pure planning).

    Platforms without a ``collateral`` module need nothing beyond what is supplied.
    """
    try:
        module = importlib.import_module(PLATFORMS[platform] + ".collateral")
    except ModuleNotFoundError:
        return []
    planner = getattr(module, "plan", None)
    if planner is None:
        return []
    result: list[CollateralRequest] = planner(
        data, supplied=supplied, options=options, settings=settings, revocation=revocation
    )
    return result


def describe_evidence(platform: str, data: bytes, *, options: VerifyOptions) -> dict[str, Any]:
    """Decode ``data`` with ``platform``'s parser, without verifying it."""
    module = importlib.import_module(PLATFORMS[platform] + ".inspect")
    result: dict[str, Any] = module.describe_evidence(data, options=options)
    return result
