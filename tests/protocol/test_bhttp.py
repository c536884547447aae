"""RFC 9292 Binary HTTP: the RFC's examples byte for byte, truncation, strictness, limits."""

from __future__ import annotations

import pytest

from teeclient.errors import FrameTooLargeError, MalformedMessageError, ProtocolStateError
from teeclient.protocol import bhttp
from teeclient.protocol._wire import encode_varint, peek_varint
from teeclient.protocol.bhttp import (
    ContentChunk,
    Decoder,
    InformationalResponse,
    Limits,
    Request,
    RequestHead,
    Response,
    ResponseHead,
    Trailers,
)

# RFC 9292 §5.1 Figure 8: the sample request, known-length.
FIG8 = bytes.fromhex(
    "0003474554056874747073000a2f6865"
    "6c6c6f2e747874406c0a757365722d61"
    "67656e74346375726c2f372e31362e33"
    "206c69626375726c2f372e31362e3320"
    "4f70656e53534c2f302e392e376c207a"
    "6c69622f312e322e3304686f73740f77"
    "77772e6578616d706c652e636f6d0f61"
    "63636570742d6c616e67756167650665"
    "6e2c206d690000"
)
# RFC 9292 §5.1 Figure 9: the same request, indeterminate-length, with 10 bytes of padding.
FIG9 = bytes.fromhex(
    """
    02034745 54056874 74707300 0a2f6865
    6c6c6f2e 7478740a 75736572 2d616765
    6e743463 75726c2f 372e3136 2e33206c
    69626375 726c2f37 2e31362e 33204f70
    656e5353 4c2f302e 392e376c 207a6c69
    622f312e 322e3304 686f7374 0f777777
    2e657861 6d706c65 2e636f6d 0f616363
    6570742d 6c616e67 75616765 06656e2c
    206d6900 00000000 00000000 00000000
    """
)
# RFC 9292 §5.2 Figure 11: response with 102 and 103 interim responses, indeterminate-length.
FIG11 = bytes.fromhex(
    """
    03406607 72756e6e 696e670a 22736c65
    65702031 35220040 67046c69 6e6b233c
    2f737479 6c652e63 73733e3b 2072656c
    3d707265 6c6f6164 3b206173 3d737479
    6c65046c 696e6b24 3c2f7363 72697074
    2e6a733e 3b207265 6c3d7072 656c6f61
    643b2061 733d7363 72697074 0040c804
    64617465 1d4d6f6e 2c203237 204a756c
    20323030 39203132 3a32383a 35332047
    4d540673 65727665 72064170 61636865
    0d6c6173 742d6d6f 64696669 65641d57
    65642c20 3232204a 756c2032 30303920
    31393a31 353a3536 20474d54 04657461
    67142233 34616133 38372d64 2d313536
    38656230 30220d61 63636570 742d7261
    6e676573 05627974 65730e63 6f6e7465
    6e742d6c 656e6774 68023531 04766172
    790f4163 63657074 2d456e63 6f64696e
    670c636f 6e74656e 742d7479 70650a74
    6578742f 706c6169 6e003348 656c6c6f
    20576f72 6c642120 4d792063 6f6e7465
    6e742069 6e636c75 64657320 61207472
    61696c69 6e672043 524c462e 0d0a0000
    """
)
# RFC 9292 §5.2 Figure 13: known-length response with a trailer field.
FIG13 = bytes.fromhex(
    "0140c8001d5468697320636f6e74656e"
    "7420636f6e7461696e732043524c462e"
    "0d0a0d07747261696c65720474657874"
)
# RFC 9458 Appendix A: "GET https://example.com/" truncated after the control data, and "200".
RFC9458_REQUEST = bytes.fromhex("00034745540568747470730b6578616d706c652e636f6d012f")
RFC9458_RESPONSE = bytes.fromhex("0140c8")

