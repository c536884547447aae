"""RFC 9458 §3 key configurations: the Appendix A example, lists, strict errors, selection."""

from __future__ import annotations

import pytest

from teeclient.errors import KeyConfigMismatchError, MalformedMessageError, UnsupportedSuiteError
from teeclient.protocol.hpke import AeadId, KdfId, KemId, PrivateKey, PublicKey, Suite
from teeclient.protocol.keyconfig import (
    DEFAULT_PREFERENCES,
    KeyConfig,
    KeyConfigList,
    Selection,
    SymmetricAlgorithm,
    parse_key_config,
    parse_key_config_list,
    select_suite,
    serialize_key_config_list,
)

# RFC 9458 Appendix A (also reproduced in draft-ietf-ohai-chunked-ohttp Appendix A).
RFC9458_CONFIG = bytes.fromhex(
    "01002031e1f05a740102115220e9af918f738674aec95f54db6e04eb705aae8e79815500080001000100010003"
)
RFC9458_PUBLIC = "31e1f05a740102115220e9af918f738674aec95f54db6e04eb705aae8e798155"
CHUNKED_CONFIG = bytes.fromhex(
    "010020668eb21aace159803974a4c67f08b4152d29bed10735fd08f98ccdd6fe09570800080001000100010003"
)

X = KemId.DHKEM_X25519_HKDF_SHA256
XWING = KemId.MLKEM768_X25519


def suite(kem: KemId, aead: AeadId) -> Suite:
    return Suite(kem=kem, kdf=KdfId.HKDF_SHA256, aead=aead)


def test_rfc9458_appendix_a_key_config() -> None:
    config = parse_key_config(RFC9458_CONFIG)
    assert config.key_id == 1
    assert config.kem is X
    assert config.public_key.raw.hex() == RFC9458_PUBLIC
    assert config.algorithms == (
        SymmetricAlgorithm(kdf_id=1, aead_id=1),
        SymmetricAlgorithm(kdf_id=1, aead_id=3),
    )
    assert config.suites() == (suite(X, AeadId.AES_128_GCM), suite(X, AeadId.CHACHA20_POLY1305))
    assert config.to_bytes() == RFC9458_CONFIG
    # The gateway's published X25519 secret key matches the configuration.
    gateway = PrivateKey.from_bytes(
        X, bytes.fromhex("3c168975674b2fa8e465970b79c8dcf09f1c741626480bd4c6162fc5b6a98e1a")
    )
    assert gateway.public_key() == config.public_key
    chunked = parse_key_config(CHUNKED_CONFIG)
    assert chunked.to_bytes() == CHUNKED_CONFIG


def test_list_round_trip_and_find() -> None:
    xwing = KeyConfig.create(
        7, PrivateKey.generate(XWING).public_key(), [suite(XWING, AeadId.AES_256_GCM)]
    )
    first = parse_key_config(RFC9458_CONFIG)
    body = serialize_key_config_list([first, xwing])
    assert body[:2] == len(RFC9458_CONFIG).to_bytes(2, "big")
    parsed = parse_key_config_list(body)
    assert parsed.configs == (first, xwing)
    assert parsed.unsupported == ()
    assert parsed.to_bytes() == body
    assert parsed.find(7) is parsed.configs[1]
    with pytest.raises(KeyConfigMismatchError) as info:
        parsed.find(9)
    assert info.value.code == "transport.key_config_mismatch"


def test_unknown_kem_entries_are_kept_raw_and_skipped() -> None:
    unknown = (
        bytes([9]) + (0x0010).to_bytes(2, "big") + b"\x04" + bytes(64) + b"\x00\x04\x00\x01\x00\x01"
    )
    body = len(unknown).to_bytes(2, "big") + unknown
    body += len(RFC9458_CONFIG).to_bytes(2, "big") + RFC9458_CONFIG
    parsed = parse_key_config_list(body)
    assert parsed.unsupported == (unknown,)
    assert [c.key_id for c in parsed.configs] == [1]
    only_unknown = parse_key_config_list(len(unknown).to_bytes(2, "big") + unknown)
    with pytest.raises(UnsupportedSuiteError):
        select_suite(only_unknown)
    with pytest.raises(UnsupportedSuiteError):
        parse_key_config(unknown)


def test_unknown_algorithms_are_kept_but_never_selected() -> None:
    config = parse_key_config(
        RFC9458_CONFIG[:35] + b"\x00\x08" + b"\x00\x02\x00\x02" + b"\x00\x01\xff\xff"
    )
    assert not config.algorithms[0].supported
    assert config.suites() == ()
    with pytest.raises(UnsupportedSuiteError) as info:
        select_suite([config])
    assert info.value.code == "transport.unsupported_suite"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (b"", "key_config.key_id"),
        (RFC9458_CONFIG[:2], "key_config.kem_id"),
        (RFC9458_CONFIG[:20], "key_config.public_key"),
        (RFC9458_CONFIG[:36], "key_config.algorithms_length"),
        (RFC9458_CONFIG[:-1], "key_config.algorithms_length"),
        (RFC9458_CONFIG + b"\x00", "key_config.algorithms_length"),
        (RFC9458_CONFIG[:35] + b"\x00\x00", "key_config.algorithms_length"),
        (RFC9458_CONFIG[:35] + b"\x00\x06\x00\x01\x00\x01\x00\x01", "key_config.algorithms_length"),
        (
            RFC9458_CONFIG[:35] + b"\x00\x08\x00\x01\x00\x01\x00\x01\x00\x01",
            "key_config.algorithms",
        ),
    ],
)
def test_malformed_key_configs(data: bytes, field: str) -> None:
    with pytest.raises(MalformedMessageError) as info:
        parse_key_config(data)
    assert info.value.field == field
    assert info.value.code == "transport.malformed"


