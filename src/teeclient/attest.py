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
    DevicesNotBoundError,
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
from teeclient.tinfoil import WELL_KNOWN_PATH as TINFOIL_WELL_KNOWN_PATH
from teeclient.tinfoil import (
    TinfoilV2Document,
    TinfoilV3Document,
    check_certificate,
    is_tinfoil_document,
    parse_tinfoil_document,
    report_data_v3,
)
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
    from teeclient.platforms.nvidia.evidence import NvidiaEvidence as NvidiaEvidenceT

__all__ = [
    "AttestationResult",
    "NonceLedger",
    "attest",
    "attest_async",
    "attestation_url",
    "fetch_attestation",
    "fetch_attestation_async",
    "new_nonce",
    "tinfoil_attestation_url",
    "verify_document",
    "verify_tinfoil_document",
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

    document: AttestationDocument | TinfoilV2Document | TinfoilV3Document
    appraisal: Appraisal
    identity: EnclaveIdentity | None
    gathered: Gathered


def _policy_binding_checks(
    rec: Recorder, policy: Policy, layout: str, *, hpke: bool, tls: bool
) -> None:
    """``binding.layout`` and ``binding.pin``: the layout and the pinned keys the policy wants."""
    layouts = sorted(policy.binding.layouts)
    rec.verdict(
        "binding.layout",
        layout in policy.binding.layouts,
        expected=", ".join(layouts) or "(none)",
        actual=layout,
        passed=f"the {layout} binding layout is accepted by [binding] layouts",
        failed=f"the {layout} binding layout is not in [binding] layouts",
    )
    have = {name for name, present in (("hpke", hpke), ("tls_spki", tls)) if present}
    wanted = set(policy.binding.pin)
    rec.verdict(
        "binding.pin",
        wanted <= have,
        expected=", ".join(sorted(wanted)) or "(none)",
        actual=", ".join(sorted(have)) or "(none)",
        passed="the identity carries every key [binding] pin requires",
        failed="missing attested key(s) for [binding] pin: " + ", ".join(sorted(wanted - have)),
    )


def _binding_checks(
    doc: AttestationDocument,
    expected: bytes,
    gpu: bytes | None,
    age: str | None,
    policy: Policy | None = None,
) -> list[Check]:
    rec = Recorder("binding", None, frozenset())
    if policy is not None:
        _policy_binding_checks(
            rec,
            policy,
            "teeclient-v1",
            hpke=True,
            tls=doc.keys.tls_spki_sha256 is not None,
        )
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


def _verify_cpu(
    platform: str,
    evidence: bytes,
    *,
    carried: Sequence[CollateralItem],
    collateral: CollateralInput,
    product: str | None,
    nitro_nonce: bytes | None,
    policy: Policy,
    trust: TrustStore,
    now: datetime,
    fetcher: Fetcher | None,
    settings: CollateralSettings | None,
    endpoint: str,
) -> tuple[Claims, CollateralSet, Gathered]:
    """Verify CPU evidence with the collateral the document carries, the caller supplies and the
    fetcher obtains; returns the claims, every collateral item, and what was fetched."""
    supplied = as_collateral_set(collateral)
    cpu_set = CollateralSet((*carried, *supplied.items))
    split = [(_is_device_collateral(i), i) for i in cpu_set.items]
    device_only = tuple(i for device, i in split if device)
    if device_only:
        cpu_set = CollateralSet(tuple(i for device, i in split if not device))
    gathered = Gathered(items=(), unavailable=())
    if fetcher is not None:
        gathered = collect_collateral(
            Evidence(data=evidence, source=endpoint or "document", platform=platform),
            supplied=cpu_set,
            fetcher=fetcher,
            revocation=revocation_need(policy, platform),
            product=product,
            settings=settings,
        )
    claims = verify_evidence(
        platform,
        evidence,
        collateral=CollateralSet(cpu_set.items + gathered.items),
        trust=trust,
        now=now,
        options=VerifyOptions(product=product, nonce=nitro_nonce if platform == "nitro" else None),
    )
    everything = CollateralSet(cpu_set.items + device_only + gathered.items)
    return claims, everything, gathered


def _is_device_collateral(item: CollateralItem) -> bool:
    """NVIDIA collateral (RIMs, OCSP answers, JWKS, device evidence): for the devices only, so
    a CPU verifier that reads every item it is given (TDX) never sees it."""
    from teeclient.platforms.nvidia import ocsp, rim
    from teeclient.platforms.nvidia.evidence import looks_like_nvidia

    data = item.data
    if b"-----BEGIN" in data[:64]:
        return False
    if rim.looks_like_rim(data) or looks_like_nvidia(data):
        return True
    if data.lstrip()[:1] == b"{":
        return b'"keys"' in data and b'"kty"' in data
    return data[:1] == b"\x30" and ocsp.looks_like_ocsp(data)


def _gather_devices(
    entries: Sequence[tuple[bytes, bytes, str, str]],
    nonce: bytes,
    everything: CollateralSet,
    gathered: Gathered,
    policy: Policy,
    fetcher: Fetcher,
    settings: CollateralSettings | None,
    endpoint: str,
) -> tuple[CollateralSet, Gathered]:
    """Plan and fetch what the devices need (RIMs, OCSP answers) beyond what is at hand."""
    import base64
    import json

    from teeclient.platforms.nvidia.evidence import EVIDENCE_FORMAT

    carrier = json.dumps(
        {
            "format": EVIDENCE_FORMAT,
            "nonce": nonce.hex(),
            "devices": [
                {
                    **({"kind": kind} if kind else {}),
                    **({"arch": arch} if arch else {}),
                    "evidence": base64.b64encode(report).decode(),
                    "certificates": chain.decode("ascii", "replace"),
                }
                for report, chain, arch, kind in entries
            ],
        }
    ).encode()
    more = collect_collateral(
        Evidence(data=carrier, source=endpoint or "document", platform="nvidia"),
        supplied=everything,
        fetcher=fetcher,
        revocation=revocation_need(policy, "nvidia"),
        settings=settings,
    )
    return (
        CollateralSet(everything.items + more.items),
        Gathered(
            items=gathered.items + more.items,
            unavailable=gathered.unavailable + more.unavailable,
        ),
    )


def verify_document(
    document: bytes | AttestationDocument | TinfoilV2Document | TinfoilV3Document,
    *,
    nonce: bytes | None,
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

    Tinfoil v2 and v3 documents are handed to ``verify_tinfoil_document`` (``nonce`` may be
    None only for v2, which answers no nonce).
    """
    if isinstance(document, TinfoilV2Document | TinfoilV3Document) or (
        isinstance(document, bytes) and is_tinfoil_document(document)
    ):
        return verify_tinfoil_document(
            document,
            nonce=nonce,
            now=now,
            policy=policy,
            trust=trust,
            nonce_issued_at=nonce_issued_at,
            collateral=collateral,
            fetcher=fetcher,
            settings=settings,
            endpoint=endpoint,
            ledger=ledger,
        )
    now = require_aware(now)
    if nonce is None or len(nonce) != NONCE_SIZE:
        raise UsageError(
            "the nonce is 32 bytes",
            field="nonce",
            expected=NONCE_SIZE,
            actual=None if nonce is None else len(nonce),
        )
    if isinstance(document, AttestationDocument):
        doc = document
    else:
        assert isinstance(document, bytes)
        doc = parse_document(document)
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
    items: list[CollateralItem] = list(doc.collateral)
    if doc.cpu.certificates:
        items.append(
            CollateralItem(
                data=doc.cpu.certificates, source="document:cpu.certificates", origin="document"
            )
        )
    cpu_claims, everything, gathered = _verify_cpu(
        doc.cpu.platform,
        doc.cpu.evidence,
        carried=items,
        collateral=collateral,
        product=doc.cpu.product,
        nitro_nonce=doc.nonce,
        policy=resolved,
        trust=store,
        now=now,
        fetcher=fetcher,
        settings=settings,
        endpoint=endpoint,
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
        if fetcher is not None:
            entries = [(d.evidence, d.certificates, d.arch, d.kind) for d in doc.devices]
            everything, gathered = _gather_devices(
                entries, derived, everything, gathered, resolved, fetcher, settings, endpoint
            )
        claims.append(_verify_devices(doc, derived, everything, store, now))
    # 6. Appraisal of every component, then the identity.
    checks = [
        *_binding_checks(doc, expected, derived, age_text, resolved),
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


# --- Tinfoil v2 and v3 (specs/tinfoil-and-ehbp.md §2–§3, docs/protocol.md §7) -----------------


def _tinfoil_items(doc: TinfoilV3Document) -> list[CollateralItem]:
    """The v3 collateral entries teeclient can use, as collateral items (unauthenticated)."""
    import base64
    import binascii
    import json

    from teeclient.errors import DocumentError

    out: list[CollateralItem] = []

    def b64(value: object, where: str) -> bytes:
        if not isinstance(value, str):
            raise DocumentError("expected base64 text", platform="tinfoil", field=where)
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise DocumentError("invalid base64", platform="tinfoil", field=where) from exc

    def add(data: bytes, source: str, headers: dict[str, str] | None = None) -> None:
        if data:
            out.append(
                CollateralItem(data=data, source=source, headers=headers or {}, origin="document")
            )

    for entry in doc.collateral:
        where = f"collateral[{entry.id}]"
        data = entry.data
        kind = entry.format.removeprefix("https://tinfoil.sh/collateral/")
        if kind == "amd-vcek/v1" and isinstance(data, dict):
            add(b64(data.get("vcek_der_base64"), f"{where}.vcek_der_base64"), f"{where}:vcek")
            chain = data.get("cert_chain_pem")
            if isinstance(chain, str):
                add(chain.encode(), f"{where}:cert_chain")
        elif kind == "amd-crl/v1" and isinstance(data, dict):
            add(b64(data.get("crl_der_base64"), f"{where}.crl_der_base64"), f"{where}:crl")
        elif kind == "intel-pcs/v1" and isinstance(data, dict):
            responses = data.get("responses")
            if not isinstance(responses, list):
                raise DocumentError("responses must be a list", platform="tinfoil", field=where)
            for i, response in enumerate(responses):
                if not isinstance(response, dict) or not isinstance(response.get("url"), str):
                    raise DocumentError(
                        "malformed PCS response", platform="tinfoil", field=f"{where}[{i}]"
                    )
                raw_headers = response.get("headers") or {}
                headers = {
                    str(k).lower(): str(v[0] if isinstance(v, list) and v else v)
                    for k, v in (raw_headers.items() if isinstance(raw_headers, dict) else ())
                }
                add(
                    b64(response.get("body_base64"), f"{where}[{i}].body_base64"),
                    response["url"],
                    headers,
                )
        elif kind == "nvidia-gpu/v1" and isinstance(data, dict):
            # The spec leaves this shape open; teeclient reads RIM service answers and OCSP
            # responses when they are there (docs/protocol.md §7), ignores anything else.
            for i, rim in enumerate(data.get("rims") or []):
                if isinstance(rim, dict):
                    add(json.dumps(rim).encode(), f"{where}:rim[{i}]")
            for i, answer in enumerate(data.get("ocsp") or []):
                add(b64(answer, f"{where}.ocsp[{i}]"), f"{where}:ocsp[{i}]")
    return out


def _tinfoil_devices(doc: TinfoilV3Document) -> NvidiaEvidenceT:
    import base64

    from teeclient.platforms.nvidia.evidence import DeviceEvidence, NvidiaEvidence, parse_evidence

    devices = []
    for device in doc.devices:
        if device.kind == "gpu":
            import json

            value = json.loads(device.evidence)
            devices.append(
                DeviceEvidence(
                    report=base64.b64decode(value["evidence"]),
                    chain_pem=base64.b64decode(value["certificate"]),
                    arch_hint=value["arch"],
                    nonce_hint=device.nonce,
                    label=device.id,
                )
            )
        else:
            devices.extend(parse_evidence(device.evidence, source=device.id).devices)
    return NvidiaEvidence(format="tinfoil-v3", devices=tuple(devices), nonce_hint=doc.nonce)


def verify_tinfoil_document(
    document: bytes | TinfoilV2Document | TinfoilV3Document,
    *,
    nonce: bytes | None,
    now: datetime,
    policy: Policy | None = None,
    trust: TrustStore | None = None,
    nonce_issued_at: datetime | None = None,
    collateral: CollateralInput = (),
    fetcher: Fetcher | None = None,
    settings: CollateralSettings | None = None,
    endpoint: str = "",
    ledger: NonceLedger | None = None,
    tls_certificate: bytes | None = None,
) -> AttestationResult:
    """Verify a Tinfoil v2 or v3 document and appraise it (docs/protocol.md §7).

    v3, in the order of specs/tinfoil-and-ehbp.md §3.4: the challenge nonce is ``nonce``; the
    section hashes are the endorsed ones; REPORT_DATA derives from them; the CPU evidence
    verifies and carries that REPORT_DATA; every GPU answered the challenge nonce. v2 answers
    no nonce: ``freshness.nonce`` passes only under ``[freshness] nonce = "optional"`` and the
    age is measured from ``nonce_issued_at`` (when the document was fetched). Both layouts
    must be in ``[binding] layouts``. ``tls_certificate`` (the enclave's TLS certificate) is
    checked against the attested SPKI hash and HPKE key when given.

    Raises:
        DocumentError / UnsupportedDocumentError: malformed, unknown or dummy format.
        NonceMismatchError / NonceReusedError / EvidenceTooOldError / NonceMissingError.
        KeysNotBoundError / DevicesNotBoundError / ReportDataMismatchError: binding.
        EvidenceError, CollateralError: from the platform verifiers.
    """
    now = require_aware(now)
    doc = (
        document
        if isinstance(document, TinfoilV2Document | TinfoilV3Document)
        else parse_tinfoil_document(document)
    )
    resolved = resolve_policy(policy)
    store = trust if trust is not None else TrustStore.default()
    rec = Recorder("binding", None, frozenset())
    v3 = isinstance(doc, TinfoilV3Document)
    # 1. Freshness.
    if isinstance(doc, TinfoilV3Document):
        if nonce is None or len(nonce) != NONCE_SIZE:
            raise UsageError(
                "a Tinfoil v3 document answers a 32-byte nonce; pass the one that was sent",
                field="nonce",
                expected=NONCE_SIZE,
                actual=None if nonce is None else len(nonce),
            )
        if not hmac.compare_digest(doc.nonce, nonce):
            raise NonceMismatchError(
                "the document does not answer this session's nonce (stale or replayed evidence)",
                platform="tinfoil",
                field="challenge.nonce",
                expected=nonce.hex(),
                actual=doc.nonce.hex(),
            )
        if ledger is not None and ledger.seen(nonce):
            ledger.consume(nonce)
        rec.verdict(
            "freshness.nonce",
            True,
            expected=nonce.hex(),
            actual=doc.nonce.hex(),
            passed="the evidence answers this session's nonce",
            failed="",
        )
    else:
        optional = resolved.freshness.nonce == "optional"
        rec.verdict(
            "freshness.nonce",
            optional,
            expected=resolved.freshness.nonce,
            actual="no nonce (static evidence)",
            passed="static evidence accepted by [freshness] nonce = optional",
            failed="a Tinfoil v2 document answers no nonce; [freshness] nonce is required",
        )
    if nonce_issued_at is not None:
        age = now - require_aware(nonce_issued_at)
        if age > resolved.freshness.max_evidence_age:
            raise EvidenceTooOldError(
                "the evidence is older than the policy allows",
                field="freshness.max_evidence_age",
                expected=f"<= {resolved.freshness.max_evidence_age}",
                actual=str(age),
            )
        rec.verdict(
            "freshness.age",
            True,
            expected=f"<= {resolved.freshness.max_evidence_age}",
            actual=f"{age.total_seconds():.3f}s",
            passed="evidence produced within the policy's max_evidence_age",
            failed="",
        )
    elif not v3:
        rec.skip(
            "freshness.age",
            "static evidence with no fetch time: its age cannot be bounded",
        )
    # 2. (v3) The sections are the endorsed ones, and REPORT_DATA derives from them.
    expected: bytes | None = None
    items: list[CollateralItem] = []
    if isinstance(doc, TinfoilV3Document):
        assert nonce is not None
        crypto_hash = hashlib.sha256(doc.crypto_material).digest()
        device_hash = hashlib.sha256(doc.device_evidence).digest()
        if not hmac.compare_digest(crypto_hash, doc.endorsed_crypto_hash):
            raise KeysNotBoundError(
                "the served crypto_material is not the one the CPU evidence endorses",
                platform="tinfoil",
                field="cpu_evidence.endorsed.crypto_material_hash",
                expected=doc.endorsed_crypto_hash.hex(),
                actual=crypto_hash.hex(),
            )
        if not hmac.compare_digest(device_hash, doc.endorsed_device_hash):
            raise DevicesNotBoundError(
                "the served device_evidence is not the one the CPU evidence endorses",
                platform="tinfoil",
                field="cpu_evidence.endorsed.device_evidence_hash",
                expected=doc.endorsed_device_hash.hex(),
                actual=device_hash.hex(),
            )
        expected = report_data_v3(nonce, crypto_hash, device_hash)
        if not hmac.compare_digest(expected, doc.report_data):
            raise ReportDataMismatchError(
                "the challenge's report_data is not derived from this nonce and these sections",
                platform="tinfoil",
                field="challenge.report_data",
                expected=expected.hex(),
                actual=doc.report_data.hex(),
            )
        items = _tinfoil_items(doc)
    # 3. The CPU evidence, and the REPORT_DATA it carries.
    cpu_claims, everything, gathered = _verify_cpu(
        doc.platform,
        doc.evidence,
        carried=items,
        collateral=collateral,
        product=None,
        nitro_nonce=None,
        policy=resolved,
        trust=store,
        now=now,
        fetcher=fetcher,
        settings=settings,
        endpoint=endpoint,
    )
    found = _report_data(doc.platform, cpu_claims)
    if expected is not None and not hmac.compare_digest(found, expected):
        raise ReportDataMismatchError(
            "the CPU evidence does not carry the REPORT_DATA this document derives",
            platform=doc.platform,
            field="report_data",
            expected=expected.hex(),
            actual=found.hex(),
        )
    if len(found) != 64:
        raise ReportDataMismatchError(
            "the CPU evidence carries no 64-byte REPORT_DATA",
            platform=doc.platform,
            field="report_data",
            expected="64 bytes",
            actual=f"{len(found)} bytes",
        )
    if isinstance(doc, TinfoilV3Document):
        tls, hpke = doc.tls_spki_sha256, doc.hpke_public_key
    else:
        tls, hpke = found[:32], found[32:]
    rec.verdict(
        "binding.report_data",
        True,
        expected=found.hex(),
        actual=found.hex(),
        passed="the CPU evidence binds "
        + (
            "the nonce, crypto_material and device_evidence"
            if v3
            else "the TLS SPKI hash and the HPKE key (REPORT_DATA[0:32], [32:64])"
        ),
        failed="",
    )
    if tls_certificate is not None:
        assert tls is not None
        check_certificate(
            tls_certificate,
            tls_spki_sha256=tls,
            hpke_public_key=hpke,
            document_hash=doc.document_hash if isinstance(doc, TinfoilV2Document) else None,
        )
        rec.verdict(
            "binding.keys",
            True,
            expected=tls.hex(),
            actual=tls.hex(),
            passed="the enclave certificate carries the attested TLS key and HPKE key",
            failed="",
        )
    # 4. (v3) Devices, asked with the challenge nonce itself.
    claims: list[Claims] = [cpu_claims]
    if isinstance(doc, TinfoilV3Document) and doc.devices:
        from teeclient.platforms.nvidia.verify import verify as verify_nvidia

        node = _tinfoil_devices(doc)
        if fetcher is not None:
            entries = [
                (d.report, d.chain_pem or b"", (d.arch_hint or "").lower(), "")
                for d in node.devices
            ]
            everything, gathered = _gather_devices(
                entries, doc.nonce, everything, gathered, resolved, fetcher, settings, endpoint
            )
        claims.append(
            verify_nvidia(node, trust=store, now=now, collateral=everything, nonce=doc.nonce)
        )
        rec.verdict(
            "binding.gpu_nonce",
            True,
            expected=doc.nonce.hex(),
            actual=doc.nonce.hex(),
            passed="every device answered the challenge nonce",
            failed="",
        )
    layout = "tinfoil-v3" if v3 else "tinfoil-v2"
    _policy_binding_checks(rec, resolved, layout, hpke=hpke is not None, tls=tls is not None)
    if isinstance(doc, TinfoilV3Document) and any(
        c.format.startswith("https://tinfoil.sh/collateral/sigstore-") for c in doc.collateral
    ):
        rec.skip(
            "binding.code_provenance",
            "Sigstore code provenance in the document is not verified by teeclient; "
            "pin the measurements in the policy",
        )
    checks = [*rec.checks, *collateral_checks(everything.items, gathered.unavailable)]
    appraisal = appraise(claims, resolved, now, global_checks=checks)
    identity = None
    if appraisal.accepted:
        if hpke is None:
            raise KeysNotBoundError(
                "the document binds no HPKE key",
                platform="tinfoil",
                field="crypto_material",
                expected="an x25519-hpke item",
            )
        if ledger is not None and nonce is not None and v3:
            ledger.consume(nonce)
        identity = EnclaveIdentity(
            endpoint=endpoint,
            layout=layout,
            platform=doc.platform,
            measurements=_measurements(claims),
            devices=_device_summary([p for c in claims for p in _parts(c)]),
            verified_at=now,
            expires_at=now + resolved.freshness.identity_lifetime,
            document_sha256=hashlib.sha256(doc.raw).hexdigest(),
            nonce=doc.nonce if isinstance(doc, TinfoilV3Document) else None,
            hpke_public_key=hpke,
            tls_spki_sha256=tls,
            appraisal=appraisal,
        )
    return AttestationResult(
        document=doc, appraisal=appraisal, identity=identity, gathered=gathered
    )


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


def tinfoil_attestation_url(endpoint: str, nonce: bytes | None) -> str:
    """The Tinfoil document URL: v3 for ``nonce``, v2 (static) when ``nonce`` is None.

    Raises:
        UsageError: not an absolute http(s) URL.
    """
    url = attestation_url(endpoint, nonce or bytes(NONCE_SIZE))
    parts = urlsplit(url)
    path = parts.path.removesuffix(WELL_KNOWN_PATH) + TINFOIL_WELL_KNOWN_PATH
    query = f"nonce={nonce.hex()}" if nonce is not None else ""
    return urlunsplit((parts.scheme, parts.netloc, path, query, ""))


def _document_url(endpoint: str, nonce: bytes | None, layout: str) -> str:
    """Where ``layout`` serves its attestation document for ``nonce``."""
    if layout == "tinfoil-v2":
        return tinfoil_attestation_url(endpoint, None)
    if nonce is None or layout not in ("teeclient-v1", "tinfoil-v3"):
        raise UsageError(
            "a nonce and a known layout are required",
            field="layout",
            expected="teeclient-v1, tinfoil-v3 (with a nonce) or tinfoil-v2",
            actual=layout,
        )
    if layout == "tinfoil-v3":
        return tinfoil_attestation_url(endpoint, nonce)
    return attestation_url(endpoint, nonce)


class _BoundedBody:
    """Collects an attestation response body: 200 only, at most MAX_RESPONSE_BYTES."""

    def __init__(self, url: str, status: int) -> None:
        if status != 200:
            raise TransportError(
                "the attestation endpoint did not answer 200",
                field=url,
                expected="HTTP 200",
                actual=f"HTTP {status}",
            )
        self.url = url
        self.chunks: list[bytes] = []
        self.size = 0

    def add(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > MAX_RESPONSE_BYTES:
            raise TransportError(
                "the attestation document is too large",
                field=self.url,
                expected=f"<= {MAX_RESPONSE_BYTES} bytes",
            )
        self.chunks.append(chunk)

    def body(self) -> bytes:
        return b"".join(self.chunks)


_ACCEPT_JSON = {"accept": "application/json"}


def fetch_attestation(
    endpoint: str, nonce: bytes | None, *, client: httpx.Client, layout: str = "teeclient-v1"
) -> bytes:
    """GET the attestation document for ``nonce`` (bounded, no redirects). ``layout``
    ``tinfoil-v3`` or ``tinfoil-v2`` fetches ``/.well-known/tinfoil-attestation`` instead
    (v2: without a nonce).

    Raises:
        TransportError: the request failed, was redirected, or the answer is not 200 or too
            large.
        UsageError: an unknown layout, or no nonce for a layout that answers one.
    """
    import httpx

    url = _document_url(endpoint, nonce, layout)
    try:
        with client.stream("GET", url, follow_redirects=False, headers=_ACCEPT_JSON) as response:
            collected = _BoundedBody(url, response.status_code)
            for chunk in response.iter_bytes():
                collected.add(chunk)
            return collected.body()
    except httpx.HTTPError as exc:
        raise TransportError(f"fetching the attestation document failed: {exc}", field=url) from exc


async def fetch_attestation_async(
    endpoint: str,
    nonce: bytes | None,
    *,
    client: httpx.AsyncClient,
    layout: str = "teeclient-v1",
) -> bytes:
    """``fetch_attestation`` with an ``httpx.AsyncClient``.

    Raises:
        TransportError: the request failed, was redirected, or the answer is not 200 or too
            large.
        UsageError: an unknown layout, or no nonce for a layout that answers one.
    """
    import httpx

    url = _document_url(endpoint, nonce, layout)
    try:
        async with client.stream(
            "GET", url, follow_redirects=False, headers=_ACCEPT_JSON
        ) as response:
            collected = _BoundedBody(url, response.status_code)
            async for chunk in response.aiter_bytes():
                collected.add(chunk)
            return collected.body()
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
