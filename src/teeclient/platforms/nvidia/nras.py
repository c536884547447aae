"""NVIDIA NRAS detached EAT tokens, checked properly (specs/nvidia-gpu.md §8.3–§8.5).

``verify_detached_eat`` is pure: the JWKS is an input (``Jwks``) or comes from a resolver the
caller injects (``JwksCache``: cached, refetched once on an unknown kid, with an injected fetch
function and clock). PyJWT verifies each JWS with the algorithm pinned to ES384 (``none``,
HS*, RS* are refused before any key is used); PyJWT's own clock is never used — ``exp``,
``nbf`` and ``iat`` are judged at the injected ``now`` with a bounded skew.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any, Protocol

import jwt
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from teeclient._time import Clock, iso, utc_now
from teeclient._x509 import check_validity, load_certificate, verify_issued_by
from teeclient.errors import (
    ChainError,
    NrasClaimsError,
    NrasKeyError,
    NrasNonceError,
    NrasTokenError,
    ParseError,
)
from teeclient.platforms.nvidia.claims import NrasSummary
from teeclient.platforms.nvidia.evidence import is_detached_eat

__all__ = [
    "NRAS_ISSUER",
    "NRAS_STAGING_ISSUER",
    "Jwk",
    "Jwks",
    "JwksCache",
    "KeyResolver",
    "NrasResult",
    "verify_detached_eat",
]

PLATFORM = "nvidia"
NRAS_ISSUER = "https://nras.attestation.nvidia.com"
NRAS_STAGING_ISSUER = "https://nras.attestation-stg.nvidia.com"
MAX_SKEW = timedelta(minutes=5)
MAX_TOKEN_CHARS = 64 * 1024
MAX_JWKS_BYTES = 1024 * 1024
_ALGORITHM = "ES384"


def _b64url_int(value: object, field: str) -> int:
    if not isinstance(value, str):
        raise NrasKeyError("JWK coordinate is not a string", platform=PLATFORM, field=field)
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError) as exc:
        raise NrasKeyError(
            "JWK coordinate is not base64url", platform=PLATFORM, field=field
        ) from exc
    if len(raw) != 48:
        raise NrasKeyError(
            "JWK coordinate is not 48 bytes (P-384)",
            platform=PLATFORM,
            field=field,
            actual=f"{len(raw)} bytes",
        )
    return int.from_bytes(raw, "big")


@dataclass(frozen=True, slots=True, kw_only=True)
class Jwk:
    """One NRAS signing key: P-384 public key and its ``x5c`` certificates (leaf first)."""

    kid: str
    key: ec.EllipticCurvePublicKey
    x5c: tuple[x509.Certificate, ...] = ()

    @classmethod
    def from_dict(cls, obj: Mapping[str, Any]) -> Jwk:
        """Build from a JWK object; the key must be EC P-384 and equal ``x5c[0]``'s key.

        Raises:
            NrasKeyError: not an EC P-384 JWK, or ``x5c[0]`` holds another key.
        """
        kid = obj.get("kid")
        if not isinstance(kid, str) or obj.get("kty") != "EC" or obj.get("crv") != "P-384":
            raise NrasKeyError(
                "JWK is not an EC P-384 key with a kid",
                platform=PLATFORM,
                field=f"jwks.{kid}",
                expected="kty EC, crv P-384",
                actual=f"kty {obj.get('kty')}, crv {obj.get('crv')}",
            )
        if obj.get("alg") not in (None, _ALGORITHM):
            raise NrasKeyError(
                "JWK is declared for another algorithm",
                platform=PLATFORM,
                field=f"jwks.{kid}.alg",
                expected=_ALGORITHM,
                actual=str(obj.get("alg")),
            )
        try:
            key = ec.EllipticCurvePublicNumbers(
                _b64url_int(obj.get("x"), f"jwks.{kid}.x"),
                _b64url_int(obj.get("y"), f"jwks.{kid}.y"),
                ec.SECP384R1(),
            ).public_key()
        except ValueError as exc:
            raise NrasKeyError(
                "JWK point is not on P-384", platform=PLATFORM, field=f"jwks.{kid}"
            ) from exc
        certs: list[x509.Certificate] = []
        for i, item in enumerate(obj.get("x5c") or []):
            if not isinstance(item, str):
                raise NrasKeyError(
                    "x5c entry is not a string", platform=PLATFORM, field=f"jwks.{kid}.x5c[{i}]"
                )
            try:
                raw = base64.b64decode(item, validate=True)
                certs.append(load_certificate(raw, role=f"x5c[{i}]", platform=PLATFORM))
            except (binascii.Error, ValueError, ParseError) as exc:
                raise NrasKeyError(
                    "x5c entry is not a base64 DER certificate",
                    platform=PLATFORM,
                    field=f"jwks.{kid}.x5c[{i}]",
                ) from exc
        if certs:
            spki = key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
            leaf = (
                certs[0].public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
            )
            if not hmac.compare_digest(spki, leaf):
                raise NrasKeyError(
                    "JWK x/y differ from the x5c leaf certificate's key",
                    platform=PLATFORM,
                    field=f"jwks.{kid}.x5c[0]",
                )
        return cls(kid=kid, key=key, x5c=tuple(certs))


@dataclass(frozen=True, slots=True)
class Jwks:
    """A JSON Web Key Set: kid → Jwk (a static key source, e.g. from collateral)."""

    keys: Mapping[str, Jwk]

    @classmethod
    def from_json(cls, data: bytes | str) -> Jwks:
        """Parse ``{"keys": [...]}``; entries that are not EC P-384 keys are refused.

        Raises:
            NrasKeyError: malformed JWKS.
        """
        if len(data) > MAX_JWKS_BYTES:
            raise NrasKeyError("JWKS too large", platform=PLATFORM, field="jwks")
        try:
            doc = json.loads(data)
        except (ValueError, UnicodeDecodeError) as exc:
            raise NrasKeyError("JWKS is not JSON", platform=PLATFORM, field="jwks") from exc
        if not isinstance(doc, dict) or not isinstance(doc.get("keys"), list):
            raise NrasKeyError("JWKS has no 'keys' list", platform=PLATFORM, field="jwks")
        keys: dict[str, Jwk] = {}
        for item in doc["keys"]:
            if not isinstance(item, dict):
                raise NrasKeyError("JWKS entry is not an object", platform=PLATFORM, field="jwks")
            jwk = Jwk.from_dict(item)
            keys[jwk.kid] = jwk
        return cls(MappingProxyType(keys))

    def resolve(self, kid: str) -> Jwk | None:
        """The key with ``kid``, or None."""
        return self.keys.get(kid)


class KeyResolver(Protocol):
    """Finds the signing key for a ``kid``."""

    def resolve(self, kid: str) -> Jwk | None:
        """The key with ``kid``, or None."""
        ...


@dataclass(eq=False)
class JwksCache:
    """A JWKS fetched through an injected function, cached for ``ttl``, refetched once on a miss.

    ``fetch`` returns the JWKS bytes (the caller decides how: HTTP, file, bundle); ``clock`` is
    injected. A kid that is still unknown after one refetch is unknown: no loop of refetches.
    """

    fetch: Callable[[], bytes]
    clock: Clock = utc_now
    ttl: timedelta = timedelta(minutes=10)
    _jwks: Jwks | None = field(default=None, init=False)
    _fetched_at: datetime | None = field(default=None, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def _refresh(self) -> Jwks:
        self._jwks = Jwks.from_json(self.fetch())
        self._fetched_at = self.clock()
        return self._jwks

    def resolve(self, kid: str) -> Jwk | None:
        """The key for ``kid`` from the cache, or after one refetch on a miss or expiry."""
        with self._lock:
            now = self.clock()
            fresh = (
                self._jwks is not None
                and self._fetched_at is not None
                and now - self._fetched_at < self.ttl
            )
            if fresh and self._jwks is not None:
                hit = self._jwks.resolve(kid)
                if hit is not None:
                    return hit
            return self._refresh().resolve(kid)


@dataclass(frozen=True, slots=True, kw_only=True)
class NrasResult:
    """A verified detached EAT: the overall claims and each device's claims by submod name."""

    overall: Mapping[str, Any]
    devices: Mapping[str, Mapping[str, Any]]
    summary: NrasSummary


