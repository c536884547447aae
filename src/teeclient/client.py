"""Client and AsyncClient: attest an endpoint, pin its keys, and hand out encrypted httpx and
OpenAI clients (DESIGN.md §6, docs/client.md).

::

    with teeclient.Client("https://enclave.example", policy="prod.toml", api_key=KEY) as tc:
        tc.attest()                                  # optional: otherwise on first request
        answer = tc.openai().chat.completions.create(model="m", messages=[...])

Constructors do no I/O (nothing is read, resolved or connected until ``attest()`` or the
first request). Every request made through ``.http`` or ``.openai()`` goes through an
``AttestedTransport``: it is encrypted to the attested key or not sent at all. Attestation
happens before the first request, again once the identity expires, and once more (with one
retry) when the gateway reports that the key changed.
"""

from __future__ import annotations

import logging
import ssl
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import httpx

from teeclient._time import Clock, utc_now
from teeclient.attest import NonceLedger, attest, attest_async
from teeclient.errors import UsageError
from teeclient.identity import EnclaveIdentity
from teeclient.protocol.hpke import Suite
from teeclient.protocol.keyconfig import DEFAULT_PREFERENCES
from teeclient.transport import AsyncAttestedTransport, AttestedTransport, Profile, TlsPins
from teeclient.transport.tls import tls_context

if TYPE_CHECKING:
    import openai

    from teeclient.collateral.fetch import Fetcher
    from teeclient.collateral.settings import CollateralSettings
    from teeclient.policy.model import Policy
    from teeclient.trust import TrustStore

__all__ = ["DEFAULT_TIMEOUT", "AsyncClient", "Client"]

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT = httpx.Timeout(600.0, connect=10.0)  # model answers can take minutes
ATTESTATION_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
_NO_API_KEY = "teeclient-no-api-key"  # never let the OpenAI SDK read OPENAI_API_KEY


