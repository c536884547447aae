"""teeclient: verify TEE attestation evidence against your policy, then talk to the enclave.

The public API is small and re-exported lazily (importing teeclient loads nothing heavy)::

    import teeclient
    appraisal = teeclient.verify("report.bin", collateral=["vcek.der"], policy="prod.toml")
    if appraisal.accepted: ...

    with teeclient.Client("https://enclave.example", policy="prod.toml") as client:
        client.openai().chat.completions.create(...)   # encrypted to the attested key

Everything else is reached by its full path (``teeclient.platforms.sev_snp.verify``) and is
documented as advanced API.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    "Appraisal": "teeclient.policy.result",
    "AsyncClient": "teeclient.client",
    "AttestationRejected": "teeclient.errors",
    "Client": "teeclient.client",
    "CollateralError": "teeclient.errors",
    "ConfigError": "teeclient.errors",
    "EnclaveIdentity": "teeclient.identity",
    "EvidenceError": "teeclient.errors",
    "Policy": "teeclient.policy.model",
    "TeeclientError": "teeclient.errors",
    "TransportError": "teeclient.errors",
    "TrustStore": "teeclient.trust",
    "UsageError": "teeclient.errors",
    "load_policy": "teeclient.policy.load",
    "verify": "teeclient.verification",
    "verify_claims": "teeclient.verification",
}

__all__ = [
    "Appraisal",
    "AsyncClient",
    "AttestationRejected",
    "Client",
    "CollateralError",
    "ConfigError",
    "EnclaveIdentity",
    "EvidenceError",
    "Policy",
    "TeeclientError",
    "TransportError",
    "TrustStore",
    "UsageError",
    "__version__",
    "load_policy",
    "verify",
    "verify_claims",
]

if TYPE_CHECKING:
    from teeclient.client import AsyncClient, Client
    from teeclient.errors import (
        AttestationRejected,
        CollateralError,
        ConfigError,
        EvidenceError,
        TeeclientError,
        TransportError,
        UsageError,
    )
    from teeclient.identity import EnclaveIdentity
    from teeclient.policy.load import load_policy
    from teeclient.policy.model import Policy
    from teeclient.policy.result import Appraisal
    from teeclient.trust import TrustStore
    from teeclient.verification import verify, verify_claims


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'teeclient' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
