"""NVIDIA reference integrity manifests (RIMs): ids, XML-DSig, signer chain, golden comparison.

specs/nvidia-gpu.md §5. A RIM is a SWID tag with an enveloped XML signature. Verification:

1. Bound the size, refuse a DOCTYPE or entity declaration, parse with lxml (no entities, no DTD,
   no network) and refuse ``xml:base`` / ``xml:id`` attributes.
2. Pin the signature shape before any cryptography: exactly one ``ds:Signature``, child of the
   root; C14N 1.1; ECDSA-SHA384; exactly one Reference with ``URI=""``, transforms
   [enveloped-signature, C14N 1.1]; SHA-384 digest.
3. Verify digest and SignatureValue with **signxml** (the signer certificate from KeyInfo is
   passed explicitly; its validity is judged in step 4, never by signxml's clock).
4. Validate the signer chain (L4 → L3 → L2) to a pinned ``nvidia.corim.root`` certificate at
   ``now`` (the embedded root is dropped) and check OCSP for L4, L3 and L2 when responses are
   supplied.
5. Read the measurements only from the verified document.

Ids are built only from signed report fields (§5.1) and comparison follows §5.6.
"""

from __future__ import annotations

import base64
import binascii
import enum
import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from lxml import etree
from signxml.algorithms import DigestAlgorithm, SignatureMethod
from signxml.exceptions import (
    InvalidCertificate,
    InvalidDigest,
    InvalidInput,
    InvalidSignature,
    SignXMLException,
)
from signxml.verifier import SignatureConfiguration, XMLVerifier

from teeclient._time import iso
from teeclient._x509 import (
    SignatureMemo,
    check_validity,
    common_name,
    der,
    fingerprint,
    load_certificate,
    require_ca,
    verify_issued_by,
)
from teeclient.errors import (
    ChainError,
    ChainExpiredError,
    ChainNotYetValidError,
    ParseError,
    RimAlgorithmError,
    RimCertificateExpiredError,
    RimChainError,
    RimDigestError,
    RimMalformedError,
    RimMismatchError,
    RimSignatureError,
)
from teeclient.platforms.nvidia import ocsp as ocsp_mod
from teeclient.platforms.nvidia.ocsp import OcspCheck, OcspResponse
from teeclient.trust import TrustStore

__all__ = [
    "CORIM_ROOT_ANCHOR",
    "Mismatch",
    "RimEntry",
    "RimKind",
    "RimPeek",
    "VerifiedRim",
    "compare_measurements",
    "driver_rim_id",
    "looks_like_rim",
    "parse_service_response",
    "peek_rim",
    "switch_rim_id",
    "vbios_rim_id",
    "verify_rim",
]

PLATFORM = "nvidia"
CORIM_ROOT_ANCHOR = "nvidia.corim.root"
MAX_RIM_BYTES = 2 * 1024 * 1024
MAX_RESOURCES = 256
NVDEC0_INDEX = 35
NVDEC0_DISABLED = 0x55

_DS = "http://www.w3.org/2000/09/xmldsig#"
_SWID = "http://standards.iso.org/iso/19770/-2/2015/schema.xsd"
_TCG = "https://trustedcomputinggroup.org/resource/tcg-reference-integrity-manifest-rim-information-model/"
_SHA384_NS = "http://www.w3.org/2001/04/xmlenc#sha384"
_XML_NS = "http://www.w3.org/XML/1998/namespace"
C14N11 = "http://www.w3.org/2006/12/xml-c14n11"
ECDSA_SHA384 = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384"
ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
DIGEST_SHA384 = "http://www.w3.org/2001/04/xmldsig-more#sha384"
_HEX48 = re.compile(r"[0-9a-fA-F]{96}")

_CONFIG_METHODS = frozenset({SignatureMethod.ECDSA_SHA384})
_CONFIG_DIGESTS = frozenset({DigestAlgorithm.SHA384})


class RimKind(enum.StrEnum):
    """Which component a RIM describes."""

    DRIVER = "driver"
    VBIOS = "vbios"
    SWITCH_BIOS = "switch_bios"


