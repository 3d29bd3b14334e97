"""Later steps of a job read only what they need: the rows still to do whole, and of the job's other rows
only the columns that tell a repeated number. What the user sees must not change: every row gets its
status, a number repeated on a row finished in an earlier step (or uploaded by an earlier job) is still
caught, and a sheet whose columns moved between two steps is read again as it is."""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

import pytest
from google.oauth2.credentials import Credentials
from gspread.utils import ValueInputOption

from callmarker_sheets import sheet as sheet_module
from callmarker_sheets.sheet import STATUS_COLUMNS, connect
from callmarker_sheets.upload import Job, Progress, StepAnswer, StepContext, read_step, run_step
from tests.emulators.wsgi_requests import WSGIAdapter
from tests.stack import CAMPAIGN
from tests.test_upload import World, job, leads, make_world

_A1 = re.compile(r"^'?[^!]*'?!([A-Z]+)(\d*)(?::([A-Z]+)(\d*))?$")


def _column(letters: str) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - 64
    return number


class Reads:
    """Google's side of the reads: every values.batchGet asked, as (render, [(first col, first row,
    last col, last row)]) in 1-based columns and rows."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.asked: list[tuple[str, list[tuple[int, int, int, int]]]] = []
        self.scientific: dict[str, str] = {}

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ["PATH_INFO"].endswith("/values:batchGet"):
            query = parse_qs(environ["QUERY_STRING"])
            blocks = []
            for text in query["ranges"]:
                match = _A1.match(text)
                assert match, text
                c0, r0, c1, r1 = match.groups()
                # a whole column ('Sheet1'!A:A) is every row of it
                first, last = int(r0 or 1), int(r1 or r0 or 10_000_000)
                blocks.append((_column(c0), first, _column(c1 or c0), last))
            render = query["valueRenderOption"][0]
            self.asked.append((render, blocks))
            answer = b"".join(self.app(environ, start_response))
            if render == "FORMATTED_VALUE" and self.scientific:
                # As Google shows a long number in a cell formatted "Automatic": 6.44968E+11.
                for digits, shown in self.scientific.items():
                    answer = answer.replace(f'"{digits}"'.encode(), f'"{shown}"'.encode())
            return [answer]
        return self.app(environ, start_response)

    def rows_read_whole(self, width: int) -> set[int]:
        """Rows (below the header) whose every column was asked for, as shown."""
        return {
            row
            for render, blocks in self.asked
            if render == "FORMATTED_VALUE"
            for c0, r0, c1, r1 in blocks
            if c0 == 1 and c1 >= width and r1 > 1
            for row in range(r0, r1 + 1)
        }

    def columns_read_raw(self) -> set[int]:
        return {
            column
            for render, blocks in self.asked
            if render == "UNFORMATTED_VALUE"
            for c0, _, c1, _ in blocks
            for column in range(c0, c1 + 1)
        }


def context(world: World, reads: Reads, *, budget: float = 30.0, batch_size: int = 500) -> StepContext:
    return world.context(budget=budget, batch_size=batch_size, sheets=reads)


def steps(the_job: Job, world: World, reads: Reads, **how: Any) -> Iterator[StepAnswer]:
    """Each step of a job, as the add-in drives it; ``reads`` holds the step's own reads when it is given."""
    cursor = None
    for _ in range(20):
        reads.asked.clear()
        answer = run_step(the_job, cursor, context(world, reads, **how))
        yield answer
        if answer.done:
            return
        cursor = answer.cursor
    raise AssertionError("the job did not finish in 20 steps")


def _phone(world: World, row: int, number: str) -> None:
    """Someone types ``number`` into the phone cell of ``row`` between two steps."""
    sheet = connect(Credentials(token="ya29.test"), adapter=WSGIAdapter(world.sheets_app))
    sheet.open_by_key(world.spreadsheet_id).sheet1.update(
        [[number]], f"A{row}", value_input_option=ValueInputOption.raw
    )


