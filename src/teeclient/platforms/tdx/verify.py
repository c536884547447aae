"""Intel TDX verification: PCK chain, QE report, quote signature, collateral, TCB status.

Pure: inputs (quote bytes, collateral, trust store, ``now``) → ``TdxClaims`` or a typed error.
No I/O and no clock. The steps are those of specs/tdx.md §7 (Intel QVL ``QuoteVerifier``
4.1.2.4.4–4.1.2.4.17), reordered in one deliberate way: everything that authenticates the
quote itself (PCK chain, QE report signature, attestation-key binding, quote signature) runs
before any collateral is read, so a tampered quote is reported as evidence that does not
verify, whatever collateral came with it. Collateral is then authenticated (issuer chains to
the pinned root, signatures over the exact signed bytes, CRLs) before any of it is read.
Whether the collateral and CRLs are fresh at ``now`` is recorded in the claims and judged by
policy (``tdx.collateral.*``, ``tdx.revocation.*``), so offline bundles can be given a grace.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, utils

from teeclient._time import require_aware
from teeclient._x509 import (
    check_validity,
    common_name,
    der,
    fingerprint,
    load_certificate,
    require_ca,
    require_der_crl_signature,
    require_not_revoked,
    verify_issued_by,
)
from teeclient.collateral.items import CollateralSet
from teeclient.errors import (
    ChainError,
    ChainExtensionError,
    ChainUntrustedError,
    CollateralSignatureError,
    MalformedCertificateError,
    TdxAttestationKeyBindingError,
    TdxCollateralChainError,
    TdxCollateralMalformedError,
    TdxCollateralMissingError,
    TdxQeIdentityMismatchError,
    TdxQeReportSignatureError,
    TdxQuoteSignatureError,
    TdxTcbInfoMismatchError,
    UnsupportedFormatError,
)
from teeclient.platforms import VerifyOptions
from teeclient.platforms.tdx import abi, pcs
from teeclient.platforms.tdx.claims import (
    CollateralInfo,
    PckInfo,
    QeReportInfo,
    RevocationInfo,
    TdxClaims,
)
from teeclient.platforms.tdx.collateral import (
    SignedItem,
    TdxCollateral,
    TdxCrl,
    collateral_key,
    gather,
)
from teeclient.platforms.tdx.pck import PckExtensions, parse_pck_extensions
from teeclient.platforms.tdx.tcb import TcbInputs, evaluate_tcb
from teeclient.trust import INTEL_SGX_ROOT, TrustStore

__all__ = ["verify", "verify_evidence"]

T = TypeVar("T")

PLATFORM = "tdx"
PCK_CAS = {"Intel SGX PCK Platform CA": "platform", "Intel SGX PCK Processor CA": "processor"}
PCK_LEAF_CN = "Intel SGX PCK Certificate"
TCB_SIGNING_CN = "Intel SGX TCB Signing"
_KIND_LABEL = {"tcb_info": "TCB Info", "qe_identity": "QE Identity"}


@dataclass(frozen=True, slots=True)
class _Chain:
    leaf: x509.Certificate
    intermediate: x509.Certificate
    root: x509.Certificate
    ca: str
    fingerprints: tuple[str, str, str]
    leaf_key: ec.EllipticCurvePublicKey


def _raw_signature(raw: bytes) -> bytes:
    """DER ECDSA signature from raw big-endian ``r‖s`` (32 bytes each)."""
    return utils.encode_dss_signature(
        int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:64], "big")
    )


def _p256_key(cert: x509.Certificate, role: str) -> ec.EllipticCurvePublicKey:
    try:
        key = cert.public_key()
    except ValueError as exc:
        raise ChainExtensionError(
            f"{role} public key cannot be parsed",
            platform=PLATFORM,
            field=f"{role}.publicKey",
            expected="EC P-256",
        ) from exc
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise ChainExtensionError(
            f"{role} key is not ECDSA P-256",
            platform=PLATFORM,
            field=f"{role}.publicKey",
            expected="EC P-256",
            actual=type(key).__name__,
        )
    return key


def _well_formed(cert: x509.Certificate, role: str) -> x509.Certificate:
    """Decode the lazily parsed parts (names, extensions) now, so a malformed certificate is a
    typed error here and never a ValueError later."""
    try:
        _ = cert.subject, cert.issuer, cert.extensions
    except (ValueError, x509.DuplicateExtension) as exc:
        raise MalformedCertificateError(
            f"{role} certificate cannot be decoded: {exc}", platform=PLATFORM, field=role
        ) from exc
    return cert


def _require_not_ca(cert: x509.Certificate, role: str) -> None:
    try:
        bc = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        return
    if bc.ca:
        raise ChainExtensionError(
            f"{role} certificate must not be a CA",
            platform=PLATFORM,
            field=f"{role}.basicConstraints",
            expected="CA=false",
            actual="CA=true",
        )


# --- 3. the PCK chain ------------------------------------------------------------------------


def _verify_pck_chain(quote: abi.Quote, trust: TrustStore, now: datetime) -> _Chain:
    """PCK leaf ← PCK CA ← Intel SGX Root CA (pinned), at ``now`` (tdx.md §2, §7 step 3).

    Everything but the validity windows depends only on the three certificates and the pinned
    root, so a chain that passed those checks is remembered by content; the windows are
    checked at ``now`` on every call.
    """
    anchor = trust.require(INTEL_SGX_ROOT, platform=PLATFORM)
    key = hashlib.sha256(
        b"tdx.pck-chain|"
        + "|".join(anchor.fingerprints).encode()
        + b"".join(hashlib.sha256(b).digest() for b in quote.pck_chain_der)
    )
    cached = trust.parsed.get(key.digest())
    if isinstance(cached, _Chain):
        check_validity(cached.root, now, role="Intel SGX Root CA", platform=PLATFORM)
        check_validity(cached.intermediate, now, role="PCK CA", platform=PLATFORM)
        check_validity(cached.leaf, now, role="PCK", platform=PLATFORM)
        return cached
    chain = _check_pck_chain(quote, trust, now)
    trust.parsed.put(key.digest(), chain)
    return chain


def _check_pck_chain(quote: abi.Quote, trust: TrustStore, now: datetime) -> _Chain:
    anchor = trust.require(INTEL_SGX_ROOT, platform=PLATFORM)
    certs = [
        _well_formed(load_certificate(block, role=role, platform=PLATFORM), role)
        for block, role in zip(quote.pck_chain_der, ("PCK", "PCK CA", "root"), strict=True)
    ]
    leaf, inter, root = certs
    if not anchor.contains(root):
        raise ChainUntrustedError(
            "the root of the quote's PCK chain is not the pinned Intel SGX Root CA",
            platform=PLATFORM,
            field="pck_chain.root",
            expected=", ".join(anchor.fingerprints),
            actual=fingerprint(root),
        )
    memo = trust.memo
    # Signatures first (memoised by content hash), then validity at `now` (never memoised).
    verify_issued_by(root, root, role="Intel SGX Root CA", platform=PLATFORM, memo=memo)
    verify_issued_by(inter, root, role="PCK CA", platform=PLATFORM, memo=memo)
    verify_issued_by(leaf, inter, role="PCK", platform=PLATFORM, memo=memo)
    check_validity(root, now, role="Intel SGX Root CA", platform=PLATFORM)
    check_validity(inter, now, role="PCK CA", platform=PLATFORM)
    check_validity(leaf, now, role="PCK", platform=PLATFORM)
    require_ca(root, role="Intel SGX Root CA", platform=PLATFORM)
    require_ca(inter, role="PCK CA", platform=PLATFORM, path_length=0)
    ca_name = common_name(inter.subject) or ""
    if ca_name not in PCK_CAS:
        raise ChainExtensionError(
            "PCK CA is neither the Platform nor the Processor CA",
            platform=PLATFORM,
            field="PCK CA.subject.CN",
            expected=" or ".join(PCK_CAS),
            actual=ca_name,
        )
    leaf_cn = common_name(leaf.subject) or ""
    if PCK_LEAF_CN not in leaf_cn:  # Intel QVL 4.1.2.4.4
        raise ChainExtensionError(
            "PCK certificate common name is wrong",
            platform=PLATFORM,
            field="PCK.subject.CN",
            expected=f"contains {PCK_LEAF_CN!r}",
            actual=leaf_cn,
        )
    _require_not_ca(leaf, "PCK")
    leaf_key = _p256_key(leaf, "PCK")
    digests = tuple(hashlib.sha256(b).hexdigest() for b in quote.pck_chain_der)
    return _Chain(
        leaf=leaf,
        intermediate=inter,
        root=root,
        ca=PCK_CAS[ca_name],
        fingerprints=(digests[0], digests[1], digests[2]),
        leaf_key=leaf_key,
    )


# --- 10, 11, 13: QE report, binding, quote signature ----------------------------------------


def _verify_qe_report(quote: abi.Quote, chain: _Chain) -> None:
    key = chain.leaf_key
    try:
        key.verify(
            _raw_signature(quote.qe_report_signature),
            quote.qe_report.raw,
            ec.ECDSA(hashes.SHA256()),
        )
    except InvalidSignature as exc:
        raise TdxQeReportSignatureError(
            "QE report signature does not verify with the PCK certificate's key",
            platform=PLATFORM,
            field="qe_report_signature",
            expected=f"ECDSA P-256 signature by PCK {chain.fingerprints[0][:16]}…",
        ) from exc


def _check_binding(quote: abi.Quote) -> None:
    digest = hashlib.sha256(quote.attestation_key + quote.qe_auth_data).digest()
    data = quote.qe_report.report_data
    if not hmac.compare_digest(data[:32], digest) or any(data[32:]):
        raise TdxAttestationKeyBindingError(
            "QE report data does not bind the attestation key",
            platform=PLATFORM,
            field="qe_report.REPORTDATA",
            expected=digest.hex() + "00" * 32,
            actual=data.hex(),
        )


def _verify_quote_signature(quote: abi.Quote) -> None:
    try:
        key = ec.EllipticCurvePublicKey.from_encoded_point(
            ec.SECP256R1(), b"\x04" + quote.attestation_key
        )
    except ValueError as exc:
        raise TdxQuoteSignatureError(
            "attestation key is not a valid P-256 point",
            platform=PLATFORM,
            field="attestation_key",
            actual=quote.attestation_key.hex()[:32] + "…",
        ) from exc
    try:
        key.verify(_raw_signature(quote.signature), quote.signed_bytes, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature as exc:
        raise TdxQuoteSignatureError(
            "quote signature does not verify with the attestation key",
            platform=PLATFORM,
            field="quote_signature",
            expected=f"ECDSA P-256 signature over quote[0:{quote.signed_size}]",
        ) from exc


# --- 4, 5: CRLs --------------------------------------------------------------------------------


def _crl_authentic(entry: TdxCrl, issuer: x509.Certificate, role: str, trust: TrustStore) -> str:
    """Verify the CRL's signature by ``issuer`` (memoised by content); return its SHA-256."""
    crl = entry.crl
    digest = entry.sha256
    key = (
        hashlib.sha256(b"crl|" + bytes.fromhex(digest)).digest(),
        hashlib.sha256(der(issuer)).digest(),
    )
    if trust.memo.contains(key):
        return digest
    require_der_crl_signature(crl, role=role, platform=PLATFORM)
    try:
        valid = crl.is_signature_valid(issuer.public_key())  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise CollateralSignatureError(
            f"{role} signature cannot be checked: {exc}", platform=PLATFORM, field=role
        ) from exc
    if not valid:
        raise CollateralSignatureError(
            f"{role} signature does not verify under its issuer's key",
            platform=PLATFORM,
            field=f"{role}.signature",
            expected=f"signed by {common_name(issuer.subject)}",
        )
    trust.memo.add(key)
    return digest


