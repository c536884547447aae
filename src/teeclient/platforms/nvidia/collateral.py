"""What NVIDIA evidence needs from NVIDIA's services: pure planning of RIM and OCSP requests.

RIMs: ``GET {nvidia_rim}/v1/rim/{id}`` for every RIM id the reports name (driver and VBIOS
for a GPU, BIOS for an NVSwitch; specs/nvidia-gpu.md §5.1–§5.2) that is not supplied. OCSP:
``POST {nvidia_ocsp}/`` with a DER OCSPRequest (``application/ocsp-request``, CertID with
SHA-384) for every checked certificate that no supplied response answers: BROM, provisioner
ICA and identity CA of each device chain, and L4, L3 and L2 of each RIM's signing chain (§4).
RIM-chain requests can only be planned once the RIMs are at hand, so
``verification.collect_collateral`` plans again with what it gathered.

Everything is read unauthenticated, only to build requests; what is fetched is verified like
any supplied collateral. Request bodies are deterministic (no random nonce), so a cached or
bundled answer is found again by its request key. With ``CollateralSettings.ocsp_nonce`` the
requests carry a nonce derived from the evidence's own nonce and the certificate (fresh per
attestation, still deterministic); the verifier then requires it echoed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from types import MappingProxyType

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from teeclient._x509 import common_name
from teeclient.collateral.items import CollateralRequest, CollateralSet
from teeclient.collateral.settings import CollateralSettings
from teeclient.errors import TeeclientError
from teeclient.platforms import VerifyOptions
from teeclient.platforms.nvidia import abi, ocsp, rim
from teeclient.platforms.nvidia.abi import DeviceKind
from teeclient.platforms.nvidia.certs import CHAIN_LENGTH, arch_from_chip
from teeclient.platforms.nvidia.evidence import DeviceEvidence, NvidiaEvidence, parse_evidence
from teeclient.platforms.nvidia.verify import (
    NvidiaCollateral,
    WantedRim,
    chain_for,
    sort_collateral,
    wanted_rims,
)

__all__ = ["OCSP_MEDIA_TYPE", "PLAN_ROUNDS", "ocsp_request", "plan", "rim_url"]

#: RIMs first, then OCSP for their signing chains (``verification.collect_collateral``).
PLAN_ROUNDS = 2
OCSP_MEDIA_TYPE = "application/ocsp-request"
_NONCE_LABEL = b"teeclient.nvidia.ocsp-nonce/v1\0"


def rim_url(rim_id: str, *, base: str) -> str:
    """The RIM service URL of ``rim_id``."""
    return f"{base.rstrip('/')}/v1/rim/{rim_id}"


def ocsp_request(
    cert: x509.Certificate,
    issuer: x509.Certificate,
    *,
    base: str,
    purpose: str,
    nonce_seed: bytes | None,
    required: bool,
    allow_network: bool,
) -> CollateralRequest:
    """A POST of the DER OCSPRequest for ``cert`` to the OCSP responder at ``base``.

    ``nonce_seed`` (when given) makes the request carry the nonce SHA-256(label ‖ seed ‖
    certificate DER): unpredictable before the evidence's nonce was chosen, yet the same
    whenever the same evidence is planned again.
    """
    nonce = None
    if nonce_seed is not None:
        nonce = hashlib.sha256(_NONCE_LABEL + nonce_seed + cert.public_bytes(Encoding.DER)).digest()
    return CollateralRequest(
        url=f"{base.rstrip('/')}/",
        purpose=purpose,
        method="POST",
        body=ocsp.build_request(cert, issuer, nonce=nonce),
        media_type="application/ocsp-response",
        headers=MappingProxyType(
            {"Content-Type": OCSP_MEDIA_TYPE, "Accept": "application/ocsp-response"}
        ),
        required=required,
        allow_network=allow_network,
    )


def _device_pairs(
    chain: Sequence[x509.Certificate],
) -> Iterator[tuple[x509.Certificate, x509.Certificate, str]]:
    """(certificate, issuer, role) for BROM, provisioner ICA and identity CA."""
    for index, role in ((1, "brom"), (2, "provisioner_ica"), (3, "identity")):
        issuer = chain[index + 1]
        if issuer.subject == chain[index].issuer:
            yield chain[index], issuer, role


def _rim_pairs(
    certs: Sequence[x509.Certificate],
) -> Iterator[tuple[x509.Certificate, x509.Certificate, str]]:
    """(certificate, issuer, role) for L4, L3 and L2 of a RIM's KeyInfo chain."""
    chain = [c for c in certs if c.subject != c.issuer][:3]
    roots = [c for c in certs if c.subject == c.issuer]
    for index, role in enumerate(("L4", "L3", "L2")):
        if index >= len(chain):
            return
        cert = chain[index]
        candidates = chain[index + 1 : index + 2] if index < 2 else roots
        issuer = next((c for c in candidates if c.subject == cert.issuer), None)
        if issuer is not None:
            yield cert, issuer, role


