"""Hypothesis: parsers fail only with teeclient errors; round trips; every edit is caught."""

from __future__ import annotations

import contextlib
import string
from collections.abc import Callable

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from teeclient.errors import TeeclientError
from teeclient.protocol import bhttp, ehbp, hpke, keyconfig, ohttp
from teeclient.protocol.bhttp import Decoder, Limits, Request, Response
from teeclient.protocol.hpke import AeadId, KdfId, KemId, PrivateKey, Suite
from teeclient.protocol.keyconfig import Selection
from teeclient.protocol.ohttp import ChunkedRequestSender, Gateway, GatewayKey

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SUITE = Suite(kem=KemId.DHKEM_X25519_HKDF_SHA256, kdf=KdfId.HKDF_SHA256, aead=AeadId.AES_128_GCM)
GATEWAY_KEY = GatewayKey.generate(1, [SUITE])
GATEWAY = Gateway([GATEWAY_KEY])
SELECTION = Selection(config=GATEWAY_KEY.config, suite=SUITE)
EHBP_SERVER = ehbp.Server.generate()
SMALL = Limits(max_section_bytes=4096, max_fields=64, max_content_bytes=1 << 16)


def only_teeclient_errors(call: Callable[[], object]) -> None:
    """Run ``call``: success or a TeeclientError are fine; anything else fails the test."""
    with contextlib.suppress(TeeclientError):
        call()


def _decode_in_pieces(kind: str, data: bytes, cuts: list[int]) -> None:
    decoder = Decoder(kind, limits=SMALL)  # type: ignore[arg-type]
    last = 0
    for cut in sorted(c % (len(data) + 1) for c in cuts):
        decoder.feed(data[last:cut])
        last = max(last, cut)
    decoder.feed(data[last:])
    decoder.finish()


# --- any bytes into every parser -------------------------------------------------------------


@SETTINGS
@given(st.binary(max_size=600), st.lists(st.integers(min_value=0, max_value=600), max_size=4))
def test_bhttp_parsers_raise_only_teeclient_errors(data: bytes, cuts: list[int]) -> None:
    only_teeclient_errors(lambda: bhttp.decode_request(data, limits=SMALL))
    only_teeclient_errors(lambda: bhttp.decode_response(data, limits=SMALL))
    only_teeclient_errors(lambda: _decode_in_pieces("request", data, cuts))
    only_teeclient_errors(lambda: _decode_in_pieces("response", data, cuts))


@SETTINGS
@given(st.sampled_from([0, 1, 2, 3]), st.binary(max_size=300))
def test_bhttp_parsers_with_valid_framing(framing: int, rest: bytes) -> None:
    data = bytes([framing]) + rest
    only_teeclient_errors(lambda: bhttp.decode_request(data, limits=SMALL))
    only_teeclient_errors(lambda: bhttp.decode_response(data, limits=SMALL))


@SETTINGS
@given(st.binary(max_size=400))
def test_key_config_parsers_raise_only_teeclient_errors(data: bytes) -> None:
    only_teeclient_errors(lambda: keyconfig.parse_key_config(data))
    only_teeclient_errors(lambda: keyconfig.parse_key_config_list(data))
    only_teeclient_errors(lambda: ehbp.parse_key_config_body(data))
    only_teeclient_errors(lambda: keyconfig.parse_key_config(b"\x01\x00\x20" + data))
    only_teeclient_errors(
        lambda: keyconfig.parse_key_config_list(len(data).to_bytes(2, "big") + data)
    )


@SETTINGS
@given(st.binary(max_size=400), st.integers(min_value=0, max_value=400))
def test_ohttp_receivers_raise_only_teeclient_errors(data: bytes, cut: int) -> None:
    header = ohttp.RequestHeader(key_id=1, suite=SUITE).to_bytes()
    for blob in (data, header + data):

        def whole(blob: bytes = blob) -> None:
            GATEWAY.decapsulate_request(blob)

        only_teeclient_errors(whole)

        def chunked(blob: bytes = blob) -> None:
            receiver = GATEWAY.chunked_request(max_chunk_size=256)
            receiver.feed(blob[:cut])
            receiver.feed(blob[cut:])
            receiver.finish()

        only_teeclient_errors(chunked)
    only_teeclient_errors(lambda: ohttp.RequestHeader.parse(data))
    sender = ChunkedRequestSender(SELECTION)

    def response() -> None:
        receiver = sender.response_receiver(max_chunk_size=256)
        receiver.feed(data[:cut])
        receiver.feed(data[cut:])
        receiver.finish()

    only_teeclient_errors(response)
    _data, opener = ohttp.encapsulate_request(SELECTION, b"x")
    only_teeclient_errors(lambda: opener.open(data))


