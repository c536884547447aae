"""`teeclient policy test|init|diff`: CI checks on recorded bundles, starting policies, diffs."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

from teeclient.cli.exit_codes import ACCEPTED, REJECTED, USAGE, exit_code_for
from teeclient.cli.render import emit_json
from teeclient.errors import InputError, TeeclientError

__all__ = ["diff", "init", "test"]

TEST_SCHEMA = "teeclient.policy-test/v1"
DIFF_SCHEMA = "teeclient.policy-diff/v1"
INIT_SCHEMA = "teeclient.policy-init/v1"


def _fail(exc: TeeclientError, json_output: bool, schema: str) -> int:
    if json_output:
        emit_json({"schema": schema, "error": exc.to_dict()})
    else:
        sys.stderr.write(f"teeclient: {exc}\n")
    return exit_code_for(exc)


def _cell(text: str, width: int) -> str:
    return (text if len(text) <= width else text[: width - 1] + "…").ljust(width)


def test(
    policy_path: Path,
    cases_dir: Path,
    junit: Path | None,
    json_output: bool,
    explain: bool,
) -> int:
    """Run every case under ``cases_dir`` against the policy; 1 on any surprise."""
    from teeclient._time import iso, utc_now
    from teeclient.policy.load import load_policy
    from teeclient.policytest import discover_cases, junit_xml, run_cases

    started = utc_now()
    try:
        policy = load_policy(policy_path)
        cases = discover_cases(cases_dir)
    except TeeclientError as exc:
        return _fail(exc, json_output, TEST_SCHEMA)
    results = run_cases(cases, policy)
    surprises = [r for r in results if not r.ok]
    code = REJECTED if surprises else ACCEPTED
    if junit is not None:
        try:
            junit.write_bytes(
                junit_xml(results, suite=policy.name or str(policy_path), timestamp=started)
            )
        except OSError as exc:
            sys.stderr.write(f"teeclient: cannot write {junit}: {exc.strerror}\n")
            return USAGE
    if json_output:
        emit_json(
            {
                "schema": TEST_SCHEMA,
                "policy": {"source": policy.source, "name": policy.name, "sha256": policy.sha256},
                "at": iso(started),
                "cases": [r.to_dict() for r in results],
                "summary": {
                    "cases": len(results),
                    "as_expected": len(results) - len(surprises),
                    "surprises": len(surprises),
                },
                "exit_code": code,
                "error": None,
            }
        )
        return code
    out = sys.stdout
    out.write(
        f"teeclient policy test: {policy.name or policy_path} ({policy_path}) on {cases_dir}\n\n"
    )
    out.write(f"{'RESULT':<9} {'CASE':<34} {'PLATFORM':<9} {'EXPECTED':<30} OBSERVED\n")
    for r in results:
        status = "ok" if r.ok else "SURPRISE"
        out.write(
            f"{status:<9} {_cell(r.case.name, 34)} {_cell(r.platform or '-', 9)} "
            f"{_cell(r.case.expectation(), 30)} {r.observed()}\n"
        )
        for problem in r.problems:
            out.write(f"{'':<9} ! {problem}\n")
        if explain and (not r.ok or r.outcome == "rejected"):
            for line in r.explanations:
                out.write(f"{'':<9}   {line}\n")
    out.write(
        f"\n{len(results)} case(s): {len(results) - len(surprises)} as expected, "
        f"{len(surprises)} surprise(s)"
        + (f"; JUnit XML written to {junit}" if junit is not None else "")
        + "\n"
    )
    return code


def init(
    bundle_path: Path, output: Path | None, name: str | None, at: str | None, force: bool
) -> int:
    """Verify a bundle (offline) and write a policy pinning what it shows."""
    from teeclient._time import parse_time
    from teeclient.bundle import Bundle
    from teeclient.policy.appraise import appraise
    from teeclient.policy.init import initial_policy
    from teeclient.policy.load import parse_policy
    from teeclient.policy.result import CheckStatus
    from teeclient.verification import bundle_evidence, load_input, verify_claims

    try:
        loaded = load_input(bundle_path)
        if not isinstance(loaded, Bundle):
            raise InputError(
                "policy init needs a bundle (teeclient fetch or verify --save-bundle)",
                field=str(bundle_path),
                expected="teeclient.bundle/v1",
                actual=loaded.platform,
            )
        when: datetime = loaded.captured_at
        if at is not None:
            try:
                when = parse_time(at)
            except ValueError as exc:
                raise InputError("--at is not RFC 3339", field="--at", actual=at) from exc
        evidence = bundle_evidence(loaded)
        nonce = (
            bytes.fromhex(loaded.nonce)
            if loaded.nonce and evidence.platform in ("nitro", "nvidia")
            else None
        )
        claims = verify_claims(
            evidence,
            collateral=loaded.collateral,
            at=when,
            product=loaded.options.get("product"),
            nonce=nonce,
        )
        text, notes = initial_policy(
            [claims],
            name=name or f"{evidence.platform}-pinned",
            source=str(bundle_path),
            at=when,
        )
        # The written policy must accept the bundle it was made from.
        policy = parse_policy(text, source=str(output or "<policy init>"))
        appraisal = appraise([claims], policy, when)
        failing = [c.id for c in appraisal.checks if c.status is CheckStatus.FAIL]
    except TeeclientError as exc:
        return _fail(exc, False, INIT_SCHEMA)
    if failing:
        sys.stderr.write(
            "teeclient: internal error: the generated policy does not accept its own bundle "
            f"({', '.join(failing)}); please report this\n"
        )
        return USAGE
    if output is None:
        sys.stdout.write(text)
    else:
        if output.exists() and not force:
            sys.stderr.write(f"teeclient: {output} exists (use --force to overwrite)\n")
            return USAGE
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as exc:
            sys.stderr.write(f"teeclient: cannot write {output}: {exc.strerror}\n")
            return USAGE
        sys.stderr.write(f"wrote {output}: pins {evidence.platform} evidence of {bundle_path}\n")
    for note in notes:
        sys.stderr.write(f"review: {note}\n")
    return ACCEPTED


def diff(old: Path, new: Path, json_output: bool) -> int:
    """Explain what changed between two policies; exit 0 identical, 1 different."""
    from teeclient.policy.diff import diff_policies

    try:
        changes = diff_policies(old, new)
    except TeeclientError as exc:
        return _fail(exc, json_output, DIFF_SCHEMA)
    code = REJECTED if changes else ACCEPTED
    if json_output:
        emit_json(
            {
                "schema": DIFF_SCHEMA,
                "old": str(old),
                "new": str(new),
                "changes": [c.to_dict() for c in changes],
                "identical": not changes,
                "error": None,
            }
        )
        return code
    if not changes:
        sys.stdout.write(f"{old} and {new} are equivalent policies\n")
        return code
    sys.stdout.write(f"{len(changes)} change(s) from {old} to {new}:\n")
    for change in changes:
        sys.stdout.write(f"  - {change.text}\n")
    return code
