"""teeclient.verify(): evidence file + collateral + policy → Appraisal (the CLI's `verify` job).

This is the edge where the wall clock, the shipped trust store and the baseline policy are
filled in when the caller does not pass them; everything below it is pure.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from teeclient._time import require_aware, utc_now
from teeclient.collateral.items import CollateralItem, CollateralSet
from teeclient.errors import InputError, UsageError
from teeclient.platforms import VerifyOptions, detect_platform, verify_evidence
from teeclient.policy.appraise import appraise
from teeclient.policy.load import load_baseline, load_policy
from teeclient.policy.model import Policy
from teeclient.policy.result import Appraisal, Claims
from teeclient.trust import TrustStore

__all__ = ["MAX_EVIDENCE_BYTES", "Evidence", "load_evidence", "verify", "verify_claims"]

MAX_EVIDENCE_BYTES = 16 * 1024 * 1024
# Platforms whose verifier compares VerifyOptions.nonce with the evidence; for the others a
# nonce is refused rather than silently ignored (SEV-SNP: pin report_data in the policy).
_NONCE_PLATFORMS = frozenset({"nitro"})

CollateralInput = CollateralSet | Iterable[CollateralItem | bytes | str | Path]
PolicyInput = Policy | str | Path | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Evidence:
    """Evidence bytes, where they came from, and the platform recognised from their content."""

    data: bytes
    source: str
    platform: str


def load_evidence(evidence: bytes | str | Path, *, source: str | None = None) -> Evidence:
    """Read evidence (bytes or a file path) and recognise its platform.

    Raises:
        InputError: unreadable, too large, or not a kind of evidence teeclient knows.
    """
    if isinstance(evidence, bytes | bytearray | memoryview):
        data = bytes(evidence)
        origin = source or "<bytes>"
    else:
        path = Path(evidence)
        origin = source or str(path)
        try:
            if path.stat().st_size > MAX_EVIDENCE_BYTES:
                raise InputError("evidence file too large", field=origin,
                                 expected=f"<= {MAX_EVIDENCE_BYTES} bytes")  # fmt: skip
            data = path.read_bytes()
        except OSError as exc:
            raise InputError(f"cannot read evidence: {exc.strerror}", field=origin) from exc
    if len(data) > MAX_EVIDENCE_BYTES:
        raise InputError("evidence too large", field=origin, expected=f"<= {MAX_EVIDENCE_BYTES}")
    platform = detect_platform(data)
    if platform is None:
        raise InputError(
            "not a kind of evidence teeclient recognises",
            field=origin,
            expected="an SEV-SNP report (raw, extended or Azure HCL) or an AWS Nitro "
            "attestation document (COSE_Sign1)",
            actual=f"{len(data)} bytes starting {data[:8].hex()}",
        )
    return Evidence(data=data, source=origin, platform=platform)


def _collateral(items: CollateralInput) -> CollateralSet:
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


def _policy(policy: PolicyInput) -> Policy:
    if policy is None:
        return load_baseline()
    if isinstance(policy, Policy):
        return policy
    return load_policy(policy)


def verify_claims(
    evidence: bytes | str | Path | Evidence,
    *,
    collateral: CollateralInput = (),
    trust: TrustStore | None = None,
    at: datetime | None = None,
    product: str | None = None,
    nonce: bytes | None = None,
) -> Claims:
    """Verify evidence cryptographically and return its claims (no policy).

    ``nonce`` is the challenge the caller sent; evidence that carries a nonce must echo it
    (AWS Nitro ``nonce``).

    Raises:
        EvidenceError, CollateralError, UsageError: see the platform's ``verify``.
        UsageError: ``nonce`` given for a platform whose verifier does not compare it.
    """
    ev = evidence if isinstance(evidence, Evidence) else load_evidence(evidence)
    now = require_aware(at) if at is not None else utc_now()
    if nonce is not None and ev.platform not in _NONCE_PLATFORMS:
        raise UsageError(
            f"a nonce cannot be checked against {ev.platform} evidence here",
            field="nonce",
            expected="evidence of " + ", ".join(sorted(_NONCE_PLATFORMS)),
            actual=ev.platform,
        )
    return verify_evidence(
        ev.platform,
        ev.data,
        collateral=_collateral(collateral),
        trust=trust if trust is not None else TrustStore.vendor(),
        now=now,
        options=VerifyOptions(product=product, nonce=nonce),
    )


def verify(
    evidence: bytes | str | Path | Evidence,
    *,
    collateral: CollateralInput = (),
    policy: PolicyInput = None,
    trust: TrustStore | None = None,
    at: datetime | None = None,
    product: str | None = None,
    nonce: bytes | None = None,
) -> Appraisal:
    """Verify evidence and appraise it against a policy (the baseline if none is given).

    Returns the Appraisal whether the policy accepts or not (``appraisal.accepted``); raises
    only when the evidence cannot be verified.

    Raises:
        EvidenceError: the evidence is not authentic or not consistent.
        CollateralError: collateral is missing or not authentic.
        UsageError / ConfigError: bad input files, policy or arguments.
    """
    now = require_aware(at) if at is not None else utc_now()
    resolved = _policy(policy)
    claims = verify_claims(
        evidence, collateral=collateral, trust=trust, at=now, product=product, nonce=nonce
    )
    return appraise([claims], resolved, now)
