"""The error hierarchy: stable dotted codes, documented, one exit code per class."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from teeclient import errors
from teeclient.cli import exit_codes
from teeclient.cli.exit_codes import exit_code_for, exit_code_for_class
from teeclient.errors import (
    AttestationRejected,
    CollateralError,
    ConfigError,
    EvidenceError,
    PolicyError,
    PolicyUnknownKeyError,
    SnpTcbMismatchError,
    TeeclientError,
    TransportError,
    UsageError,
    all_error_classes,
)
from tests._snp import ROOT

# The first-level classes and the exit codes DESIGN.md / STYLE.md assign to them.
FIRST_LEVEL = {
    UsageError: 2,
    ConfigError: 2,
    EvidenceError: 3,
    CollateralError: 4,
    TransportError: 4,
    AttestationRejected: 1,
}
CODE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
CLASSES = all_error_classes()


def test_all_error_classes_is_complete() -> None:
    exported = {
        getattr(errors, name)
        for name in errors.__all__
        if isinstance(getattr(errors, name), type)
        and issubclass(getattr(errors, name), TeeclientError)
    }
    assert set(CLASSES) == exported
    assert CLASSES[0] is TeeclientError


def test_codes_are_unique() -> None:
    codes = [cls.code for cls in CLASSES]
    assert len(codes) == len(set(codes)), sorted(c for c in codes if codes.count(c) > 1)


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_code_is_dotted(cls: type[TeeclientError]) -> None:
    assert CODE.fullmatch(cls.code)
    # each class defines its own code (an inherited one would be a duplicate)
    assert "code" in vars(cls)


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_every_class_is_documented(cls: type[TeeclientError]) -> None:
    page = (ROOT / "docs" / "errors.md").read_text()
    rows = [line for line in page.splitlines() if f"| `{cls.code}` |" in line]
    assert len(rows) == 1
    cells = [c.strip() for c in rows[0].strip("|").split("|")]
    assert cells[1] == f"`{cls.__name__}`"
    assert cells[2] == str(exit_code_for_class(cls))


@pytest.mark.parametrize("cls", CLASSES[1:], ids=lambda c: c.__name__)
def test_exactly_one_first_level_class_and_exit_code(cls: type[TeeclientError]) -> None:
    parents = [p for p in FIRST_LEVEL if issubclass(cls, p)]
    assert len(parents) == 1, parents
    assert exit_code_for_class(cls) == FIRST_LEVEL[parents[0]]


def test_base_class_exit_code_is_usage() -> None:
    # Documented fallback: an error of no first-level class is a usage error (docs/errors.md).
    assert exit_code_for_class(TeeclientError) == exit_codes.USAGE == 2


def test_exit_code_constants() -> None:
    assert (exit_codes.ACCEPTED, exit_codes.REJECTED, exit_codes.USAGE) == (0, 1, 2)
    assert (exit_codes.INVALID, exit_codes.COLLATERAL) == (3, 4)


def test_exit_code_for_instance_follows_class() -> None:
    err = SnpTcbMismatchError("x", platform="sev-snp")
    assert exit_code_for(err) == 3
    assert exit_code_for(PolicyUnknownKeyError("x", key_path="a", line=3)) == 2


def test_to_dict_carries_code_message_and_fields() -> None:
    err = SnpTcbMismatchError(
        "VCEK TCB does not equal REPORTED_TCB",
        platform="sev-snp",
        field="VCEK.ucodeSPL",
        expected=115,
        actual="114",
        offset=0x180,
    )
    out = err.to_dict()
    assert out == {
        "code": "snp.tcb_mismatch",
        "message": "VCEK TCB does not equal REPORTED_TCB",
        "platform": "sev-snp",
        "field": "VCEK.ucodeSPL",
        "offset": 0x180,
        "expected": 115,
        "actual": "114",
    }
    assert str(err).startswith("[snp.tcb_mismatch]")


def test_to_dict_omits_absent_fields_and_shortens_objects() -> None:
    out = EvidenceError("bad").to_dict()
    assert out == {"code": "evidence.invalid", "message": "bad"}
    long = EvidenceError("bad", expected=list(range(500))).to_dict()
    assert isinstance(long["expected"], str)
    assert len(long["expected"]) <= 200


def test_policy_error_to_dict_has_location() -> None:
    err = PolicyUnknownKeyError(
        "unknown key",
        key_path="sev_snp[0].measurment",
        file="p.toml",
        line=7,
        expected="one of measurement",
        actual="measurment",
    )
    out = err.to_dict()
    assert out["code"] == "policy.unknown_key"
    assert out["file"] == "p.toml"
    assert out["line"] == 7
    assert out["field"] == "sev_snp[0].measurment"
    assert isinstance(err, PolicyError)


def test_gen_docs_check_passes() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "gen_docs.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
