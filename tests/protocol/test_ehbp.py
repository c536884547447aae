"""Tinfoil EHBP profile: reference vectors, interop with tinfoil-ehbp both ways, weaknesses."""

from __future__ import annotations

import json

import ehbp as tinfoil  # tinfoil-ehbp 0.4.1, the reference implementation (test-only)
import httpx
import pytest
from ehbp import derive as tinfoil_derive
from pyhpke import AEADId, CipherSuite, KDFId, KEMId

from teeclient.errors import (
    DecryptError,
    FrameTooLargeError,
    MalformedMessageError,
    ProtocolStateError,
    StreamTruncatedError,
    UnauthenticatedResponseError,
    UnsupportedSuiteError,
)
from teeclient.protocol import ehbp, hpke
from teeclient.protocol.hpke import AeadId, KdfId, KemId, PrivateKey, Suite
from teeclient.protocol.keyconfig import KeyConfig

H = bytes.fromhex

# tinfoilsh/encrypted-http-body-protocol test-vectors/derive.json @ a58eee0,
# test-vectors/response-decryption.json @ 172859b and test-vectors/conformance/crypto.json
# @ 4c6f4ac (the reference repository's shared vectors; the PyPI wheel ships none).
SECRET = H("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
ENC = H("202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f")
NONCE = H("404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f")
DERIVED_KEY = H("40ec528847cd4e928449f2ed1a70a7d1e8ee317d5e900424fc1dd5b0475b97f7")
DERIVED_NONCE_BASE = H("f8b0ce9466f27aa6243c65f9")
SINGLE_FRAME = H(
    "0000002647e74d9a561b60ff42ac7ffbb4caf6b6d5ad0bb7621e41840d2ab7de7208ff7a59d0a2a482cc"
)
SINGLE_PLAINTEXT = H("68656c6c6f2066726f6d207465737420766563746f72")  # "hello from test vector"
MULTIFRAME = H(
    "0000001340ec44d12c444bc9dd4c9065bd70601249f60900000013d45408abbff98ad579cf340d35c575d02107"
    "a60000001525273c814b6670b2645cd60de697580e3a02597bb1"
)
PARTIAL_THEN_FAIL = H(
    "0000001549eb53854d723fe4c4924b02b86aee7221e019331200000016d34604d538661d5148b5095a3917e62b"
    "6c62a8391b32"
)
ZERO_LENGTH_FRAME = H(
    "000000164de747994b5e42a3c41f9291aeb038109dc559e7941f0000000000000015c14513df240e6ffecea81f"
    "b7716b56f480908b890d"
)

EHBP_SUITE = Suite(
    kem=KemId.DHKEM_X25519_HKDF_SHA256, kdf=KdfId.HKDF_SHA256, aead=AeadId.AES_256_GCM
)


def _decryptor(**kwargs: int) -> ehbp.ResponseDecryptor:
    return ehbp.ResponseDecryptor(exported_secret=SECRET, enc=ENC, response_nonce=NONCE, **kwargs)


def _decrypt(body: bytes, *, feed: int | None = None) -> bytes:
    decryptor = _decryptor()
    out = bytearray()
    step = feed or len(body) or 1
    for index in range(0, len(body), step):
        for chunk in decryptor.feed(body[index : index + step]):
            out += chunk
    decryptor.finish()
    return bytes(out)


# --- the reference repository's vectors ------------------------------------------------------


def test_vector_derive_keys() -> None:
    keys = tinfoil_derive.derive_response_keys(SECRET, ENC, NONCE)  # the reference agrees ...
    assert (keys.key, keys.nonce_base) == (DERIVED_KEY, DERIVED_NONCE_BASE)
    prk = hpke.hkdf_extract(ENC + NONCE, SECRET)  # ... and so does the formula we implement
    assert hpke.hkdf_expand(prk, b"key", 32) == DERIVED_KEY
    assert hpke.hkdf_expand(prk, b"nonce", 12) == DERIVED_NONCE_BASE


@pytest.mark.parametrize("feed", [None, 1, 3, 6, 20])
def test_vector_single_frame(feed: int | None) -> None:
    assert _decrypt(SINGLE_FRAME, feed=feed) == SINGLE_PLAINTEXT


@pytest.mark.parametrize("feed", [None, 10, 30, 50])
def test_vector_multiframe(feed: int | None) -> None:
    assert _decrypt(MULTIFRAME, feed=feed) == b"onetwothree"


def test_vector_zero_length_frame_is_skipped() -> None:
    assert _decrypt(ZERO_LENGTH_FRAME) == b"beforeafter"


def test_vector_zero_frame_flood() -> None:
    # conformance "decrypt-response-zero-frame-flood": 4096 empty frames, then a real one.
    assert _decrypt(bytes(4 * 4096) + SINGLE_FRAME, feed=4096) == SINGLE_PLAINTEXT


def test_vector_tampered_tag() -> None:
    tampered = SINGLE_FRAME[:-1] + bytes([SINGLE_FRAME[-1] ^ 1])
    with pytest.raises(DecryptError) as info:
        _decrypt(tampered)
    assert info.value.code == "transport.decrypt_failed"


def test_vector_truncated_frame() -> None:
    with pytest.raises(StreamTruncatedError) as info:
        _decrypt(SINGLE_FRAME[:-1])
    assert info.value.code == "transport.stream_truncated"


def test_vector_oversized_frame() -> None:
    decryptor = _decryptor()
    with pytest.raises(FrameTooLargeError) as info:
        decryptor.feed(H("ffffffff00000000000000000000000000000000"))
    assert info.value.code == "transport.frame_too_large"


def test_vector_partial_then_fail() -> None:
    decryptor = _decryptor()
    assert decryptor.feed(PARTIAL_THEN_FAIL[:25]) == [b"first"]  # 5 bytes emitted
    with pytest.raises(DecryptError):
        decryptor.feed(PARTIAL_THEN_FAIL[25:])
    with pytest.raises(ProtocolStateError):  # fail closed after an error
        decryptor.feed(b"")


def test_vector_bad_input_lengths() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        ehbp.ResponseDecryptor(exported_secret=SECRET[:16], enc=ENC, response_nonce=NONCE)
    with pytest.raises(ValueError, match="nonce"):
        ehbp.ResponseDecryptor(exported_secret=SECRET, enc=ENC, response_nonce=NONCE[:31])


# --- key configuration and headers -----------------------------------------------------------


def test_key_config_interop_both_ways() -> None:
    server = ehbp.Server.generate()
    theirs = tinfoil.ServerIdentity.unmarshal_public_config(server.key_config())
    assert theirs.public_key_bytes() == server.config.public_key.raw
    assert theirs.marshal_public_config() == server.key_config()
    ours = ehbp.parse_key_config_body(theirs.marshal_public_config())
    assert ours.suites() == (ehbp.SUITE,)
    assert ehbp.SUITE == EHBP_SUITE


def test_key_config_profile_is_strict() -> None:
    public = PrivateKey.generate(KemId.DHKEM_X25519_HKDF_SHA256).public_key()
    aes128 = Suite(kem=public.kem, kdf=KdfId.HKDF_SHA256, aead=AeadId.AES_128_GCM)
    for suites in ([aes128], [EHBP_SUITE, aes128]):
        with pytest.raises(UnsupportedSuiteError):
            ehbp.parse_key_config_body(KeyConfig.create(0, public, suites).to_bytes())
    bare = KeyConfig.create(0, public, [EHBP_SUITE]).to_bytes()
    # The RFC 9458 list form is not EHBP's body (its length reads as key id and KEM).
    with pytest.raises((MalformedMessageError, UnsupportedSuiteError)):
        ehbp.parse_key_config_body(len(bare).to_bytes(2, "big") + bare)
    xwing = PrivateKey.generate(KemId.MLKEM768_X25519).public_key()
    with pytest.raises(ValueError, match="X25519"):
        ehbp.RequestEncryptor(xwing)


def test_response_nonce_header_rules() -> None:
    nonce = "ab" * 32
    assert ehbp.parse_response_nonce([nonce]) == bytes([0xAB]) * 32
    assert ehbp.parse_response_nonce([" " + nonce.upper() + " "]) == bytes([0xAB]) * 32
    with pytest.raises(UnauthenticatedResponseError) as info:
        ehbp.response_nonce_for(200, [])
    assert info.value.code == "transport.unauthenticated"
    assert ehbp.response_nonce_for(502, []) is None  # unauthenticated pass-through
    assert ehbp.response_nonce_for(502, [nonce]) == bytes([0xAB]) * 32
    for bad in ([nonce, nonce], ["ab" * 31], ["zz" * 32], ["ab" * 33]):
        with pytest.raises(MalformedMessageError):
            ehbp.response_nonce_for(200, bad)
    assert ehbp.parse_encapsulated_key("01" * 32) == b"\x01" * 32
    with pytest.raises(MalformedMessageError):
        ehbp.parse_encapsulated_key("01" * 31)


def test_reserved_headers_and_key_config_problem() -> None:
    assert ehbp.is_reserved_header("Content-Length")
    assert ehbp.is_reserved_header("EHBP-Encapsulated-Key")
    assert not ehbp.is_reserved_header("Authorization")
    problem = json.dumps({"type": ehbp.KEY_CONFIG_PROBLEM_TYPE, "title": "rotated"}).encode()
    assert ehbp.is_key_config_problem(422, "application/problem+json; charset=utf-8", problem)
    assert not ehbp.is_key_config_problem(400, "application/problem+json", problem)
    assert not ehbp.is_key_config_problem(422, "application/json", problem)
    assert not ehbp.is_key_config_problem(422, "application/problem+json", b"{not json")
    assert not ehbp.is_key_config_problem(422, "application/problem+json", b"[]")
    assert not ehbp.is_key_config_problem(422, None, problem)


# --- interop: the reference client against our server ---------------------------------------


def test_reference_client_against_our_server_primitives() -> None:
    server = ehbp.Server.generate()
    identity = tinfoil.ServerIdentity.unmarshal_public_config(server.key_config())
    body = b'{"model": "m", "messages": []}' * 5000  # > 64 KiB: several frames
    encrypted = identity.encrypt_request_body(body)
    assert encrypted is not None
    decryptor = server.open_request(encrypted.encapsulated_key.hex())
    assert b"".join(decryptor.feed(encrypted.body)) == body
    decryptor.finish()
    responder = decryptor.response_encryptor()
    answer = b"data: token\n\n" * 10000
    sealed = responder.seal(answer)
    assert encrypted.token.decrypt_response_body(responder.nonce, sealed) == answer
    stream = encrypted.token.create_response_decryptor(responder.nonce)
    pieces = [stream.push(sealed[i : i + 999]) for i in range(0, len(sealed), 999)]
    stream.finish()
    assert b"".join(b"".join(p) for p in pieces) == answer


def _ehbp_app(server: ehbp.Server, seen: list[httpx.Request]) -> httpx.MockTransport:
    """Our server side as an httpx handler (what the mock enclave will do)."""

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        key = request.headers.get(ehbp.ENCAPSULATED_KEY_HEADER)
        if key is None:  # EHBP: bodyless requests travel and are answered in plaintext
            return httpx.Response(200, content=b"plaintext for " + request.url.path.encode())
        decryptor = server.open_request(key)
        plaintext = b"".join(decryptor.feed(request.read()))
        decryptor.finish()
        responder = decryptor.response_encryptor()
        return httpx.Response(
            200,
            headers=responder.headers(),
            content=responder.seal(b"echo:" + plaintext),
        )

    return httpx.MockTransport(handler)


def test_reference_httpx_transport_against_our_server() -> None:
    server = ehbp.Server.generate()
    identity = tinfoil.ServerIdentity.from_public_key_bytes(server.config.public_key.raw)
    seen: list[httpx.Request] = []
    transport = tinfoil.EHBPTransport(identity, inner=_ehbp_app(server, seen))
    with httpx.Client(transport=transport, base_url="https://enclave.example") as client:
        response = client.post("/v1/chat", content=b"prompt " * 20000)
        assert response.status_code == 200
        assert response.content == b"echo:" + b"prompt " * 20000
        assert b"prompt" not in seen[-1].content  # the body left encrypted
        bodyless = client.get("/v1/models")
        assert bodyless.content == b"plaintext for /v1/models"  # weakness 2: unprotected
        assert ehbp.ENCAPSULATED_KEY_HEADER not in seen[-1].headers


# --- interop: our client against the reference's server-side primitives ----------------------


def test_our_client_against_reference_primitives() -> None:
    suite = CipherSuite.new(KEMId.DHKEM_X25519_HKDF_SHA256, KDFId.HKDF_SHA256, AEADId.AES256_GCM)
    server_key = PrivateKey.generate(KemId.DHKEM_X25519_HKDF_SHA256)
    their_private = suite.kem.deserialize_private_key(server_key.to_bytes())
    body = bytes(range(256)) * 700  # 179200 bytes: three frames at 64 KiB
    client = ehbp.RequestEncryptor(server_key.public_key())
    wire = client.seal(body)
    # Their side opens our frames with pyhpke, as tinfoil's servers do.
    recipient = suite.create_recipient_context(client.enc, their_private, info=b"ehbp request")
    frames, position = [], 0
    while position < len(wire):
        length = int.from_bytes(wire[position : position + 4], "big")
        frames.append(recipient.open(wire[position + 4 : position + 4 + length], b""))
        position += 4 + length
    assert b"".join(frames) == body
    assert len(frames) == 3
    secret = recipient.export(b"ehbp response", 32)
    nonce = bytes(range(32))
    keys = tinfoil_derive.derive_response_keys(secret, client.enc, nonce)
    response = b"".join(
        tinfoil_derive.frame_chunk(tinfoil_derive.encrypt_chunk(keys, seq, chunk))
        for seq, chunk in enumerate([b"first ", b"", b"second"])
    )
    decryptor = client.response_decryptor(nonce)
    assert b"".join(decryptor.feed(response)) == b"first second"
    decryptor.finish()


def test_our_client_against_our_server_and_empty_body() -> None:
    server = ehbp.Server.generate()
    client = ehbp.RequestEncryptor.from_key_config(ehbp.parse_key_config_body(server.key_config()))
    request = server.open_request(client.headers()[ehbp.ENCAPSULATED_KEY_HEADER])
    assert request.feed(client.empty_body()) == [b""]  # bodyless, but encrypted (weakness 2)
    request.finish()
    responder = request.response_encryptor()
    nonce = ehbp.parse_response_nonce([responder.headers()[ehbp.RESPONSE_NONCE_HEADER]])
    decryptor = client.response_decryptor(nonce)
    assert decryptor.feed(responder.seal(b"models")) == [b"models"]
    decryptor.finish()


# --- weaknesses and tampering ----------------------------------------------------------------


def _exchange(answer_frames: list[bytes]) -> tuple[ehbp.RequestEncryptor, bytes, bytes]:
    server = ehbp.Server.generate()
    client = ehbp.RequestEncryptor(server.config.public_key)
    request = server.open_request(client.enc.hex())
    request.feed(client.seal(b"q"))
    responder = request.response_encryptor()
    return client, responder.nonce, b"".join(responder.seal(f) for f in answer_frames)


def test_truncation_at_a_frame_boundary_is_undetectable_by_design() -> None:
    """Weakness 1: EHBP has no final-frame marker; chunked OHTTP detects the same cut."""
    client, nonce, body = _exchange([b"data: a\n\n", b"data: b\n\n", b"data: [DONE]\n\n"])
    cut = 2 * (4 + 9 + 16)
    decryptor = client.response_decryptor(nonce)
    assert b"".join(decryptor.feed(body[:cut])) == b"data: a\n\ndata: b\n\n"
    decryptor.finish()  # accepted: the protocol cannot tell
    token = tinfoil.SessionRecoveryToken(client._secret, client.enc)
    assert token.decrypt_response_body(nonce, body[:cut]) == b"data: a\n\ndata: b\n\n"
    for inside in (cut + 1, cut + 4, len(body) - 1):
        decryptor = client.response_decryptor(nonce)
        decryptor.feed(body[:inside])
        with pytest.raises(StreamTruncatedError):
            decryptor.finish()


def test_reordered_and_foreign_frames_fail() -> None:
    client, nonce, body = _exchange([b"one", b"two"])
    first, second = body[: 4 + 3 + 16], body[4 + 3 + 16 :]
    with pytest.raises(DecryptError):
        client.response_decryptor(nonce).feed(second + first)
    with pytest.raises(DecryptError):
        client.response_decryptor(nonce).feed(first + first)
    with pytest.raises(DecryptError):
        client.response_decryptor(bytes(32)).feed(body)
    other, other_nonce, _ = _exchange([b"x"])
    with pytest.raises(DecryptError):
        other.response_decryptor(other_nonce).feed(body)


def test_request_side_errors() -> None:
    server = ehbp.Server.generate()
    with pytest.raises(MalformedMessageError):
        server.open_request("nothex")
    with pytest.raises(DecryptError):
        server.open_request("00" * 32)  # low-order point
    client = ehbp.RequestEncryptor(server.config.public_key, frame_size=10)
    wire = client.seal(bytes(25))
    request = server.open_request(client.enc.hex(), max_frame_size=26)
    assert [len(f) for f in request.feed(wire)] == [10, 10, 5]
    request.finish()
    with pytest.raises(ProtocolStateError):
        request.finish()
    small = server.open_request(client.enc.hex(), max_frame_size=25)
    with pytest.raises(FrameTooLargeError):
        small.feed(client.seal(bytes(10)))
    with pytest.raises(ValueError, match="frame"):
        ehbp.RequestEncryptor(server.config.public_key, frame_size=0)
    with pytest.raises(ValueError, match="max_frame_size"):
        server.open_request(client.enc.hex(), max_frame_size=0)
    with pytest.raises(ValueError, match="X25519"):
        ehbp.Server(PrivateKey.generate(KemId.MLKEM768_X25519))
    with pytest.raises(ValueError, match="32 bytes"):
        ehbp.ResponseEncryptor(SECRET, ENC, nonce=b"short")


def test_ehbp_ciphertext_never_contains_plaintext() -> None:
    server = ehbp.Server.generate()
    client = ehbp.RequestEncryptor(server.config.public_key)
    secret = b'{"messages":[{"role":"user","content":"my salary is 123456"}]}'
    wire = client.seal(secret * 3)
    assert b"salary" not in wire and b"messages" not in wire
    request = server.open_request(client.enc.hex())
    assert b"".join(request.feed(wire)) == secret * 3
