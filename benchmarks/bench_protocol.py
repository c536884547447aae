"""Protocol benchmarks: HPKE per KEM, OHTTP overhead, chunked streaming throughput, EHBP vs tinfoil.

Run ``python -m benchmarks.bench_protocol``. Medians of warm runs on one core; throughput
figures are derived from the median time. The EHBP comparison needs the ``test`` extra
(tinfoil-ehbp); without it those rows are reported as skipped.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable

from benchmarks._harness import Result, measure, report

MIB = 1024 * 1024


def _noted(result: Result, note: str) -> Result:
    return dataclasses.replace(result, note=note)


def _throughput(result: Result, size: int) -> str:
    return f"{size / MIB / (result.median_us / 1e6):.0f} MB/s"


def _hpke(results: list[Result]) -> None:
    from teeclient.protocol import hpke
    from teeclient.protocol.hpke import AeadId, KdfId, KemId, PrivateKey, Suite

    message = bytes(1024)
    for kem in KemId:
        suite = Suite(kem=kem, kdf=KdfId.HKDF_SHA256, aead=AeadId.AES_256_GCM)
        key = PrivateKey.generate(kem)
        public = key.public_key()
        enc, sender = hpke.setup_sender(suite, public, info=b"bench")
        sealed = sender.seal(message)

        def setup_and_seal(suite: Suite = suite, public: hpke.PublicKey = public) -> None:
            _enc, context = hpke.setup_sender(suite, public, info=b"bench")
            context.seal(message)

        def setup_and_open(
            suite: Suite = suite, enc: bytes = enc, key: PrivateKey = key, sealed: bytes = sealed
        ) -> None:
            hpke.setup_recipient(suite, enc, key, info=b"bench").open(sealed)

        name = "X25519" if kem is KemId.DHKEM_X25519_HKDF_SHA256 else "MLKEM768-X25519"
        results.append(measure(f"hpke {name}: setup sender + seal 1 KiB", setup_and_seal))
        results.append(measure(f"hpke {name}: setup recipient + open 1 KiB", setup_and_open))
    suite = Suite(
        kem=KemId.DHKEM_X25519_HKDF_SHA256, kdf=KdfId.HKDF_SHA256, aead=AeadId.AES_256_GCM
    )
    _enc, context = hpke.setup_sender(suite, PrivateKey.generate(suite.kem).public_key())
    results.append(
        measure("hpke context seal 16 KiB (AES-256-GCM, warm)", lambda: context.seal(bytes(16384)))
    )


def _ohttp(results: list[Result]) -> None:
    from teeclient.protocol import bhttp, ohttp
    from teeclient.protocol.hpke import AeadId, KdfId, KemId, Suite
    from teeclient.protocol.keyconfig import Selection

    body = b'{"model":"m","messages":[{"role":"user","content":"' + b"x" * 1800 + b'"}]}'
    request = bhttp.Request(
        method="POST",
        scheme="https",
        authority="enclave.example",
        path="/v1/chat/completions",
        headers=(
            (b"authorization", b"Bearer sk-0123456789"),
            (b"content-type", b"application/json"),
        ),
        content=body,
    )
    for kem in KemId:
        suite = Suite(kem=kem, kdf=KdfId.HKDF_SHA256, aead=AeadId.AES_256_GCM)
        key = ohttp.GatewayKey.generate(1, [suite])
        gateway = ohttp.Gateway([key])
        selection = Selection(config=key.config, suite=suite)
        encoded = bhttp.encode_request(request)

        def client_side(selection: Selection = selection) -> None:
            wire = bhttp.encode_request(request)
            ohttp.encapsulate_request(selection, wire)

        data, opener = ohttp.encapsulate_request(selection, encoded)
        _plain, sealer = gateway.decapsulate_request(data)
        response = sealer.seal(bhttp.encode_response(bhttp.Response(status=200, content=body)))

        def round_trip(
            selection: Selection = selection,
            gateway: ohttp.Gateway = gateway,
            encoded: bytes = encoded,
        ) -> None:
            wire, opener = ohttp.encapsulate_request(selection, encoded)
            _request, sealer = gateway.decapsulate_request(wire)
            opener.open(sealer.seal(b"\x01\x40\xc8\x00\x00\x00"))

        name = "X25519" if kem is KemId.DHKEM_X25519_HKDF_SHA256 else "MLKEM768-X25519"
        overhead = len(data) - len(encoded)
        results.append(
            measure(
                f"ohttp {name}: bhttp encode + encapsulate 2 KiB request",
                client_side,
                note=f"+{overhead} bytes on the wire (hdr 7 + enc + tag 16)",
            )
        )
        results.append(
            measure(
                f"ohttp {name}: full request/response round trip",
                round_trip,
                note=f"response {len(response)} bytes",
            )
        )
        _ = opener


def _streaming(results: list[Result]) -> None:
    from teeclient.protocol import bhttp
    from teeclient.protocol.hpke import AeadId, KdfId, KemId, Suite
    from teeclient.protocol.keyconfig import Selection
    from teeclient.protocol.ohttp import ChunkedRequestSender, Gateway, GatewayKey

    suite = Suite(
        kem=KemId.DHKEM_X25519_HKDF_SHA256, kdf=KdfId.HKDF_SHA256, aead=AeadId.AES_256_GCM
    )
    key = GatewayKey.generate(1, [suite])
    gateway = Gateway([key])
    sender = ChunkedRequestSender(Selection(config=key.config, suite=suite))
    receiver = gateway.chunked_request()
    receiver.feed(sender.header + sender.finish(b"GET"))
    receiver.finish()
    total = 8 * MIB
    chunk = bytes(16384)
    count = total // len(chunk)
    responder = receiver.response_sender()
    wire = responder.header + b"".join(responder.seal(chunk) for _ in range(count))
    wire += responder.finish()
    network = [wire[i : i + 65536] for i in range(0, len(wire), 65536)]

    def plaintext() -> None:
        out = bytearray()
        for piece in network:
            out += piece

    def decrypt() -> None:
        client = sender.response_receiver()
        out = bytearray()
        for piece in network:
            for plain in client.feed(piece):
                out += plain
        out += client.finish()

    def encrypt() -> None:
        sealer = receiver.response_sender()
        for _ in range(count):
            sealer.seal(chunk)
        sealer.finish()

    base = measure("stream 8 MiB plaintext pass-through (baseline)", plaintext, samples=20)
    results.append(_noted(base, _throughput(base, total)))
    dec = measure("chunked OHTTP response: open 8 MiB in 16 KiB chunks", decrypt, samples=20)
    results.append(_noted(dec, _throughput(dec, total)))
    enc = measure("chunked OHTTP response: seal 8 MiB in 16 KiB chunks", encrypt, samples=20)
    results.append(_noted(enc, _throughput(enc, total)))

    # 10,000 SSE events of ~100 bytes: chunk-per-event, as a streaming completion arrives.
    events = [b"data: " + b"%05d" % i + b" " + b"t" * 80 + b"\n\n" for i in range(10000)]
    sse_size = sum(len(e) for e in events)
    sse_responder = receiver.response_sender()
    body = bhttp.encode_response_head(200, [(b"content-type", b"text/event-stream")])
    sse_wire = [sse_responder.header, sse_responder.seal(body)]
    sse_wire += [sse_responder.seal(bhttp.encode_content_chunk(e)) for e in events]
    sse_wire.append(sse_responder.finish(bhttp.encode_message_end()))

    def sse_plain() -> None:
        decoder = bhttp.Decoder("response")
        decoder.feed(body)
        for event in events:
            decoder.feed(bhttp.encode_content_chunk(event))
        decoder.feed(bhttp.encode_message_end())
        decoder.finish()

    def sse_encrypted() -> None:
        client = sender.response_receiver()
        decoder = bhttp.Decoder("response")
        for piece in sse_wire:
            for plain in client.feed(piece):
                decoder.feed(plain)
        decoder.feed(client.finish())
        decoder.finish()

    plain = measure("10,000 SSE events: bhttp decode only (baseline)", sse_plain, samples=15)
    crypt = measure(
        "10,000 SSE events: chunked OHTTP open + bhttp decode", sse_encrypted, samples=15
    )
    ratio = plain.median_us / crypt.median_us
    results.append(_noted(plain, _throughput(plain, sse_size)))
    results.append(_noted(crypt, f"{_throughput(crypt, sse_size)}; {ratio:.2f}x of baseline"))


def _ehbp(results: list[Result]) -> None:
    from teeclient.protocol import ehbp

    try:
        import ehbp as tinfoil
    except ImportError:
        results.append(Result("ehbp vs tinfoil-ehbp", 0, 0, 0, 0, "skipped: tinfoil-ehbp missing"))
        return
    server = ehbp.Server.generate()
    identity = tinfoil.ServerIdentity.from_public_key_bytes(server.config.public_key.raw)
    body = bytes(1024)

    def ours_request() -> None:
        client = ehbp.RequestEncryptor(server.config.public_key)
        client.seal(body)

    def theirs_request() -> None:
        identity.encrypt_request_body(body)

    client = ehbp.RequestEncryptor(server.config.public_key)
    request = server.open_request(client.enc.hex())
    request.feed(client.seal(body))
    token = tinfoil.SessionRecoveryToken(client._secret, client.enc)

    def response(frames: list[bytes]) -> tuple[bytes, bytes]:
        responder = request.response_encryptor()
        return responder.nonce, b"".join(responder.seal(f) for f in frames)

    big = response([bytes(4 * MIB)])  # sealed as 64 KiB frames
    sse = response([b"data: token " + b"t" * 80 + b"\n\n"] * 10000)

    def ours_decrypt(nonce_and_data: tuple[bytes, bytes]) -> Callable[[], None]:
        nonce, data = nonce_and_data

        def run() -> None:
            decryptor = client.response_decryptor(nonce)
            decryptor.feed(data)
            decryptor.finish()

        return run

    def theirs_decrypt(nonce_and_data: tuple[bytes, bytes]) -> Callable[[], None]:
        nonce, data = nonce_and_data

        def run() -> None:
            decryptor = token.create_response_decryptor(nonce)
            decryptor.push(data)
            decryptor.finish()

        return run

    pairs = [
        ("EHBP request: setup + seal 1 KiB", ours_request, theirs_request, 200),
        ("EHBP response: open 4 MiB (64 KiB frames)", ours_decrypt(big), theirs_decrypt(big), 20),
        ("EHBP response: open 10,000 SSE frames", ours_decrypt(sse), theirs_decrypt(sse), 20),
    ]
    for name, ours, theirs, samples in pairs:
        mine = measure(f"{name} (teeclient)", ours, samples=samples)
        ref = measure(f"{name} (tinfoil-ehbp)", theirs, samples=samples)
        ratio = mine.median_us / ref.median_us
        results.append(_noted(mine, f"ratio to tinfoil-ehbp {ratio:.2f}"))
        results.append(ref)


def run() -> list[Result]:
    """Run every protocol benchmark."""
    results: list[Result] = []
    _hpke(results)
    _ohttp(results)
    _streaming(results)
    _ehbp(results)
    return results


def ratios(results: list[Result]) -> dict[str, float]:
    """teeclient / tinfoil-ehbp for each EHBP operation measured side by side."""
    by = {r.name: r.median_us for r in results}
    out: dict[str, float] = {}
    for name, value in by.items():
        if name.endswith(" (teeclient)"):
            base = name.removesuffix(" (teeclient)")
            ref = by.get(f"{base} (tinfoil-ehbp)")
            if ref:
                out[f"{base}: teeclient / tinfoil-ehbp"] = value / ref
    return out


def main() -> int:
    """Print the results, the ratios and their JSON."""
    return report(run(), ratios)


if __name__ == "__main__":
    sys.exit(main())
