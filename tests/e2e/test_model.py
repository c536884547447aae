"""The mock enclave's deterministic OpenAI-compatible model (plaintext; issue 8 encrypts it)."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

from teeclient.testing.hardware import HardwareSpec, MockHardware, VendorPkis
from teeclient.testing.model import MockModel, chat_reply

from .conftest import Client

Connect = Callable[[MockHardware], Client]
MODEL = MockModel().model_id


def _client(mock_pkis: VendorPkis, connect: Connect) -> Client:
    return connect(MockHardware(HardwareSpec(platform="nitro"), pkis=mock_pkis))


def test_models_list(mock_pkis: VendorPkis, connect: Connect) -> None:
    client = _client(mock_pkis, connect)
    body = client.http.get(client.url + "/v1/models").json()
    assert body["object"] == "list"
    assert [m["id"] for m in body["data"]] == [MODEL]
    assert client.http.get(f"{client.url}/v1/models/{MODEL}").json()["id"] == MODEL
    assert client.http.get(client.url + "/v1/models/other").status_code == 404


def test_chat_completion_is_deterministic(mock_pkis: VendorPkis, connect: Connect) -> None:
    client = _client(mock_pkis, connect)
    request: dict[str, Any] = {
        "model": MODEL,
        "messages": [{"role": "user", "content": "hello enclave"}],
        "max_tokens": 6,
    }
    first = client.http.post(client.url + "/v1/chat/completions", json=request).json()
    second = client.http.post(client.url + "/v1/chat/completions", json=request).json()
    assert first == second
    message = first["choices"][0]["message"]
    assert message["role"] == "assistant"
    assert message["content"].startswith("You said: hello enclave")
    assert first["choices"][0]["finish_reason"] == "length"
    assert first["usage"]["completion_tokens"] == 6


def test_streaming_chat_ends_with_done(mock_pkis: VendorPkis, connect: Connect) -> None:
    client = _client(mock_pkis, connect)
    request = {
        "model": MODEL,
        "messages": [{"role": "user", "content": "stream please"}],
        "max_tokens": 5,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    with client.http.stream("POST", client.url + "/v1/chat/completions", json=request) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        events = [line.removeprefix("data: ") for line in r.iter_lines() if line]
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
    assert text == "".join(chat_reply(request["messages"], 5))  # type: ignore[arg-type]
    assert chunks[-1]["usage"]["completion_tokens"] == 5
    assert chunks[-2]["choices"][0]["finish_reason"] == "length"


def test_embeddings(mock_pkis: VendorPkis, connect: Connect) -> None:
    client = _client(mock_pkis, connect)
    url = client.url + "/v1/embeddings"
    body = client.http.post(url, json={"model": MODEL, "input": ["a", "b", "a"]}).json()
    vectors = [d["embedding"] for d in body["data"]]
    assert vectors[0] == vectors[2] != vectors[1]
    assert len(vectors[0]) == 16
    assert math.isclose(sum(v * v for v in vectors[0]), 1.0, rel_tol=1e-4)
    one = client.http.post(url, json={"model": MODEL, "input": "a", "dimensions": 8}).json()
    assert len(one["data"][0]["embedding"]) == 8


def test_errors_use_the_openai_shape(mock_pkis: VendorPkis, connect: Connect) -> None:
    client = _client(mock_pkis, connect)
    post = client.http.post
    chat = client.url + "/v1/chat/completions"
    cases = [
        (post(chat, content=b"not json"), 400, None),
        (post(chat, json={"model": "gpt-x", "messages": []}), 404, "model"),
        (post(chat, json={"model": MODEL, "messages": []}), 400, "messages"),
        (
            post(chat, json={"model": MODEL, "messages": [{"role": "user"}], "max_tokens": 0}),
            400,
            "max_tokens",
        ),
        (post(client.url + "/v1/embeddings", json={"model": MODEL, "input": 5}), 400, "input"),
        (client.http.get(chat), 405, None),
        (client.http.get(client.url + "/v1/nope"), 404, None),
    ]
    for response, status, param in cases:
        assert response.status_code == status
        error = response.json()["error"]
        assert error["param"] == param
        assert error["type"] in ("invalid_request_error", "server_error")