@SETTINGS
@given(st.binary(max_size=400), st.text(max_size=80), st.integers(min_value=100, max_value=599))
def test_ehbp_parsers_raise_only_teeclient_errors(data: bytes, text: str, status: int) -> None:
    def response() -> None:
        decryptor = ehbp.ResponseDecryptor(
            exported_secret=bytes(32), enc=bytes(range(32)), response_nonce=bytes(32)
        )
        decryptor.feed(data)
        decryptor.finish()

    only_teeclient_errors(response)
    only_teeclient_errors(lambda: EHBP_SERVER.open_request(text))
    only_teeclient_errors(lambda: EHBP_SERVER.open_request(data.hex()))
    only_teeclient_errors(lambda: ehbp.parse_response_nonce([text]))
    only_teeclient_errors(lambda: ehbp.response_nonce_for(status, [text] if text else []))
    if len(data) >= 32:
        enc = data[:32].hex()

        def request() -> None:
            decryptor = EHBP_SERVER.open_request(enc)
            decryptor.feed(data[32:])
            decryptor.finish()

        only_teeclient_errors(request)


@SETTINGS
@given(st.binary(max_size=1300), st.sampled_from(list(KemId)))
def test_hpke_recipient_raises_only_teeclient_errors(enc: bytes, kem: KemId) -> None:
    suite = Suite(kem=kem, kdf=KdfId.HKDF_SHA256, aead=AeadId.CHACHA20_POLY1305)
    key = PrivateKey.generate(kem) if kem is KemId.MLKEM768_X25519 else GATEWAY_KEY.private_key

    def recipient() -> None:
        context = hpke.setup_recipient(suite, enc, key)
        context.open(enc)

    only_teeclient_errors(recipient)
    only_teeclient_errors(lambda: hpke.PublicKey.from_bytes(kem, enc))


# --- round trips -----------------------------------------------------------------------------

TCHAR = string.ascii_letters + string.digits + "!#$%&'*+-.^_`|~"
NAME_CHARS = string.ascii_lowercase + string.digits + "!#$%&'*+-.^_`|~"
names = (
    st.text(alphabet=NAME_CHARS, min_size=1, max_size=16)
    .map(str.encode)
    .filter(
        lambda n: n not in bhttp.CONNECTION_SPECIFIC_FIELDS and n not in (b"te", b"content-length")
    )
)
values = st.binary(max_size=40).filter(lambda v: bhttp._field_problem(b"x", v) is None)
fields = st.lists(st.tuples(names, values), max_size=6).map(tuple)
paths = st.text(alphabet="".join(chr(c) for c in range(0x21, 0x7F)), max_size=30).map(
    lambda p: "/" + p
)
requests = st.builds(
    Request,
    method=st.text(alphabet=TCHAR, min_size=1, max_size=8).filter(lambda m: m != "CONNECT"),
    scheme=st.sampled_from(["https", "http", "coap+tcp"]),
    authority=st.sampled_from(["", "example.com", "h:8443", "[::1]:443"]),
    path=paths,
    headers=fields,
    content=st.binary(max_size=3000),
    trailers=fields,
)
responses = st.builds(
    Response,
    status=st.integers(min_value=200, max_value=599),
    headers=fields,
    content=st.binary(max_size=3000),
    trailers=fields,
    informational=st.lists(
        st.builds(
            bhttp.InformationalResponse,
            status=st.integers(min_value=100, max_value=199),
            headers=fields,
        ),
        max_size=3,
    ).map(tuple),
)


@SETTINGS
@given(
    requests, st.booleans(), st.integers(min_value=0, max_value=40), st.lists(st.integers(0, 5000))
)
def test_bhttp_request_round_trip(
    request: Request, indeterminate: bool, padding: int, cuts: list[int]
) -> None:
    data = bhttp.encode_request(request, indeterminate=indeterminate, padding=padding)
    assert bhttp.decode_request(data) == request
    decoder = Decoder("request")
    events: list[bhttp.Event] = []
    last = 0
    for cut in sorted(c % (len(data) + 1) for c in cuts):
        events += decoder.feed(data[last:cut])
        last = max(last, cut)
    events += decoder.feed(data[last:]) + decoder.finish()
    content = b"".join(e.data for e in events if isinstance(e, bhttp.ContentChunk))
    assert content == request.content


