"""`policy test`: recorded bundles with expected outcomes, appraised offline against a policy.

A *case* is a ``case.toml`` (or ``NAME.case.toml``) file next to a ``teeclient.bundle/v1``::

    name = "genoa production image"      # optional; default: the case file's path
    bundle = "bundle.json"               # relative to the case file (default bundle.json)
    expect = "rejected"                  # accepted | rejected | error
    fail = ["sev_snp.measurement"]       # rejected: exactly these check ids fail
    warn = ["tdx.tcb_status"]            # optional: these ids must (at least) warn
    error = "tdx.collateral_missing"     # expect = "error": the error code
    at = 2026-01-01T00:00:00Z            # optional: verify at this time, not the capture time
    allow_other_failures = false         # rejected: tolerate failing ids beyond `fail`
    description = "why this case exists"

Every case is verified with no network (collateral only from the bundle) and appraised
against the one policy under test. A case whose outcome differs in any way from what it
expects is a *surprise*; ``run_cases`` reports every case and ``junit_xml`` renders the
results for CI systems.
"""

from __future__ import annotations

import time
import tomllib
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from teeclient._time import iso, require_aware
from teeclient.bundle import Bundle
from teeclient.collateral.items import CollateralSet
from teeclient.errors import InputError, PolicyTestCaseError, TeeclientError
from teeclient.policy.model import Policy
from teeclient.policy.result import Appraisal, CheckStatus

__all__ = [
    "CASE_SCHEMA",
    "Case",
    "CaseResult",
    "appraise_bundle",
    "discover_cases",
    "junit_xml",
    "load_case",
    "run_case",
    "run_cases",
]

CASE_SCHEMA = "teeclient.policy-test/v1"
OUTCOMES = ("accepted", "rejected", "error")
MAX_CASES = 2000
MAX_CASE_BYTES = 64 * 1024
_NONCE_PLATFORMS = ("nitro", "nvidia")
_KEYS = {
    "name",
    "bundle",
    "expect",
    "fail",
    "warn",
    "error",
    "at",
    "allow_other_failures",
    "description",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Case:
    """One test case: a bundle and what the policy must do with it."""

    name: str
    file: Path
    bundle: Path
    expect: str
    fail: tuple[str, ...] = ()
    warn: tuple[str, ...] = ()
    error: str | None = None
    at: datetime | None = None
    allow_other_failures: bool = False
    description: str | None = None

    def expectation(self) -> str:
        """Human form of the expected outcome."""
        if self.expect == "rejected" and self.fail:
            return f"rejected [{', '.join(self.fail)}]"
        if self.expect == "error" and self.error:
            return f"error {self.error}"
        return self.expect


@dataclass(frozen=True, slots=True, kw_only=True)
class CaseResult:
    """What happened to one case."""

    case: Case
    outcome: str
    failed: tuple[str, ...] = ()
    warned: tuple[str, ...] = ()
    error_code: str | None = None
    error_message: str | None = None
    problems: tuple[str, ...] = ()
    seconds: float = 0.0
    platform: str | None = None
    at: datetime | None = None
    explanations: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        """True when the outcome is exactly what the case expects."""
        return not self.problems

    def observed(self) -> str:
        """Human form of what happened."""
        if self.outcome == "rejected":
            return f"rejected [{', '.join(self.failed)}]"
        if self.outcome == "error":
            return f"error {self.error_code}"
        return self.outcome

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "name": self.case.name,
            "file": str(self.case.file),
            "bundle": str(self.case.bundle),
            "platform": self.platform,
            "at": iso(self.at) if self.at else None,
            "expected": {
                "outcome": self.case.expect,
                "fail": list(self.case.fail),
                "warn": list(self.case.warn),
                "error": self.case.error,
            },
            "observed": {
                "outcome": self.outcome,
                "fail": list(self.failed),
                "warn": list(self.warned),
                "error": self.error_code,
            },
            "ok": self.ok,
            "problems": list(self.problems),
            "seconds": round(self.seconds, 4),
        }


def _strings(doc: dict[str, Any], key: str, path: Path) -> tuple[str, ...]:
    value = doc.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise PolicyTestCaseError(
            f"{key} must be a list of check ids", field=f"{path}:{key}", actual=repr(value)[:80]
        )
    return tuple(dict.fromkeys(value))


