"""Nitro verification: CA bundle to a pinned AWS root, COSE_Sign1 ES384 signature, field rules.

Pure: inputs (document bytes, trust store, ``now``, optional caller challenge) →
``NitroClaims`` or a typed error. No I/O and no clock. The order follows specs/nitro.md §6
with one deliberate change, as for SEV-SNP: only the envelope, the ``certificate`` and the
``cabundle`` are read before authentication; every other payload field is interpreted after
the chain and the COSE signature verified, so a changed PCR, timestamp or digest is reported
as a signature failure and no decision is taken on unauthenticated content.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import warnings
from datetime import datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, utils
from cryptography.x509.oid import SignatureAlgorithmOID

from teeclient._time import require_aware
from teeclient._x509 import (
    MALFORMED,
    check_validity,
    common_name,
    der,
    names_parsed,
    require_ca,
    verify_issued_by,
)
from teeclient.collateral.items import CollateralSet
from teeclient.errors import (
    ChainExtensionError,
    ChainUntrustedError,
    MalformedCertificateError,
    NitroCertificateMismatchError,
    NitroNonceMismatchError,
    NitroSignatureError,
    ParseError,
)
from teeclient.platforms import VerifyOptions
from teeclient.platforms.nitro import abi
from teeclient.platforms.nitro.claims import NitroCertInfo, NitroClaims
from teeclient.trust import TrustStore

__all__ = ["ROOT_ANCHOR_SUFFIX", "partition_anchor", "verify", "verify_evidence"]

PLATFORM = "nitro"
#: Pinned Nitro roots are the anchors ``<partition>.nitro.root`` (``aws.nitro.root``).
ROOT_ANCHOR_SUFFIX = ".nitro.root"
_LOG = logging.getLogger(__name__)
_ECDSA_SHA384 = SignatureAlgorithmOID.ECDSA_WITH_SHA384
_SIGNATURE_NAMES = {
    oid: name.lower().replace("_", "-")
    for name, oid in vars(SignatureAlgorithmOID).items()
    if isinstance(oid, x509.ObjectIdentifier) and not name.startswith("_")
}
# Extensions teeclient processes; any other *critical* extension rejects (RFC 5280 §4.2).
_UNDERSTOOD_CRITICAL = frozenset({x509.BasicConstraints.oid, x509.KeyUsage.oid})
_REGION = r"[a-z0-9]+(?:-[a-z0-9]+)*"
_MAX_NONCE_TEXT = 64
# Second half of the memo key of a fully checked chain (plus the partition whose pinned root
# anchored it); never a 32-byte certificate hash, so it cannot collide with the (child,
# issuer) signature entries of the same memo.
_CHAIN_MEMO_LABEL = b"teeclient.nitro.chain/v1:"


def partition_anchor(partition: str) -> str:
    """The trust-store anchor name of a partition's pinned root (``aws`` → ``aws.nitro.root``)."""
    return partition + ROOT_ANCHOR_SUFFIX


def _memo_key(chain_key: bytes, partition: str) -> tuple[bytes, bytes]:
    return chain_key, _CHAIN_MEMO_LABEL + partition.encode()


def _remembered_partition(chain_key: bytes, trust: TrustStore) -> str | None:
    """The partition under which this exact chain was fully checked before, if any."""
    for anchor in trust:
        if anchor.name.endswith(ROOT_ANCHOR_SUFFIX):
            partition = anchor.name.removesuffix(ROOT_ANCHOR_SUFFIX)
            if trust.memo.contains(_memo_key(chain_key, partition)):
                return partition
    return None


def _pinned_partition(root_der: bytes, trust: TrustStore) -> str:
    """The partition whose pinned root is byte-equal to ``cabundle[0]`` (specs/nitro.md §3.1)."""
    anchors = [a for a in trust if a.name.endswith(ROOT_ANCHOR_SUFFIX)]
    if not anchors:
        raise ChainUntrustedError(
            "no AWS Nitro root is configured in the trust store",
            platform=PLATFORM,
            field=partition_anchor("aws"),
            expected="a pinned anchor",
            actual="none in the trust store",
        )
    for anchor in anchors:
        if any(der(cert) == root_der for cert in anchor.certificates):
            return anchor.name.removesuffix(ROOT_ANCHOR_SUFFIX)
    raise ChainUntrustedError(
        "cabundle[0] is not a pinned AWS Nitro Enclaves root",
        platform=PLATFORM,
        field="cabundle[0]",
        expected="SHA-256 " + " or ".join(fp for a in anchors for fp in a.fingerprints),
        actual="SHA-256 " + hashlib.sha256(root_der).hexdigest(),
    )


