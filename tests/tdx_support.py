"""Shared helpers for the TDX tests: the real vectors and their collateral."""

from __future__ import annotations

import json
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from teeclient._time import parse_time
from teeclient.collateral.items import CollateralSet
from teeclient.trust import TrustStore

ROOT = Path(__file__).resolve().parent.parent
TDX = ROOT / "fixtures" / "real" / "tdx"


@cache
def expectations() -> dict[str, Any]:
    """fixtures/real/tdx/expectations.json."""
    data: dict[str, Any] = json.loads((TDX / "expectations.json").read_text())
    return data


def names(*, with_collateral: bool | None = None) -> list[str]:
    """Vector names, optionally only those with (or without) collateral."""
    out = []
    for name, entry in expectations().items():
        has = bool(entry.get("collateral_files"))
        if with_collateral is None or has == with_collateral:
            out.append(name)
    return out


def quote(name: str) -> bytes:
    """The quote bytes of a vector."""
    return (TDX / name / "quote.dat").read_bytes()


def collateral_paths(name: str) -> list[Path]:
    """The collateral files of a vector (as check_vectors.py passes them)."""
    files = expectations()[name].get("collateral_files") or {}
    return sorted({(TDX / name / p).resolve() for p in files.values()})


def collateral(name: str) -> CollateralSet:
    """The collateral of a vector, read from the fixture files."""
    return CollateralSet.from_files(collateral_paths(name))


def suggested_now(name: str) -> datetime:
    """The verification time expectations.json suggests."""
    return parse_time(expectations()[name]["verification_time"]["suggested_now"])


@cache
def vendor_trust() -> TrustStore:
    """The shipped trust store (one per test session, so signature memos are shared)."""
    return TrustStore.vendor()
