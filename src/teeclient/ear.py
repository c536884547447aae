"""Attestation results as EAR tokens (draft-ietf-rats-ear): build, sign and verify JWTs.

An appraisal becomes one EAR claims set: ``eat_profile``, ``iat``/``exp``,
``ear.verifier-id``, and one submodule per verified component (``sev-snp[0]``,
``nvidia-gpu[1]``…) with ``ear.status``, an AR4SI ``ear.trustworthiness-vector`` derived
from the component's checks, and ``ear.appraisal-policy-id``. When the evidence binds an
enclave key (AWS Nitro ``public_key``), its SHA-256 is carried in the teeclient extension
``teeclient.pinned-key``. The token is a JWT signed with the caller's key; the algorithm
follows the key type (ES256, ES384, EdDSA, RS256), and verification accepts exactly that
algorithm — never ``none`` or an HMAC.

Everything here is pure: times are passed in, keys are objects, nothing is read from disk
except by ``load_private_key``/``load_public_key``, which the CLI calls.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from teeclient import __version__
from teeclient._time import iso, require_aware
from teeclient.errors import (
    KeyFileError,
    TokenAlgorithmError,
    TokenError,
    TokenExpiredError,
    TokenProfileError,
    TokenSignatureError,
)
from teeclient.policy.result import Appraisal, Check, CheckStatus, ComponentResult

__all__ = [
    "ALLOWED_ALGORITHMS",
    "EAR_PROFILE",
    "TRUST_CLAIMS",
    "PrivateKey",
    "PublicKey",
    "algorithm_for",
    "ear_claims",
    "load_private_key",
    "load_public_key",
    "sign_ear",
    "status_of",
    "trust_category",
    "verify_ear",
]

#: The EAR profile this module emits (draft-ietf-rats-ear §3: eat_profile).
EAR_PROFILE = "tag:github.com,2023:veraison/ear"
#: Signature algorithms teeclient signs and accepts, by key type.
ALLOWED_ALGORITHMS = ("ES256", "ES384", "EdDSA", "RS256")
#: AR4SI trustworthiness claims, in the order of the draft.
TRUST_CLAIMS = (
    "instance-identity",
    "configuration",
    "executables",
    "file-system",
    "hardware",
    "runtime-opaque",
    "storage-opaque",
    "sourced-data",
)
DEFAULT_TTL = timedelta(hours=1)
MAX_TOKEN_BYTES = 256 * 1024
MAX_KEY_BYTES = 64 * 1024

PrivateKey = ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey
PublicKey = ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey | rsa.RSAPublicKey

# AR4SI values (draft-ietf-rats-ar4si §2.3): affirming 2-31, warning 32-95,
# contraindicated 96-127; 0 means "no claim". Per category: (pass, warn, fail).
_VALUES: Mapping[str, tuple[int, int, int]] = {
    "instance-identity": (2, 32, 97),  # recognized / (warning) / unrecognized
    "configuration": (2, 32, 96),  # approved / unsafe / unsupportable
    "executables": (2, 32, 96),  # approved_rt / unsafe_rt / contraindicated_rt
    "hardware": (2, 32, 96),  # genuine / unsafe / contraindicated
    "runtime-opaque": (2, 32, 96),  # encrypted / isolated / visible
}

# Check-id suffixes (after the section prefix) → AR4SI category. First match wins.
_CATEGORY_RULES: tuple[tuple[tuple[str, ...], str], ...] = (
    (
        ("debug", "guest_policy.debug", "td_attributes.debug", "guest_policy.migrate_ma"),
        "runtime-opaque",
    ),
    (
        (
            "measurement",
            "measurements",
            "mr_td",
            "rtmr0",
            "rtmr1",
            "rtmr2",
            "rtmr3",
            "mr_seam",
            "image_id",
            "family_id",
            "guest_svn",
            "driver_version",
            "vbios_version",
            "bios_version",
            "id_block",
            "author_key",
            "changed",
            *(f"pcr{i}" for i in range(32)),
        ),
        "executables",
    ),
    (
        (
            "chip_id",
            "masked_chip_id",
            "ppid",
            "ueid",
            "module_id",
            "report_data",
            "report_id",
            "report_id_ma",
            "nonce",
            "user_data",
            "public_key",
            "timestamp.age",
            "timestamp.future",
            "distinct_devices",
            "region",
        ),
        "instance-identity",
    ),
    (
        (
            "product",
            "signing_key",
            "tcb",
            "launch_tcb",
            "firmware",
            "provisional_firmware",
            "tcb_status",
            "advisory_ids",
            "tcb_evaluation_data_number",
            "tee_tcb_svn",
            "qe_isvsvn",
            "pce_svn",
            "fmspc",
            "arch",
            "hwmodel",
            "fwid",
            "partition",
            "revocation",
            "mitigation.launch",
            "mitigation.current",
            "count",
            "switch_count",
            "topology",
            "verifier",
            "nras",
            "sources",
            "stale",
            "unavailable",
        ),
        "hardware",
    ),
)


def trust_category(check_id: str) -> str:
    """The AR4SI claim a check feeds (``configuration`` for anything not listed)."""
    head, _, rest = check_id.partition(".")
    if head in ("tdx", "sev_snp") and rest.startswith(("collateral.", "revocation.")):
        return "hardware"
    if ".ocsp." in f".{rest}" or rest.startswith("ocsp."):
        return "hardware"
    for suffixes, category in _CATEGORY_RULES:
        if rest in suffixes:
            return category
    return "configuration"


def _vector(checks: Sequence[Check]) -> dict[str, int]:
    """The trustworthiness vector of one verified component from its checks.

    A verified component starts with genuine hardware and encrypted runtime (verification
    itself established both); every evaluated check moves its category to the worst of
    affirming (pass), warning (warn) and contraindicated (fail); skipped checks make no claim.
    """
    out = dict.fromkeys(TRUST_CLAIMS, 0)
    out["hardware"] = 2
    out["runtime-opaque"] = 2
    for check in checks:
        if check.status is CheckStatus.SKIP:
            continue
        category = trust_category(check.id)
        passed, warned, failed = _VALUES.get(category, (2, 32, 96))
        value = {CheckStatus.PASS: passed, CheckStatus.WARN: warned, CheckStatus.FAIL: failed}[
            check.status
        ]
        out[category] = max(out[category], value) if out[category] >= 2 else value
    return out


def _tier(value: int) -> int:
    """0 none, 1 affirming, 2 warning, 3 contraindicated."""
    magnitude = abs(value)
    if value in (-1, 0, 1):
        return 0
    if magnitude < 32:
        return 1
    if magnitude < 96:
        return 2
    return 3


def status_of(vector: Mapping[str, int]) -> str:
    """``ear.status``: the worst tier in the vector (``none`` when it makes no claim)."""
    worst = max((_tier(v) for v in vector.values()), default=0)
    return ("none", "affirming", "warning", "contraindicated")[worst]


def _policy_id(appraisal: Appraisal) -> str:
    ref = appraisal.policy
    if ref.sha256:
        return f"urn:teeclient:policy:sha256:{ref.sha256}"
    return f"urn:teeclient:policy:{ref.source}"


def _pinned_key(comp: ComponentResult) -> dict[str, str] | None:
    public_key = getattr(comp.claims, "public_key", None)
    if not isinstance(public_key, str) or not public_key:
        return None
    raw = bytes.fromhex(public_key)
    return {
        "source": f"{comp.kind}.public_key",
        "sha-256": hashlib.sha256(raw).hexdigest(),
        "value": base64.urlsafe_b64encode(raw).rstrip(b"=").decode(),
    }


def ear_claims(
    appraisal: Appraisal,
    *,
    issued_at: datetime,
    ttl: timedelta = DEFAULT_TTL,
    nonce: bytes | None = None,
    verifier_build: str | None = None,
) -> dict[str, Any]:
    """The EAR claims set for an appraisal (one submodule per component).

    Global checks (collateral, trust log) count towards every submodule.
    """
    issued_at = require_aware(issued_at)
    submods: dict[str, Any] = {}
    for comp in appraisal.components:
        vector = _vector(comp.checks + appraisal.global_checks)
        status = status_of(vector)
        if not comp.accepted and status != "contraindicated":
            status = "contraindicated"
        entry: dict[str, Any] = {
            "ear.status": status,
            "ear.trustworthiness-vector": vector,
            "ear.appraisal-policy-id": _policy_id(appraisal),
            "teeclient.accepted": comp.accepted,
        }
        pinned = _pinned_key(comp)
        if pinned is not None:
            entry["teeclient.pinned-key"] = pinned
        submods[comp.label] = entry
    claims: dict[str, Any] = {
        "eat_profile": EAR_PROFILE,
        "iat": int(issued_at.timestamp()),
        "exp": int((issued_at + ttl).timestamp()),
        "ear.verifier-id": {
            "developer": "teeclient",
            "build": verifier_build or f"teeclient {__version__}",
        },
        "submods": submods,
        "teeclient.appraised-at": iso(appraisal.at),
        "teeclient.accepted": appraisal.accepted,
    }
    if nonce is not None:
        claims["eat_nonce"] = base64.urlsafe_b64encode(nonce).rstrip(b"=").decode()
    return claims


def algorithm_for(key: PrivateKey | PublicKey) -> str:
    """The JWS algorithm for a key: P-256 → ES256, P-384 → ES384, Ed25519 → EdDSA, RSA → RS256.

    Raises:
        KeyFileError: another curve, an RSA key under 2048 bits, or another key type.
    """
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        by_curve = {"secp256r1": "ES256", "secp384r1": "ES384"}
        alg = by_curve.get(key.curve.name)
        if alg is None:
            raise KeyFileError(
                "unsupported elliptic curve for EAR tokens",
                expected="P-256 or P-384",
                actual=key.curve.name,
            )
        return alg
    if isinstance(key, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey):
        return "EdDSA"
    if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
        if key.key_size < 2048:
            raise KeyFileError(
                "RSA key too small for EAR tokens",
                expected=">= 2048 bits",
                actual=f"{key.key_size} bits",
            )
        return "RS256"
    raise KeyFileError(
        "unsupported key type for EAR tokens",
        expected="EC P-256/P-384, Ed25519 or RSA",
        actual=type(key).__name__,
    )


def _kid(public: PublicKey) -> str:
    der = public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(der).hexdigest()[:32]


def sign_ear(claims: Mapping[str, Any], key: PrivateKey) -> str:
    """Sign an EAR claims set as a compact JWT (``typ`` JWT, ``kid`` = SPKI SHA-256 prefix).

    Raises:
        KeyFileError: a key type teeclient does not sign with.
    """
    alg = algorithm_for(key)
    headers = {"typ": "JWT", "kid": _kid(key.public_key())}
    return jwt.encode(dict(claims), key, algorithm=alg, headers=headers)


def _read_pem(path: Path) -> bytes:
    try:
        if path.stat().st_size > MAX_KEY_BYTES:
            raise KeyFileError("key file too large", field=str(path))
        return path.read_bytes()
    except OSError as exc:
        raise KeyFileError(f"cannot read key file: {exc.strerror}", field=str(path)) from exc


def load_private_key(path: Path, *, password: bytes | None = None) -> PrivateKey:
    """A PEM (PKCS#8 or traditional) private key for signing EAR tokens.

    Raises:
        KeyFileError: unreadable, not a private key, encrypted without a password, or an
            unsupported type.
    """
    data = _read_pem(path)
    try:
        key = serialization.load_pem_private_key(data, password=password)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise KeyFileError(
            "not a PEM private key (or it is encrypted)",
            field=str(path),
            expected="-----BEGIN PRIVATE KEY----- (EC P-256/P-384, Ed25519 or RSA)",
        ) from exc
    if not isinstance(
        key, ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey
    ):
        raise KeyFileError(
            "unsupported private key type",
            field=str(path),
            expected="EC P-256/P-384, Ed25519 or RSA",
            actual=type(key).__name__,
        )
    algorithm_for(key)
    return key


def load_public_key(path: Path) -> PublicKey:
    """A PEM public key, certificate (its key) or private key (its public half).

    Raises:
        KeyFileError: unreadable or not one of those, or an unsupported type.
    """
    data = _read_pem(path)
    key: object
    try:
        if b"-----BEGIN CERTIFICATE-----" in data:
            key = x509.load_pem_x509_certificate(data).public_key()
        elif b"PRIVATE KEY-----" in data:
            key = serialization.load_pem_private_key(data, password=None).public_key()
        else:
            key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise KeyFileError(
            "not a PEM public key, certificate or private key",
            field=str(path),
            expected="-----BEGIN PUBLIC KEY-----",
        ) from exc
    if not isinstance(key, ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey | rsa.RSAPublicKey):
        raise KeyFileError(
            "unsupported public key type",
            field=str(path),
            expected="EC P-256/P-384, Ed25519 or RSA",
            actual=type(key).__name__,
        )
    algorithm_for(key)
    return key


def _header(token: str) -> dict[str, Any]:
    try:
        header = jwt.get_unverified_header(token)
    except jwt.exceptions.DecodeError as exc:
        raise TokenError("not a compact JWT", field="token", actual=token[:40]) from exc
    return header


def verify_ear(token: str, key: PublicKey, *, now: datetime) -> dict[str, Any]:
    """Verify an EAR JWT with ``key`` at ``now`` and return its claims.

    Checks, in order: size and JWT form; the header ``alg`` is the one algorithm allowed for
    ``key`` (so ``none``, HMAC and other-key-type confusion fail before any signature work);
    the signature; ``iat``/``exp`` (and ``nbf``) at ``now``; ``eat_profile`` and the shape of
    ``submods``.

    Raises:
        TokenError: malformed; TokenAlgorithmError: alg not allowed; TokenSignatureError;
        TokenExpiredError; TokenProfileError. KeyFileError: unsupported key.
    """
    now = require_aware(now)
    token = token.strip()
    if len(token) > MAX_TOKEN_BYTES:
        raise TokenError("token too large", expected=f"<= {MAX_TOKEN_BYTES} bytes")
    expected_alg = algorithm_for(key)
    header = _header(token)
    alg = header.get("alg")
    if alg != expected_alg:
        raise TokenAlgorithmError(
            "token algorithm is not the one allowed for this key",
            field="alg",
            expected=expected_alg,
            actual=str(alg),
        )
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=[expected_alg],
            options={
                "verify_exp": False,
                "verify_iat": False,
                "verify_nbf": False,
                "verify_aud": False,
                "require": ["iat", "exp"],
            },
        )
    except jwt.exceptions.InvalidSignatureError as exc:
        raise TokenSignatureError(
            "token signature does not verify with the given key", field="signature"
        ) from exc
    except jwt.exceptions.MissingRequiredClaimError as exc:
        raise TokenProfileError(f"token lacks a required claim: {exc.claim}") from exc
    except jwt.exceptions.InvalidAlgorithmError as exc:
        raise TokenAlgorithmError("token algorithm not allowed", field="alg") from exc
    except jwt.exceptions.PyJWTError as exc:
        raise TokenError(f"token rejected: {exc}") from exc
    _check_times(claims, now)
    _check_profile(claims)
    return claims


def _int_claim(claims: Mapping[str, Any], name: str) -> int:
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise TokenProfileError(f"{name} must be an integer NumericDate", field=name)
    return value


def _check_times(claims: Mapping[str, Any], now: datetime) -> None:
    iat = _int_claim(claims, "iat")
    exp = _int_claim(claims, "exp")
    stamp = now.timestamp()
    when = iso(now)
    if stamp >= exp:
        raise TokenExpiredError(
            "token has expired",
            field="exp",
            expected=f"> {when}",
            actual=iso(datetime.fromtimestamp(exp, tz=UTC)),
        )
    not_before = claims.get("nbf", iat)
    if isinstance(not_before, int) and not isinstance(not_before, bool) and stamp < not_before:
        raise TokenExpiredError(
            "token is not valid yet",
            field="nbf" if "nbf" in claims else "iat",
            expected=f"<= {when}",
            actual=iso(datetime.fromtimestamp(not_before, tz=UTC)),
        )


def _check_profile(claims: Mapping[str, Any]) -> None:
    if claims.get("eat_profile") != EAR_PROFILE:
        raise TokenProfileError(
            "not an EAR token of this profile",
            field="eat_profile",
            expected=EAR_PROFILE,
            actual=str(claims.get("eat_profile")),
        )
    vid = claims.get("ear.verifier-id")
    if not isinstance(vid, dict) or not {"developer", "build"} <= set(vid):
        raise TokenProfileError("ear.verifier-id must name developer and build")
    submods = claims.get("submods")
    if not isinstance(submods, dict) or not submods:
        raise TokenProfileError("submods must be a non-empty object", field="submods")
    statuses = ("none", "affirming", "warning", "contraindicated")
    for name, sub in submods.items():
        if not isinstance(sub, dict) or sub.get("ear.status") not in statuses:
            raise TokenProfileError(
                "every submodule needs an ear.status",
                field=f"submods.{name}",
                expected=" | ".join(statuses),
            )


def describe_claims(claims: Mapping[str, Any]) -> str:
    """Pretty JSON of a verified token's claims (for the CLI)."""
    return json.dumps(claims, indent=2, sort_keys=True)
