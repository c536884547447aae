"""teeclient.verify() and friends: evidence (or a bundle) + collateral + policy → Appraisal.

This is the edge where the wall clock, the shipped trust store and the baseline policy are
filled in when the caller does not pass them, and where collateral is planned, fetched (only
through a ``Fetcher`` the caller passes) and bundled. Everything below it is pure.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING

from teeclient._time import require_aware, utc_now
from teeclient.bundle import Bundle, BundleEvidence, is_bundle
from teeclient.collateral.gather import Gathered, Progress, gather
from teeclient.collateral.items import CollateralItem, CollateralRequest, CollateralSet
from teeclient.collateral.settings import CollateralSettings
from teeclient.errors import CollateralError, InputError, ParseError, UsageError
from teeclient.platforms import (
    VerifyOptions,
    detect_platform,
    plan_collateral,
    plan_rounds,
    verify_evidence,
)
from teeclient.policy.appraise import appraise
from teeclient.policy.checks.collateral import collateral_checks
from teeclient.policy.load import load_baseline, load_policy
from teeclient.policy.model import Policy, RevocationMode
from teeclient.policy.result import Appraisal, Claims
from teeclient.trust import TrustStore

if TYPE_CHECKING:
    from teeclient.collateral.fetch import Fetcher

__all__ = [
    "MAX_EVIDENCE_BYTES",
    "Evidence",
    "as_collateral_set",
    "build_fetcher",
    "bundle_nonce",
    "collect_collateral",
    "load_evidence",
    "load_input",
    "make_bundle",
    "resolve_policy",
    "revocation_need",
    "verify",
    "verify_bundle",
    "verify_claims",
]

MAX_EVIDENCE_BYTES = 16 * 1024 * 1024
#: Upper bound on planning rounds in ``collect_collateral`` (NVIDIA uses two: RIMs, then OCSP
#: for their signing chains).
MAX_PLAN_ROUNDS = 3

# Platforms whose verifier compares the caller's nonce with the evidence (and the sizes they
# accept); for the others a nonce is refused rather than silently ignored (SEV-SNP and TDX:
# pin report_data in the policy, or use the teeclient.attestation/v1 binding).
_NONCE_SIZES: dict[str, tuple[int, int]] = {"nitro": (1, 1024), "nvidia": (32, 32)}

CollateralInput = CollateralSet | Iterable[CollateralItem | bytes | str | Path]
PolicyInput = Policy | str | Path | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Evidence:
    """Evidence bytes, where they came from, and the platform recognised from their content."""

    data: bytes
    source: str
    platform: str


def _read(path: Path, origin: str) -> bytes:
    try:
        if path.stat().st_size > MAX_EVIDENCE_BYTES * 4:
            raise InputError(
                "input file too large", field=origin, expected=f"<= {MAX_EVIDENCE_BYTES * 4} bytes"
            )
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read input: {exc.strerror}", field=origin) from exc


def _recognise(data: bytes, origin: str) -> Evidence:
    if len(data) > MAX_EVIDENCE_BYTES:
        raise InputError("evidence too large", field=origin, expected=f"<= {MAX_EVIDENCE_BYTES}")
    platform = detect_platform(data)
    if platform is None:
        raise InputError(
            "not a kind of evidence teeclient recognises",
            field=origin,
            expected="an SEV-SNP report (raw, extended or Azure HCL), an Intel TDX quote (v4 or "
            "v5), an AWS Nitro attestation document (COSE_Sign1), NVIDIA GPU/NVSwitch evidence "
            "(SPDM report, nvattest/NRAS JSON, detached EAT) or a teeclient bundle",
            actual=f"{len(data)} bytes starting {data[:8].hex()}",
        )
    return Evidence(data=data, source=origin, platform=platform)


def load_evidence(evidence: bytes | str | Path, *, source: str | None = None) -> Evidence:
    """Read evidence (bytes or a file path) and recognise its platform.

    Raises:
        InputError: unreadable, too large, or not a kind of evidence teeclient knows.
    """
    if isinstance(evidence, bytes | bytearray | memoryview):
        return _recognise(bytes(evidence), source or "<bytes>")
    path = Path(evidence)
    return _recognise(_read(path, source or str(path)), source or str(path))


def load_input(path: str | Path) -> Evidence | Bundle:
    """Read a file that is either evidence or a ``teeclient.bundle/v1``.

    Raises:
        InputError: unreadable or unrecognised.
        ParseError: a malformed bundle.
    """
    p = Path(path)
    data = _read(p, str(p))
    if is_bundle(data):
        return Bundle.from_json(data)
    return _recognise(data, str(p))


def as_collateral_set(items: CollateralInput) -> CollateralSet:
    """Any accepted collateral input (set, items, bytes, paths) as a CollateralSet."""
    if isinstance(items, CollateralSet):
        return items
    out: list[CollateralItem] = []
    for item in items:
        if isinstance(item, CollateralItem):
            out.append(item)
        elif isinstance(item, bytes):
            out.append(CollateralItem(data=item, source=f"<bytes #{len(out)}>"))
        else:
            out.append(CollateralItem.from_file(item))
    return CollateralSet.of(out)


def resolve_policy(policy: PolicyInput) -> Policy:
    """A Policy, a policy file path, or None (the baseline) as a Policy."""
    if policy is None:
        return load_baseline()
    if isinstance(policy, Policy):
        return policy
    return load_policy(policy)


def revocation_need(policy: Policy, platform: str) -> str:
    """How the platform's revocation collateral must be obtained under ``policy``.

    ``[revocation]`` ``amd_crl`` (SEV-SNP), ``intel_crl`` (TDX: PCK and root CA CRLs) or
    ``nvidia_ocsp`` (NVIDIA: OCSP answers): ``require`` and ``allow-stale-until`` → ``fetch``
    (required, may use the network), ``if-present`` → ``cached`` (only from a bundle or the
    cache), ``off`` → ``off``. Other platforms: ``cached``.
    """
    if platform == "sev-snp":
        mode = policy.revocation.amd_crl.mode
    elif platform == "tdx":
        mode = policy.revocation.intel_crl.mode
    elif platform == "nvidia":
        mode = policy.revocation.nvidia_ocsp.mode
    else:
        return "cached"
    if mode in (RevocationMode.REQUIRE, RevocationMode.ALLOW_STALE):
        return "fetch"
    if mode is RevocationMode.OFF:
        return "off"
    return "cached"


def build_fetcher(
    settings: CollateralSettings | None = None,
    *,
    offline: bool = False,
    policy: Policy | None = None,
) -> Fetcher:
    """The standard fetcher: disk cache (unless disabled) over HTTP (or nothing, offline).

    ``policy``'s ``[collateral] max_staleness`` sets the stale-if-error grace.
    """
    from teeclient.collateral.cache import CachingFetcher, DiskCache
    from teeclient.collateral.fetch import HttpFetcher, OfflineFetcher

    settings = settings if settings is not None else CollateralSettings()
    inner: Fetcher = OfflineFetcher() if offline else HttpFetcher(settings=settings)
    if not settings.use_cache:
        return inner
    grace = policy.collateral.max_staleness if policy is not None else settings.stale_grace
    return CachingFetcher(
        inner,
        DiskCache(settings.resolved_cache_dir()),
        default_ttl=settings.default_ttl,
        stale_grace=grace,
    )


def collect_collateral(
    evidence: Evidence,
    *,
    supplied: CollateralSet,
    fetcher: Fetcher,
    revocation: str,
    product: str | None = None,
    settings: CollateralSettings | None = None,
    progress: Progress | None = None,
) -> Gathered:
    """Plan what ``evidence`` needs beyond ``supplied`` and fetch it.

    Planning is repeated with what was gathered counted as supplied, because some needs only
    appear once other items are at hand (NVIDIA: OCSP for a RIM's signing chain needs the RIM);
    it stops when a round plans nothing new, after the platform's ``plan_rounds`` (at most
    ``MAX_PLAN_ROUNDS``).

    Raises:
        CollateralError: a required item could not be obtained.
        ParseError: the evidence cannot even be framed for planning.
    """
    settings = settings if settings is not None else CollateralSettings()
    options = VerifyOptions(product=product)
    items: list[CollateralItem] = []
    unavailable: list[tuple[CollateralRequest, CollateralError]] = []
    planned: set[str] = set()
    for _ in range(min(MAX_PLAN_ROUNDS, plan_rounds(evidence.platform))):
        requests = plan_collateral(
            evidence.platform,
            evidence.data,
            supplied=CollateralSet(supplied.items + tuple(items)),
            options=options,
            settings=settings,
            revocation=revocation,
        )
        fresh: list[CollateralRequest] = []
        for request in requests:
            if request.key not in planned:
                planned.add(request.key)
                fresh.append(request)
        if not fresh:
            break
        gathered = gather(fresh, fetcher, progress=progress)
        items.extend(gathered.items)
        unavailable.extend(gathered.unavailable)
        if not gathered.items:
            break  # nothing new to plan from
    return Gathered(items=tuple(items), unavailable=tuple(unavailable))


def verify_claims(
    evidence: bytes | str | Path | Evidence,
    *,
    collateral: CollateralInput = (),
    trust: TrustStore | None = None,
    at: datetime | None = None,
    product: str | None = None,
    nonce: bytes | None = None,
) -> Claims:
    """Verify evidence cryptographically and return its claims (no policy, no fetching).

    ``nonce`` is the challenge the caller sent; evidence that carries a nonce must echo it
    (AWS Nitro ``nonce``, NVIDIA SPDM requests).

    Raises:
        EvidenceError, CollateralError, UsageError: see the platform's ``verify``.
        UsageError: ``nonce`` given for a platform whose verifier does not compare it.
    """
    ev = evidence if isinstance(evidence, Evidence) else load_evidence(evidence)
    now = require_aware(at) if at is not None else utc_now()
    if nonce is not None:
        sizes = _NONCE_SIZES.get(ev.platform)
        if sizes is None:
            raise UsageError(
                f"a nonce cannot be checked against {ev.platform} evidence here",
                field="nonce",
                expected="evidence of " + ", ".join(sorted(_NONCE_SIZES)),
                actual=ev.platform,
            )
        if not sizes[0] <= len(nonce) <= sizes[1]:
            raise UsageError(
                f"a {ev.platform} nonce has the wrong size",
                field="nonce",
                expected=f"{sizes[0]}–{sizes[1]} bytes",
                actual=f"{len(nonce)} bytes",
            )
    return verify_evidence(
        ev.platform,
        ev.data,
        collateral=as_collateral_set(collateral),
        trust=trust if trust is not None else TrustStore.default(),
        now=now,
        options=VerifyOptions(product=product, nonce=nonce),
    )


def _verify_with(
    ev: Evidence,
    supplied: CollateralSet,
    *,
    policy: Policy,
    trust: TrustStore | None,
    now: datetime,
    product: str | None,
    fetcher: Fetcher | None,
    settings: CollateralSettings | None,
    progress: Progress | None,
    nonce: bytes | None = None,
) -> tuple[Appraisal, Gathered]:
    gathered = Gathered(items=(), unavailable=())
    if fetcher is not None:
        gathered = collect_collateral(
            ev,
            supplied=supplied,
            fetcher=fetcher,
            revocation=revocation_need(policy, ev.platform),
            product=product,
            settings=settings,
            progress=progress,
        )
    everything = CollateralSet(supplied.items + gathered.items)
    claims = verify_claims(
        ev, collateral=everything, trust=trust, at=now, product=product, nonce=nonce
    )
    checks = collateral_checks(everything.items, gathered.unavailable)
    return appraise([claims], policy, now, global_checks=checks), gathered


def verify(
    evidence: bytes | str | Path | Evidence,
    *,
    collateral: CollateralInput = (),
    policy: PolicyInput = None,
    trust: TrustStore | None = None,
    at: datetime | None = None,
    product: str | None = None,
    fetcher: Fetcher | None = None,
    settings: CollateralSettings | None = None,
    nonce: bytes | None = None,
) -> Appraisal:
    """Verify evidence and appraise it against a policy (the baseline if none is given).

    ``nonce`` is the 32-byte challenge the evidence must carry where the platform binds one
    directly (NVIDIA SPDM requests).

    Collateral that is not supplied is fetched only through ``fetcher`` (see
    ``build_fetcher``); without one, verification is offline. Returns the Appraisal whether
    the policy accepts or not (``appraisal.accepted``).

    Raises:
        EvidenceError: the evidence is not authentic or not consistent.
        CollateralError: collateral is missing, unobtainable or not authentic.
        UsageError / ConfigError: bad input files, policy or arguments.
    """
    now = require_aware(at) if at is not None else utc_now()
    ev = evidence if isinstance(evidence, Evidence) else load_evidence(evidence)
    appraisal, _ = _verify_with(
        ev,
        as_collateral_set(collateral),
        policy=resolve_policy(policy),
        trust=trust,
        now=now,
        product=product,
        fetcher=fetcher,
        settings=settings,
        progress=None,
        nonce=nonce,
    )
    return appraisal


def bundle_evidence(bundle: Bundle) -> Evidence:
    """The evidence recorded in a bundle (recognised again from its bytes).

    Raises:
        InputError: the bundle carries no evidence teeclient recognises.
    """
    if bundle.evidence is None:
        raise InputError(
            "bundle carries no CPU evidence", field="evidence", expected="evidence", actual="none"
        )
    ev = _recognise(bundle.evidence.data, bundle.evidence.source)
    if ev.platform != bundle.evidence.platform:
        raise InputError(
            "bundle evidence platform does not match its content",
            field="evidence.platform",
            expected=ev.platform,
            actual=bundle.evidence.platform,
        )
    return ev


def bundle_nonce(bundle: Bundle, platform: str) -> bytes | None:
    """The challenge a bundle recorded, for platforms whose verifier compares one (NVIDIA,
    Nitro); None for the others or when none was recorded.

    Raises:
        ParseError: the recorded nonce is not hex.
    """
    if bundle.nonce is None or platform not in _NONCE_SIZES:
        return None
    try:
        return bytes.fromhex(bundle.nonce)
    except ValueError as exc:
        raise ParseError(
            "bundle nonce is not hex", platform="bundle", field="nonce", actual=bundle.nonce[:80]
        ) from exc


def verify_bundle(
    bundle: Bundle | str | Path,
    *,
    policy: PolicyInput = None,
    trust: TrustStore | None = None,
    at: datetime | None = None,
    fetcher: Fetcher | None = None,
    nonce: bytes | None = None,
) -> Appraisal:
    """Re-verify a bundle at its capture time (or ``at``); offline unless ``fetcher`` is given.

    ``nonce`` defaults to the challenge the bundle recorded (``bundle_nonce``).

    Raises:
        ParseError: a malformed bundle. See ``verify`` for the rest.
    """
    if not isinstance(bundle, Bundle):
        loaded = load_input(bundle)
        if not isinstance(loaded, Bundle):
            raise InputError(
                "not a teeclient bundle",
                field=str(bundle),
                expected="teeclient.bundle/v1",
                actual=loaded.platform,
            )
        bundle = loaded
    now = require_aware(at) if at is not None else bundle.captured_at
    evidence = bundle_evidence(bundle)
    appraisal, _ = _verify_with(
        evidence,
        CollateralSet(bundle.collateral),
        policy=resolve_policy(policy),
        trust=trust,
        now=now,
        product=bundle.options.get("product"),
        fetcher=fetcher,
        settings=None,
        progress=None,
        nonce=nonce if nonce is not None else bundle_nonce(bundle, evidence.platform),
    )
    return appraisal


def make_bundle(
    evidence: Evidence,
    *,
    supplied: CollateralSet,
    gathered: Sequence[CollateralItem],
    captured_at: datetime,
    product: str | None = None,
    target: str | None = None,
    nonce: bytes | None = None,
) -> Bundle:
    """A bundle of ``evidence`` with every collateral item, exactly as obtained, and the
    challenge ``nonce`` that was sent for it (if any)."""
    options = {"product": product} if product else {}
    return Bundle(
        captured_at=require_aware(captured_at),
        target=target or evidence.source,
        nonce=nonce.hex() if nonce is not None else None,
        evidence=BundleEvidence(
            platform=evidence.platform, data=evidence.data, source=evidence.source
        ),
        options=MappingProxyType(options),
        collateral=tuple(supplied.items) + tuple(gathered),
    )


def verify_with_details(
    evidence: Evidence,
    supplied: CollateralSet,
    *,
    policy: Policy,
    now: datetime,
    product: str | None,
    fetcher: Fetcher | None,
    settings: CollateralSettings | None = None,
    trust: TrustStore | None = None,
    progress: Progress | None = None,
    nonce: bytes | None = None,
) -> tuple[Appraisal, Gathered]:
    """``verify`` that also returns what was gathered (for bundles and the CLI)."""
    return _verify_with(
        evidence,
        supplied,
        policy=policy,
        trust=trust,
        now=now,
        product=product,
        fetcher=fetcher,
        settings=settings,
        progress=progress,
        nonce=nonce,
    )
