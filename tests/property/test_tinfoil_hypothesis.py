"""Properties of the Tinfoil and trust-file parsers and of the v3 derivation.

Any bytes into ``parse_tinfoil_document`` or ``parse_trust_file`` raise only teeclient errors;
the v3 REPORT_DATA equals an independent rewrite of docs/protocol.md §7 for random inputs.
"""

from __future__ import annotations

import base64
import contextlib
import gzip
import hashlib
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from teeclient.errors import DocumentError, TeeclientError, TrustFileError
from teeclient.tinfoil import parse_tinfoil_document, report_data_v3
from teeclient.trust.file import parse_trust_file

_SNP_V2 = "https://tinfoil.sh/predicate/sev-snp-guest/v2"


def _independent(nonce: bytes, crypto: bytes, devices: bytes) -> bytes:
    """Written from docs/protocol.md §7.2 without looking at teeclient.tinfoil."""
    label = "https://tinfoil.sh/report-data/v1".encode("ascii")
    inner = hashlib.sha256(crypto).digest() + hashlib.sha256(devices).digest()
    return hashlib.sha256(label + nonce + inner).digest() + b"\0" * 32


@settings(max_examples=300, deadline=None)
@given(
    nonce=st.binary(min_size=32, max_size=32),
    crypto=st.binary(max_size=256),
    devices=st.binary(max_size=256),
)
def test_v3_report_data_matches_the_specification(
    nonce: bytes, crypto: bytes, devices: bytes
) -> None:
    rd = report_data_v3(nonce, hashlib.sha256(crypto).digest(), hashlib.sha256(devices).digest())
    assert rd == _independent(nonce, crypto, devices)
    assert len(rd) == 64


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=2048))
def test_any_bytes_are_a_document_or_a_teeclient_error(data: bytes) -> None:
    with contextlib.suppress(TeeclientError):
        parse_tinfoil_document(data)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(
    challenge=json_values,
    cpu=json_values,
    crypto=st.binary(max_size=64) | st.just(b'{"format": "x", "items": []}'),
    extra=st.dictionaries(st.sampled_from(["collateral", "x"]), json_values, max_size=2),
)
def test_v3_shaped_json_is_a_document_or_a_teeclient_error(
    challenge: object, cpu: object, crypto: bytes, extra: dict[str, object]
) -> None:
    doc = {
        "format": "https://tinfoil.sh/predicate/attestation/v3",
        "challenge": challenge,
        "cpu_evidence": cpu,
        "crypto_material": base64.b64encode(crypto).decode(),
        "device_evidence": base64.b64encode(b'{"format": "x", "items": []}').decode(),
        **extra,
    }
    with contextlib.suppress(TeeclientError):
        parse_tinfoil_document(json.dumps(doc).encode())


@settings(max_examples=100, deadline=None)
@given(body=st.binary(max_size=2048))
def test_v2_bodies_are_bounded_and_typed(body: bytes) -> None:
    for payload in (body, gzip.compress(body)):
        doc = json.dumps({"format": _SNP_V2, "body": base64.b64encode(payload).decode()})
        try:
            parsed = parse_tinfoil_document(doc.encode())
        except DocumentError:
            continue
        assert len(parsed.evidence) == 1184


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=1024) | st.text(max_size=512).map(str.encode))
def test_any_bytes_are_a_trust_file_or_a_trust_file_error(data: bytes) -> None:
    with contextlib.suppress(TrustFileError):
        parse_trust_file(data)
