"""The teeclient error hierarchy: every failure has a stable, machine-readable code.

::

    TeeclientError
    ├── UsageError                     (exit 2) the caller asked for something impossible
    │   └── ProductRequiredError       snp.product_required
    ├── ConfigError                    (exit 2) a configuration file or argument is wrong
    │   └── PolicyError                policy.*  (syntax, unknown key, wrong type, bad value)
    ├── EvidenceError                  (exit 3) the evidence is not authentic or not consistent
    │   ├── ParseError                 *.malformed, *.unsupported_*
    │   ├── SignatureError             *.signature_invalid
    │   ├── ChainError                 chain.*  (untrusted, expired, revoked, bad extensions)
    │   ├── EndorsementError           snp.tcb_mismatch, tdx.qe_identity_mismatch, ...
    │   ├── BindingError               binding.*
    │   └── FreshnessError             freshness.*
    ├── CollateralError                (exit 4) collateral missing, stale or not authentic
    │   └── (nvidia.rim_*, nvidia.ocsp_*) NVIDIA RIMs and OCSP responses
    ├── TransportError                 transport.*
    │   └── ProtocolError              transport.malformed, transport.decrypt_failed, ...
    └── AttestationRejected            (exit 1) verified, but the policy said no

Codes are dotted, stable and never reused; ``docs/errors.md`` lists every one of them and a
test keeps the two in step. Errors carry the fields that failed (``field``, ``expected``,
``actual``) so callers and the CLI's ``--json`` never parse messages.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from teeclient.policy.result import Appraisal

__all__ = [
    "AttestationRejected",
    "BindingError",
    "ChainError",
    "ChainExpiredError",
    "ChainExtensionError",
    "ChainNotYetValidError",
    "ChainRevokedError",
    "ChainSignatureError",
    "ChainUntrustedError",
    "CollateralError",
    "CollateralFetchError",
    "CollateralInvalidError",
    "CollateralMissingError",
    "CollateralNotFoundError",
    "CollateralSignatureError",
    "CollateralStaleError",
    "ConfigError",
    "DecryptError",
    "DeviceExtraError",
    "DeviceMissingError",
    "DeviceOrderError",
    "DevicesNotBoundError",
    "DocumentError",
    "DowngradeError",
    "EndorsementError",
    "EvidenceError",
    "EvidenceTooOldError",
    "FrameTooLargeError",
    "FreshnessError",
    "IdentityExpiredError",
    "InputError",
    "KeyConfigMismatchError",
    "KeyFileError",
    "KeysNotBoundError",
    "MalformedCertificateError",
    "MalformedMessageError",
    "NitroCertificateMismatchError",
    "NitroNonceMismatchError",
    "NitroSignatureError",
    "NitroUnsupportedAlgorithmError",
    "NonceMismatchError",
    "NonceMissingError",
    "NonceReusedError",
    "NrasClaimsError",
    "NrasKeyError",
    "NrasNonceError",
    "NrasTokenError",
    "NvidiaArchMismatchError",
    "NvidiaDeviceSetError",
    "NvidiaFwidMismatchError",
    "NvidiaNonceMismatchError",
    "NvidiaSignatureError",
    "NvidiaUnsupportedOpaqueError",
    "OcspCertIdMismatchError",
    "OcspError",
    "OcspMalformedError",
    "OcspNonceMismatchError",
    "OcspResponderError",
    "OcspResponderExpiredError",
    "OcspSignatureError",
    "OriginMismatchError",
    "ParseError",
    "PolicyError",
    "PolicySyntaxError",
    "PolicyTestCaseError",
    "PolicyTypeError",
    "PolicyUnknownKeyError",
    "PolicyValueError",
    "ProductRequiredError",
    "ProtocolError",
    "ProtocolStateError",
    "ReportDataMismatchError",
    "RimAlgorithmError",
    "RimCertificateExpiredError",
    "RimChainError",
    "RimDigestError",
    "RimError",
    "RimMalformedError",
    "RimMismatchError",
    "RimSignatureError",
    "SequenceOverflowError",
    "SignatureError",
    "SnpChipIdMismatchError",
    "SnpEndorsementMismatchError",
    "SnpProductMismatchError",
    "SnpProductUnknownError",
    "SnpSignatureError",
    "SnpTcbMismatchError",
    "SnpUnsignedReportError",
    "StreamTruncatedError",
    "TdxAttestationKeyBindingError",
    "TdxCollateralChainError",
    "TdxCollateralMalformedError",
    "TdxCollateralMissingError",
    "TdxQeIdentityMismatchError",
    "TdxQeReportSignatureError",
    "TdxQuoteSignatureError",
    "TdxTcbInfoMismatchError",
    "TeeclientError",
    "TlsPinMismatchError",
    "TlsPinUnenforcedError",
    "TokenAlgorithmError",
    "TokenError",
    "TokenExpiredError",
    "TokenProfileError",
    "TokenSignatureError",
    "TransportError",
    "TrustFileError",
    "TrustLogError",
    "UnauthenticatedResponseError",
    "UnencryptedResponseError",
    "UnsupportedDocumentError",
    "UnsupportedFormatError",
    "UnsupportedSuiteError",
    "UsageError",
    "all_error_classes",
]

_MAX_VALUE_TEXT = 200


def _short(value: object) -> str:
    text = value if isinstance(value, str) else repr(value)
    if len(text) > _MAX_VALUE_TEXT:
        return text[: _MAX_VALUE_TEXT - 1] + "…"
    return text


class TeeclientError(Exception):
    """Base of every error teeclient raises on purpose."""

    code: ClassVar[str] = "teeclient.error"

    def __init__(
        self,
        message: str,
        *,
        platform: str | None = None,
        field: str | None = None,
        expected: object = None,
        actual: object = None,
        offset: int | None = None,
    ) -> None:
        self.message = message
        self.platform = platform
        self.field = field
        self.expected = expected
        self.actual = actual
        self.offset = offset
        super().__init__(self._render())

    def _render(self) -> str:
        parts = [self.message]
        if self.field is not None:
            parts.append(f"field {self.field}")
        if self.offset is not None:
            parts.append(f"offset {self.offset:#x}")
        if self.expected is not None:
            parts.append(f"expected {_short(self.expected)}")
        if self.actual is not None:
            parts.append(f"found {_short(self.actual)}")
        return f"[{self.code}] " + "; ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """The error as a JSON-ready mapping (the ``error`` member of ``--json`` output)."""
        out: dict[str, Any] = {"code": self.code, "message": self.message}
        for key in ("platform", "field", "offset"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        for key in ("expected", "actual"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value if isinstance(value, str | int | bool) else _short(value)
        return out


# --- exit code 2 -----------------------------------------------------------------------------


class UsageError(TeeclientError):
    """The caller asked for something that cannot be done as asked."""

    code = "usage.invalid"


class ProductRequiredError(UsageError):
    """A SEV-SNP v2 report carries no CPUID; the product must be given explicitly."""

    code = "snp.product_required"


class InputError(UsageError):
    """An input file cannot be read or is not a kind of evidence or collateral we know."""

    code = "input.unrecognised"


class ConfigError(TeeclientError):
    """A configuration value (policy, trust store, settings) is invalid."""

    code = "config.invalid"


class TrustFileError(ConfigError):
    """A trust file (teeclient.trust/v1) is unreadable, malformed or names an unknown anchor."""

    code = "config.trust_file"


class PolicyError(ConfigError):
    """A policy file is invalid; ``location`` names file, line and key path."""

    code = "policy.invalid"

    def __init__(
        self,
        message: str,
        *,
        key_path: str | None = None,
        file: str | None = None,
        line: int | None = None,
        expected: object = None,
        actual: object = None,
    ) -> None:
        self.key_path = key_path
        self.file = file
        self.line = line
        super().__init__(message, field=key_path, expected=expected, actual=actual)

    def _render(self) -> str:
        where = ""
        if self.file is not None or self.line is not None:
            where = f"{self.file or '<policy>'}"
            if self.line is not None:
                where += f":{self.line}"
            where += ": "
        return where + super()._render()

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        if self.file is not None:
            out["file"] = self.file
        if self.line is not None:
            out["line"] = self.line
        return out


class PolicySyntaxError(PolicyError):
    """The policy file is not valid TOML."""

    code = "policy.syntax"


class PolicyUnknownKeyError(PolicyError):
    """The policy has a key or section teeclient does not know (typos are errors)."""

    code = "policy.unknown_key"


class PolicyTypeError(PolicyError):
    """A policy value has the wrong type."""

    code = "policy.wrong_type"


class PolicyValueError(PolicyError):
    """A policy value has the right type but an invalid value."""

    code = "policy.invalid_value"


# --- exit code 3 -----------------------------------------------------------------------------


class EvidenceError(TeeclientError):
    """The evidence is not authentic, not well formed, or not internally consistent."""

    code = "evidence.invalid"


class ParseError(EvidenceError):
    """Bytes do not have the structure their format requires."""

    code = "evidence.malformed"


class UnsupportedFormatError(ParseError):
    """A well-formed structure in a version or variant teeclient does not support."""

    code = "evidence.unsupported"


class SignatureError(EvidenceError):
    """A signature over evidence does not verify."""

    code = "evidence.signature_invalid"


class NvidiaUnsupportedOpaqueError(UnsupportedFormatError):
    """NVIDIA SPDM opaque data uses the versioned ``NVDAOD`` layout, not supported yet."""

    code = "nvidia.unsupported_opaque_format"


class NvidiaSignatureError(SignatureError):
    """An NVIDIA GPU/NVSwitch SPDM report signature does not verify with the device leaf key."""

    code = "nvidia.signature_invalid"


class NitroUnsupportedAlgorithmError(UnsupportedFormatError):
    """The Nitro COSE_Sign1 protected header names an algorithm other than ES384."""

    code = "nitro.unsupported_algorithm"


class NitroSignatureError(SignatureError):
    """The Nitro COSE_Sign1 ES384 signature does not verify with the leaf certificate's key."""

    code = "nitro.signature_invalid"


