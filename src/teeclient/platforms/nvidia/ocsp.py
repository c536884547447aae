"""OCSP for NVIDIA device and RIM chains (RFC 6960; specs/nvidia-gpu.md §4). Pure: responses in.

Responses are inputs (files, bundle items or a cache), never fetched here. For each checked
certificate the matching single response is found by CertID (hash algorithm, issuer name hash,
issuer key hash, serial); a response naming the serial under another issuer is an error. The
BasicOCSPResponse must be signed by the certificate's issuer or by a delegated responder that
the issuer directly issued with EKU id-kp-OCSPSigning — never the checked certificate itself —
and that responder must be valid at ``now``. When a nonce was sent it must come back in
responseExtensions. What the status means (good / revoked / certificateHold / unknown) and
whether thisUpdate/nextUpdate are acceptable at ``now`` are recorded as claims and judged by
policy (``[revocation] nvidia_ocsp``), so a cached response is usable until nextUpdate.
"""

from __future__ import annotations

import base64
import binascii
import enum
import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID

from teeclient._der import read_tlv
from teeclient._time import iso
from teeclient._x509 import (
    MALFORMED,
    SignatureMemo,
    check_validity,
    common_name,
    der,
    names_parsed,
    verify_issued_by,
)
from teeclient.errors import (
    ChainError,
    ChainExpiredError,
    ChainNotYetValidError,
    OcspCertIdMismatchError,
    OcspMalformedError,
    OcspNonceMismatchError,
    OcspResponderError,
    OcspResponderExpiredError,
    OcspSignatureError,
    ParseError,
)

__all__ = [
    "DEFAULT_TTL",
    "OcspCheck",
    "OcspResponse",
    "OcspStatus",
    "build_request",
    "check_certificate",
    "has_answer",
    "load_response",
    "looks_like_ocsp",
    "request_nonce",
]

PLATFORM = "nvidia"
#: nextUpdate absent → the response is treated as valid for at most this long (§4 step 4).
DEFAULT_TTL = timedelta(hours=24)
MAX_RESPONSE_BYTES = 64 * 1024
_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha1": hashes.SHA1,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}


class OcspStatus(enum.StrEnum):
    """What OCSP says about one certificate (``missing``: no response was supplied)."""

    GOOD = "good"
    REVOKED = "revoked"
    UNKNOWN = "unknown"
    MISSING = "missing"


@dataclass(frozen=True, slots=True, kw_only=True)
class OcspResponse:
    """A parsed, successful OCSP response with its exact DER bytes and where it came from."""

    der: bytes
    parsed: ocsp.OCSPResponse
    source: str
    sha256: str
    # The nonce of the OCSPRequest this response answered, when that request was recorded
    # with it (fetched, cached and bundled items keep their request body): it must be echoed.
    request_nonce: bytes | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class OcspCheck:
    """The verified OCSP answer for one certificate (or ``missing``), judged later by policy."""

    role: str
    subject: str
    serial: str
    status: OcspStatus
    revocation_reason: str | None = None
    revocation_time: datetime | None = None
    this_update: datetime | None = None
    next_update: datetime | None = None
    next_update_assumed: bool = False
    produced_at: datetime | None = None
    responder: str | None = None
    delegated: bool | None = None
    nonce_sent: bool = False
    source: str | None = None
    checked_at: datetime | None = None

    @property
    def on_hold(self) -> bool:
        """Revoked with reason certificateHold (policy may allow it)."""
        return self.status is OcspStatus.REVOKED and self.revocation_reason == "certificate_hold"

    def to_dict(self) -> dict[str, object]:
        """JSON form."""
        return {
            "role": self.role,
            "subject": self.subject,
            "serial": self.serial,
            "status": self.status.value,
            "revocation_reason": self.revocation_reason,
            "revocation_time": iso(self.revocation_time) if self.revocation_time else None,
            "this_update": iso(self.this_update) if self.this_update else None,
            "next_update": iso(self.next_update) if self.next_update else None,
            "next_update_assumed": self.next_update_assumed,
            "produced_at": iso(self.produced_at) if self.produced_at else None,
            "responder": self.responder,
            "delegated": self.delegated,
            "nonce_sent": self.nonce_sent,
            "source": self.source,
            "checked_at": iso(self.checked_at) if self.checked_at else None,
        }