HELLO_HEADERS = (
    (b"user-agent", b"curl/7.16.3 libcurl/7.16.3 OpenSSL/0.9.7l zlib/1.2.3"),
    (b"host", b"www.example.com"),
    (b"accept-language", b"en, mi"),
)
HELLO = Request(
    method="GET", scheme="https", authority="", path="/hello.txt", headers=HELLO_HEADERS
)
FIG11_RESPONSE = Response(
    status=200,
    informational=(
        InformationalResponse(status=102, headers=((b"running", b'"sleep 15"'),)),
        InformationalResponse(
            status=103,
            headers=(
                (b"link", b"</style.css>; rel=preload; as=style"),
                (b"link", b"</script.js>; rel=preload; as=script"),
            ),
        ),
    ),
    headers=(
        (b"date", b"Mon, 27 Jul 2009 12:28:53 GMT"),
        (b"server", b"Apache"),
        (b"last-modified", b"Wed, 22 Jul 2009 19:15:56 GMT"),
        (b"etag", b'"34aa387-d-1568eb00"'),
        (b"accept-ranges", b"bytes"),
        (b"content-length", b"51"),
        (b"vary", b"Accept-Encoding"),
        (b"content-type", b"text/plain"),
    ),
    content=b"Hello World! My content includes a trailing CRLF.\r\n",
)
FIG13_RESPONSE = Response(
    status=200, content=b"This content contains CRLF.\r\n", trailers=((b"trailer", b"text"),)
)


def test_rfc9292_figure_8_known_length_request() -> None:
    assert bhttp.decode_request(FIG8) == HELLO
    assert bhttp.encode_request(HELLO) == FIG8


def test_rfc9292_figure_9_indeterminate_request_with_padding() -> None:
    assert bhttp.decode_request(FIG9) == HELLO
    assert bhttp.encode_request(HELLO, indeterminate=True, padding=10) == FIG9


@pytest.mark.parametrize("cut", [1, 2])
def test_rfc9292_figure_8_truncation(cut: int) -> None:
    assert bhttp.decode_request(FIG8[:-cut]) == HELLO


@pytest.mark.parametrize("cut", range(1, 13))
def test_rfc9292_figure_9_truncation(cut: int) -> None:
    """Anything up to 12 bytes can be removed from Figure 9 (RFC 9292 §5.1)."""
    assert bhttp.decode_request(FIG9[:-cut]) == HELLO


def test_rfc9292_figure_9_cut_too_far() -> None:
    with pytest.raises(MalformedMessageError):
        bhttp.decode_request(FIG9[:-14])


def test_rfc9292_figure_11_interim_responses() -> None:
    assert len(FIG11) == 23 * 16
    assert bhttp.decode_response(FIG11) == FIG11_RESPONSE
    assert bhttp.decode_response(FIG11[:-1]) == FIG11_RESPONSE  # trailers truncated
    assert bhttp.encode_response(FIG11_RESPONSE, indeterminate=True) == FIG11


def test_rfc9292_figure_13_known_length_response_with_trailer() -> None:
    assert bhttp.decode_response(FIG13) == FIG13_RESPONSE
    assert bhttp.encode_response(FIG13_RESPONSE) == FIG13


def test_rfc9458_appendix_a_messages() -> None:
    request = bhttp.decode_request(RFC9458_REQUEST)
    assert request == Request(method="GET", scheme="https", authority="example.com", path="/")
    assert bhttp.encode_request(request)[: len(RFC9458_REQUEST)] == RFC9458_REQUEST
    assert bhttp.decode_response(RFC9458_RESPONSE) == Response(status=200)
    assert bhttp.encode_response(Response(status=200)) == RFC9458_RESPONSE + b"\x00\x00\x00"


