"""RFC 9458 OHTTP and chunked OHTTP: published examples, round trips, truncation, tampering."""

from __future__ import annotations

import pytest

from teeclient.errors import (
    DecryptError,
    FrameTooLargeError,
    KeyConfigMismatchError,
    MalformedMessageError,
    ProtocolStateError,
    SequenceOverflowError,
    StreamTruncatedError,
)
from teeclient.protocol import bhttp, hpke, ohttp
from teeclient.protocol._wire import encode_varint
from teeclient.protocol.hpke import AeadId, KdfId, KemId, PrivateKey, Suite
from teeclient.protocol.keyconfig import Selection, parse_key_config
from teeclient.protocol.ohttp import (
    ChunkedRequestSender,
    ChunkedResponseReceiver,
    Gateway,
    GatewayKey,
    RequestHeader,
    ResponseKeys,
)

X = KemId.DHKEM_X25519_HKDF_SHA256
XWING = KemId.MLKEM768_X25519
ALL_SUITES = [Suite(kem=k, kdf=KdfId.HKDF_SHA256, aead=a) for k in KemId for a in AeadId]
AES128 = Suite(kem=X, kdf=KdfId.HKDF_SHA256, aead=AeadId.AES_128_GCM)
H = bytes.fromhex


class RFC9458:
    """RFC 9458 Appendix A."""

    sk_r = H("3c168975674b2fa8e465970b79c8dcf09f1c741626480bd4c6162fc5b6a98e1a")
    config = H(
        "01002031e1f05a740102115220e9af918f738674aec95f54db6e04eb705aae8e79815500080001000100010003"
    )
    request = H("00034745540568747470730b6578616d706c652e636f6d012f")
    sk_e = H("bc51d5e930bda26589890ac7032f70ad12e4ecb37abb1b65b1256c9c48999c73")
    pk_e = H("4b28f881333e7c164ffc499ad9796f877f4e1051ee6d31bad19dec96c208b472")
    info = H("6d6573736167652f626874747020726571756573740001002000010001")
    encapsulated_request = H(
        "010020000100014b28f881333e7c164ffc499ad9796f877f4e1051ee6d31bad1"
        "9dec96c208b4726374e469135906992e1268c594d2a10c695d858c40a026e796"
        "5e7d86b83dd440b2c0185204b4d63525"
    )
    response = H("0140c8")
    secret = H("62d87a6ba569ee81014c2641f52bea36")
    response_nonce = H("c789e7151fcba46158ca84b04464910d")
    key = H("5d0172a080e428b16d298c4ea0db620d")
    nonce = H("f6bf1aeb88d6df87007fa263")
    encapsulated_response = H(
        "c789e7151fcba46158ca84b04464910d86f9013e404feea014e7be4a441f234f857fbd"
    )


class Chunked:
    """draft-ietf-ohai-chunked-ohttp-08 Appendix A."""

    sk_r = H("1c190d72acdbe4dbc69e680503bb781a932c70a12c8f3754434c67d8640d8698")
    config = H(
        "010020668eb21aace159803974a4c67f08b4152d29bed10735fd08f98ccdd6fe09570800080001000100010003"
    )
    request = H("00034745540568747470730b6578616d706c652e636f6d012f")
    sk_e = H("b26d565f3f875ed480d1abced3d665159650c99174fd0b124ac4bda0c64ae324")
    pk_e = H("8811eb457e100811c40a0aa71340a1b81d804bb986f736f2f566a7199761a032")
    info = H("6d6573736167652f6268747470206368756e6b656420726571756573740001002000010001")
    header = H("01002000010001")
    chunk1 = H("1c2ad24942d4d692563012f2980c8fef437a336b9b2fc938ef77a5834f")
    chunk2 = H("1d2e33d8fd25577afe31bd1c79d094f76b6250ae6549b473ecd950501311")
    final = H("001c6c1395d0ef7c1022297966307b8a7f")
    response = H("0140c8")
    secret = H("1d4484834ae36102a6ac42a5523454d9")
    response_nonce = H("bcce7f4cb921309ba5d62edf1769ef09")
    prk = H("3967884b5f7b4bce4a5320a3e3f79fdc97389f7deba1c1e11c5ea62278187786")
    key = H("8209f78f2a1610d80c7125009b00aff0")
    nonce = H("fead854635d2d5527d64f546")
    response_chunks = (
        H("1179bf1cc87fa0e2c02de4546945aa3d1e48"),
        H("12b348b5bd4c594c16b6170b07b475845d1f32"),
        H("00ed9d8a796617a5b27265f4d73247f639"),
    )

    @classmethod
    def encapsulated_request(cls) -> bytes:
        return cls.header + cls.pk_e + cls.chunk1 + cls.chunk2 + cls.final

    @classmethod
    def encapsulated_response(cls) -> bytes:
        return cls.response_nonce + b"".join(cls.response_chunks)