def _decode(data: bytes) -> bytes | None:
    """DER as is, or base64 text of DER (the recorded ``.b64`` form)."""
    if data[:1] == b"\x30":
        return data
    text = data.strip()
    if not text or len(text) > 2 * MAX_RESPONSE_BYTES:
        return None
    try:
        raw = base64.b64decode(b"".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if raw[:1] == b"\x30" else None


def looks_like_ocsp(data: bytes) -> bool:
    """True if ``data`` (DER or base64 DER) parses as an OCSP response."""
    raw = _decode(data)
    if raw is None or len(raw) > MAX_RESPONSE_BYTES:
        return False
    try:
        ocsp.load_der_ocsp_response(raw)
    except ValueError:
        return False
    return True


def request_nonce(request: bytes, *, source: str = "ocsp request") -> bytes | None:
    """The nonce extension of a DER OCSPRequest, or None when it carries none.

    Raises:
        OcspMalformedError: not a DER OCSPRequest.
    """
    try:
        parsed = ocsp.load_der_ocsp_request(request)
        extension = parsed.extensions.get_extension_for_class(x509.OCSPNonce)
    except x509.ExtensionNotFound:
        return None
    except ValueError as exc:
        raise OcspMalformedError(
            f"the recorded OCSP request is malformed: {exc}", platform=PLATFORM, field=source
        ) from exc
    return extension.value.nonce


def load_response(data: bytes, *, source: str, request: bytes | None = None) -> OcspResponse:
    """Parse an OCSP response (DER or base64 of DER); only SUCCESSFUL responses are usable.

    ``request`` is the DER OCSPRequest the response answered, if it was recorded; a nonce in
    it must be echoed by the response (``check_certificate``).

    Raises:
        OcspMalformedError: not an OCSP response, too large, or not SUCCESSFUL; or a
            malformed recorded request.
    """
    raw = _decode(data)
    if raw is None or len(raw) > MAX_RESPONSE_BYTES:
        raise OcspMalformedError(
            "not an OCSP response (DER or base64 DER)", platform=PLATFORM, field=source
        )
    try:
        parsed = ocsp.load_der_ocsp_response(raw)
    except ValueError as exc:
        raise OcspMalformedError(
            f"invalid OCSP response: {exc}", platform=PLATFORM, field=source
        ) from exc
    if parsed.response_status is not ocsp.OCSPResponseStatus.SUCCESSFUL:
        raise OcspMalformedError(
            "OCSP response is not SUCCESSFUL",
            platform=PLATFORM,
            field=source,
            expected="successful",
            actual=parsed.response_status.name.lower(),
        )
    try:
        parsed.produced_at_utc  # noqa: B018 - force decoding: an out-of-range time fails here
        for single in parsed.responses:
            single.this_update_utc  # noqa: B018
            single.next_update_utc  # noqa: B018
            if single.certificate_status is ocsp.OCSPCertStatus.REVOKED:
                single.revocation_time_utc  # noqa: B018
        parsed.extensions  # noqa: B018 - force decoding; malformed extensions fail here
        parsed.responder_name  # noqa: B018
        for embedded in parsed.certificates:
            names_parsed(embedded)  # lazily decoded names fail here, not mid-verification
    except MALFORMED as exc:
        raise OcspMalformedError(
            f"invalid OCSP response: {exc}", platform=PLATFORM, field=source
        ) from exc
    return OcspResponse(
        der=raw,
        parsed=parsed,
        source=source,
        sha256=hashlib.sha256(raw).hexdigest(),
        request_nonce=request_nonce(request, source=source) if request else None,
    )


def _spk_bits(cert: x509.Certificate) -> bytes:
    """The subjectPublicKey BIT STRING contents (for CertID and ResponderID key hashes)."""
    spki = cert.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    _, body, _ = read_tlv(spki, 0, field="SubjectPublicKeyInfo", platform=PLATFORM)
    _, _, pos = read_tlv(body, 0, field="SubjectPublicKeyInfo.algorithm", platform=PLATFORM)
    tag, bits, _ = read_tlv(
        body, pos, field="SubjectPublicKeyInfo.subjectPublicKey", platform=PLATFORM
    )
    if tag != 0x03 or not bits:
        raise ParseError("subjectPublicKey is not a BIT STRING", platform=PLATFORM)
    return bits[1:]


def _certid_hashes(issuer: x509.Certificate, algorithm: str) -> tuple[bytes, bytes] | None:
    factory = _HASHES.get(algorithm)
    if factory is None:
        return None
    name = hashlib.new(algorithm, issuer.subject.public_bytes()).digest()
    key = hashlib.new(algorithm, _spk_bits(issuer)).digest()
    return name, key


def build_request(
    cert: x509.Certificate,
    issuer: x509.Certificate,
    *,
    algorithm: hashes.HashAlgorithm | None = None,
    nonce: bytes | None = None,
) -> bytes:
    """A DER OCSPRequest for ``cert`` (CertID with SHA-384 by default; optional nonce)."""
    builder = ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, algorithm or hashes.SHA384())
    if nonce is not None:
        builder = builder.add_extension(x509.OCSPNonce(nonce), critical=False)
    return builder.build().public_bytes(Encoding.DER)


