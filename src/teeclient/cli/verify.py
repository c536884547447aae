"""`teeclient verify`: evidence or bundle + collateral + policy → verdict, table or JSON."""

from __future__ import annotations

import hashlib
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from teeclient.cli.exit_codes import ACCEPTED, REJECTED, exit_code_for
from teeclient.cli.render import VerifyOutcome, emit_json, render_verify_human, verify_json
from teeclient.errors import TeeclientError, UsageError

if TYPE_CHECKING:
    from teeclient.policy.model import Policy
    from teeclient.policy.result import Appraisal
    from teeclient.trust import TrustStore

__all__ = ["VerifyArgs", "parse_nonce", "run"]


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifyArgs:
    """Parsed `verify` arguments."""

    evidence: Path
    collateral: list[Path]
    product: str | None
    at: str | None
    policy: Path | None
    json_output: bool
    offline: bool
    save_bundle: Path | None
    cache_dir: Path | None
    no_cache: bool
    kds_url: str | None
    pcs_url: str | None
    rim_url: str | None
    ocsp_url: str | None
    nonce: str | None = None
    trust: list[Path] | None = None
    explain: bool = False
    ear_key: Path | None = None
    ear_out: Path | None = None
    log: bool | None = None


_MAX_NONCE_BYTES = 1024


def parse_nonce(text: str | None) -> bytes | None:
    """``--nonce`` hex (optional 0x, case-insensitive) → bytes (1–1024 bytes).

    Raises:
        UsageError: not an even number of hex digits, empty, or longer than 1024 bytes.
    """
    if text is None:
        return None
    raw = text.strip().lower().removeprefix("0x")
    try:
        value = bytes.fromhex(raw)
    except ValueError as exc:
        raise UsageError(
            "--nonce is not hex",
            field="--nonce",
            expected="an even number of hex digits",
            actual=text[:80],
        ) from exc
    if not value or len(value) > _MAX_NONCE_BYTES or any(c.isspace() for c in raw):
        raise UsageError(
            "--nonce is empty, too long or contains spaces",
            field="--nonce",
            expected=f"1 to {_MAX_NONCE_BYTES} bytes of hex",
            actual=text[:80],
        )
    return value


def _parse_at(at: str | None) -> datetime | None:
    from teeclient._time import parse_time

    if at is None:
        return None
    try:
        return parse_time(at)
    except ValueError as exc:
        raise UsageError(
            "--at is not an RFC 3339 time with timezone",
            field="--at",
            expected="e.g. 2026-01-01T00:00:00Z",
            actual=at,
        ) from exc


def run(args: VerifyArgs) -> int:
    """Run the verify command; returns the exit code."""
    from teeclient._time import utc_now
    from teeclient.bundle import Bundle
    from teeclient.cli.common import Progress, collateral_settings
    from teeclient.collateral.items import CollateralSet
    from teeclient.policy.load import load_baseline, load_policy
    from teeclient.trust import TrustStore
    from teeclient.verification import (
        build_fetcher,
        bundle_evidence,
        bundle_nonce,
        load_input,
        make_bundle,
        verify_with_details,
    )

    state: dict[str, str] = {}
    policy = None
    when = None
    ear_key = None
    expected_nonce = None
    try:
        at = _parse_at(args.at)
        expected_nonce = parse_nonce(args.nonce)
        if args.ear_key is not None:
            from teeclient.ear import load_private_key

            ear_key = load_private_key(args.ear_key)
        policy = load_policy(args.policy) if args.policy is not None else load_baseline()
        # Test roots are trusted only from files named with --trust (never from elsewhere).
        trust = None
        for path in args.trust or []:
            trust = (trust or TrustStore.vendor()).with_trust_file(path)
        document = _document_bytes(args.evidence)
        if document is not None:
            return _run_document(
                args,
                document,
                policy=policy,
                at=at,
                nonce=expected_nonce,
                trust=trust,
                ear_key=ear_key,
            )
        loaded = load_input(args.evidence)
        supplied = CollateralSet.from_files(args.collateral)
        product = args.product
        if isinstance(loaded, Bundle):
            evidence = bundle_evidence(loaded)
            supplied = CollateralSet(loaded.collateral + supplied.items)
            bundled = loaded.options.get("product")
            if product is not None and bundled is not None and product != bundled:
                raise UsageError(
                    "--product contradicts the bundle",
                    field="--product",
                    expected=bundled,
                    actual=product,
                )
            product = product or bundled
            when = at or loaded.captured_at
            if expected_nonce is None:
                expected_nonce = bundle_nonce(loaded, evidence.platform)
            state["log_source"] = loaded.target
        else:
            evidence = loaded
            when = at or utc_now()
        state["source"] = evidence.source
        state["sha256"] = hashlib.sha256(evidence.data).hexdigest()
        state["platform"] = evidence.platform
        settings = collateral_settings(
            cache_dir=args.cache_dir,
            no_cache=args.no_cache,
            kds_url=args.kds_url,
            pcs_url=args.pcs_url,
            rim_url=args.rim_url,
            ocsp_url=args.ocsp_url,
        )
        fetcher = build_fetcher(settings, offline=args.offline, policy=policy)
        appraisal, gathered = verify_with_details(
            evidence,
            supplied,
            policy=policy,
            now=when,
            product=product,
            fetcher=fetcher,
            settings=settings,
            progress=Progress(enabled=not args.json_output),
            nonce=expected_nonce,
            trust=trust,
        )
        if args.save_bundle is not None:
            bundle = make_bundle(
                evidence,
                supplied=supplied,
                gathered=gathered.items,
                captured_at=when,
                product=product,
                nonce=expected_nonce,
            )
            args.save_bundle.write_bytes(bundle.to_json())
        from teeclient.cli.verify_extras import record_in_log

        appraisal = record_in_log(
            appraisal,
            enabled=args.log,
            source=state.get("log_source") or str(Path(evidence.source).resolve()),
            platform=evidence.platform,
            evidence_sha256=state["sha256"],
        )
        outcome = VerifyOutcome(
            evidence_source=evidence.source,
            evidence_sha256=state["sha256"],
            platform=evidence.platform,
            at=when,
            policy_name=policy.name,
            policy_source=policy.source,
            policy_sha256=policy.sha256,
            appraisal=appraisal,
            error=None,
            exit_code=ACCEPTED if appraisal.accepted else REJECTED,
        )
    except TeeclientError as exc:
        outcome = VerifyOutcome(
            evidence_source=state.get("source", str(args.evidence)),
            evidence_sha256=state.get("sha256"),
            platform=state.get("platform"),
            at=when,
            policy_name=policy.name if policy is not None else None,
            policy_source=policy.source if policy is not None else None,
            policy_sha256=policy.sha256 if policy is not None else None,
            appraisal=None,
            error=exc,
            exit_code=exit_code_for(exc),
        )
    return _finish(args, outcome, ear_key=ear_key, nonce=expected_nonce)