def _selection(config: bytes, suite: Suite = AES128) -> Selection:
    return Selection(config=parse_key_config(config), suite=suite)


def _gateway(config: bytes, sk: bytes) -> Gateway:
    key = GatewayKey(config=parse_key_config(config), private_key=PrivateKey.from_bytes(X, sk))
    return Gateway([key])


# --- RFC 9458 Appendix A ---------------------------------------------------------------------


def test_rfc9458_client_encapsulates_the_published_request() -> None:
    header = RequestHeader(key_id=1, suite=AES128)
    assert header.info(ohttp.REQUEST_LABEL) == RFC9458.info
    ephemeral = PrivateKey.from_bytes(X, RFC9458.sk_e)
    assert ephemeral.public_key().raw == RFC9458.pk_e
    data, opener = ohttp.encapsulate_request(
        _selection(RFC9458.config), RFC9458.request, ephemeral=ephemeral
    )
    assert data == RFC9458.encapsulated_request
    assert opener._secret == RFC9458.secret
    assert opener.open(RFC9458.encapsulated_response) == RFC9458.response


def test_rfc9458_gateway_decapsulates_and_seals_the_published_response() -> None:
    gateway = _gateway(RFC9458.config, RFC9458.sk_r)
    request, sealer = gateway.decapsulate_request(RFC9458.encapsulated_request)
    assert request == RFC9458.request
    assert bhttp.decode_request(request).authority == "example.com"
    assert sealer._secret == RFC9458.secret
    prk = hpke.hkdf_extract(RFC9458.pk_e + RFC9458.response_nonce, RFC9458.secret)
    assert hpke.hkdf_expand(prk, b"key", 16) == RFC9458.key
    assert hpke.hkdf_expand(prk, b"nonce", 12) == RFC9458.nonce
    sealed = sealer.seal(RFC9458.response, nonce=RFC9458.response_nonce)
    assert sealed == RFC9458.encapsulated_response


# --- chunked OHTTP Appendix A ----------------------------------------------------------------


def test_chunked_client_encapsulates_the_published_request() -> None:
    header = RequestHeader(key_id=1, suite=AES128)
    assert header.info(ohttp.CHUNKED_REQUEST_LABEL) == Chunked.info
    ephemeral = PrivateKey.from_bytes(X, Chunked.sk_e)
    sender = ChunkedRequestSender(_selection(Chunked.config), ephemeral=ephemeral)
    assert sender.header == Chunked.header + Chunked.pk_e
    assert sender.seal(Chunked.request[:12]) == Chunked.chunk1
    assert sender.seal(Chunked.request[12:]) == Chunked.chunk2
    assert sender.finish() == Chunked.final
    receiver = sender.response_receiver()
    assert receiver._secret == Chunked.secret
    assert receiver.feed(Chunked.encapsulated_response()) == [b"\x01", b"\x40\xc8"]
    assert receiver.finish() == b""


def test_chunked_gateway_opens_the_published_request_and_seals_the_response() -> None:
    receiver = _gateway(Chunked.config, Chunked.sk_r).chunked_request()
    chunks = receiver.feed(Chunked.encapsulated_request())
    assert chunks == [Chunked.request[:12], Chunked.request[12:]]
    assert receiver.finish() == b""
    assert receiver.header == RequestHeader(key_id=1, suite=AES128)
    prk = hpke.hkdf_extract(Chunked.pk_e + Chunked.response_nonce, Chunked.secret)
    assert prk == Chunked.prk
    assert hpke.hkdf_expand(prk, b"key", 16) == Chunked.key
    assert hpke.hkdf_expand(prk, b"nonce", 12) == Chunked.nonce
    sender = receiver.response_sender(nonce=Chunked.response_nonce)
    assert sender.header == Chunked.response_nonce
    assert sender.seal(b"\x01") == Chunked.response_chunks[0]
    assert sender.seal(b"\x40\xc8") == Chunked.response_chunks[1]
    assert sender.finish() == Chunked.response_chunks[2]


def test_chunked_published_messages_byte_by_byte() -> None:
    receiver = _gateway(Chunked.config, Chunked.sk_r).chunked_request()
    data = Chunked.encapsulated_request()
    out = bytearray()
    for index in range(len(data)):
        for chunk in receiver.feed(data[index : index + 1]):
            out += chunk
    out += receiver.finish()
    assert bytes(out) == Chunked.request


