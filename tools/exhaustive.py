"""Exhaustive byte-flip sweep of every real vector: every signed byte, every certificate byte.

    python -m tools.exhaustive --jobs 2       # the full sweep -> tools/results/exhaustive.json
    python -m tools.exhaustive --stride 499   # a stratified 1-in-499 sample (what CI runs)
    python -m tools.exhaustive --platform tdx --list

For each real vector under ``fixtures/real`` that verifies at its fixed time, every byte of
every authenticated region is xored with 0x01 (lowest bit) and with 0xFF (every bit), and the
result is verified through the platform's public entry point with the vector's collateral at
the vector's time. Certificates are corrupted at the DER level (decode, flip, re-encode, so
every mutant is a well-framed PEM/DER container) and chains are also swapped, reordered and
cut. Every mutant must be rejected with a ``TeeclientError``; the code distribution is
recorded. An accepted mutant or an untyped exception is a failure.

Regions that are not authenticated *by design* are listed apart, with their outcome: the
NVIDIA device chain's own copy of the root (replaced by the pinned root, so a flip there is
ignored) and the TDX quote's unread trailing bytes. See docs/security.md.
"""

from __future__ import annotations

import argparse
import base64
import json
import multiprocessing
import sys
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "tools" / "results" / "exhaustive.json"
MASKS = (0x01, 0xFF)

Verify = Callable[[bytes, bytes | None], object]
"""(evidence, replacement chain or None) -> claims; raises a TeeclientError to reject."""


@dataclass(frozen=True, slots=True)
class Job:
    """One region of one vector: the unit of parallel work."""

    platform: str
    vector: str
    region: str

    @property
    def key(self) -> str:
        return f"{self.platform}/{self.vector}/{self.region}"


@dataclass(slots=True)
class JobResult:
    """What one job's mutants did."""

    job: Job
    mutants: int = 0
    codes: Counter[str] = field(default_factory=Counter)
    accepted: list[str] = field(default_factory=list)
    untyped: list[str] = field(default_factory=list)
    unused: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def rejected(self) -> int:
        return sum(self.codes.values())


@dataclass(frozen=True, slots=True)
class Mutant:
    """One mutated input: the evidence bytes and, for chain mutants, the replacement chain."""

    label: str
    evidence: bytes
    chain: bytes | None = None
    replaces: str | None = None  # the collateral file ``chain`` stands in for (TDX collateral)


# --- DER / PEM helpers -----------------------------------------------------------------------


def flips(data: bytes, start: int, stop: int, label: str) -> Iterator[tuple[str, bytes]]:
    """Every byte in [start, stop) xored with each mask."""
    for offset in range(start, stop):
        for mask in MASKS:
            out = bytearray(data)
            out[offset] ^= mask
            yield f"{label}+{offset - start:#x}^{mask:#04x}", bytes(out)


def pem(blocks: list[bytes]) -> bytes:
    """PEM CERTIFICATE blocks for DER certificates."""
    out = []
    for der in blocks:
        text = base64.b64encode(der)
        lines = b"\n".join(text[i : i + 64] for i in range(0, len(text), 64))
        out.append(b"-----BEGIN CERTIFICATE-----\n" + lines + b"\n-----END CERTIFICATE-----\n")
    return b"".join(out)


def pem_blocks(data: bytes) -> list[bytes]:
    """The DER of every PEM CERTIFICATE block, in order."""
    out = []
    text = data.decode("latin-1")
    for part in text.split("-----BEGIN CERTIFICATE-----")[1:]:
        body = part.split("-----END CERTIFICATE-----")[0]
        out.append(base64.b64decode("".join(body.split())))
    return out


