"""``make bench``: what a user gets from the function as it is deployed, against both emulators with latency.

The emulators run as processes of their own; the function runs under functions-framework as its own
process, alone in a cgroup that holds it to the CPU the deploy gives it (``tests/bench_cpu.py``), with
the settings it is deployed with (50,000 rows a job, a 45 s step). Each case prints every step's time
beside its floor (``tests/bench_floor.py``), the function's CPU and memory, and its goal; then come the
CPU breakdown of a profiled run (``tests/bench_profile.py``), the naive way, sends per customer and the
cold start. The last line is one JSON object with every figure (docs/benchmark.md).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import math
import os
import signal
import statistics
import sys
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx
from google.oauth2.credentials import Credentials
from gspread.utils import ValueInputOption

from callmarker_sheets import collector
from callmarker_sheets.callmarker import CallMarkerClient
from callmarker_sheets.config import Settings
from callmarker_sheets.fields import map_headers
from callmarker_sheets.model import Outcome, UploadItem
from callmarker_sheets.sheet import STATUS_COLUMNS, connect
from callmarker_sheets.validate import JobOptions, validate_rows
from tests.bench_cpu import DEPLOY_SCRIPT, CpuQuota, NoQuota, Share, cores, deploy_share, whole_cores_note
from tests.bench_floor import (
    Latency,
    callmarker_floor_s,
    naive_total_s,
    sheets_round_trips,
    step_floor_s,
    steps_allowed,
)
from tests.bench_function import FunctionProcess, cpu_s
from tests.bench_profile import GC, PARTS, PROFILER, UNATTRIBUTED
from tests.rowgen import HEADERS, PHONE, make_rows, sheet_of
from tests.stack import (
    CALLMARKER_TOKEN,
    CAMPAIGN,
    TEST_CLIENT_OAUTH_TOKEN,
    CallMarkerProcess,
    SheetsProcess,
    Stack,
    env_for_processes,
    local_stack,
)

#: The latencies the figures are taken at: one Sheets API call; one CallMarker request, and per customer.
LATENCY = Latency(sheets_s=0.15, request_s=0.2, per_customer_s=0.0001)
_DEPLOYED: dict[str, Any] = {f.name: f.default for f in dataclasses.fields(Settings)}
#: The settings the function is deployed with (deploy/function.sh sets none of these: config's defaults).
BATCH: int = _DEPLOYED["callmarker_batch_size"]
CONCURRENCY: int = _DEPLOYED["callmarker_concurrency"]
BUDGET_S: float = _DEPLOYED["time_budget_s"]
MAX_ROWS: int = _DEPLOYED["max_rows"]
INVALID_SHARE = 0.05
#: CallMarker slow enough that no step can hold more than 11 rounds of requests (22,000 rows): a job of
#: 50,000 rows needs 3 steps or more, however fast the function.
MULTI_STEP_REQUEST_S = 4.0
#: CallMarker as slow as makes the function's first step, as it is today, finish about 45,000 of 50,000
#: rows (21 rounds). A function that then finishes the job in one step meets a CallMarker 20% slower.
AFTER_FIRST_REQUEST_S = 1.6
AFTER_FIRST_SLOWER = 1.2
NAIVE_SAMPLE = 40
VALIDATION_ROWS = 20_000
#: validate_rows on one core of the benchmark's machine before the performance work (rows a second).
VALIDATION_BEFORE = 55_000
CLIENT_ROWS = 100_000
CLIENT_REQUEST_S = 0.1
MAX_STEPS = 30
#: Each figure's goal, at most (at least for those in AT_LEAST): the "Done when" of the performance work,
#: and the goals kept from before it.
GOALS: dict[str, float] = {
    "ratio_to_floor": 1.3,
    "ratio_to_floor_pending": 1.4,
    "speedup_vs_naive": 100,
    "sheets_calls_per_step": 6,
    "peak_rss_mb": 300,
    "validation_rows_per_s": 2 * VALIDATION_BEFORE,
    "cpu_s_per_10k_rows": 0.5,
    "sends_per_customer": 1.0,
    "steps_without_progress": 0,
    "step_after_first_ratio": 1.5,
}
AT_LEAST = frozenset({"speedup_vs_naive", "validation_rows_per_s"})

Mode = Literal["selected", "pending"]


@dataclass(frozen=True)
class Case:
    """One job (or, in pending mode, the jobs until every valid row is uploaded) measured end to end."""

    name: str
    rows: int
    mode: Mode = "selected"
    request_s: float = LATENCY.request_s
    profiled: bool = False
    title: str = ""

    @property
    def latency(self) -> Latency:
        return dataclasses.replace(LATENCY, request_s=self.request_s)


CASES: dict[str, Case] = {
    case.name: case
    for case in (
        Case("10k", 10_000, title="10,000 selected rows"),
        Case("50k", 50_000, title="50,000 selected rows (a job's most)"),
        Case("100k_pending", 100_000, "pending", title="Upload all pending rows over a 100,000-row sheet"),
        Case(
            "multi_step",
            50_000,
            request_s=MULTI_STEP_REQUEST_S,
            title="50,000 rows, CallMarker slow enough for 3 steps or more",
        ),
        Case(
            "after_first_step",
            50_000,
            request_s=AFTER_FIRST_REQUEST_S,
            title="50,000 rows, CallMarker slow enough for two steps: the step after a full one",
        ),
        Case("profile", 50_000, profiled=True, title="50,000 selected rows, profiled"),
        Case(
            "profile_pending",
            100_000,
            "pending",
            profiled=True,
            title="Upload all pending rows over a 100,000-row sheet, profiled",
        ),
    )
}
#: The cases users meet as they are: the goals on the ratio to the floor, CPU and the naive way are theirs.
TIMED = ("10k", "50k", "100k_pending")
QUICK = ("10k", "profile")
FULL = ("10k", "50k", "100k_pending", "multi_step", "after_first_step", "profile")
EXTRAS = ("naive", "validation", "sends", "cold_start", "client", "deadline")


# ------------------------------------------------------------------------------------------- a step


@dataclass
class Step:
    """One call to the function, as the emulators and the function's answer saw it."""

    seconds: float
    sheets_calls: dict[str, int]
    round_trips: int
    requests: int
    customers: int
    rows: int
    floor_s: float
    phases: dict[str, float]

    @property
    def ratio(self) -> float:
        return self.seconds / self.floor_s if self.floor_s else math.inf

    def to_json(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "customers_sent": self.customers,
            "seconds": round(self.seconds, 3),
            "floor_s": round(self.floor_s, 3),
            "ratio_to_floor": round(self.ratio, 3),
            "sheets_calls": self.sheets_calls,
            "sheets_round_trips": self.round_trips,
            "callmarker_requests": self.requests,
            "phases_s": {k: round(v, 3) for k, v in self.phases.items()},
        }


