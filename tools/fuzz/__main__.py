"""Run the fuzz targets to a cumulative execution count, resumably; record the results.

    python -m tools.fuzz --all --execs 1000000 --jobs 2
    python -m tools.fuzz --target tdx_quote --execs 200000
    python -m tools.fuzz --list

Each target runs in chunks (``--chunk`` executions per libFuzzer process); after every chunk
its executions, time, coverage and findings are added to ``tools/fuzz/results.json``, so an
interrupted run resumes where it stopped and a finished target is skipped. The corpus grows
in ``.fuzz/<target>/corpus`` (not committed); crashes and timeouts land in
``.fuzz/<target>/artifacts``. Needs the ``fuzz`` extra (atheris).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import queue
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "tools" / "fuzz" / "results.json"
WORKDIR = ROOT / ".fuzz"

_STAT = re.compile(r"^stat::(\w+):\s+(\d+)", re.MULTILINE)
_STATUS = re.compile(r"^#(\d+)\s+\w+\s+cov: (\d+) ft: (\d+) corp: (\d+)/", re.MULTILINE)
_EXCEPTION = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception|Warning|Exit|Interrupt))\b(.*)$")


def _load(path: Path) -> dict[str, Any]:
    if path.exists():
        data: dict[str, Any] = json.loads(path.read_text())
        return data
    return {"schema": 1, "targets": {}}


def _save(path: Path, data: dict[str, Any]) -> None:
    data["targets"] = dict(sorted(data["targets"].items()))
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n")
    tmp.replace(path)


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """An exclusive lock beside ``path`` (several runners may share one results file)."""
    import fcntl

    with path.with_suffix(".lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _summary(log: str) -> str:
    marker = log.find("Uncaught Python exception")
    for line in log[marker if marker >= 0 else 0 :].splitlines():
        match = _EXCEPTION.match(line.strip())
        if match:
            return (match.group(1) + match.group(2))[:200]
    if "ALARM" in log or "timeout" in log.lower():
        return "timeout"
    return "unknown (see the log)"


class Runner:
    """Runs chunks of targets and records them (thread-safe result updates)."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.lock = threading.Lock()
        self.results = _load(args.results)
        self.results["atheris"] = _atheris_version()
        self.results["python"] = platform.python_version()
        self.results["command"] = "python -m tools.fuzz --all --execs 1000000 --jobs 2"

    def done(self, name: str) -> int:
        entry = self.results["targets"].get(name, {})
        return int(entry.get("executions", 0))

    def has_open_finding(self, name: str) -> bool:
        entry = self.results["targets"].get(name, {})
        return any(not f.get("fixed") for f in entry.get("findings", []))

    def run_target(self, name: str) -> None:
        from tools.fuzz.targets import target

        spec = target(name)
        base = self.args.workdir / name
        corpus, seeds, artifacts, logs = (
            base / d for d in ("corpus", "seeds", "artifacts", "logs")
        )
        for folder in (corpus, seeds, artifacts, logs):
            folder.mkdir(parents=True, exist_ok=True)
        for i, seed in enumerate(spec.seeds()):
            (seeds / f"seed-{i:03d}").write_bytes(seed)
        while True:
            with self.lock:
                remaining = self.args.execs - self.done(name)
                blocked = self.has_open_finding(name) and not self.args.continue_after_findings
            if remaining <= 0 or blocked:
                return
            runs = min(self.args.chunk, remaining)
            before = set(artifacts.iterdir())
            started = time.monotonic()
            proc = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "tools.fuzz.worker",
                    name,
                    str(corpus),
                    str(seeds),
                    f"-runs={runs}",
                    f"-timeout={self.args.timeout}",
                    f"-rss_limit_mb={self.args.rss_limit_mb}",
                    f"-max_len={spec.max_len}",
                    f"-artifact_prefix={artifacts}/",
                    "-print_final_stats=1",
                ],
                cwd=ROOT,
                env={**os.environ, "PYTHONPATH": str(ROOT)},
                capture_output=True,
                text=True,
                errors="replace",
                check=False,
            )
            seconds = time.monotonic() - started
            log = proc.stdout + proc.stderr
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
            (logs / f"{stamp}.log").write_text(log)
            self._record(name, log, seconds, sorted(set(artifacts.iterdir()) - before), proc)

    def _record(
        self,
        name: str,
        log: str,
        seconds: float,
        new_artifacts: list[Path],
        proc: subprocess.CompletedProcess[str],
    ) -> None:
        stats = {k: int(v) for k, v in _STAT.findall(log)}
        statuses = _STATUS.findall(log)
        executed = stats.get("number_of_executed_units")
        if executed is None:
            executed = int(statuses[-1][0]) if statuses else 0
        findings = []
        for artifact in new_artifacts:
            kind = artifact.name.split("-")[0]
            findings.append(
                {
                    "kind": kind,
                    "artifact": os.path.relpath(artifact, ROOT),
                    "summary": _summary(log),
                    "found": datetime.now(UTC).date().isoformat(),
                    "fixed": False,
                }
            )
        if proc.returncode != 0 and not findings:
            findings.append(
                {
                    "kind": "error",
                    "artifact": None,
                    "summary": f"exit {proc.returncode}: {_summary(log)}",
                    "found": datetime.now(UTC).date().isoformat(),
                    "fixed": False,
                }
            )
        with self.lock, _file_lock(self.args.results):
            # merge with what other runners recorded meanwhile (runs may overlap)
            on_disk = _load(self.args.results)
            on_disk.update({k: v for k, v in self.results.items() if k != "targets"})
            self.results = on_disk
            entry = self.results["targets"].setdefault(
                name, {"executions": 0, "seconds": 0.0, "processes": 0, "findings": []}
            )
            entry["executions"] += executed
            entry["seconds"] = round(entry["seconds"] + seconds, 1)
            entry["processes"] += 1
            entry["exec_per_s"] = round(entry["executions"] / max(entry["seconds"], 1e-9))
            if statuses:
                _, cov, ft, corp = statuses[-1]
                entry["coverage"] = {"cov": int(cov), "ft": int(ft), "corpus": int(corp)}
            entry["peak_rss_mb"] = max(entry.get("peak_rss_mb", 0), stats.get("peak_rss_mb", 0))
            entry["slowest_input_s"] = max(
                entry.get("slowest_input_s", 0), stats.get("slowest_unit_time_sec", 0)
            )
            entry["findings"] += findings
            entry["last_run"] = datetime.now(UTC).date().isoformat()
            _save(self.args.results, self.results)
            print(
                f"{name}: +{executed} runs in {seconds:.0f}s "
                f"(total {entry['executions']}, {entry['exec_per_s']}/s)"
                + (f"; FINDINGS: {[f['summary'] for f in findings]}" if findings else ""),
                flush=True,
            )