# --- round trips -----------------------------------------------------------------------------


def _pair(suite: Suite) -> tuple[Gateway, Selection]:
    key = GatewayKey.generate(3, [suite])
    return Gateway([key]), Selection(config=key.config, suite=suite)


@pytest.mark.parametrize("suite", ALL_SUITES, ids=str)
def test_ohttp_round_trip(suite: Suite) -> None:
    gateway, selection = _pair(suite)
    request = bhttp.encode_request(
        bhttp.Request(method="POST", scheme="https", authority="m", path="/v1", content=b"hi")
    )
    data, opener = ohttp.encapsulate_request(selection, request)
    opened, sealer = gateway.decapsulate_request(data)
    assert opened == request
    response = bhttp.encode_response(bhttp.Response(status=200, content=b"ok"))
    assert opener.open(sealer.seal(response)) == response


@pytest.mark.parametrize("suite", ALL_SUITES, ids=str)
@pytest.mark.parametrize("size", [0, 1, 16384, 16385, 100_000])
def test_chunked_round_trip(suite: Suite, size: int) -> None:
    gateway, selection = _pair(suite)
    body = bytes(i % 251 for i in range(size))
    sender = ChunkedRequestSender(selection)
    wire = sender.header + sender.seal(body[: size // 2]) + sender.finish(body[size // 2 :])
    receiver = gateway.chunked_request()
    got = b"".join(receiver.feed(wire)) + receiver.finish()
    assert got == body
    response_sender = receiver.response_sender()
    pieces = [body[i : i + 7000] for i in range(0, size, 7000)]
    response_wire = response_sender.header + b"".join(response_sender.seal(p) for p in pieces)
    response_wire += response_sender.finish(b"tail")
    client = sender.response_receiver()
    out = bytearray()
    for index in range(0, len(response_wire), 4096):
        for chunk in client.feed(response_wire[index : index + 4096]):
            out += chunk
    out += client.finish()
    assert bytes(out) == body + b"tail"


def test_chunked_sender_splits_and_limits() -> None:
    gateway, selection = _pair(AES128)
    sender = ChunkedRequestSender(selection, chunk_size=100)
    wire = sender.header + sender.seal(bytes(250)) + sender.seal(b"") + sender.finish(bytes(150))
    receiver = gateway.chunked_request(max_chunk_size=100)
    assert [len(c) for c in receiver.feed(wire)] == [100, 100, 50, 100]
    assert receiver.finish() == bytes(50)
    with pytest.raises(ProtocolStateError):
        sender.seal(b"x")
    with pytest.raises(ProtocolStateError):
        sender.finish()
    with pytest.raises(ValueError, match="chunk sizes"):
        ChunkedRequestSender(selection, chunk_size=0)


# --- truncation, reordering, replay, tampering -----------------------------------------------


def _response_wire(
    pieces: list[bytes], final: bytes = b"end"
) -> tuple[bytes, ChunkedRequestSender]:
    gateway, selection = _pair(AES128)
    sender = ChunkedRequestSender(selection)
    receiver = gateway.chunked_request()
    receiver.feed(sender.header + sender.finish(b"GET"))
    assert receiver.finish() == b"GET"
    response = receiver.response_sender()
    wire = response.header + b"".join(response.seal(p) for p in pieces) + response.finish(final)
    return wire, sender


def _open(sender: ChunkedRequestSender, wire: bytes) -> bytes:
    receiver = sender.response_receiver()
    return b"".join(receiver.feed(wire)) + receiver.finish()


def test_truncation_at_every_offset_is_detected() -> None:
    pieces = [b"data: one\n\n", b"data: two\n\n", b"data: [DONE]\n\n"]
    wire, sender = _response_wire(pieces, final=b"")
    final_start = len(wire) - 17  # "00" + 16-byte tag of the empty final chunk
    assert wire[final_start] == 0
    assert _open(sender, wire) == b"".join(pieces)
    for cut in range(len(wire)):
        with pytest.raises((StreamTruncatedError, DecryptError)) as info:
            _open(sender, wire[:cut])
        expected = "transport.decrypt_failed" if cut > final_start else "transport.stream_truncated"
        assert info.value.code == expected, cut


def test_truncation_at_chunk_boundaries_keeps_earlier_chunks_but_raises() -> None:
    pieces = [b"alpha", b"beta"]
    wire, sender = _response_wire(pieces)
    boundary = 16 + 1 + len(pieces[0]) + 16
    receiver = sender.response_receiver()
    assert receiver.feed(wire[:boundary]) == [b"alpha"]
    with pytest.raises(StreamTruncatedError):
        receiver.finish()
    with pytest.raises(ProtocolStateError):
        receiver.feed(wire[boundary:])


def _split_chunks(wire: bytes) -> tuple[bytes, list[bytes], bytes]:
    nonce, rest = wire[:16], wire[16:]
    chunks = []
    while rest[0] != 0:
        length = rest[0]
        chunks.append(rest[: 1 + length])
        rest = rest[1 + length :]
    return nonce, chunks, rest


def test_reordered_duplicated_dropped_and_relabelled_chunks_fail() -> None:
    wire, sender = _response_wire([b"one", b"two", b"three"])
    nonce, chunks, final = _split_chunks(wire)
    swapped = nonce + chunks[1] + chunks[0] + chunks[2] + final
    duplicated = nonce + chunks[0] + chunks[0] + chunks[1] + chunks[2] + final
    dropped = nonce + chunks[0] + chunks[2] + final
    # make the last non-final chunk the final one (length prefix 0): wrong AAD
    relabelled = nonce + chunks[0] + chunks[1] + b"\x00" + chunks[2][1:]
    final_dropped_marker = (
        nonce + chunks[0] + chunks[1] + chunks[2] + encode_varint(len(final) - 1) + final[1:]
    )
    for tampered in (swapped, duplicated, dropped, relabelled, final_dropped_marker):
        with pytest.raises(DecryptError) as info:
            _open(sender, tampered)
        assert info.value.code == "transport.decrypt_failed"
    flipped = bytearray(wire)
    flipped[20] ^= 1
    with pytest.raises(DecryptError):
        _open(sender, bytes(flipped))
    other_nonce = bytes(16) + wire[16:]
    with pytest.raises(DecryptError):
        _open(sender, other_nonce)


def test_response_replayed_from_another_request_fails() -> None:
    wire_a, _sender_a = _response_wire([b"for a"])
    _wire_b, sender_b = _response_wire([b"for b"])
    with pytest.raises(DecryptError):
        _open(sender_b, wire_a)
    gateway, selection = _pair(AES128)
    data_a, _opener_a = ohttp.encapsulate_request(selection, b"a")
    _data_b, opener_b = ohttp.encapsulate_request(selection, b"b")
    _request, sealer_a = gateway.decapsulate_request(data_a)
    with pytest.raises(DecryptError):
        opener_b.open(sealer_a.seal(b"response for a"))


def test_empty_non_final_chunk_is_a_decryption_error() -> None:
    gateway, selection = _pair(AES128)
    sender = ChunkedRequestSender(selection)
    receiver = gateway.chunked_request()
    receiver.feed(sender.header + sender.finish())
    receiver.finish()
    response = receiver.response_sender()
    keys: ResponseKeys = response._keys
    empty = keys.seal(b"")
    wire = response.header + encode_varint(len(empty)) + empty + response.finish(b"x")
    with pytest.raises(DecryptError, match="empty"):
        _open(sender, wire)
    # the same on the request side
    sender2 = ChunkedRequestSender(selection)
    empty_request = sender2._context.seal(b"")
    receiver2 = gateway.chunked_request()
    with pytest.raises(DecryptError, match="empty"):
        receiver2.feed(sender2.header + encode_varint(len(empty_request)) + empty_request)


def test_oversized_chunks_are_refused_before_buffering() -> None:
    wire, sender = _response_wire([bytes(1000)])
    receiver = sender.response_receiver(max_chunk_size=999)
    with pytest.raises(FrameTooLargeError) as info:
        receiver.feed(wire[:20])  # the nonce and the length prefix are enough
    assert info.value.code == "transport.frame_too_large"
    receiver = sender.response_receiver(max_chunk_size=1000)
    with pytest.raises(FrameTooLargeError):
        receiver.feed(wire[:16] + encode_varint(1 << 40))
    wire, sender = _response_wire([], final=bytes(2000))
    receiver = sender.response_receiver(max_chunk_size=1000)
    with pytest.raises(FrameTooLargeError):  # a final chunk runs to the end: bounded while buffered
        receiver.feed(wire)
    gateway, selection = _pair(AES128)
    request_sender = ChunkedRequestSender(selection, chunk_size=5000)
    with pytest.raises(FrameTooLargeError):
        gateway.chunked_request(max_chunk_size=4000).feed(
            request_sender.header + request_sender.seal(bytes(5000))
        )


def test_gateway_rejects_unknown_keys_and_suites() -> None:
    gateway, selection = _pair(AES128)
    data, _ = ohttp.encapsulate_request(selection, b"x")
    wrong_id = bytes([9]) + data[1:]
    with pytest.raises(KeyConfigMismatchError) as info:
        gateway.decapsulate_request(wrong_id)
    assert info.value.code == "transport.key_config_mismatch"
    wrong_aead = data[:5] + b"\x00\x02" + data[7:]
    with pytest.raises(KeyConfigMismatchError):
        gateway.decapsulate_request(wrong_aead)
    unknown_aead = data[:5] + b"\x00\x09" + data[7:]
    with pytest.raises(KeyConfigMismatchError):
        gateway.decapsulate_request(unknown_aead)
    with pytest.raises(KeyConfigMismatchError):
        gateway.chunked_request().feed(wrong_id[:7])
    with pytest.raises(MalformedMessageError):
        gateway.decapsulate_request(data[:20])
    with pytest.raises(DecryptError):
        gateway.decapsulate_request(data[:-1])
    with pytest.raises(FrameTooLargeError):
        gateway.decapsulate_request(data, max_size=10)


def test_non_chunked_response_bounds() -> None:
    gateway, selection = _pair(AES128)
    data, opener = ohttp.encapsulate_request(selection, b"x", max_response_size=100)
    _request, sealer = gateway.decapsulate_request(data)
    with pytest.raises(StreamTruncatedError):
        opener.open(sealer.seal(b"")[:31])
    with pytest.raises(FrameTooLargeError):
        opener.open(sealer.seal(bytes(200)))
    with pytest.raises(ValueError, match="16 bytes"):
        sealer.seal(b"", nonce=b"short")


def test_truncated_request_streams() -> None:
    gateway, selection = _pair(AES128)
    sender = ChunkedRequestSender(selection)
    wire = sender.header + sender.seal(b"abc") + sender.finish(b"def")
    for cut in (0, 5, 7, 30, len(sender.header), len(sender.header) + 3):
        receiver = gateway.chunked_request()
        receiver.feed(wire[:cut])
        with pytest.raises(StreamTruncatedError):
            receiver.finish()
    receiver = gateway.chunked_request()
    receiver.feed(wire[:-1])
    with pytest.raises(DecryptError):
        receiver.finish()


def test_state_machine_misuse() -> None:
    wire, sender = _response_wire([b"x"])
    receiver = sender.response_receiver()
    receiver.feed(wire)
    receiver.finish()
    with pytest.raises(ProtocolStateError):
        receiver.finish()
    with pytest.raises(ProtocolStateError):
        receiver.feed(b"")
    early = ChunkedResponseReceiver(AES128, b"s" * 16, b"e" * 32)
    with pytest.raises(StreamTruncatedError):
        early.finish()
    gateway, _ = _pair(AES128)
    with pytest.raises(ProtocolStateError):
        gateway.chunked_request().response_sender()


def test_counter_overflow() -> None:
    keys = ResponseKeys(AES128, b"s" * 16, b"e" * 32, b"n" * 16)
    keys._counter = (1 << 96) - 1
    keys.seal(b"last one")
    with pytest.raises(SequenceOverflowError):
        keys.seal(b"too many")


def test_gateway_key_invariants() -> None:
    key = GatewayKey.generate(1, [AES128])
    other = PrivateKey.generate(X)
    with pytest.raises(ValueError, match="does not match"):
        GatewayKey(config=key.config, private_key=other)
    with pytest.raises(ValueError, match="share key id"):
        Gateway([key, key])
    with pytest.raises(ValueError, match="at least one"):
        Gateway([])
    with pytest.raises(ValueError, match="at least one"):
        GatewayKey.generate(1, [])
    assert Gateway([key]).configs == (key.config,)
    assert "private_key" not in repr(key)


@pytest.mark.parametrize("suite", [ALL_SUITES[0], ALL_SUITES[4]], ids=str)
def test_ciphertexts_never_contain_plaintext(suite: Suite) -> None:
    secret_header = b"Bearer sk-live-0123456789abcdef0123456789"
    request = bhttp.encode_request(
        bhttp.Request(
            method="POST",
            scheme="https",
            authority="inference.example",
            path="/v1/chat/completions",
            headers=((b"authorization", secret_header),),
            content=b'{"messages":[{"role":"user","content":"my medical history"}]}',
        )
    )
    gateway, selection = _pair(suite)
    data, _ = ohttp.encapsulate_request(selection, request)
    sender = ChunkedRequestSender(selection, chunk_size=64)
    wire = sender.header + sender.seal(request) + sender.finish()
    for blob in (data, wire):
        for needle in (secret_header, b"medical history", b"/v1/chat", b"inference.example"):
            assert needle not in blob
    receiver = gateway.chunked_request()
    assert b"".join(receiver.feed(wire)) + receiver.finish() == request