def _apply_crls(
    coll: TdxCollateral,
    issuer: x509.Certificate,
    targets: list[tuple[x509.Certificate, str]],
    role: str,
    trust: TrustStore,
) -> tuple[RevocationInfo, list[x509.CertificateRevocationList]]:
    subject = issuer.subject
    relevant = [entry for entry in coll.crls if entry.crl.issuer == subject]
    best: RevocationInfo | None = None
    for entry in relevant:
        crl, source = entry.crl, entry.source
        digest = _crl_authentic(entry, issuer, role, trust)
        for cert, cert_role in targets:
            require_not_revoked(crl, cert, role=cert_role, platform=PLATFORM)
        info = RevocationInfo(
            checked=True,
            issuer=issuer.subject.rfc4514_string(),
            crl_sha256=digest,
            this_update=crl.last_update_utc,
            next_update=crl.next_update_utc,
            source=source,
        )
        if best is None or (
            info.this_update and best.this_update and info.this_update > best.this_update
        ):
            best = info
    if best is None:
        return RevocationInfo(checked=False, issuer=issuer.subject.rfc4514_string()), []
    return best, [entry.crl for entry in relevant]


_CrlResult = tuple[RevocationInfo, list[x509.CertificateRevocationList]]


def _crls_cached(trust: TrustStore, key: bytes, apply: Callable[[], _CrlResult]) -> _CrlResult:
    """Applying fixed CRLs to fixed certificates always gives the same (successful) answer."""
    digest = hashlib.sha256(b"tdx.crls|" + key).digest()
    cached = trust.parsed.get(digest)
    if cached is not None:
        return cached  # type: ignore[return-value]
    result = apply()
    trust.parsed.put(digest, result)
    return result


