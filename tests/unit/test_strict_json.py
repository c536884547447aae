"""Strict JSON (teeclient._json) and the formats that use it refuse ambiguous documents."""

from __future__ import annotations

from pathlib import Path

import pytest

from teeclient._json import DuplicateMemberError, strict_loads
from teeclient.bundle import Bundle
from teeclient.errors import ParseError

BUNDLE = Path(__file__).resolve().parents[2] / "examples" / "ci" / "bundles" / "tdx.bundle.json"


def test_duplicates_at_any_depth_are_refused() -> None:
    assert strict_loads(b'{"a": {"b": 1}, "c": [1, {"d": 2}]}') == {
        "a": {"b": 1},
        "c": [1, {"d": 2}],
    }
    with pytest.raises(DuplicateMemberError) as info:
        strict_loads('{"a": 1, "a": 2}')
    assert info.value.member == "a"
    with pytest.raises(DuplicateMemberError):
        strict_loads('{"x": [{"k": 1, "k": 1}]}')


@pytest.mark.parametrize("text", ["NaN", "[Infinity]", '{"v": -Infinity}'])
def test_non_finite_constants_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="not allowed"):
        strict_loads(text)


def test_invalid_utf8_is_a_value_error() -> None:
    with pytest.raises(UnicodeDecodeError):
        strict_loads(b'{"a": "\xff"}')


def test_a_bundle_with_a_repeated_member_is_refused() -> None:
    raw = BUNDLE.read_bytes()
    assert Bundle.from_json(raw).evidence is not None  # the genuine bundle loads
    doubled = raw.replace(b'"format"', b'"target": "elsewhere", "format"', 1)
    assert doubled != raw
    with pytest.raises(ParseError, match="duplicate member 'target'"):
        Bundle.from_json(doubled)
