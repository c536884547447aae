"""Fault injection at the protocol layer: hostile responses to OHTTP and EHBP clients.

What an attacker on the path, or a substituted server, can send instead of the pinned
enclave's encrypted answer: plaintext, an answer sealed under another suite or another key,
a replayed answer, a truncated or inflated stream. Every case ends in a typed
``transport.*`` error, never in plaintext handed to the caller, and no error text carries
plaintext, keys or secrets. (tests/protocol/ covers truncation at every offset, reordering
and the RFC vectors; the HTTP transport over these is tested where it lives.)
"""

from __future__ import annotations

import json

import pytest

from teeclient.errors import TeeclientError, TransportError
from teeclient.protocol import bhttp, ehbp, keyconfig, ohttp
from teeclient.protocol.hpke import AeadId, KdfId, KemId, PrivateKey, Suite

pytestmark = pytest.mark.fault

X = KemId.DHKEM_X25519_HKDF_SHA256
AES128 = Suite(kem=X, kdf=KdfId.HKDF_SHA256, aead=AeadId.AES_128_GCM)
AES256 = Suite(kem=X, kdf=KdfId.HKDF_SHA256, aead=AeadId.AES_256_GCM)
CHACHA = Suite(kem=X, kdf=KdfId.HKDF_SHA256, aead=AeadId.CHACHA20_POLY1305)
PROMPT = b'{"messages":[{"role":"user","content":"my medical history"}]}'
ANSWER = b"data: the confidential answer\n\n"
PLAINTEXT_ANSWERS = [
    b"",
    ANSWER,
    b'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\r\n{"choices":[]}',
    bhttp.encode_response(bhttp.Response(status=200, headers=(), content=ANSWER)),
    json.dumps({"choices": [{"message": {"content": "hi"}}]}).encode() * 4,
    b"\x00" * 64,
]


def _gateway(suites: list[Suite], key_id: int = 1) -> ohttp.Gateway:
    return ohttp.Gateway([ohttp.GatewayKey.generate(key_id, suites)])


def _chunked_exchange(
    gateway: ohttp.Gateway, suite: Suite
) -> tuple[ohttp.ChunkedRequestSender, bytes]:
    """A client request and the gateway's genuine chunked response wire."""
    selection = keyconfig.Selection(config=gateway.configs[0], suite=suite)
    sender = ohttp.ChunkedRequestSender(selection)
    request = sender.header + sender.finish(PROMPT)
    receiver = gateway.chunked_request()
    receiver.feed(request)
    receiver.finish()
    responder = receiver.response_sender()
    return sender, responder.header + responder.seal(ANSWER) + responder.finish(b"")


def _receive(sender: ohttp.ChunkedRequestSender, wire: bytes) -> list[bytes]:
    out: list[bytes] = []
    _receive_into(sender, wire, out)
    return out


def _receive_into(sender: ohttp.ChunkedRequestSender, wire: bytes, out: list[bytes]) -> None:
    """``_receive``, keeping what was delivered before an error in ``out``."""
    receiver = sender.response_receiver()
    out.extend(receiver.feed(wire))
    out.append(receiver.finish())


def _assert_no_leak(exc: TeeclientError, *secrets: bytes) -> None:
    text = str(exc) + repr(exc.to_dict())
    for secret in (PROMPT, ANSWER, *secrets):
        assert secret.decode("latin-1") not in text
        assert secret.hex() not in text


@pytest.mark.parametrize("answer", PLAINTEXT_ANSWERS, ids=range(len(PLAINTEXT_ANSWERS)))
def test_plaintext_answer_to_a_chunked_request(answer: bytes) -> None:
    sender, _ = _chunked_exchange(_gateway([AES128]), AES128)
    receiver = sender.response_receiver()
    delivered: list[bytes] = []

    def consume() -> None:
        delivered.extend(receiver.feed(answer))
        delivered.append(receiver.finish())

    with pytest.raises(TransportError) as info:
        consume()
    assert delivered == []
    assert info.value.code in {
        "transport.decrypt_failed",
        "transport.stream_truncated",
        "transport.frame_too_large",
    }
    _assert_no_leak(info.value)


@pytest.mark.parametrize("answer", PLAINTEXT_ANSWERS, ids=range(len(PLAINTEXT_ANSWERS)))
def test_plaintext_answer_to_a_whole_request(answer: bytes) -> None:
    gateway = _gateway([AES128])
    selection = keyconfig.Selection(config=gateway.configs[0], suite=AES128)
    _, opener = ohttp.encapsulate_request(selection, PROMPT)
    with pytest.raises(TransportError) as info:
        opener.open(answer)
    assert info.value.code in {"transport.decrypt_failed", "transport.stream_truncated"}


@pytest.mark.parametrize("other", [AES256, CHACHA])
def test_answer_sealed_under_another_suite(other: Suite) -> None:
    """The gateway (or an impostor) answers with another AEAD: authentication fails."""
    gateway = _gateway([AES128, other])
    # AES-256 and ChaCha20 use a 32-byte response nonce: the framing no longer lines up, and
    # where the next "chunk" ends depends on the (random) nonce bytes: a chunk that fails to
    # open, one too large, or one the stream ends inside. Every exchange must fail closed,
    # before any plaintext is delivered.
    for _ in range(16):
        sender, _ = _chunked_exchange(gateway, AES128)
        _, foreign = _chunked_exchange(gateway, other)
        delivered: list[bytes] = []
        with pytest.raises(TransportError) as info:
            _receive_into(sender, foreign, delivered)
        assert delivered == []
        assert info.value.code in {
            "transport.decrypt_failed",
            "transport.frame_too_large",
            "transport.stream_truncated",
        }
        _assert_no_leak(info.value)