# --- 6, 7: signed JSON collateral ----------------------------------------------------------


def _prepared(collateral: CollateralSet, trust: TrustStore) -> TdxCollateral:
    """``gather`` the collateral and compare supplied roots with the pinned one (cached by the
    collateral's content and the pinned root)."""
    anchor = trust.require(INTEL_SGX_ROOT, platform=PLATFORM)
    key = hashlib.sha256(collateral_key(collateral) + "|".join(anchor.fingerprints).encode())
    cached = trust.parsed.get(b"tdx.prepared|" + key.digest())
    if isinstance(cached, TdxCollateral):
        return cached
    coll = gather(collateral)
    _check_supplied_roots([c for c, _ in coll.certificates], trust)
    trust.parsed.put(b"tdx.prepared|" + key.digest(), coll)
    return coll


def _cached_parse(trust: TrustStore, kind: str, data: bytes, parse: Callable[[bytes], T]) -> T:
    """Parse authenticated bytes once per trust store (keyed by their SHA-256)."""
    key = f"tdx.{kind}|".encode() + hashlib.sha256(data).digest()
    cached = trust.parsed.get(key)
    if cached is not None:
        return cached  # type: ignore[return-value]
    value = parse(data)
    trust.parsed.put(key, value)
    return value


def _check_supplied_roots(certs: list[x509.Certificate], trust: TrustStore) -> None:
    anchor = trust.require(INTEL_SGX_ROOT, platform=PLATFORM)
    subjects = {c.subject for c in anchor.certificates}
    for cert in certs:
        if cert.subject in subjects and not anchor.contains(cert):
            raise TdxCollateralChainError(
                "a supplied Intel SGX Root CA differs from the pinned one",
                platform=PLATFORM,
                field="issuer_chain.root",
                expected=", ".join(anchor.fingerprints),
                actual=fingerprint(cert),
            )


