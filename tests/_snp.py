"""Shared helpers for the SEV-SNP tests: the real vectors, their expectations, spec decoders.

Expected values come from ``fixtures/real/sev-snp/expectations.json`` (computed by an
independent verifier, see PROVENANCE.md) or from specs/sev-snp.md, never from the code under
test. The TCB decoder below is written from the spec's §3 table on purpose.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from teeclient.collateral.items import CollateralItem, CollateralSet

ROOT = Path(__file__).resolve().parent.parent
SNP = ROOT / "fixtures" / "real" / "sev-snp"
ROOTS = SNP / "roots"

AMD_ARC = "1.3.6.1.4.1.3704.1"


@cache
def expectations() -> dict[str, dict[str, Any]]:
    """The parsed expectations.json (read once)."""
    data: dict[str, dict[str, Any]] = json.loads((SNP / "expectations.json").read_text())
    return data


def vector_names() -> list[str]:
    """Every report vector named in expectations.json, in file order."""
    return list(expectations())


@dataclass(frozen=True, slots=True)
class Vector:
    """One real report vector and what expectations.json says about it."""

    name: str

    @property
    def exp(self) -> dict[str, Any]:
        return expectations()[self.name]

    @property
    def dir(self) -> Path:
        return SNP / self.name

    @property
    def fields(self) -> dict[str, Any]:
        fields: dict[str, Any] = self.exp["fields"]
        return fields

    @property
    def report(self) -> bytes:
        name: str = self.exp["files"]["report"]
        return (self.dir / name).read_bytes()

    @property
    def vek_path(self) -> Path:
        name: str = self.exp["files"]["endorsement_key_cert"]
        return self.dir / name

    @property
    def vek_bytes(self) -> bytes:
        return self.vek_path.read_bytes()

    @property
    def chain_path(self) -> Path:
        name: str = self.exp["files"]["ask_ark_chain"]
        return (self.dir / name).resolve()

    @property
    def now(self) -> datetime:
        return parse_z(self.exp["verification_time"]["suggested_now"])

    @property
    def product(self) -> str:
        """The product line: from expectations' `generation` ("Milan/Genoa(v2)" → milan)."""
        generation: str = self.exp["generation"]
        return generation.split("/")[0].split("(")[0].lower()

    @property
    def version(self) -> int:
        version: int = self.exp["report_version"]
        return version

    @property
    def v2_product(self) -> str | None:
        """The product to pass explicitly: only version 2 reports need one."""
        return self.product if self.version == 2 else None

    @property
    def is_vlek(self) -> bool:
        return bool(self.exp["signing_key"] == "VLEK")

    def collateral(self) -> CollateralSet:
        return CollateralSet.of([CollateralItem(data=self.vek_bytes, source=str(self.vek_path))])


def parse_z(text: str) -> datetime:
    """An RFC 3339 time with a Z suffix (expectations.json style)."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def spec_tcb(raw_hex: str, product: str) -> dict[str, int]:
    """Decode TCB_VERSION bytes per specs/sev-snp.md §3 (independent of the code under test)."""
    raw = bytes.fromhex(raw_hex)
    if product == "turin":
        return {"fmc": raw[0], "bl": raw[1], "tee": raw[2], "snp": raw[3], "ucode": raw[7]}
    return {"bl": raw[0], "tee": raw[1], "snp": raw[6], "ucode": raw[7]}