def load_case(path: Path, *, root: Path | None = None) -> Case:
    """Read one case file.

    Raises:
        PolicyTestCaseError: unreadable, not TOML, unknown keys, wrong types, a missing
            bundle file, or an inconsistent expectation.
    """
    try:
        if path.stat().st_size > MAX_CASE_BYTES:
            raise PolicyTestCaseError("case file too large", field=str(path))
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PolicyTestCaseError(f"cannot read case: {exc.strerror}", field=str(path)) from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise PolicyTestCaseError(f"case is not valid TOML: {exc}", field=str(path)) from exc
    unknown = sorted(set(doc) - _KEYS)
    if unknown:
        raise PolicyTestCaseError(
            f"unknown key {unknown[0]!r} in case file",
            field=str(path),
            expected="one of " + ", ".join(sorted(_KEYS)),
            actual=unknown[0],
        )
    expect = doc.get("expect")
    if expect not in OUTCOMES:
        raise PolicyTestCaseError(
            "expect must be accepted, rejected or error",
            field=f"{path}:expect",
            expected=" | ".join(OUTCOMES),
            actual=repr(expect),
        )
    fail = _strings(doc, "fail", path)
    warn = _strings(doc, "warn", path)
    error = doc.get("error")
    if (fail and expect != "rejected") or (error is not None and expect != "error"):
        raise PolicyTestCaseError(
            "fail goes with expect = rejected, error with expect = error", field=str(path)
        )
    if error is not None and not isinstance(error, str):
        raise PolicyTestCaseError("error must be an error code string", field=f"{path}:error")
    at = doc.get("at")
    if at is not None:
        if isinstance(at, str):
            try:
                at = datetime.fromisoformat(at.replace("Z", "+00:00"))
            except ValueError as exc:
                raise PolicyTestCaseError("at is not RFC 3339", field=f"{path}:at") from exc
        if not isinstance(at, datetime) or at.tzinfo is None:
            raise PolicyTestCaseError(
                "at must be a date-time with a timezone", field=f"{path}:at", actual=repr(at)
            )
        at = require_aware(at)
    bundle_name = doc.get("bundle", "bundle.json")
    if not isinstance(bundle_name, str):
        raise PolicyTestCaseError("bundle must be a file name", field=f"{path}:bundle")
    bundle = (path.parent / bundle_name).resolve()
    if not bundle.is_file():
        raise PolicyTestCaseError(
            "the case's bundle file does not exist", field=f"{path}:bundle", actual=str(bundle)
        )
    other = doc.get("allow_other_failures", False)
    name = doc.get("name")
    description = doc.get("description")
    if not isinstance(other, bool) or not isinstance(name, str | None):
        raise PolicyTestCaseError("wrong type for name or allow_other_failures", field=str(path))
    if name is None:
        name = str(path.relative_to(root)) if root is not None else str(path)
        name = name.removesuffix("/case.toml").removesuffix(".case.toml")
    return Case(
        name=name,
        file=path,
        bundle=bundle,
        expect=str(expect),
        fail=fail,
        warn=warn,
        error=error,
        at=at,
        allow_other_failures=other,
        description=str(description) if description is not None else None,
    )


def discover_cases(directory: Path) -> list[Case]:
    """Every ``case.toml`` / ``*.case.toml`` under ``directory``, sorted by path.

    Raises:
        PolicyTestCaseError: the directory has no cases, too many, or an invalid one.
    """
    if not directory.is_dir():
        raise PolicyTestCaseError("cases directory not found", field=str(directory))
    files = sorted(
        p
        for p in directory.rglob("*.toml")
        if p.name == "case.toml" or p.name.endswith(".case.toml")
    )
    if not files:
        raise PolicyTestCaseError(
            "no case files found",
            field=str(directory),
            expected="case.toml or NAME.case.toml files",
        )
    if len(files) > MAX_CASES:
        raise PolicyTestCaseError(
            "too many cases", field=str(directory), expected=f"<= {MAX_CASES}"
        )
    return [load_case(p, root=directory) for p in files]


def appraise_bundle(bundle: Bundle, policy: Policy, *, at: datetime | None = None) -> Appraisal:
    """Verify a bundle with no network at ``at`` (default: its capture time) and appraise it.

    The bundle's recorded nonce is the challenge for platforms whose evidence echoes one
    (AWS Nitro, NVIDIA).

    Raises:
        TeeclientError: whatever verification raises (evidence, collateral, usage).
    """
    from teeclient.verification import bundle_evidence, verify_with_details

    evidence = bundle_evidence(bundle)
    nonce = None
    if bundle.nonce and evidence.platform in _NONCE_PLATFORMS:
        try:
            nonce = bytes.fromhex(bundle.nonce)
        except ValueError as exc:
            raise InputError(
                "the bundle's nonce is not hex", field="nonce", actual=bundle.nonce[:80]
            ) from exc
    appraisal, _ = verify_with_details(
        evidence,
        CollateralSet(bundle.collateral),
        policy=policy,
        now=require_aware(at) if at is not None else bundle.captured_at,
        product=bundle.options.get("product"),
        fetcher=None,
        nonce=nonce,
    )
    return appraisal


