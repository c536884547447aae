"""Key rotation: one re-attestation and one retry; expiry; never a downgrade."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from teeclient.errors import (
    DowngradeError,
    IdentityExpiredError,
    KeyConfigMismatchError,
    UnsupportedSuiteError,
    UsageError,
)
from teeclient.identity import EnclaveIdentity
from teeclient.protocol.hpke import AeadId, KdfId, KemId, Suite
from teeclient.protocol.keyconfig import DEFAULT_PREFERENCES
from teeclient.protocol.ohttp import GatewayKey
from teeclient.testing.gateway import OhttpGateway, default_suites
from teeclient.transport import AsyncAttestedTransport, AttestedTransport
from teeclient.transport._common import (
    Answer,
    NeedIdentity,
    Pinned,
    Profile,
    RequestInfo,
    Send,
    pin_identity,
    request_flow,
)
from tests._standin import model_app
from tests.transport.conftest import ENDPOINT, identity_for

X25519 = KemId.DHKEM_X25519_HKDF_SHA256


class Rotating:
    """A gateway that rotates its key; the attestor reports whatever it currently serves."""

    def __init__(self, kems: tuple[KemId, ...] = (X25519,)) -> None:
        self.gateway = OhttpGateway.generate(model_app(), kems=kems)
        self.attestations = 0
        self.seen: list[httpx.Request] = []
        self.stale_attestation = False  # the attestor keeps reporting the old key
        self.tls: bytes | None = None
        self._first_keys = self.gateway.key_configs

    def rotate(self, kem: KemId = X25519, key_id: int = 7) -> None:
        self.gateway.rotate([GatewayKey.generate(key_id, default_suites(kem))])

    def attest(self) -> EnclaveIdentity:
        self.attestations += 1
        keys = self._first_keys if self.stale_attestation else self.gateway.key_configs
        return identity_for(keys, tls_spki_sha256=self.tls)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        return self.gateway(request)


def _client(enclave: Rotating, **kwargs: object) -> httpx.Client:
    transport = AttestedTransport(
        httpx.MockTransport(enclave),
        endpoint=ENDPOINT,
        attestor=enclave.attest,
        **kwargs,  # type: ignore[arg-type]
    )
    return httpx.Client(transport=transport, base_url=ENDPOINT)


def test_first_request_attests_lazily_and_once() -> None:
    enclave = Rotating()
    with _client(enclave) as client:
        assert enclave.attestations == 0
        for _ in range(3):
            assert client.get("/v1/models").status_code == 200
    assert enclave.attestations == 1


def test_rotation_triggers_one_reattestation_and_one_retry() -> None:
    enclave = Rotating()
    with _client(enclave) as client:
        client.get("/v1/models")
        enclave.rotate()
        response = client.post("/v1/embeddings", json={"model": "m", "input": "x"})
        assert response.status_code == 200
        assert response.extensions["teeclient.exchange"].attempts == 2
        assert response.extensions["teeclient.exchange"].key_id == 7
    assert enclave.attestations == 2
    assert len(enclave.seen) == 3  # first request, refused attempt, retry


def test_a_second_refusal_raises_after_exactly_one_reattestation() -> None:
    enclave = Rotating()
    with _client(enclave) as client:
        client.get("/v1/models")
        enclave.stale_attestation = True  # re-attestation still shows the old key
        enclave.rotate()
        with pytest.raises(KeyConfigMismatchError):
            client.get("/v1/models")
    assert enclave.attestations == 2
    assert len(enclave.seen) == 3


def test_streamed_bodies_are_not_replayed_but_the_identity_is_refreshed() -> None:
    enclave = Rotating()
    with _client(enclave) as client:
        client.get("/v1/models")
        enclave.rotate()
        with pytest.raises(KeyConfigMismatchError):
            client.post("/v1/embeddings", content=iter([b'{"model": "m", ', b'"input": "x"}']))
        assert enclave.attestations == 2
        response = client.post("/v1/embeddings", content=iter([b'{"model":"m","input":"x"}']))
        assert response.status_code == 200
    assert enclave.attestations == 2


def test_expired_identity_is_reattested_before_sending() -> None:
    enclave = Rotating()
    now = [datetime.now(UTC)]
    with _client(enclave, clock=lambda: now[0]) as client:
        client.get("/v1/models")
        now[0] += timedelta(minutes=59)
        client.get("/v1/models")
        assert enclave.attestations == 1
        now[0] += timedelta(hours=2)
        client.get("/v1/models")
        assert enclave.attestations == 2


def test_expired_identity_without_attestor_refuses() -> None:
    gateway = OhttpGateway.generate(model_app())
    old = identity_for(gateway.key_configs, verified_at=datetime.now(UTC) - timedelta(hours=2))
    transport = AttestedTransport(httpx.MockTransport(gateway), endpoint=ENDPOINT, identity=old)
    with (
        httpx.Client(transport=transport, base_url=ENDPOINT) as client,
        pytest.raises(IdentityExpiredError),
    ):
        client.get("/v1/models")
    assert gateway.requests == 0
    with pytest.raises(UsageError):
        AttestedTransport(httpx.MockTransport(gateway), endpoint=ENDPOINT)


def test_reattestation_to_a_weaker_suite_is_a_downgrade() -> None:
    enclave = Rotating(kems=(KemId.MLKEM768_X25519,))
    with _client(enclave) as client:
        first = client.get("/v1/models")
        assert "MLKEM768" in first.extensions["teeclient.exchange"].suite
        enclave.rotate(X25519)  # the new configuration is not post-quantum
        with pytest.raises(DowngradeError):
            client.get("/v1/models")
    assert enclave.attestations == 2


def test_losing_the_tls_pin_is_a_downgrade() -> None:
    enclave = Rotating()
    enclave.tls = bytes(32)
    with _client(enclave, allow_unpinned_tls=True) as client:
        client.get("/v1/models")
        enclave.tls = None
        enclave.rotate()
        with pytest.raises(DowngradeError):
            client.get("/v1/models")


def test_suite_preferences_can_require_post_quantum() -> None:
    enclave = Rotating(kems=(X25519,))
    pq_only = [s for s in DEFAULT_PREFERENCES if s.kem is KemId.MLKEM768_X25519]
    with _client(enclave, preferences=pq_only) as client, pytest.raises(UnsupportedSuiteError):
        client.get("/v1/models")
    assert enclave.seen == []


def test_async_rotation() -> None:
    enclave = Rotating()

    async def attest() -> EnclaveIdentity:
        return enclave.attest()

    async def run() -> None:
        transport = AsyncAttestedTransport(
            httpx.MockTransport(enclave), endpoint=ENDPOINT, attestor=attest
        )
        async with httpx.AsyncClient(transport=transport, base_url=ENDPOINT) as client:
            await client.get("/v1/models")
            enclave.rotate()
            response = await client.get("/v1/models")
            assert response.extensions["teeclient.exchange"].attempts == 2
            assert (await transport.attest()).ohttp_keys == enclave.gateway.key_configs

    asyncio.run(run())
    assert enclave.attestations == 3


# --- the flow itself, without I/O ---------------------------------------------------------


def _pinned() -> Pinned:
    gateway = OhttpGateway.generate(model_app(), kems=(X25519,))
    return pin_identity(
        identity_for(gateway.key_configs), profile=Profile.OHTTP, preferences=DEFAULT_PREFERENCES
    )


INFO = RequestInfo(
    method="GET", scheme="https", authority="enclave.test", path="/", headers=(), content=b""
)
KEY_PROBLEM = Answer(
    accepted=False,
    status=400,
    content_type="application/problem+json",
    body=b'{"type": "https://iana.org/assignments/http-problem-types#ohttp-key"}',
)


def _flow(info: RequestInfo = INFO):  # type: ignore[no-untyped-def]
    return request_flow(
        info, gateway_url=httpx.URL(ENDPOINT), chunk_size=16384, max_chunk_size=65536
    )


def test_flow_happy_path_yields_identity_then_send() -> None:
    flow = _flow()
    action = next(flow)
    assert action == NeedIdentity(stale=None)
    action = flow.send(_pinned())
    assert isinstance(action, Send)
    with pytest.raises(StopIteration) as done:
        flow.send(Answer(accepted=True, status=200))
    assert done.value.value is action.exchange


def test_flow_key_problem_reattests_once_with_the_stale_identity() -> None:
    flow = _flow()
    first = _pinned()
    next(flow)
    flow.send(first)
    action = flow.send(KEY_PROBLEM)
    assert action == NeedIdentity(stale=first)
    retry = flow.send(_pinned())
    assert isinstance(retry, Send)
    assert retry.exchange.info.attempts == 2
    with pytest.raises(KeyConfigMismatchError):
        flow.send(KEY_PROBLEM)


def test_flow_other_answers_are_unauthenticated() -> None:
    from teeclient.errors import UnencryptedResponseError

    flow = _flow()
    next(flow)
    flow.send(_pinned())
    with pytest.raises(UnencryptedResponseError):
        flow.send(Answer(accepted=False, status=502, content_type="text/html", body=b"x"))


def test_flow_streamed_body_refreshes_then_raises() -> None:
    flow = _flow(_streamed())
    first = _pinned()
    next(flow)
    flow.send(first)
    assert flow.send(KEY_PROBLEM) == NeedIdentity(stale=first)
    with pytest.raises(KeyConfigMismatchError):
        flow.send(_pinned())


def _streamed() -> RequestInfo:
    return RequestInfo(
        method="POST", scheme="https", authority="enclave.test", path="/", headers=(), content=None
    )


def test_pinning_picks_the_preferred_suite() -> None:
    gateway = OhttpGateway.generate(model_app())
    pinned = pin_identity(
        identity_for(gateway.key_configs), profile=Profile.OHTTP, preferences=DEFAULT_PREFERENCES
    )
    assert pinned.suite == Suite(
        kem=KemId.MLKEM768_X25519, kdf=KdfId.HKDF_SHA256, aead=AeadId.AES_256_GCM
    )
    assert pinned.rank == 0
    ehbp = pin_identity(identity_for(gateway.key_configs), profile=Profile.EHBP, preferences=())
    assert ehbp.ehbp_key is not None
    assert ehbp.key_id == 0
    pq_only = OhttpGateway.generate(model_app(), kems=(KemId.MLKEM768_X25519,))
    with pytest.raises(UnsupportedSuiteError):
        pin_identity(identity_for(pq_only.key_configs), profile=Profile.EHBP, preferences=())