def _finish(args: VerifyArgs, outcome: VerifyOutcome, *, ear_key: Any, nonce: bytes | None) -> int:
    """Print the outcome (table or JSON, explanations, EAR token) and return the exit code."""
    from teeclient.cli.verify_extras import add_explanations, emit_ear, explain_text

    document = verify_json(outcome) if args.json_output else None
    if document is not None and args.explain:
        add_explanations(document, outcome)
    ear_nonce = nonce if outcome.appraisal is not None else None
    override = None
    if document is not None:
        if ear_key is not None:
            override = emit_ear(
                outcome, ear_key, output=args.ear_out, nonce=ear_nonce, document=document
            )
        emit_json(document)
    else:
        sys.stdout.write(render_verify_human(outcome, color=sys.stdout.isatty()))
        if args.explain:
            sys.stdout.write(explain_text(outcome))
        if outcome.error is not None:
            sys.stderr.write(f"teeclient: {outcome.error}\n")
        if ear_key is not None:
            override = emit_ear(
                outcome, ear_key, output=args.ear_out, nonce=ear_nonce, document=None
            )
    return override if override is not None else outcome.exit_code


def _document_bytes(path: Path) -> bytes | None:
    """The file's bytes if it is an attestation document (teeclient or Tinfoil), else None."""
    try:
        with path.open("rb") as handle:
            head = handle.read(4096)
            if head.lstrip()[:1] != b"{" or not (
                b"teeclient.attestation/" in head or b"https://tinfoil.sh/predicate/" in head
            ):
                return None
            data = head + handle.read(32 * 1024 * 1024)
    except OSError:
        return None  # load_input reports it
    from teeclient.tinfoil import is_tinfoil_document  # lazy: most inputs are not documents

    if is_tinfoil_document(data) or b'"teeclient.attestation/' in head:
        return data
    return None


def _run_document(
    args: VerifyArgs,
    data: bytes,
    *,
    policy: Policy,
    at: datetime | None,
    nonce: bytes | None,
    trust: TrustStore | None,
    ear_key: Any,
) -> int:
    """Verify a teeclient or Tinfoil attestation document file (offline unless fetching)."""
    from teeclient._time import utc_now
    from teeclient.attest import verify_document
    from teeclient.cli.common import collateral_settings
    from teeclient.collateral.items import CollateralSet
    from teeclient.document import AttestationDocument, parse_document
    from teeclient.tinfoil import is_tinfoil_document, parse_tinfoil_document
    from teeclient.verification import build_fetcher

    when = at or utc_now()
    digest = hashlib.sha256(data).hexdigest()
    platform: str | None = None
    try:
        supplied = CollateralSet.from_files(args.collateral)
        settings = collateral_settings(
            cache_dir=args.cache_dir,
            no_cache=args.no_cache,
            kds_url=args.kds_url,
            pcs_url=args.pcs_url,
            rim_url=args.rim_url,
            ocsp_url=args.ocsp_url,
        )
        parsed = parse_tinfoil_document(data) if is_tinfoil_document(data) else parse_document(data)
        platform = (
            parsed.cpu.platform if isinstance(parsed, AttestationDocument) else parsed.platform
        )
        result = verify_document(
            parsed,
            nonce=nonce,
            now=when,
            policy=policy,
            trust=trust,
            collateral=supplied,
            fetcher=build_fetcher(settings, offline=args.offline, policy=policy),
            settings=settings,
            endpoint=str(args.evidence),
        )
        appraisal: Appraisal | None = result.appraisal
        error: TeeclientError | None = None
        code = ACCEPTED if result.identity is not None else REJECTED
    except TeeclientError as exc:
        appraisal, error, code = None, exc, exit_code_for(exc)
    outcome = VerifyOutcome(
        evidence_source=str(args.evidence),
        evidence_sha256=digest,
        platform=platform,
        at=when,
        policy_name=policy.name,
        policy_source=policy.source,
        policy_sha256=policy.sha256,
        appraisal=appraisal,
        error=error,
        exit_code=code,
    )
    return _finish(args, outcome, ear_key=ear_key, nonce=nonce)