def chain_mutants(
    blocks: list[bytes], label: str, *, skip: frozenset[int] = frozenset()
) -> Iterator[tuple[str, list[bytes]]]:
    """Every DER byte of every certificate flipped, plus swapped, reordered and missing certs."""
    for index, der in enumerate(blocks):
        if index in skip:
            continue
        for name, flipped in flips(der, 0, len(der), f"{label}.cert{index}"):
            yield name, [*blocks[:index], flipped, *blocks[index + 1 :]]
    for index in range(len(blocks)):
        if index in skip:
            continue
        yield f"{label}.missing{index}", blocks[:index] + blocks[index + 1 :]
    if len(blocks) > 1:
        yield f"{label}.reversed", list(reversed(blocks))
        yield f"{label}.leaf-twice", [blocks[0], *blocks]
        yield f"{label}.leaf-is-issuer", [blocks[1], *blocks[1:]]
        for i in range(len(blocks) - 1):
            swapped = list(blocks)
            swapped[i], swapped[i + 1] = swapped[i + 1], swapped[i]
            yield f"{label}.swap{i}{i + 1}", swapped


# --- platforms -------------------------------------------------------------------------------


class Platform:
    """Vectors, regions and the verification call of one platform."""

    name = ""

    def vectors(self) -> list[str]:
        raise NotImplementedError

    def regions(self, vector: str) -> list[str]:
        raise NotImplementedError

    def mutants(self, vector: str, region: str) -> Iterator[Mutant]:
        raise NotImplementedError

    def verify(self, vector: str, mutant: Mutant) -> object:
        raise NotImplementedError

    def original(self, vector: str) -> Mutant:
        """The unmutated input (its claims are the reference for every mutant)."""
        raise NotImplementedError

    def now(self, vector: str) -> datetime:
        """The vector's fixed verification time."""
        raise NotImplementedError

    #: regions whose bytes are not authenticated by design (reported, never counted as rejects)
    ignored: frozenset[str] = frozenset()


