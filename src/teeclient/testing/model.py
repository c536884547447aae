"""A small deterministic OpenAI-compatible model, as a WSGI application (plaintext).

Endpoints: ``GET /v1/models``, ``POST /v1/chat/completions`` (``stream`` false: one JSON
object; true: server-sent events ending with ``data: [DONE]``), ``POST /v1/embeddings``.
Answers depend only on the request, so tests can assert them: the reply to a chat is
``"You said: <last user message>"`` followed by words drawn from SHA-256 of the conversation,
cut at ``max_tokens`` (default 16; one token = one word). Embeddings are unit vectors derived
from SHA-256 of each input. Errors use OpenAI's ``{"error": {message, type, param, code}}``.
The encrypted gateway (issue 8) wraps this application; it never sees keys or evidence.
"""

from __future__ import annotations

import hashlib
import json
import math
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from teeclient.testing._wsgi import (
    StartResponse,
    WSGIEnvironment,
    json_response,
    read_body,
)

__all__ = ["MockModel", "chat_reply", "embedding"]

_WORDS = [
    "attested",
    "enclave",
    "measured",
    "silicon",
    "nonce",
    "quote",
    "report",
    "verifier",
    "policy",
    "key",
    "binding",
    "gpu",
    "cpu",
    "firmware",
    "root",
    "chain",
    "collateral",
    "fresh",
    "sealed",
    "private",
    "model",
    "token",
    "stream",
]
_CREATED = 1_767_225_600  # 2026-01-01T00:00:00Z: fixed so answers are reproducible


def chat_reply(messages: list[dict[str, Any]], max_tokens: int) -> list[str]:
    """The reply's tokens (words, each but the first with a leading space)."""
    last = next(
        (str(m.get("content", "")) for m in reversed(messages) if m.get("role") == "user"), ""
    )
    seed = hashlib.sha256(json.dumps(messages, sort_keys=True).encode()).digest()
    words = ["You", " said:", *(f" {w}" for w in last.split()[:64])]
    i = 0
    while len(words) < max_tokens + 8:
        words.append(" " + _WORDS[seed[i % 32] % len(_WORDS)])
        i += 1
        if i % 32 == 0:
            seed = hashlib.sha256(seed).digest()
    return words[:max_tokens]


def embedding(text: str, dimensions: int) -> list[float]:
    """A deterministic unit vector for ``text``."""
    raw = b""
    counter = 0
    while len(raw) < 4 * dimensions:
        raw += hashlib.sha256(counter.to_bytes(4, "big") + text.encode()).digest()
        counter += 1
    values = [(v / 2**31) - 1.0 for v in struct.unpack(f">{dimensions}I", raw[: 4 * dimensions])]
    norm = math.sqrt(sum(v * v for v in values)) or 1.0
    return [round(v / norm, 6) for v in values]


