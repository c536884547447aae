"""teeclient.platforms.nitro.verify / claims / inspect, and their registry integration."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta
from typing import Any

import pytest

from teeclient.collateral.items import CollateralItem, CollateralSet
from teeclient.errors import ChainExpiredError, InputError, UsageError
from teeclient.inspection import describe
from teeclient.platforms import VerifyOptions, describe_evidence, detect_platform, verify_evidence
from teeclient.platforms.nitro.claims import NitroClaims
from teeclient.platforms.nitro.verify import partition_anchor, verify
from teeclient.trust import TrustStore
from teeclient.verification import load_evidence, verify_claims
from tests.conftest import REAL
from tests.nitro_support import (
    AT,
    PROD,
    SOON,
    attester,
    generate,
    names,
    suggested_now,
    vector,
    vendor,
)


@pytest.mark.parametrize("name", names())
def test_real_documents_are_recognised(name: str) -> None:
    assert detect_platform(vector(name)) == "nitro"
    assert detect_platform(b"\xd2" + vector(name)) == "nitro"
    assert load_evidence(vector(name)).platform == "nitro"


def test_sev_snp_reports_are_not_taken_for_nitro() -> None:
    report = (REAL / "sev-snp" / "genoa-v5-oak" / "report.bin").read_bytes()
    assert detect_platform(report) == "sev-snp"
    assert detect_platform(b"\x84") is None
    assert detect_platform(b"\x84\x00") is None


def test_unrecognised_input_mentions_nitro() -> None:
    with pytest.raises(InputError) as info:
        load_evidence(b"\x00" * 10)
    assert "Nitro" in str(info.value.expected)


def test_registry_entry_point_and_options() -> None:
    a = attester()
    doc = a.attest(at=AT, nonce=b"abc")
    claims = verify_evidence(
        "nitro",
        doc,
        collateral=CollateralSet(),
        trust=a.pki.trust_store(),
        now=SOON,
        options=VerifyOptions(nonce=b"abc"),
    )
    assert isinstance(claims, NitroClaims)
    assert claims.nonce_verified
    # collateral is not used (the document carries its chain)
    other = CollateralSet.of([CollateralItem(data=a.pki.cabundle[1], source="x")])
    again = verify_evidence(
        "nitro", doc, collateral=other, trust=a.pki.trust_store(), now=SOON, options=VerifyOptions()
    )
    assert isinstance(again, NitroClaims)
    assert not again.nonce_verified


def test_verify_claims_with_nonce() -> None:
    a = attester()
    claims = verify_claims(
        a.attest(at=AT, nonce=b"n"), trust=a.pki.trust_store(), at=SOON, nonce=b"n"
    )
    assert isinstance(claims, NitroClaims)
    assert claims.nonce_verified


def test_nonce_for_a_platform_that_cannot_check_it() -> None:
    report = REAL / "sev-snp" / "genoa-v5-oak" / "report.bin"
    with pytest.raises(UsageError):
        verify_claims(report, at=SOON, nonce=b"x")


def test_memo_remembers_a_checked_chain_but_not_its_validity() -> None:
    g = generate()
    trust = g.trust
    assert len(trust.memo._verified) == 0
    verify(g.document(), trust=trust, now=SOON)
    assert len(trust.memo._verified) == 1
    verify(g.document(), trust=trust, now=SOON)
    assert len(trust.memo._verified) == 1
    later = g.leaf.cert.not_valid_after_utc.replace(microsecond=0)
    with pytest.raises(ChainExpiredError):
        verify(g.document(), trust=trust, now=later + timedelta(seconds=1))


def test_partition_anchor_names() -> None:
    assert partition_anchor("aws") == "aws.nitro.root"
    assert "aws.nitro.root" in TrustStore.vendor().names()


# --- claims ---------------------------------------------------------------------------------------


def test_claims_json_and_summary() -> None:
    claims = verify(vector(PROD), trust=vendor(), now=suggested_now(PROD))
    body: dict[str, Any] = json.loads(json.dumps(claims.to_dict()))
    assert body["timestamp"] == "2022-10-13T08:58:02.136Z"
    assert body["pcrs"]["8"].startswith("8790eb3c")
    assert body["debug"] is False
    assert body["valid_until"] == "2022-10-13T11:58:02Z"
    assert body["certificate"]["subject"].startswith("CN=i-020b6af9246d90e92-enc")
    assert [c["role"] for c in body["chain"]] == [
        "certificate",
        "cabundle[3]",
        "cabundle[2]",
        "cabundle[1]",
        "root",
    ]
    assert body["null_fields"] == ["public_key", "user_data"]
    lines = claims.summary()
    assert "production" in lines[0]
    assert "us-east-1" in lines[0]
    assert any(line.startswith("PCR8 8790eb3c") for line in lines)
    assert claims.certificate.serial == f"{claims.certificate.certificate().serial_number:x}"
    assert claims.certificate.issuer == claims.chain[1].subject


def test_claims_invariants() -> None:
    claims = verify(vector(PROD), trust=vendor(), now=suggested_now(PROD))
    with pytest.raises(ValueError, match="PCR"):
        dataclasses.replace(claims, pcrs=((0, "00"),))
    with pytest.raises(ValueError, match="pcrs"):
        dataclasses.replace(claims, pcrs=())
    with pytest.raises(ValueError, match="nonce"):
        dataclasses.replace(claims, nonce="0g")
    with pytest.raises(ValueError, match="nonce_verified"):
        dataclasses.replace(claims, nonce=None, nonce_verified=True)
    with pytest.raises(ValueError, match="module_id"):
        dataclasses.replace(claims, module_id="")
    odd = dataclasses.replace(claims, module_id="enclave-7")
    assert odd.instance_id is None


# --- inspect --------------------------------------------------------------------------------------


def test_describe_real_document() -> None:
    content = describe_evidence("nitro", vector(PROD), options=VerifyOptions())
    assert content["verified"] is False
    assert content["cose"]["algorithm"] == "ES384"
    assert content["cose"]["tagged"] is False
    assert content["module_id"] == "i-020b6af9246d90e92-enc0183d09086c24190"
    assert content["timestamp"] == "2022-10-13T08:58:02.136Z"
    assert len(content["pcrs"]) == 16
    assert content["debug"] is False
    assert content["public_key"] is None
    assert content["nonce"] is not None
    assert content["cabundle"][0]["subject"] == "CN=aws.nitro-enclaves,OU=AWS,O=Amazon,C=US"
    assert content["certificate"]["role"] == "certificate"
    described = describe(vector(PROD), source="doc.cbor")
    assert described["kind"] == "nitro-evidence"
    json.dumps(described)


def test_describe_keeps_going_on_a_broken_certificate() -> None:
    g = generate()
    doc = g.document(cabundle=(g.pki.cabundle[0], b"\x30\x03\x02\x01\x01"))
    content = describe_evidence("nitro", doc, options=VerifyOptions())
    assert "error" in content["cabundle"][1]
