"""The benchmark's own arithmetic (the floor, the naive way, the CPU share and its cgroup, the profiler's
parts), and one tiny case run end to end through its processes. Figures come from ``make bench``: no
time is asserted here."""

from __future__ import annotations

import gc
import math
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.bench import GOALS, Bench, Case, multi_step_figures, run_case, summarise
from tests.bench_cpu import (
    DEPLOY_SCRIPT,
    CpuQuota,
    NoQuota,
    deploy_share,
    find_cpu_hierarchy,
    memory_mib,
    quota_us,
    vcpus_for_memory,
)
from tests.bench_floor import (
    Latency,
    callmarker_floor_s,
    callmarker_rounds,
    naive_total_s,
    sheets_round_trips,
    step_floor_s,
    steps_allowed,
)
from tests.bench_profile import GC, UNATTRIBUTED, Sampler, classify
from tests.stack import Stack, local_stack

LATENCY = Latency(sheets_s=0.15, request_s=0.2, per_customer_s=0.0001)

# ------------------------------------------------------------------------------------------- the floor


def test_two_reads_made_at_once_are_one_round_trip_and_calls_one_after_another_are_one_each() -> None:
    opened = (0.00, 0.16)
    formatted, raw = (0.17, 0.50), (0.18, 0.45)  # both renders asked for at once
    key_column, write = (2.10, 2.30), (2.31, 2.60)
    assert sheets_round_trips([write, raw, opened, key_column, formatted]) == 4
    assert sheets_round_trips([]) == 0
    # a call that starts inside another's wait, and a third inside the second's, still overlap: one trip
    assert sheets_round_trips([(0.0, 1.0), (0.9, 2.0), (1.5, 2.5)]) == 1


def test_callmarker_rounds_are_whole_rounds_of_requests() -> None:
    # 9,473 customers are 19 requests: 5 rounds of 4, not the 4.75 a fraction would count
    assert callmarker_rounds(9_473, 500, 4) == 5
    assert callmarker_rounds(2_000, 500, 4) == 1
    assert callmarker_rounds(2_001, 500, 4) == 2
    assert callmarker_rounds(0, 500, 4) == 0
    full = 0.2 + 0.0001 * 500
    assert callmarker_floor_s(9_473, 500, 4, LATENCY) == pytest.approx(5 * full)
    # a last round of one request lasts as long as that request, with its own customers
    assert callmarker_floor_s(2_100, 500, 4, LATENCY) == pytest.approx(full + 0.2 + 0.0001 * 100)
    assert callmarker_floor_s(0, 500, 4, LATENCY) == 0.0


def test_a_step_floor_is_its_sheets_round_trips_and_its_callmarker_rounds() -> None:
    floor = step_floor_s(4, 9_473, batch=500, concurrency=4, latency=LATENCY)
    assert floor == pytest.approx(4 * 0.15 + 5 * 0.25)


def test_a_job_may_take_one_step_more_than_its_waits_fill() -> None:
    assert steps_allowed(97.0, 45.0) == 4
    assert steps_allowed(90.0, 45.0) == 3
    assert steps_allowed(1.0, 45.0) == 2


def test_the_naive_way_is_held_to_the_write_quota_of_60_writes_a_minute() -> None:
    # a script measured at 0.356 s a row still writes at most 60 cells a minute: 10,000 rows are 10,000 s
    assert naive_total_s(10_000, 0.356) == (10_000.0, "write quota")
    assert naive_total_s(10_000, 2.0) == (20_000.0, "measured")
    assert naive_total_s(100_000, 0.356)[0] == pytest.approx(100_000 / 60 * 60)


# ------------------------------------------------------------------------------------- the CPU share

V1_MOUNTS = """\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
"""
V1_CGROUP = "4:memory:/process_api/7e15\n3:cpuset:/\n2:cpuacct:/\n1:cpu:/bench\n0::/\n"
V2_MOUNTS = "29 23 0:26 /docker/abc /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n"


def test_the_deploys_share_is_cloud_runs_cpu_for_its_memory_unless_it_sets_cpu() -> None:
    plain = 'MEMORY="${MEMORY:-512Mi}"\nCPU="${CPU:-}"\n'
    assert deploy_share(plain).vcpus == 0.333
    assert deploy_share(plain).cpu is None
    assert deploy_share(plain.replace("CPU:-", "CPU:-1")).vcpus == 1.0
    assert deploy_share(plain, override=2.0).vcpus == 2.0
    assert deploy_share('MEMORY="${MEMORY:-2Gi}"\n').vcpus == 1.0


def test_the_share_is_read_from_the_deploy_script_as_it_is() -> None:
    share = deploy_share(DEPLOY_SCRIPT.read_text())
    # the benchmark must notice if the script stops saying its memory the way it reads it
    assert "--memory" in share.source
    assert share.vcpus == (float(share.cpu) if share.cpu else vcpus_for_memory(share.memory))