def _fail(message: str, **kw: Any) -> NrasTokenError:
    return NrasTokenError(message, platform=PLATFORM, **kw)


def _check_x5c(jwk: Jwk, roots: Sequence[x509.Certificate], now: datetime) -> None:
    if not jwk.x5c:
        raise NrasKeyError(
            "JWK has no x5c chain to check against the configured root",
            platform=PLATFORM,
            field=f"jwks.{jwk.kid}.x5c",
        )
    chain = list(jwk.x5c)
    try:
        for i, cert in enumerate(chain):
            check_validity(cert, now, role=f"nras.x5c[{i}]", platform=PLATFORM)
            if i + 1 < len(chain):
                verify_issued_by(cert, chain[i + 1], role=f"nras.x5c[{i}]", platform=PLATFORM)
        anchors = [r for r in roots if r.subject == chain[-1].issuer]
        if not anchors:
            raise NrasKeyError(
                "NRAS x5c chain does not lead to a configured root",
                platform=PLATFORM,
                field=f"jwks.{jwk.kid}.x5c",
                actual=chain[-1].issuer.rfc4514_string(),
            )
        verify_issued_by(chain[-1], anchors[0], role="nras.x5c.root", platform=PLATFORM)
    except ChainError as exc:
        raise NrasKeyError(
            f"NRAS x5c chain is invalid: {exc.message}",
            platform=PLATFORM,
            field=exc.field,
            expected=exc.expected,
            actual=exc.actual,
        ) from exc


