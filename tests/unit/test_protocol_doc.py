"""docs/protocol.md §5: the published test vectors equal what teeclient.binding computes."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from teeclient.binding import (
    BoundDevice,
    BoundKeys,
    device_digest,
    devices_digest,
    gpu_nonce,
    keys_digest,
    report_data,
)

DOC = (Path(__file__).resolve().parent.parent.parent / "docs" / "protocol.md").read_text()


def _table(section: str) -> dict[str, str]:
    start = DOC.index(section)
    rows = re.findall(r"^\| ([a-z_ 0-9]+) \| `([0-9a-f]+)` \|$", DOC[start:], re.MULTILINE)
    out: dict[str, str] = {}
    for name, value in rows:
        if name in out:
            break
        out[name] = value
    return out


OHTTP = bytes.fromhex(re.search(r"Appendix A\): `([0-9a-f]+)`", DOC, re.DOTALL).group(1))  # type: ignore[union-attr]


def test_vector_1() -> None:
    table = _table("Vector 1")
    nonce = bytes.fromhex(table["nonce"])
    keys = BoundKeys(ohttp_keys=OHTTP)
    assert keys_digest(keys).hex() == table["keys_digest"]
    assert devices_digest([]).hex() == table["devices_digest"]
    assert report_data(nonce, keys, []).hex() == table["report_data"]
    assert gpu_nonce(nonce, keys).hex() == table["gpu_nonce"]


def test_vector_2() -> None:
    table = _table("Vector 2")
    assert hashlib.sha256(b"teeclient example SPKI").hexdigest() in DOC
    keys = BoundKeys(
        ohttp_keys=OHTTP, tls_spki_sha256=hashlib.sha256(b"teeclient example SPKI").digest()
    )
    devices = [
        BoundDevice(
            kind="nvidia-gpu",
            arch="hopper",
            evidence=bytes(range(100)),
            certificates=b"-----BEGIN CERTIFICATE-----\nexample\n-----END CERTIFICATE-----\n",
        ),
        BoundDevice(
            kind="nvidia-switch",
            arch="ls10",
            evidence=bytes(range(100, 0, -1)),
            certificates=b"switch chain",
        ),
    ]
    nonce = bytes.fromhex(table["nonce"])
    assert keys_digest(keys).hex() == table["keys_digest"]
    assert device_digest(devices[0]).hex() == table["device_digest 1"]
    assert device_digest(devices[1]).hex() == table["device_digest 2"]
    assert devices_digest(devices).hex() == table["devices_digest"]
    assert report_data(nonce, keys, devices).hex() == table["report_data"]
    assert gpu_nonce(nonce, keys).hex() == table["gpu_nonce"]


@pytest.mark.parametrize(
    "label",
    [
        "teeclient.keys/v1",
        "teeclient.device/v1",
        "teeclient.devices/v1",
        "teeclient.report-data/v1",
        "teeclient.gpu-nonce/v1",
    ],
)
def test_every_label_is_documented(label: str) -> None:
    assert label in DOC


def test_tinfoil_v3_vector() -> None:
    """docs/protocol.md §7.3: REPORT_DATA of a v3 document over the exact section bytes."""
    from teeclient.tinfoil import report_data_v3

    section = DOC[DOC.index("### 7.3") :]
    crypto = re.search(r"- crypto_material: `(.+?)`\n", section).group(1).encode()  # type: ignore[union-attr]
    devices = re.search(r"- device_evidence: `(.+?)`\n", section).group(1).encode()  # type: ignore[union-attr]
    nonce = bytes.fromhex(re.search(r"- nonce: `([0-9a-f]{64})`", section).group(1))  # type: ignore[union-attr]
    table = _table("### 7.3")
    assert hashlib.sha256(crypto).hexdigest() == table["crypto_material_hash"]
    assert hashlib.sha256(devices).hexdigest() == table["device_evidence_hash"]
    rd = report_data_v3(nonce, hashlib.sha256(crypto).digest(), hashlib.sha256(devices).digest())
    assert rd.hex() == table["tinfoil_report_data"]