def _decode_names(cert: x509.Certificate, role: str) -> None:
    """Decode subject and issuer (cryptography parses names lazily and raises ValueError)."""
    try:
        with warnings.catch_warnings():
            # e.g. "Attribute's length must be >= 2 and <= 2": the name is rejected below or
            # by the signature check; the warning would only be noise.
            warnings.simplefilter("ignore", UserWarning)
            cert.subject, cert.issuer  # noqa: B018
    except ValueError as exc:
        raise ParseError(
            f"{role} certificate has a malformed name: {exc}", platform=PLATFORM, field=role
        ) from exc


def _extensions(cert: x509.Certificate, role: str) -> x509.Extensions:
    try:
        return cert.extensions
    except (ValueError, x509.DuplicateExtension, x509.UnsupportedGeneralNameType) as exc:
        raise MalformedCertificateError(
            f"{role} certificate has malformed extensions: {exc}", platform=PLATFORM, field=role
        ) from exc


def _check_profile(cert: x509.Certificate, role: str) -> None:
    """X.509 v3, ecdsa-with-SHA384, an EC P-384 key, no critical extension left unprocessed."""
    if cert.version is not x509.Version.v3:
        raise ChainExtensionError(
            f"{role} is not an X.509 v3 certificate",
            platform=PLATFORM,
            field=f"{role}.version",
            expected="v3",
            actual=cert.version.name,
        )
    if cert.signature_algorithm_oid != _ECDSA_SHA384:
        raise ChainExtensionError(
            f"{role} is not signed with ECDSA SHA-384",
            platform=PLATFORM,
            field=f"{role}.signatureAlgorithm",
            expected="ecdsa-with-SHA384",
            actual=_SIGNATURE_NAMES.get(
                cert.signature_algorithm_oid, cert.signature_algorithm_oid.dotted_string
            ),
        )
    try:
        key = cert.public_key()
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise ChainExtensionError(
            f"{role} public key cannot be parsed",
            platform=PLATFORM,
            field=f"{role}.publicKey",
            expected="EC secp384r1",
        ) from exc
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP384R1):
        raise ChainExtensionError(
            f"{role} key is not ECDSA P-384",
            platform=PLATFORM,
            field=f"{role}.publicKey",
            expected="EC secp384r1",
            actual=key.curve.name
            if isinstance(key, ec.EllipticCurvePublicKey)
            else type(key).__name__,
        )
    for ext in _extensions(cert, role):
        if ext.critical and ext.oid not in _UNDERSTOOD_CRITICAL:
            raise ChainExtensionError(
                f"{role} has a critical extension teeclient does not process",
                platform=PLATFORM,
                field=f"{role}.extensions",
                expected="only basicConstraints and keyUsage critical",
                actual=ext.oid.dotted_string,
            )


def _check_path_length(cert: x509.Certificate, role: str, below: int) -> None:
    """The number of CA certificates below ``cert`` must not exceed its pathLenConstraint."""
    limit = cert.extensions.get_extension_for_class(x509.BasicConstraints).value.path_length
    if limit is not None and below > limit:
        raise ChainExtensionError(
            f"{role} path length constraint is exceeded",
            platform=PLATFORM,
            field=f"{role}.basicConstraints.pathLen",
            expected=f">= {below} CA certificate(s) below it",
            actual=str(limit),
        )


def _check_leaf_usage(leaf: x509.Certificate) -> None:
    """The leaf is not a CA and may sign (digitalSignature; specs/nitro.md §3 rules 4–5)."""
    exts = _extensions(leaf, "certificate")
    try:
        ca = exts.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        ca = False
    if ca:
        raise ChainExtensionError(
            "the signing certificate is a CA",
            platform=PLATFORM,
            field="certificate.basicConstraints",
            expected="CA=false",
            actual="CA=true",
        )
    try:
        ku = exts.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound as exc:
        raise ChainExtensionError(
            "the signing certificate has no KeyUsage",
            platform=PLATFORM,
            field="certificate.keyUsage",
            expected="digitalSignature",
            actual="absent",
        ) from exc
    if not ku.digital_signature:
        raise ChainExtensionError(
            "the signing certificate may not sign documents",
            platform=PLATFORM,
            field="certificate.keyUsage",
            expected="digitalSignature",
            actual="digitalSignature not set",
        )