def has_answer(
    cert: x509.Certificate, issuer: x509.Certificate, responses: Sequence[OcspResponse]
) -> bool:
    """True if a response names ``cert`` by CertID (serial and issuer hashes); nothing is
    verified (the collateral planner uses it to skip certificates already answered)."""
    serial = cert.serial_number
    for response in responses:
        for single in response.parsed.responses:
            if single.serial_number != serial:
                continue
            try:
                expected = _certid_hashes(issuer, single.hash_algorithm.name)
            except UnsupportedAlgorithm:
                continue
            if (
                expected is not None
                and single.issuer_name_hash == expected[0]
                and single.issuer_key_hash == expected[1]
            ):
                return True
    return False


def _responder_matches(resp: ocsp.OCSPResponse, cert: x509.Certificate) -> bool:
    if resp.responder_name is not None:
        return resp.responder_name == cert.subject
    key_hash = resp.responder_key_hash
    return key_hash is not None and hmac.compare_digest(
        key_hash,
        hashlib.sha1(_spk_bits(cert)).digest(),  # noqa: S324 - RFC 6960 KeyHash
    )


def _has_ocsp_signing(cert: x509.Certificate) -> bool:
    try:
        eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return False
    return ExtendedKeyUsageOID.OCSP_SIGNING in eku


def _verify_signature(
    response: OcspResponse, responder: x509.Certificate, role: str, memo: SignatureMemo | None
) -> None:
    resp = response.parsed
    key_id: tuple[bytes, bytes] | None = None
    if memo is not None:
        key_id = (
            hashlib.sha256(resp.tbs_response_bytes + resp.signature).digest(),
            hashlib.sha256(der(responder)).digest(),
        )
        if memo.contains(key_id):
            return
    algorithm = resp.signature_hash_algorithm
    key = responder.public_key()
    try:
        if algorithm is None:
            raise UnsupportedAlgorithm("no hash algorithm")
        if isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(resp.signature, resp.tbs_response_bytes, ec.ECDSA(algorithm))
        elif isinstance(key, rsa.RSAPublicKey):
            key.verify(resp.signature, resp.tbs_response_bytes, padding.PKCS1v15(), algorithm)
        else:
            raise UnsupportedAlgorithm(type(key).__name__)
    except InvalidSignature as exc:
        raise OcspSignatureError(
            "OCSP response signature does not verify under the responder's key",
            platform=PLATFORM,
            field=f"{role}.ocsp.signature",
            expected=f"signed by {common_name(responder.subject)}",
            actual=response.source,
        ) from exc
    except (UnsupportedAlgorithm, ValueError, TypeError) as exc:
        raise OcspSignatureError(
            f"OCSP response signature cannot be checked: {exc}",
            platform=PLATFORM,
            field=f"{role}.ocsp.signature",
            actual=response.source,
        ) from exc
    if memo is not None and key_id is not None:
        memo.add(key_id)


def _authorize(
    response: OcspResponse,
    cert: x509.Certificate,
    issuer: x509.Certificate,
    *,
    role: str,
    now: datetime,
    memo: SignatureMemo | None,
) -> tuple[x509.Certificate, bool]:
    """Find the responder: the issuer itself, or an OCSPSigning delegate issued by it."""
    resp = response.parsed
    if _responder_matches(resp, issuer):
        responder, delegated = issuer, False
    else:
        candidates = [c for c in resp.certificates if _responder_matches(resp, c)]
        if not candidates:
            raise OcspResponderError(
                "the OCSP responder is neither the issuer nor a certificate in the response",
                platform=PLATFORM,
                field=f"{role}.ocsp.responder",
                expected=f"{common_name(issuer.subject)} or a delegate it issued",
                actual=response.source,
            )
        responder, delegated = candidates[0], True
        if der(responder) == der(cert):
            raise OcspResponderError(
                "the OCSP response is signed by the certificate it is about",
                platform=PLATFORM,
                field=f"{role}.ocsp.responder",
                expected=f"a delegate issued by {common_name(issuer.subject)}",
                actual=common_name(responder.subject),
            )
        try:
            verify_issued_by(
                responder, issuer, role=f"{role}.ocsp_responder", platform=PLATFORM, memo=memo
            )
        except ChainError as exc:
            raise OcspResponderError(
                "the delegated OCSP responder is not directly issued by the checked "
                "certificate's issuer",
                platform=PLATFORM,
                field=f"{role}.ocsp.responder",
                expected=f"issued by {common_name(issuer.subject)}",
                actual=f"{common_name(responder.subject)} issued by "
                f"{common_name(responder.issuer)}",
            ) from exc
        if not _has_ocsp_signing(responder):
            raise OcspResponderError(
                "the delegated OCSP responder lacks the OCSPSigning extended key usage",
                platform=PLATFORM,
                field=f"{role}.ocsp.responder.extendedKeyUsage",
                expected="id-kp-OCSPSigning (1.3.6.1.5.5.7.3.9)",
                actual=common_name(responder.subject),
            )
    _check_responder_validity(responder, now, role)
    _verify_signature(response, responder, role, memo)
    return responder, delegated


