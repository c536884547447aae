"""binding: canonical encodings and derivations, checked against an independent rewrite."""

from __future__ import annotations

import hashlib
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from teeclient.binding import (
    BoundDevice,
    BoundKeys,
    check_report_data,
    devices_digest,
    gpu_nonce,
    keys_digest,
    report_data,
)
from teeclient.errors import BindingError


def _independent_report_data(
    nonce: bytes, ohttp: bytes, spki: bytes | None, devices: list[tuple[str, str, bytes, bytes]]
) -> tuple[bytes, bytes]:
    """Written from docs/protocol.md §3 without looking at teeclient.binding."""
    keys = b"teeclient.keys/v1\0" + struct.pack(">I", len(ohttp)) + ohttp
    keys += (b"\1" + spki) if spki is not None else b"\0"
    devs = b"teeclient.devices/v1\0" + struct.pack(">I", len(devices))
    for kind, arch, evidence, certs in devices:
        one = b"teeclient.device/v1\0"
        for field in (kind.encode(), arch.encode(), evidence, certs):
            one += struct.pack(">I", len(field)) + field
        devs += hashlib.sha256(one).digest()
    kd = hashlib.sha256(keys).digest()
    dd = hashlib.sha256(devs).digest()
    rd = hashlib.sha512(b"teeclient.report-data/v1" + nonce + kd + dd).digest()
    gn = hashlib.sha256(b"teeclient.gpu-nonce/v1" + nonce + kd).digest()
    return rd, gn


device_st = st.tuples(
    st.sampled_from(["nvidia-gpu", "nvidia-switch"]),
    st.sampled_from(["hopper", "blackwell", "ls10"]),
    st.binary(max_size=64),
    st.binary(max_size=64),
)


@settings(max_examples=300, deadline=None)
@given(
    nonce=st.binary(min_size=32, max_size=32),
    ohttp=st.binary(min_size=1, max_size=128),
    spki=st.none() | st.binary(min_size=32, max_size=32),
    devices=st.lists(device_st, max_size=9),
)
def test_derivations_match_the_specification(
    nonce: bytes, ohttp: bytes, spki: bytes | None, devices: list[tuple[str, str, bytes, bytes]]
) -> None:
    keys = BoundKeys(ohttp_keys=ohttp, tls_spki_sha256=spki)
    bound = [BoundDevice(kind=k, arch=a, evidence=e, certificates=c) for k, a, e, c in devices]
    expected_rd, expected_gn = _independent_report_data(nonce, ohttp, spki, devices)
    assert report_data(nonce, keys, bound) == expected_rd
    assert gpu_nonce(nonce, keys) == expected_gn
    check_report_data(expected_rd, nonce, keys, bound, platform="test")


def test_every_input_changes_the_binding() -> None:
    nonce = bytes(32)
    keys = BoundKeys(ohttp_keys=b"\x00\x01k", tls_spki_sha256=bytes(32))
    gpu = BoundDevice(kind="nvidia-gpu", arch="hopper", evidence=b"e", certificates=b"c")
    base = report_data(nonce, keys, [gpu])
    variants = [
        report_data(b"\x01" + bytes(31), keys, [gpu]),
        report_data(nonce, BoundKeys(ohttp_keys=b"\x00\x01K", tls_spki_sha256=bytes(32)), [gpu]),
        report_data(nonce, BoundKeys(ohttp_keys=b"\x00\x01k"), [gpu]),
        report_data(nonce, keys, []),
        report_data(nonce, keys, [gpu, gpu]),
        report_data(
            nonce,
            keys,
            [BoundDevice(kind="nvidia-gpu", arch="hopper", evidence=b"E", certificates=b"c")],
        ),
    ]
    assert len({base, *variants}) == len(variants) + 1
    # No ambiguity between fields: moving a byte from evidence to certificates changes it.
    a = devices_digest([BoundDevice(kind="k", arch="a", evidence=b"xy", certificates=b"z")])
    b = devices_digest([BoundDevice(kind="k", arch="a", evidence=b"x", certificates=b"yz")])
    assert a != b
    assert keys_digest(keys) != keys_digest(BoundKeys(ohttp_keys=b"\x00\x01k"))


def test_mismatch_raises_binding_error() -> None:
    keys = BoundKeys(ohttp_keys=b"k")
    with pytest.raises(BindingError) as info:
        check_report_data(bytes(64), bytes(32), keys, [], platform="sev-snp")
    assert info.value.field == "report_data"


def test_invalid_inputs_are_programming_errors() -> None:
    with pytest.raises(ValueError, match="nonce"):
        report_data(bytes(31), BoundKeys(ohttp_keys=b"k"), [])
    with pytest.raises(ValueError, match="32 bytes"):
        BoundKeys(ohttp_keys=b"k", tls_spki_sha256=bytes(31))
    with pytest.raises(ValueError, match="ohttp_keys"):
        BoundKeys(ohttp_keys=b"")
    with pytest.raises(ValueError, match="kind"):
        BoundDevice(kind="", arch="a", evidence=b"", certificates=b"")