def test_each_later_step_reads_whole_only_the_rows_still_to_do() -> None:
    for world in make_world(leads(40)):
        reads = Reads(world.sheets_app)
        the_job = job(rows=[[2, 41]], options={"campaign": CAMPAIGN, "batch_size": 10})
        answers, whole, raw = [], [], []
        for answer in steps(the_job, world, reads, budget=0.000_001, batch_size=10):
            answers.append(answer)
            whole.append(reads.rows_read_whole(width=4))
            raw.append(reads.columns_read_raw())
            if len(answers) == 1:
                # row 41, not done yet, now repeats the number of row 2, which this step finished
                _phone(world, 41, "054-7000000")

        assert [a.processed_rows for a in answers] == [10, 21, 31, 40]
        # the first step reads every row whole; each later one, only the rows it has yet to do
        assert whole[0] == set(range(2, 42))
        assert whole[1] == set(range(12, 42))
        assert whole[2] == set(range(22, 41))
        assert whole[3] == set(range(32, 41))
        # raw values: of every column at first; then only of the columns read by them (Phone, Follow-up date)
        assert raw[0] >= {1, 2, 3, 4}
        assert all(columns == {1, 4} for columns in raw[1:])
        statuses = world.statuses()
        assert [statuses[n] for n in range(2, 41)] == ["uploaded"] * 39
        assert statuses[41] == "invalid"
        # row 2 was read again by its phone number only, and row 41 still repeats it
        assert "already on row 2" in " ".join(e["message"] for e in answers[1].errors)
        assert len(world.callmarker_app.backend.state()["customers"]) == 39


def test_pending_mode_later_steps_read_only_the_jobs_rows_whole() -> None:
    for world in make_world(leads(20)):
        reads = Reads(world.sheets_app)
        # the first 20 rows are uploaded by an earlier job; then 25 rows are added under them
        first = job(mode="pending", rows=None)
        assert run_step(first, None, context(world, reads)).counts["uploaded"] == 20
        sheet = connect(Credentials(token="ya29.test"), adapter=WSGIAdapter(world.sheets_app))
        sheet.open_by_key(world.spreadsheet_id).sheet1.update(
            leads(25, start=100), "A22", value_input_option=ValueInputOption.raw
        )

        answers, whole = [], []
        for answer in steps(job(mode="pending", rows=None), world, reads, budget=0.000_001, batch_size=10):
            answers.append(answer)
            whole.append(reads.rows_read_whole(width=4))
            if len(answers) == 1:
                _phone(world, 46, "054-7000005")  # now repeats row 7, uploaded by the earlier job

        assert [a.processed_rows for a in answers] == [10, 21, 25]
        assert [a.counts["skipped"] for a in answers] == [20, 20, 20]
        assert [a.total_rows for a in answers] == [25, 25, 25]
        assert whole[0] >= set(range(2, 47))  # the first step tells unchanged rows by all their cells
        assert whole[1] == set(range(32, 47))  # a later one reads whole only the job's rows left
        assert whole[2] == set(range(42, 46))
        statuses = world.statuses()
        assert [statuses[n] for n in range(2, 46)] == ["uploaded"] * 44
        assert statuses[46] == "invalid"
        assert "already on row 7" in " ".join(e["message"] for e in answers[1].errors)


def test_columns_moved_between_two_steps_are_read_again_as_they_are() -> None:
    for world in make_world(leads(30)):
        reads = Reads(world.sheets_app)
        the_job = job(rows=[[2, 31]], options={"campaign": CAMPAIGN, "batch_size": 10})
        first = run_step(the_job, None, context(world, reads, budget=0.000_001, batch_size=10))
        assert first.processed_rows == 10
        # someone puts a column before the phone numbers, and row 31 now repeats row 2
        sheet = connect(Credentials(token="ya29.test"), adapter=WSGIAdapter(world.sheets_app))
        tab = sheet.open_by_key(world.spreadsheet_id).sheet1
        tab.insert_cols([["Source", *(["web"] * 30)]], col=1, value_input_option=ValueInputOption.raw)
        tab.update([["054-7000000"]], "B31", value_input_option=ValueInputOption.raw)

        cursor = first.cursor
        answers = []
        while cursor is not None:
            answer = run_step(the_job, cursor, context(world, reads, budget=0.000_001, batch_size=10))
            answers.append(answer)
            cursor = answer.cursor

        assert answers[-1].processed_rows == 30
        assert len(world.callmarker_app.backend.state()["customers"]) == 29
        assert "already on row 2" in " ".join(e["message"] for e in answers[0].errors)
        values = tab.get_values()
        status = values[0].index("CallMarker status")
        assert [row[status] for row in values[1:]] == ["uploaded"] * 29 + ["invalid"]


