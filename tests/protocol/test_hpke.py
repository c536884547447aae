"""RFC 9180 HPKE: known-answer vectors, cross-checks with cryptography's HPKE, failure modes."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives import hpke as crypto_hpke
from cryptography.hazmat.primitives.asymmetric import x25519

from teeclient.errors import (
    DecryptError,
    MalformedMessageError,
    SequenceOverflowError,
    UnsupportedSuiteError,
)
from teeclient.protocol import hpke
from teeclient.protocol.hpke import AeadId, KdfId, KemId, Mode, PrivateKey, PublicKey, Suite

from ._vectors_hpke import (
    BORINGSSL_X25519_AES256,
    BORINGSSL_XWING,
    CONCRETE_XWING_KEM,
    EXPORT_CONTEXTS,
    INFO,
    PLAINTEXT,
    PSK,
    PSK_ID,
    RFC9180_X25519,
    aad,
)

X = KemId.DHKEM_X25519_HKDF_SHA256
XWING = KemId.MLKEM768_X25519
ALL_SUITES = [Suite(kem=k, kdf=KdfId.HKDF_SHA256, aead=a) for k in KemId for a in AeadId]


def _h(value: str) -> bytes:
    return bytes.fromhex(value)


def _keys(vector: dict[str, Any]) -> tuple[PrivateKey, PrivateKey, PrivateKey | None]:
    sk_e = PrivateKey.derive(X, _h(vector["ikmE"]))
    sk_r = PrivateKey.derive(X, _h(vector["ikmR"]))
    sk_s = PrivateKey.derive(X, _h(vector["ikmS"])) if "ikmS" in vector else None
    return sk_e, sk_r, sk_s


def _psk(vector: dict[str, Any]) -> dict[str, bytes]:
    return {"psk": PSK, "psk_id": PSK_ID} if vector["mode"] in (1, 3) else {}


# --- RFC 9180 Appendix A ---------------------------------------------------------------------


@pytest.mark.parametrize("vector", RFC9180_X25519, ids=lambda v: v["name"])
def test_rfc9180_derive_key_pair(vector: dict[str, Any]) -> None:
    sk_e, sk_r, sk_s = _keys(vector)
    assert sk_e.to_bytes().hex() == vector["skEm"]
    assert sk_e.public_key().raw.hex() == vector["pkEm"]
    assert sk_r.to_bytes().hex() == vector["skRm"]
    assert sk_r.public_key().raw.hex() == vector["pkRm"]
    if sk_s is not None:
        assert sk_s.to_bytes().hex() == vector["skSm"]
        assert sk_s.public_key().raw.hex() == vector["pkSm"]


@pytest.mark.parametrize("vector", RFC9180_X25519, ids=lambda v: v["name"])
def test_rfc9180_kem(vector: dict[str, Any]) -> None:
    sk_e, sk_r, sk_s = _keys(vector)
    shared, enc = hpke.encapsulate(sk_r.public_key(), sk_s=sk_s, ephemeral=sk_e)
    assert enc.hex() == vector["pkEm"]
    assert shared.hex() == vector["shared_secret"]
    pk_s = sk_s.public_key() if sk_s is not None else None
    assert hpke.decapsulate(enc, sk_r, pk_s=pk_s).hex() == vector["shared_secret"]


@pytest.mark.parametrize("vector", RFC9180_X25519, ids=lambda v: v["name"])
def test_rfc9180_sender(vector: dict[str, Any]) -> None:
    suite = Suite(kem=X, kdf=KdfId.HKDF_SHA256, aead=AeadId(vector["aead_id"]))
    sk_e, sk_r, sk_s = _keys(vector)
    enc, ctx = hpke.setup_sender(
        suite, sk_r.public_key(), info=INFO, sk_s=sk_s, ephemeral=sk_e, **_psk(vector)
    )
    assert ctx.mode is Mode(vector["mode"])
    assert enc.hex() == vector["pkEm"]
    assert ctx._key.hex() == vector["key"]
    assert ctx._base_nonce.to_bytes(12, "big").hex() == vector["base_nonce"]
    assert ctx._exporter_secret.hex() == vector["exporter_secret"]
    for seq, ciphertext in vector["encryptions"].items():
        ctx._seq = seq
        assert ctx.seal(PLAINTEXT, aad(seq)).hex() == ciphertext
        assert ctx.seq == seq + 1
    for context, value in zip(EXPORT_CONTEXTS, vector["exports"], strict=True):
        assert ctx.export(context, 32).hex() == value


@pytest.mark.parametrize("vector", RFC9180_X25519, ids=lambda v: v["name"])
def test_rfc9180_recipient(vector: dict[str, Any]) -> None:
    suite = Suite(kem=X, kdf=KdfId.HKDF_SHA256, aead=AeadId(vector["aead_id"]))
    _sk_e, sk_r, sk_s = _keys(vector)
    pk_s = sk_s.public_key() if sk_s is not None else None
    ctx = hpke.setup_recipient(
        suite, _h(vector["pkEm"]), sk_r, info=INFO, pk_s=pk_s, **_psk(vector)
    )
    for seq, ciphertext in vector["encryptions"].items():
        ctx._seq = seq
        assert ctx.open(_h(ciphertext), aad(seq)) == PLAINTEXT
    for context, value in zip(EXPORT_CONTEXTS, vector["exports"], strict=True):
        assert ctx.export(context, 32).hex() == value


def test_rfc9180_sequence_is_implicit() -> None:
    """Opening the sequence-0, 1, 2 ciphertexts in order needs no sequence bookkeeping."""
    vector = RFC9180_X25519[0]
    suite = Suite(kem=X, kdf=KdfId.HKDF_SHA256, aead=AeadId.AES_128_GCM)
    _sk_e, sk_r, _ = _keys(vector)
    ctx = hpke.setup_recipient(suite, _h(vector["pkEm"]), sk_r, info=INFO)
    for seq in (0, 1, 2):
        assert ctx.open(_h(vector["encryptions"][seq]), aad(seq)) == PLAINTEXT
    with pytest.raises(DecryptError):  # seq 3 is next; the seq-4 ciphertext does not open
        ctx.open(_h(vector["encryptions"][4]), aad(4))


def test_boringssl_x25519_aes256gcm_sender() -> None:
    suite = Suite(kem=X, kdf=KdfId.HKDF_SHA256, aead=AeadId.AES_256_GCM)
    pk_r = PublicKey.from_bytes(X, _h(BORINGSSL_X25519_AES256["pkRm"]))
    sk_e = PrivateKey.from_bytes(X, _h(BORINGSSL_X25519_AES256["skEm"]))
    _enc, ctx = hpke.setup_sender(suite, pk_r, info=INFO, ephemeral=sk_e)
    assert ctx.seal(PLAINTEXT, aad(0)).hex() == BORINGSSL_X25519_AES256["ct0"]


def test_boringssl_xwing_recipient() -> None:
    suite = Suite(kem=XWING, kdf=KdfId.HKDF_SHA256, aead=AeadId.AES_128_GCM)
    sk_r = PrivateKey.from_bytes(XWING, _h(BORINGSSL_XWING["skRm"]))
    pk = sk_r.public_key().raw
    assert len(pk) == 1216
    assert pk[:32].hex() == BORINGSSL_XWING["pkRm_prefix"]
    assert pk[-32:].hex() == BORINGSSL_XWING["pkRm_x25519"]
    ctx = hpke.setup_recipient(suite, _h(BORINGSSL_XWING["enc"]), sk_r, info=INFO)
    assert ctx.open(_h(BORINGSSL_XWING["ct0"]), aad(0)) == PLAINTEXT
    for context, value in zip(EXPORT_CONTEXTS, BORINGSSL_XWING["exports"], strict=True):
        assert ctx.export(context, 32).hex() == value
    assert sk_r.to_bytes().hex() == BORINGSSL_XWING["skRm"]


def test_concrete_hybrid_kem_vector() -> None:
    sk = PrivateKey.from_bytes(XWING, _h(CONCRETE_XWING_KEM["seed"]))
    assert sk.public_key().raw.hex() == CONCRETE_XWING_KEM["encapsulation_key"]
    shared = hpke.decapsulate(_h(CONCRETE_XWING_KEM["ciphertext"]), sk)
    assert shared.hex() == CONCRETE_XWING_KEM["shared_secret"]


# --- cross-check with cryptography's single-shot HPKE ----------------------------------------

_CRYPTO_KEM = {X: crypto_hpke.KEM.X25519, XWING: crypto_hpke.KEM.MLKEM768_X25519}
_CRYPTO_AEAD = {
    AeadId.AES_128_GCM: crypto_hpke.AEAD.AES_128_GCM,
    AeadId.AES_256_GCM: crypto_hpke.AEAD.AES_256_GCM,
    AeadId.CHACHA20_POLY1305: crypto_hpke.AEAD.CHACHA20_POLY1305,
}


def _crypto_suite(suite: Suite) -> crypto_hpke.Suite:
    return crypto_hpke.Suite(
        _CRYPTO_KEM[suite.kem], crypto_hpke.KDF.HKDF_SHA256, _CRYPTO_AEAD[suite.aead]
    )


def _crypto_private(sk: PrivateKey) -> Any:
    if sk.mlkem_key is not None:
        return crypto_hpke.MLKEM768X25519PrivateKey(sk.mlkem_key, sk.x25519_key)
    return sk.x25519_key


@pytest.mark.parametrize("suite", ALL_SUITES, ids=str)
@pytest.mark.parametrize("size", [0, 1, 1000])
def test_cross_check_our_sender_their_recipient(suite: Suite, size: int) -> None:
    sk = PrivateKey.generate(suite.kem)
    message = bytes(range(256)) * (size // 256) + bytes(size % 256)
    enc, ctx = hpke.setup_sender(suite, sk.public_key(), info=b"teeclient cross-check")
    blob = enc + ctx.seal(message)
    theirs = _crypto_suite(suite).decrypt(blob, _crypto_private(sk), info=b"teeclient cross-check")
    assert theirs == message


@pytest.mark.parametrize("suite", ALL_SUITES, ids=str)
def test_cross_check_their_sender_our_recipient(suite: Suite) -> None:
    sk = PrivateKey.generate(suite.kem)
    their_public = _crypto_private(sk).public_key()
    blob = _crypto_suite(suite).encrypt(b"from cryptography", their_public, info=b"i")
    ctx = hpke.setup_recipient(suite, blob[: suite.n_enc], sk, info=b"i")
    assert ctx.open(blob[suite.n_enc :]) == b"from cryptography"


def test_cross_check_wrong_info_fails() -> None:
    suite = ALL_SUITES[0]
    sk = PrivateKey.generate(suite.kem)
    blob = _crypto_suite(suite).encrypt(b"x", _crypto_private(sk).public_key(), info=b"a")
    ctx = hpke.setup_recipient(suite, blob[:32], sk, info=b"b")
    with pytest.raises(DecryptError):
        ctx.open(blob[32:])


# --- contexts: sequence numbers, export, failures --------------------------------------------


@pytest.mark.parametrize("suite", ALL_SUITES, ids=str)
def test_many_messages_round_trip_and_export(suite: Suite) -> None:
    sk = PrivateKey.generate(suite.kem)
    enc, sender = hpke.setup_sender(suite, sk.public_key(), info=b"info")
    recipient = hpke.setup_recipient(suite, enc, sk, info=b"info")
    messages = [bytes([i]) * i for i in range(20)]
    sealed = [sender.seal(m, b"aad%d" % i) for i, m in enumerate(messages)]
    assert [recipient.open(c, b"aad%d" % i) for i, c in enumerate(sealed)] == messages
    assert sender.export(b"ctx", 64) == recipient.export(b"ctx", 64)
    assert sender.export(b"ctx", 32) != sender.export(b"ctx2", 32)


def test_reordered_and_replayed_messages_fail() -> None:
    suite = ALL_SUITES[0]
    sk = PrivateKey.generate(suite.kem)
    enc, sender = hpke.setup_sender(suite, sk.public_key())
    first, second = sender.seal(b"one"), sender.seal(b"two")
    recipient = hpke.setup_recipient(suite, enc, sk)
    with pytest.raises(DecryptError):
        recipient.open(second)
    assert recipient.seq == 0  # a failed open does not advance the sequence number
    assert recipient.open(first) == b"one"
    with pytest.raises(DecryptError):
        recipient.open(first)  # replay
    assert recipient.open(second) == b"two"


@pytest.mark.parametrize("suite", ALL_SUITES[:3], ids=str)
def test_sequence_overflow_is_refused(suite: Suite) -> None:
    sk = PrivateKey.generate(suite.kem)
    enc, sender = hpke.setup_sender(suite, sk.public_key())
    recipient = hpke.setup_recipient(suite, enc, sk)
    limit = (1 << 96) - 1
    sender._seq = limit - 1
    recipient._seq = limit - 1
    assert recipient.open(sender.seal(b"last")) == b"last"
    with pytest.raises(SequenceOverflowError) as info:
        sender.seal(b"one too many")
    assert info.value.code == "transport.sequence_overflow"
    with pytest.raises(SequenceOverflowError):
        recipient.open(b"\x00" * 32)


def test_tampering_is_detected() -> None:
    suite = ALL_SUITES[1]
    sk = PrivateKey.generate(suite.kem)
    enc, sender = hpke.setup_sender(suite, sk.public_key())
    ciphertext = bytearray(sender.seal(b"attack at dawn", b"hdr"))
    for index in (0, len(ciphertext) // 2, len(ciphertext) - 1):
        recipient = hpke.setup_recipient(suite, enc, sk)
        mutated = bytearray(ciphertext)
        mutated[index] ^= 0x01
        with pytest.raises(DecryptError) as info:
            recipient.open(bytes(mutated), b"hdr")
        assert info.value.code == "transport.decrypt_failed"
    recipient = hpke.setup_recipient(suite, enc, sk)
    with pytest.raises(DecryptError):
        recipient.open(bytes(ciphertext), b"other aad")
    with pytest.raises(DecryptError):
        recipient.open(bytes(ciphertext[:-1]), b"hdr")
    with pytest.raises(DecryptError):
        recipient.open(b"", b"hdr")


def test_wrong_recipient_key_fails() -> None:
    for suite in (ALL_SUITES[0], ALL_SUITES[3]):
        sk, other = PrivateKey.generate(suite.kem), PrivateKey.generate(suite.kem)
        enc, sender = hpke.setup_sender(suite, sk.public_key())
        recipient = hpke.setup_recipient(suite, enc, other)
        with pytest.raises(DecryptError):
            recipient.open(sender.seal(b"secret"))


def test_encapsulated_key_errors() -> None:
    suite = ALL_SUITES[0]
    sk = PrivateKey.generate(suite.kem)
    with pytest.raises(MalformedMessageError) as info:
        hpke.setup_recipient(suite, b"\x01" * 31, sk)
    assert info.value.field == "enc"
    with pytest.raises(DecryptError):  # the all-zero point: X25519 output is all zero
        hpke.setup_recipient(suite, bytes(32), sk)
    xwing = ALL_SUITES[3]
    xsk = PrivateKey.generate(XWING)
    with pytest.raises(MalformedMessageError):
        hpke.setup_recipient(xwing, bytes(1119), xsk)
    with pytest.raises(DecryptError):  # X25519 part of the hybrid is a low-order point
        hpke.setup_recipient(xwing, bytes(1120), xsk)


def test_public_key_validation() -> None:
    with pytest.raises(MalformedMessageError) as info:
        PublicKey.from_bytes(X, b"\x01" * 33)
    assert info.value.code == "transport.malformed"
    with pytest.raises(MalformedMessageError):
        PublicKey.from_bytes(XWING, b"\x01" * 32)
    with pytest.raises(MalformedMessageError):  # ML-KEM modulus check: coefficients >= q
        PublicKey.from_bytes(XWING, b"\xff" * 1216)
    with pytest.raises(ValueError, match="1216"):
        PublicKey(kem=XWING, raw=b"")
    low_order = PublicKey.from_bytes(X, bytes(32))
    with pytest.raises(MalformedMessageError):
        hpke.setup_sender(ALL_SUITES[0], low_order)


def test_suite_identifiers() -> None:
    suite = Suite.from_ids(0x647A, 1, 2)
    assert suite.kem is XWING and suite.post_quantum
    assert suite.suite_id == b"HPKE\x64\x7a\x00\x01\x00\x02"
    assert (suite.n_enc, suite.n_pk, suite.n_k, suite.n_n, suite.n_t, suite.n_h) == (
        1120,
        1216,
        32,
        12,
        16,
        32,
    )
    name = "DHKEM(X25519, HKDF-SHA256)/HKDF-SHA256/ChaCha20-Poly1305"
    assert str(Suite.from_ids(0x20, 1, 3)) == name
    for ids in ((0x10, 1, 1), (0x20, 2, 1), (0x20, 1, 0xFFFF)):
        with pytest.raises(UnsupportedSuiteError):
            Suite.from_ids(*ids)


def test_mode_and_argument_validation() -> None:
    suite = ALL_SUITES[0]
    sk = PrivateKey.generate(suite.kem)
    with pytest.raises(ValueError, match="together"):
        hpke.setup_sender(suite, sk.public_key(), psk=b"k" * 32)
    with pytest.raises(ValueError, match="empty"):
        hpke.setup_sender(suite, sk.public_key(), psk=b"", psk_id=b"")
    with pytest.raises(ValueError, match="KEM"):
        hpke.setup_sender(ALL_SUITES[3], sk.public_key())
    with pytest.raises(ValueError, match="info"):
        hpke.setup_sender(suite, sk.public_key(), info=bytes(70000))
    xsk = PrivateKey.generate(XWING)
    with pytest.raises(UnsupportedSuiteError):
        hpke.setup_sender(ALL_SUITES[3], xsk.public_key(), sk_s=xsk)
    with pytest.raises(UnsupportedSuiteError):
        hpke.setup_recipient(ALL_SUITES[3], bytes(1120), xsk, pk_s=xsk.public_key())
    with pytest.raises(ValueError, match="deterministic"):
        hpke.setup_sender(ALL_SUITES[3], xsk.public_key(), ephemeral=xsk)
    _enc, ctx = hpke.setup_sender(suite, sk.public_key())
    with pytest.raises(ValueError, match="export length"):
        ctx.export(b"", 0)
    with pytest.raises(ValueError, match="export length"):
        ctx.export(b"", 255 * 32 + 1)
    assert len(ctx.export(b"", 255 * 32)) == 255 * 32


def test_psk_mode_round_trip_and_mismatch() -> None:
    suite = ALL_SUITES[2]
    sk = PrivateKey.generate(suite.kem)
    enc, sender = hpke.setup_sender(suite, sk.public_key(), psk=b"p" * 32, psk_id=b"id")
    assert sender.mode is Mode.PSK
    good = hpke.setup_recipient(suite, enc, sk, psk=b"p" * 32, psk_id=b"id")
    ciphertext = sender.seal(b"m")
    assert good.open(ciphertext) == b"m"
    bad = hpke.setup_recipient(suite, enc, sk, psk=b"q" * 32, psk_id=b"id")
    with pytest.raises(DecryptError):
        bad.open(ciphertext)


def test_xwing_psk_mode_round_trip() -> None:
    suite = ALL_SUITES[4]
    sk = PrivateKey.generate(XWING)
    enc, sender = hpke.setup_sender(suite, sk.public_key(), psk=b"p" * 32, psk_id=b"id")
    recipient = hpke.setup_recipient(suite, enc, sk, psk=b"p" * 32, psk_id=b"id")
    assert recipient.open(sender.seal(b"pq")) == b"pq"


def test_private_keys_are_not_printed() -> None:
    for kem in KemId:
        sk = PrivateKey.generate(kem)
        text = repr(sk)
        assert sk.to_bytes().hex() not in text
        assert "x25519_key" not in text
    _enc, ctx = hpke.setup_sender(ALL_SUITES[0], PrivateKey.generate(X).public_key())
    assert ctx._key.hex() not in repr(ctx)


def test_private_key_serialization() -> None:
    sk = PrivateKey.generate(XWING)
    assert PrivateKey.from_bytes(XWING, sk.to_bytes()).public_key() == sk.public_key()
    components = PrivateKey(kem=XWING, x25519_key=sk.x25519_key, mlkem_key=sk.mlkem_key)
    assert components.public_key() == sk.public_key()
    with pytest.raises(ValueError, match="seed"):
        components.to_bytes()
    with pytest.raises(ValueError, match="ML-KEM-768 component"):
        PrivateKey(kem=XWING, x25519_key=x25519.X25519PrivateKey.generate())
    with pytest.raises(ValueError, match="32 bytes"):
        PrivateKey.from_bytes(X, b"short")
    with pytest.raises(ValueError, match="DeriveKeyPair"):
        PrivateKey.derive(XWING, b"ikm")


@pytest.mark.parametrize("suite", ALL_SUITES, ids=str)
def test_ciphertext_never_contains_plaintext(suite: Suite) -> None:
    marker = b"Authorization: Bearer sk-THIS-IS-A-SECRET-API-KEY"
    sk = PrivateKey.generate(suite.kem)
    enc, sender = hpke.setup_sender(suite, sk.public_key())
    sealed = enc + b"".join(sender.seal(marker * 4) for _ in range(3))
    for window in (marker, marker[:16], marker[-16:]):
        assert window not in sealed