class SnpSignatureError(SignatureError):
    """The SEV-SNP report signature does not verify with the VCEK/VLEK."""

    code = "snp.signature_invalid"


class SnpUnsignedReportError(EvidenceError):
    """The SEV-SNP report says it is unsigned (SIGNING_KEY = 7)."""

    code = "snp.unsigned_report"


class ChainError(EvidenceError):
    """A certificate chain does not lead to a pinned root."""

    code = "chain.invalid"


class ChainUntrustedError(ChainError):
    """A certificate is not issued by the expected pinned issuer, or a root is not pinned."""

    code = "chain.untrusted"


class ChainSignatureError(ChainError):
    """A certificate signature does not verify under its issuer's key."""

    code = "chain.signature_invalid"


class ChainExpiredError(ChainError):
    """A certificate is past its notAfter at the verification time."""

    code = "chain.expired"


class ChainNotYetValidError(ChainError):
    """A certificate is before its notBefore at the verification time."""

    code = "chain.not_yet_valid"


class ChainRevokedError(ChainError):
    """A certificate of the chain is listed in its issuer's revocation list."""

    code = "chain.revoked"


class MalformedCertificateError(ChainError, ParseError):
    """A certificate (or collateral item that should hold one) cannot be parsed."""

    code = "chain.malformed_certificate"


