"""teeclient.bundle/v1: round trip, strictness, integrity and bounds."""

from __future__ import annotations

import base64
import contextlib
import json
from datetime import UTC, datetime
from types import MappingProxyType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from teeclient.bundle import BUNDLE_FORMAT, Bundle, BundleEvidence, is_bundle
from teeclient.collateral.items import CollateralItem
from teeclient.errors import ParseError, TeeclientError

from .conftest import GENOA

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _bundle() -> Bundle:
    return Bundle(
        captured_at=NOW,
        target="report.bin",
        evidence=BundleEvidence(
            platform="sev-snp", data=(GENOA / "report.bin").read_bytes(), source="report.bin"
        ),
        options=MappingProxyType({"product": "genoa"}),
        collateral=(
            CollateralItem(
                data=(GENOA / "vcek.der").read_bytes(),
                source="https://kdsintf.amd.com/vcek/v1/Genoa/x",
                media_type="application/pkix-cert",
                headers=MappingProxyType({"content-type": "application/pkix-cert"}),
                fetched_at=NOW,
                origin="network",
            ),
            CollateralItem(
                data=b"body",
                source="https://ocsp.example",
                method="POST",
                request_body=b"req",
                media_type="application/ocsp-response",
            ),
        ),
    )


def test_round_trip_is_exact() -> None:
    original = _bundle()
    raw = original.to_json()
    assert is_bundle(raw)
    loaded = Bundle.from_json(raw)
    assert loaded.captured_at == NOW
    assert loaded.evidence == original.evidence
    assert loaded.options == {"product": "genoa"}
    assert [
        (i.source, i.data, i.method, i.request_body, dict(i.headers), i.fetched_at)
        for i in loaded.collateral
    ] == [
        (i.source, i.data, i.method, i.request_body, dict(i.headers), i.fetched_at)
        for i in original.collateral
    ]
    assert all(i.origin == "bundle" for i in loaded.collateral)
    assert loaded.to_json() != b"" and json.loads(loaded.to_json())["format"] == BUNDLE_FORMAT


def _mutate(change: dict[str, object]) -> bytes:
    doc = json.loads(_bundle().to_json())
    doc.update(change)
    return json.dumps(doc).encode()


@pytest.mark.parametrize(
    "change",
    [
        {"format": "teeclient.bundle/v2"},
        {"surprise": 1},
        {"captured_at": "2026-01-01T00:00:00"},
        {"captured_at": 5},
        {"collateral": "nope"},
        {"options": {"product": 3}},
        {"evidence": None, "document": None},
        {"evidence": "x"},
    ],
)
def test_malformed_members_are_rejected(change: dict[str, object]) -> None:
    with pytest.raises(ParseError):
        Bundle.from_json(_mutate(change))


def test_tampered_data_fails_its_recorded_hash() -> None:
    doc = json.loads(_bundle().to_json())
    data = bytearray(base64.b64decode(doc["collateral"][0]["data"]))
    data[100] ^= 1
    doc["collateral"][0]["data"] = base64.b64encode(bytes(data)).decode()
    with pytest.raises(ParseError) as info:
        Bundle.from_json(json.dumps(doc).encode())
    assert info.value.field == "collateral[0].sha256"
    doc = json.loads(_bundle().to_json())
    doc["evidence"]["data"] = base64.b64encode(b"x" * 1184).decode()
    with pytest.raises(ParseError):
        Bundle.from_json(json.dumps(doc).encode())


def test_not_json_and_bounds() -> None:
    with pytest.raises(ParseError):
        Bundle.from_json(b"\xff\xfe")
    with pytest.raises(ParseError):
        Bundle.from_json(b"[]")
    doc = json.loads(_bundle().to_json())
    doc["collateral"] = doc["collateral"] * 300
    with pytest.raises(ParseError):
        Bundle.from_json(json.dumps(doc).encode())
    assert not is_bundle(b"\x02\x00\x00\x00")


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2048))
def test_arbitrary_bytes_raise_only_teeclient_errors(data: bytes) -> None:
    with contextlib.suppress(TeeclientError):
        Bundle.from_json(data)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(
            [
                "format",
                "captured_at",
                "target",
                "nonce",
                "options",
                "evidence",
                "document",
                "collateral",
            ]
        ),
        json_values,
    )
)
def test_arbitrary_json_raises_only_teeclient_errors(doc: dict[str, object]) -> None:
    doc.setdefault("format", BUNDLE_FORMAT)
    with contextlib.suppress(TeeclientError):
        Bundle.from_json(json.dumps(doc).encode())