def _check_responder_validity(responder: x509.Certificate, now: datetime, role: str) -> None:
    try:
        check_validity(responder, now, role=f"{role}.ocsp_responder", platform=PLATFORM)
    except (ChainExpiredError, ChainNotYetValidError) as exc:
        raise OcspResponderExpiredError(
            f"OCSP responder certificate {common_name(responder.subject)!r} is not valid at the "
            "verification time"
            + (" (expired)" if isinstance(exc, ChainExpiredError) else " (not yet valid)"),
            platform=PLATFORM,
            field=exc.field,
            expected=exc.expected,
            actual=exc.actual,
        ) from exc


_CHECK_MEMO = "nvidia.ocsp_check"


def check_certificate(
    cert: x509.Certificate,
    issuer: x509.Certificate,
    responses: Sequence[OcspResponse],
    *,
    role: str,
    now: datetime,
    nonce: bytes | None = None,
    memo: SignatureMemo | None = None,
) -> OcspCheck:
    """Verify the OCSP answer for ``cert`` among ``responses`` (or report it missing).

    ``nonce`` is the nonce the caller sent; without it, the nonce of the response's recorded
    request (``OcspResponse.request_nonce``) must be echoed.

    Raises:
        OcspCertIdMismatchError: a response names the serial but not this issuer.
        OcspResponderError / OcspResponderExpiredError / OcspSignatureError: not authentic.
        OcspNonceMismatchError: a nonce was sent and is not echoed.
    """
    serial = cert.serial_number
    # Which answer applies, who signed it, whether the signature and nonce check out: all
    # content-only, remembered by content (certificates compare by DER, responses by their
    # SHA-256) for a store's memo. Validity of the responder at `now` is always re-checked.
    memo_key = (
        cert,
        issuer,
        tuple((r.sha256, r.request_nonce, r.source) for r in responses),
        nonce,
    )
    known = memo.get(_CHECK_MEMO, memo_key) if memo is not None else None
    if isinstance(known, _Chosen):
        _check_responder_validity(known.responder, now, role)
        return _result(known, role=role, serial=serial, now=now)
    chosen = _choose(cert, issuer, responses, role=role, now=now, nonce=nonce, memo=memo)
    if chosen is None:
        return OcspCheck(
            role=role,
            subject=cert.subject.rfc4514_string(),
            serial=f"{serial:x}",
            status=OcspStatus.MISSING,
            checked_at=now,
        )
    if memo is not None:
        memo.put(_CHECK_MEMO, memo_key, chosen)
    return _result(chosen, role=role, serial=serial, now=now)


@dataclass(frozen=True, slots=True)
class _Chosen:
    """The authentic answer chosen for a certificate (content-only, memoisable)."""

    response: OcspResponse
    single: ocsp.OCSPSingleResponse
    responder: x509.Certificate
    delegated: bool
    nonce: bytes | None
    subject: str  # of the checked certificate, RFC 4514


