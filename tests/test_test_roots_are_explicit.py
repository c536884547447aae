"""Test roots are trusted only when a caller passes them explicitly (DESIGN.md §7).

No environment variable, default file, policy key or CLI default adds a root: evidence from
the mock hardware is refused with ``chain.untrusted`` everywhere unless the caller hands over
the generated roots (a TrustStore, or a trust file named with ``--trust``).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from teeclient.attest import verify_document
from teeclient.binding import BoundKeys
from teeclient.errors import PolicyError, TeeclientError
from teeclient.policy.load import parse_policy
from teeclient.policy.model import policy_json_schema
from teeclient.testing.hardware import HardwareSpec, MockHardware, VendorPkis
from teeclient.trust import VENDOR_FINGERPRINTS, TrustStore

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 2, 1, 10, tzinfo=UTC)
NONCE = bytes(range(32))
KEYS = BoundKeys(ohttp_keys=b"\x00\x29" + bytes(41))
_ENV = {
    "TEECLIENT_TRUST": "{trust}",
    "TEECLIENT_TRUST_FILE": "{trust}",
    "TEECLIENT_ROOTS": "{trust}",
    "TEECLIENT_TEST_ROOTS": "1",
    "SSL_CERT_FILE": "{trust}",
    "REQUESTS_CA_BUNDLE": "{trust}",
}


@pytest.fixture(scope="module", params=["sev-snp", "tdx", "nitro"])
def hardware(request: pytest.FixtureRequest, mock_pkis: VendorPkis) -> MockHardware:
    return MockHardware(HardwareSpec(platform=request.param, gpus=1), pkis=mock_pkis)


def test_default_and_vendor_stores_refuse_mock_evidence(hardware: MockHardware) -> None:
    raw = hardware.document(NONCE, KEYS, at=NOW)
    policy = hardware.policy()
    for trust in (None, TrustStore.vendor(), TrustStore.default()):
        with pytest.raises(TeeclientError) as info:
            verify_document(raw, nonce=NONCE, now=NOW, policy=policy, trust=trust)
        assert info.value.code == "chain.untrusted"
    result = verify_document(raw, nonce=NONCE, now=NOW, policy=policy, trust=hardware.trust_store())
    assert result.identity is not None


def test_the_environment_cannot_add_roots(tmp_path: Path, hardware: MockHardware) -> None:
    trust = tmp_path / "trust.toml"
    trust.write_text(hardware.trust_file())
    env = {**os.environ, **{k: v.format(trust=trust) for k, v in _ENV.items()}}
    code = (
        "import json; from teeclient.trust import TrustStore; "
        "print(json.dumps({a.name: list(a.fingerprints) for a in TrustStore.default()}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert json.loads(out.stdout) == {k: list(v) for k, v in VENDOR_FINGERPRINTS.items()}


def test_no_policy_key_can_add_roots() -> None:
    schema = json.dumps(policy_json_schema())
    keys = set(re.findall(r'"([a-z_0-9]+)": \{', schema))
    suspicious = {k for k in keys if "trust" in k or "anchor" in k or k.endswith("_root")}
    assert suspicious == {
        "partition_root",  # chooses among the pinned Nitro roots, never adds one
        "trusted_author_key_hashes",  # SEV-SNP ID-block key allow-lists, not chain roots
        "trusted_id_key_hashes",
    }
    for extra in ('[trust]\nfile = "x"', 'trust_file = "x"', '[[sev_snp]]\nroots = ["x"]'):
        with pytest.raises(PolicyError):
            parse_policy("version = 1\n" + extra)


def test_the_trust_module_reads_no_environment() -> None:
    for path in (ROOT / "src" / "teeclient" / "trust").glob("*.py"):
        text = path.read_text()
        assert "os.environ" not in text, path
        assert "import os" not in text, path
        assert "getenv" not in text, path


def test_cli_needs_an_explicit_trust_file(tmp_path: Path, mock_pkis: VendorPkis) -> None:
    hw = MockHardware(HardwareSpec(platform="sev-snp"), pkis=mock_pkis)
    doc = tmp_path / "doc.json"
    doc.write_bytes(hw.document(NONCE, KEYS, at=NOW))
    (tmp_path / "trust.toml").write_text(hw.trust_file())
    (tmp_path / "policy.toml").write_text(hw.policy_toml())
    cli = str(Path(sys.executable).with_name("teeclient"))
    base = [
        cli,
        "verify",
        str(doc),
        "--nonce",
        NONCE.hex(),
        "--at",
        "2026-02-01T10:00:00Z",
        "--policy",
        str(tmp_path / "policy.toml"),
        "--offline",
        "--json",
    ]
    env = {
        **os.environ,
        **{k: v.format(trust=tmp_path / "trust.toml") for k, v in _ENV.items()},
        "HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path),
    }
    # A trust file in the usual places is ignored too.
    for where in (tmp_path / ".config" / "teeclient", tmp_path / "teeclient"):
        where.mkdir(parents=True, exist_ok=True)
        (where / "trust.toml").write_text(hw.trust_file())
    refused = subprocess.run(base, env=env, capture_output=True, text=True, cwd=tmp_path)
    assert refused.returncode == 3, refused.stderr
    assert json.loads(refused.stdout)["error"]["code"] == "chain.untrusted"
    accepted = subprocess.run(
        [*base, "--trust", str(tmp_path / "trust.toml")], env=env, capture_output=True, text=True
    )
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
