"""Attestation of an endpoint: fetch → verify every component → check the binding → appraise →
pin an EnclaveIdentity (DESIGN.md §2, docs/protocol.md).

``verify_document`` is pure given its inputs (document, nonce, trust, policy, ``now``, and a
collateral ``Fetcher`` if any): it verifies the CPU evidence, then that the CPU evidence binds
the declared key and device digests, then that the document's keys and devices are exactly
those, then every device with the derived GPU nonce, then appraises all components. Each
failure has its own code. ``attest`` adds the I/O: a fresh nonce, the HTTP fetch, the clock.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

from teeclient._time import Clock, require_aware, utc_now
from teeclient.binding import (
    NONCE_SIZE,
    canonical_device_list,
    device_digest,
    gpu_nonce,
    keys_digest,
    report_data_from_digests,
)
from teeclient.collateral.gather import Gathered
from teeclient.collateral.items import CollateralItem, CollateralSet
from teeclient.document import WELL_KNOWN_PATH, AttestationDocument, parse_document
from teeclient.errors import (
    AttestationRejected,
    DeviceExtraError,
    DeviceMissingError,
    DeviceOrderError,
    EvidenceTooOldError,
    KeysNotBoundError,
    NonceMismatchError,
    NonceReusedError,
    ReportDataMismatchError,
    TransportError,
    UsageError,
)
from teeclient.identity import EnclaveIdentity
from teeclient.platforms import VerifyOptions, verify_evidence
from teeclient.policy.appraise import appraise
from teeclient.policy.checks import Recorder
from teeclient.policy.checks.collateral import collateral_checks
from teeclient.policy.model import Policy
from teeclient.policy.result import Appraisal, Check, Claims
from teeclient.trust import TrustStore
from teeclient.verification import (
    CollateralInput,
    Evidence,
    as_collateral_set,
    collect_collateral,
    resolve_policy,
    revocation_need,
)

if TYPE_CHECKING:
    import httpx

    from teeclient.collateral.fetch import Fetcher
    from teeclient.collateral.settings import CollateralSettings

__all__ = [
    "AttestationResult",
    "NonceLedger",
    "attest",
    "attest_async",
    "attestation_url",
    "fetch_attestation",
    "fetch_attestation_async",
    "new_nonce",
    "verify_document",
]

MAX_RESPONSE_BYTES = 32 * 1024 * 1024


def new_nonce() -> bytes:
    """32 fresh random bytes from the operating system's CSPRNG."""
    return secrets.token_bytes(NONCE_SIZE)