def _atheris_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("atheris")
    except PackageNotFoundError:
        return "not installed"


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    from tools.fuzz.targets import TARGETS

    parser = argparse.ArgumentParser(prog="python -m tools.fuzz", description=__doc__)
    parser.add_argument("--all", action="store_true", help="every target")
    parser.add_argument("--target", action="append", default=[], choices=sorted(TARGETS))
    parser.add_argument("--list", action="store_true", help="list the targets and exit")
    parser.add_argument("--execs", type=int, default=1_000_000, help="cumulative runs per target")
    parser.add_argument("--chunk", type=int, default=250_000, help="runs per libFuzzer process")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--timeout", type=int, default=10, help="per-input limit, seconds")
    parser.add_argument("--rss-limit-mb", type=int, default=2048)
    parser.add_argument("--workdir", type=Path, default=WORKDIR)
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument(
        "--continue-after-findings",
        action="store_true",
        help="keep fuzzing a target that has an unfixed finding",
    )
    args = parser.parse_args(argv)
    if args.list:
        for spec in TARGETS.values():
            print(f"{spec.name:22} {spec.covers}")
        return 0
    names = sorted(TARGETS) if args.all else args.target
    if not names:
        parser.error("name a --target or pass --all")
    runner = Runner(args)
    # largest remaining work first, so the two workers finish together
    work: queue.Queue[str] = queue.Queue()
    for name in sorted(names, key=runner.done):
        work.put(name)

    def worker() -> None:
        while True:
            try:
                name = work.get_nowait()
            except queue.Empty:
                return
            runner.run_target(name)

    threads = [threading.Thread(target=worker) for _ in range(max(1, args.jobs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    open_findings = [n for n in names if runner.has_open_finding(n)]
    short = [n for n in names if runner.done(n) < args.execs]
    print(f"targets short of {args.execs}: {short or 'none'}")
    print(f"targets with open findings: {open_findings or 'none'}")
    return 1 if open_findings else 0


if __name__ == "__main__":
    raise SystemExit(main())
