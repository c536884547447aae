"""The real Tinfoil v2 document (fixtures/real/tinfoil): parsed, verified with its VCEK at a
time in 2026, and bound to the TLS SPKI hash and HPKE key its PROVENANCE gives."""

from __future__ import annotations

import base64
import gzip
import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from teeclient.attest import verify_document, verify_tinfoil_document
from teeclient.errors import TeeclientError
from teeclient.policy.load import parse_policy
from teeclient.policy.result import CheckStatus
from teeclient.tinfoil import V2_FORMATS, TinfoilV2Document, parse_tinfoil_document

from ..conftest import REAL

TINFOIL = REAL / "tinfoil" / "sev-snp"
DOC = TINFOIL / "tinfoil_genoa_v2_attestation_doc.json"
VCEK = TINFOIL / "genoa_vcek_chip1af1aa6c_tcb0a00000000001754.der"
REPORT = TINFOIL / "genoa_report_v3_from_testdoc.bin"
TLS = "10ca85437a8e7353494bd4fce763b0aad25107cd8ab5e4a051c28b454f01063e"
HPKE = "be5a9c84f5b53a4ed9abcf7cf7fd533718ca132c9fb5873b02a97d2e2081f80d"
AT = datetime(2026, 6, 1, tzinfo=UTC)
V2_POLICY = """
version = 1
[freshness]
nonce = "optional"
max_evidence_age = "1h"
[binding]
layouts = ["tinfoil-v2"]
pin = ["hpke", "tls_spki"]
[[sev_snp]]
products = ["genoa"]
guest_policy = { allow = ["smt"] }
measurement = "MEASUREMENT"
""".replace(
    "MEASUREMENT",
    "2dedaee13b84dc618efc73f685b16de46826380a2dd45df15da3dd8badbc9822"
    "cadf7bfc7595912c4517ba6fab1b52c0",
)


def test_document_decodes_to_the_raw_report() -> None:
    doc = parse_tinfoil_document(DOC.read_bytes())
    assert isinstance(doc, TinfoilV2Document)
    assert doc.platform == "sev-snp"
    assert V2_FORMATS[doc.format] == "sev-snp"
    assert doc.evidence == REPORT.read_bytes()
    assert doc.evidence[0x50:0x70].hex() == TLS
    assert doc.evidence[0x70:0x90].hex() == HPKE
    assert doc.document_hash == "47cb1bf5bcff41e69ade2a454d045edfd9be6be46017fb448e6655358fff142f"


def test_verified_v2_document_binds_the_tls_and_hpke_keys() -> None:
    result = verify_document(
        DOC.read_bytes(),
        nonce=None,
        now=AT,
        policy=parse_policy(V2_POLICY),
        collateral=[VCEK],
        nonce_issued_at=AT,
    )
    identity = result.identity
    assert identity is not None
    assert identity.layout == "tinfoil-v2"
    assert identity.tls_spki_sha256 is not None
    assert identity.tls_spki_sha256.hex() == TLS
    assert identity.hpke_public_key is not None
    assert identity.hpke_public_key.hex() == HPKE
    assert identity.nonce is None
    statuses = {c.id: c.status for c in result.appraisal.checks}
    assert statuses["freshness.nonce"] is CheckStatus.PASS
    assert statuses["binding.layout"] is CheckStatus.PASS
    assert statuses["binding.pin"] is CheckStatus.PASS
    assert statuses["sev_snp.measurement"] is CheckStatus.PASS


def test_static_evidence_is_rejected_by_default_policies() -> None:
    result = verify_tinfoil_document(DOC.read_bytes(), nonce=None, now=AT, collateral=[VCEK])
    assert result.identity is None
    failed = {c.id for c in result.appraisal.checks if c.status is CheckStatus.FAIL}
    assert {"freshness.nonce", "binding.layout"} <= failed


def test_after_the_vceks_expiry_the_chain_is_expired() -> None:
    with pytest.raises(TeeclientError) as info:
        verify_document(
            DOC.read_bytes(),
            nonce=None,
            now=datetime(2033, 6, 1, tzinfo=UTC),
            policy=parse_policy(V2_POLICY),
            collateral=[VCEK],
        )
    assert info.value.code == "chain.expired"


def test_a_changed_body_is_not_authentic() -> None:
    doc = json.loads(DOC.read_bytes())
    report = bytearray(gzip.decompress(base64.b64decode(doc["body"])))
    report[0x70] ^= 1  # another HPKE key in REPORT_DATA
    doc["body"] = base64.b64encode(gzip.compress(bytes(report))).decode()
    with pytest.raises(TeeclientError) as info:
        verify_document(
            json.dumps(doc).encode(),
            nonce=None,
            now=AT,
            policy=parse_policy(V2_POLICY),
            collateral=[VCEK],
        )
    assert info.value.code == "snp.signature_invalid"


def test_cli_verifies_the_tinfoil_document(tmp_path: Path) -> None:
    policy = tmp_path / "v2.toml"
    policy.write_text(V2_POLICY)
    cli = str(Path(sys.executable).with_name("teeclient"))
    args = [cli, "verify", str(DOC), "-c", str(VCEK), "--at", "2026-06-01T00:00:00Z", "--offline"]
    accepted = subprocess.run(
        [*args, "--policy", str(policy), "--json"], capture_output=True, text=True
    )
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    out = json.loads(accepted.stdout)
    assert out["evidence"]["platform"] == "sev-snp"
    assert out["accepted"] is True
    rejected = subprocess.run([*args, "--json"], capture_output=True, text=True)
    assert rejected.returncode == 1, rejected.stdout