def test_malformed_public_keys() -> None:
    xwing_config = KeyConfig.create(
        1, PrivateKey.generate(XWING).public_key(), [suite(XWING, AeadId.AES_128_GCM)]
    ).to_bytes()
    broken = xwing_config[:3] + b"\xff" * 1184 + xwing_config[3 + 1184 :]
    with pytest.raises(MalformedMessageError) as info:
        parse_key_config(broken)
    assert info.value.field == "key_config.public_key"


def _entry(config: bytes) -> bytes:
    return len(config).to_bytes(2, "big") + config


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"\x00",
        _entry(RFC9458_CONFIG)[:-1],
        _entry(RFC9458_CONFIG) + b"\x00",
        b"\x00\x2e" + RFC9458_CONFIG,
        b"\x00\x02\x01\x00",
        _entry(RFC9458_CONFIG) + _entry(RFC9458_CONFIG),  # repeated key id
        _entry(RFC9458_CONFIG[:-4]),
        _entry(RFC9458_CONFIG) * 40,
        b"\x00\x00" * 40000,
    ],
)
def test_malformed_lists_are_rejected_whole(body: bytes) -> None:
    with pytest.raises(MalformedMessageError):
        parse_key_config_list(body)


def test_too_many_distinct_configs() -> None:
    configs = [
        KeyConfig.create(i, PrivateKey.generate(X).public_key(), [suite(X, AeadId.AES_128_GCM)])
        for i in range(33)
    ]
    with pytest.raises(MalformedMessageError, match="too many"):
        parse_key_config_list(serialize_key_config_list(configs))
    assert len(parse_key_config_list(serialize_key_config_list(configs[:32])).configs) == 32


def test_selection_prefers_post_quantum_then_strongest_aead() -> None:
    classic = KeyConfig.create(
        1,
        PrivateKey.generate(X).public_key(),
        [suite(X, a) for a in (AeadId.AES_128_GCM, AeadId.AES_256_GCM, AeadId.CHACHA20_POLY1305)],
    )
    hybrid = KeyConfig.create(
        2,
        PrivateKey.generate(XWING).public_key(),
        [suite(XWING, AeadId.AES_128_GCM), suite(XWING, AeadId.CHACHA20_POLY1305)],
    )
    chosen = select_suite([classic, hybrid])
    assert chosen.config is hybrid
    assert chosen.suite == suite(XWING, AeadId.CHACHA20_POLY1305)
    chosen = select_suite([classic])
    assert chosen.suite == suite(X, AeadId.AES_256_GCM)
    rfc = select_suite(parse_key_config_list(_entry(RFC9458_CONFIG)))
    assert rfc.suite == suite(X, AeadId.CHACHA20_POLY1305)
    pq_only = [s for s in DEFAULT_PREFERENCES if s.post_quantum]
    with pytest.raises(UnsupportedSuiteError):
        select_suite([classic], preferences=pq_only)
    with pytest.raises(UnsupportedSuiteError):
        select_suite([])


def test_require_and_invariants() -> None:
    config = parse_key_config(RFC9458_CONFIG)
    config.require(suite(X, AeadId.AES_128_GCM))
    with pytest.raises(KeyConfigMismatchError):
        config.require(suite(X, AeadId.AES_256_GCM))
    with pytest.raises(ValueError, match="not offered"):
        Selection(config=config, suite=suite(X, AeadId.AES_256_GCM))
    with pytest.raises(ValueError, match="8-bit"):
        KeyConfig(key_id=256, public_key=config.public_key, algorithms=config.algorithms)
    with pytest.raises(ValueError, match="twice"):
        KeyConfig(key_id=1, public_key=config.public_key, algorithms=config.algorithms * 2)
    with pytest.raises(ValueError, match="KEM"):
        KeyConfig.create(1, config.public_key, [suite(XWING, AeadId.AES_128_GCM)])
    with pytest.raises(ValueError, match="repeats"):
        KeyConfigList(configs=(config, config))
    with pytest.raises(ValueError, match="at least one"):
        serialize_key_config_list([])
    with pytest.raises(ValueError, match="16-bit"):
        SymmetricAlgorithm(kdf_id=1 << 16, aead_id=1)
    assert PublicKey.from_bytes(X, config.public_key.raw) == config.public_key
