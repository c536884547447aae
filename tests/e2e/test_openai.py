"""The real openai package, pointed at the enclave through teeclient: chat (streaming and
not), embeddings and models list, sync and async, over loopback."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

import teeclient
from teeclient.collateral.fetch import OfflineFetcher
from teeclient.testing.loopback import LoopbackServer
from teeclient.testing.standin import MODEL, StandIn, hardware, policy, standin

openai = pytest.importorskip("openai")

API_KEY = "sk-openai-drop-in"
MESSAGES: Any = [{"role": "user", "content": "tell me about attested inference"}]
ANSWER = "Echo: tell me about attested inference"


@pytest.fixture(scope="module")
def enclave() -> Iterator[tuple[StandIn, str]]:
    stand_in = standin(api_key=API_KEY)
    with LoopbackServer(stand_in, capture=True) as server:
        yield stand_in, server.url


def _options() -> dict[str, object]:
    return {
        "policy": policy(),
        "trust": hardware().trust,
        "api_key": API_KEY,
        "fetcher": OfflineFetcher(),
    }


def test_sync_openai_chat_embeddings_models(enclave: tuple[StandIn, str]) -> None:
    _stand_in, url = enclave
    with teeclient.Client(url, **_options()) as client:  # type: ignore[arg-type]
        sdk = client.openai()
        assert isinstance(sdk, openai.OpenAI)
        assert str(sdk.base_url).rstrip("/") == f"{url}/v1"
        models = sdk.models.list()
        assert [m.id for m in models.data] == [MODEL]
        completion = sdk.chat.completions.create(model=MODEL, messages=MESSAGES)
        assert completion.choices[0].message.content == ANSWER
        stream = sdk.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True)
        text = "".join(chunk.choices[0].delta.content or "" for chunk in stream)
        assert text == ANSWER
        embeddings = sdk.embeddings.create(model=MODEL, input=["one", "two"])
        assert len(embeddings.data) == 2
        assert len(embeddings.data[0].embedding) == 8
        assert client.identity is not None


def test_async_openai_chat_embeddings_models(enclave: tuple[StandIn, str]) -> None:
    _stand_in, url = enclave

    async def run() -> None:
        async with teeclient.AsyncClient(url, **_options()) as client:  # type: ignore[arg-type]
            sdk = client.openai()
            assert isinstance(sdk, openai.AsyncOpenAI)
            models = await sdk.models.list()
            assert [m.id for m in models.data] == [MODEL]
            completion = await sdk.chat.completions.create(model=MODEL, messages=MESSAGES)
            assert completion.choices[0].message.content == ANSWER
            stream = await sdk.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True)
            text = "".join([chunk.choices[0].delta.content or "" async for chunk in stream])
            assert text == ANSWER
            embeddings = await sdk.embeddings.create(model=MODEL, input="one")
            assert len(embeddings.data) == 1
            identity = await client.attest()  # explicit re-attestation, then keeps working
            assert identity.ohttp_keys is not None
            assert (await sdk.models.list()).data

    asyncio.run(run())


def test_wrong_api_key_is_an_authenticated_error_from_the_enclave(
    enclave: tuple[StandIn, str],
) -> None:
    _stand_in, url = enclave
    options = {**_options(), "api_key": "sk-wrong"}
    with teeclient.Client(url, **options) as client, pytest.raises(openai.AuthenticationError):  # type: ignore[arg-type]
        client.openai(max_retries=0).models.list()


def test_openai_never_reads_the_environment_key(
    enclave: tuple[StandIn, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _stand_in, url = enclave
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-the-environment")
    options = {**_options(), "api_key": None}
    with teeclient.Client(url, **options) as client:  # type: ignore[arg-type]
        sdk = client.openai()
        assert sdk.api_key != "sk-from-the-environment"


def test_nothing_but_the_encapsulation_was_on_the_wire(enclave: tuple[StandIn, str]) -> None:
    stand_in, url = enclave
    with teeclient.Client(url, **_options()) as client:  # type: ignore[arg-type]
        client.openai().chat.completions.create(model=MODEL, messages=MESSAGES)
    paths = {r.url.path for r in stand_in.seen}
    assert paths <= {"/.well-known/teeclient/attestation", "/.well-known/ohttp-gateway"}