@SETTINGS
@given(responses, st.booleans(), st.integers(min_value=0, max_value=40))
def test_bhttp_response_round_trip(response: Response, indeterminate: bool, padding: int) -> None:
    data = bhttp.encode_response(response, indeterminate=indeterminate, padding=padding)
    assert bhttp.decode_response(data) == response


@SETTINGS
@given(
    st.binary(max_size=5000),
    st.integers(min_value=1, max_value=700),
    st.lists(st.integers(min_value=0, max_value=6000), max_size=6),
)
def test_chunked_ohttp_round_trip_any_split(body: bytes, chunk: int, cuts: list[int]) -> None:
    sender = ChunkedRequestSender(SELECTION, chunk_size=chunk)
    wire = (
        sender.header + sender.seal(body[: len(body) // 3]) + sender.finish(body[len(body) // 3 :])
    )
    receiver = GATEWAY.chunked_request()
    got = bytearray()
    last = 0
    for cut in sorted(c % (len(wire) + 1) for c in cuts):
        for piece in receiver.feed(wire[last:cut]):
            got += piece
        last = max(last, cut)
    for piece in receiver.feed(wire[last:]):
        got += piece
    got += receiver.finish()
    assert bytes(got) == body
    responder = receiver.response_sender(chunk_size=chunk)
    response_wire = responder.header + responder.seal(body) + responder.finish(b"!")
    client = sender.response_receiver()
    half = len(response_wire) // 2
    out = b"".join(client.feed(response_wire[:half]) + client.feed(response_wire[half:]))
    out += client.finish()
    assert out == body + b"!"


# --- any single-byte edit or cut is caught ---------------------------------------------------


def _chunked_response(body: bytes) -> tuple[ChunkedRequestSender, bytes]:
    sender = ChunkedRequestSender(SELECTION)
    receiver = GATEWAY.chunked_request()
    receiver.feed(sender.header + sender.finish(b"GET /"))
    receiver.finish()
    responder = receiver.response_sender(chunk_size=64)
    return sender, responder.header + responder.seal(body) + responder.finish(b"[DONE]")


_EDIT_SENDER, _EDIT_WIRE = _chunked_response(b"data: token\n\n" * 20)


@SETTINGS
@given(st.integers(min_value=0), st.integers(min_value=1, max_value=255))
def test_chunked_response_any_byte_edit_raises(position: int, delta: int) -> None:
    wire = bytearray(_EDIT_WIRE)
    index = position % len(wire)
    wire[index] = (wire[index] + delta) % 256
    receiver = _EDIT_SENDER.response_receiver()
    try:
        receiver.feed(bytes(wire))
        receiver.finish()
    except TeeclientError:
        return
    raise AssertionError(f"edit at {index} was not detected")


@SETTINGS
@given(st.integers(min_value=0))
def test_chunked_response_any_cut_raises(position: int) -> None:
    cut = position % len(_EDIT_WIRE)
    receiver = _EDIT_SENDER.response_receiver()
    try:
        receiver.feed(_EDIT_WIRE[:cut])
        receiver.finish()
    except TeeclientError:
        return
    raise AssertionError(f"cut at {cut} was not detected")


_EHBP_CLIENT = ehbp.RequestEncryptor(EHBP_SERVER.config.public_key)
_EHBP_REQUEST = EHBP_SERVER.open_request(_EHBP_CLIENT.enc.hex())
_EHBP_RESPONDER = _EHBP_REQUEST.response_encryptor()
_EHBP_WIRE = b"".join(_EHBP_RESPONDER.seal(b"data: token\n\n") for _ in range(10))


@SETTINGS
@given(st.integers(min_value=0), st.integers(min_value=1, max_value=255))
def test_ehbp_response_any_byte_edit_raises(position: int, delta: int) -> None:
    wire = bytearray(_EHBP_WIRE)
    index = position % len(wire)
    wire[index] = (wire[index] + delta) % 256
    decryptor = _EHBP_CLIENT.response_decryptor(_EHBP_RESPONDER.nonce)
    try:
        decryptor.feed(bytes(wire))
        decryptor.finish()
    except TeeclientError:
        return
    raise AssertionError(f"edit at {index} was not detected")