class ChainExtensionError(ChainError):
    """A certificate lacks or misuses a required extension or name attribute."""

    code = "chain.bad_certificate"


class EndorsementError(EvidenceError):
    """The endorsement (certificate) does not match what the evidence reports."""

    code = "evidence.endorsement_mismatch"


class SnpEndorsementMismatchError(EndorsementError):
    """A VCEK/VLEK extension (product, key kind, struct version) contradicts the report."""

    code = "snp.endorsement_mismatch"


class SnpTcbMismatchError(EndorsementError):
    """The VCEK/VLEK TCB does not equal REPORTED_TCB, or exceeds CURRENT_TCB."""

    code = "snp.tcb_mismatch"


class SnpChipIdMismatchError(EndorsementError):
    """The VCEK hwID does not equal the report's CHIP_ID."""

    code = "snp.chip_id_mismatch"


class SnpProductUnknownError(EvidenceError):
    """The report's CPUID names no product teeclient knows."""

    code = "snp.product_unknown"


class SnpProductMismatchError(EvidenceError):
    """The product given by the caller contradicts the report's CPUID."""

    code = "snp.product_mismatch"


class NvidiaFwidMismatchError(EndorsementError):
    """The FWID in the device leaf certificate does not equal the report's FWID field."""

    code = "nvidia.fwid_mismatch"


class NvidiaArchMismatchError(EndorsementError):
    """The device architecture (chain, CHIP_INFO, declared arch) is inconsistent."""

    code = "nvidia.arch_mismatch"


class NvidiaDeviceSetError(EvidenceError):
    """A set of NVIDIA devices is inconsistent (mixed modes, duplicates, different nonces)."""

    code = "nvidia.device_set_inconsistent"


