"""Helpers for transport tests: identities pinned to a gateway, tampering handlers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx

from teeclient.identity import EnclaveIdentity
from teeclient.protocol._wire import peek_varint

NOW = datetime(2026, 2, 1, tzinfo=UTC)
ENDPOINT = "https://enclave.test"


def identity_for(
    ohttp_keys: bytes | None = None,
    *,
    hpke_public_key: bytes | None = None,
    tls_spki_sha256: bytes | None = None,
    verified_at: datetime | None = None,
    lifetime: timedelta = timedelta(hours=1),
    endpoint: str = ENDPOINT,
) -> EnclaveIdentity:
    return EnclaveIdentity(
        endpoint=endpoint,
        layout="test",
        platform="test",
        measurements={},
        devices=(),
        verified_at=verified_at or datetime.now(UTC),
        expires_at=(verified_at or datetime.now(UTC)) + lifetime,
        document_sha256="00" * 32,
        ohttp_keys=ohttp_keys,
        hpke_public_key=hpke_public_key,
        tls_spki_sha256=tls_spki_sha256,
    )


def split_chunked_response(body: bytes, nonce_size: int = 32) -> tuple[bytes, list[bytes], bytes]:
    """``(nonce, non-final chunks with their length prefixes, final chunk with its 0 prefix)``."""
    nonce, pos = body[:nonce_size], nonce_size
    chunks: list[bytes] = []
    while True:
        decoded = peek_varint(body, pos)
        assert decoded is not None
        length, start = decoded
        if length == 0:
            return nonce, chunks, body[pos:]
        chunks.append(body[pos : start + length])
        pos = start + length


Handler = Callable[[httpx.Request], httpx.Response]


def rewriting(handler: Handler, rewrite: Callable[[bytes], bytes]) -> Handler:
    """A handler whose encrypted answers are read whole and rewritten."""

    def tampered(request: httpx.Request) -> httpx.Response:
        response = handler(request)
        body = b"".join(response.iter_raw()) if response.status_code == 200 else response.read()
        return httpx.Response(response.status_code, headers=response.headers, content=rewrite(body))

    return tampered
