"""`teeclient verify` / `inspect` on Nitro documents: exit codes and the --json schemas."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from typer.testing import CliRunner

from teeclient.cli import app
from tests.nitro_support import (
    BAD_SIGNATURE,
    BINDING,
    BINDING_CERT,
    DOCS,
    PROD,
    expectations,
    names,
    vector,
)

runner = CliRunner()


def _run(*args: str) -> tuple[int, dict[str, Any]]:
    result = runner.invoke(app, [*args, "--json"])
    return result.exit_code, json.loads(result.stdout)


def _at(name: str) -> str:
    return str(expectations()[name]["verification_time"]["suggested_now"])


@pytest.mark.parametrize("name", names())
def test_verify_every_vector(name: str) -> None:
    code, out = _run("verify", str(DOCS / name), "--at", _at(name))
    assert out["schema"] == "teeclient.verify/v1"
    assert out["evidence"]["platform"] == "nitro"
    assert out["exit_code"] == code
    exp = expectations()[name]
    if name == BAD_SIGNATURE:
        assert code == 3
        assert out["verified"] is False
        assert out["accepted"] is False
        assert out["error"]["code"] == "nitro.signature_invalid"
        assert out["components"][0]["kind"] == "nitro"
        return
    assert out["verified"] is True
    claims = out["components"][0]["claims"]
    assert claims["pcrs"] == exp["fields"]["pcrs"]
    assert claims["module_id"] == exp["fields"]["module_id"]
    debug = exp["fields"]["debug_mode_all_zero_pcr0_1_2"]
    assert claims["debug"] is debug
    assert code == (1 if debug else 0)
    assert out["accepted"] is (not debug)
    failed = [c["id"] for c in out["checks"] if c["status"] == "fail"]
    assert failed == (["nitro.debug"] if debug else [])


def test_verify_human_output() -> None:
    result = runner.invoke(app, ["verify", str(DOCS / PROD), "--at", _at(PROD)])
    assert result.exit_code == 0
    assert "ACCEPTED" in result.stdout
    assert "AWS Nitro Enclave" in result.stdout
    assert "nitro.revocation" in result.stdout


def test_verify_expired_now() -> None:
    code, out = _run("verify", str(DOCS / PROD))
    assert code == 3
    assert out["error"]["code"] == "chain.expired"


def test_verify_tampered_document(tmp_path: Path) -> None:
    data = bytearray(vector(PROD))
    data[-5] ^= 0x01
    path = tmp_path / "tampered.cbor"
    path.write_bytes(bytes(data))
    code, out = _run("verify", str(path), "--at", _at(PROD))
    assert code == 3
    assert out["error"]["code"] == "nitro.signature_invalid"


def test_verify_nonce(tmp_path: Path) -> None:
    name = "eternis-2024-09-09-debug.cbor"
    good = "00" * 19 + "01"
    code, out = _run("verify", str(DOCS / name), "--at", _at(name), "--nonce", good)
    assert code == 1
    assert out["components"][0]["claims"]["nonce_verified"] is True
    code, out = _run("verify", str(DOCS / name), "--at", _at(name), "--nonce", "00" * 20)
    assert code == 3
    assert out["error"]["code"] == "nitro.nonce_mismatch"
    code, out = _run("verify", str(DOCS / name), "--at", _at(name), "--nonce", "xyz")
    assert code == 2
    assert out["error"]["code"] == "usage.invalid"
    policy = tmp_path / "p.toml"
    policy.write_text("version = 1\n[[nitro]]\nallow_debug = true\nrequire_nonce = true\n")
    code, out = _run(
        "verify",
        str(DOCS / name),
        "--at",
        _at(name),
        "--policy",
        str(policy),
        "--nonce",
        "0x" + good.upper(),
    )
    assert code == 0, out
    code, out = _run("verify", str(DOCS / name), "--at", _at(name), "--policy", str(policy))
    assert code == 1
    assert [c["id"] for c in out["checks"] if c["status"] == "fail"] == ["nitro.nonce"]


def test_verify_tls_key_binding_policy(tmp_path: Path) -> None:
    cert = x509.load_der_x509_certificate(BINDING_CERT.read_bytes())
    spki = cert.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    policy = tmp_path / "binding.toml"
    policy.write_text(
        f'version = 1\n[[nitro]]\nallow_debug = true\nuser_data = "{spki.hex()}"\n'
        'max_timestamp_age = "5m"\n'
    )
    code, out = _run("verify", str(DOCS / BINDING), "--at", _at(BINDING), "--policy", str(policy))
    assert code == 0, out["checks"]
    policy.write_text(
        f'version = 1\n[[nitro]]\nallow_debug = true\nuser_data = "{spki.hex()[:-2]}00"\n'
    )
    code, out = _run("verify", str(DOCS / BINDING), "--at", _at(BINDING), "--policy", str(policy))
    assert code == 1
    assert [c["id"] for c in out["checks"] if c["status"] == "fail"] == ["nitro.user_data"]


@pytest.mark.parametrize("name", names())
def test_inspect_every_vector(name: str) -> None:
    code, out = _run("inspect", str(DOCS / name))
    assert code == 0
    assert out["schema"] == "teeclient.inspect/v1"
    assert out["kind"] == "nitro-evidence"
    assert out["content"]["pcrs"] == expectations()[name]["fields"]["pcrs"]
    assert out["content"]["verified"] is False


def test_inspect_malformed(tmp_path: Path) -> None:
    path = tmp_path / "bad.cbor"
    path.write_bytes(vector(PROD)[:100])
    code, out = _run("inspect", str(path))
    assert code == 3
    assert out["error"]["code"] == "evidence.malformed"


def test_policy_lint_and_show() -> None:
    result = runner.invoke(app, ["policy", "show", "baseline"])
    assert "[[nitro]]" in result.stdout
    root = Path(__file__).resolve().parents[2]
    for example in sorted((root / "policies" / "examples").glob("nitro*.toml")):
        lint = runner.invoke(app, ["policy", "lint", str(example)])
        assert lint.exit_code == 0, lint.stdout
        assert "nitro" in lint.stdout


def test_example_policy_accepts_the_production_vector_with_its_challenge() -> None:
    root = Path(__file__).resolve().parents[2]
    example = str(root / "policies" / "examples" / "nitro-production.toml")
    nonce = str(expectations()[PROD]["fields"]["nonce"])
    code, out = _run(
        "verify", str(DOCS / PROD), "--at", _at(PROD), "--policy", example, "--nonce", nonce
    )
    assert code == 0, [c for c in out["checks"] if c["status"] == "fail"]
    assert out["components"][0]["alternative_name"] == "release-2022-10"
    code, out = _run("verify", str(DOCS / PROD), "--at", _at(PROD), "--policy", example)
    assert code == 1
    assert [c["id"] for c in out["checks"] if c["status"] == "fail"] == ["nitro.nonce"]
