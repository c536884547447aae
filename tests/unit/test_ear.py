"""EAR tokens: claims from appraisals, signing, and verification that refuses forgeries."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from typer.testing import CliRunner

from teeclient.bundle import Bundle
from teeclient.cli import app
from teeclient.ear import (
    ALLOWED_ALGORITHMS,
    EAR_PROFILE,
    TRUST_CLAIMS,
    PrivateKey,
    algorithm_for,
    ear_claims,
    sign_ear,
    status_of,
    trust_category,
    verify_ear,
)
from teeclient.errors import (
    KeyFileError,
    TokenAlgorithmError,
    TokenError,
    TokenExpiredError,
    TokenProfileError,
    TokenSignatureError,
)
from teeclient.policy.appraise import COMPONENT_CHECK_ID
from teeclient.policy.checks import all_checks
from teeclient.policy.load import load_policy
from teeclient.policy.result import Appraisal
from teeclient.policytest import appraise_bundle

ROOT = Path(__file__).resolve().parents[2]
BUNDLES = ROOT / "examples" / "ci" / "bundles"
POLICY = ROOT / "examples" / "ci" / "policy.toml"
EXAMPLE = ROOT / "examples" / "ear"
T0 = datetime(2026, 1, 1, tzinfo=UTC)
runner = CliRunner()


def _appraisal(name: str) -> Appraisal:
    bundle = Bundle.from_json((BUNDLES / f"{name}.bundle.json").read_bytes())
    return appraise_bundle(bundle, load_policy(POLICY))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _forge(header: dict[str, Any], claims: dict[str, Any], signature: bytes = b"") -> str:
    head = _b64(json.dumps(header).encode())
    body = _b64(json.dumps(claims).encode())
    return f"{head}.{body}.{_b64(signature)}"


@pytest.fixture(scope="module")
def key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture(scope="module")
def token(key: ec.EllipticCurvePrivateKey) -> str:
    return sign_ear(ear_claims(_appraisal("sev-snp-genoa"), issued_at=T0), key)


def test_round_trip(key: ec.EllipticCurvePrivateKey, token: str) -> None:
    claims = verify_ear(token, key.public_key(), now=T0 + timedelta(minutes=5))
    assert claims["eat_profile"] == EAR_PROFILE
    assert claims["iat"] == int(T0.timestamp())
    assert claims["exp"] == int(T0.timestamp()) + 3600
    assert claims["ear.verifier-id"]["developer"] == "teeclient"
    sub = claims["submods"]["sev-snp[0]"]
    assert sub["ear.status"] == "affirming"
    assert set(sub["ear.trustworthiness-vector"]) == set(TRUST_CLAIMS)
    assert sub["ear.trustworthiness-vector"]["executables"] == 2
    assert sub["ear.trustworthiness-vector"]["hardware"] == 2
    assert sub["ear.appraisal-policy-id"].startswith("urn:teeclient:policy:sha256:")
    assert jwt.get_unverified_header(token)["alg"] == "ES256"


def test_rejected_component_is_contraindicated() -> None:
    claims = ear_claims(_appraisal("nitro-debug"), issued_at=T0)
    sub = claims["submods"]["nitro[0]"]
    assert sub["ear.status"] == "contraindicated"
    vector = sub["ear.trustworthiness-vector"]
    assert vector["executables"] == 96  # PCRs not the pinned ones
    assert vector["runtime-opaque"] == 96  # debug mode: memory visible


def test_pinned_key_and_nonce() -> None:
    appraisal = _appraisal("nitro-debug")  # this document carries a public_key
    claims = ear_claims(appraisal, issued_at=T0, nonce=b"\x01" * 32)
    pinned = claims["submods"]["nitro[0]"]["teeclient.pinned-key"]
    public_key = appraisal.components[0].claims.to_dict()["public_key"]
    assert isinstance(public_key, str)
    assert pinned["sha-256"] == hashlib.sha256(bytes.fromhex(public_key)).hexdigest()
    assert claims["eat_nonce"] == _b64(b"\x01" * 32)


def test_one_submodule_per_component() -> None:
    claims = ear_claims(_appraisal("nvidia-h100"), issued_at=T0)
    assert set(claims["submods"]) == {"nvidia-node[0]", "nvidia-gpu[0]"}


def test_tampered_claim_rejected(key: ec.EllipticCurvePrivateKey, token: str) -> None:
    head, body, sig = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    claims["submods"]["sev-snp[0]"]["ear.status"] = "affirming"
    claims["teeclient.accepted"] = False
    forged = f"{head}.{_b64(json.dumps(claims).encode())}.{sig}"
    with pytest.raises(TokenSignatureError):
        verify_ear(forged, key.public_key(), now=T0)


def test_other_key_rejected(token: str) -> None:
    other = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(TokenSignatureError):
        verify_ear(token, other.public_key(), now=T0)
    with pytest.raises(TokenAlgorithmError):  # a key of another type allows another alg
        verify_ear(token, ed25519.Ed25519PrivateKey.generate().public_key(), now=T0)


def test_alg_none_rejected(key: ec.EllipticCurvePrivateKey) -> None:
    claims = ear_claims(_appraisal("sev-snp-genoa"), issued_at=T0)
    forged = _forge({"alg": "none", "typ": "JWT"}, claims)
    with pytest.raises(TokenAlgorithmError) as info:
        verify_ear(forged, key.public_key(), now=T0)
    assert info.value.code == "token.algorithm_not_allowed"


def test_hs256_with_the_public_key_as_secret_rejected(key: ec.EllipticCurvePrivateKey) -> None:
    claims = ear_claims(_appraisal("sev-snp-genoa"), issued_at=T0)
    pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    head = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = _b64(json.dumps(claims).encode())
    mac = hmac.new(pem, f"{head}.{body}".encode(), hashlib.sha256).digest()
    with pytest.raises(TokenAlgorithmError):
        verify_ear(f"{head}.{body}.{_b64(mac)}", key.public_key(), now=T0)


def test_expiry_and_not_yet_valid(key: ec.EllipticCurvePrivateKey, token: str) -> None:
    with pytest.raises(TokenExpiredError):
        verify_ear(token, key.public_key(), now=T0 + timedelta(hours=1))
    with pytest.raises(TokenExpiredError):
        verify_ear(token, key.public_key(), now=T0 - timedelta(seconds=1))


def test_profile_checked(key: ec.EllipticCurvePrivateKey) -> None:
    claims = ear_claims(_appraisal("sev-snp-genoa"), issued_at=T0)
    claims["eat_profile"] = "tag:example.com,2024:other"
    with pytest.raises(TokenProfileError):
        verify_ear(sign_ear(claims, key), key.public_key(), now=T0)
    claims = ear_claims(_appraisal("sev-snp-genoa"), issued_at=T0)
    del claims["exp"]
    with pytest.raises(TokenProfileError):
        verify_ear(sign_ear(claims, key), key.public_key(), now=T0)
    with pytest.raises(TokenError):
        verify_ear("not-a-token", key.public_key(), now=T0)


@pytest.mark.parametrize(
    ("make", "alg"),
    [
        (lambda: ec.generate_private_key(ec.SECP256R1()), "ES256"),
        (lambda: ec.generate_private_key(ec.SECP384R1()), "ES384"),
        (ed25519.Ed25519PrivateKey.generate, "EdDSA"),
        (lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048), "RS256"),
    ],
)
def test_algorithm_by_key_type(make: Any, alg: str) -> None:
    key: PrivateKey = make()
    assert algorithm_for(key) == alg
    assert alg in ALLOWED_ALGORITHMS
    token = sign_ear(ear_claims(_appraisal("tdx"), issued_at=T0), key)
    assert jwt.get_unverified_header(token)["alg"] == alg
    assert verify_ear(token, key.public_key(), now=T0)["submods"]["tdx[0]"]["ear.status"]


def test_unsupported_keys() -> None:
    with pytest.raises(KeyFileError):
        algorithm_for(ec.generate_private_key(ec.SECP521R1()))
    with pytest.raises(KeyFileError):
        algorithm_for(rsa.generate_private_key(public_exponent=65537, key_size=1024))  # noqa: S505


def test_every_check_id_has_a_trust_category() -> None:
    ids = {COMPONENT_CHECK_ID} | {i for ids in all_checks().values() for i in ids}
    assert {trust_category(i) for i in ids} <= set(TRUST_CLAIMS)
    assert trust_category("sev_snp.measurement") == "executables"
    assert trust_category("tdx.td_attributes.debug") == "runtime-opaque"
    assert trust_category("tdx.tcb_status") == "hardware"
    assert trust_category("nvidia_gpu.ocsp.vbios_rim") == "hardware"
    assert trust_category("nitro.nonce") == "instance-identity"


def test_status_tiers() -> None:
    assert status_of(dict.fromkeys(TRUST_CLAIMS, 0)) == "none"
    assert status_of({"hardware": 2, "executables": 0}) == "affirming"
    assert status_of({"hardware": 32, "executables": 2}) == "warning"
    assert status_of({"hardware": 2, "executables": 96}) == "contraindicated"


def _write_key(path: Path, key: PrivateKey) -> None:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


def test_cli_verify_ear_then_token_verify(tmp_path: Path) -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    key_file = tmp_path / "key.pem"
    _write_key(key_file, key)
    pub = tmp_path / "key.pub.pem"
    pub.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    out = tmp_path / "result.jwt"
    bundle = str(BUNDLES / "tdx.bundle.json")
    result = runner.invoke(
        app, ["verify", bundle, "--offline", "--ear", str(key_file), "--ear-out", str(out)]
    )
    assert result.exit_code == 0, result.output
    token = out.read_text().strip()
    check = runner.invoke(app, ["token", "verify", str(out), "--key", str(pub), "--json"])
    assert check.exit_code == 0, check.output
    doc = json.loads(check.stdout)
    assert doc["valid"] is True
    assert doc["claims"]["submods"]["tdx[0]"]["ear.status"] == "affirming"
    # the JWT itself on the command line, and the private key file as the verification key
    assert runner.invoke(app, ["token", "verify", token, "--key", str(key_file)]).exit_code == 0
    # JSON output carries the token when no --ear-out is given
    doc = json.loads(
        runner.invoke(app, ["verify", bundle, "--json", "--ear", str(key_file)]).stdout
    )
    assert doc["ear"].count(".") == 2
    # another key: exit 3 with the code
    other = tmp_path / "other.pem"
    _write_key(other, ed25519.Ed25519PrivateKey.generate())
    bad = runner.invoke(app, ["token", "verify", str(out), "--key", str(other), "--json"])
    assert bad.exit_code == 3
    assert json.loads(bad.stdout)["error"]["code"] == "token.signature_invalid"


def test_cli_example_token_and_bad_key_file(tmp_path: Path) -> None:
    args = ["token", "verify", str(EXAMPLE / "example-result.jwt"), "--key"]
    pub = str(EXAMPLE / "example-signing-key.pub.pem")
    assert runner.invoke(app, [*args, pub, "--at", "2026-01-01T00:30:00Z"]).exit_code == 0
    expired = runner.invoke(app, [*args, pub, "--json"])
    assert expired.exit_code == 3
    assert json.loads(expired.stdout)["error"]["code"] == "token.expired"
    junk = tmp_path / "junk.pem"
    junk.write_text("not a key")
    assert runner.invoke(app, [*args, str(junk)]).exit_code == 2
    result = runner.invoke(
        app, ["verify", str(BUNDLES / "tdx.bundle.json"), "--ear", str(junk), "--json"]
    )
    assert result.exit_code == 2
    assert json.loads(result.stdout)["error"]["code"] == "config.key_invalid"