def test_rfc9000_varint_examples() -> None:
    for hex_value, value in (
        ("c2197c5eff14e88c", 151288809941952652),
        ("9d7f3e7d", 494878333),
        ("7bbd", 15293),
        ("25", 37),
        ("4025", 37),
    ):
        assert peek_varint(bytes.fromhex(hex_value), 0) == (value, len(hex_value) // 2)
    assert encode_varint(151288809941952652).hex() == "c2197c5eff14e88c"
    assert encode_varint(494878333).hex() == "9d7f3e7d"
    assert encode_varint(15293).hex() == "7bbd"
    assert encode_varint(37).hex() == "25"
    assert peek_varint(bytes.fromhex("c2197c"), 0) is None
    with pytest.raises(ValueError, match="range"):
        encode_varint(1 << 62)
    # A non-minimal framing indicator (0x4000 = 0) is still a known-length request.
    assert bhttp.decode_request(b"\x40\x00" + FIG8[1:]) == HELLO


@pytest.mark.parametrize("message", [FIG8, FIG9, FIG11, FIG13, RFC9458_REQUEST])
def test_byte_by_byte_feeding_matches_one_shot(message: bytes) -> None:
    kind = "request" if message[0] in (0, 2) else "response"
    decoder = Decoder(kind)  # type: ignore[arg-type]
    events = []
    for index in range(len(message)):
        events += decoder.feed(message[index : index + 1])
    events += decoder.finish()
    whole = Decoder(kind)  # type: ignore[arg-type]
    expected = whole.feed(message) + whole.finish()

    def merged(items: list[bhttp.Event]) -> list[object]:
        out: list[object] = []
        for item in items:
            if isinstance(item, ContentChunk) and out and isinstance(out[-1], bytes):
                out[-1] += item.data
            else:
                out.append(item.data if isinstance(item, ContentChunk) else item)
        return out

    assert merged(events) == merged(expected)


def test_content_streams_before_the_message_ends() -> None:
    head = bhttp.encode_response_head(200, [(b"content-type", b"text/event-stream")])
    decoder = Decoder("response")
    events = decoder.feed(head)
    assert events == [ResponseHead(status=200, headers=((b"content-type", b"text/event-stream"),))]
    assert decoder.framing is bhttp.Framing.INDETERMINATE_LENGTH_RESPONSE
    chunk = bhttp.encode_content_chunk(b"data: hello\n\n")
    assert decoder.feed(chunk[:5]) == [ContentChunk(b"data")]
    assert decoder.feed(chunk[5:]) == [ContentChunk(b": hello\n\n")]
    assert bhttp.encode_content_chunk(b"") == b""
    end = bhttp.encode_message_end([(b"x-done", b"1")])
    assert decoder.feed(end) == [Trailers(((b"x-done", b"1"),))]
    assert decoder.finish() == []


def test_streaming_request_encoder_round_trip() -> None:
    data = bhttp.encode_request_head(
        "POST", "https", "api.example", "/v1/chat", [(b"authorization", b"Bearer sk-1")]
    )
    data += bhttp.encode_content_chunk(b'{"a":') + bhttp.encode_content_chunk(b"1}")
    data += bhttp.encode_message_end(padding=3)
    request = bhttp.decode_request(data)
    assert request.method == "POST"
    assert request.content == b'{"a":1}'
    assert request.headers == ((b"authorization", b"Bearer sk-1"),)
    events = Decoder("request").feed(data)
    assert isinstance(events[0], RequestHead)


def test_empty_content_and_big_status_round_trips() -> None:
    response = Response(status=599, headers=((b"a", b""),), content=bytes(range(256)) * 300)
    for indeterminate in (False, True):
        encoded = bhttp.encode_response(response, indeterminate=indeterminate, padding=7)
        assert bhttp.decode_response(encoded) == response


# --- invalid messages ------------------------------------------------------------------------


def _raw_request(
    method: bytes = b"GET",
    scheme: bytes = b"https",
    authority: bytes = b"a.example",
    path: bytes = b"/",
    fields: tuple[tuple[bytes, bytes], ...] = (),
    tail: bytes = b"\x00\x00",
) -> bytes:
    def lp(data: bytes) -> bytes:
        return encode_varint(len(data)) + data

    section = b"".join(lp(n) + lp(v) for n, v in fields)
    return b"\x00" + lp(method) + lp(scheme) + lp(authority) + lp(path) + lp(section) + tail


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"", "request"),
        (b"\x01", "request"),  # a response framing indicator for a request
        (b"\x04", "request"),
        (b"\x00", "response"),
        (FIG13[:1], "response"),  # no final status
        (bytes.fromhex("014066"), "response"),  # only an informational status ...
        (bytes.fromhex("01406600"), "response"),  # ... and its header section
        (bytes.fromhex("014063"), "response"),  # status 99
        (bytes.fromhex("014258"), "response"),  # status 600
        (FIG8[:8], "request"),  # inside the control data
        (FIG8[:40], "request"),  # inside the header section
        (FIG13[:10], "response"),  # inside known-length content
        (FIG13[:-3], "response"),  # inside the trailer section
        (FIG8 + b"\x00\x01", "request"),  # non-zero padding
        (FIG11[:-2], "response"),  # indeterminate content without its terminator
        (FIG11[:-1] + b"\x01x\x01y", "response"),  # trailer section without its terminator
        (FIG9[:12], "request"),  # inside the indeterminate header section
    ],
)
def test_invalid_messages(data: bytes, kind: str) -> None:
    decode = bhttp.decode_request if kind == "request" else bhttp.decode_response
    with pytest.raises(MalformedMessageError) as info:
        decode(data)
    assert info.value.code == "transport.malformed"