def test_answer_from_a_gateway_with_another_key() -> None:
    """An impostor with its own key (same key id) can neither read the request nor answer."""
    pinned, impostor = _gateway([AES128]), _gateway([AES128])
    sender, _ = _chunked_exchange(pinned, AES128)
    _, forged = _chunked_exchange(impostor, AES128)
    with pytest.raises(TransportError) as info:
        _receive(sender, forged)
    assert info.value.code == "transport.decrypt_failed"
    # and the request, sent to the impostor, does not open there
    selection = keyconfig.Selection(config=pinned.configs[0], suite=AES128)
    request, _ = ohttp.encapsulate_request(selection, PROMPT)
    with pytest.raises(TransportError) as server_side:
        impostor.decapsulate_request(request)
    assert server_side.value.code == "transport.decrypt_failed"
    _assert_no_leak(server_side.value)


def test_replayed_answer_from_an_earlier_exchange() -> None:
    gateway = _gateway([AES128])
    _, earlier = _chunked_exchange(gateway, AES128)
    sender, genuine = _chunked_exchange(gateway, AES128)
    assert _receive(sender, genuine) == [ANSWER, b""]
    with pytest.raises(TransportError) as info:
        _receive(sender, earlier)
    assert info.value.code == "transport.decrypt_failed"


def test_downgrade_to_a_suite_the_client_does_not_accept() -> None:
    """A key configuration offering only suites outside the client's list: no fallback."""
    xwing = Suite(kem=KemId.MLKEM768_X25519, kdf=KdfId.HKDF_SHA256, aead=AeadId.AES_256_GCM)
    config = keyconfig.KeyConfig.create(7, PrivateKey.generate(xwing.kem).public_key(), [xwing])
    with pytest.raises(TransportError) as info:
        keyconfig.select_suite([config], preferences=[AES128, AES256, CHACHA])
    assert info.value.code == "transport.unsupported_suite"


def test_inflated_chunk_length_is_refused_before_buffering() -> None:
    sender, wire = _chunked_exchange(_gateway([AES128]), AES128)
    hostile = wire[:16] + b"\xff" * 8  # varint 2^62 - 1
    receiver = sender.response_receiver()
    with pytest.raises(TransportError) as info:
        receiver.feed(hostile)
    assert info.value.code == "transport.frame_too_large"
    with pytest.raises(TransportError) as again:
        receiver.feed(b"")  # fail closed: the stream stays dead
    assert again.value.code == "transport.invalid_state"


# --- EHBP -------------------------------------------------------------------------------------


def _ehbp() -> tuple[ehbp.RequestEncryptor, ehbp.ResponseEncryptor]:
    server = ehbp.Server.generate()
    client = ehbp.RequestEncryptor.from_key_config(server.config)
    opened = server.open_request(client.headers()[ehbp.ENCAPSULATED_KEY_HEADER])
    opened.feed(client.seal(PROMPT))
    opened.finish()
    return client, opened.response_encryptor()


def test_ehbp_success_answer_without_a_nonce_is_unauthenticated() -> None:
    with pytest.raises(TransportError) as info:
        ehbp.response_nonce_for(200, [])
    assert info.value.code == "transport.unauthenticated"


def test_ehbp_error_answer_without_a_nonce_is_flagged_plaintext() -> None:
    """EHBP lets a non-2xx answer be plaintext: the helper says so (None), never a nonce."""
    assert ehbp.response_nonce_for(502, []) is None


@pytest.mark.parametrize("answer", PLAINTEXT_ANSWERS[1:], ids=range(len(PLAINTEXT_ANSWERS) - 1))
def test_ehbp_plaintext_body_under_a_valid_nonce(answer: bytes) -> None:
    client, responder = _ehbp()
    nonce = bytes.fromhex(responder.headers()[ehbp.RESPONSE_NONCE_HEADER])
    decryptor = client.response_decryptor(nonce)
    delivered: list[bytes] = []
    if not answer.strip(b"\x00"):
        # all-zero bytes are zero-length frames, which EHBP skips: the body reads as empty,
        # like a cut at a frame boundary (undetectable in EHBP by design; docs/protocol-crypto)
        delivered += decryptor.feed(answer)
        decryptor.finish()
        assert delivered == []
        return

    def consume() -> None:
        delivered.extend(decryptor.feed(answer))
        decryptor.finish()

    with pytest.raises(TransportError) as info:
        consume()
    assert delivered == []
    assert info.value.code in {
        "transport.decrypt_failed",
        "transport.stream_truncated",
        "transport.frame_too_large",
    }


def test_ehbp_answer_for_another_request_or_nonce() -> None:
    client, responder = _ehbp()
    other_client, other_responder = _ehbp()
    body = other_responder.seal(ANSWER)
    nonce = bytes.fromhex(other_responder.headers()[ehbp.RESPONSE_NONCE_HEADER])
    with pytest.raises(TransportError) as info:
        client.response_decryptor(nonce).feed(body)
    assert info.value.code == "transport.decrypt_failed"
    own = responder.seal(ANSWER)
    with pytest.raises(TransportError):
        client.response_decryptor(nonce).feed(own)  # right body, wrong nonce header
    del other_client
