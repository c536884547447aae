"""Trust files (teeclient.trust/v1): parsing, errors, and TrustStore.with_trust_file."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from teeclient.errors import TrustFileError
from teeclient.testing.pki.amd import AmdPki
from teeclient.trust import TrustStore
from teeclient.trust.file import (
    MAX_TRUST_FILE_BYTES,
    TRUST_ANCHOR_NAMES,
    dump_trust_file,
    load_trust_file,
    parse_trust_file,
)


@cache
def pki() -> AmdPki:
    return AmdPki.generate("genoa")


def _pem(which: str = "ark") -> str:
    cert: x509.Certificate = getattr(pki(), which)
    return cert.public_bytes(Encoding.PEM).decode()


def _toml(**anchors: str) -> str:
    body = "\n".join(
        f'[anchors."{name}"]\ncertificates = """\n{pem}"""' for name, pem in anchors.items()
    )
    return f'format = "teeclient.trust/v1"\nsource = "unit test"\n{body}\n'


def test_toml_and_json_round_trip(tmp_path: Path) -> None:
    anchors = {"amd.genoa.ark": [pki().ark], "amd.genoa.ask": [pki().ask]}
    for as_json in (False, True):
        text = dump_trust_file(anchors, source="generated", as_json=as_json)
        parsed = parse_trust_file(text.encode())
        assert parsed.mode == "replace"
        assert {a.name: a.certificates for a in parsed.anchors} == {
            k: tuple(v) for k, v in anchors.items()
        }
        assert all("generated" in a.source for a in parsed.anchors)
    path = tmp_path / "trust.toml"
    path.write_text(dump_trust_file(anchors, source="generated"))
    store = TrustStore.vendor().with_trust_file(path)
    ark = store.get("amd.genoa.ark")
    assert ark is not None
    assert ark.certificates == (pki().ark,)
    assert str(path) in ark.source
    # Other vendor anchors are untouched.
    assert store.get("intel.sgx.root") == TrustStore.vendor().get("intel.sgx.root")


def test_add_mode_keeps_the_vendor_root(tmp_path: Path) -> None:
    path = tmp_path / "trust.json"
    path.write_text(
        dump_trust_file(
            {"amd.genoa.ark": [pki().ark]}, source="second root", mode="add", as_json=True
        )
    )
    anchor = TrustStore.vendor().with_trust_file(path).get("amd.genoa.ark")
    assert anchor is not None
    assert len(anchor.certificates) == 2
    assert anchor.certificates[1] == pki().ark


_HEAD = 'format = "teeclient.trust/v1"\nsource = "x"\n'
_ARK = '[anchors."amd.genoa.ark"]\ncertificates = "x"'


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("not toml = = =", "<trust file>"),
        (_HEAD.replace("v1", "v2") + _ARK, "format"),
        ('format = "teeclient.trust/v1"\n' + _ARK, "trust.source"),
        (_HEAD + "extra = 1\n" + _ARK, "trust.extra"),
        (_HEAD + "anchors = {}", "anchors"),
        (_HEAD + 'mode = "merge"\n' + _ARK, "mode"),
        (_HEAD + _ARK, "anchors.amd.genoa.ark"),
        (_HEAD + _ARK + "\nkey = 1", "anchors.amd.genoa.ark.key"),
        (_HEAD.replace('"x"', '""') + _ARK, "source"),
    ],
)
def test_malformed_files_are_rejected(text: str, field: str) -> None:
    with pytest.raises(TrustFileError) as info:
        parse_trust_file(text.encode())
    assert info.value.code == "config.trust_file"
    assert info.value.field == field


def test_unknown_anchor_names_and_bad_pem_are_rejected() -> None:
    with pytest.raises(TrustFileError) as info:
        parse_trust_file(_toml(**{"amd.genoa.arc": _pem()}).encode())
    assert info.value.field == "anchors.amd.genoa.arc"
    mangled = _pem().replace("MII", "MIX", 1)
    with pytest.raises(TrustFileError):
        parse_trust_file(_toml(**{"amd.genoa.ark": mangled}).encode())
    # Nitro partitions follow a pattern; every other name is from the fixed set.
    assert parse_trust_file(_toml(**{"aws-cn.nitro.root": _pem()}).encode()).anchors
    assert "intel.sgx.root" in TRUST_ANCHOR_NAMES


def test_duplicate_json_members_and_size_limit(tmp_path: Path) -> None:
    doc = json.dumps({"format": "teeclient.trust/v1", "source": "x", "anchors": {}})
    with pytest.raises(TrustFileError) as info:
        parse_trust_file(doc.replace('"source"', '"format": "x", "source"', 1).encode())
    assert info.value.field == "format"
    with pytest.raises(TrustFileError):
        parse_trust_file(b" " * (MAX_TRUST_FILE_BYTES + 1))
    with pytest.raises(TrustFileError):
        load_trust_file(tmp_path / "missing.toml")
    with pytest.raises(TrustFileError):
        parse_trust_file(b"\xff\xfe")
