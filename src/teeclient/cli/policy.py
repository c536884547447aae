"""`teeclient policy lint|schema|show`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from teeclient.cli.exit_codes import ACCEPTED, REJECTED, USAGE
from teeclient.cli.render import LINT_SCHEMA, emit_json
from teeclient.errors import PolicyError, TeeclientError

__all__ = ["lint", "schema", "show"]


def lint(path: Path, strict: bool, json_output: bool) -> int:
    """Validate a policy; report errors (exit 2) and advisory warnings (exit 1 with --strict)."""
    from teeclient.policy.lint import lint_policy
    from teeclient.policy.load import load_policy

    try:
        policy = load_policy(path)
    except TeeclientError as exc:
        if json_output:
            emit_json(
                {
                    "schema": LINT_SCHEMA,
                    "file": str(path),
                    "valid": False,
                    "error": exc.to_dict(),
                    "warnings": [],
                }
            )
        else:
            where = ""
            if isinstance(exc, PolicyError) and exc.line is not None:
                where = f"{path}:{exc.line}: "
            sys.stderr.write(f"{where or f'{path}: '}error {exc.code}: {exc.message}\n")
            for key in ("field", "expected", "actual"):
                value = getattr(exc, key)
                if value is not None:
                    sys.stderr.write(f"  {key:<8} {value}\n")
        return USAGE
    warnings = lint_policy(policy)
    if json_output:
        emit_json(
            {
                "schema": LINT_SCHEMA,
                "file": str(path),
                "valid": True,
                "error": None,
                "warnings": [w.to_dict() for w in warnings],
            }
        )
    else:
        for w in warnings:
            sys.stdout.write(f"{path}: warning {w.code}: {w.message}\n")
        sections = [
            s
            for s in ("sev_snp", "tdx", "nitro", "nvidia_gpu", "nvidia_switch")
            if getattr(policy, s) is not None
        ]
        sys.stdout.write(
            f"{path}: valid policy{f' {policy.name!r}' if policy.name else ''}; sections: "
            f"{', '.join(sections) or 'none'}; {len(warnings)} warning(s)\n"
        )
    return REJECTED if strict and warnings else ACCEPTED


def schema() -> int:
    """Print the policy JSON Schema."""
    from teeclient.policy.model import policy_json_schema

    sys.stdout.write(json.dumps(policy_json_schema(), indent=2) + "\n")
    return ACCEPTED


def show(name: str) -> int:
    """Print a built-in policy."""
    from teeclient.policy.load import BASELINE_NAME, baseline_text

    if name != BASELINE_NAME:
        sys.stderr.write(f"teeclient: no built-in policy {name!r} (known: {BASELINE_NAME})\n")
        return USAGE
    sys.stdout.write(baseline_text())
    return ACCEPTED
