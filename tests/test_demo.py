"""The demo's parallel path (``make demo`` on a CPU runs several single-thread training
processes at once) gives the same results as one run after the other: every run is seeded,
so the rows may not depend on the number of workers."""

import pytest

from mini_timesformer.demo import BUDGETS, make_data
from mini_timesformer.demo.run import _run_jobs


@pytest.mark.slow
def test_parallel_runs_match_sequential_runs(tmp_path):
    budget = BUDGETS["smoke"]
    data = {"motion": make_data("motion", budget)}
    jobs = [("motion", "space", 2), ("motion", "divided", 2)]
    rows = {}
    for workers in (1, 2):
        out = tmp_path / f"w{workers}"
        rows[workers] = _run_jobs(jobs, data, budget, out, "cpu", 1, 0, workers)
    assert all(isinstance(row, dict) for row in rows[2])  # the process pool fills every row
    for one, two in zip(rows[1], rows[2]):
        assert one["accuracy"] == two["accuracy"] and one["params"] == two["params"]
        assert one["steps"] == two["steps"] == 2