def run_case(case: Case, policy: Policy) -> CaseResult:
    """Verify and appraise one case and compare with its expectation (never raises on a case)."""
    from teeclient.policy.explain import explain_appraisal
    from teeclient.verification import load_input

    started = time.perf_counter()
    platform = None
    at = case.at
    try:
        loaded = load_input(case.bundle)
        if not isinstance(loaded, Bundle):
            raise InputError(
                "a case needs a teeclient bundle",
                field=str(case.bundle),
                expected="teeclient.bundle/v1",
                actual=loaded.platform,
            )
        platform = loaded.evidence.platform if loaded.evidence is not None else None
        at = case.at or loaded.captured_at
        appraisal = appraise_bundle(loaded, policy, at=case.at)
    except TeeclientError as exc:
        result = CaseResult(
            case=case,
            outcome="error",
            error_code=exc.code,
            error_message=str(exc),
            platform=platform,
            at=at,
        )
        return _judge(result, time.perf_counter() - started)
    failed = tuple(dict.fromkeys(c.id for c in appraisal.with_status(CheckStatus.FAIL)))
    warned = tuple(dict.fromkeys(c.id for c in appraisal.with_status(CheckStatus.WARN)))
    lines = tuple(
        line for _, explained in explain_appraisal(appraisal) for line in explained.lines()
    )
    result = CaseResult(
        case=case,
        outcome="accepted" if appraisal.accepted else "rejected",
        failed=failed,
        warned=warned,
        platform=platform,
        at=appraisal.at,
        explanations=lines,
    )
    return _judge(result, time.perf_counter() - started)


def _judge(result: CaseResult, seconds: float) -> CaseResult:
    case = result.case
    problems: list[str] = []
    if result.outcome != case.expect:
        problems.append(f"expected {case.expectation()}, got {result.observed()}")
        if result.error_message:
            problems.append(result.error_message)
    elif case.expect == "rejected" and case.fail:
        missing = [c for c in case.fail if c not in result.failed]
        extra = [c for c in result.failed if c not in case.fail]
        if missing:
            problems.append("expected to fail but did not: " + ", ".join(missing))
        if extra and not case.allow_other_failures:
            problems.append("failed unexpectedly: " + ", ".join(extra))
    elif case.expect == "error" and case.error and result.error_code != case.error:
        problems.append(f"expected error {case.error}, got {result.error_code}")
    if case.warn and result.outcome != "error":
        missing = [c for c in case.warn if c not in result.warned]
        if missing:
            problems.append("expected to warn but did not: " + ", ".join(missing))
    return replace(result, problems=tuple(problems), seconds=seconds)


def run_cases(cases: Sequence[Case], policy: Policy) -> list[CaseResult]:
    """Run every case against ``policy``."""
    return [run_case(case, policy) for case in cases]


def junit_xml(results: Sequence[CaseResult], *, suite: str, timestamp: datetime) -> bytes:
    """JUnit XML (the common Ant/Surefire form GitHub, GitLab and Jenkins read).

    A surprise is a ``<failure>``; the case's explanations go to ``<system-out>``.
    """
    failures = sum(1 for r in results if not r.ok)
    total = sum(r.seconds for r in results)
    root = ET.Element(
        "testsuites",
        {"name": "teeclient policy test", "tests": str(len(results)), "failures": str(failures)},
    )
    node = ET.SubElement(
        root,
        "testsuite",
        {
            "name": suite,
            "tests": str(len(results)),
            "failures": str(failures),
            "errors": "0",
            "skipped": "0",
            "time": f"{total:.3f}",
            "timestamp": iso(timestamp),
        },
    )
    for result in results:
        case = ET.SubElement(
            node,
            "testcase",
            {
                "classname": f"teeclient.policy.{result.platform or 'unknown'}",
                "name": result.case.name,
                "file": str(result.case.file),
                "time": f"{result.seconds:.3f}",
            },
        )
        if not result.ok:
            failure = ET.SubElement(
                case,
                "failure",
                {"message": result.problems[0], "type": "teeclient.policy_test.surprise"},
            )
            failure.text = "\n".join(result.problems)
        out = [f"expected: {result.case.expectation()}", f"observed: {result.observed()}"]
        out.extend(result.explanations)
        ET.SubElement(case, "system-out").text = "\n".join(out)
    ET.indent(root)
    text: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return text + b"\n"