def test_memory_sizes_map_to_cloud_run_functions_cpu_by_tier() -> None:
    assert memory_mib("512Mi") == 512
    assert memory_mib("1Gi") == 1024
    assert memory_mib("512M") == pytest.approx(488.28, abs=0.01)
    assert vcpus_for_memory("512M") == 0.333
    assert vcpus_for_memory("768Mi") == 0.583  # between tiers: the larger one's CPU
    assert vcpus_for_memory("32Gi") == 8.0
    with pytest.raises(ValueError, match="not a memory size"):
        memory_mib("lots")
    with pytest.raises(ValueError, match="more than"):
        vcpus_for_memory("64Gi")


def test_a_quota_is_the_share_of_each_100_ms_period() -> None:
    assert quota_us(0.333) == 33_300
    assert quota_us(1) == 100_000
    assert quota_us(2) == 200_000
    assert quota_us(0.001) == 1000  # the kernel's least
    with pytest.raises(ValueError, match="more than 0"):
        quota_us(0)


def test_the_cpu_controller_is_found_in_cgroup_v1_or_v2() -> None:
    v1 = find_cpu_hierarchy(V1_MOUNTS, V1_CGROUP, {"/sys/fs/cgroup/unified": "hugetlb\n"})
    assert (v1.version, v1.own) == (1, Path("/sys/fs/cgroup/cpu/bench"))
    # v2 is preferred when its cpu controller is there; a container's cgroup namespace root is stripped
    v2 = find_cpu_hierarchy(
        V1_MOUNTS + V2_MOUNTS.replace("/sys/fs/cgroup ", "/sys/fs/cgroup/v2 "),
        "0::/docker/abc/job\n1:cpu:/\n",
        {"/sys/fs/cgroup/unified": "hugetlb", "/sys/fs/cgroup/v2": "cpuset cpu io memory pids"},
    )
    assert (v2.version, v2.own) == (2, Path("/sys/fs/cgroup/v2/job"))
    with pytest.raises(NoQuota, match="no cgroup hierarchy"):
        find_cpu_hierarchy(V2_MOUNTS, "0::/\n", {"/sys/fs/cgroup": "memory pids"})


def test_a_quota_is_a_cgroup_of_its_own_removed_after_or_a_reason_why_there_is_none() -> None:
    reason = ""
    try:
        quota = CpuQuota.make(0.5, name=f"callmarker-test-{os.getpid()}")
    except NoQuota as exc:
        reason = str(exc)
    if reason:  # not root, or no cpu controller here: the benchmark says which
        assert "cgroup" in reason or "root" in reason
        return
    try:
        limit = "cpu.max" if quota.hierarchy.version == 2 else "cpu.cfs_quota_us"
        assert (quota.path / limit).read_text().split()[0] == "50000"
        assert quota.throttled() == {"periods": 0, "throttled_periods": 0, "throttled_s": 0.0}
    finally:
        quota.remove()
    assert not quota.path.exists()