@pytest.mark.parametrize(
    "data",
    [
        _raw_request(fields=((b"Accept", b"*/*"),)),
        _raw_request(fields=((b":path", b"/x"),)),
        _raw_request(fields=((b":custom", b"x"),)),
        _raw_request(fields=((b"bad name", b"x"),)),
        _raw_request(fields=((b"x", b"a\r\nb: c"),)),
        _raw_request(fields=((b"x", b"a\nb"),)),
        _raw_request(fields=((b"x", b"a\x00b"),)),
        _raw_request(fields=((b"x", b" a"),)),
        _raw_request(fields=((b"x", b"a\t"),)),
        _raw_request(fields=((b"connection", b"close"),)),
        _raw_request(fields=((b"transfer-encoding", b"chunked"),)),
        _raw_request(fields=((b"te", b"gzip"),)),
        _raw_request(fields=((b"content-length", b"5"),)),
        _raw_request(fields=((b"content-length", b"0"), (b"content-length", b"1"))),
        _raw_request(fields=((b"content-length", b"-0"),)),
        _raw_request(method=b"GE T"),
        _raw_request(method=b""),
        _raw_request(path=b"/a b"),
        _raw_request(path=b"/\xc3\xa9"),
        _raw_request(path=b""),
        _raw_request(path=b"relative"),
        _raw_request(path=b"*"),
        _raw_request(scheme=b"1http"),
        _raw_request(scheme=b""),
        _raw_request(authority=b"user@host"),
        _raw_request(method=b"CONNECT", scheme=b"", authority=b"", path=b""),
        b"\x00"
        + encode_varint(3)
        + b"GET"
        + b"\x05https\x00\x01/"
        + b"\x04\x00\x01x",  # empty name
        b"\x00\x03GET\x05https\x00\x01/\x04\x01x\x05ab",  # value overruns the section
    ],
)
def test_invalid_fields_and_control_data(data: bytes) -> None:
    with pytest.raises(MalformedMessageError):
        bhttp.decode_request(data)


def test_valid_edge_cases() -> None:
    assert bhttp.decode_request(_raw_request(fields=((b"te", b"trailers"),))).headers == (
        (b"te", b"trailers"),
    )
    options = bhttp.decode_request(_raw_request(method=b"OPTIONS", path=b"*"))
    assert options.path == "*"
    connect = bhttp.decode_request(
        _raw_request(method=b"CONNECT", scheme=b"", authority=b"h:443", path=b"")
    )
    assert connect.authority == "h:443"
    head = Response(status=200, headers=((b"content-length", b"1234"),))
    assert bhttp.decode_response(bhttp.encode_response(head)) == head  # HEAD-style response
    value = bhttp.decode_request(_raw_request(fields=((b"x", b"caf\xc3\xa9 \x01 \x7f"),)))
    assert value.headers == ((b"x", b"caf\xc3\xa9 \x01 \x7f"),)