def phases(
    started: float, ended: float, calls: list[dict[str, Any]], requests: list[dict[str, Any]]
) -> dict[str, float]:
    """Where a step's time went, from the emulators' logs: reading (until the last Sheets answer before
    the first CallMarker request), validating until that request, uploading, writing and answering."""
    if not requests:
        return {}
    first_sent = min(r["arrived"] for r in requests)
    last_done = max(r["answered"] for r in requests)
    read_end = max((c["answered"] for c in calls if c["answered"] <= first_sent), default=started)
    return {
        "open_and_read": read_end - started,
        "parse_and_validate": max(first_sent - read_end, 0.0),
        "upload": last_done - first_sent,
        "write_and_answer": max(ended - last_done, 0.0),
    }


@dataclass
class Job:
    steps: list[Step] = field(default_factory=list)
    answer: dict[str, Any] = field(default_factory=dict)
    stalled: bool = False


class Run:
    """A case's emulators and function, and the add-in's loop over them."""

    def __init__(
        self, stack: Stack, sheets: SheetsProcess, callmarker: CallMarkerProcess, function: FunctionProcess
    ) -> None:
        self.stack = stack
        self.sheets = sheets
        self.callmarker = callmarker
        self.function = function
        self.sends: Counter[str] = Counter()

    def job(self, body: dict[str, Any], latency: Latency) -> Job:
        """Call until done, passing the cursor back; three steps in a row without progress stop it."""
        job = Job()
        cursor = None
        processed = 0
        for _ in range(MAX_STEPS):
            started = time.monotonic()
            response = self.stack.call({**body, **({"cursor": cursor} if cursor else {})})
            ended = time.monotonic()
            if response.status_code != 200:
                raise SystemExit(f"the function answered {response.status_code}: {response.text[:500]}")
            answer = response.json()
            step = self._step(started, ended, answer["processed_rows"] - processed, latency)
            processed = answer["processed_rows"]
            job.steps.append(step)
            job.answer = answer
            if answer["done"]:
                return job
            if len(job.steps) >= 3 and all(s.rows == 0 for s in job.steps[-3:]):
                job.stalled = True
                return job
            cursor = answer["cursor"]
        job.stalled = True
        return job

    def _step(self, started: float, ended: float, rows: int, latency: Latency) -> Step:
        calls = [c for c in self.sheets.call_log() if started <= c["arrived"] <= ended]
        requests = [r for r in self.callmarker.requests() if started <= r["arrived"] <= ended]
        self.sheets.reset_calls()
        self.callmarker.clear_requests()
        numbers = [c["number"] for r in requests for c in r["body"].get("customers", [])]
        self.sends.update(numbers)
        customers = len(set(numbers))
        trips = sheets_round_trips((c["arrived"], c["answered"]) for c in calls)
        return Step(
            seconds=ended - started,
            sheets_calls=dict(Counter(c["kind"] for c in calls)),
            round_trips=trips,
            requests=len(requests),
            customers=customers,
            rows=rows,
            floor_s=step_floor_s(trips, customers, batch=BATCH, concurrency=CONCURRENCY, latency=latency),
            phases=phases(started, ended, calls, requests),
        )