def _choose(
    cert: x509.Certificate,
    issuer: x509.Certificate,
    responses: Sequence[OcspResponse],
    *,
    role: str,
    now: datetime,
    nonce: bytes | None,
    memo: SignatureMemo | None,
) -> _Chosen | None:
    serial = cert.serial_number
    matches: list[tuple[OcspResponse, ocsp.OCSPSingleResponse]] = []
    foreign = 0
    hashes_by_algorithm: dict[str, tuple[bytes, bytes] | None] = {}
    for response in responses:
        for single in response.parsed.responses:
            if single.serial_number != serial:
                continue
            try:
                algorithm = single.hash_algorithm.name
            except UnsupportedAlgorithm:
                foreign += 1
                continue
            if algorithm not in hashes_by_algorithm:
                hashes_by_algorithm[algorithm] = _certid_hashes(issuer, algorithm)
            expected = hashes_by_algorithm[algorithm]
            if (
                expected is not None
                and hmac.compare_digest(single.issuer_name_hash, expected[0])
                and hmac.compare_digest(single.issuer_key_hash, expected[1])
            ):
                matches.append((response, single))
            else:
                foreign += 1
    if not matches:
        if foreign:
            raise OcspCertIdMismatchError(
                "an OCSP response names this serial number under another issuer (CertID "
                "issuer name/key hash mismatch)",
                platform=PLATFORM,
                field=f"{role}.ocsp.certID",
                expected=f"issuer {common_name(issuer.subject)}, serial {serial:x}",
                actual=f"{foreign} single response(s) with other issuer hashes",
            )
        return None
    # Prefer the newest answer; every candidate must still be authentic to be chosen.
    matches.sort(key=lambda m: m[1].this_update_utc, reverse=True)
    response, single = matches[0]
    responder, delegated = _authorize(response, cert, issuer, role=role, now=now, memo=memo)
    if nonce is None:
        nonce = response.request_nonce
    if nonce is not None:
        try:
            echoed = response.parsed.extensions.get_extension_for_class(x509.OCSPNonce).value
        except x509.ExtensionNotFound:
            echoed = None
        if echoed is None or not hmac.compare_digest(echoed.nonce, nonce):
            raise OcspNonceMismatchError(
                "the OCSP response does not echo the request nonce in responseExtensions",
                platform=PLATFORM,
                field=f"{role}.ocsp.nonce",
                expected=nonce.hex(),
                actual="absent" if echoed is None else echoed.nonce.hex(),
            )
    return _Chosen(response, single, responder, delegated, nonce, cert.subject.rfc4514_string())


def _result(chosen: _Chosen, *, role: str, serial: int, now: datetime) -> OcspCheck:
    single, response = chosen.single, chosen.response
    status = {
        ocsp.OCSPCertStatus.GOOD: OcspStatus.GOOD,
        ocsp.OCSPCertStatus.REVOKED: OcspStatus.REVOKED,
        ocsp.OCSPCertStatus.UNKNOWN: OcspStatus.UNKNOWN,
    }[single.certificate_status]
    reason = None
    if status is OcspStatus.REVOKED:
        reason = single.revocation_reason.name if single.revocation_reason else "unspecified"
    next_update = single.next_update_utc
    assumed = next_update is None
    if next_update is None:
        next_update = single.this_update_utc + DEFAULT_TTL
    return OcspCheck(
        role=role,
        subject=chosen.subject,
        serial=f"{serial:x}",
        status=status,
        revocation_reason=reason,
        revocation_time=single.revocation_time_utc if status is OcspStatus.REVOKED else None,
        this_update=single.this_update_utc,
        next_update=next_update,
        next_update_assumed=assumed,
        produced_at=response.parsed.produced_at_utc,
        responder=common_name(chosen.responder.subject),
        delegated=chosen.delegated,
        nonce_sent=chosen.nonce is not None,
        source=response.source,
        checked_at=now,
    )


def _hash_name(single: ocsp.OCSPSingleResponse) -> str:
    """The CertID hash algorithm's name, or its OID when cryptography does not know it."""
    try:
        return single.hash_algorithm.name
    except UnsupportedAlgorithm:
        return "unsupported"


def describe_response(data: bytes, *, source: str) -> dict[str, object]:
    """Decode an OCSP response for ``inspect``; nothing is verified.

    Raises:
        OcspMalformedError: not a successful OCSP response.
    """
    resp = load_response(data, source=source).parsed
    return {
        "produced_at": iso(resp.produced_at_utc),
        "responder_name": resp.responder_name.rfc4514_string() if resp.responder_name else None,
        "responder_key_hash": resp.responder_key_hash.hex() if resp.responder_key_hash else None,
        "certificates": [c.subject.rfc4514_string() for c in resp.certificates],
        "responses": [
            {
                "serial": f"{s.serial_number:x}",
                "hash_algorithm": _hash_name(s),
                "status": s.certificate_status.name.lower(),
                "this_update": iso(s.this_update_utc),
                "next_update": iso(s.next_update_utc) if s.next_update_utc else None,
            }
            for s in resp.responses
        ],
        "nonce": next(
            (e.value.nonce.hex() for e in resp.extensions if isinstance(e.value, x509.OCSPNonce)),
            None,
        ),
        "verified": False,
    }
