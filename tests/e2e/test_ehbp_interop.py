"""EHBP interop with the reference implementation (tinfoil-ehbp 0.4.1), both directions, over
loopback HTTP: its httpx transports against our gateway, and our EHBP profile transport
against a server built from its primitives (the reference ships no server)."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Iterator

import ehbp as tinfoil
import httpx
import pytest
from ehbp import derive as tinfoil_derive
from pyhpke import AEADId, CipherSuite, KDFId, KEMId

from teeclient.errors import KeyConfigMismatchError as OurKeyConfigMismatch
from teeclient.protocol import ehbp
from teeclient.protocol.hpke import KemId, PrivateKey
from teeclient.testing.gateway import EhbpGateway
from teeclient.testing.loopback import LoopbackServer
from teeclient.transport import AsyncAttestedTransport, AttestedTransport
from tests._standin import model_app
from tests.transport.conftest import identity_for

CHAT = {"model": "m", "messages": [{"role": "user", "content": "interop " * 50}]}
STREAM = {**CHAT, "stream": True}


def _their_transport(gateway: EhbpGateway) -> tinfoil.EHBPTransport:
    identity = tinfoil.ServerIdentity.unmarshal_public_config(gateway.key_config)
    return tinfoil.EHBPTransport(identity)


def test_reference_client_against_our_gateway_over_loopback() -> None:
    gateway = EhbpGateway(model_app(api_key="sk-1"))
    with (
        LoopbackServer(gateway, capture=True) as server,
        httpx.Client(transport=_their_transport(gateway), base_url=server.url) as client,
    ):
        headers = {"authorization": "Bearer sk-1"}
        reply = client.post("/v1/chat/completions", json=CHAT, headers=headers)
        assert reply.json()["choices"][0]["message"]["content"].startswith("Echo: interop")
        with client.stream("POST", "/v1/chat/completions", json=STREAM, headers=headers) as stream:
            text = b"".join(stream.iter_bytes())
        assert text.endswith(b"data: [DONE]\n\n")
        models = client.get("/v1/models", headers=headers)  # bodyless: plaintext in EHBP
        assert models.status_code == 200
    wire = b"".join(bytes(c.received) for c in server.connections)
    assert b"interop interop" not in wire  # bodies were encrypted ...
    assert b"sk-1" in wire  # ... but EHBP leaves headers in clear (weakness 3)
    assert gateway.requests == 2


def test_reference_async_client_against_our_gateway() -> None:
    gateway = EhbpGateway(model_app())

    async def run(url: str) -> bytes:
        identity = tinfoil.ServerIdentity.unmarshal_public_config(gateway.key_config)
        async with httpx.AsyncClient(
            transport=tinfoil.AsyncEHBPTransport(identity), base_url=url
        ) as client:
            response = await client.post("/v1/chat/completions", json=STREAM)
            return response.content

    with LoopbackServer(gateway) as server:
        assert asyncio.run(run(server.url)).endswith(b"data: [DONE]\n\n")


def test_reference_client_sees_our_key_config_problem() -> None:
    gateway = EhbpGateway(model_app())
    transport = _their_transport(gateway)
    gateway.rotate(ehbp.Server.generate())
    with (
        LoopbackServer(gateway) as server,
        httpx.Client(transport=transport) as client,
        pytest.raises(tinfoil.KeyConfigMismatchError),
    ):
        client.post(server.url + "/v1/chat/completions", json=CHAT)


class ReferenceServer:
    """An EHBP server made of tinfoil-ehbp's primitives (pyhpke recipient, its response keys,
    framing and sealing), in front of the model app."""

    def __init__(self) -> None:
        self.suite = CipherSuite.new(
            KEMId.DHKEM_X25519_HKDF_SHA256, KDFId.HKDF_SHA256, AEADId.AES256_GCM
        )
        self.key = PrivateKey.generate(KemId.DHKEM_X25519_HKDF_SHA256)
        self._theirs = self.suite.kem.deserialize_private_key(self.key.to_bytes())
        self.app = model_app()
        self.bodies: list[bytes] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        enc = bytes.fromhex(request.headers["ehbp-encapsulated-key"])
        recipient = self.suite.create_recipient_context(enc, self._theirs, info=b"ehbp request")
        wire = request.read()
        self.bodies.append(wire)
        frames, pos = [], 0
        while pos < len(wire):
            length = int.from_bytes(wire[pos : pos + 4], "big")
            frames.append(recipient.open(wire[pos + 4 : pos + 4 + length], b""))
            pos += 4 + length
        inner = httpx.Request(
            request.method,
            request.url,
            headers=[(k, v) for k, v in request.headers.items() if not k.startswith("ehbp-")],
            content=b"".join(frames),
        )
        answer = self.app(inner)
        nonce = os.urandom(32)
        keys = tinfoil_derive.derive_response_keys(
            recipient.export(b"ehbp response", 32), enc, nonce
        )

        def frames_out() -> Iterator[bytes]:
            for seq, piece in enumerate(answer.stream):  # type: ignore[arg-type]
                yield tinfoil_derive.frame_chunk(tinfoil_derive.encrypt_chunk(keys, seq, piece))

        return httpx.Response(
            answer.status_code,
            headers={
                "content-type": answer.headers.get("content-type", "application/json"),
                "ehbp-response-nonce": nonce.hex(),
            },
            content=frames_out(),
        )


def _ours(server: ReferenceServer, url: str) -> httpx.Client:
    transport = AttestedTransport(
        httpx.HTTPTransport(),
        endpoint=url,
        identity=identity_for(hpke_public_key=server.key.public_key().raw, endpoint=url),
        profile="ehbp",
    )
    return httpx.Client(transport=transport, base_url=url)


def test_our_ehbp_transport_against_the_reference_server() -> None:
    reference = ReferenceServer()
    with LoopbackServer(reference) as server, _ours(reference, server.url) as client:
        reply = client.post("/v1/chat/completions", json=CHAT)
        assert reply.json()["choices"][0]["message"]["content"].startswith("Echo: interop")
        with client.stream("POST", "/v1/chat/completions", json=STREAM) as stream:
            events = [line for line in stream.iter_lines() if line]
        assert events[-1] == "data: [DONE]"
        models = client.get("/v1/models")  # bodyless: we still encrypt (minimal body)
        assert models.json()["data"]
    assert all(b"interop interop" not in body for body in reference.bodies)
    assert len(reference.bodies[-1]) == 4 + 16  # one frame sealing zero bytes


def test_our_async_ehbp_transport_against_the_reference_server() -> None:
    reference = ReferenceServer()

    async def run(url: str) -> object:
        transport = AsyncAttestedTransport(
            httpx.AsyncHTTPTransport(),
            endpoint=url,
            identity=identity_for(hpke_public_key=reference.key.public_key().raw, endpoint=url),
            profile="ehbp",
        )
        async with httpx.AsyncClient(transport=transport, base_url=url) as client:
            return (await client.post("/v1/embeddings", json={"input": "x"})).json()

    with LoopbackServer(reference) as server:
        result = asyncio.run(run(server.url))
    assert json.dumps(result).startswith('{"object": "list"')


def test_our_ehbp_transport_reattests_on_the_key_config_problem() -> None:
    gateway = EhbpGateway(model_app())
    attested = [gateway.server]

    def attest() -> object:
        return identity_for(hpke_public_key=attested[0].config.public_key.raw)

    transport = AttestedTransport(
        httpx.MockTransport(gateway),
        endpoint="https://enclave.test",
        attestor=attest,  # type: ignore[arg-type]
        profile="ehbp",
    )
    with httpx.Client(transport=transport, base_url="https://enclave.test") as client:
        client.post("/v1/embeddings", json={"input": "x"})
        gateway.rotate(ehbp.Server.generate())
        attested[0] = gateway.server
        response = client.post("/v1/embeddings", json={"input": "x"})
        assert response.extensions["teeclient.exchange"].attempts == 2
        gateway.rotate(ehbp.Server.generate())  # now the attestation lags behind
        with pytest.raises(OurKeyConfigMismatch):
            client.post("/v1/embeddings", json={"input": "x"})