class TdxQuoteSignatureError(SignatureError):
    """The TDX quote signature does not verify with the quote's attestation key."""

    code = "tdx.quote_signature_invalid"


class TdxQeReportSignatureError(SignatureError):
    """The TDX Quoting Enclave report is not signed by the PCK certificate's key."""

    code = "tdx.qe_report_signature_invalid"


class TdxAttestationKeyBindingError(EndorsementError):
    """QE REPORTDATA is not SHA-256(attestation key ‖ QE authentication data) ‖ zeros."""

    code = "tdx.attestation_key_not_bound"


class TdxQeIdentityMismatchError(EndorsementError):
    """The QE report does not match Intel's QE Identity (MRSIGNER, ISVPRODID, masked fields)."""

    code = "tdx.qe_identity_mismatch"


class NitroCertificateMismatchError(EndorsementError):
    """The Nitro leaf certificate does not name the document's module_id."""

    code = "nitro.certificate_mismatch"


class BindingError(EvidenceError):
    """Evidence does not bind the expected nonce or keys."""

    code = "binding.mismatch"


class NvidiaNonceMismatchError(BindingError):
    """The SPDM request nonce of an NVIDIA report differs from the caller's nonce."""

    code = "nvidia.nonce_mismatch"


class ReportDataMismatchError(BindingError):
    """The CPU evidence's report data is not the value derived from nonce, keys and devices."""

    code = "binding.report_data_mismatch"


class KeysNotBoundError(BindingError):
    """The document's keys are not the keys its CPU evidence binds."""

    code = "binding.keys_not_bound"


class DeviceMissingError(BindingError):
    """A device the CPU evidence binds is missing from the document."""

    code = "binding.device_missing"


class DeviceExtraError(BindingError):
    """The document carries a device its CPU evidence does not bind."""

    code = "binding.device_extra"


class DevicesNotBoundError(BindingError):
    """The served device evidence is not the evidence the CPU report endorses (Tinfoil v3
    ``device_evidence_hash``)."""

    code = "binding.devices_not_bound"


class DeviceOrderError(BindingError):
    """The document's devices are the bound ones, but in another order."""

    code = "binding.devices_reordered"


class FreshnessError(EvidenceError):
    """Evidence is too old, from the future, or replayed."""

    code = "freshness.invalid"


class NonceMismatchError(FreshnessError):
    """The document does not echo the nonce the client sent (stale or replayed evidence)."""

    code = "freshness.nonce_mismatch"


class NonceReusedError(FreshnessError):
    """A nonce that already produced an accepted identity was presented again."""

    code = "freshness.nonce_reused"


class EvidenceTooOldError(FreshnessError):
    """The evidence is older than the policy's [freshness] max_evidence_age."""

    code = "freshness.too_old"


class DocumentError(ParseError):
    """An attestation document is malformed (JSON, members, types, encodings, sizes)."""

    code = "document.malformed"


class UnsupportedDocumentError(UnsupportedFormatError):
    """An attestation document of another format or version."""

    code = "document.unsupported"


class NonceMissingError(FreshnessError):
    """A document that must answer the client's nonce carries none (static evidence)."""

    code = "freshness.nonce_missing"


class NitroNonceMismatchError(FreshnessError):
    """The Nitro document's nonce is absent or differs from the caller's challenge."""

    code = "nitro.nonce_mismatch"


# --- exit code 4 -----------------------------------------------------------------------------


class CollateralError(TeeclientError):
    """Collateral (certificates, CRLs, TCB info, OCSP) is missing, stale or not authentic."""

    code = "collateral.unavailable"


class CollateralMissingError(CollateralError):
    """A collateral item verification needs was not supplied."""

    code = "collateral.missing"


class CollateralNotFoundError(CollateralMissingError):
    """The collateral service answered that the item does not exist (HTTP 404)."""

    code = "collateral.not_found"


class CollateralFetchError(CollateralError):
    """Fetching collateral failed after bounded retries (timeouts, 429/5xx, resets, size)."""

    code = "collateral.fetch_failed"


class CollateralInvalidError(CollateralError):
    """A collateral item (fetched or cached) does not parse as what it should be."""

    code = "collateral.invalid"


class CollateralSignatureError(CollateralError):
    """A collateral item (CRL, TCB info, OCSP response) is not signed by the expected key."""

    code = "collateral.signature_invalid"


