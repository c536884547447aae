"""Global checks of an attestation document: freshness and key/device binding (all pass or raise).

Binding failures are errors with their own codes (docs/errors.md); these checks record, in the
appraisal, what was verified and with which values.
"""

from __future__ import annotations

from types import MappingProxyType

__all__ = ["CHECKS"]

CHECKS = MappingProxyType(
    {
        "freshness.nonce": "the document answers this session's nonce "
        "(else freshness.nonce_mismatch / freshness.nonce_reused)",
        "freshness.age": "the evidence was produced within [freshness] max_evidence_age "
        "(else freshness.too_old)",
        "binding.report_data": "the CPU evidence binds nonce, keys digest and device digests "
        "(else binding.report_data_mismatch)",
        "binding.keys": "the served keys are the bound keys (else binding.keys_not_bound)",
        "binding.devices": "the served devices are exactly the bound ones "
        "(else binding.device_missing / binding.device_extra / binding.devices_reordered)",
        "binding.gpu_nonce": "every device answered the SPDM nonce derived from the session "
        "nonce and keys (Tinfoil v3: the challenge nonce itself; else nvidia.nonce_mismatch)",
        "binding.layout": "the document's binding layout (teeclient-v1, tinfoil-v2, tinfoil-v3) "
        "is in [binding] layouts",
        "binding.pin": "the identity carries every key [binding] pin requires (hpke, tls_spki)",
        "binding.code_provenance": "Tinfoil Sigstore code provenance entries: not verified by "
        "teeclient (always skip; pin measurements in the policy instead)",
    }
)