class _Config:
    """What both clients share: settings, policy and fetcher resolution (no I/O until used)."""

    def __init__(
        self,
        endpoint: str,
        *,
        policy: Policy | str | Path | None,
        trust: TrustStore | None,
        api_key: str | None,
        fetcher: Fetcher | None,
        settings: CollateralSettings | None,
        offline: bool,
        ledger: NonceLedger | None,
        clock: Clock,
        verify: ssl.SSLContext | str | bool,
        profile: Profile | str,
        preferences: Sequence[Suite],
        allow_unpinned_tls: bool,
        tls_pins: TlsPins | None,
        timeout: httpx.Timeout | float | None,
        headers: Mapping[str, str] | None,
    ) -> None:
        if not isinstance(endpoint, str) or not endpoint.startswith(("https://", "http://")):
            raise UsageError(
                "the endpoint must be an absolute http(s) URL",
                field="endpoint",
                expected="https://host[:port]",
                actual=str(endpoint),
            )
        self.endpoint = endpoint.rstrip("/")
        self.policy_input = policy
        self.trust = trust
        self.api_key = api_key
        self.fetcher_input = fetcher
        self.settings = settings
        self.offline = offline
        self.ledger = ledger if ledger is not None else NonceLedger()
        self.clock = clock
        self.verify = verify
        self.profile = Profile(profile)
        self.preferences = tuple(preferences)
        self.allow_unpinned_tls = allow_unpinned_tls
        self.tls_pins = tls_pins
        self.timeout = timeout
        self.headers = dict(headers or {})
        self._policy: Policy | None = None
        self._fetcher: Fetcher | None = None
        self._lock = threading.Lock()

    def policy(self) -> Policy:
        """The policy (a file is loaded on first use; None: the built-in baseline)."""
        with self._lock:
            if self._policy is None:
                from teeclient.verification import resolve_policy

                if self.policy_input is None:
                    logger.warning(
                        "no policy given for %s: the baseline accepts any genuine, non-debug "
                        "enclave; pin measurements in a policy file",
                        self.endpoint,
                    )
                self._policy = resolve_policy(self.policy_input)
            return self._policy

    def fetcher(self) -> Fetcher:
        """The collateral fetcher (the standard cached HTTP fetcher unless one was given)."""
        policy = self.policy()
        with self._lock:
            if self._fetcher is None:
                if self.fetcher_input is not None:
                    self._fetcher = self.fetcher_input
                else:
                    from teeclient.verification import build_fetcher

                    self._fetcher = build_fetcher(
                        self.settings, offline=self.offline, policy=policy
                    )
            return self._fetcher

    def default_headers(self) -> dict[str, str]:
        headers = dict(self.headers)
        if self.api_key:
            headers.setdefault("authorization", f"Bearer {self.api_key}")
        return headers

    def openai_kwargs(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        kwargs.setdefault("base_url", f"{self.endpoint}/v1")
        kwargs.setdefault("api_key", self.api_key or _NO_API_KEY)
        return kwargs


def _require_openai() -> Any:
    try:
        import openai
    except ImportError as exc:
        raise UsageError(
            "the OpenAI SDK is not installed: pip install 'teeclient[openai]'",
            field="openai",
        ) from exc
    return openai


class Client:
    """An attested, encrypted client for one endpoint (sync). See the module docstring.

    ``transport`` replaces the inner transport that carries encrypted requests (default:
    ``httpx.HTTPTransport`` whose TLS context enforces the attested TLS key);
    ``attestation_transport`` carries attestation fetches (default: a separate
    ``httpx.HTTPTransport``; the given ``transport`` when only that is set). With your own
    ``transport`` over https, pass the ``tls_pins`` its SSL context uses
    (``TlsPins.ssl_context()``) so an attested TLS key can be enforced.
    """

    def __init__(
        self,
        endpoint: str,
        *,
        policy: Policy | str | Path | None = None,
        trust: TrustStore | None = None,
        api_key: str | None = None,
        transport: httpx.BaseTransport | None = None,
        attestation_transport: httpx.BaseTransport | None = None,
        identity: EnclaveIdentity | None = None,
        fetcher: Fetcher | None = None,
        settings: CollateralSettings | None = None,
        offline: bool = False,
        ledger: NonceLedger | None = None,
        verify: ssl.SSLContext | str | bool = True,
        tls_pins: TlsPins | None = None,
        allow_unpinned_tls: bool = False,
        profile: Profile | str = Profile.OHTTP,
        preferences: Sequence[Suite] = DEFAULT_PREFERENCES,
        timeout: httpx.Timeout | float | None = DEFAULT_TIMEOUT,
        headers: Mapping[str, str] | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self._config = _Config(
            endpoint,
            policy=policy,
            trust=trust,
            api_key=api_key,
            fetcher=fetcher,
            settings=settings,
            offline=offline,
            ledger=ledger,
            clock=clock,
            verify=verify,
            profile=profile,
            preferences=preferences,
            allow_unpinned_tls=allow_unpinned_tls,
            tls_pins=tls_pins,
            timeout=timeout,
            headers=headers,
        )
        self._inner = transport
        self._attestation_inner = attestation_transport
        self._initial_identity = identity
        self._lock = threading.Lock()
        self._transport: AttestedTransport | None = None
        self._attestation_client: httpx.Client | None = None
        self._http: httpx.Client | None = None

    @property
    def endpoint(self) -> str:
        """The attested endpoint (scheme://host[:port][/prefix])."""
        return self._config.endpoint

    def _attestation_http(self) -> httpx.Client:
        with self._lock:
            if self._attestation_client is None:
                inner = self._attestation_inner or self._inner
                if inner is None:
                    inner = httpx.HTTPTransport(verify=tls_context(self._config.verify))
                self._attestation_client = httpx.Client(
                    transport=inner,
                    timeout=ATTESTATION_TIMEOUT,
                    follow_redirects=False,
                    trust_env=False,
                )
            return self._attestation_client

    def _attest_once(self) -> EnclaveIdentity:
        config = self._config
        return attest(
            config.endpoint,
            client=self._attestation_http(),
            policy=config.policy(),
            trust=config.trust,
            fetcher=config.fetcher(),
            settings=config.settings,
            ledger=config.ledger,
            clock=config.clock,
        )

    @property
    def transport(self) -> AttestedTransport:
        """The attested transport (created on first use; no I/O)."""
        with self._lock:
            if self._transport is None:
                config = self._config
                pins = config.tls_pins
                inner = self._inner
                if inner is None:
                    pins = pins if pins is not None else TlsPins()
                    inner = httpx.HTTPTransport(verify=pins.ssl_context(config.verify))
                self._transport = AttestedTransport(
                    inner,
                    endpoint=config.endpoint,
                    identity=self._initial_identity,
                    attestor=self._attest_once,
                    tls_pins=pins,
                    allow_unpinned_tls=config.allow_unpinned_tls,
                    profile=config.profile,
                    preferences=config.preferences,
                    clock=config.clock,
                )
            return self._transport

    @property
    def identity(self) -> EnclaveIdentity | None:
        """The pinned identity, or None before the first attestation."""
        return self.transport.identity

    def attest(self) -> EnclaveIdentity:
        """Attest the endpoint now and pin its keys (later requests are encrypted to them).

        Raises:
            AttestationRejected: the evidence verified but the policy rejected it.
            EvidenceError, CollateralError, TransportError: see ``teeclient.attest``.
        """
        return self.transport.attest()

    @property
    def http(self) -> httpx.Client:
        """An ``httpx.Client`` for the endpoint whose every request is encrypted."""
        transport = self.transport
        with self._lock:
            if self._http is None:
                self._http = httpx.Client(
                    transport=transport,
                    base_url=self._config.endpoint,
                    headers=self._config.default_headers(),
                    timeout=self._config.timeout,
                    follow_redirects=False,
                    trust_env=False,
                )
            return self._http

    def openai(self, **kwargs: Any) -> openai.OpenAI:
        """An ``openai.OpenAI`` client whose requests go through this client (encrypted).

        ``base_url`` defaults to ``<endpoint>/v1`` and ``api_key`` to this client's (never
        the ``OPENAI_API_KEY`` environment variable); other arguments go to ``openai.OpenAI``.

        Raises:
            UsageError: the ``openai`` extra is not installed.
        """
        module = _require_openai()
        client: openai.OpenAI = module.OpenAI(
            http_client=self.http, **self._config.openai_kwargs(kwargs)
        )
        return client

    def close(self) -> None:
        """Close the httpx clients and transports this client created."""
        with self._lock:
            http, self._http = self._http, None
            attestation, self._attestation_client = self._attestation_client, None
            transport, self._transport = self._transport, None
        if http is not None:
            http.close()
        if transport is not None:
            transport.close()
        if attestation is not None:
            attestation.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncClient:
    """The async twin of ``Client``: ``await attest()``, ``.http`` is an ``httpx.AsyncClient``,
    ``.openai()`` an ``openai.AsyncOpenAI``. Same arguments and rules."""

    def __init__(
        self,
        endpoint: str,
        *,
        policy: Policy | str | Path | None = None,
        trust: TrustStore | None = None,
        api_key: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        attestation_transport: httpx.AsyncBaseTransport | None = None,
        identity: EnclaveIdentity | None = None,
        fetcher: Fetcher | None = None,
        settings: CollateralSettings | None = None,
        offline: bool = False,
        ledger: NonceLedger | None = None,
        verify: ssl.SSLContext | str | bool = True,
        tls_pins: TlsPins | None = None,
        allow_unpinned_tls: bool = False,
        profile: Profile | str = Profile.OHTTP,
        preferences: Sequence[Suite] = DEFAULT_PREFERENCES,
        timeout: httpx.Timeout | float | None = DEFAULT_TIMEOUT,
        headers: Mapping[str, str] | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self._config = _Config(
            endpoint,
            policy=policy,
            trust=trust,
            api_key=api_key,
            fetcher=fetcher,
            settings=settings,
            offline=offline,
            ledger=ledger,
            clock=clock,
            verify=verify,
            profile=profile,
            preferences=preferences,
            allow_unpinned_tls=allow_unpinned_tls,
            tls_pins=tls_pins,
            timeout=timeout,
            headers=headers,
        )
        self._inner = transport
        self._attestation_inner = attestation_transport
        self._initial_identity = identity
        self._transport: AsyncAttestedTransport | None = None
        self._attestation_client: httpx.AsyncClient | None = None
        self._http: httpx.AsyncClient | None = None

    @property
    def endpoint(self) -> str:
        """The attested endpoint (scheme://host[:port][/prefix])."""
        return self._config.endpoint

    def _attestation_http(self) -> httpx.AsyncClient:
        if self._attestation_client is None:
            inner = self._attestation_inner or self._inner
            if inner is None:
                inner = httpx.AsyncHTTPTransport(verify=tls_context(self._config.verify))
            self._attestation_client = httpx.AsyncClient(
                transport=inner,
                timeout=ATTESTATION_TIMEOUT,
                follow_redirects=False,
                trust_env=False,
            )
        return self._attestation_client

    async def _attest_once(self) -> EnclaveIdentity:
        import anyio.to_thread

        config = self._config
        # policy files and the collateral cache are read off the event loop
        policy = await anyio.to_thread.run_sync(config.policy)
        fetcher = await anyio.to_thread.run_sync(config.fetcher)
        return await attest_async(
            config.endpoint,
            client=self._attestation_http(),
            policy=policy,
            trust=config.trust,
            fetcher=fetcher,
            settings=config.settings,
            ledger=config.ledger,
            clock=config.clock,
        )

    @property
    def transport(self) -> AsyncAttestedTransport:
        """The attested transport (created on first use; no I/O)."""
        if self._transport is None:
            config = self._config
            pins = config.tls_pins
            inner = self._inner
            if inner is None:
                pins = pins if pins is not None else TlsPins()
                inner = httpx.AsyncHTTPTransport(verify=pins.ssl_context(config.verify))
            self._transport = AsyncAttestedTransport(
                inner,
                endpoint=config.endpoint,
                identity=self._initial_identity,
                attestor=self._attest_once,
                tls_pins=pins,
                allow_unpinned_tls=config.allow_unpinned_tls,
                profile=config.profile,
                preferences=config.preferences,
                clock=config.clock,
            )
        return self._transport

    @property
    def identity(self) -> EnclaveIdentity | None:
        """The pinned identity, or None before the first attestation."""
        return self.transport.identity

    async def attest(self) -> EnclaveIdentity:
        """Attest the endpoint now and pin its keys.

        Raises:
            AttestationRejected: the evidence verified but the policy rejected it.
            EvidenceError, CollateralError, TransportError: see ``teeclient.attest``.
        """
        return await self.transport.attest()

    @property
    def http(self) -> httpx.AsyncClient:
        """An ``httpx.AsyncClient`` for the endpoint whose every request is encrypted."""
        if self._http is None:
            self._http = httpx.AsyncClient(
                transport=self.transport,
                base_url=self._config.endpoint,
                headers=self._config.default_headers(),
                timeout=self._config.timeout,
                follow_redirects=False,
                trust_env=False,
            )
        return self._http

    def openai(self, **kwargs: Any) -> openai.AsyncOpenAI:
        """An ``openai.AsyncOpenAI`` client whose requests go through this client (encrypted).

        Raises:
            UsageError: the ``openai`` extra is not installed.
        """
        module = _require_openai()
        client: openai.AsyncOpenAI = module.AsyncOpenAI(
            http_client=self.http, **self._config.openai_kwargs(kwargs)
        )
        return client

    async def aclose(self) -> None:
        """Close the httpx clients and transports this client created."""
        http, self._http = self._http, None
        attestation, self._attestation_client = self._attestation_client, None
        transport, self._transport = self._transport, None
        if http is not None:
            await http.aclose()
        if transport is not None:
            await transport.aclose()
        if attestation is not None:
            await attestation.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
