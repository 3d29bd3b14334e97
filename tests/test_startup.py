"""A step's time counts from when its request began: the process's start for a request that waited
through a cold start, its arrival otherwise."""

from __future__ import annotations

import os
from pathlib import Path

from google.oauth2.credentials import Credentials

from callmarker_sheets.config import Secret, Settings
from callmarker_sheets.cursor import CursorSeal
from callmarker_sheets.startup import READY_WINDOW_S, Arrivals, process_started
from callmarker_sheets.upload import Job, open_context
from tests.emulators.sheets import create_app
from tests.emulators.sheets.responses import seed
from tests.emulators.wsgi_requests import WSGIAdapter


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def fake_proc(tmp_path: Path, *, started_s: float, uptime_s: float) -> Path:
    ticks = int(started_s * os.sysconf("SC_CLK_TCK"))
    (tmp_path / "self").mkdir()
    # the process name may hold spaces and parentheses: fields are counted after the last ")"
    fields = ["S", *["0"] * 18, str(ticks), "0", "0"]
    (tmp_path / "self" / "stat").write_text(f"4242 (python3 (main) x) {' '.join(fields)}\n")
    (tmp_path / "uptime").write_text(f"{uptime_s:.2f} 1.00\n")
    return tmp_path


def test_the_process_start_is_read_from_proc(tmp_path: Path) -> None:
    proc = fake_proc(tmp_path, started_s=100.0, uptime_s=112.5)
    assert process_started(proc=proc, clock=Clock(1000.0)) == 1000.0 - 12.5


def test_without_proc_the_process_started_now(tmp_path: Path) -> None:
    assert process_started(proc=tmp_path / "missing", clock=Clock(7.0)) == 7.0


def test_this_process_started_before_now() -> None:
    clock = Clock(500.0)
    started = process_started(clock=clock)
    assert started <= 500.0


def test_the_first_request_of_a_cold_start_counts_from_the_process_start() -> None:
    clock = Clock(110.0)  # ready 10 s after the process started at 100
    arrivals = Arrivals(100.0, clock=clock)
    assert arrivals.cold_start_s == 10.0
    clock.now = 110.3
    assert arrivals.arrival() == 100.0
    clock.now = 111.0
    assert arrivals.arrival() == 111.0  # the next ones count from their own arrival


def test_off_cloud_run_every_request_counts_from_its_arrival() -> None:
    clock = Clock(110.0)
    arrivals = Arrivals(None, clock=clock)
    assert arrivals.cold_start_s == 0.0
    assert arrivals.arrival() == 110.0


def test_a_first_request_to_an_idle_instance_counts_from_its_arrival() -> None:
    clock = Clock(110.0)
    arrivals = Arrivals(100.0, clock=clock)
    clock.now = 110.0 + READY_WINDOW_S + 60
    assert arrivals.arrival() == clock.now


def test_the_steps_deadline_and_the_sheets_retries_count_from_the_arrival() -> None:
    app = create_app(sleep=lambda seconds: None)
    meta = seed(app.backend, {"sheets": [{"title": "Leads", "values": [["Phone"], ["0547000000"]]}]})
    settings = Settings(
        callmarker_token=Secret("t"),
        id_token_audiences=("a",),
        allowed_domains=frozenset({"example.com"}),
        cursor_signing_key=Secret("k" * 43),
    )
    job = Job.from_json(
        {"spreadsheet_id": meta["spreadsheetId"], "sheet_id": 0, "rows": [[2, 2]], "action": "check"},
        seal=CursorSeal(settings.cursor_signing_key, subject="1098765432101234567890"),
    )
    arrived = 1234.5

    ctx = open_context(job, settings, Credentials("ya29.t"), sheets_adapter=WSGIAdapter(app), arrived=arrived)

    assert ctx.deadline == arrived + settings.time_budget_s
    assert ctx.sheet._http.deadline == ctx.deadline  # type: ignore[attr-defined]
