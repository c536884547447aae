"""Scaling: verification time against the number of GPUs in a node, and throughput of
concurrent verifications (asyncio tasks on worker threads, as an async client runs them).

Every number is a median of repeated runs in this process, on the machine in results.md.
"""

from __future__ import annotations

import asyncio
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from benchmarks._harness import Result, measure, report

ROOT = Path(__file__).resolve().parent.parent
SNP = ROOT / "fixtures" / "real" / "sev-snp" / "genoa-v5-oak"
SNP_NOW = datetime(2026, 1, 1, tzinfo=UTC)
T1 = datetime(2025, 8, 21, 12, tzinfo=UTC)

GPU_COUNTS = (1, 2, 4, 8)
CONCURRENCY = (1, 2, 4, 8, 16)
_BATCH = 64  # verifications per concurrency measurement


def _gpu_scaling() -> list[Result]:
    from benchmarks.bench_nvidia import generated_node
    from teeclient.platforms.nvidia.verify import verify

    results = []
    for n in GPU_COUNTS:
        for switches in (0, 4) if n == 8 else (0,):
            evidence, collateral, trust, nonce = generated_node(n, switches)

            def one(
                evidence: bytes = evidence,
                collateral: object = collateral,
                trust: object = trust,
                nonce: bytes = nonce,
            ) -> object:
                return verify(
                    evidence,
                    trust=trust,  # type: ignore[arg-type]
                    now=T1,
                    collateral=collateral,  # type: ignore[arg-type]
                    nonce=nonce,
                )

            label = f"{n} GPU" + (f" + {switches} switches" if switches else "")
            results.append(
                measure(
                    f"scaling: nvidia node, {label} (generated, RIMs + OCSP)",
                    one,
                    samples=30 if n >= 4 else 60,
                    note="per node; RIM XML signatures verified every call",
                )
            )
    return results


def _concurrency() -> list[Result]:
    from teeclient._x509 import load_certificate
    from teeclient.platforms.sev_snp.verify import verify
    from teeclient.trust import TrustStore

    report = (SNP / "report.bin").read_bytes()
    vcek = load_certificate((SNP / "vcek.der").read_bytes(), role="vcek", platform="bench")
    trust = TrustStore.vendor()
    verify(report, trust=trust, now=SNP_NOW, vek=vcek)  # warm the memo

    async def batch(width: int) -> None:
        limit = asyncio.Semaphore(width)

        async def task() -> None:
            async with limit:
                await asyncio.to_thread(verify, report, trust=trust, now=SNP_NOW, vek=vcek)

        await asyncio.gather(*(task() for _ in range(_BATCH)))

    results = []
    for width in CONCURRENCY:
        timings = []
        for _ in range(7):
            start = time.perf_counter_ns()
            asyncio.run(batch(width))
            timings.append((time.perf_counter_ns() - start) / 1000 / _BATCH)
        timings.sort()
        median = timings[len(timings) // 2]
        results.append(
            Result(
                name=f"scaling: sev-snp verify, {width} concurrent (asyncio.to_thread)",
                median_us=median,
                p10_us=timings[0],
                p90_us=timings[-1],
                samples=len(timings),
                note=f"wall time per verification over batches of {_BATCH}; "
                f"throughput {1e6 / median:.0f}/s",
            )
        )
    return results


def run() -> list[Result]:
    """Run the scaling benchmarks."""
    return [*_gpu_scaling(), *_concurrency()]


def ratios(results: list[Result]) -> dict[str, float]:
    """Growth factors: 8 GPUs against 1, and concurrent throughput against one at a time."""
    by = {r.name: r.median_us for r in results}
    out: dict[str, float] = {}
    one = by.get("scaling: nvidia node, 1 GPU (generated, RIMs + OCSP)")
    eight = by.get("scaling: nvidia node, 8 GPU (generated, RIMs + OCSP)")
    if one and eight:
        out["scaling: 8 GPUs / 1 GPU"] = eight / one
    serial = by.get("scaling: sev-snp verify, 1 concurrent (asyncio.to_thread)")
    for width in CONCURRENCY[1:]:
        value = by.get(f"scaling: sev-snp verify, {width} concurrent (asyncio.to_thread)")
        if serial and value:
            out[f"scaling: per-verify time, {width} concurrent / 1"] = value / serial
    return out


def main() -> int:
    """Print the results, the ratios and their JSON."""
    return report(run(), ratios)


if __name__ == "__main__":
    sys.exit(main())