class CollateralStaleError(CollateralError):
    """A collateral item is outside its validity window at the verification time."""

    code = "collateral.stale"


class OcspError(CollateralError):
    """An NVIDIA OCSP response cannot be used."""

    code = "nvidia.ocsp_invalid"


class OcspMalformedError(OcspError):
    """An OCSP response is not a well-formed, successful BasicOCSPResponse."""

    code = "nvidia.ocsp_malformed"


class OcspSignatureError(OcspError):
    """An OCSP response signature does not verify under its responder's key."""

    code = "nvidia.ocsp_signature_invalid"


class OcspResponderError(OcspError):
    """The OCSP responder is not the issuer nor an OCSPSigning delegate issued by it."""

    code = "nvidia.ocsp_responder_unauthorized"


class OcspResponderExpiredError(OcspError):
    """The OCSP responder certificate is outside its validity at the verification time."""

    code = "nvidia.ocsp_responder_expired"


class OcspCertIdMismatchError(OcspError):
    """An OCSP single response names the certificate's serial with another issuer CertID."""

    code = "nvidia.ocsp_certid_mismatch"


class OcspNonceMismatchError(OcspError):
    """A nonce was sent and the OCSP response does not echo it in responseExtensions."""

    code = "nvidia.ocsp_nonce_mismatch"


class RimError(CollateralError):
    """An NVIDIA reference integrity manifest (RIM) cannot be used."""

    code = "nvidia.rim_invalid"


class RimMalformedError(RimError):
    """A RIM is not a well-formed SWID tag (or has a DOCTYPE, entities, bad values)."""

    code = "nvidia.rim_malformed"


class RimAlgorithmError(RimError):
    """A RIM signature uses other algorithms, transforms or references than NVIDIA's."""

    code = "nvidia.rim_unsupported_signature"


class RimDigestError(RimError):
    """The RIM document digest does not equal the signed DigestValue (content was edited)."""

    code = "nvidia.rim_digest_mismatch"


class RimSignatureError(RimError):
    """The RIM SignatureValue does not verify with the signer certificate's key."""

    code = "nvidia.rim_signature_invalid"


class RimChainError(RimError):
    """The RIM signer chain does not lead to the pinned NVIDIA CoRIM signing root."""

    code = "nvidia.rim_chain_invalid"


class RimCertificateExpiredError(RimChainError):
    """A RIM signing chain certificate is outside its validity at the verification time."""

    code = "nvidia.rim_cert_expired"


class RimMismatchError(RimError):
    """A RIM does not belong to the device (version, chip or service id differ)."""

    code = "nvidia.rim_mismatch"


class NrasTokenError(EvidenceError):
    """An NVIDIA NRAS attestation token (detached EAT) is malformed or fails validation."""

    code = "nvidia.nras_token_invalid"


class NrasKeyError(NrasTokenError):
    """The NRAS token's signing key is unknown (kid not in the JWKS) or not trusted."""

    code = "nvidia.nras_key_unknown"


class NrasNonceError(NrasTokenError):
    """An NRAS token's eat_nonce differs from the caller's nonce."""

    code = "nvidia.nras_nonce_mismatch"


class NrasClaimsError(NrasTokenError):
    """NRAS submods, digests or counts do not match the device tokens."""

    code = "nvidia.nras_submods_mismatch"


class TdxCollateralMissingError(CollateralMissingError):
    """No TCB Info for the PCK's FMSPC, or no TD QE Identity, was supplied."""

    code = "tdx.collateral_missing"


class TdxCollateralMalformedError(CollateralError):
    """Intel collateral (TCB Info, QE Identity, dcap-qvl bundle, PCS response) is malformed."""

    code = "tdx.collateral_malformed"


class TdxCollateralChainError(CollateralError):
    """A collateral issuer chain (TCB Signing) does not lead to the pinned Intel root at `now`."""

    code = "tdx.collateral_chain_invalid"


class TdxTcbInfoMismatchError(CollateralError):
    """The TCB Info does not belong to the PCK certificate's platform (PCE ID, TEE type)."""

    code = "tdx.tcb_info_mismatch"


# --- attestation-result tokens, key files, policy test cases, trust log ----------------------


class KeyFileError(ConfigError):
    """A key file cannot be read, is not a PEM key, or has a type teeclient does not sign with."""

    code = "config.key_invalid"


class PolicyTestCaseError(ConfigError):
    """A `policy test` case file is invalid (unknown key, wrong type, missing bundle)."""

    code = "policytest.case_invalid"


