"""``make bench``: a whole job through the function, against both emulators with realistic latency.

Prints, per size, the Sheets calls of each step, the CallMarker requests, the time beside the floor
of ``../shared/DESIGN.md`` and beside the naive way, and the function's peak memory; then the
validation throughput. The last line is one JSON object with every figure (docs/benchmark.md).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx

from callmarker_sheets.callmarker import CallMarkerClient
from callmarker_sheets.fields import map_headers
from callmarker_sheets.model import Outcome, UploadItem
from callmarker_sheets.sheet import STATUS_COLUMNS
from callmarker_sheets.validate import JobOptions, validate_rows
from tests.rowgen import HEADERS, PHONE, make_rows, sheet_of
from tests.stack import ACCOUNT, CALLMARKER_TOKEN, CAMPAIGN, ROOT, Stack, local_stack

#: The latencies the figures are taken at: one Sheets API call, one CallMarker request and customer.
SHEETS_S = 0.15
CALLMARKER_S = 0.2
PER_CUSTOMER_S = 0.0001
BATCH = 500
CONCURRENCY = 4
INVALID_SHARE = 0.05
SIZES = (10_000, 100_000)
NAIVE_SAMPLE = 40
VALIDATION_ROWS = 20_000
GOALS = {
    "ratio_to_floor": 1.3,
    "speedup_vs_naive": 100,
    "sheets_calls_per_step": 6,
    "peak_rss_mb": 300,
    "validation_rows_per_s": 20_000,
}
WORKING_ROWS = ("uploaded", "rejected", "failed")


# ------------------------------------------------------------------------------------------ the sheet


def seed_sheet(stack: Stack, rows: Sequence[tuple[list[str], list[object]]]) -> tuple[str, int]:
    """A spreadsheet holding ``rows`` under the headers, written straight into the emulator's backend.

    Typed in USER_ENTERED as a user would, but without going through HTTP or its latency: seeding
    100,000 rows takes seconds, not the half hour the same rows would take through the API.
    """
    backend = stack.sheets_app.backend
    width = len(HEADERS) + len(STATUS_COLUMNS)
    grid = {"rowCount": len(rows) + 11, "columnCount": width}
    spreadsheet = backend.create_spreadsheet(
        "Leads", locale="iw_IL", time_zone="Asia/Jerusalem", sheets=[{"gridProperties": grid}]
    )
    values = sheet_of(rows)
    title = spreadsheet.sheets[0].title
    backend.values_update(spreadsheet.id, f"'{title}'!A1", {"values": values}, input_option="USER_ENTERED")
    return spreadsheet.id, spreadsheet.sheets[0].sheet_id


def statuses_in_sheet(stack: Stack, spreadsheet_id: str) -> Counter[str]:
    """How many rows show each status, read straight from the emulator (no latency, no call counted)."""
    backend = stack.sheets_app.backend
    title = backend.get(spreadsheet_id).sheets[0].title
    header = backend.values_get(spreadsheet_id, f"'{title}'!1:1")["values"][0]
    column = header.index(STATUS_COLUMNS[0]) + 1
    letters = ""
    while column:
        column, rest = divmod(column - 1, 26)
        letters = chr(65 + rest) + letters
    cells = backend.values_get(spreadsheet_id, f"'{title}'!{letters}2:{letters}").get("values", [])
    return Counter(row[0] for row in cells if row)


def set_latency(stack: Stack, *, on: bool) -> None:
    stack.sheets_app.backend.set_latency(SHEETS_S if on else 0.0)
    stack.callmarker_app.configure(
        latency=CALLMARKER_S if on else 0.0, latency_per_customer=PER_CUSTOMER_S if on else 0.0
    )


# ------------------------------------------------------------------------------------ instrumenting


@dataclass
class Timeline:
    """When the emulators served each call: Sheets (kind, start, end), CallMarker (customers, start, end).

    Sheets' start is when the call is admitted (its latency already spent); CallMarker's is when the
    request asks for the backend, its latency spent (it may then wait for the backend's lock). Both
    ends are when the emulator's own work was done.
    """

    sheets: list[tuple[str, float, float]] = field(default_factory=list)
    callmarker: list[tuple[int, float, float]] = field(default_factory=list)
    #: (start, end) of applying each request, under the CallMarker emulator's lock (waits left out).
    callmarker_applied: list[tuple[float, float]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def applied_between(self, start: float, end: float) -> float:
        with self.lock:
            return sum(e - s for s, e in self.callmarker_applied if start <= s <= end)

    def between(
        self, start: float, end: float
    ) -> tuple[list[tuple[str, float, float]], list[tuple[int, float, float]]]:
        with self.lock:
            return (
                [s for s in self.sheets if start <= s[1] <= end],
                [c for c in self.callmarker if start <= c[1] <= end],
            )


_SHEETS_HANDLERS = {
    "spreadsheets.get": "spreadsheet_json",
    "values.batchGet": "values_batch_get",
    "values.batchUpdate": "values_batch_update",
    "spreadsheets.batchUpdate": "batch_update",
    "values.update": "values_update",
}


def instrument(stack: Stack) -> Timeline:
    """Record every call the emulators serve, by wrapping their backends' methods on these instances."""
    timeline = Timeline()
    backend = stack.sheets_app.backend

    def timed_sheets(kind: str, method: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            start = time.monotonic()
            try:
                return method(*args, **kwargs)
            finally:
                with timeline.lock:
                    timeline.sheets.append((kind, start, time.monotonic()))

        return wrapper

    for kind, name in _SHEETS_HANDLERS.items():
        setattr(backend, name, timed_sheets(kind, getattr(backend, name)))

    callmarker = stack.callmarker_app.backend
    upload = callmarker.upload

    def timed_upload(body: Any) -> Any:
        start = time.monotonic()
        try:
            return upload(body)
        finally:
            with timeline.lock:
                timeline.callmarker.append((len(body.get("customers", [])), start, time.monotonic()))

    callmarker.upload = timed_upload  # type: ignore[method-assign]
    apply = callmarker._apply

    def timed_apply(request: Any) -> Any:
        start = time.monotonic()
        try:
            return apply(request)
        finally:
            with timeline.lock:
                timeline.callmarker_applied.append((start, time.monotonic()))

    callmarker._apply = timed_apply  # type: ignore[method-assign]
    return timeline


# ------------------------------------------------------------------------------------------- a job


@dataclass
class Step:
    seconds: float
    sheets_calls: dict[str, int]
    callmarker_requests: int
    rows_sent: int
    phases: dict[str, float]

    @property
    def k(self) -> int:
        return sum(self.sheets_calls.values())

    @property
    def floor_s(self) -> float:
        """``k·S + ceil(N/B)/C · L``: Sheets calls one after another, batches C at a time."""
        latency = CALLMARKER_S + PER_CUSTOMER_S * BATCH
        return self.k * SHEETS_S + math.ceil(self.rows_sent / BATCH) / CONCURRENCY * latency


def phases(started: float, ended: float, timeline: Timeline) -> dict[str, float]:
    """Where one step's time went, from what the emulators saw (seconds, adding up to the step)."""
    sheets, callmarker = timeline.between(started, ended)
    reads = [s for s in sheets if s[0] in ("spreadsheets.get", "values.batchGet")]
    # The last batchGet (the key column, before writing) comes after the upload: the read is the first three.
    read_calls = reads[:3]
    read_end = read_calls[-1][2] if read_calls else started
    if callmarker:
        first_sent = min(c[1] - (CALLMARKER_S + PER_CUSTOMER_S * c[0]) for c in callmarker)
        last_done = max(c[2] for c in callmarker)
    else:
        first_sent = last_done = read_end
    return {
        "open_and_read": read_end - started,
        "parse_and_validate": max(first_sent - read_end, 0.0),
        "upload": last_done - first_sent,
        "write_and_answer": ended - last_done,
        # The emulators' own work, inside the figures above: Google's and CallMarker's servers would
        # spend theirs too, but not necessarily as much. CallMarker's is serialised by its lock.
        "sheets_emulator_work": sum(s[2] - s[1] for s in sheets),
        "callmarker_emulator_work": timeline.applied_between(started, ended),
    }


def run_job(stack: Stack, body: dict[str, Any], timeline: Timeline) -> tuple[list[Step], dict[str, Any]]:
    """The add-in's loop (call until done, passing the cursor), measuring every step."""
    steps: list[Step] = []
    cursor = None
    sent_before = 0
    for _ in range(1000):
        calls_before = Counter(stack.sheets_app.backend.calls())
        requests_before = len(stack.callmarker_app.requests)
        started = time.monotonic()
        response = stack.call({**body, **({"cursor": cursor} if cursor else {})})
        ended = time.monotonic()
        if response.status_code != 200:
            raise SystemExit(f"the function answered {response.status_code}: {response.text[:500]}")
        answer = response.json()
        calls = Counter(stack.sheets_app.backend.calls())
        calls.subtract(calls_before)
        sent = sum(answer["counts"].get(key, 0) for key in WORKING_ROWS)
        steps.append(
            Step(
                seconds=ended - started,
                sheets_calls={kind: n for kind, n in calls.items() if n},
                callmarker_requests=len(stack.callmarker_app.requests) - requests_before,
                rows_sent=sent - sent_before,
                phases=phases(started, ended, timeline),
            )
        )
        sent_before = sent
        if answer["done"]:
            return steps, answer
        cursor = answer["cursor"]
    raise SystemExit("the job did not finish in 1000 steps")


def peak_rss_mb(pid: int) -> float:
    """The largest VmHWM (peak resident memory) of a process and its descendants (gunicorn's worker)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    # the command name may hold spaces: the fields after it start past the last ")"
                    parent = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry))
    peak = 0
    todo = [pid]
    while todo:
        current = todo.pop()
        todo.extend(children.get(current, []))
        try:
            with open(f"/proc/{current}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        peak = max(peak, int(line.split()[1]))
        except OSError:
            continue
    return peak / 1024


@contextmanager
def served_stack(rows: int) -> Iterator[Stack]:
    env = {"MAX_ROWS": str(max(rows, 50_000)), "CALLMARKER_BATCH_SIZE": str(BATCH)}
    env["CALLMARKER_CONCURRENCY"] = str(CONCURRENCY)
    with local_stack(function_env=env) as stack:
        stack.start_function(process=True)
        yield stack


def function_pid(stack: Stack) -> int:
    if stack.function_pid is None:
        raise RuntimeError("the function is not running as its own process")
    return stack.function_pid


def measure_size(n: int, seed: int) -> dict[str, Any]:
    print(f"\n== {n:,} rows ({INVALID_SHARE:.0%} invalid), batch {BATCH}, concurrency {CONCURRENCY} ==")
    generated = time.monotonic()
    _, rows, expected = make_rows(n, invalid_share=INVALID_SHARE, seed=seed)
    valid = sum(e.valid for e in expected)
    with served_stack(n) as stack:
        idle = peak_rss_mb(function_pid(stack))
        spreadsheet_id, gid = seed_sheet(stack, rows)
        print(f"seeded in {time.monotonic() - generated:.1f} s (straight into the emulator, no latency)")
        timeline = instrument(stack)
        stack.sheets_app.backend.reset_calls()
        stack.callmarker_app.clear_requests()
        set_latency(stack, on=True)
        body = {
            "spreadsheet_id": spreadsheet_id,
            "sheet_id": gid,
            "mode": "selected",
            "rows": [[2, n + 1]],
            "action": "upload",
            "options": {"campaign": CAMPAIGN},
        }
        steps, answer = run_job(stack, body, timeline)
        set_latency(stack, on=False)
        rss = peak_rss_mb(function_pid(stack))
        check_outcome(stack, spreadsheet_id, answer, valid, n - valid)
        naive = naive_per_row_s(stack, seed=seed + 1000)

    measured = sum(s.seconds for s in steps)
    floor = sum(s.floor_s for s in steps)
    naive_total = naive * n
    for i, step in enumerate(steps, start=1):
        calls = ", ".join(f"{kind} {count}" for kind, count in sorted(step.sheets_calls.items()))
        print(
            f"step {i}: {step.seconds:6.2f} s (floor {step.floor_s:5.2f} s) · {step.k} Sheets calls ({calls})"
            f" · {step.callmarker_requests} CallMarker requests · {step.rows_sent:,} rows sent"
        )
        print(
            "        " + " · ".join(f"{name.replace('_', ' ')} {s:.2f} s" for name, s in step.phases.items())
        )
    emulators = sum(s.phases["sheets_emulator_work"] + s.phases["callmarker_emulator_work"] for s in steps)
    print(
        f"steps {len(steps)} · Sheets calls {sum(s.k for s in steps)}"
        f" (at most {max(s.k for s in steps)} a step)"
    )
    print(f"CallMarker requests {sum(s.callmarker_requests for s in steps)}")
    print(f"wall time {measured:.2f} s · floor {floor:.2f} s · ratio {measured / floor:.2f} (goal <= 1.3)")
    print(
        f"of which the emulators' own work {emulators:.2f} s; without it {measured - emulators:.2f} s,"
        f" ratio {(measured - emulators) / floor:.2f}"
    )
    print(
        f"naive: {naive:.3f} s a row -> {naive_total:,.0f} s ({naive_total / 3600:.1f} h) for {n:,} rows"
        f" · speedup {naive_total / measured:,.0f}x (goal >= 100)"
    )
    print(f"peak RSS of the function {rss:.0f} MB (idle after start: {idle:.0f} MB)")
    return {
        "rows": n,
        "steps": len(steps),
        "sheets_calls_per_step": max(s.k for s in steps),
        "sheets_calls": [s.sheets_calls for s in steps],
        "callmarker_requests": sum(s.callmarker_requests for s in steps),
        "seconds": round(measured, 3),
        "floor_s": round(floor, 3),
        "ratio_to_floor": round(measured / floor, 3),
        "naive_s_per_row": round(naive, 4),
        "naive_s": round(naive_total, 1),
        "speedup_vs_naive": round(naive_total / measured, 1),
        "peak_rss_mb": round(rss, 1),
        "idle_rss_mb": round(idle, 1),
        "emulator_work_s": round(emulators, 3),
        "ratio_without_emulator_work": round((measured - emulators) / floor, 3),
        "phases_s": [{k: round(v, 3) for k, v in s.phases.items()} for s in steps],
    }


def check_outcome(
    stack: Stack, spreadsheet_id: str, answer: dict[str, Any], valid: int, invalid: int
) -> None:
    """Figures of a job that did not do its work would mean nothing: every row must show its result."""
    shown = statuses_in_sheet(stack, spreadsheet_id)
    held = len(stack.callmarker_app.backend.state()["customers"])
    want = {"uploaded": valid, "invalid": invalid}
    if dict(shown) != want or answer["counts"]["uploaded"] != valid or held != valid:
        raise SystemExit(
            f"the job did not do its work: sheet {dict(shown)}, answer {answer['counts']}, "
            f"CallMarker holds {held}; expected {want}"
        )


# ------------------------------------------------------------------------------------- the naive way


def naive_per_row_s(stack: Stack, *, seed: int, sample: int = NAIVE_SAMPLE) -> float:
    """Seconds a row takes the way a hand-written script does it, against the same emulators and latency.

    For each row, one after another: POST the one customer to CallMarker, then write its status into
    one cell with ``values.update``. Customers are built by our own validation (a script would send
    them as they are; an invalid row costs the same round trip either way).
    """
    _, rows, _ = make_rows(sample, invalid_share=INVALID_SHARE, seed=seed)
    spreadsheet_id, _ = seed_sheet(stack, rows)
    headers = map_headers(HEADERS)
    numbered = [(i + 2, shown, raw) for i, (shown, raw) in enumerate(rows)]
    verdicts = list(validate_rows(numbered, headers, JobOptions(campaign=CAMPAIGN)))
    worksheet = stack.sheets_client().open_by_key(spreadsheet_id).sheet1
    status_column = chr(ord("A") + len(HEADERS))
    url = f"{stack.callmarker.url}/api/v1/customers"
    set_latency(stack, on=True)
    try:
        with httpx.Client(timeout=30.0) as http:
            started = time.monotonic()
            for (number, shown, _), verdict in zip(numbered, verdicts, strict=True):
                customer = verdict.customer if isinstance(verdict, UploadItem) else {"number": shown[PHONE]}
                answer = http.post(
                    url, json={"token": CALLMARKER_TOKEN, "campaign": CAMPAIGN, "customers": [customer]}
                )
                status = "uploaded" if answer.json().get("success") else "failed"
                worksheet.update([[status]], f"{status_column}{number}", value_input_option="RAW")
            elapsed = time.monotonic() - started
    finally:
        set_latency(stack, on=False)
    return elapsed / sample


# ------------------------------------------------------------------------------- the client alone

CLIENT_ROWS = 100_000
CLIENT_LATENCY_S = 0.1


def client_upload(n: int = CLIENT_ROWS) -> dict[str, Any]:
    """The CallMarker client alone: ``n`` validated rows to the emulator served as its own process,
    100 ms a request, beside the floor ``ceil(requests / concurrency) * 100 ms``."""
    headers, rows, _ = make_rows(n, invalid_share=0.0, seed=11)
    numbered = ((i + 2, shown, raw) for i, (shown, raw) in enumerate(rows))
    items = [
        v for v in validate_rows(numbered, map_headers(headers), JobOptions()) if isinstance(v, UploadItem)
    ]
    settings = {**ACCOUNT, "latency": CLIENT_LATENCY_S}
    command = [sys.executable, "-m", "tests.emulators.callmarker", "--port", "0", "--token", CALLMARKER_TOKEN]
    emulator = subprocess.Popen(
        [*command, "--settings", json.dumps(settings)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=ROOT,
    )
    try:
        assert emulator.stdout is not None
        url = emulator.stdout.readline().split(" on ", 1)[1].strip()
        client = CallMarkerClient(url, CALLMARKER_TOKEN, batch_size=BATCH, concurrency=CONCURRENCY)
        started = time.monotonic()
        report = asyncio.run(client.upload(items))
        elapsed = time.monotonic() - started
    finally:
        emulator.terminate()
        emulator.wait()
    uploaded = sum(r.outcome is Outcome.UPLOADED for r in report.results)
    if uploaded != len(items):
        raise SystemExit(f"the client uploaded {uploaded} of {len(items)} rows")
    floor = math.ceil(report.requests / CONCURRENCY) * CLIENT_LATENCY_S
    print(
        f"\nclient alone: {len(items):,} rows · {report.requests} requests · {elapsed:.2f} s"
        f" · floor ceil({report.requests}/{CONCURRENCY}) × {CLIENT_LATENCY_S * 1000:.0f} ms = {floor:.2f} s"
        f" · ratio {elapsed / floor:.2f}"
    )
    return {"rows": len(items), "requests": report.requests, "seconds": round(elapsed, 3),
            "floor_s": round(floor, 3), "ratio_to_floor": round(elapsed / floor, 3)}  # fmt: skip


# ----------------------------------------------------------------------------------------- validation


def validation_rows_per_s(n: int = VALIDATION_ROWS, repeat: int = 3) -> float:
    """Rows ``validate_rows`` checks a second on one core, in this process (best of ``repeat``)."""
    headers, rows, _ = make_rows(n, invalid_share=INVALID_SHARE, seed=7)
    mapped = map_headers(headers)
    options = JobOptions(campaign=CAMPAIGN)
    numbered = [(i + 2, shown, raw) for i, (shown, raw) in enumerate(rows)]
    best = math.inf
    for _ in range(repeat):
        started = time.perf_counter()
        results = list(validate_rows(numbered, mapped, options))
        best = min(best, time.perf_counter() - started)
        if len(results) != n:
            raise SystemExit(f"validate_rows gave {len(results)} results for {n} rows")
    return n / best


# ---------------------------------------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="10,000 rows only")
    args = parser.parse_args(argv)
    sizes = SIZES[:1] if args.quick else SIZES
    print(
        f"Latency: Sheets {SHEETS_S * 1000:.0f} ms a call; CallMarker {CALLMARKER_S * 1000:.0f} ms a request"
        f" + {PER_CUSTOMER_S * 1000:.1f} ms a customer. Machine: {os.cpu_count()} cores."
    )
    per_size = [measure_size(n, seed=i + 1) for i, n in enumerate(sizes)]
    rate = validation_rows_per_s()
    client = None if args.quick else client_upload()
    print(
        f"\nvalidation: {rate:,.0f} rows/s on one core"
        f" (best of 3 over {VALIDATION_ROWS:,} rows; goal >= 20,000)"
    )
    summary = {
        "ratio_to_floor": max(s["ratio_to_floor"] for s in per_size),
        "speedup_vs_naive": min(s["speedup_vs_naive"] for s in per_size),
        "sheets_calls_per_step": max(s["sheets_calls_per_step"] for s in per_size),
        "peak_rss_mb": max(s["peak_rss_mb"] for s in per_size),
        "validation_rows_per_s": round(rate),
        "goals": GOALS,
        "sizes": per_size,
        "client_upload": client,
    }
    missed = [
        name
        for name, goal in GOALS.items()
        if (
            summary[name] < goal
            if name in ("speedup_vs_naive", "validation_rows_per_s")
            else summary[name] > goal
        )
    ]
    summary["missed_goals"] = missed
    print("goals missed: " + (", ".join(missed) if missed else "none"))
    print(json.dumps(summary, separators=(",", ":")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