def test_a_long_number_shown_in_scientific_notation_is_sent_as_its_digits_in_a_later_step() -> None:
    headers = ["Phone", "First name", "CRM id"]
    rows = [[f"054-7{i:06d}", f"Lead {i}", str(644968000000 + i)] for i in range(20)]
    for world in make_world(rows, headers=headers):
        sheet = connect(Credentials(token="ya29.test"), adapter=WSGIAdapter(world.sheets_app))
        sheet.open_by_key(world.spreadsheet_id).sheet1.update(
            [[str(644968000000 + i)] for i in range(20)],
            "C2",
            value_input_option=ValueInputOption.user_entered,
        )
        reads = Reads(world.sheets_app)
        reads.scientific = {str(644968000000 + i): "6.44968E+11" for i in range(20)}
        the_job = job(rows=[[2, 21]], options={"campaign": CAMPAIGN, "batch_size": 10})
        answers = list(steps(the_job, world, reads, budget=0.000_001, batch_size=10))

        assert len(answers) == 2
        held = world.callmarker_app.backend.state()["customers"]
        assert sorted(customer["crm_id"] for customer in held.values()) == [
            str(644968000000 + i) for i in range(20)
        ]


def test_a_cursor_too_small_for_the_jobs_rows_leaves_them_out_and_later_steps_find_them_again() -> None:
    pending = job(mode="pending", rows=None)
    progress = Progress.decode(None, pending)
    # every other row of a tall sheet is the job's: more separate rows than a cursor holds
    gaps = random.Random(7)
    rows, row = [], 1
    for _ in range(100_000):
        row += gaps.randint(2, 60)
        rows.append((row, row))
    progress.rows = rows
    progress.done = [(2, 2)]
    again = Progress.decode(progress.encode(), pending)
    assert again.rows is None
    assert again.done == [(2, 2)]


def _pending_sheet(world: World) -> None:
    """30 leads uploaded by an earlier job; then one of them edited, 25 new leads added below, and one
    new lead repeating the number of an uploaded one far above it."""
    assert run_step(job(mode="pending", rows=None), None, world.context()).counts["uploaded"] == 30
    tab = connect(Credentials(token="ya29.test"), adapter=WSGIAdapter(world.sheets_app)).open_by_key(
        world.spreadsheet_id
    )
    tab.sheet1.update([["Edited"]], "B10", value_input_option=ValueInputOption.raw)
    tab.sheet1.update(leads(25, start=100), "A32", value_input_option=ValueInputOption.raw)
    tab.sheet1.update([["054-7000003"]], "A50", value_input_option=ValueInputOption.raw)  # row 5's


def _pending_job(world: World, reads: Reads, max_rows: int) -> list[StepAnswer]:
    answers, cursor = [], None
    while True:
        reads.asked.clear()
        ctx = context(world, reads, budget=0.000_001, batch_size=10)
        answer = run_step(job(mode="pending", rows=None), cursor, replace(ctx, max_rows=max_rows))
        answers.append(answer)
        if answer.done:
            return answers
        cursor = answer.cursor


