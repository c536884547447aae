"""Coverage-guided fuzzing of every teeclient parser (atheris/libFuzzer).

``python -m tools.fuzz --all --execs 1000000`` brings every target to at least one million
executions (resumable: counts accumulate in ``tools/fuzz/results.json``). The invariant each
harness enforces: only ``teeclient.errors.TeeclientError`` subclasses escape a parser, and no
input runs longer than the per-input timeout. The targets live in ``targets.py``; the fast
CI subset is ``tests/fuzz/test_fuzz_targets.py``. See docs/security.md.
"""