def test_without_root_there_is_no_quota_and_the_benchmark_is_told_why(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(NoQuota, match="not running as root"):
        CpuQuota.make(0.333)


# ---------------------------------------------------------------------------------------- the profiler


def _stack(*frames: str) -> list[tuple[str, str]]:
    """Frames written innermost first as "file:function"."""
    return [(frame.rsplit(":", 1)[0], frame.rsplit(":", 1)[1]) for frame in frames]


SHEET = "callmarker_sheets/sheet.py"
STEP = "callmarker_sheets/upload.py:run_step"


@pytest.mark.parametrize(
    ("part", "frames"),
    [
        ("fingerprints", ("json/encoder.py:JSONEncoder.iterencode", f"{SHEET}:row_fingerprint", STEP)),
        ("validation", ("phonenumbers/phonenumberutil.py:parse", "callmarker_sheets/validate.py:validate")),
        # Google's answer decoded while writing the statuses is decoding
        (
            "Sheets decoding",
            (
                "json/decoder.py:JSONDecoder.raw_decode",
                "requests/models.py:Response.json",
                f"{SHEET}:Sheet.write",
            ),
        ),
        ("status write", ("requests/models.py:PreparedRequest.prepare_body", f"{SHEET}:Sheet.write")),
        (
            "CallMarker body encoding",
            (
                "json/encoder.py:JSONEncoder.encode",
                "httpx/_content.py:encode_json",
                "callmarker_sheets/callmarker.py:CallMarkerClient._send",
            ),
        ),
        # a failing import under httpcore's lock is httpx/asyncio's, not the import system's
        (
            "httpx/asyncio",
            (
                "<frozen importlib._bootstrap>:_find_spec",
                "httpcore/_synchronization.py:current_async_library",
            ),
        ),
        ("building rows", (f"{SHEET}:Sheet.read", STEP)),
        # a comprehension inside the read is the read's, not the step's
        ("building rows", (f"{SHEET}:Sheet.read.<locals>.<genexpr>", STEP)),
        (
            "Sheets HTTP (requests, urllib3)",
            ("socket.py:SocketIO.readinto", "urllib3/response.py:HTTPResponse.read", f"{SHEET}:Sheet.read"),
        ),
        (
            "Sheets HTTP (requests, urllib3)",
            (f"{SHEET}:RetryingHTTPClient.request", f"{SHEET}:Sheet._batch_get"),
        ),
        (
            "logs",
            (
                "logging/__init__.py:StreamHandler.emit",
                "callmarker_sheets/callmarker.py:CallMarkerClient._log",
            ),
        ),
        (
            "statuses and the answer",
            ("callmarker_sheets/upload.py:run_step.<locals>.<listcomp>", "main.py:upload_rows"),
        ),
        ("other", ("somewhere.py:elsewhere",)),
    ],
)
def test_each_stack_is_charged_to_the_part_of_a_step_it_works_for(part: str, frames: tuple[str, ...]) -> None:
    assert classify(_stack(*frames)) == part


def _spin(seconds: float) -> None:
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


def test_the_sampler_charges_every_thread_and_times_the_collector_apart() -> None:
    sampler = Sampler(interval_s=0.002)
    sampler.start()
    try:
        worker = threading.Thread(target=_spin, args=(0.2,))
        worker.start()
        for _ in range(3):
            gc.collect()
        worker.join()
        time.sleep(0.01)
    finally:
        sampler.stop()
    figures = sampler.figures()
    parts = figures["parts_s"]
    assert figures["gc"]["full_collections"] >= 3
    assert parts[GC] > 0
    # the spinning thread's 0.2 s of CPU, but for what it used after the last look: its file is no part's
    assert parts["other"] >= 0.1
    # no second is charged twice (the collector's out of its thread's share): together, no more than used
    charged = sum(seconds for part, seconds in parts.items() if part != UNATTRIBUTED)
    assert charged <= figures["process_cpu_s"] + 0.01


# ----------------------------------------------------------------------------------------------- goals


def _result(**figures: object) -> dict[str, object]:
    base = {
        "mode": "selected",
        "ratio_to_floor": 1.2,
        "sheets_calls_per_step": 5,
        "peak_rss_mb": 90.0,
        "cpu_s_per_10k_rows": 0.4,
        "sends_per_customer": {"mean": 1.0, "max": 1},
        "rows": 10_000,
        "per_step": [],
    }
    return {**base, **figures}


def test_goals_missed_are_named_and_figures_not_measured_are_not_counted_as_met_or_missed() -> None:
    results = {"10k": _result(), "50k": _result(ratio_to_floor=1.45, cpu_s_per_10k_rows=0.7)}
    summary = summarise(results, {"validation_rows_per_s": 200_000})
    assert summary["ratio_to_floor"] == 1.45
    assert summary["missed_goals"] == ["ratio_to_floor", "cpu_s_per_10k_rows"]
    assert "ratio_to_floor_pending" in summary["not_measured"]
    assert "steps_without_progress" in summary["not_measured"]
    assert set(summary["goals"]) == set(GOALS)


def test_a_step_that_finished_no_row_is_flagged() -> None:
    steps = [
        {"rows": 20_000, "customers_sent": 19_000, "seconds": 44.0, "floor_s": 40.6, "sheets_round_trips": 4},
        {"rows": 0, "customers_sent": 0, "seconds": 44.0, "floor_s": 0.6, "sheets_round_trips": 4},
        {"rows": 30_000, "customers_sent": 28_500, "seconds": 60.0, "floor_s": 58.0, "sheets_round_trips": 4},
    ]
    figures = multi_step_figures(
        {"rows": 50_000, "finished": True, "callmarker_request_s": 4.0, "per_step": steps}
    )
    assert figures["steps_without_progress"] == [2]
    # 47,500 customers are 95 requests, 24 rounds of 4.05 s, and 4 round trips: 97.8 s, so 4 steps at most
    assert figures["work_s"] == pytest.approx(4 * 0.15 + 24 * 4.05)
    assert figures["steps_allowed"] == math.ceil(figures["work_s"] / 45) + 1 == 4


# ------------------------------------------------------------------------------------- a tiny case


@pytest.fixture
def stack() -> Iterator[Stack]:
    with local_stack() as stack:
        yield stack


def test_a_tiny_profiled_case_runs_through_the_emulator_and_function_processes(stack: Stack) -> None:
    bench = Bench(stack, quota=None)  # no cgroup in tests: figures here are not timed
    # enough rows for validation to take a few of the sampler's 5 ms looks (3,000 rows: about 30 ms)
    result = run_case(bench, Case("tiny", 3000, profiled=True, title="3,000 rows"), seed=3)
    assert result["finished"]
    assert result["steps"] == 1
    (step,) = result["per_step"]
    assert step["rows"] == 3000
    assert step["callmarker_requests"] == math.ceil(step["customers_sent"] / 500)
    assert step["sheets_round_trips"] < sum(step["sheets_calls"].values())  # the two reads at once
    assert result["sends_per_customer"] == {"mean": 1.0, "max": 1}
    assert result["floor_s"] == pytest.approx(step["floor_s"])
    assert result["cpu_s"] > 0
    assert result["peak_rss_mb"] >= result["idle_rss_mb"] > 0
    profile = result["profile"]
    assert profile["parts_s"]["validation"] > 0
    assert profile["process_cpu_s"] > 0
