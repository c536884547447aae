"""Stratified sample of the exhaustive byte-flip sweep (tools/exhaustive.py) for CI.

Every (platform, vector, region) job of the sweep runs here with a 1-in-``STRIDE`` sample
(at least one mutant per region); the full sweep is ``python -m tools.exhaustive --jobs 2``
(or ``pytest -m exhaustive``) and its counts are recorded in tools/results/exhaustive.json.
Every mutant must be rejected with a typed error, or leave the verified claims unchanged
(an unused redundant copy); regions that are not authenticated by design are only checked
for typed errors.
"""

from __future__ import annotations

import json

import pytest
from tools.exhaustive import PLATFORMS, RESULTS, Job, all_jobs, run_job

STRIDE = 499  # prime, so the sampled offsets drift across the fields of each region
JOBS = all_jobs()

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def _check(job: Job, stride: int) -> None:
    result = run_job(job, stride)
    assert result.untyped == []
    if job.region not in PLATFORMS[job.platform].ignored:
        assert result.accepted == []
    assert result.mutants > 0 or job.region == "quote.trailing"


@pytest.mark.parametrize("job", JOBS, ids=[j.key for j in JOBS])
def test_sampled_mutants_are_rejected(job: Job) -> None:
    _check(job, STRIDE)


@pytest.mark.exhaustive
@pytest.mark.parametrize("job", JOBS, ids=[j.key for j in JOBS])
def test_every_mutant_is_rejected(job: Job) -> None:
    _check(job, 1)


def test_recorded_full_sweep_rejected_everything() -> None:
    """The checked-in record of the last full sweep: no accepted or untyped mutant."""
    record = json.loads(RESULTS.read_text())
    assert record["stride"] == 1
    assert set(record["platforms"]) == set(PLATFORMS)
    for entry in record["platforms"].values():
        assert entry["accepted"] == 0
        assert entry["untyped"] == 0
        assert entry["rejected"] + entry["unused"] == entry["mutants"] > 0