def _decode(
    token: str,
    label: str,
    *,
    keys: KeyResolver,
    issuers: frozenset[str],
    now: datetime,
    skew: timedelta,
    x5c_roots: Sequence[x509.Certificate] | None,
) -> tuple[dict[str, Any], str]:
    if not isinstance(token, str) or len(token) > MAX_TOKEN_CHARS:
        raise _fail("NRAS token is not a compact JWS string", field=label)
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise _fail(f"NRAS token header is malformed: {exc}", field=label) from exc
    if header.get("alg") != _ALGORITHM:
        raise _fail(
            "NRAS token is not signed with ES384",
            field=f"{label}.alg",
            expected=_ALGORITHM,
            actual=str(header.get("alg")),
        )
    kid = header.get("kid")
    if not isinstance(kid, str):
        raise NrasKeyError("NRAS token header has no kid", platform=PLATFORM, field=label)
    jwk = keys.resolve(kid)
    if jwk is None:
        raise NrasKeyError(
            "NRAS token is signed by an unknown key (kid not in the JWKS)",
            platform=PLATFORM,
            field=f"{label}.kid",
            actual=kid,
        )
    if x5c_roots is not None:
        _check_x5c(jwk, x5c_roots, now)
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            jwk.key,
            algorithms=[_ALGORITHM],
            options={
                "verify_exp": False,
                "verify_nbf": False,
                "verify_iat": False,
                "verify_aud": False,
                "verify_iss": False,
                "require": ["iss", "iat", "exp", "nbf", "eat_nonce"],
            },
        )
    except jwt.InvalidSignatureError as exc:
        raise _fail("NRAS token signature does not verify", field=f"{label}.signature") from exc
    except jwt.PyJWTError as exc:
        raise _fail(f"NRAS token rejected: {exc}", field=label) from exc
    if claims.get("iss") not in issuers:
        raise _fail(
            "NRAS token has an unexpected issuer",
            field=f"{label}.iss",
            expected=" or ".join(sorted(issuers)),
            actual=str(claims.get("iss")),
        )
    stamp = now.timestamp()
    times = {}
    for name in ("iat", "nbf", "exp"):
        value = claims.get(name)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _fail(f"NRAS token {name} is not a number", field=f"{label}.{name}")
        times[name] = float(value)
    slack = skew.total_seconds()
    if times["nbf"] > stamp + slack:
        raise _fail(
            "NRAS token is not yet valid (nbf)",
            field=f"{label}.nbf",
            expected=f"<= {iso(now)}",
            actual=_ts(times["nbf"]),
        )
    if times["iat"] > stamp + slack:
        raise _fail(
            "NRAS token is issued in the future (iat)",
            field=f"{label}.iat",
            expected=f"<= {iso(now)}",
            actual=_ts(times["iat"]),
        )
    if stamp >= times["exp"] + slack:
        raise _fail(
            "NRAS token has expired (exp)",
            field=f"{label}.exp",
            expected=f"> {iso(now)}",
            actual=_ts(times["exp"]),
        )
    return claims, kid


def _ts(value: float) -> str:
    return iso(datetime.fromtimestamp(value, UTC))