def test_a_job_without_room_for_every_pending_row_takes_rows_refused_as_they_are_last(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Pending rows found invalid before and unchanged since would be found invalid again: when a job
    cannot take every pending row, the new (and edited) ones go first, wherever they are in the sheet,
    whether the sheet is read at once or in parts of 7 rows."""
    for part_cells in (sheet_module.PART_CELLS, 7 * 26):  # the grid is 1,000 rows of 26 columns
        monkeypatch.setattr(sheet_module, "PART_CELLS", part_cells)
        broken = [[f"not a phone {i}", f"Broken {i}", "", ""] for i in range(5)]
        for world in make_world(broken + leads(25)):
            first = run_step(job(mode="pending", rows=None), None, world.context())
            assert (first.counts["invalid"], first.counts["uploaded"]) == (5, 25)
            tab = connect(Credentials(token="ya29.test"), adapter=WSGIAdapter(world.sheets_app)).open_by_key(
                world.spreadsheet_id
            )
            tab.sheet1.update(leads(10, start=100), "A32", value_input_option=ValueInputOption.raw)
            tab.sheet1.update([["Edited"]], "B4", value_input_option=ValueInputOption.raw)  # still invalid

            later = replace(world.context(max_rows=12), now=lambda: datetime(2030, 1, 2, 9, 0, tzinfo=UTC))
            answer = run_step(job(mode="pending", rows=None), None, later)

            # the 10 new rows and the edited one, then one of the four unchanged invalid rows: the first
            assert answer.done
            assert (answer.counts["uploaded"], answer.counts["invalid"]) == (10, 2)
            assert "3 more pending rows wait for the next run" in answer.message
            values = world.sheet_values()
            status = values[0].index(STATUS_COLUMNS[0])
            written = values[0].index(STATUS_COLUMNS[2])
            assert [values[n - 1][status] for n in range(32, 42)] == ["uploaded"] * 10
            # rows 2 and 4 were looked at again, rows 3, 5 and 6 wait for the next run
            assert {n for n in range(2, 7) if values[n - 1][written].startswith("2030")} == {2, 4}
            assert [values[n - 1][status] for n in range(2, 7)] == ["invalid"] * 5


def test_a_tall_sheet_is_read_in_parts_and_the_user_sees_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pending mode's first step reads the whole sheet in parts (each of 7 rows here), keeping whole only
    the rows its job takes: the answers, the statuses and the messages are those of a single read."""
    seen: dict[str, Any] = {}
    for part_cells in (sheet_module.PART_CELLS, 7 * 26):  # the grid is 1,000 rows of 26 columns
        monkeypatch.setattr(sheet_module, "PART_CELLS", part_cells)
        for world in make_world(leads(30)):
            _pending_sheet(world)
            reads = Reads(world.sheets_app)
            answers = _pending_job(world, reads, max_rows=20)
            values = world.sheet_values()
            status, message = values[0].index(STATUS_COLUMNS[0]), values[0].index(STATUS_COLUMNS[1])
            seen[str(part_cells)] = (
                [(a.processed_rows, a.total_rows, a.counts, a.errors, a.retry_rows) for a in answers],
                [(row[status], row[message]) for row in values[1:]],
            )
            if part_cells != sheet_module.PART_CELLS:
                # the first step of the next job, again: its reads of the rows came in parts of 7 rows
                reads.asked.clear()
                ctx = replace(context(world, reads), max_rows=20)
                read = read_step(job(mode="pending", rows=None), ctx)
                shown = [b for render, blocks in reads.asked if render == "FORMATTED_VALUE" for b in blocks]
                row_reads = [(r0, r1) for _, r0, _, r1 in shown if r1 > 1]
                # the leads are in rows 2-56 of a 1,000-row grid: parts of 7 rows until the part where
                # they end (51-57, which Google answers short), then the rest of the grid in one read
                assert row_reads == [(lo, lo + 6) for lo in range(2, 52, 7)] + [(58, 1000)]
                # kept whole: only the rows the job takes; of the others, their numbers
                assert len(read.selection.rows) <= 20
                assert read.found is not None
                assert read.found.settled + read.found.pending == 55

    whole, parted = seen.values()
    assert parted == whole
    answers, cells = whole
    # one job of 20 rows: the edited row 10 and the first 19 new ones (row 50 among them, repeating row
    # 5's number); the 29 unchanged uploaded rows left alone, the other 6 new rows left for the next job
    assert [a[:2] for a in answers] == [(11, 20), (20, 20)]
    assert answers[-1][2]["skipped"] == 29
    assert cells[10 - 2] == ("uploaded", "")
    assert cells[50 - 2][0] == "invalid"
    assert "already on row 5" in cells[50 - 2][1]
    assert cells[51 - 2 : 57 - 2] == [("", "")] * 6