def _check_signer(
    cert: x509.Certificate,
    root: x509.Certificate,
    root_crls: list[x509.CertificateRevocationList],
    trust: TrustStore,
    now: datetime,
) -> None:
    """The TCB Signing certificate chains to the pinned root at ``now`` and is not revoked."""
    role = "TCB Signing"
    try:
        verify_issued_by(cert, root, role=role, platform=PLATFORM, memo=trust.memo)
        check_validity(cert, now, role=role, platform=PLATFORM)
        cn = common_name(cert.subject) or ""
        if cn != TCB_SIGNING_CN:
            raise ChainExtensionError(
                "collateral signer is not the Intel SGX TCB Signing certificate",
                platform=PLATFORM,
                field=f"{role}.subject.CN",
                expected=TCB_SIGNING_CN,
                actual=cn,
            )
        _require_not_ca(cert, role)
        _p256_key(cert, role)
        for crl in root_crls:
            require_not_revoked(crl, cert, role=role, platform=PLATFORM)
    except ChainError as exc:
        raise TdxCollateralChainError(
            f"collateral issuer chain is not valid: {exc.message}",
            platform=PLATFORM,
            field=exc.field,
            expected=exc.expected,
            actual=exc.actual,
        ) from exc


def _verify_json_signature(item: SignedItem, signer: x509.Certificate, trust: TrustStore) -> None:
    signed = item.signed
    key = (
        hashlib.sha256(b"tdx-json|" + signed.signature + signed.signed).digest(),
        hashlib.sha256(der(signer)).digest(),
    )
    if trust.memo.contains(key):
        return
    public = _p256_key(signer, "TCB Signing")
    label = _KIND_LABEL[signed.kind]
    try:
        public.verify(_raw_signature(signed.signature), signed.signed, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature as exc:
        raise CollateralSignatureError(
            f"{label} signature does not verify under the Intel SGX TCB Signing key",
            platform=PLATFORM,
            field=f"{signed.kind}.signature",
            expected=f"signed by {fingerprint(signer)[:16]}…",
            actual=signed.source,
        ) from exc
    trust.memo.add(key)


def _authenticate(
    item: SignedItem,
    coll: TdxCollateral,
    root: x509.Certificate,
    root_crls: list[x509.CertificateRevocationList],
    trust: TrustStore,
    now: datetime,
) -> tuple[x509.Certificate, int]:
    """Find the signer (the delivered chain first, else the supplied certificates), check its
    chain at ``now``, and verify the signature over the exact signed bytes; return the signer
    and how many candidate signers there were.
    """
    label = _KIND_LABEL[item.signed.kind]
    if item.chain is not None:
        # (every delivered chain is also in the certificate pool, whose copies of the root were
        # compared with the pinned one before any collateral was read)
        pool = [c for c in item.chain if c.subject != root.subject]
    else:
        pool = [c for c, _ in coll.certificates if common_name(c.subject) == TCB_SIGNING_CN]
    unique: dict[bytes, x509.Certificate] = {}
    for cert in pool:
        unique.setdefault(der(cert), cert)
    candidates = sorted(
        unique.values(),
        key=lambda c: (
            not c.not_valid_before_utc <= now <= c.not_valid_after_utc,
            -c.not_valid_before_utc.timestamp(),
        ),
    )
    if not candidates:
        raise TdxCollateralMissingError(
            f"no issuer chain was supplied for the {label}",
            platform=PLATFORM,
            field=f"{item.signed.kind}.issuer_chain",
            expected="the Intel SGX TCB Signing certificate (PCS TCB-Info-Issuer-Chain / "
            "SGX-Enclave-Identity-Issuer-Chain)",
            actual="none",
        )
    first: TdxCollateralChainError | CollateralSignatureError | None = None
    for cert in candidates:
        try:
            _check_signer(cert, root, root_crls, trust, now)
            _verify_json_signature(item, cert, trust)
        except (TdxCollateralChainError, CollateralSignatureError) as exc:
            first = first or exc
            continue
        return cert, len(candidates)
    assert first is not None
    raise first


def _peek(item: SignedItem, member: str) -> object:
    try:
        data = pcs.load_json(item.signed.signed, field="peek")
    except TdxCollateralMalformedError:
        return None
    return data.get(member) if isinstance(data, dict) else None


def _select_tcb_info(
    coll: TdxCollateral,
    ext: PckExtensions,
    root: x509.Certificate,
    root_crls: list[x509.CertificateRevocationList],
    trust: TrustStore,
    now: datetime,
) -> tuple[pcs.TcbInfo, CollateralInfo, x509.Certificate, bool]:
    fmspc = ext.fmspc.hex()
    # Pick by the (not yet authenticated) FMSPC; the pick is then fully verified, so a wrong
    # pick can only fail, never pass.
    items = [i for i in coll.tcb_infos if _hex_equals(_peek(i, "fmspc"), ext.fmspc)]
    if not items:
        supplied = sorted({str(_peek(i, "fmspc")).lower() for i in coll.tcb_infos})
        raise TdxCollateralMissingError(
            f"collateral missing for FMSPC {fmspc}: no TCB Info for this platform was supplied",
            platform=PLATFORM,
            field="tcb_info",
            expected=f"TDX TCB Info for FMSPC {fmspc}",
            actual=("TCB Info for FMSPC " + ", ".join(supplied)) if supplied else "none",
        )
    chosen: list[tuple[pcs.TcbInfo, CollateralInfo]] = []
    signers: list[tuple[x509.Certificate, int]] = []
    for item in items:
        signer, count = _authenticate(item, coll, root, root_crls, trust, now)
        signers.append((signer, count))
        info = _cached_parse(trust, "tcb_info", item.signed.signed, pcs.parse_tcb_info)
        chosen.append(
            (
                info,
                _collateral_info(
                    item,
                    info.id,
                    info.version,
                    info.issue_date,
                    info.next_update,
                    info.tcb_evaluation_data_number,
                    signer,
                ),
            )
        )
    best = max(range(len(chosen)), key=lambda i: _preference(chosen[i][1], now))
    info, meta = chosen[best]
    if info.fmspc != ext.fmspc:  # Intel QVL 4.1.2.4.10 (bytes; hex case is irrelevant)
        raise TdxCollateralMissingError(
            f"collateral missing for FMSPC {fmspc}: the TCB Info supplied is for "
            f"FMSPC {info.fmspc.hex()}",
            platform=PLATFORM,
            field="tcb_info.fmspc",
            expected=fmspc,
            actual=info.fmspc.hex(),
        )
    if info.pce_id != ext.pce_id:
        raise TdxTcbInfoMismatchError(
            "TCB Info PCE ID differs from the PCK certificate's",
            platform=PLATFORM,
            field="tcb_info.pceId",
            expected=ext.pce_id.hex(),
            actual=info.pce_id.hex(),
        )
    static = len(items) == 1 and signers[0][1] == 1
    return info, meta, signers[best][0], static


def _select_qe_identity(
    coll: TdxCollateral,
    root: x509.Certificate,
    root_crls: list[x509.CertificateRevocationList],
    trust: TrustStore,
    now: datetime,
) -> tuple[pcs.QeIdentity, CollateralInfo, x509.Certificate, bool]:
    items = list(coll.qe_identities)
    if len(items) > 1:
        items = [i for i in items if _peek(i, "id") == "TD_QE"]
    if not items:
        found = sorted({str(_peek(i, "id")) for i in coll.qe_identities})
        raise TdxCollateralMissingError(
            "collateral missing: no TD QE Identity was supplied",
            platform=PLATFORM,
            field="qe_identity",
            expected="QE Identity with id TD_QE (PCS /tdx/.../qe/identity)",
            actual=("identities " + ", ".join(found)) if found else "none",
        )
    chosen: list[tuple[pcs.QeIdentity, CollateralInfo]] = []
    signers: list[tuple[x509.Certificate, int]] = []
    for item in items:
        signer, count = _authenticate(item, coll, root, root_crls, trust, now)
        signers.append((signer, count))
        ident = _cached_parse(trust, "qe_identity", item.signed.signed, pcs.parse_qe_identity)
        chosen.append(
            (
                ident,
                _collateral_info(
                    item,
                    ident.id,
                    ident.version,
                    ident.issue_date,
                    ident.next_update,
                    ident.tcb_evaluation_data_number,
                    signer,
                ),
            )
        )
    best = max(range(len(chosen)), key=lambda i: _preference(chosen[i][1], now))
    static = len(items) == 1 and signers[0][1] == 1
    return chosen[best][0], chosen[best][1], signers[best][0], static


@dataclass(frozen=True, slots=True)
class _Selected:
    value: object
    meta: CollateralInfo
    signer: x509.Certificate


def _selected(
    trust: TrustStore,
    key: bytes,
    now: datetime,
    select: Callable[[], tuple[T, CollateralInfo, x509.Certificate, bool]],
) -> tuple[T, CollateralInfo]:
    """Run ``select`` or reuse its result for the same collateral: the choice, the signatures
    and the revocation of the signer depend only on the collateral's bytes when there was a
    single candidate (and a single signer); the signer's validity at ``now`` is re-checked."""
    cached = trust.parsed.get(key)
    if isinstance(cached, _Selected):
        try:
            check_validity(cached.signer, now, role="TCB Signing", platform=PLATFORM)
        except ChainError as exc:
            raise TdxCollateralChainError(
                f"collateral issuer chain is not valid: {exc.message}",
                platform=PLATFORM,
                field=exc.field,
                expected=exc.expected,
                actual=exc.actual,
            ) from exc
        return cached.value, cached.meta  # type: ignore[return-value]
    value, meta, signer, static = select()
    if static:
        trust.parsed.put(key, _Selected(value=value, meta=meta, signer=signer))
    return value, meta


def _hex_equals(value: object, want: bytes) -> bool:
    if not isinstance(value, str) or len(value) != 2 * len(want):
        return False
    try:
        return bytes.fromhex(value) == want
    except ValueError:
        return False


def _preference(meta: CollateralInfo, now: datetime) -> tuple[bool, int, float]:
    fresh = meta.issue_date <= now <= meta.next_update
    return fresh, meta.tcb_evaluation_data_number, meta.issue_date.timestamp()


def _collateral_info(
    item: SignedItem,
    ident: str,
    version: int,
    issue: datetime,
    next_update: datetime,
    number: int,
    signer: x509.Certificate,
) -> CollateralInfo:
    return CollateralInfo(
        id=ident,
        version=version,
        issue_date=issue,
        next_update=next_update,
        tcb_evaluation_data_number=number,
        sha256=hashlib.sha256(item.signed.signed).hexdigest(),
        signer_sha256=fingerprint(signer),
        source=item.signed.source,
    )


# --- 12: QE identity ---------------------------------------------------------------------------


def _check_qe_identity(report: abi.EnclaveReport, identity: pcs.QeIdentity) -> None:
    """EnclaveReportVerifier 4.1.2.9.5–4.1.2.9.8 (masks applied as Intel does)."""
    mask = int.from_bytes(identity.miscselect_mask, "little")
    misc = int.from_bytes(identity.miscselect, "little")

    def mismatch(field: str, expected: str, actual: str) -> TdxQeIdentityMismatchError:
        return TdxQeIdentityMismatchError(
            f"QE report {field} does not match the QE Identity",
            platform=PLATFORM,
            field=f"qe_report.{field}",
            expected=expected,
            actual=actual,
        )

    if report.misc_select & mask != misc:
        raise mismatch(
            "MISCSELECT", f"{misc:#010x} under mask {mask:#010x}", f"{report.misc_select:#010x}"
        )
    masked = bytes(a & m for a, m in zip(report.attributes, identity.attributes_mask, strict=True))
    if masked != identity.attributes:
        raise mismatch(
            "ATTRIBUTES",
            f"{identity.attributes.hex()} under mask {identity.attributes_mask.hex()}",
            report.attributes.hex(),
        )
    if not hmac.compare_digest(report.mr_signer, identity.mrsigner):
        raise mismatch("MRSIGNER", identity.mrsigner.hex(), report.mr_signer.hex())
    if report.isv_prod_id != identity.isvprodid:
        raise mismatch("ISVPRODID", str(identity.isvprodid), str(report.isv_prod_id))


# --- entry points -----------------------------------------------------------------------------


def verify(
    evidence: bytes,
    *,
    trust: TrustStore,
    now: datetime,
    collateral: CollateralSet | None = None,
) -> TdxClaims:
    """Verify a TDX quote with Intel collateral and return its claims (specs/tdx.md §7).

    Raises:
        ParseError / UnsupportedFormatError: malformed or unsupported quote.
        ChainError: the PCK chain does not lead to the pinned Intel root at ``now``, or the
            PCK / PCK CA is revoked by a supplied CRL.
        TdxQeReportSignatureError, TdxQuoteSignatureError: a signature does not verify.
        TdxAttestationKeyBindingError, TdxQeIdentityMismatchError: the QE does not vouch for
            the attestation key, or is not Intel's TD QE.
        CollateralError: TCB Info or QE Identity missing, malformed, badly signed, with an
            invalid issuer chain, or for another platform; a CRL with a bad signature.
    """
    now = require_aware(now)
    # 1–2: structure (versions, sizes, certification data types, three PEM certificates).
    quote = abi.parse_quote(evidence)
    # 3, 10, 11, 13: authenticate the quote (no collateral needed).
    chain = _verify_pck_chain(quote, trust, now)
    ext = _cached_parse(trust, "pck", der(chain.leaf), lambda _: parse_pck_extensions(chain.leaf))
    _verify_qe_report(quote, chain)
    _check_binding(quote)
    _verify_quote_signature(quote)
    if quote.header.qe_vendor_id != abi.INTEL_QE_VENDOR_ID:
        raise UnsupportedFormatError(
            "quote was not produced by Intel's Quoting Enclave",
            platform=PLATFORM,
            field="header.qe_vendor_id",
            expected=abi.INTEL_QE_VENDOR_ID.hex(),
            actual=quote.header.qe_vendor_id.hex(),
        )
    # 4–5: revocation lists (the PCK CRL must be issued by the PCK leaf's issuer).
    coll = _prepared(collateral if collateral is not None else CollateralSet(), trust)
    fps = chain.fingerprints
    root_crl, root_crls = _crls_cached(
        trust,
        coll.key + f"root|{fps[2]}|{fps[1]}".encode(),
        lambda: _apply_crls(
            coll, chain.root, [(chain.intermediate, "PCK CA")], "Intel SGX Root CA CRL", trust
        ),
    )
    pck_crl, _ = _crls_cached(
        trust,
        coll.key + f"pck|{fps[1]}|{fps[0]}".encode(),
        lambda: _apply_crls(coll, chain.intermediate, [(chain.leaf, "PCK")], "PCK CRL", trust),
    )
    # 6–8: TCB Info and QE Identity, authenticated, bound to the PCK's FMSPC and PCE ID.
    base = coll.key + chain.fingerprints[2].encode()
    tcb_info, tcb_meta = _selected(
        trust,
        hashlib.sha256(b"tdx.tcb-info|" + base + ext.fmspc + ext.pce_id).digest(),
        now,
        lambda: _select_tcb_info(coll, ext, chain.root, root_crls, trust, now),
    )
    qe_identity, qe_meta = _selected(
        trust,
        hashlib.sha256(b"tdx.qe-identity|" + base).digest(),
        now,
        lambda: _select_qe_identity(coll, chain.root, root_crls, trust, now),
    )
    # 12: the QE is Intel's TD QE.
    _check_qe_identity(quote.qe_report, qe_identity)
    # 9, 14: module identity and the converged TCB status.
    body = quote.body
    evaluation = evaluate_tcb(
        tcb_info,
        qe_identity,
        TcbInputs(
            quote_version=quote.version,
            td15=body.is_td15,
            pck_components=ext.sgx_tcb_components,
            pck_pce_svn=ext.pce_svn,
            tee_tcb_svn=body.tee_tcb_svn,
            tee_tcb_svn2=body.tee_tcb_svn2,
            mr_signer_seam=body.mr_signer_seam,
            seam_attributes=body.seam_attributes,
            qe_isvsvn=quote.qe_report.isv_svn,
        ),
    )
    leaf = chain.leaf
    return TdxClaims(
        quote_version=quote.version,
        body_type=int(body.body_type),
        att_key_type=quote.header.att_key_type,
        tee_type=quote.header.tee_type,
        qe_vendor_id=quote.header.qe_vendor_id.hex(),
        user_data=quote.header.user_data.hex(),
        tee_tcb_svn=body.tee_tcb_svn.hex(),
        tee_tcb_svn2=body.tee_tcb_svn2.hex() if body.tee_tcb_svn2 is not None else None,
        mr_seam=body.mr_seam.hex(),
        mr_signer_seam=body.mr_signer_seam.hex(),
        seam_attributes=body.seam_attributes.hex(),
        td_attributes=body.td_attributes,
        xfam=body.xfam.hex(),
        mr_td=body.mr_td.hex(),
        mr_config_id=body.mr_config_id.hex(),
        mr_owner=body.mr_owner.hex(),
        mr_owner_config=body.mr_owner_config.hex(),
        rtmr0=body.rtmrs[0].hex(),
        rtmr1=body.rtmrs[1].hex(),
        rtmr2=body.rtmrs[2].hex(),
        rtmr3=body.rtmrs[3].hex(),
        report_data=body.report_data.hex(),
        mr_service_td=body.mr_service_td.hex() if body.mr_service_td is not None else None,
        tcb=evaluation,
        pck=PckInfo(
            subject=leaf.subject.rfc4514_string(),
            issuer=leaf.issuer.rfc4514_string(),
            ca=chain.ca,
            serial=f"{leaf.serial_number:x}",
            not_before=leaf.not_valid_before_utc,
            not_after=leaf.not_valid_after_utc,
            sha256=chain.fingerprints[0],
            fmspc=ext.fmspc.hex(),
            pce_id=ext.pce_id.hex(),
            ppid=ext.ppid.hex(),
            sgx_tcb_components=ext.sgx_tcb_components,
            pce_svn=ext.pce_svn,
            cpu_svn=ext.cpu_svn.hex(),
            sgx_type=ext.sgx_type,
        ),
        qe_report=QeReportInfo(
            isvsvn=quote.qe_report.isv_svn,
            isvprodid=quote.qe_report.isv_prod_id,
            mrsigner=quote.qe_report.mr_signer.hex(),
            mrenclave=quote.qe_report.mr_enclave.hex(),
            miscselect=quote.qe_report.misc_select,
            attributes=quote.qe_report.attributes.hex(),
        ),
        tcb_info=tcb_meta,
        qe_identity=qe_meta,
        pck_crl=pck_crl,
        root_crl=root_crl,
        chain=chain.fingerprints,
        quote_sha256=hashlib.sha256(quote.raw).hexdigest(),
        trailing_bytes=quote.trailing_bytes,
    )


def verify_evidence(
    data: bytes,
    *,
    collateral: CollateralSet,
    trust: TrustStore,
    now: datetime,
    options: VerifyOptions,
) -> TdxClaims:
    """Registry entry point (see ``teeclient.platforms.verify_evidence``)."""
    del options  # TDX needs no per-call options
    return verify(data, trust=trust, now=now, collateral=collateral)
