"""A small stand-in enclave: SEV-SNP attestation endpoint (generated AMD PKI, report_data
binding nonce and keys), the chunked-OHTTP gateway, a deterministic OpenAI-style model.

Handlers are httpx-shaped, so it runs in an ``httpx.MockTransport`` or a ``LoopbackServer``.
The transport tests use it where they need control the full mock enclave does not give (a TLS
key bound to a certificate made by the test, rotation on demand, tampered answers); the
end-to-end tests, the CLI tests and ``teeclient demo`` use ``teeclient.testing.enclave``.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache

import httpx

from teeclient.binding import BoundKeys, report_data
from teeclient.document import WELL_KNOWN_PATH, CpuEvidence, encode_document
from teeclient.policy.load import parse_policy
from teeclient.policy.model import Policy
from teeclient.testing.evidence import SnpReportSpec
from teeclient.testing.gateway import GATEWAY_PATH, OhttpGateway
from teeclient.testing.pki.amd import AmdPki
from teeclient.trust import TrustStore

MEASUREMENT = bytes.fromhex("5e" * 48)
MODEL = "teeclient-mock-1"


@dataclass(frozen=True)
class _Hardware:
    amd: AmdPki
    vcek_key: object
    vcek_pem: bytes
    trust: TrustStore


@cache
def hardware() -> _Hardware:
    amd = AmdPki.generate("genoa")
    spec = SnpReportSpec.for_product("genoa")
    vcek = amd.issue_vcek(chip_id=spec.chip_id, tcb={"bl": 10, "tee": 0, "snp": 25, "ucode": 84})
    return _Hardware(amd, vcek.key, vcek.pem, amd.trust_store())


def policy(measurement: bytes = MEASUREMENT) -> Policy:
    return parse_policy(
        f"""
version = 1
[[sev_snp]]
products = ["genoa"]
measurement = "{measurement.hex()}"
"""
    )


def _words(messages: list[dict[str, object]]) -> list[str]:
    last = next((m for m in reversed(messages) if m.get("role") == "user"), {"content": ""})
    text = str(last.get("content", ""))
    return ["Echo:", *text.split()]


def model_app(api_key: str | None = None) -> Callable[[httpx.Request], httpx.Response]:
    """A deterministic OpenAI-compatible model: chat (streaming or not), embeddings, models."""

    def app(request: httpx.Request) -> httpx.Response:
        if api_key is not None and request.headers.get("authorization") != f"Bearer {api_key}":
            return httpx.Response(401, json={"error": {"message": "bad key", "type": "auth"}})
        path = request.url.path
        if path == "/v1/models" and request.method == "GET":
            return httpx.Response(
                200,
                json={
                    "object": "list",
                    "data": [{"id": MODEL, "object": "model", "created": 0, "owned_by": "tee"}],
                },
            )
        if path == "/v1/embeddings" and request.method == "POST":
            body = json.loads(request.content)
            inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
            data = [
                {
                    "object": "embedding",
                    "index": i,
                    "embedding": [b / 255 for b in hashlib.sha256(str(text).encode()).digest()[:8]],
                }
                for i, text in enumerate(inputs)
            ]
            return httpx.Response(
                200,
                json={
                    "object": "list",
                    "data": data,
                    "model": body.get("model", MODEL),
                    "usage": {"prompt_tokens": 1, "total_tokens": 1},
                },
            )
        if path == "/v1/chat/completions" and request.method == "POST":
            body = json.loads(request.content)
            words = _words(body.get("messages", []))
            if body.get("stream"):
                return httpx.Response(
                    200,
                    headers={"content-type": "text/event-stream"},
                    content=_sse(words, body.get("model", MODEL)),
                )
            return httpx.Response(
                200,
                json={
                    "id": "chatcmpl-mock",
                    "object": "chat.completion",
                    "created": 0,
                    "model": body.get("model", MODEL),
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": " ".join(words)},
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
                },
            )
        return httpx.Response(404, json={"error": {"message": f"no route {path}"}})

    return app


def _sse(words: list[str], model: str) -> Iterator[bytes]:
    for i, word in enumerate(words):
        chunk = {
            "id": "chatcmpl-mock",
            "object": "chat.completion.chunk",
            "created": 0,
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "delta": {"content": (" " if i else "") + word},
                    "finish_reason": None,
                }
            ],
        }
        yield f"data: {json.dumps(chunk)}\n\n".encode()
    done = {
        "id": "chatcmpl-mock",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": model,
        "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
    }
    yield f"data: {json.dumps(done)}\n\n".encode()
    yield b"data: [DONE]\n\n"


@dataclass
class StandIn:
    """The stand-in enclave: call it with an outer request."""

    gateway: OhttpGateway
    measurement: bytes = MEASUREMENT
    tls_spki_sha256: bytes | None = None
    bound_keys: bytes | None = None  # bind other keys than served (an unbound-key fault)
    attestations: int = 0
    seen: list[httpx.Request] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def keys(self) -> BoundKeys:
        return BoundKeys(ohttp_keys=self.gateway.key_configs, tls_spki_sha256=self.tls_spki_sha256)

    def document(self, nonce: bytes) -> bytes:
        hw = hardware()
        keys = self.keys
        bound = BoundKeys(
            ohttp_keys=self.bound_keys or keys.ohttp_keys, tls_spki_sha256=keys.tls_spki_sha256
        )
        spec = SnpReportSpec.for_product(
            "genoa", report_data=report_data(nonce, bound, []), measurement=self.measurement
        )
        return encode_document(
            nonce=nonce,
            cpu=CpuEvidence(
                platform="sev-snp",
                evidence=spec.build(hw.vcek_key),  # type: ignore[arg-type]
                certificates=hw.vcek_pem,
            ),
            keys=keys,
        )

    def __call__(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            self.seen.append(request)
        if request.url.path == WELL_KNOWN_PATH:
            nonce = bytes.fromhex(request.url.params["nonce"])
            with self.lock:
                self.attestations += 1
            return httpx.Response(
                200, headers={"content-type": "application/json"}, content=self.document(nonce)
            )
        if request.url.path == GATEWAY_PATH:
            return self.gateway(request)
        return httpx.Response(404)


def standin(api_key: str | None = None, **kwargs: object) -> StandIn:
    return StandIn(OhttpGateway.generate(model_app(api_key)), **kwargs)  # type: ignore[arg-type]
