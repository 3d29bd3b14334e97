"""The deadline benchmark's scenario runs end to end on a small scale (its figures come from make bench)."""

from __future__ import annotations

from tests.bench_deadline import deadline_scenario


def test_the_deadline_scenario_reports_each_step_of_a_job_that_met_a_cold_start_and_429s() -> None:
    result = deadline_scenario(
        cold_start_s=0.2, where="write", retry_after=None, rows=60, callmarker_latency_s=0.0, budget_s=20.0
    )
    steps = result["steps"]
    assert steps
    assert result["latest_answer_s"] == max(step["answer_s"] for step in steps)
    # three 429s without Retry-After (waits of at most 1, 2 and 4 s) fit in the budget: statuses written
    assert steps[-1]["status"] == 200
    assert steps[-1]["done"] is True
    assert steps[-1]["processed_rows"] == 60