def _device_rims(dev: DeviceEvidence, chain: Sequence[x509.Certificate]) -> tuple[WantedRim, ...]:
    chip = (common_name(chain[0].subject) or "").split(" ", 1)[0]
    arch = arch_from_chip(chip)
    if arch is None:
        return ()
    try:
        report = abi.parse_report(
            dev.report, DeviceKind.SWITCH if arch.is_switch else DeviceKind.GPU
        )
    except TeeclientError:
        return ()
    return wanted_rims(report.response.opaque, arch=arch, chip=chip)


def _device_chain(dev: DeviceEvidence, have: NvidiaCollateral) -> list[x509.Certificate] | None:
    try:
        signed, signature = abi.split_report(dev.report)
        chain = chain_for(dev, have, signed, signature)
    except TeeclientError:
        return None
    return chain if len(chain) == CHAIN_LENGTH else None


def _nonce_seed(evidence: NvidiaEvidence, devices: Sequence[DeviceEvidence]) -> bytes:
    """The node's nonce as carried (every device signs the same one), unauthenticated."""
    if evidence.nonce_hint is not None:
        return evidence.nonce_hint
    return devices[0].report[4 : 4 + abi.NONCE_SIZE] if devices else b""


def plan(
    data: bytes,
    *,
    supplied: CollateralSet,
    options: VerifyOptions,
    settings: CollateralSettings,
    revocation: str,
) -> list[CollateralRequest]:
    """The RIM and OCSP requests for this evidence, skipping what ``supplied`` already holds.

    RIM requests may use the network and are needed, but a RIM the service does not have
    (404) or that is not at hand offline is left to the verifier, which reports "reference
    values unavailable" (``absent_ok``); outages fail. OCSP follows ``revocation``: ``fetch``
    (required), ``fetch-optional``, ``cached`` (bundle or cache only) or ``off``. A device
    whose chain or report cannot be read plans nothing, so that verification reports it.

    Raises:
        ParseError: the evidence cannot be framed.
        RimError / OcspMalformedError / ParseError: a supplied item is malformed.
    """
    del options
    evidence = parse_evidence(data)
    have = sort_collateral(supplied)
    peeks = [
        (rim.peek_rim(xml, source=source), service_id) for xml, source, service_id in have.rims
    ]
    rim_base = settings.base_url("nvidia_rim")
    ocsp_base = settings.base_url("nvidia_ocsp")
    requests: dict[str, CollateralRequest] = {}
    pairs: list[tuple[x509.Certificate, x509.Certificate, str]] = []
    devices = (*evidence.devices, *have.devices)
    for index, dev in enumerate(devices):
        chain = _device_chain(dev, have)
        if chain is None:
            continue
        pairs.extend(
            (c, i, f"nvidia.ocsp.device[{index}].{role}") for c, i, role in _device_pairs(chain)
        )
        for wanted in _device_rims(dev, chain):
            if not wanted.known or wanted.version is None:
                continue
            if any(
                service_id == wanted.id
                if service_id is not None
                else peek.matches(wanted.version, wanted.chip)
                for peek, service_id in peeks
            ):
                continue
            request = CollateralRequest(
                url=rim_url(wanted.id, base=rim_base),
                purpose=f"nvidia.rim.{wanted.id}",
                media_type="application/json",
                absent_ok=True,
            )
            requests.setdefault(request.key, request)
    if revocation == "off":
        return list(requests.values())
    for peek, service_id in peeks:
        name = service_id or peek.colloquial_version
        pairs.extend(
            (c, i, f"nvidia.ocsp.rim.{name}.{role}") for c, i, role in _rim_pairs(peek.certificates)
        )
    seed = _nonce_seed(evidence, devices) if settings.ocsp_nonce else None
    for cert, issuer, purpose in pairs:
        if ocsp.has_answer(cert, issuer, have.ocsp):
            continue
        request = ocsp_request(
            cert,
            issuer,
            base=ocsp_base,
            purpose=purpose,
            nonce_seed=seed,
            required=revocation == "fetch",
            allow_network=revocation in ("fetch", "fetch-optional"),
        )
        requests.setdefault(request.key, request)
    return list(requests.values())