class NonceLedger:
    """Nonces that already produced an identity; presenting one again is a replay.

    Bounded (oldest entries forgotten first); one ledger per client process is typical.
    """

    def __init__(self, *, max_entries: int = 65536) -> None:
        self._seen: OrderedDict[bytes, None] = OrderedDict()
        self._lock = threading.Lock()
        self._max = max_entries

    def seen(self, nonce: bytes) -> bool:
        """True if ``nonce`` was consumed before."""
        with self._lock:
            return nonce in self._seen

    def consume(self, nonce: bytes) -> None:
        """Record ``nonce`` as used.

        Raises:
            NonceReusedError: it was used before.
        """
        with self._lock:
            if nonce in self._seen:
                raise NonceReusedError(
                    "this nonce already produced an accepted identity (replay)",
                    field="nonce",
                    expected="a fresh nonce",
                    actual=nonce.hex(),
                )
            self._seen[nonce] = None
            while len(self._seen) > self._max:
                self._seen.popitem(last=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class AttestationResult:
    """The appraisal of a document and, when accepted, the identity to pin."""

    document: AttestationDocument
    appraisal: Appraisal
    identity: EnclaveIdentity | None
    gathered: Gathered


def _binding_checks(
    doc: AttestationDocument, expected: bytes, gpu: bytes | None, age: str | None
) -> list[Check]:
    rec = Recorder("binding", None, frozenset())
    rec.verdict(
        "freshness.nonce",
        True,
        expected=doc.nonce.hex(),
        actual=doc.nonce.hex(),
        passed="the evidence answers this session's nonce",
        failed="",
    )
    if age is not None:
        rec.verdict(
            "freshness.age",
            True,
            expected=None,
            actual=age,
            passed="evidence produced within the policy's max_evidence_age",
            failed="",
        )
    rec.verdict(
        "binding.report_data",
        True,
        expected=expected.hex(),
        actual=expected.hex(),
        passed="the CPU evidence binds the nonce, the keys and the devices",
        failed="",
    )
    rec.verdict(
        "binding.keys",
        True,
        expected=doc.binding.keys_digest.hex(),
        actual=doc.binding.keys_digest.hex(),
        passed="the served keys are the bound keys",
        failed="",
    )
    rec.verdict(
        "binding.devices",
        True,
        expected=len(doc.binding.device_digests),
        actual=len(doc.devices),
        passed=f"{len(doc.devices)} device(s), each bound by the CPU evidence",
        failed="",
    )
    if gpu is not None:
        rec.verdict(
            "binding.gpu_nonce",
            True,
            expected=gpu.hex(),
            actual=gpu.hex(),
            passed="every device answered the derived SPDM nonce",
            failed="",
        )
    return rec.checks


def _check_devices(doc: AttestationDocument) -> None:
    served = [device_digest(d.bound()) for d in doc.devices]
    declared = list(doc.binding.device_digests)
    if served == declared:
        return
    missing = [d for d in declared if d not in served]
    extra = [d for d in served if d not in declared]
    if missing:
        raise DeviceMissingError(
            f"{len(missing)} device(s) bound by the CPU evidence are missing from the document",
            field="devices",
            expected=f"{len(declared)} bound device(s)",
            actual=f"{len(served)} served; missing {', '.join(d.hex()[:16] for d in missing)}",
        )
    if extra:
        raise DeviceExtraError(
            f"{len(extra)} device(s) in the document are not bound by the CPU evidence",
            field="devices",
            expected=f"{len(declared)} bound device(s)",
            actual=f"{len(served)} served; unbound {', '.join(d.hex()[:16] for d in extra)}",
        )
    raise DeviceOrderError(
        "the document's devices are bound, but in another order",
        field="devices",
        expected=" ".join(d.hex()[:8] for d in declared),
        actual=" ".join(d.hex()[:8] for d in served),
    )


def _report_data(platform: str, claims: Claims) -> bytes:
    data = claims.to_dict()
    key = "user_data" if platform == "nitro" else "report_data"
    value = data.get(key)
    if not isinstance(value, str):
        return b""
    try:
        return bytes.fromhex(value)
    except ValueError:
        return b""


def _measurements(claims: Sequence[Claims]) -> dict[str, str]:
    wanted = {
        "sev-snp": ("measurement", "host_data"),
        "tdx": ("mrtd", "rtmr0", "rtmr1", "rtmr2", "rtmr3", "mr_seam"),
        "nitro": (),
    }
    out: dict[str, str] = {}
    for c in claims:
        data = c.to_dict()
        for key in wanted.get(c.kind, ()):
            if isinstance(data.get(key), str):
                out[f"{c.kind}.{key}"] = str(data[key])
        pcrs = data.get("pcrs")
        if c.kind == "nitro" and isinstance(pcrs, dict):
            for index in ("0", "1", "2"):
                pcr = pcrs.get(index, pcrs.get(int(index)))
                if isinstance(pcr, str):
                    out[f"nitro.pcr{index}"] = pcr
    return out


def _device_summary(claims: Sequence[Claims]) -> tuple[str, ...]:
    out = []
    for c in claims:
        if c.kind in ("nvidia-gpu", "nvidia-switch"):
            data = c.to_dict()
            parts = [
                c.kind,
                str(data.get("arch", "")),
                str(data.get("driver_version") or ""),
                str(data.get("vbios_version") or ""),
            ]
            out.append(" ".join(p for p in parts if p))
    return tuple(out)


def verify_document(
    document: bytes | AttestationDocument,
    *,
    nonce: bytes,
    now: datetime,
    policy: Policy | None = None,
    trust: TrustStore | None = None,
    nonce_issued_at: datetime | None = None,
    collateral: CollateralInput = (),
    fetcher: Fetcher | None = None,
    settings: CollateralSettings | None = None,
    endpoint: str = "",
    ledger: NonceLedger | None = None,
) -> AttestationResult:
    """Verify a teeclient.attestation/v1 document for ``nonce`` and appraise it.

    Returns the result whether or not the policy accepts (``result.identity`` is None when it
    does not); raises when the evidence is not authentic, not fresh or not bound.

    Raises:
        DocumentError: the document is malformed.
        NonceMismatchError / NonceReusedError / EvidenceTooOldError: freshness.
        ReportDataMismatchError / KeysNotBoundError / DeviceMissingError /
            DeviceExtraError / DeviceOrderError: binding.
        EvidenceError, CollateralError: from the platform verifiers.
    """
    now = require_aware(now)
    if len(nonce) != NONCE_SIZE:
        raise UsageError(
            "the nonce is 32 bytes", field="nonce", expected=NONCE_SIZE, actual=len(nonce)
        )
    doc = document if isinstance(document, AttestationDocument) else parse_document(document)
    resolved = resolve_policy(policy)
    store = trust if trust is not None else TrustStore.default()
    # 1. Freshness: the document answers this nonce, never seen before, recently issued.
    if not hmac.compare_digest(doc.nonce, nonce):
        raise NonceMismatchError(
            "the document does not answer this session's nonce (stale or replayed evidence)",
            field="nonce",
            expected=nonce.hex(),
            actual=doc.nonce.hex(),
        )
    if ledger is not None and ledger.seen(nonce):
        ledger.consume(nonce)  # raises NonceReusedError
    age_text: str | None = None
    if nonce_issued_at is not None:
        age = now - require_aware(nonce_issued_at)
        age_text = f"{age.total_seconds():.3f}s"
        if age > resolved.freshness.max_evidence_age:
            raise EvidenceTooOldError(
                "the evidence is older than the policy allows",
                field="freshness.max_evidence_age",
                expected=f"<= {resolved.freshness.max_evidence_age}",
                actual=str(age),
            )
    # 2. The CPU evidence, with the collateral the document, the caller or the fetcher bring.
    supplied = as_collateral_set(collateral)
    items: list[CollateralItem] = [*doc.collateral, *supplied.items]
    if doc.cpu.certificates:
        items.append(
            CollateralItem(
                data=doc.cpu.certificates, source="document:cpu.certificates", origin="document"
            )
        )
    cpu_set = CollateralSet(tuple(items))
    cpu_ev = Evidence(
        data=doc.cpu.evidence, source=endpoint or "document", platform=doc.cpu.platform
    )
    gathered = Gathered(items=(), unavailable=())
    if fetcher is not None:
        gathered = collect_collateral(
            cpu_ev,
            supplied=cpu_set,
            fetcher=fetcher,
            revocation=revocation_need(resolved, doc.cpu.platform),
            product=doc.cpu.product,
            settings=settings,
        )
    everything = CollateralSet(cpu_set.items + gathered.items)
    cpu_claims = verify_evidence(
        doc.cpu.platform,
        doc.cpu.evidence,
        collateral=everything,
        trust=store,
        now=now,
        options=VerifyOptions(
            product=doc.cpu.product, nonce=doc.nonce if doc.cpu.platform == "nitro" else None
        ),
    )
    # 3. The CPU evidence binds nonce ‖ declared keys digest ‖ declared device digests.
    declared_devices = hashlib.sha256(canonical_device_list(doc.binding.device_digests)).digest()
    expected = report_data_from_digests(nonce, doc.binding.keys_digest, declared_devices)
    found = _report_data(doc.cpu.platform, cpu_claims)
    if not hmac.compare_digest(found, expected):
        raise ReportDataMismatchError(
            "the CPU evidence does not bind this nonce with the declared keys and devices",
            platform=doc.cpu.platform,
            field="report_data",
            expected=expected.hex(),
            actual=found.hex(),
        )
    # 4. The served keys and devices are exactly the bound ones.
    served_keys = keys_digest(doc.keys)
    if not hmac.compare_digest(served_keys, doc.binding.keys_digest):
        raise KeysNotBoundError(
            "the served keys are not the keys the CPU evidence binds",
            field="keys",
            expected=doc.binding.keys_digest.hex(),
            actual=served_keys.hex(),
        )
    _check_devices(doc)
    # 5. Every device, asked with the GPU nonce derived from this session's nonce and keys.
    claims: list[Claims] = [cpu_claims]
    derived: bytes | None = None
    if doc.devices:
        derived = gpu_nonce(nonce, doc.keys)
        claims.append(_verify_devices(doc, derived, everything, store, now))
    # 6. Appraisal of every component, then the identity.
    checks = [
        *_binding_checks(doc, expected, derived, age_text),
        *collateral_checks(everything.items, gathered.unavailable),
    ]
    appraisal = appraise(claims, resolved, now, global_checks=checks)
    identity = None
    if appraisal.accepted:
        if ledger is not None:
            ledger.consume(nonce)
        identity = EnclaveIdentity(
            endpoint=endpoint,
            layout="teeclient-v1",
            platform=doc.cpu.platform,
            measurements=_measurements(claims),
            devices=_device_summary([p for c in claims for p in _parts(c)]),
            verified_at=now,
            expires_at=now + resolved.freshness.identity_lifetime,
            document_sha256=hashlib.sha256(doc.raw).hexdigest(),
            nonce=nonce,
            ohttp_keys=doc.keys.ohttp_keys,
            tls_spki_sha256=doc.keys.tls_spki_sha256,
            appraisal=appraisal,
        )
    return AttestationResult(
        document=doc, appraisal=appraisal, identity=identity, gathered=gathered
    )


def _parts(claims: Claims) -> Sequence[Claims]:
    parts = getattr(claims, "parts", None)
    return tuple(parts()) if callable(parts) else (claims,)


def _verify_devices(
    doc: AttestationDocument,
    derived: bytes,
    collateral: CollateralSet,
    trust: TrustStore,
    now: datetime,
) -> Claims:
    from teeclient.platforms.nvidia.evidence import DeviceEvidence, NvidiaEvidence
    from teeclient.platforms.nvidia.verify import verify as verify_nvidia

    evidence = NvidiaEvidence(
        format="teeclient.attestation/v1",
        devices=tuple(
            DeviceEvidence(
                report=d.evidence,
                chain_pem=d.certificates,
                arch_hint=d.arch,
                label=f"devices[{i}]",
            )
            for i, d in enumerate(doc.devices)
        ),
        nonce_hint=derived,
    )
    node = verify_nvidia(evidence, trust=trust, now=now, collateral=collateral, nonce=derived)
    for entry, device in zip(doc.devices, node.parts(), strict=True):
        if entry.kind != device.kind:
            from teeclient.errors import NvidiaArchMismatchError

            raise NvidiaArchMismatchError(
                "a device's declared kind differs from its verified certificate chain",
                platform="nvidia",
                field="devices.kind",
                expected=device.kind,
                actual=entry.kind,
            )
    return node


def attestation_url(endpoint: str, nonce: bytes) -> str:
    """The document URL for ``endpoint`` (scheme://host[:port][/prefix]) and ``nonce``.

    Raises:
        UsageError: not an absolute http(s) URL.
    """
    parts = urlsplit(endpoint)
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise UsageError(
            "the endpoint must be an absolute https URL",
            field="endpoint",
            expected="https://host[:port]",
            actual=endpoint,
        )
    path = parts.path.rstrip("/") + WELL_KNOWN_PATH
    return urlunsplit((parts.scheme, parts.netloc, path, f"nonce={nonce.hex()}", ""))


def fetch_attestation(endpoint: str, nonce: bytes, *, client: httpx.Client) -> bytes:
    """GET the attestation document for ``nonce`` (bounded, no redirects).

    Raises:
        TransportError: the request failed, was redirected, or the answer is not 200 or too
            large.
    """
    import httpx

    url = attestation_url(endpoint, nonce)
    try:
        with client.stream(
            "GET", url, follow_redirects=False, headers={"accept": "application/json"}
        ) as response:
            if response.status_code != 200:
                raise TransportError(
                    "the attestation endpoint did not answer 200",
                    field=url,
                    expected="HTTP 200",
                    actual=f"HTTP {response.status_code}",
                )
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > MAX_RESPONSE_BYTES:
                    raise TransportError(
                        "the attestation document is too large",
                        field=url,
                        expected=f"<= {MAX_RESPONSE_BYTES} bytes",
                    )
                chunks.append(chunk)
            return b"".join(chunks)
    except httpx.HTTPError as exc:
        raise TransportError(f"fetching the attestation document failed: {exc}", field=url) from exc


async def fetch_attestation_async(
    endpoint: str, nonce: bytes, *, client: httpx.AsyncClient
) -> bytes:
    """``fetch_attestation`` with an ``httpx.AsyncClient``.

    Raises:
        TransportError: the request failed, was redirected, or the answer is not 200 or too
            large.
    """
    import httpx

    url = attestation_url(endpoint, nonce)
    try:
        async with client.stream(
            "GET", url, follow_redirects=False, headers={"accept": "application/json"}
        ) as response:
            if response.status_code != 200:
                raise TransportError(
                    "the attestation endpoint did not answer 200",
                    field=url,
                    expected="HTTP 200",
                    actual=f"HTTP {response.status_code}",
                )
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > MAX_RESPONSE_BYTES:
                    raise TransportError(
                        "the attestation document is too large",
                        field=url,
                        expected=f"<= {MAX_RESPONSE_BYTES} bytes",
                    )
                chunks.append(chunk)
            return b"".join(chunks)
    except httpx.HTTPError as exc:
        raise TransportError(f"fetching the attestation document failed: {exc}", field=url) from exc


def _identity_or_raise(endpoint: str, result: AttestationResult) -> EnclaveIdentity:
    if result.identity is None:
        failed = [c.id for c in result.appraisal.checks if c.status.value == "fail"]
        raise AttestationRejected(
            f"the policy rejected {endpoint}: " + ", ".join(failed[:8]),
            appraisal=result.appraisal,
        )
    return result.identity


async def attest_async(
    endpoint: str,
    *,
    client: httpx.AsyncClient,
    policy: Policy | None = None,
    trust: TrustStore | None = None,
    fetcher: Fetcher | None = None,
    settings: CollateralSettings | None = None,
    ledger: NonceLedger | None = None,
    clock: Clock = utc_now,
) -> EnclaveIdentity:
    """``attest`` for async callers: the document is fetched with ``client``; verification
    (CPU-bound, and collateral fetching through the sync ``fetcher``) runs in a worker thread.

    Raises:
        AttestationRejected, EvidenceError, CollateralError, TransportError: as ``attest``.
    """
    import functools

    import anyio.to_thread

    nonce = new_nonce()
    issued = clock()
    raw = await fetch_attestation_async(endpoint, nonce, client=client)
    verify = functools.partial(
        verify_document,
        raw,
        nonce=nonce,
        now=clock(),
        policy=policy,
        trust=trust,
        nonce_issued_at=issued,
        fetcher=fetcher,
        settings=settings,
        endpoint=endpoint,
        ledger=ledger,
    )
    result = await anyio.to_thread.run_sync(verify)
    return _identity_or_raise(endpoint, result)


def attest(
    endpoint: str,
    *,
    client: httpx.Client,
    policy: Policy | None = None,
    trust: TrustStore | None = None,
    fetcher: Fetcher | None = None,
    settings: CollateralSettings | None = None,
    ledger: NonceLedger | None = None,
    clock: Clock = utc_now,
) -> EnclaveIdentity:
    """Attest ``endpoint``: fresh nonce, fetch, verify, appraise; return the identity to pin.

    Raises:
        AttestationRejected: verified, but the policy rejected it (carries the appraisal).
        EvidenceError, CollateralError, TransportError: see ``verify_document``.
    """
    nonce = new_nonce()
    issued = clock()
    raw = fetch_attestation(endpoint, nonce, client=client)
    result = verify_document(
        raw,
        nonce=nonce,
        now=clock(),
        policy=policy,
        trust=trust,
        nonce_issued_at=issued,
        fetcher=fetcher,
        settings=settings,
        endpoint=endpoint,
        ledger=ledger,
    )
    return _identity_or_raise(endpoint, result)