def _error(
    start_response: StartResponse, status: int, message: str, param: str | None = None
) -> list[bytes]:
    kind = "invalid_request_error" if status < 500 else "server_error"
    code = {404: "model_not_found"}.get(status) if param == "model" else None
    return json_response(
        start_response,
        status,
        {"error": {"message": message, "type": kind, "param": param, "code": code}},
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class MockModel:
    """The model: its id, embedding size and the default reply length."""

    model_id: str = "teeclient-mock-1"
    embedding_dimensions: int = 16
    default_max_tokens: int = 16
    max_tokens_limit: int = 4096

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Any:
        """Dispatch one request (WSGI)."""
        method = environ["REQUEST_METHOD"]
        path = environ.get("PATH_INFO", "")
        routes = {
            "/v1/models": ("GET", self._models),
            "/v1/chat/completions": ("POST", self._chat),
            "/v1/embeddings": ("POST", self._embeddings),
        }
        if path.startswith("/v1/models/") and method == "GET":
            name = path.removeprefix("/v1/models/")
            if name != self.model_id:
                return _error(start_response, 404, f"model {name!r} does not exist", "model")
            return json_response(start_response, 200, self._model_object())
        route = routes.get(path)
        if route is None:
            return _error(start_response, 404, f"unknown path {path}")
        if method != route[0]:
            return _error(start_response, 405, f"{path} accepts {route[0]}")
        if method == "GET":
            return route[1](start_response, {})
        try:
            body = json.loads(read_body(environ, 1 << 20) or b"null")
        except (ValueError, UnicodeDecodeError):
            return _error(start_response, 400, "the request body is not JSON")
        if not isinstance(body, dict):
            return _error(start_response, 400, "the request body must be a JSON object")
        model = body.get("model")
        if model != self.model_id:
            return _error(start_response, 404, f"model {model!r} does not exist", "model")
        return route[1](start_response, body)

    def _model_object(self) -> dict[str, Any]:
        return {
            "id": self.model_id,
            "object": "model",
            "created": _CREATED,
            "owned_by": "teeclient-testing",
        }

    def _models(self, start_response: StartResponse, _: dict[str, Any]) -> list[bytes]:
        return json_response(
            start_response, 200, {"object": "list", "data": [self._model_object()]}
        )

    def _chat(self, start_response: StartResponse, body: dict[str, Any]) -> Any:
        messages = body.get("messages")
        if (
            not isinstance(messages, list)
            or not messages
            or not all(isinstance(m, dict) and isinstance(m.get("role"), str) for m in messages)
        ):
            return _error(start_response, 400, "messages must be a non-empty list", "messages")
        limit = body.get("max_tokens", body.get("max_completion_tokens", self.default_max_tokens))
        if (
            not isinstance(limit, int)
            or isinstance(limit, bool)
            or not 1 <= limit <= self.max_tokens_limit
        ):
            return _error(start_response, 400, "max_tokens must be 1..4096", "max_tokens")
        tokens = chat_reply(messages, limit)
        prompt_tokens = sum(len(str(m.get("content", "")).split()) for m in messages)
        ident = (
            "chatcmpl-" + hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:24]
        )
        finish = "length" if len(tokens) >= limit else "stop"
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": len(tokens),
            "total_tokens": prompt_tokens + len(tokens),
        }
        if body.get("stream") is True:
            start_response(
                "200 OK",
                [("Content-Type", "text/event-stream"), ("Cache-Control", "no-cache")],
            )
            return self._stream(ident, tokens, finish, usage, body)
        return json_response(
            start_response,
            200,
            {
                "id": ident,
                "object": "chat.completion",
                "created": _CREATED,
                "model": self.model_id,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": "".join(tokens)},
                        "finish_reason": finish,
                    }
                ],
                "usage": usage,
            },
        )

    def _stream(
        self,
        ident: str,
        tokens: list[str],
        finish: str,
        usage: dict[str, int],
        body: dict[str, Any],
    ) -> Iterator[bytes]:
        def event(delta: dict[str, Any], reason: str | None) -> bytes:
            chunk = {
                "id": ident,
                "object": "chat.completion.chunk",
                "created": _CREATED,
                "model": self.model_id,
                "choices": [{"index": 0, "delta": delta, "finish_reason": reason}],
            }
            return b"data: " + json.dumps(chunk).encode() + b"\n\n"

        yield event({"role": "assistant", "content": ""}, None)
        for token in tokens:
            yield event({"content": token}, None)
        yield event({}, finish)
        options = body.get("stream_options")
        if isinstance(options, dict) and options.get("include_usage") is True:
            final = {
                "id": ident,
                "object": "chat.completion.chunk",
                "created": _CREATED,
                "model": self.model_id,
                "choices": [],
                "usage": usage,
            }
            yield b"data: " + json.dumps(final).encode() + b"\n\n"
        yield b"data: [DONE]\n\n"

    def _embeddings(self, start_response: StartResponse, body: dict[str, Any]) -> list[bytes]:
        raw = body.get("input")
        inputs = [raw] if isinstance(raw, str) else raw
        if (
            not isinstance(inputs, list)
            or not inputs
            or len(inputs) > 2048
            or not all(isinstance(t, str) for t in inputs)
        ):
            return _error(
                start_response, 400, "input must be a string or a list of strings", "input"
            )
        size = body.get("dimensions", self.embedding_dimensions)
        if not isinstance(size, int) or isinstance(size, bool) or not 1 <= size <= 4096:
            return _error(start_response, 400, "dimensions must be 1..4096", "dimensions")
        tokens = sum(len(t.split()) for t in inputs)
        return json_response(
            start_response,
            200,
            {
                "object": "list",
                "data": [
                    {"object": "embedding", "index": i, "embedding": embedding(t, size)}
                    for i, t in enumerate(inputs)
                ],
                "model": self.model_id,
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            },
        )