def test_limits() -> None:
    many = Request(
        method="GET",
        scheme="https",
        authority="",
        path="/",
        headers=tuple((b"x-%d" % i, b"v") for i in range(10)),
    )
    small = Limits(max_fields=9)
    for indeterminate in (False, True):
        data = bhttp.encode_request(many, indeterminate=indeterminate)
        with pytest.raises(FrameTooLargeError) as info:
            bhttp.decode_request(data, limits=small)
        assert info.value.code == "transport.frame_too_large"
        with pytest.raises(FrameTooLargeError):
            bhttp.decode_request(data, limits=Limits(max_section_bytes=40))
    big = Request(method="POST", scheme="https", authority="", path="/", content=bytes(5000))
    for indeterminate in (False, True):
        data = bhttp.encode_request(big, indeterminate=indeterminate)
        with pytest.raises(FrameTooLargeError):
            bhttp.decode_request(data, limits=Limits(max_content_bytes=4999))
        assert bhttp.decode_request(data, limits=Limits(max_content_bytes=5000)) == big
    with pytest.raises(FrameTooLargeError):
        bhttp.decode_request(
            bhttp.encode_request(HELLO, padding=100), limits=Limits(max_padding_bytes=99)
        )
    with pytest.raises(FrameTooLargeError):
        bhttp.decode_request(FIG8, limits=Limits(max_control_bytes=9))
    with pytest.raises(FrameTooLargeError):
        bhttp.decode_response(FIG11, limits=Limits(max_informational=1))
    # A declared length beyond the limit is refused before its bytes arrive.
    decoder = Decoder("request", limits=Limits(max_section_bytes=100))
    with pytest.raises(FrameTooLargeError):
        decoder.feed(b"\x00\x03GET\x05https\x00\x01/" + encode_varint(1 << 40))
    decoder = Decoder("request", limits=Limits(max_section_bytes=100))
    with pytest.raises(FrameTooLargeError):
        decoder.feed(b"\x02\x03GET\x05https\x00\x01/\x01x" + encode_varint(1 << 30))
    with pytest.raises(ValueError, match="positive"):
        Limits(max_fields=0)


def test_decoder_state_errors() -> None:
    decoder = Decoder("response")
    decoder.feed(FIG13)
    decoder.finish()
    with pytest.raises(ProtocolStateError) as info:
        decoder.feed(b"")
    assert info.value.code == "transport.invalid_state"
    with pytest.raises(ProtocolStateError):
        decoder.finish()
    with pytest.raises(ValueError, match="kind"):
        Decoder("other")  # type: ignore[arg-type]
    assert Decoder("request").framing is None


def test_encoder_validation() -> None:
    with pytest.raises(ValueError, match="empty path"):
        Request(method="GET", scheme="https", authority="", path="")
    with pytest.raises(ValueError, match="lowercase"):
        Request(method="GET", scheme="https", authority="", path="/", headers=((b"X", b"1"),))
    with pytest.raises(TypeError, match="bytes"):
        Request(method="GET", scheme="https", authority="", path="/", headers=(("x", "1"),))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="content-length"):
        Request(
            method="GET",
            scheme="https",
            authority="",
            path="/",
            headers=((b"content-length", b"3"),),
        )
    with pytest.raises(ValueError, match=r"200\.\.599"):
        Response(status=102)
    with pytest.raises(ValueError, match=r"100\.\.199"):
        InformationalResponse(status=200)
    with pytest.raises(ValueError, match=r"200\.\.599"):
        bhttp.encode_response_head(100)
    with pytest.raises(ValueError, match="method"):
        bhttp.encode_request_head("G T", "https", "", "/")
    with pytest.raises(ValueError, match="connection-specific"):
        bhttp.encode_message_end([(b"upgrade", b"h2c")])
    with pytest.raises(ValueError, match="negative"):
        bhttp.encode_request(HELLO, padding=-1)
