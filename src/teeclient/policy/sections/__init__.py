"""Per-component policy sections ([[sev_snp]], ...): one module per platform."""

from __future__ import annotations

from teeclient.errors import PolicyTypeError, PolicyValueError
from teeclient.policy._schema import Custom, KeyPath, render_path

__all__ = ["warn_only_field_type"]


def warn_only_field_type(section: str) -> Custom:
    """The field type of a section's ``warn_only`` list: known check ids of that section."""
    return Custom(
        lambda v, p: _warn_only(v, p, section),
        {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
    )


def _warn_only(value: object, path: KeyPath, section: str) -> frozenset[str]:
    from teeclient.policy.checks import known_check_ids

    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise PolicyTypeError(
            f"{render_path(path)} has the wrong type",
            key_path=render_path(path),
            expected="array of check ids",
            actual=repr(value),
        )
    known = known_check_ids(section)
    for i, item in enumerate(value):
        if item not in known:
            raise PolicyValueError(
                f"{render_path((*path, i))} is not a check id of [{section}]",
                key_path=render_path((*path, i)),
                expected="a check id listed in docs/checks.md, e.g. " + sorted(known)[0],
                actual=item,
            )
    return frozenset(value)
