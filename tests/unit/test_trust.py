"""Pinned AMD roots and the TrustStore: fingerprints from the spec, explicit derivation only."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from teeclient import trust as trust_module
from teeclient.errors import ChainUntrustedError, ConfigError
from teeclient.platforms.sev_snp.verify import verify
from teeclient.trust import TrustStore
from tests._snp import ROOTS, Vector

# specs/sev-snp.md §5.2, copied by hand: the SHA-256 of each pinned certificate's DER.
SPEC_FINGERPRINTS = {
    "amd.milan.ark": "69d063b45344d26a2e94e1f4210de49ef555308287d4c174445c95639a540bcd",
    "amd.milan.ask": "67d303bd3905fd38db8b20e0793699870e7fa612eaad5dec358293fd8c0bac1b",
    "amd.milan.asvk": "c5e081f59b7efab1fe2f8b505e159704e72f29cab7ef7cf628a05a42439082f5",
    "amd.genoa.ark": "4c6598d19c18719c5dfd4a7d335f674e5bfe1d8f800cea2cf270c10d103db2f1",
    "amd.genoa.ask": "5464738c1546aed5f2cecf1dc98c5c960a92e8913238a61711bc90ec6e828521",
    "amd.genoa.asvk": "197e610743a917d6b9bb982a5a9226ccc0a15b611be0619e626aca9151457372",
    "amd.turin.ark": "1f084161a44bb6d93778a904877d4819cafa5d05ef4193b2ded9dd9c73dd3f6a",
    "amd.turin.ask": "5b77ef5fe7a7a004fd9032668fba9d0fda22f88c4442069a479636a6ae3b3185",
    "amd.turin.asvk": "104e10a8bd060a3c20a434261a57d0588fd65a88915b4f65b08bdecaf8df1a3c",
}
# specs/sev-snp.md §5.2 serial numbers.
SPEC_SERIALS = {
    "amd.milan.ark": 65536,
    "amd.milan.ask": 65537,
    "amd.milan.asvk": 65793,
    "amd.genoa.ark": 131072,
    "amd.genoa.ask": 131074,
    "amd.genoa.asvk": 131329,
    "amd.turin.ark": 196608,
    "amd.turin.ask": 196609,
    "amd.turin.asvk": 196865,
}


def _cn(cert: x509.Certificate, which: str = "subject") -> str:
    name: x509.Name = getattr(cert, which)
    value = name.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    assert isinstance(value, str)
    return value


def _expected_cn(anchor: str) -> str:
    _, product, role = anchor.split(".")
    p = product.capitalize()
    return {"ark": f"ARK-{p}", "ask": f"SEV-{p}", "asvk": f"SEV-VLEK-{p}"}[role]


@pytest.fixture(scope="module")
def store() -> TrustStore:
    return TrustStore.vendor()


def test_vendor_names(store: TrustStore) -> None:
    amd = {name for name in store.names() if name.startswith("amd.")}
    assert amd == set(SPEC_FINGERPRINTS)


@pytest.mark.parametrize("anchor", sorted(SPEC_FINGERPRINTS))
def test_vendor_fingerprint_matches_spec(store: TrustStore, anchor: str) -> None:
    found = store.get(anchor)
    assert found is not None
    assert found.fingerprints == (SPEC_FINGERPRINTS[anchor],)
    # recompute independently of TrustAnchor
    (cert,) = found.certificates
    assert hashlib.sha256(cert.public_bytes(Encoding.DER)).hexdigest() == SPEC_FINGERPRINTS[anchor]


@pytest.mark.parametrize("anchor", sorted(SPEC_FINGERPRINTS))
def test_vendor_subjects_and_serials(store: TrustStore, anchor: str) -> None:
    found = store.get(anchor)
    assert found is not None
    (cert,) = found.certificates
    assert _cn(cert) == _expected_cn(anchor)
    product = anchor.split(".")[1].capitalize()
    assert _cn(cert, "issuer") == f"ARK-{product}"
    assert cert.serial_number == SPEC_SERIALS[anchor]


def test_vendor_roots_equal_fixture_roots(store: TrustStore) -> None:
    # The shipped package data is byte-identical to the vectors' KDS cert_chain bundles.
    for path in sorted(ROOTS.glob("*.pem")):
        for cert in x509.load_pem_x509_certificates(path.read_bytes()):
            digest = hashlib.sha256(cert.public_bytes(Encoding.DER)).hexdigest()
            assert digest in SPEC_FINGERPRINTS.values(), path.name


def test_describe_lists_every_anchor(store: TrustStore) -> None:
    described = {str(d["name"]): d for d in store.describe() if str(d["name"]).startswith("amd.")}
    assert set(described) == set(SPEC_FINGERPRINTS)
    for name, entry in described.items():
        assert entry["sha256"] == [SPEC_FINGERPRINTS[name]]
        assert str(entry["source"]).startswith("https://kdsintf.amd.com/")


def test_with_anchor_replaces_and_leaves_original(store: TrustStore) -> None:
    genoa_ask = store.require("amd.genoa.ask", platform="t").certificates[0]
    derived = store.with_anchor("amd.milan.ask", [genoa_ask], source="test")
    replaced = derived.get("amd.milan.ask")
    assert replaced is not None
    assert replaced.fingerprints == (SPEC_FINGERPRINTS["amd.genoa.ask"],)
    assert replaced.source == "test"
    original = store.get("amd.milan.ask")
    assert original is not None
    assert original.fingerprints == (SPEC_FINGERPRINTS["amd.milan.ask"],)
    assert set(derived.names()) == set(store.names())


def test_with_added_anchor_adds_and_dedupes(store: TrustStore) -> None:
    milan_ask = store.require("amd.milan.ask", platform="t").certificates[0]
    genoa_ask = store.require("amd.genoa.ask", platform="t").certificates[0]
    derived = store.with_added_anchor(
        "amd.milan.ask", [genoa_ask, milan_ask, genoa_ask], source="second root"
    )
    anchor = derived.get("amd.milan.ask")
    assert anchor is not None
    assert anchor.fingerprints == (
        SPEC_FINGERPRINTS["amd.milan.ask"],
        SPEC_FINGERPRINTS["amd.genoa.ask"],
    )
    assert anchor.contains(genoa_ask)
    assert anchor.contains(milan_ask)
    # a brand-new anchor name
    fresh = store.with_added_anchor("test.extra.root", [genoa_ask], source="x")
    assert fresh.names() == tuple(sorted([*store.names(), "test.extra.root"]))
    original = store.get("amd.milan.ask")
    assert original is not None
    assert len(original.certificates) == 1
    assert store.get("test.extra.root") is None


def test_without_removes(store: TrustStore) -> None:
    derived = store.without("amd.turin.ark")
    assert "amd.turin.ark" not in derived.names()
    assert len(derived) == len(store) - 1
    assert store.get("amd.turin.ark") is not None
    with pytest.raises(ChainUntrustedError) as info:
        derived.require("amd.turin.ark", platform="sev-snp")
    assert info.value.code == "chain.untrusted"


def test_by_subject_index(store: TrustStore) -> None:
    ark = store.require("amd.genoa.ark", platform="t").certificates[0]
    hits = store.by_subject(ark.subject.public_bytes())
    assert [h.anchor for h in hits] == ["amd.genoa.ark"]
    assert store.by_subject(b"\x30\x00") == ()


def test_empty_anchor_is_a_programming_error() -> None:
    with pytest.raises(ValueError):  # noqa: PT011 (a programmer error: no code to assert)
        TrustStore.empty().with_anchor("x.y.z", [], source="nothing")


def test_wrong_pinned_fingerprint_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    tampered = dict(trust_module.VENDOR_FINGERPRINTS)
    tampered["amd.genoa.ask"] = ("00" * 32,)
    monkeypatch.setattr(trust_module, "VENDOR_FINGERPRINTS", tampered)
    with pytest.raises(ConfigError) as info:
        TrustStore.vendor()
    assert info.value.code == "config.invalid"
    assert info.value.field == "amd.genoa.ask"


def test_empty_store_rejects_every_vector() -> None:
    vector = Vector("genoa-v5-oak")
    with pytest.raises(ChainUntrustedError):
        verify(
            vector.report, trust=TrustStore.empty(), now=vector.now, collateral=vector.collateral()
        )


def test_store_without_product_intermediate_rejects() -> None:
    vector = Vector("turin-v5-oak")
    store = TrustStore.vendor().without("amd.turin.ask")
    with pytest.raises(ChainUntrustedError):
        verify(vector.report, trust=store, now=vector.now, collateral=vector.collateral())
    # and with the ARK gone but the ASK pinned: the ASK cannot chain to a pinned ARK
    store = TrustStore.vendor().without("amd.turin.ark")
    with pytest.raises(ChainUntrustedError):
        verify(vector.report, trust=store, now=vector.now, collateral=vector.collateral())


def test_now_must_be_aware() -> None:
    vector = Vector("genoa-v5-oak")
    with pytest.raises(ValueError):  # noqa: PT011 (a programmer error: no code to assert)
        verify(
            vector.report,
            trust=TrustStore.vendor(),
            now=datetime(2026, 1, 1),
            collateral=vector.collateral(),
        )
    # an aware non-UTC time is fine
    claims = verify(
        vector.report,
        trust=TrustStore.vendor(),
        now=datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=2))),
        collateral=vector.collateral(),
    )
    assert claims.product.value == "genoa"