class SevSnp(Platform):
    name = "sev-snp"
    # supplied ASK/ARK copies are never trusted: one that still names a pinned CA must be
    # byte-identical to it (else chain.untrusted); one whose name no longer matches is unused
    ignored = frozenset({"vek.supplied_cas"})

    def vectors(self) -> list[str]:
        from tests._snp import vector_names

        return vector_names()

    def regions(self, vector: str) -> list[str]:
        from tests._snp import Vector

        out = ["report.signed", "report.signature", "report.reserved", "vek", "vek.swapped"]
        if Vector(vector).vek_path.suffix == ".pem" and len(self._vek_blocks(vector)) > 1:
            out.append("vek.supplied_cas")
        if (Vector(vector).dir / "hcl_report.bin").exists():
            out.append("hcl.runtime_claims")
        return out

    @staticmethod
    def _vek_blocks(vector: str) -> list[bytes]:
        from tests._snp import Vector

        v = Vector(vector)
        return pem_blocks(v.vek_bytes) if v.vek_path.suffix == ".pem" else [v.vek_bytes]

    def mutants(self, vector: str, region: str) -> Iterator[Mutant]:
        from tests._snp import Vector, vector_names

        v = Vector(vector)
        report = v.report
        spans = {
            "report.signed": (0, 0x2A0),
            "report.signature": (0x2A0, 0x330),
            "report.reserved": (0x330, 0x4A0),
        }
        if region in spans:
            start, stop = spans[region]
            for label, data in flips(report, start, stop, region):
                yield Mutant(label, data)
        elif region == "vek":
            # DER-level flips (a PEM file is decoded, flipped and re-encoded)
            blocks = self._vek_blocks(vector)
            is_pem = v.vek_path.suffix == ".pem"
            for label, data in flips(blocks[0], 0, len(blocks[0]), "vek"):
                yield Mutant(label, report, pem([data, *blocks[1:]]) if is_pem else data)
            yield Mutant("vek.missing", report, b"")
            yield Mutant("vek.truncated", report, blocks[0][: len(blocks[0]) // 2])
        elif region == "vek.supplied_cas":
            # the ASK/ARK copies shipped with the VCEK are compared with the pinned ones
            blocks = self._vek_blocks(vector)
            for index in range(1, len(blocks)):
                for label, data in flips(blocks[index], 0, len(blocks[index]), f"ca{index}"):
                    yield Mutant(label, report, pem([*blocks[:index], data, *blocks[index + 1 :]]))
        elif region == "hcl.runtime_claims":
            from teeclient.platforms.sev_snp import abi

            hcl = (v.dir / "hcl_report.bin").read_bytes()
            claims = abi.parse_hcl_report(hcl).runtime_claims
            start = hcl.index(claims)
            for label, data in flips(hcl, start, start + len(claims), region):
                yield Mutant(label, data)
        else:
            for other in vector_names():
                if other != vector and Vector(other).vek_bytes != v.vek_bytes:
                    yield Mutant(f"vek.from-{other}", report, Vector(other).vek_bytes)

    def original(self, vector: str) -> Mutant:
        from tests._snp import Vector

        return Mutant("original", Vector(vector).report)

    def now(self, vector: str) -> datetime:
        from tests._snp import Vector

        return Vector(vector).now

    def verify(self, vector: str, mutant: Mutant) -> object:
        from tests._snp import Vector

        from teeclient.collateral.items import CollateralItem, CollateralSet
        from teeclient.platforms.sev_snp.verify import verify

        v = Vector(vector)
        vek = v.vek_bytes if mutant.chain is None else mutant.chain
        items = [CollateralItem(data=vek, source="vek")] if vek else []
        return verify(
            mutant.evidence,
            trust=_trust(),
            now=v.now,
            collateral=CollateralSet.of(items),
            product=v.v2_product,
        )


#: The signed PCS collateral sets, each swept with one quote that uses it.
TDX_COLLATERAL = {
    "collateral-2023-06-gtg": "v4-spr-50806f-gtg",
    "collateral-2026-01-tinfoil": "v5-tdx15-90c06f-gtg",
}


class Tdx(Platform):
    name = "tdx"
    ignored = frozenset({"quote.trailing"})

    def vectors(self) -> list[str]:
        from tests.tdx_support import names

        return names(with_collateral=True) + list(TDX_COLLATERAL)

    def regions(self, vector: str) -> list[str]:
        if vector in TDX_COLLATERAL:
            from tests.tdx_support import expectations

            return sorted(expectations()[TDX_COLLATERAL[vector]]["collateral_files"])
        return ["quote.header+body", "quote.signature_data", "pck_chain", "quote.trailing"]

    @staticmethod
    def _collateral_file(vector: str, key: str) -> Path:
        from tests.tdx_support import TDX, expectations

        quote_name = TDX_COLLATERAL[vector]
        rel: str = expectations()[quote_name]["collateral_files"][key]
        return (TDX / quote_name / rel).resolve()

    def _collateral_mutants(self, vector: str, region: str) -> Iterator[Mutant]:
        from tests.tdx_support import quote

        raw = quote(TDX_COLLATERAL[vector])
        data = self._collateral_file(vector, region).read_bytes()
        if region.endswith("issuer_chain"):
            for label, chain in chain_mutants(pem_blocks(data), region):
                yield Mutant(label, raw, pem(chain), region)
        else:  # signed JSON (TCB Info, QE Identity) or a DER CRL: every byte
            for label, flipped in flips(data, 0, len(data), region):
                yield Mutant(label, raw, flipped, region)

    @staticmethod
    def _parts(vector: str) -> tuple[bytes, int, int, int]:
        """(quote, signed size, start of the PCK chain PEM, end of the quote)."""
        from tests.tdx_support import quote

        from teeclient.platforms.tdx import abi

        raw = quote(vector)
        q = abi.parse_quote(raw)
        return raw, q.signed_size, q.end - len(q.pck_chain_pem), q.end

    def mutants(self, vector: str, region: str) -> Iterator[Mutant]:
        if vector in TDX_COLLATERAL:
            yield from self._collateral_mutants(vector, region)
            return
        raw, signed, pem_start, end = self._parts(vector)
        if region == "quote.header+body":
            for label, data in flips(raw, 0, signed, region):
                yield Mutant(label, data)
        elif region == "quote.signature_data":
            for label, data in flips(raw, signed, pem_start, region):
                yield Mutant(label, data)
        elif region == "pck_chain":
            original = raw[pem_start:end]
            blocks = pem_blocks(original)
            for label, chain in chain_mutants(blocks, "pck"):
                text = pem(chain)
                # keep the declared size: pad (or the quote no longer frames) with NULs
                body = text + original[len(pem(blocks)) :]
                size_at = pem_start - 4
                edited = bytearray(raw[:pem_start] + body + raw[end:])
                edited[size_at : size_at + 4] = len(body).to_bytes(4, "little")
                outer = signed + 4 + 128 + 2  # certification data size of the outer block
                delta = len(body) - len(original)
                old = int.from_bytes(raw[outer : outer + 4], "little")
                edited[outer : outer + 4] = (old + delta).to_bytes(4, "little")
                declared = int.from_bytes(raw[signed : signed + 4], "little")
                edited[signed : signed + 4] = (declared + delta).to_bytes(4, "little")
                yield Mutant(label, bytes(edited))
        else:  # quote.trailing: bytes after the quote's declared end (never read)
            for label, data in flips(raw, end, min(len(raw), end + 64), region):
                yield Mutant(label, data)

    def original(self, vector: str) -> Mutant:
        from tests.tdx_support import quote

        return Mutant("original", quote(TDX_COLLATERAL.get(vector, vector)))

    def now(self, vector: str) -> datetime:
        from tests.tdx_support import suggested_now

        return suggested_now(TDX_COLLATERAL.get(vector, vector))

    def verify(self, vector: str, mutant: Mutant) -> object:
        from tests.tdx_support import collateral, collateral_paths, suggested_now

        from teeclient.collateral.items import CollateralItem, CollateralSet
        from teeclient.platforms.tdx.verify import verify

        if vector in TDX_COLLATERAL and mutant.replaces is None:
            return verify(
                mutant.evidence,
                trust=_trust(),
                now=self.now(vector),
                collateral=collateral(TDX_COLLATERAL[vector]),
            )
        if vector in TDX_COLLATERAL:
            quote_name = TDX_COLLATERAL[vector]
            assert mutant.replaces is not None
            assert mutant.chain is not None
            target = self._collateral_file(vector, mutant.replaces)
            items = [
                CollateralItem(data=mutant.chain if p == target else p.read_bytes(), source=str(p))
                for p in collateral_paths(quote_name)
            ]
            return verify(
                mutant.evidence,
                trust=_trust(),
                now=suggested_now(quote_name),
                collateral=CollateralSet.of(items),
            )
        return verify(
            mutant.evidence,
            trust=_trust(),
            now=suggested_now(vector),
            collateral=_cached(("tdx", vector), lambda: collateral(vector)),
        )


class Nitro(Platform):
    name = "nitro"

    def vectors(self) -> list[str]:
        from tests.nitro_support import valid_names

        return valid_names()

    def regions(self, vector: str) -> list[str]:
        return ["cose.protected", "cose.payload", "cose.signature", "cose.envelope", "chain"]

    def mutants(self, vector: str, region: str) -> Iterator[Mutant]:
        from tests.nitro_support import vector as load

        from teeclient.platforms.nitro import abi

        data = load(vector)
        doc = abi.parse_document(data)
        payload_at = data.index(doc.cose.payload)
        sig = len(data) - abi.SIGNATURE_BYTES
        if region == "cose.protected":
            start = data.index(doc.cose.protected)
            yield from (
                Mutant(*m) for m in flips(data, start, start + len(doc.cose.protected), region)
            )
        elif region == "cose.payload":
            stop = payload_at + len(doc.cose.payload)
            yield from (Mutant(*m) for m in flips(data, payload_at, stop, region))
        elif region == "cose.signature":
            yield from (Mutant(*m) for m in flips(data, sig, len(data), region))
        elif region == "cose.envelope":
            # the CBOR framing bytes outside the three authenticated values
            protected_at = data.index(doc.cose.protected)
            framing = [
                *range(protected_at),
                *range(protected_at + len(doc.cose.protected), payload_at),
                *range(payload_at + len(doc.cose.payload), sig),
            ]
            for offset in framing:
                for label, mutated in flips(data, offset, offset + 1, f"{region}@{offset}"):
                    yield Mutant(label, mutated)
        else:  # re-encoded chains: the payload is rebuilt, so the signature fails too
            import cbor2

            fields = dict(abi.decode_payload(doc.cose.payload).fields)
            blocks = [*fields["cabundle"], fields["certificate"]]
            for label, chain in chain_mutants(list(reversed(blocks)), "chain"):
                if not chain:
                    continue
                changed = {**fields, "certificate": chain[0], "cabundle": list(reversed(chain[1:]))}
                payload = cbor2.dumps(changed)
                yield Mutant(label, _cose(doc.cose.protected, payload, data[sig:]))

    def original(self, vector: str) -> Mutant:
        from tests.nitro_support import vector as load

        return Mutant("original", load(vector))

    def now(self, vector: str) -> datetime:
        from tests.nitro_support import suggested_now

        return suggested_now(vector)

    def verify(self, vector: str, mutant: Mutant) -> object:
        from tests.nitro_support import suggested_now

        from teeclient.platforms.nitro.verify import verify

        return verify(mutant.evidence, trust=_trust(), now=suggested_now(vector))


def _cose(protected: bytes, payload: bytes, signature: bytes) -> bytes:
    import cbor2

    return b"\xd2" + cbor2.dumps([protected, {}, payload, signature])


NVIDIA_REPORTS = {
    "hopper-e2e": ("hopper_e2e/hopperAttestationReport.txt", "hopper_e2e/hopperCertChain.txt"),
    "blackwell": ("blackwell/blackwellAttestationReport.txt", "blackwell/blackwellCertChain.txt"),
    "hopper-580": (
        "nvat-testdata/gpu/hopper_580.159.03_AttestationReport.txt",
        "nvat-testdata/gpu/hopper_580.159.03_CertChain.txt",
    ),
    "switch-ls10": (
        "nvat-testdata/switch/switchAttestationReport.txt",
        "nvat-testdata/switch/switchCertChain.txt",
    ),
}


class Nvidia(Platform):
    name = "nvidia"
    ignored = frozenset({"device_chain.root_copy"})

    def vectors(self) -> list[str]:
        return list(NVIDIA_REPORTS)

    def regions(self, vector: str) -> list[str]:
        return ["spdm.signed", "spdm.signature", "device_chain", "device_chain.root_copy"]

    @staticmethod
    def _files(vector: str) -> tuple[bytes, bytes]:
        folder = ROOT / "fixtures" / "real" / "nvidia"
        report, chain = NVIDIA_REPORTS[vector]
        return bytes.fromhex((folder / report).read_text().strip()), (folder / chain).read_bytes()

    def mutants(self, vector: str, region: str) -> Iterator[Mutant]:
        report, chain = self._files(vector)
        sig = len(report) - 96
        if region == "spdm.signed":
            yield from (Mutant(*m) for m in flips(report, 0, sig, region))
        elif region == "spdm.signature":
            yield from (Mutant(*m) for m in flips(report, sig, len(report), region))
        else:
            blocks = pem_blocks(chain)
            root = len(blocks) - 1
            if region == "device_chain":
                for label, mutated in chain_mutants(blocks, "device", skip=frozenset({root})):
                    yield Mutant(label, report, pem(mutated))
            else:  # the device's own copy of the root: ignored, the pinned root is used
                for label, flipped in flips(blocks[root], 0, len(blocks[root]), "root-copy"):
                    yield Mutant(label, report, pem([*blocks[:root], flipped]))

    def original(self, vector: str) -> Mutant:
        return Mutant("original", self._files(vector)[0])

    def now(self, vector: str) -> datetime:
        return datetime(2025, 8, 21, 12, tzinfo=UTC) if vector == "hopper-e2e" else TODAY

    def verify(self, vector: str, mutant: Mutant) -> object:
        from teeclient.collateral.items import CollateralItem, CollateralSet
        from teeclient.platforms.nvidia.verify import verify

        report, chain = self._files(vector)
        now = self.now(vector)
        use = chain if mutant.chain is None else mutant.chain
        return verify(
            mutant.evidence,
            trust=_trust(),
            now=now,
            nonce=report[4:36],
            collateral=CollateralSet.of([CollateralItem(data=use, source="chain")]),
        )


TODAY = datetime(2026, 11, 27, tzinfo=UTC)
PLATFORMS: dict[str, Platform] = {p.name: p for p in (SevSnp(), Tdx(), Nitro(), Nvidia())}


@cache
def _trust() -> Any:
    from teeclient.trust import TrustStore

    return TrustStore.vendor()


_CACHE: dict[object, object] = {}


def _cached(key: object, make: Callable[[], Any]) -> Any:
    if key not in _CACHE:
        _CACHE[key] = make()
    return _CACHE[key]


# --- running ---------------------------------------------------------------------------------


def all_jobs(platforms: list[str] | None = None) -> list[Job]:
    """Every (platform, vector, region) job."""
    out = []
    for name, platform in PLATFORMS.items():
        if platforms and name not in platforms:
            continue
        for vector in platform.vectors():
            out += [Job(name, vector, region) for region in platform.regions(vector)]
    return out


def run_job(job: Job, stride: int = 1) -> JobResult:
    """Verify the job's mutants (every ``stride``-th, at a job-dependent phase)."""
    from teeclient.errors import TeeclientError

    warnings.simplefilter("ignore")
    platform = PLATFORMS[job.platform]
    result = JobResult(job)
    started = time.perf_counter()
    phase = sum(job.key.encode()) % stride
    if stride > 1:  # stratified: every region contributes at least one mutant
        total = sum(1 for _ in platform.mutants(job.vector, job.region))
        phase %= max(1, min(stride, total))
    for index, mutant in enumerate(platform.mutants(job.vector, job.region)):
        if index % stride != phase:
            continue
        result.mutants += 1
        try:
            claims = platform.verify(job.vector, mutant)
        except TeeclientError as exc:
            result.codes[exc.code] += 1
        except Exception as exc:  # noqa: BLE001 - an untyped escape is exactly what we count
            result.untyped.append(f"{mutant.label}: {type(exc).__name__}: {exc}"[:300])
        else:
            _judge(platform, job.vector, mutant, claims, result)
    result.seconds = time.perf_counter() - started
    return result


def _claims_dict(claims: object) -> Any:
    return claims.to_dict()  # type: ignore[attr-defined]


def _failing_checks(platform: Platform, vector: str, claims: object) -> set[str]:
    """The ids of the baseline policy's checks that fail for ``claims`` at the vector's time."""
    from teeclient.policy.appraise import appraise
    from teeclient.policy.load import load_baseline
    from teeclient.policy.result import CheckStatus

    appraisal = appraise([claims], load_baseline(), platform.now(vector))  # type: ignore[list-item]
    return {c.id for c in appraisal.checks if c.status is CheckStatus.FAIL}


def _judge(
    platform: Platform, vector: str, mutant: Mutant, claims: object, result: JobResult
) -> None:
    """A mutant that verified: unused (claims identical to the original's), rejected by the
    baseline policy (a check fails that passes for the original), or ACCEPTED (a failure)."""
    key = ("judge", platform.name, vector)
    if key not in _CACHE:
        base = platform.verify(vector, platform.original(vector))
        _CACHE[key] = (_claims_dict(base), _failing_checks(platform, vector, base))
    reference: tuple[Any, set[str]] = _CACHE[key]  # type: ignore[assignment]
    base_dict, base_failing = reference
    if _claims_dict(claims) == base_dict:
        result.unused.append(mutant.label)
        return
    extra = _failing_checks(platform, vector, claims) - base_failing
    if extra:
        result.codes[f"policy:{sorted(extra)[0]}"] += 1
    else:
        result.accepted.append(mutant.label)


def _run(args: tuple[Job, int]) -> JobResult:
    return run_job(*args)


def summarise(results: list[JobResult], *, stride: int, seconds: float) -> dict[str, Any]:
    """Per-platform totals, code distributions and per-region counts (JSON-ready)."""
    out: dict[str, Any] = {
        "schema": 1,
        "command": "python -m tools.exhaustive --jobs 2",
        "stride": stride,
        "masks": [f"{m:#04x}" for m in MASKS],
        "seconds": round(seconds, 1),
        "platforms": {},
    }
    for result in sorted(results, key=lambda r: r.job.key):
        job = result.job
        ignored = job.region in PLATFORMS[job.platform].ignored
        entry = out["platforms"].setdefault(
            job.platform,
            {
                "vectors": [],
                "mutants": 0,
                "rejected": 0,
                "unused": 0,
                "accepted": 0,
                "untyped": 0,
                "codes": {},
                "ignored_by_design": {},
                "regions": {},
            },
        )
        if job.vector not in entry["vectors"]:
            entry["vectors"].append(job.vector)
        region = {
            "mutants": result.mutants,
            "rejected": result.rejected,
            "unused": len(result.unused),
            "accepted": len(result.accepted),
            "untyped": len(result.untyped),
            "codes": dict(sorted(result.codes.items())),
        }
        if ignored:
            entry["ignored_by_design"][f"{job.vector}/{job.region}"] = region
            continue
        entry["regions"][f"{job.vector}/{job.region}"] = region
        entry["mutants"] += result.mutants
        entry["rejected"] += result.rejected
        entry["unused"] += len(result.unused)
        entry["accepted"] += len(result.accepted)
        entry["untyped"] += len(result.untyped)
        for code, count in result.codes.items():
            entry["codes"][code] = entry["codes"].get(code, 0) + count
        if result.accepted or result.untyped:
            entry.setdefault("failures", []).extend(
                [f"{job.key}: ACCEPTED {a}" for a in result.accepted[:20]]
                + [f"{job.key}: {u}" for u in result.untyped[:20]]
            )
    for entry in out["platforms"].values():
        entry["codes"] = dict(sorted(entry["codes"].items(), key=lambda kv: -kv[1]))
    return out


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(prog="python -m tools.exhaustive", description=__doc__)
    parser.add_argument("--platform", action="append", choices=sorted(PLATFORMS))
    parser.add_argument("--stride", type=int, default=1, help="verify every N-th mutant")
    parser.add_argument("--jobs", type=int, default=multiprocessing.cpu_count())
    parser.add_argument("--list", action="store_true", help="list the jobs and exit")
    parser.add_argument("--results", type=Path, default=None, help=f"default: {RESULTS}")
    args = parser.parse_args(argv)
    jobs = all_jobs(args.platform)
    if args.list:
        for job in jobs:
            print(job.key)
        return 0
    started = time.perf_counter()
    # biggest jobs first so the pool drains evenly
    ordered = sorted(
        jobs, key=lambda j: j.region not in ("pck_chain", "vek", "chain", "device_chain")
    )
    with multiprocessing.Pool(max(1, args.jobs)) as pool:
        results = []
        for result in pool.imap_unordered(_run, [(j, args.stride) for j in ordered]):
            results.append(result)
            ignored = result.job.region in PLATFORMS[result.job.platform].ignored
            bad = (result.accepted or result.untyped) and not ignored
            flag = (
                "  <-- FAILURES" if bad else ("  (not authenticated by design)" if ignored else "")
            )
            print(
                f"{result.job.key}: {result.mutants} mutants, {result.rejected} rejected "
                f"({result.seconds:.1f}s){flag}",
                flush=True,
            )
    summary = summarise(results, stride=args.stride, seconds=time.perf_counter() - started)
    target = args.results or (RESULTS if args.stride == 1 and not args.platform else None)
    if target is not None:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(summary, indent=2) + "\n")
    failures = 0
    for name, entry in summary["platforms"].items():
        print(
            f"{name}: {entry['mutants']} mutants, {entry['rejected']} rejected, "
            f"{entry['unused']} unused (claims unchanged), "
            f"{entry['accepted']} accepted, {entry['untyped']} untyped"
        )
        failures += entry["accepted"] + entry["untyped"]
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
