"""The fast CI subset of the fuzz targets (tools/fuzz): seeds, regressions, cheap mutants.

The full coverage-guided run is ``python -m tools.fuzz --all --execs 1000000`` (atheris);
this replays each target's seeds, every checked-in crash reproducer under
``tests/fuzz/regressions/<target>/`` and a fixed set of deterministic random mutants, and
asserts the fuzz invariant: only ``TeeclientError`` subclasses escape, and no input is slow.
"""

from __future__ import annotations

import contextlib
import random
import time
from pathlib import Path

import pytest
from tools.fuzz.targets import TARGETS, Target

from teeclient.errors import TeeclientError

REGRESSIONS = Path(__file__).resolve().parent / "regressions"
MUTANTS_PER_TARGET = 150
#: Generous: a parser needs milliseconds; the libFuzzer run uses a 10 s per-input limit.
SLOW_INPUT_SECONDS = 2.0

pytestmark = [pytest.mark.fuzz, pytest.mark.filterwarnings("ignore::UserWarning")]


def mutate(rng: random.Random, data: bytes, other: bytes) -> bytes:
    """One cheap structural mutation: flip, overwrite, insert, delete, cut, splice, repeat."""
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(7)
        at = rng.randrange(len(out) + 1)
        if op == 0 and out:
            out[min(at, len(out) - 1)] ^= 1 << rng.randrange(8)
        elif op == 1 and out:
            out[min(at, len(out) - 1)] = rng.choice([0x00, 0xFF, 0x7F, 0x80, 0x22, 0x7B])
        elif op == 2:
            out[at:at] = rng.randbytes(rng.randint(1, 8))
        elif op == 3:
            del out[at : at + rng.randint(1, 64)]
        elif op == 4:
            del out[at:]
        elif op == 5 and other:
            cut = rng.randrange(len(other) + 1)
            out[at:] = other[cut:]
        elif op == 6:
            out[at:at] = bytes(out[at : at + rng.randint(1, 16)]) * rng.randint(2, 8)
    return bytes(out)


def inputs(target: Target) -> list[tuple[str, bytes]]:
    seeds = target.seeds()
    out = [(f"seed-{i}", s) for i, s in enumerate(seeds)]
    folder = REGRESSIONS / target.name
    if folder.is_dir():
        out += [(p.name, p.read_bytes()) for p in sorted(folder.iterdir())]
    rng = random.Random(target.name)
    for i in range(MUTANTS_PER_TARGET):
        out.append((f"mutant-{i}", mutate(rng, rng.choice(seeds), rng.choice(seeds))))
    out += [("empty", b""), ("nul", b"\x00"), ("ff", b"\xff" * 64)]
    return out


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_only_typed_errors_escape(name: str) -> None:
    target = TARGETS[name]
    slow = []
    for label, data in inputs(target):
        for entry in target.entries:
            started = time.perf_counter()
            with contextlib.suppress(TeeclientError):
                entry(data)
            elapsed = time.perf_counter() - started
            if elapsed > SLOW_INPUT_SECONDS:
                slow.append((label, entry.__name__, round(elapsed, 2)))
    assert slow == []


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_seeds_exercise_the_parser(name: str) -> None:
    """At least one seed of every target parses cleanly (the corpus is not all rejects)."""
    target = TARGETS[name]
    parsed = 0
    for seed in target.seeds():
        try:
            target.entries[0](seed)
        except TeeclientError:
            continue
        parsed += 1
    assert parsed >= 1


def test_every_regression_folder_names_a_target() -> None:
    assert {p.name for p in REGRESSIONS.iterdir() if p.is_dir()} <= set(TARGETS)
