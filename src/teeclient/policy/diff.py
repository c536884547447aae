"""`policy diff`: what changed between two policy files, in words.

Both files are first loaded (so both are valid policies); the comparison then runs over
their TOML tables with values normalised (hex lowercased without ``0x``, lists as sets where
order carries no meaning). Alternatives of a ``[[section]]`` are paired by ``name`` when
both sides name them, otherwise by position. Each difference is one ``Change``: where it is
(``[[sev_snp]] "genoa-prod"``), the key path, the kind (added, removed, changed, widened,
narrowed, raised, lowered) and a sentence.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from teeclient.errors import PolicySyntaxError

__all__ = ["Change", "diff_policies", "diff_tables"]

_ARRAY_SECTIONS = ("sev_snp", "tdx", "nitro", "nvidia_gpu", "nvidia_switch")
_HEX = re.compile(r"(0[xX])?[0-9a-fA-F]{16,}")


@dataclass(frozen=True, slots=True, kw_only=True)
class Change:
    """One difference between two policies."""

    where: str
    key: str
    kind: str
    old: object
    new: object
    text: str

    def to_dict(self) -> dict[str, object]:
        """JSON form."""
        return {
            "where": self.where,
            "key": self.key,
            "kind": self.kind,
            "old": self.old,
            "new": self.new,
            "text": self.text,
        }


def _norm(value: Any) -> Any:
    if isinstance(value, str) and _HEX.fullmatch(value):
        return value.lower().removeprefix("0x")
    if isinstance(value, list):
        return [_norm(v) for v in value]
    if isinstance(value, dict):
        return {k: _norm(v) for k, v in value.items()}
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _short(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    text = repr(value) if not isinstance(value, str) else f'"{value}"'
    if isinstance(value, str) and len(value) > 24:
        text = f'"{value[:12]}…{value[-8:]}"'
    if isinstance(value, list):
        text = "[" + ", ".join(_short(v) for v in value) + "]"
    if isinstance(value, dict):
        text = "{ " + ", ".join(f"{k} = {_short(v)}" for k, v in value.items()) + " }"
    return text


def _sentence(where: str, key: str, old: Any, new: Any) -> tuple[str, str]:
    label = f"{where}: {key}" if where else key
    if old is None:
        return "added", f"{label} added = {_short(new)} (now constrained)"
    if new is None:
        return "removed", f"{label} removed (was {_short(old)}; now the default or unconstrained)"
    if isinstance(old, list) and isinstance(new, list):
        gone = [v for v in old if v not in new]
        came = [v for v in new if v not in old]
        parts = []
        if came:
            parts.append("now also accepts " + ", ".join(_short(v) for v in came))
        if gone:
            parts.append("no longer accepts " + ", ".join(_short(v) for v in gone))
        kind = "widened" if came and not gone else "narrowed" if gone and not came else "changed"
        return kind, f"{label} {'; '.join(parts) or 'reordered'}"
    if (
        isinstance(old, int)
        and isinstance(new, int)
        and not isinstance(old, bool)
        and not isinstance(new, bool)
    ):
        kind = "raised" if new > old else "lowered"
        stricter = key.split(".")[-1].startswith("min") or key.startswith("min")
        effect = ""
        if stricter:
            effect = " (stricter)" if new > old else " (looser)"
        return kind, f"{label} {kind} from {old} to {new}{effect}"
    if isinstance(old, bool) and isinstance(new, bool):
        return "changed", f"{label} turned {'on' if new else 'off'} (was {_short(old)})"
    return "changed", f"{label} changed from {_short(old)} to {_short(new)}"


def _walk(where: str, prefix: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Change]:
    out: list[Change] = []
    for key in list(dict.fromkeys([*old, *new])):
        a = _norm(old.get(key))
        b = _norm(new.get(key))
        path = f"{prefix}{key}"
        if a == b:
            continue
        if isinstance(a, dict) and isinstance(b, dict):
            out.extend(_walk(where, f"{path}.", a, b))
            continue
        kind, text = _sentence(where, path, a, b)
        out.append(Change(where=where, key=path, kind=kind, old=a, new=b, text=text))
    return out


def _label(section: str, alt: Mapping[str, Any], index: int) -> str:
    name = alt.get("name")
    return f'[[{section}]] "{name}"' if isinstance(name, str) else f"[[{section}]] #{index}"


def _pair(
    old: Sequence[Mapping[str, Any]], new: Sequence[Mapping[str, Any]]
) -> list[tuple[int | None, int | None]]:
    names_old = [a.get("name") for a in old]
    names_new = [a.get("name") for a in new]
    named = all(isinstance(n, str) for n in names_old + names_new) and len(
        set(names_old + names_new)
    ) == len(set(names_old) | set(names_new))
    if named and not set(names_old) & set(names_new):
        named = False  # every alternative renamed: compare them by position
    if named:
        pairs: list[tuple[int | None, int | None]] = []
        for i, n in enumerate(names_old):
            pairs.append((i, names_new.index(n) if n in names_new else None))
        pairs += [(None, j) for j, n in enumerate(names_new) if n not in names_old]
        return pairs
    length = max(len(old), len(new))
    return [(i if i < len(old) else None, i if i < len(new) else None) for i in range(length)]


def diff_tables(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Change]:
    """Every difference between two parsed policy tables."""
    changes: list[Change] = []
    plain_old = {k: v for k, v in old.items() if k not in _ARRAY_SECTIONS}
    plain_new = {k: v for k, v in new.items() if k not in _ARRAY_SECTIONS}
    changes.extend(_walk("", "", plain_old, plain_new))
    for section in _ARRAY_SECTIONS:
        a_list = old.get(section)
        b_list = new.get(section)
        if a_list is None and b_list is None:
            continue
        if a_list is None or b_list is None:
            present = b_list if a_list is None else a_list
            assert present is not None
            kind = "added" if a_list is None else "removed"
            effect = "now accepted" if kind == "added" else "no longer accepted"
            text = (
                f"[[{section}]] section {kind} ({len(present)} alternative(s)): "
                f"{section} evidence is {effect}"
            )
            changes.append(
                Change(
                    where=f"[[{section}]]",
                    key=section,
                    kind=kind,
                    old=a_list and len(a_list),
                    new=b_list and len(b_list),
                    text=text,
                )
            )
            continue
        for i, j in _pair(a_list, b_list):
            if i is None and j is not None:
                label = _label(section, b_list[j], j)
                changes.append(
                    Change(
                        where=label,
                        key="",
                        kind="added",
                        old=None,
                        new=j,
                        text=f"{label} alternative added: accepts more (OR)",
                    )
                )
            elif j is None and i is not None:
                label = _label(section, a_list[i], i)
                changes.append(
                    Change(
                        where=label,
                        key="",
                        kind="removed",
                        old=i,
                        new=None,
                        text=f"{label} alternative removed: accepts less",
                    )
                )
            elif i is not None and j is not None:
                changes.extend(_walk(_label(section, b_list[j], j), "", a_list[i], b_list[j]))
    return changes


def _read(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise PolicySyntaxError(f"cannot read policy: {exc}", file=str(path)) from exc


def diff_policies(old: Path, new: Path) -> list[Change]:
    """Load (and so validate) two policy files and list what changed from ``old`` to ``new``.

    Raises:
        PolicyError: either file is not a valid policy.
    """
    from teeclient.policy.load import load_policy

    load_policy(old)
    load_policy(new)
    return diff_tables(_read(old), _read(new))
