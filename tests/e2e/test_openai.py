"""The real openai package, pointed at the mock enclave through teeclient (the model behind
the chunked-OHTTP gateway, over loopback): chat (streaming and not), embeddings and models
list, sync and async."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from teeclient.testing.hardware import HardwareSpec, MockHardware, VendorPkis
from teeclient.testing.model import MockModel
from tests.e2e._encrypted import Running, encrypted_enclave

openai = pytest.importorskip("openai")

MODEL = MockModel().model_id
MESSAGES: Any = [{"role": "user", "content": "tell me about attested inference"}]


@pytest.fixture(scope="module", params=["sev-snp", "tdx", "nitro"])
def running(request: pytest.FixtureRequest, mock_pkis: VendorPkis) -> Iterator[Running]:
    healthy = MockHardware(HardwareSpec(platform=request.param), pkis=mock_pkis)
    with encrypted_enclave(healthy) as running:
        yield running


def test_sync_openai_chat_embeddings_models(running: Running) -> None:
    with running.client() as client:
        sdk = client.openai()
        assert isinstance(sdk, openai.OpenAI)
        assert str(sdk.base_url).rstrip("/") == f"{running.url}/v1"
        models = sdk.models.list()
        assert [m.id for m in models.data] == [MODEL]
        completion = sdk.chat.completions.create(model=MODEL, messages=MESSAGES, max_tokens=8)
        answer = completion.choices[0].message.content
        assert answer is not None
        assert answer.startswith("You said: tell me about attested inference")
        stream = sdk.chat.completions.create(
            model=MODEL, messages=MESSAGES, max_tokens=8, stream=True
        )
        text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
        assert text == answer
        embeddings = sdk.embeddings.create(model=MODEL, input=["one", "two"])
        assert len(embeddings.data) == 2
        assert len(embeddings.data[0].embedding) == MockModel().embedding_dimensions
        assert client.identity is not None
        assert client.identity.platform == running.healthy.platform
    assert not any(p.startswith("/v1/") for _m, p in running.model_requests())


def test_async_openai_chat_embeddings_models(running: Running) -> None:
    async def run() -> None:
        async with running.async_client() as client:
            sdk = client.openai()
            assert isinstance(sdk, openai.AsyncOpenAI)
            models = await sdk.models.list()
            assert [m.id for m in models.data] == [MODEL]
            completion = await sdk.chat.completions.create(
                model=MODEL, messages=MESSAGES, max_tokens=8
            )
            answer = completion.choices[0].message.content
            stream = await sdk.chat.completions.create(
                model=MODEL, messages=MESSAGES, max_tokens=8, stream=True
            )
            text = "".join(
                [chunk.choices[0].delta.content or "" async for chunk in stream if chunk.choices]
            )
            assert text == answer
            embeddings = await sdk.embeddings.create(model=MODEL, input="one")
            assert len(embeddings.data) == 1
            identity = await client.attest()  # explicit re-attestation, then keeps working
            assert identity.ohttp_keys is not None
            assert (await sdk.models.list()).data

    asyncio.run(run())


def test_openai_errors_from_inside_the_enclave_are_authenticated(running: Running) -> None:
    with running.client() as client, pytest.raises(openai.NotFoundError):
        client.openai(max_retries=0).models.retrieve("no-such-model")


def test_openai_never_reads_the_environment_key(
    running: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-the-environment")
    with running.client() as client:
        sdk = client.openai()
        assert sdk.api_key != "sk-from-the-environment"
        sdk.models.list()
    assert b"sk-from-the-environment" not in running.wire()
