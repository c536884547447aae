"""`teeclient chat URL PROMPT`: attest the endpoint, then send one encrypted chat request."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from teeclient.cli.exit_codes import ACCEPTED, exit_code_for
from teeclient.errors import TeeclientError, TransportError, UsageError
from teeclient.identity import EnclaveIdentity

if TYPE_CHECKING:
    from teeclient.trust import TrustStore

__all__ = ["ChatArgs", "describe_identity", "run", "stream_chat"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ChatArgs:
    """The command's arguments."""

    url: str
    prompt: str
    stream: bool
    policy: Path | None
    trust: Path | None
    model: str | None
    api_key: str | None
    offline: bool
    system: str | None


def _sse_lines(lines: Iterator[str]) -> Iterator[str]:
    for line in lines:
        if not line.startswith("data:"):
            continue
        data = line[5:].strip()
        if data == "[DONE]":
            return
        try:
            event = json.loads(data)
        except ValueError as exc:
            raise TransportError("the model sent an invalid event", field="sse") from exc
        for choice in event.get("choices") or ():
            content = (choice.get("delta") or {}).get("content")
            if content:
                yield str(content)


def stream_chat(
    http: httpx.Client,
    *,
    model: str,
    messages: list[dict[str, str]],
    stream: bool,
    on_text: Callable[[str], None],
) -> str:
    """POST /v1/chat/completions through ``http`` (encrypted) and pass the answer to
    ``on_text`` as it arrives; return the whole answer.

    Raises:
        TransportError: the model answered with an error or an unreadable body.
    """
    body = {"model": model, "messages": messages, "stream": stream}
    with http.stream("POST", "/v1/chat/completions", json=body) as response:
        if response.status_code != 200:
            detail = response.read()[:300].decode("utf-8", "replace")
            raise TransportError(
                "the model answered with an error (authenticated)",
                field="status",
                expected=200,
                actual=f"{response.status_code}: {detail}",
            )
        if stream:
            parts = []
            for text in _sse_lines(response.iter_lines()):
                parts.append(text)
                on_text(text)
            return "".join(parts)
        try:
            answer = json.loads(response.read())["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise TransportError("the model sent an unexpected answer", field="body") from exc
        on_text(str(answer))
        return str(answer)


def first_model(http: httpx.Client) -> str:
    """The first model the endpoint lists (GET /v1/models, encrypted)."""
    response = http.get("/v1/models")
    try:
        return str(response.json()["data"][0]["id"])
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise UsageError("the endpoint lists no model: pass --model", field="model") from exc


def describe_identity(identity: EnclaveIdentity) -> list[str]:
    """Human lines about a pinned identity."""
    lines = [
        f"attested {identity.endpoint} ({identity.platform}); "
        f"pinned key sha256:{identity.key_fingerprint}",
    ]
    for name, value in identity.measurements.items():
        lines.append(f"  {name} = {value}")
    if identity.tls_spki_sha256 is not None:
        lines.append(f"  TLS key pinned: sha256:{identity.tls_spki_sha256.hex()}")
    lines.append(f"  valid until {identity.expires_at.isoformat()}")
    return lines


def _trust(path: Path | None) -> TrustStore:
    from teeclient.trust import TrustStore

    store = TrustStore.default()
    return store if path is None else store.with_trust_file(path)


def run(args: ChatArgs) -> int:
    """Attest, chat, print; the exit code (0 ok, 1 rejected, 2 usage, 3 invalid, 4 transport)."""
    from teeclient.client import Client

    def write(text: str) -> None:
        sys.stdout.write(text)
        sys.stdout.flush()

    try:
        with Client(
            args.url,
            policy=args.policy,
            trust=_trust(args.trust),
            api_key=args.api_key,
            offline=args.offline,
        ) as client:
            identity = client.attest()
            for line in describe_identity(identity):
                sys.stderr.write(line + "\n")
            model = args.model or first_model(client.http)
            messages = []
            if args.system:
                messages.append({"role": "system", "content": args.system})
            messages.append({"role": "user", "content": args.prompt})
            stream_chat(
                client.http, model=model, messages=messages, stream=args.stream, on_text=write
            )
            sys.stdout.write("\n")
    except TeeclientError as exc:
        sys.stderr.write(f"error {exc.code}: {exc.message}\n")
        for key in ("field", "expected", "actual"):
            value = getattr(exc, key)
            if value is not None:
                sys.stderr.write(f"  {key:<8} {value}\n")
        return exit_code_for(exc)
    except httpx.HTTPError as exc:
        sys.stderr.write(f"error transport.failed: {exc}\n")
        return exit_code_for(TransportError(str(exc)))
    return ACCEPTED