def _verify_chain(
    leaf: x509.Certificate,
    bundle: list[x509.Certificate],
    trust: TrustStore,
    now: datetime,
    *,
    memo_key: tuple[bytes, bytes],
    known: bool,
) -> None:
    """leaf ← cabundle[n-1] ← … ← cabundle[0] (pinned), by hand (specs/nitro.md §3).

    Signatures come first, so any change to a signed byte of a certificate is reported as a
    signature failure; then validity at ``now``, then the certificate profile and constraints.
    Everything but validity depends only on the certificates' bytes: once it has held for a
    chain (``known``), ``trust.memo`` remembers the chain by the SHA-256 of its DER encodings.
    """
    chain = [*bundle, leaf]
    roles = [f"cabundle[{i}]" for i in range(len(bundle))] + ["certificate"]
    if not known:
        for cert, role in zip(chain, roles, strict=True):
            _decode_names(cert, role)
        verify_issued_by(chain[0], chain[0], role=roles[0], platform=PLATFORM)
        for i in range(1, len(chain)):
            verify_issued_by(chain[i], chain[i - 1], role=roles[i], platform=PLATFORM)
    for cert, role in zip(chain, roles, strict=True):
        check_validity(cert, now, role=role, platform=PLATFORM)
    if known:
        return
    for cert, role in zip(chain, roles, strict=True):
        _check_profile(cert, role)
    for i, (cert, role) in enumerate(zip(bundle, roles, strict=False)):
        require_ca(cert, role=role, platform=PLATFORM)
        _check_path_length(cert, role, below=len(bundle) - 1 - i)
    _check_leaf_usage(leaf)
    trust.memo.add(memo_key)


def _verify_signature(cose: abi.CoseSign1, leaf: x509.Certificate) -> None:
    """ES384 over Sig_structure with the leaf key; the signature is raw r ‖ s (RFC 9053 §2.1)."""
    key = leaf.public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey)  # checked in _check_profile
    signature = utils.encode_dss_signature(cose.r, cose.s)
    try:
        key.verify(signature, cose.to_be_signed(), ec.ECDSA(hashes.SHA384()))
    except InvalidSignature as exc:
        raise NitroSignatureError(
            "COSE_Sign1 signature does not verify with the leaf certificate's key",
            platform=PLATFORM,
            field="signature",
            expected=f"valid ES384 signature by {common_name(leaf.subject)}",
        ) from exc


def _check_leaf_name(leaf: x509.Certificate, module_id: str) -> str:
    """The leaf CN is ``<module_id>.<region>.aws`` (specs/nitro.md §3 rule 8); returns region."""
    cn = common_name(leaf.subject) or ""
    match = re.fullmatch(re.escape(module_id) + rf"\.(?P<region>{_REGION})\.[a-z0-9-]+", cn)
    if match is None:
        raise NitroCertificateMismatchError(
            "the signing certificate does not name the document's module_id",
            platform=PLATFORM,
            field="certificate.subject.CN",
            expected=f"{module_id}.<region>.aws",
            actual=cn[:120],
        )
    return match.group("region")


def _short_hex(value: bytes) -> str:
    text = value.hex()
    return text if len(text) <= _MAX_NONCE_TEXT else text[:_MAX_NONCE_TEXT] + "…"


def _check_nonce(doc: abi.AttestationDocument, challenge: bytes | None) -> bool:
    """Constant-time comparison with the caller's challenge (specs/nitro.md §4)."""
    if challenge is None:
        return False
    if doc.nonce is None or not hmac.compare_digest(doc.nonce, challenge):
        raise NitroNonceMismatchError(
            "the document's nonce does not echo the challenge",
            platform=PLATFORM,
            field="nonce",
            expected=_short_hex(challenge),
            actual="absent" if doc.nonce is None else _short_hex(doc.nonce),
        )
    return True


def _load(data: bytes, role: str, digest: bytes, trust: TrustStore) -> x509.Certificate:
    """The certificate parsed from ``data`` (SHA-256 ``digest``), names decoded; parsed once
    per trust store (``trust.parsed`` holds what parsing these exact bytes returns)."""
    key = b"nitro.cert|" + digest
    cached = trust.parsed.get(key)
    if isinstance(cached, x509.Certificate):
        return cached
    try:
        cert = names_parsed(x509.load_der_x509_certificate(data))
    except MALFORMED as exc:
        raise ParseError(
            f"not a DER X.509 certificate: {exc}", platform=PLATFORM, field=role
        ) from exc
    trust.parsed.put(key, cert)
    return cert