def verify_detached_eat(
    eat: object,
    *,
    keys: KeyResolver,
    now: datetime,
    nonce: bytes | None,
    issuers: Sequence[str] = (NRAS_ISSUER,),
    skew: timedelta = timedelta(minutes=2),
    x5c_roots: Sequence[x509.Certificate] | None = None,
    expected_count: int | None = None,
) -> NrasResult:
    """Verify an NRAS detached EAT ``[["JWT", overall], {"GPU-0": device, …}]`` (§8.5).

    ``nonce`` (when given) must equal ``eat_nonce`` in the overall and every device token;
    without it the device tokens must at least carry the overall token's nonce.

    Raises:
        NrasTokenError: shape, algorithm, signature, issuer or time problems.
        NrasKeyError: unknown kid, bad JWK, or an x5c chain that fails against ``x5c_roots``.
        NrasNonceError: eat_nonce differs from ``nonce``.
        NrasClaimsError: submods keys, digests or counts do not match.
    """
    if isinstance(eat, bytes | str):
        try:
            eat = json.loads(eat)
        except (ValueError, UnicodeDecodeError) as exc:
            raise _fail("NRAS token is not JSON", field="nras") from exc
    if not is_detached_eat(eat):
        raise _fail(
            "not an NRAS detached EAT",
            field="nras",
            expected='[["JWT", token], {"GPU-0": token, …}]',
        )
    assert isinstance(eat, list)
    skew = min(skew, MAX_SKEW)
    allowed = frozenset(issuers)
    overall, kid = _decode(
        eat[0][1],
        "nras.overall",
        keys=keys,
        issuers=allowed,
        now=now,
        skew=skew,
        x5c_roots=x5c_roots,
    )
    tokens: dict[str, Any] = eat[1]
    expected_nonce = nonce.hex() if nonce is not None else overall.get("eat_nonce")
    if not isinstance(expected_nonce, str) or not hmac.compare_digest(
        str(overall.get("eat_nonce")).lower().encode(), expected_nonce.lower().encode()
    ):
        raise NrasNonceError(
            "NRAS overall token eat_nonce differs from the nonce",
            platform=PLATFORM,
            field="nras.overall.eat_nonce",
            expected=expected_nonce,
            actual=str(overall.get("eat_nonce")),
        )
    submods = overall.get("submods")
    if not isinstance(submods, dict) or set(submods) != set(tokens):
        raise NrasClaimsError(
            "NRAS submods do not name exactly the device tokens",
            platform=PLATFORM,
            field="nras.overall.submods",
            expected=sorted(tokens),
            actual=sorted(submods) if isinstance(submods, dict) else str(submods),
        )
    if expected_count is not None and len(tokens) != expected_count:
        raise NrasClaimsError(
            "NRAS token covers another number of devices than submitted",
            platform=PLATFORM,
            field="nras.submods",
            expected=expected_count,
            actual=len(tokens),
        )
    devices: dict[str, Mapping[str, Any]] = {}
    for name in sorted(tokens):
        token = tokens[name]
        entry = submods[name]
        digest = hashlib.sha256(token.encode("ascii") if isinstance(token, str) else b"")
        ok = (
            isinstance(entry, list)
            and len(entry) == 2
            and entry[0] == "DIGEST"
            and isinstance(entry[1], list)
            and len(entry[1]) == 2
            and entry[1][0] == "SHA-256"
            and isinstance(entry[1][1], str)
            and hmac.compare_digest(entry[1][1].lower().encode(), digest.hexdigest().encode())
        )
        if not ok:
            raise NrasClaimsError(
                "NRAS submods digest does not match the device token",
                platform=PLATFORM,
                field=f"nras.submods.{name}",
                expected=digest.hexdigest(),
                actual=str(entry)[:120],
            )
        claims, _ = _decode(
            token,
            f"nras.{name}",
            keys=keys,
            issuers=allowed,
            now=now,
            skew=skew,
            x5c_roots=x5c_roots,
        )
        if not hmac.compare_digest(
            str(claims.get("eat_nonce")).lower().encode(), expected_nonce.lower().encode()
        ):
            raise NrasNonceError(
                "NRAS device token eat_nonce differs from the nonce",
                platform=PLATFORM,
                field=f"nras.{name}.eat_nonce",
                expected=expected_nonce,
                actual=str(claims.get("eat_nonce")),
            )
        devices[name] = MappingProxyType(claims)
    result = overall.get("x-nvidia-overall-att-result")
    summary = NrasSummary(
        issuer=str(overall["iss"]),
        kid=kid,
        overall_result=result is True,
        submods=tuple(sorted(tokens)),
        issued_at=datetime.fromtimestamp(float(overall["iat"]), UTC),
        expires_at=datetime.fromtimestamp(float(overall["exp"]), UTC),
        version=str(overall.get("x-nvidia-ver")) if overall.get("x-nvidia-ver") else None,
    )
    return NrasResult(
        overall=MappingProxyType(overall), devices=MappingProxyType(devices), summary=summary
    )


def submods_digests_match(eat: object) -> bool:
    """Parse-only helper: True if every submods digest equals SHA-256 of its device token."""
    if not is_detached_eat(eat):
        return False
    assert isinstance(eat, list)
    try:
        payload = jwt.decode(eat[0][1], options={"verify_signature": False})
    except jwt.PyJWTError:
        return False
    submods = payload.get("submods")
    tokens = eat[1]
    if not isinstance(submods, dict) or set(submods) != set(tokens):
        return False
    for name, token in tokens.items():
        entry = submods[name]
        if not isinstance(token, str) or not isinstance(entry, list) or len(entry) != 2:
            return False
        want = hashlib.sha256(token.encode("ascii")).hexdigest()
        if not isinstance(entry[1], list) or entry[1][-1] != want:
            return False
    return True