# ------------------------------------------------------------------------------------------- the bench


class Bench:
    """What every case shares: the ID-token issuer (the stack's), the CPU quota, the start times."""

    def __init__(self, stack: Stack, quota: CpuQuota | None) -> None:
        self.stack = stack
        self.quota = quota
        self.start_s: list[float] = []

    @contextmanager
    def run(self, profiled: bool = False) -> Iterator[Run]:
        """Fresh emulators and a fresh function (alone under the quota) for one case."""
        sheets, callmarker = SheetsProcess(), CallMarkerProcess()
        function: FunctionProcess | None = None
        try:
            # the function logs as deployed (INFO), into its own log file
            env = {**env_for_processes(self.stack, sheets, callmarker), "LOG_LEVEL": "INFO"}
            function = FunctionProcess(env, procs=self.quota.procs if self.quota else None, profiled=profiled)
            self.start_s.append(function.start_s)
            self.stack.function_url = function.url
            yield Run(self.stack, sheets, callmarker, function)
        finally:
            if function is not None:
                function.close()
            sheets.close()
            callmarker.close()

    def throttled(self) -> dict[str, float]:
        return self.quota.throttled() if self.quota else {}


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def run_case(bench: Bench, case: Case, seed: int) -> dict[str, Any]:
    load_before = _load()
    slow = f", CallMarker {case.request_s:g} s a request" if case.request_s != LATENCY.request_s else ""
    print(
        f"\n== {case.title}: {case.rows:,} rows ({INVALID_SHARE:.0%} invalid){slow} · load {load_before} =="
    )
    _, rows, expected = make_rows(case.rows, invalid_share=INVALID_SHARE, seed=seed)
    valid = sum(e.valid for e in expected)
    throttled_before = bench.throttled()
    with bench.run(profiled=case.profiled) as run:
        spreadsheet_id, gid = run.sheets.seed(sheet_of(rows), columns=len(HEADERS) + len(STATUS_COLUMNS))
        del rows
        idle = run.function.peak_rss_mb()
        body = {
            "spreadsheet_id": spreadsheet_id,
            "sheet_id": gid,
            "mode": case.mode,
            "action": "upload",
            "options": {"campaign": CAMPAIGN},
            **({"rows": [[2, case.rows + 1]]} if case.mode == "selected" else {}),
        }
        run.sheets.set_latency(LATENCY.sheets_s)
        run.callmarker.configure(latency=case.request_s, latency_per_customer=LATENCY.per_customer_s)
        run.sheets.reset_calls()
        run.callmarker.clear_requests()
        before = run.function.figures() if case.profiled else None
        cpu_before = run.function.cpu_s()
        emulators_before = cpu_s([run.sheets.pid, run.callmarker.pid])
        jobs = [run.job(body, case.latency)]
        while case.mode == "pending" and _uploaded(jobs) < valid and not jobs[-1].stalled and len(jobs) < 10:
            jobs.append(run.job(body, case.latency))
        cpu = run.function.cpu_s() - cpu_before
        emulators = cpu_s([run.sheets.pid, run.callmarker.pid]) - emulators_before
        profile = _profile_delta(before, run.function.figures()) if before is not None else None
        rss = run.function.peak_rss_mb()
        run.sheets.set_latency(0.0)
        run.callmarker.configure(latency=0.0, latency_per_customer=0.0)
        finished = not any(job.stalled for job in jobs)
        if finished:
            check_outcome(run, spreadsheet_id, valid, case.rows - valid)
        sends = run.sends
    result = _case_figures(case, jobs, cpu=cpu, rss=rss, idle=idle, sends=sends, finished=finished)
    result["emulators_cpu_s"] = round(emulators, 3)
    result["load"] = {"before": load_before, "after": _load()}
    result["cpu_throttled"] = _throttled_delta(throttled_before, bench.throttled())
    result["start_s"] = round(bench.start_s[-1], 3)
    if profile is not None:
        result["profile"] = profile
    print_case(case, jobs, result)
    return result


def run_after_first_step(bench: Bench, seed: int, tries: int = 3) -> dict[str, Any]:
    """The job of two steps, the first as full as the function makes it: a CallMarker whose first step
    could finish the whole job is slowed, and the job run again."""
    case = CASES["after_first_step"]
    for _ in range(tries):
        result = run_case(bench, case, seed)
        if result["steps"] > 1:
            break
        slower = round(case.request_s * AFTER_FIRST_SLOWER, 3)
        print(f"the first step finished the job: again with CallMarker at {slower:g} s a request")
        case = dataclasses.replace(case, request_s=slower)
    return result


def _uploaded(jobs: list[Job]) -> int:
    return sum(job.answer.get("counts", {}).get("uploaded", 0) for job in jobs)


