"""Tiny benchmark harness: medians and spreads of repeated timings, as JSON-ready dicts."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

__all__ = ["Result", "measure", "measure_process", "report"]


@dataclass(frozen=True, slots=True)
class Result:
    """Timing of one benchmark: median and spread in microseconds over ``samples`` runs."""

    name: str
    median_us: float
    p10_us: float
    p90_us: float
    samples: int
    note: str = ""

    def to_dict(self) -> dict[str, object]:
        """JSON form."""
        return asdict(self)

    def line(self) -> str:
        """One human-readable line."""
        return (
            f"{self.name:<48} median {self.median_us / 1000:9.3f} ms   "
            f"p10 {self.p10_us / 1000:8.3f}   p90 {self.p90_us / 1000:8.3f}   n={self.samples}"
            + (f"   ({self.note})" if self.note else "")
        )


def _stats(name: str, samples: Sequence[float], note: str) -> Result:
    ordered = sorted(samples)
    n = len(ordered)
    return Result(
        name=name,
        median_us=statistics.median(ordered),
        p10_us=ordered[max(0, int(n * 0.1) - 1)],
        p90_us=ordered[min(n - 1, int(n * 0.9))],
        samples=n,
        note=note,
    )


def measure(
    name: str, fn: Callable[[], object], *, samples: int = 200, warmup: int = 20, note: str = ""
) -> Result:
    """Time ``fn`` ``samples`` times after ``warmup`` calls (per-call wall time)."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(samples):
        start = time.perf_counter_ns()
        fn()
        times.append((time.perf_counter_ns() - start) / 1000)
    return _stats(name, times, note)


def measure_process(
    name: str,
    argv: Sequence[str],
    *,
    samples: int = 15,
    warmup: int = 2,
    note: str = "",
    ok_codes: Sequence[int] = (0,),
) -> Result:
    """Time a whole process (cold start) ``samples`` times.

    Processes run as they do after ``pip install``: with bytecode caches. The environment's
    ``PYTHONDONTWRITEBYTECODE`` is dropped and ``warmup`` unmeasured runs write the caches, so
    the figure measures imports and work, not recompiling every module from source.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    for _ in range(warmup):
        subprocess.run(argv, capture_output=True, check=False, env=env)
    times = []
    for _ in range(samples):
        start = time.perf_counter_ns()
        proc = subprocess.run(argv, capture_output=True, check=False, env=env)
        times.append((time.perf_counter_ns() - start) / 1000)
        if proc.returncode not in ok_codes:
            sys.stderr.write(proc.stderr.decode(errors="replace"))
            raise RuntimeError(f"{name}: exit {proc.returncode}")
    return _stats(name, times, note)


def report(
    results: Sequence[Result], ratios: Callable[[list[Result]], dict[str, float]] | None = None
) -> int:
    """A benchmark module's ``main``: print each result, the ratios, then the JSON; exit 0."""
    for r in results:
        sys.stdout.write(r.line() + "\n")
    if ratios is not None:
        for name, value in ratios(list(results)).items():
            sys.stdout.write(f"{name}: {value:.2f}x\n")
    sys.stdout.write(json.dumps([r.to_dict() for r in results]) + "\n")
    return 0