class TrustLogError(ConfigError):
    """The local trust log cannot be read or written."""

    code = "trustlog.unavailable"


class TokenError(EvidenceError):
    """An attestation-result token (EAR JWT) is malformed or not acceptable."""

    code = "token.invalid"


class TokenSignatureError(TokenError):
    """The token's signature does not verify with the given key."""

    code = "token.signature_invalid"


class TokenAlgorithmError(TokenError):
    """The token's algorithm is not the one allowed for the key (e.g. none, HS256)."""

    code = "token.algorithm_not_allowed"


class TokenExpiredError(TokenError):
    """The token is past its exp (or before its iat/nbf) at the verification time."""

    code = "token.expired"


class TokenProfileError(TokenError):
    """The token is not an EAR: wrong or missing eat_profile, or required claims missing."""

    code = "token.profile_mismatch"


# --- transport and policy outcome ------------------------------------------------------------


class TransportError(TeeclientError):
    """The encrypted transport failed or was tampered with."""

    code = "transport.failed"


class ProtocolError(TransportError):
    """A byte-level protocol message (HPKE, OHTTP, Binary HTTP, EHBP) was rejected."""

    code = "transport.protocol"


class MalformedMessageError(ProtocolError):
    """Bytes do not have the structure the protocol requires (key config, BHTTP, framing)."""

    code = "transport.malformed"


class DecryptError(ProtocolError):
    """Decapsulation or AEAD authentication failed: the data is not from the expected peer."""

    code = "transport.decrypt_failed"


class StreamTruncatedError(ProtocolError):
    """A stream ended before its authenticated final chunk (or inside a frame)."""

    code = "transport.stream_truncated"


class KeyConfigMismatchError(ProtocolError):
    """The key id or algorithms of a message do not match the pinned key configuration."""

    code = "transport.key_config_mismatch"


class UnsupportedSuiteError(ProtocolError):
    """No HPKE suite (KEM, KDF, AEAD) is supported by both sides, or an id is unknown."""

    code = "transport.unsupported_suite"


class FrameTooLargeError(ProtocolError):
    """A chunk, frame, section or message exceeds its configured bound."""

    code = "transport.frame_too_large"


class SequenceOverflowError(ProtocolError):
    """An HPKE sequence number or chunk counter would wrap (the message limit is reached)."""

    code = "transport.sequence_overflow"


class ProtocolStateError(ProtocolError):
    """A protocol state machine was driven out of order (data after the end, a second end)."""

    code = "transport.invalid_state"


class UnauthenticatedResponseError(ProtocolError):
    """A response that must be encrypted and authenticated arrived without protection."""

    code = "transport.unauthenticated"


class UnencryptedResponseError(UnauthenticatedResponseError):
    """The gateway answered without an encapsulated response (plaintext, another media type)."""

    code = "transport.not_encapsulated"


class TlsPinMismatchError(TransportError):
    """The TLS server key is not the key the attestation binds (refused at the handshake)."""

    code = "transport.tls_pin_mismatch"


class TlsPinUnenforcedError(ConfigError):
    """The identity binds a TLS key, but the inner transport cannot check it at the handshake."""

    code = "transport.tls_pin_unenforced"


class DowngradeError(TransportError):
    """A re-attestation offered weaker protection than the pinned identity (suite or TLS pin)."""

    code = "transport.downgrade"


class IdentityExpiredError(TransportError):
    """The pinned identity expired and the transport has no way to attest again."""

    code = "transport.identity_expired"


class OriginMismatchError(UsageError):
    """A request was addressed to another origin than the attested endpoint (nothing was sent)."""

    code = "transport.origin_mismatch"


class AttestationRejected(TeeclientError):
    """Evidence verified but the policy rejected it; carries the full ``Appraisal``."""

    code = "policy.rejected"

    def __init__(self, message: str, *, appraisal: Appraisal) -> None:
        self.appraisal = appraisal
        super().__init__(message)


def all_error_classes() -> list[type[TeeclientError]]:
    """Every error class defined here, base first (used by docs and code-uniqueness tests)."""
    seen: list[type[TeeclientError]] = []
    stack: list[type[TeeclientError]] = [TeeclientError]
    while stack:
        cls = stack.pop(0)
        if cls not in seen:
            seen.append(cls)
            stack.extend(cls.__subclasses__())
    return seen