@dataclass(frozen=True, slots=True, kw_only=True)
class RimEntry:
    """One ``Payload/Resource`` golden measurement (index 0-based)."""

    index: int
    name: str
    active: bool
    size: int
    alternatives: tuple[bytes, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifiedRim:
    """A RIM whose signature, signer chain and supplied OCSP answers verified at a time."""

    sha256: str
    source: str
    service_id: str | None
    name: str
    colloquial_version: str
    product: str
    edition: str
    platform_model: str | None
    manufacturer_id: str | None
    entries: tuple[RimEntry, ...]
    chain: tuple[x509.Certificate, ...]
    root: x509.Certificate
    ocsp: tuple[OcspCheck, ...]
    verified_at: datetime

    @property
    def signer(self) -> x509.Certificate:
        """The L4 signing certificate."""
        return self.chain[0]

    @property
    def expiration(self) -> datetime:
        """The earliest notAfter of the signer chain."""
        return min(c.not_valid_after_utc for c in (*self.chain, self.root))

    def active(self) -> dict[int, RimEntry]:
        """Active entries by index."""
        return {e.index: e for e in self.entries if e.active}

    def to_dict(self) -> dict[str, object]:
        """JSON form (without the golden values)."""
        return {
            "sha256": self.sha256,
            "source": self.source,
            "service_id": self.service_id,
            "name": self.name,
            "colloquial_version": self.colloquial_version,
            "product": self.product,
            "edition": self.edition,
            "manufacturer_id": self.manufacturer_id,
            "active_indices": sorted(self.active()),
            "signer": self.signer.subject.rfc4514_string(),
            "chain_sha256": [fingerprint(c) for c in (*self.chain, self.root)],
            "expiration": iso(self.expiration),
            "ocsp": [c.to_dict() for c in self.ocsp],
            "verified_at": iso(self.verified_at),
        }


def driver_rim_id(
    chip: str, driver_version: str, *, blackwell: bool, chip_info: str | None = None
) -> str:
    """Driver RIM id from signed fields (§5.1): Hopper ``NV_GPU_DRIVER_GH100_<v>``, Blackwell
    ``NV_GPU_CC_DRIVER_<CHIP_INFO or GB100>_<v>``."""
    if blackwell:
        return f"NV_GPU_CC_DRIVER_{chip_info or 'GB100'}_{driver_version}"
    return f"NV_GPU_DRIVER_{chip}_{driver_version}"


def vbios_rim_id(project: str, project_sku: str, chip_sku: str, vbios: str) -> str:
    """GPU VBIOS RIM id (§5.1): ``NV_GPU_VBIOS_<PROJECT>_<SKU>_<CHIP_SKU>_<VBIOS no dots>``."""
    return f"NV_GPU_VBIOS_{project}_{project_sku}_{chip_sku}_{vbios.replace('.', '').upper()}"


def switch_rim_id(project: str, project_sku: str, chip_sku: str, vbios: str) -> str:
    """NVSwitch BIOS RIM id (§5.1)."""
    return f"NV_SWITCH_BIOS_{project}_{project_sku}_{chip_sku}_{vbios.replace('.', '').upper()}"


def looks_like_rim(data: bytes) -> bool:
    """True if ``data`` looks like a SWID RIM (XML) or a RIM-service JSON answer."""
    head = data.lstrip()[:512]
    if head.startswith(b"<"):
        return b"SoftwareIdentity" in data[:4096]
    return head.startswith(b"{") and b'"rim"' in data[:MAX_RIM_BYTES] and b'"id"' in data


def parse_service_response(data: bytes, *, source: str) -> tuple[str, bytes]:
    """``{"id", "rim": base64(XML), …}`` from the RIM service (§5.2) → (id, XML bytes).

    Raises:
        RimMalformedError: not that JSON shape, or the base64 does not decode.
    """
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise RimMalformedError(
            "RIM service answer is not JSON", platform=PLATFORM, field=source
        ) from exc
    if (
        not isinstance(doc, dict)
        or not isinstance(doc.get("id"), str)
        or not isinstance(doc.get("rim"), str)
    ):
        raise RimMalformedError(
            "RIM service answer lacks 'id' or 'rim'", platform=PLATFORM, field=source
        )
    try:
        xml = base64.b64decode(doc["rim"], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise RimMalformedError(
            "RIM service 'rim' is not base64", platform=PLATFORM, field=source
        ) from exc
    return doc["id"], xml


def _bad(message: str, source: str, **kw: object) -> RimMalformedError:
    return RimMalformedError(
        message,
        platform=PLATFORM,
        field=source,
        expected=kw.get("expected"),
        actual=kw.get("actual"),
    )


def _parse_tree(data: bytes, source: str) -> etree._Element:
    if len(data) > MAX_RIM_BYTES:
        raise _bad(
            "RIM is too large",
            source,
            expected=f"<= {MAX_RIM_BYTES} bytes",
            actual=f"{len(data)} bytes",
        )
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise _bad("RIM declares a DOCTYPE or entities", source, expected="no DTD")
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_blank_text=False,
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise _bad(f"RIM is not well-formed XML: {exc}", source) from exc
    if root is None:
        raise _bad("RIM is empty", source)
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        for attr in element.attrib:
            if attr in (f"{{{_XML_NS}}}base", f"{{{_XML_NS}}}id"):
                raise _bad("RIM uses xml:base or xml:id", source, actual=attr)
    return root


def _require(cond: bool, message: str, source: str, expected: object, actual: object) -> None:
    if not cond:
        raise RimAlgorithmError(
            message, platform=PLATFORM, field=source, expected=expected, actual=actual
        )


def _check_signature_shape(root: etree._Element, source: str) -> list[x509.Certificate]:
    """Pin algorithms and the single whole-document reference; return KeyInfo certificates."""
    sigs = root.findall(f".//{{{_DS}}}Signature")
    _require(len(sigs) == 1, "a RIM carries exactly one ds:Signature", source, 1, len(sigs))
    sig = sigs[0]
    _require(
        sig.getparent() is root,
        "ds:Signature must be a child of the root element",
        source,
        "enveloped at the root",
        "elsewhere",
    )
    signed_info = sig.find(f"{{{_DS}}}SignedInfo")
    _require(signed_info is not None, "ds:SignedInfo is missing", source, "SignedInfo", None)
    assert signed_info is not None

    def alg(el: etree._Element | None) -> str | None:
        return None if el is None else el.get("Algorithm")

    c14n = alg(signed_info.find(f"{{{_DS}}}CanonicalizationMethod"))
    _require(c14n == C14N11, "unexpected canonicalization method", source, C14N11, c14n)
    method = alg(signed_info.find(f"{{{_DS}}}SignatureMethod"))
    _require(method == ECDSA_SHA384, "unexpected signature method", source, ECDSA_SHA384, method)
    refs = signed_info.findall(f"{{{_DS}}}Reference")
    _require(len(refs) == 1, "a RIM signature has exactly one Reference", source, 1, len(refs))
    ref = refs[0]
    _require(
        ref.get("URI") == "",
        'the Reference must cover the whole document (URI="")',
        source,
        '""',
        ref.get("URI"),
    )
    transforms = [alg(t) for t in ref.findall(f"{{{_DS}}}Transforms/{{{_DS}}}Transform")]
    _require(
        transforms == [ENVELOPED, C14N11],
        "unexpected reference transforms",
        source,
        f"[{ENVELOPED}, {C14N11}]",
        transforms,
    )
    digest = alg(ref.find(f"{{{_DS}}}DigestMethod"))
    _require(digest == DIGEST_SHA384, "unexpected digest method", source, DIGEST_SHA384, digest)
    _require(
        sig.find(f"{{{_DS}}}Object") is None,
        "ds:Object is not allowed",
        source,
        "none",
        "ds:Object",
    )
    certs: list[x509.Certificate] = []
    for i, el in enumerate(
        sig.findall(f"{{{_DS}}}KeyInfo/{{{_DS}}}X509Data/{{{_DS}}}X509Certificate")
    ):
        try:
            raw = base64.b64decode("".join((el.text or "").split()), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise _bad("KeyInfo certificate is not base64", source) from exc
        try:
            certs.append(load_certificate(raw, role=f"rim.x509[{i}]", platform=PLATFORM))
        except ParseError as exc:
            raise _bad(f"KeyInfo certificate {i} is malformed", source) from exc
    if not certs:
        raise RimChainError(
            "RIM KeyInfo carries no X.509 certificate",
            platform=PLATFORM,
            field=source,
            expected="signer, L3, L2[, root]",
        )
    return certs


def _verify_xmldsig(
    data: bytes, signer: x509.Certificate, source: str, memo: SignatureMemo | None
) -> None:
    key: tuple[bytes, bytes] | None = None
    if memo is not None:
        key = (
            hashlib.sha256(b"rim-xmldsig\x00" + data).digest(),
            hashlib.sha256(der(signer)).digest(),
        )
        if memo.contains(key):
            return
    config = SignatureConfiguration(
        require_x509=True,
        location="./",
        expect_references=1,
        signature_methods=_CONFIG_METHODS,
        digest_algorithms=_CONFIG_DIGESTS,
        # Validity is judged by teeclient's chain check at `now`; signxml only verifies bytes.
        verification_time=signer.not_valid_before_utc,
    )
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        XMLVerifier().verify(data, x509_cert=signer, parser=parser, expect_config=config)
    except InvalidDigest as exc:
        raise RimDigestError(
            "RIM content does not match its signed digest (edited after signing)",
            platform=PLATFORM,
            field=source,
            expected="DigestValue of the document",
        ) from exc
    except InvalidCertificate as exc:
        raise RimChainError(
            f"RIM signer certificate rejected: {exc}", platform=PLATFORM, field=source
        ) from exc
    except InvalidSignature as exc:
        raise RimSignatureError(
            "RIM SignatureValue does not verify with the signer key",
            platform=PLATFORM,
            field=source,
            expected=f"signed by {common_name(signer.subject)}",
        ) from exc
    except InvalidInput as exc:
        raise RimAlgorithmError(
            f"RIM signature rejected: {exc}", platform=PLATFORM, field=source
        ) from exc
    except SignXMLException as exc:
        raise _bad(f"RIM signature cannot be processed: {exc}", source) from exc
    except etree.LxmlError as exc:
        raise _bad(f"RIM cannot be processed: {exc}", source) from exc
    if memo is not None and key is not None:
        memo.add(key)


def _verify_chain(
    certs: list[x509.Certificate], trust: TrustStore, now: datetime, source: str
) -> tuple[tuple[x509.Certificate, ...], x509.Certificate]:
    anchor = trust.require(CORIM_ROOT_ANCHOR, platform=PLATFORM)
    pinned = {der(c) for c in anchor.certificates}
    chain = [c for c in certs if der(c) not in pinned and c.subject != c.issuer]
    if len(chain) < 3:
        raise RimChainError(
            "RIM signer chain is incomplete",
            platform=PLATFORM,
            field=f"{source}.chain",
            expected="L4 signer, L3, L2 (then root)",
            actual=f"{len(chain)} non-root certificate(s)",
        )
    chain = chain[:3]
    roots = [c for c in anchor.certificates if c.subject == chain[-1].issuer]
    if not roots:
        raise RimChainError(
            "RIM chain does not lead to the pinned NVIDIA CoRIM signing root",
            platform=PLATFORM,
            field=f"{source}.chain.L2.issuer",
            expected=", ".join(c.subject.rfc4514_string() for c in anchor.certificates),
            actual=chain[-1].issuer.rfc4514_string(),
        )
    root = roots[0]
    roles = ("L4", "L3", "L2", "root")
    try:
        verify_issued_by(root, root, role=f"{source}.root", platform=PLATFORM, memo=trust.memo)
        for i in (2, 1, 0):
            issuer = root if i == 2 else chain[i + 1]
            verify_issued_by(
                chain[i], issuer, role=f"{source}.{roles[i]}", platform=PLATFORM, memo=trust.memo
            )
        require_ca(root, role=f"{source}.root", platform=PLATFORM)
        require_ca(chain[2], role=f"{source}.L2", platform=PLATFORM)
        require_ca(chain[1], role=f"{source}.L3", platform=PLATFORM)
    except ChainError as exc:
        raise RimChainError(
            f"RIM signer chain is invalid: {exc.message}",
            platform=PLATFORM,
            field=exc.field,
            expected=exc.expected,
            actual=exc.actual,
        ) from exc
    for cert, role in zip((*chain, root), roles, strict=True):
        try:
            check_validity(cert, now, role=f"{source}.{role}", platform=PLATFORM)
        except (ChainExpiredError, ChainNotYetValidError) as exc:
            raise RimCertificateExpiredError(
                f"RIM {role} certificate {common_name(cert.subject)!r} is "
                + ("expired" if isinstance(exc, ChainExpiredError) else "not yet valid")
                + " at the verification time",
                platform=PLATFORM,
                field=exc.field,
                expected=exc.expected,
                actual=exc.actual,
            ) from exc
    return tuple(chain), root


def _entries(root: etree._Element, source: str) -> tuple[RimEntry, ...]:
    payload = root.find(f"{{{_SWID}}}Payload")
    if payload is None:
        raise _bad("RIM has no Payload", source)
    resources = payload.findall(f"{{{_SWID}}}Resource")
    if len(resources) > MAX_RESOURCES:
        raise _bad("RIM has too many resources", source, actual=len(resources))
    out: list[RimEntry] = []
    seen: set[int] = set()
    for res in resources:
        if res.get("type") != "Measurement":
            continue
        try:
            index = int(res.get("index", ""))
            count = int(res.get("alternatives", ""))
            size = int(res.get("size", ""))
        except ValueError as exc:
            raise _bad("RIM resource has a non-integer index/alternatives/size", source) from exc
        active_text = res.get("active")
        if active_text not in ("True", "False") or not 0 <= index < 256 or index in seen:
            raise _bad(
                "RIM resource has an invalid index or active flag",
                source,
                actual=f"index {index}, active {active_text}",
            )
        seen.add(index)
        active = active_text == "True"
        values: list[bytes] = []
        if active:
            if not 1 <= count <= 16 or size != 48:
                raise _bad(
                    "active RIM resource needs 1..16 alternatives of 48 bytes",
                    source,
                    actual=f"index {index}: {count} alternatives, size {size}",
                )
            for i in range(count):
                text = res.get(f"{{{_SHA384_NS}}}Hash{i}")
                if text is None or not _HEX48.fullmatch(text):
                    raise _bad(
                        "active RIM resource has a missing or malformed hash",
                        source,
                        actual=f"index {index} Hash{i}",
                    )
                values.append(bytes.fromhex(text))
        out.append(
            RimEntry(
                index=index,
                name=res.get("name", ""),
                active=active,
                size=size,
                alternatives=tuple(values),
            )
        )
    return tuple(out)


def verify_rim(
    data: bytes,
    *,
    trust: TrustStore,
    now: datetime,
    source: str,
    service_id: str | None = None,
    ocsp_responses: Sequence[OcspResponse] = (),
    ocsp_nonce: bytes | None = None,
) -> VerifiedRim:
    """Verify one RIM (steps 1–5 of the module docstring) at ``now``.

    Raises:
        RimMalformedError, RimAlgorithmError: structure or algorithms.
        RimDigestError, RimSignatureError: the document or SignatureValue was altered.
        RimChainError, RimCertificateExpiredError: the signer chain.
        OcspError: a supplied OCSP response for the chain is not authentic.
    """
    root = _parse_tree(data, source)
    if root.tag != f"{{{_SWID}}}SoftwareIdentity":
        raise _bad("RIM root is not a SWID SoftwareIdentity", source, actual=str(root.tag))
    certs = _check_signature_shape(root, source)
    signer = certs[0]
    # Authenticate the bytes first, then the signer chain, then read the verified document.
    _verify_xmldsig(data, signer, source, trust.memo)
    chain, pinned_root = _verify_chain(certs, trust, now, source)
    meta = root.find(f"{{{_SWID}}}Meta")
    if meta is None or not meta.get("colloquialVersion"):
        raise _bad("RIM has no Meta colloquialVersion", source)
    entries = _entries(root, source)
    checks: list[OcspCheck] = []
    issuers = (chain[1], chain[2], pinned_root)
    for cert, issuer, role in zip(chain, issuers, ("L4", "L3", "L2"), strict=True):
        checks.append(
            ocsp_mod.check_certificate(
                cert,
                issuer,
                ocsp_responses,
                role=f"{source}.{role}",
                now=now,
                nonce=ocsp_nonce,
                memo=trust.memo,
            )
        )
    return VerifiedRim(
        sha256=hashlib.sha256(data).hexdigest(),
        source=source,
        service_id=service_id,
        name=root.get("name", ""),
        colloquial_version=meta.get("colloquialVersion", ""),
        product=meta.get("product", ""),
        edition=meta.get("edition", ""),
        platform_model=meta.get(f"{{{_TCG}}}PlatformModel"),
        manufacturer_id=meta.get(f"{{{_TCG}}}FirmwareManufacturerId"),
        entries=entries,
        chain=chain,
        root=pinned_root,
        ocsp=tuple(checks),
        verified_at=now,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class RimPeek:
    """What an unverified RIM says about itself: names, version and KeyInfo certificates."""

    names: frozenset[str]
    colloquial_version: str
    certificates: tuple[x509.Certificate, ...]

    def matches(self, version: str, chip: str) -> bool:
        """The version and chip test of ``check_rim_matches`` (on unverified content)."""
        wanted = chip.upper().replace("_", "")
        return self.colloquial_version.upper() == version.upper() and wanted in self.names


def peek_rim(data: bytes, *, source: str) -> RimPeek:
    """Read a RIM's names, colloquialVersion and KeyInfo certificates without verifying it
    (the collateral planner uses this to know which RIMs it has and which chains to ask
    OCSP about). The same hardened parser and signature-shape pins as ``verify_rim`` apply.

    Raises:
        RimMalformedError, RimAlgorithmError, RimChainError: not a RIM of the pinned shape.
    """
    root = _parse_tree(data, source)
    certs = _check_signature_shape(root, source)
    meta = root.find(f"{{{_SWID}}}Meta")
    attrs = {str(k): str(v) for k, v in meta.attrib.items()} if meta is not None else {}
    names = (root.get("name", ""), attrs.get("product", ""), attrs.get(f"{{{_TCG}}}PlatformModel"))
    return RimPeek(
        names=frozenset(n.upper().replace("_", "") for n in names if n),
        colloquial_version=attrs.get("colloquialVersion", ""),
        certificates=tuple(certs),
    )


def check_rim_matches(
    rim: VerifiedRim, *, kind: RimKind, rim_id: str, version: str, chip: str
) -> None:
    """Require a RIM to belong to the device: service id, colloquialVersion, chip (§5.5).

    Raises:
        RimMismatchError: a mismatch.
    """
    if rim.service_id is not None and rim.service_id != rim_id:
        raise RimMismatchError(
            "RIM service id does not equal the id built from the report",
            platform=PLATFORM,
            field=f"{kind.value}_rim.id",
            expected=rim_id,
            actual=rim.service_id,
        )
    if rim.colloquial_version.upper() != version.upper():
        raise RimMismatchError(
            "RIM colloquialVersion does not equal the report's version",
            platform=PLATFORM,
            field=f"{kind.value}_rim.colloquialVersion",
            expected=version,
            actual=rim.colloquial_version,
        )
    names = {rim.name.upper(), rim.product.upper(), (rim.platform_model or "").upper()}
    if chip.upper().replace("_", "") not in {n.replace("_", "") for n in names}:
        raise RimMismatchError(
            "RIM is for another chip",
            platform=PLATFORM,
            field=f"{kind.value}_rim.name",
            expected=chip,
            actual=rim.name,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Mismatch:
    """One golden index whose runtime block does not match (NVAT mismatch record)."""

    index: int
    source: RimKind
    golden: tuple[str, ...]
    golden_size: int
    runtime: str | None
    runtime_size: int | None
    nvdec0_skippable: bool = False

    def to_dict(self) -> dict[str, object]:
        """JSON form (NVAT ``x-nvidia-mismatch-measurement-records`` fields)."""
        return {
            "index": self.index,
            "measurementSource": self.source.value,
            "goldenValue": list(self.golden),
            "goldenSize": self.golden_size,
            "runtimeValue": self.runtime,
            "runtimeSize": self.runtime_size,
            "nvdec0_skippable": self.nvdec0_skippable,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Comparison:
    """Result of comparing runtime blocks with golden values (§5.6)."""

    compared: tuple[int, ...]
    conflicts: tuple[int, ...]
    mismatches: tuple[Mismatch, ...]
    nvdec0_disabled: bool


def compare_measurements(
    blocks: dict[int, bytes],
    rims: Sequence[tuple[RimKind, VerifiedRim]],
    *,
    nvdec0_status: int | None,
) -> Comparison:
    """Compare golden index i with SPDM block i+1 over the union of the RIMs' active entries.

    Index 35 is marked skippable (not a failure by NVIDIA's rule) when NVDEC0 is disabled
    (0x55); it is still compared so policy can refuse the skip.
    """
    golden: dict[int, tuple[RimKind, RimEntry]] = {}
    conflicts: list[int] = []
    for kind, rim in rims:
        for index, entry in rim.active().items():
            if index in golden:
                conflicts.append(index)
                continue
            golden[index] = (kind, entry)
    disabled = nvdec0_status == NVDEC0_DISABLED
    mismatches: list[Mismatch] = []
    for index in sorted(golden):
        kind, entry = golden[index]
        runtime = blocks.get(index + 1)
        ok = runtime is not None and len(runtime) == entry.size and runtime in entry.alternatives
        if not ok:
            mismatches.append(
                Mismatch(
                    index=index,
                    source=kind,
                    golden=tuple(v.hex() for v in entry.alternatives),
                    golden_size=entry.size,
                    runtime=None if runtime is None else runtime.hex(),
                    runtime_size=None if runtime is None else len(runtime),
                    nvdec0_skippable=index == NVDEC0_INDEX and disabled,
                )
            )
    return Comparison(
        compared=tuple(sorted(golden)),
        conflicts=tuple(sorted(conflicts)),
        mismatches=tuple(mismatches),
        nvdec0_disabled=disabled,
    )


def describe_rim(data: bytes, *, source: str) -> dict[str, object]:
    """Decode a RIM (XML or service JSON) for ``inspect``; nothing is verified.

    Raises:
        RimMalformedError: not a parseable SWID RIM.
    """
    service_id = None
    if data.lstrip()[:1] == b"{":
        service_id, data = parse_service_response(data, source=source)
    root = _parse_tree(data, source)
    meta = root.find(f"{{{_SWID}}}Meta")
    entries = _entries(root, source)
    sig = root.find(f"{{{_DS}}}Signature")
    signer = None
    if sig is not None:
        try:
            certs = _check_signature_shape(root, source)
            signer = {
                "subject": certs[0].subject.rfc4514_string(),
                "not_after": iso(certs[0].not_valid_after_utc),
                "certificates": len(certs),
            }
        except (RimAlgorithmError, RimMalformedError, RimChainError) as exc:
            signer = {"error": exc.to_dict()}
    return {
        "service_id": service_id,
        "name": root.get("name"),
        "colloquial_version": None if meta is None else meta.get("colloquialVersion"),
        "product": None if meta is None else meta.get("product"),
        "edition": None if meta is None else meta.get("edition"),
        "active": {str(e.index): [v.hex() for v in e.alternatives] for e in entries if e.active},
        "signer": signer,
        "verified": False,
    }