def _throttled_delta(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {key: round(after[key] - before.get(key, 0), 3) for key in after}


def _case_figures(
    case: Case, jobs: list[Job], *, cpu: float, rss: float, idle: float, sends: Counter[str], finished: bool
) -> dict[str, Any]:
    steps = [step for job in jobs for step in job.steps]
    seconds = sum(s.seconds for s in steps)
    floor = sum(s.floor_s for s in steps)
    return {
        "case": case.name,
        "rows": case.rows,
        "mode": case.mode,
        "callmarker_request_s": case.request_s,
        "finished": finished,
        "jobs": len(jobs),
        "steps": len(steps),
        "steps_per_job": [len(job.steps) for job in jobs],
        "sheets_calls_per_step": max(sum(s.sheets_calls.values()) for s in steps),
        "callmarker_requests": sum(s.requests for s in steps),
        "seconds": round(seconds, 3),
        "floor_s": round(floor, 3),
        "ratio_to_floor": round(seconds / floor, 3),
        "cpu_s": round(cpu, 3),
        "cpu_s_per_10k_rows": round(cpu / case.rows * 10_000, 3),
        "peak_rss_mb": round(rss, 1),
        "idle_rss_mb": round(idle, 1),
        "sends_per_customer": _sends(sends),
        "per_step": [s.to_json() for s in steps],
    }


def _sends(sends: Counter[str]) -> dict[str, float]:
    if not sends:
        return {"mean": 0.0, "max": 0}
    return {"mean": round(sum(sends.values()) / len(sends), 4), "max": max(sends.values())}


def check_outcome(run: Run, spreadsheet_id: str, valid: int, invalid: int) -> None:
    """Figures of a job that did not do its work would mean nothing: every row must show its result."""
    header = run.sheets.values(spreadsheet_id, "Sheet1!1:1")[0]
    column = _letters(header.index(STATUS_COLUMNS[0]) + 1)
    cells = run.sheets.values(spreadsheet_id, f"Sheet1!{column}2:{column}")
    shown = Counter(row[0] for row in cells if row)
    held = len(run.callmarker.state()["customers"])
    want = {"uploaded": valid, "invalid": invalid}
    if dict(shown) != want or held != valid:
        raise SystemExit(
            f"the job did not do its work: the sheet shows {dict(shown)}, CallMarker holds {held}; "
            f"expected {want}"
        )


def _letters(column: int) -> str:
    letters = ""
    while column:
        column, rest = divmod(column - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _profile_delta(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    parts = {
        part: after["parts_s"].get(part, 0.0) - before["parts_s"].get(part, 0.0)
        for part in PARTS
        if part != UNATTRIBUTED
    }
    process = after["process_cpu_s"] - before["process_cpu_s"]
    parts[UNATTRIBUTED] = max(0.0, process - sum(parts.values()))
    collections = [
        a - b for a, b in zip(after["gc"]["collections"], before["gc"]["collections"], strict=True)
    ]
    return {
        "process_cpu_s": process,
        "parts_s": parts,
        "gc_collections": collections,
        "top_stacks": after["top_stacks"],
    }


# -------------------------------------------------------------------------------------------- printing


def _goal(name: str) -> str:
    goal = GOALS[name]
    return f"goal {'>=' if name in AT_LEAST else '<='} {goal:g}"


def print_case(case: Case, jobs: list[Job], result: dict[str, Any]) -> None:
    number = 0
    for j, job in enumerate(jobs, start=1):
        for step in job.steps:
            number += 1
            calls = ", ".join(f"{kind} {n}" for kind, n in sorted(step.sheets_calls.items()))
            flag = "  << NO PROGRESS" if step.rows == 0 else ""
            where = f"job {j} step {number}" if len(jobs) > 1 else f"step {number}"
            print(
                f"{where}: {step.rows:,} rows ({step.customers:,} sent in {step.requests} requests) in "
                f"{step.seconds:.2f} s · floor {step.floor_s:.2f} s · ratio {step.ratio:.2f}{flag}"
            )
            print(
                f"        {sum(step.sheets_calls.values())} Sheets calls ({calls}), "
                f"{step.round_trips} round trips"
            )
            if step.phases:
                print(
                    "        "
                    + " · ".join(f"{k.replace('_', ' ')} {v:.2f} s" for k, v in step.phases.items())
                )
        if job.stalled:
            print(f"job {j} STALLED: three steps in a row finished no row; stopped")
    goal = "ratio_to_floor_pending" if case.mode == "pending" else "ratio_to_floor"
    print(
        f"wall {result['seconds']:.2f} s · floor {result['floor_s']:.2f} s · "
        f"ratio {result['ratio_to_floor']:.2f}"
        f" ({_goal(goal) if case.name in TIMED else 'no goal for this case'})"
    )
    print(
        f"function: CPU {result['cpu_s']:.2f} s, {result['cpu_s_per_10k_rows']:.3f} s per 10,000 rows "
        f"({_goal('cpu_s_per_10k_rows')}) · peak RSS {result['peak_rss_mb']:.0f} MB (idle "
        f"{result['idle_rss_mb']:.0f} MB; {_goal('peak_rss_mb')} at 100,000 rows) · started in "
        f"{result['start_s']:.2f} s"
    )
    throttled = result["cpu_throttled"]
    held = (
        f"held back by the quota in {throttled['throttled_periods']:.0f} of {throttled['periods']:.0f} "
        f"periods ({throttled['throttled_s']:.1f} s) · "
        if throttled
        else ""
    )
    print(f"{held}the emulators' own CPU {result['emulators_cpu_s']:.2f} s (beside the function's)")
    sends = result["sends_per_customer"]
    print(f"sends per customer {sends['mean']:.3f} (most {sends['max']})")


def print_breakdown(
    profile: dict[str, Any], rows: int, timed: dict[str, Any] | None, profiled_s: float
) -> dict[str, float]:
    per_10k = {part: s / rows * 10_000 for part, s in profile["parts_s"].items()}
    total = profile["process_cpu_s"] / rows * 10_000
    print(f"\nCPU of the function per 10,000 rows ({rows:,}-row job, sampled): {total:.3f} s")
    for part in PARTS:
        seconds = per_10k.get(part, 0.0)
        if seconds < 0.0005 and part not in (GC, UNATTRIBUTED):
            continue
        note = ""
        if part == GC:
            young, middle, full = profile["gc_collections"]
            note = f" ({young} young, {middle} middle and {full} full collections)"
        print(f"  {part:34s} {seconds:6.3f} s  {seconds / total:5.1%}{note}")
    print("  where most of it went (CPU seconds for the whole job; innermost frames first):")
    for seconds, (part, *frames) in profile["top_stacks"][:8]:
        shown: list[str] = []
        for frame in frames:
            name = "(the import system)" if frame.startswith("<frozen") else frame
            if not shown or shown[-1] != name:
                shown.append(name)
        print(f"    {seconds:5.2f} s  {part}: {' < '.join(shown[:3])}")
    if timed is not None:
        print(
            f"the profiled run took {profiled_s:.2f} s and {profile['process_cpu_s']:.2f} s of CPU (the "
            f"sampler's own {profile['parts_s'][PROFILER]:.2f} s included); the same job unprofiled: "
            f"{timed['seconds']:.2f} s, {timed['cpu_s']:.2f} s of CPU"
        )
    return {part: round(s, 4) for part, s in per_10k.items()}


# --------------------------------------------------------------------------------------- the naive way


def naive_per_row_s(sample: int = NAIVE_SAMPLE, seed: int = 1001) -> float:
    """Seconds a row takes a hand-written script: for each row, one after another, POST the customer to
    CallMarker, then write its status into one cell with ``values.update``; same emulators and latency.
    Customers are built by our own validation (an invalid row costs the same round trip either way)."""
    _, rows, _ = make_rows(sample, invalid_share=INVALID_SHARE, seed=seed)
    numbered = [(i + 2, shown, raw) for i, (shown, raw) in enumerate(rows)]
    verdicts = list(validate_rows(numbered, map_headers(HEADERS), JobOptions(campaign=CAMPAIGN)))
    sheets, callmarker = SheetsProcess(), CallMarkerProcess()
    try:
        spreadsheet_id, _ = sheets.seed(sheet_of(rows), columns=len(HEADERS) + len(STATUS_COLUMNS))
        client = connect(Credentials(token=TEST_CLIENT_OAUTH_TOKEN), emulator_host=sheets.host)
        sheet = client.open_by_key(spreadsheet_id).sheet1
        status_column = _letters(len(HEADERS) + 1)
        sheets.set_latency(LATENCY.sheets_s)
        callmarker.configure(latency=LATENCY.request_s, latency_per_customer=LATENCY.per_customer_s)
        with httpx.Client(timeout=30.0) as http:
            started = time.monotonic()
            for (number, shown, _), verdict in zip(numbered, verdicts, strict=True):
                customer = verdict.customer if isinstance(verdict, UploadItem) else {"number": shown[PHONE]}
                answer = http.post(
                    f"{callmarker.api_url}/customers",
                    json={"token": CALLMARKER_TOKEN, "campaign": CAMPAIGN, "customers": [customer]},
                )
                status = "uploaded" if answer.json().get("success") else "failed"
                sheet.update([[status]], f"{status_column}{number}", value_input_option=ValueInputOption.raw)
            elapsed = time.monotonic() - started
    finally:
        sheets.close()
        callmarker.close()
    return elapsed / sample


# ------------------------------------------------------------------------------------------ the others


def client_upload(n: int = CLIENT_ROWS) -> dict[str, Any]:
    """The CallMarker client alone: ``n`` validated rows to the emulator served as its own process,
    100 ms a request, beside the floor ``ceil(requests / concurrency) * 100 ms``."""
    headers, rows, _ = make_rows(n, invalid_share=0.0, seed=11)
    numbered = ((i + 2, shown, raw) for i, (shown, raw) in enumerate(rows))
    items = [
        v for v in validate_rows(numbered, map_headers(headers), JobOptions()) if isinstance(v, UploadItem)
    ]
    emulator = CallMarkerProcess(latency=CLIENT_REQUEST_S)
    try:
        client = CallMarkerClient(
            emulator.api_url, CALLMARKER_TOKEN, batch_size=BATCH, concurrency=CONCURRENCY
        )
        started = time.monotonic()
        report = asyncio.run(client.upload(items))
        elapsed = time.monotonic() - started
    finally:
        emulator.close()
    uploaded = sum(r.outcome is Outcome.UPLOADED for r in report.results)
    if uploaded != len(items):
        raise SystemExit(f"the client uploaded {uploaded} of {len(items)} rows")
    floor = math.ceil(report.requests / CONCURRENCY) * CLIENT_REQUEST_S
    print(
        f"\nclient alone (whole core, this process): {len(items):,} rows · {report.requests} requests · "
        f"{elapsed:.2f} s · floor ceil({report.requests}/{CONCURRENCY}) × {CLIENT_REQUEST_S * 1000:.0f} ms = "
        f"{floor:.2f} s · ratio {elapsed / floor:.2f}"
    )
    return {"rows": len(items), "requests": report.requests, "seconds": round(elapsed, 3),
            "floor_s": round(floor, 3), "ratio_to_floor": round(elapsed / floor, 3)}  # fmt: skip


def validation_rows_per_s(n: int = VALIDATION_ROWS, repeat: int = 3) -> float:
    """Rows ``validate_rows`` checks a second on one core, in this process (best of ``repeat``), with the
    cyclic collector resting as it does in a step (``collector.paused``): the figure is validation's, not
    that of collections walking whatever this process holds after the cases."""
    headers, rows, _ = make_rows(n, invalid_share=INVALID_SHARE, seed=7)
    mapped = map_headers(headers)
    options = JobOptions(campaign=CAMPAIGN)
    numbered = [(i + 2, shown, raw) for i, (shown, raw) in enumerate(rows)]
    best = math.inf
    for _ in range(repeat):
        with collector.paused():
            started = time.perf_counter()
            results = list(validate_rows(numbered, mapped, options))
            best = min(best, time.perf_counter() - started)
        if len(results) != n:
            raise SystemExit(f"validate_rows gave {len(results)} results for {n} rows")
    return n / best


# ---------------------------------------------------------------------------------------------- steps


def multi_step_figures(result: dict[str, Any]) -> dict[str, Any]:
    """Each step of a job of 3 steps or more: its rows, time and floor; the steps that did nothing."""
    steps = result["per_step"]
    first_trips = steps[0]["sheets_round_trips"]
    latency = dataclasses.replace(LATENCY, request_s=result["callmarker_request_s"])
    customers = sum(s["customers_sent"] for s in steps)
    work = first_trips * latency.sheets_s + callmarker_floor_s(customers, BATCH, CONCURRENCY, latency)
    allowed = steps_allowed(work, BUDGET_S)
    idle = [i for i, s in enumerate(steps, start=1) if s["rows"] == 0]
    print(
        f"{len(steps)} steps for {result['rows']:,} rows; its waits alone take {work:.1f} s, so at most "
        f"ceil({work:.1f} / {BUDGET_S:g}) + 1 = {allowed} steps"
        + (f"; steps without progress: {idle}" if idle else "; every step made progress")
    )
    return {
        "rows": result["rows"],
        "finished": result["finished"],
        "steps": [{k: s[k] for k in ("rows", "customers_sent", "seconds", "floor_s")} for s in steps],
        "work_s": round(work, 3),
        "steps_allowed": allowed,
        "steps_without_progress": idle,
    }


def after_first_figures(result: dict[str, Any]) -> dict[str, Any]:
    """The step after a full first step: its time beside the floor for the rows it did."""
    steps = result["per_step"]
    if len(steps) < 2:
        print("the job finished in one step: no step after a full one to measure")
        return {"first_step_rows": steps[0]["rows"], "second_step": None, "ratio": None}
    second = steps[1]
    print(
        f"step 1 did {steps[0]['rows']:,} rows; step 2 did the other {second['rows']:,} in "
        f"{second['seconds']:.2f} s against a floor of {second['floor_s']:.2f} s: ratio "
        f"{second['ratio_to_floor']:.2f} ({_goal('step_after_first_ratio')})"
    )
    return {"first_step_rows": steps[0]["rows"], "second_step": second, "ratio": second["ratio_to_floor"]}


# ----------------------------------------------------------------------------------------------- main


def cpu_share(vcpus: float | None) -> tuple[Share, CpuQuota | None, str | None]:
    share = deploy_share(DEPLOY_SCRIPT.read_text(), override=vcpus)
    try:
        return share, CpuQuota.make(share.vcpus), None
    except NoQuota as exc:
        return share, None, str(exc)


def summarise(results: dict[str, dict[str, Any]], extras: dict[str, Any]) -> dict[str, Any]:
    timed = [results[name] for name in TIMED if name in results]
    selected = [r for r in timed if r["mode"] == "selected"]
    figures: dict[str, Any] = {
        "ratio_to_floor": max((r["ratio_to_floor"] for r in selected), default=None),
        "ratio_to_floor_pending": results["100k_pending"]["ratio_to_floor"]
        if "100k_pending" in results
        else None,
        "speedup_vs_naive": min(
            (r["speedup_vs_naive"] for r in timed if "speedup_vs_naive" in r), default=None
        ),
        "sheets_calls_per_step": max((r["sheets_calls_per_step"] for r in results.values()), default=None),
        "peak_rss_mb": max((r["peak_rss_mb"] for r in results.values()), default=None),
        "validation_rows_per_s": extras.get("validation_rows_per_s"),
        "cpu_s_per_10k_rows": max((r["cpu_s_per_10k_rows"] for r in timed), default=None),
    }
    no_faults = [r["sends_per_customer"] for r in timed]
    sends = {
        "no_faults": {
            "mean": max((s["mean"] for s in no_faults), default=None),
            "max": max((s["max"] for s in no_faults), default=None),
        },
        **extras.get("sends", {}),
    }
    figures["sends_per_customer"] = sends
    steps = {}
    if "multi_step" in results:
        steps["multi_step"] = extras["multi_step"]
    if "after_first_step" in results:
        steps["after_first_step"] = extras["after_first_step"]
    figures["steps"] = steps
    cold = extras.get("cold_start", {})
    # launch to serving under the quota: bench_deadline's own measure, else the cases' function starts
    figures["cold_start_s"] = cold.get("start_s", cold.get("cases_median_s"))
    figures["cold_start"] = cold or None
    values = goal_values(figures)
    missed = [name for name, value in values.items() if value is not None and not _met(name, value)]
    unmeasured = [name for name, value in values.items() if value is None]
    return {**figures, "goals": GOALS, "missed_goals": missed, "not_measured": unmeasured}


def _vcpus(text: str) -> float:
    vcpus = float(text)
    if not 0 < vcpus <= 64:
        raise argparse.ArgumentTypeError("a number of vCPUs, more than 0 (0.333, 1, 2...)")
    return vcpus


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="10,000 rows, a profiled 10,000, and the rest")
    parser.add_argument(
        "--cpu", type=_vcpus, help="the vCPUs to hold the function to (default: the deploy's share)"
    )
    parser.add_argument(
        "--case",
        action="append",
        choices=[*CASES, *EXTRAS],
        help="run only these cases and figures (repeatable)",
    )
    args = parser.parse_args(argv)
    # a benchmark stopped from outside still stops its processes and removes its cgroup (finally blocks)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    chosen = args.case or [*(QUICK if args.quick else FULL), *EXTRAS[: 4 if args.quick else None]]
    share, quota, why_not = cpu_share(args.cpu)
    load_before = _load()
    print(
        f"Latency: Sheets {LATENCY.sheets_s * 1000:.0f} ms a call; "
        f"CallMarker {LATENCY.request_s * 1000:.0f} ms a "
        f"request + {LATENCY.per_customer_s * 1000:.1f} ms a customer. Deployed settings: batch {BATCH}, "
        f"concurrency {CONCURRENCY}, {BUDGET_S:g} s a step, {MAX_ROWS:,} rows a job."
    )
    print(f"Machine: {cores()} cores, load {load_before} (1, 5, 15 min).")
    print(f"CPU share: {share.vcpus:g} vCPU ({share.source}).")
    print(
        f"Held by {quota.describe()}."
        if quota
        else f"NOT HELD to it: {why_not}; {whole_cores_note(share.vcpus)}."
    )
    results: dict[str, dict[str, Any]] = {}
    extras: dict[str, Any] = {}
    try:
        with local_stack() as stack:
            bench = Bench(stack, quota)
            profile_case = CASES["profile"]
            if args.quick and "profile" in chosen:
                profile_case = dataclasses.replace(
                    profile_case, rows=10_000, title="10,000 selected rows, profiled"
                )
            for seed, name in enumerate(chosen, start=1):
                if name == "after_first_step":
                    results[name] = run_after_first_step(bench, seed)
                elif name in CASES:
                    case = profile_case if name == "profile" else CASES[name]
                    results[name] = run_case(bench, case, seed)
            extras.update(_extras(chosen, results, quota))
            if bench.start_s:
                cases = round(statistics.median(bench.start_s), 3)
                extras["cold_start"] = {**extras.get("cold_start", {}), "cases_median_s": cases}
    finally:
        if quota is not None:
            quota.remove()
    summary = summarise(results, extras)
    summary.update(
        cpu_share={
            **dataclasses.asdict(share),
            "held_by": quota.describe() if quota else None,
            "why_not": why_not,
        },
        machine={"cores": cores(), "load_before": load_before, "load_after": _load()},
        cpu_breakdown_per_10k_rows=extras.get("breakdown"),
        cpu_breakdown_pending_per_10k_rows=extras.get("breakdown_pending"),
        sizes=list(results.values()),
        client_upload=extras.get("client"),
        deadline=extras.get("deadline"),
    )
    print_goals(summary)
    print(json.dumps(summary, separators=(",", ":")))
    return 0


def _extras(
    chosen: Sequence[str], results: dict[str, dict[str, Any]], quota: CpuQuota | None
) -> dict[str, Any]:
    extras: dict[str, Any] = {}
    if "profile" in results:
        profile = results["profile"]
        same = results.get("50k") if profile["rows"] == 50_000 else results.get("10k")
        extras["breakdown"] = print_breakdown(profile["profile"], profile["rows"], same, profile["seconds"])
    if "profile_pending" in results:
        profile = results["profile_pending"]
        extras["breakdown_pending"] = print_breakdown(
            profile["profile"], profile["rows"], results.get("100k_pending"), profile["seconds"]
        )
    if "multi_step" in results:
        print(f"\n== {CASES['multi_step'].title} ==")
        extras["multi_step"] = multi_step_figures(results["multi_step"])
    if "after_first_step" in results:
        print(f"\n== {CASES['after_first_step'].title} ==")
        extras["after_first_step"] = after_first_figures(results["after_first_step"])
    if "naive" in chosen:
        per_row = naive_per_row_s()
        print(
            f"\nthe naive way: {per_row:.3f} s a row (one request and one cell write each, "
            f"{NAIVE_SAMPLE} rows timed)"
        )
        for result in (r for name, r in results.items() if name in TIMED):
            total, bound = naive_total_s(result["rows"], per_row)
            result.update(naive_s_per_row=round(per_row, 4), naive_s=round(total, 1), naive_bound=bound)
            result["speedup_vs_naive"] = round(total / result["seconds"], 1)
            print(
                f"  {result['case']}: {total:,.0f} s ({total / 3600:.1f} h; bound: {bound}) · speedup "
                f"{result['speedup_vs_naive']:,.0f}x ({_goal('speedup_vs_naive')})"
            )
    if "validation" in chosen:
        rate = validation_rows_per_s()
        extras["validation_rows_per_s"] = round(rate)
        print(
            f"\nvalidation: {rate:,.0f} rows/s on one core (best of 3 over {VALIDATION_ROWS:,} rows; "
            f"{_goal('validation_rows_per_s')})"
        )
    if "sends" in chosen:
        from tests.bench_sends import sends_per_customer

        extras["sends"] = sends_per_customer()
        print("\nsends per customer, the CallMarker client against its emulator (tests/bench_sends.py):")
        for name, one in extras["sends"].items():
            print(f"  {name}: mean {one['mean']:.3f}, most {one['max']} in {one['requests']} requests")
    if "cold_start" in chosen:
        from tests.bench_deadline import measure_cold_start

        cold = measure_cold_start(procs=quota.procs if quota else None)
        extras["cold_start"] = cold
        print(
            f"\ncold start (tests/bench_deadline.py, under the quota): serving {cold['start_s']:.2f} s "
            "after launch; "
            f"first request {cold['first_request_s']:.2f} s"
        )
    if "client" in chosen:
        extras["client"] = client_upload()
    if "deadline" in chosen:
        extras["deadline"] = _deadline()
    return extras


def _deadline() -> list[dict[str, Any]]:
    from tests.bench_deadline import deadline_scenario

    results = []
    print("\nthe step deadline (tests/bench_deadline.py; whole core): a 10 s cold start and Sheets 429 x3")
    for where in ("read", "write"):
        result = deadline_scenario(where=where)
        results.append(result)
        answers = ", ".join(f"{s['answer_s']:.1f} s ({s['status']})" for s in result["steps"])
        print(
            f"  at the {where}: latest answer {result['latest_answer_s']:.1f} s (Apps Script waits about "
            f"60 s); {answers}"
        )
    return results


def _met(name: str, value: float) -> bool:
    return value >= GOALS[name] if name in AT_LEAST else value <= GOALS[name]


def goal_values(figures: dict[str, Any]) -> dict[str, float | None]:
    """The figure each goal is held to (None: not measured in this run)."""
    steps = figures["steps"]
    idle = steps.get("multi_step", {}).get("steps_without_progress")
    return {
        **{name: figures.get(name) for name in GOALS},
        "sends_per_customer": figures["sends_per_customer"]["no_faults"]["mean"],
        "steps_without_progress": len(idle) if idle is not None else None,
        "step_after_first_ratio": steps.get("after_first_step", {}).get("ratio"),
    }


def print_goals(summary: dict[str, Any]) -> None:
    print("\ngoals:")
    for name, value in goal_values(summary).items():
        mark = "not measured" if value is None else ("MISSED" if name in summary["missed_goals"] else "met")
        shown = "-" if value is None else f"{value:g}"
        print(f"  {name:26s} {shown:>10s}  {'>=' if name in AT_LEAST else '<='} {GOALS[name]:g}  {mark}")
    print("goals missed: " + (", ".join(summary["missed_goals"]) or "none"))


if __name__ == "__main__":
    sys.exit(main())