def verify(
    document: bytes,
    *,
    trust: TrustStore,
    now: datetime,
    nonce: bytes | None = None,
) -> NitroClaims:
    """Verify an AWS Nitro attestation document and return its claims (specs/nitro.md §6 1–7).

    ``nonce`` is the caller's challenge: when given, the document's ``nonce`` must equal it.

    Raises:
        ParseError: malformed envelope, payload or certificate (``evidence.malformed``).
        NitroUnsupportedAlgorithmError: the COSE algorithm is not ES384.
        ChainError: the CA bundle does not lead from a pinned root to the leaf at ``now``,
            or a certificate breaks the constraints (CA flags, key usage, path length,
            ECDSA P-384/SHA-384).
        NitroSignatureError: the COSE_Sign1 signature does not verify.
        NitroCertificateMismatchError: the leaf does not name the document's module_id.
        NitroNonceMismatchError: ``nonce`` was given and the document does not echo it.
    """
    now = require_aware(now)
    document = bytes(document)
    # 1–2: envelope and algorithm; 3 (part): the certificates needed to authenticate.
    cose = abi.parse_cose_sign1(document)
    raw = abi.decode_payload(cose.payload)
    leaf_der, bundle_der = abi.signing_certificates(raw)
    # 4: the root is pinned, byte for byte (or this exact chain was checked under a pinned
    # root of this trust store before).
    digests = [hashlib.sha256(der).digest() for der in (*bundle_der, leaf_der)]
    chain_key = hashlib.sha256(b"".join(digests)).digest()
    partition = _remembered_partition(chain_key, trust)
    known = partition is not None
    if partition is None:
        partition = _pinned_partition(bundle_der[0], trust)
    leaf = _load(leaf_der, "certificate", digests[-1], trust)
    bundle = [
        _load(der, f"cabundle[{i}]", digest, trust)
        for i, (der, digest) in enumerate(zip(bundle_der, digests, strict=False))
    ]
    # 5: chain signatures, validity at `now`, constraints; 6: the COSE signature.
    _verify_chain(leaf, bundle, trust, now, memo_key=_memo_key(chain_key, partition), known=known)
    _verify_signature(cose, leaf)
    # 3 (rest): interpret the authenticated payload; consistency; 7: the caller's challenge.
    doc = abi.parse_attestation(raw)
    region = _check_leaf_name(leaf, doc.module_id)
    nonce_verified = _check_nonce(doc, nonce)
    roles = ["root", *(f"cabundle[{i}]" for i in range(1, len(bundle))), "certificate"]
    infos = [
        NitroCertInfo(
            role=role,
            der=der,
            sha256=digest.hex(),
            not_before=cert.not_valid_before_utc,
            not_after=cert.not_valid_after_utc,
        )
        for role, der, digest, cert in zip(
            roles, (*bundle_der, leaf_der), digests, (*bundle, leaf), strict=True
        )
    ]
    return NitroClaims(
        module_id=doc.module_id,
        digest=doc.digest,
        timestamp_ms=doc.timestamp_ms,
        pcrs=tuple((i, v.hex()) for i, v in doc.pcrs),
        public_key=doc.public_key.hex() if doc.public_key is not None else None,
        user_data=doc.user_data.hex() if doc.user_data is not None else None,
        nonce=doc.nonce.hex() if doc.nonce is not None else None,
        nonce_verified=nonce_verified,
        partition=partition,
        region=region,
        certificate=infos[-1],
        chain=tuple(reversed(infos)),
        cose_tagged=cose.tagged,
        null_fields=doc.null_keys,
        unknown_fields=doc.unknown_keys,
        document_sha256=hashlib.sha256(document).hexdigest(),
        payload_sha256=hashlib.sha256(cose.payload).hexdigest(),
    )


def verify_evidence(
    data: bytes,
    *,
    collateral: CollateralSet,
    trust: TrustStore,
    now: datetime,
    options: VerifyOptions,
) -> NitroClaims:
    """Registry entry point (see ``teeclient.platforms.verify_evidence``).

    Nitro documents carry their whole chain; collateral is not used (AWS CRLs are not
    checked, specs/nitro.md §3 rule 7, and the appraisal says so).
    """
    if len(collateral):
        _LOG.info(
            "Nitro documents carry their own chain: %d collateral item(s) not used", len(collateral)
        )
    return verify(data, trust=trust, now=now, nonce=options.nonce)
