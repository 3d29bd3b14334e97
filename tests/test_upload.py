"""One step of a job (upload.py), in-process: the request, the cursor, and run_step over both emulators."""

from __future__ import annotations

import base64
import json
import re
import zlib
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

import pytest
from google.oauth2.credentials import Credentials
from gspread.utils import ValueInputOption

from callmarker_sheets.callmarker import CallMarkerClient
from callmarker_sheets.config import Secret
from callmarker_sheets.cursor import MAX_CURSOR_CHARS, CursorSeal
from callmarker_sheets.errors import CursorInvalid
from callmarker_sheets.model import RequestOptions, UploadItem
from callmarker_sheets.redaction import redact
from callmarker_sheets.retry import RetryPolicy
from callmarker_sheets.sheet import (
    STATUS_COLUMNS,
    RowsNow,
    Selection,
    Sheet,
    SheetError,
    StatusUpdate,
    WriteReport,
    connect,
)
from callmarker_sheets.upload import (
    MAX_BODY_BYTES,
    BadRequest,
    CallMarkerRefused,
    CallMarkerUnreachable,
    HeaderProblem,
    Job,
    PayloadTooLarge,
    Progress,
    StatusColumnsProtected,
    StatusesNotWritten,
    StepContext,
    TooManyRows,
    _Ahead,
    parse_body,
    row_ranges,
    run_step,
)
from tests.emulators import callmarker, sheets
from tests.emulators.callmarker.transport import AsyncEmulatorTransport
from tests.emulators.wsgi_requests import WSGIAdapter
from tests.stack import ACCOUNT, CALLMARKER_TOKEN, CAMPAIGN
from tests.words import visible

SPREADSHEET = "1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-abcd"
OK: dict[str, Any] = {"spreadsheet_id": SPREADSHEET, "sheet_id": 0, "rows": [[2, 3]]}
HEADERS = ["Phone", "First name", "Last name", "Follow-up date"]
STATUS = STATUS_COLUMNS[0]
SEAL = CursorSeal(Secret("k" * 43), subject="1098765432101234567890")


def job(*, seal: CursorSeal = SEAL, **overrides: Any) -> Job:
    body: dict[str, Any] = {"spreadsheet_id": SPREADSHEET, "sheet_id": 0, "rows": [[2, 10]]}
    body.update(overrides)
    return Job.from_json(body, seal=seal)


# ------------------------------------------------------------------------------------------ request


def test_a_request_is_read_with_defaults() -> None:
    j = job()
    assert (j.mode, j.action, j.rows, j.header_row, j.batch_size) == (
        "selected",
        "upload",
        ((2, 10),),
        1,
        None,
    )


def test_selected_rows_are_merged_and_sorted() -> None:
    assert job(rows=[[20, 30], [2, 5], [4, 8], [9, 9]]).rows == ((2, 9), (20, 30))


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ([], "JSON object"),
        ({"sheet_id": 0, "rows": [[2, 3]]}, "spreadsheet_id"),
        ({**OK, "spreadsheet_id": "zzz/../" + SPREADSHEET}, "spreadsheet_id"),
        ({**OK, "spreadsheet_id": "short"}, "spreadsheet_id"),
        ({**OK, "sheet_id": "0"}, "sheet_id"),
        ({**OK, "sheet_id": True}, "sheet_id"),
        ({**OK, "sheet_id": -1}, "sheet_id"),
        ({**OK, "sheet_id": 2**31}, "sheet_id"),
        ({"spreadsheet_id": SPREADSHEET, "sheet_id": 0}, "rows"),
        ({**OK, "rows": [[3, 2]]}, "[3, 2]"),
        ({**OK, "rows": [[0, 2]]}, "[0, 2]"),
        ({**OK, "rows": [["2", "3"]]}, "pair"),
        ({**OK, "rows": [[2, 10_000_001]]}, "pair"),
        ({**OK, "rows": [[n, n] for n in range(2, 10_003, 1)]}, "at most 10,000"),
        ({**OK, "mode": "pending"}, "only in selected mode"),
        ({**OK, "mode": "all"}, "mode"),
        ({**OK, "mode": ["selected"]}, "mode"),
        ({**OK, "action": "delete"}, "action"),
        ({**OK, "colour": "red"}, "Unknown field"),
        ({**OK, "options": {"colour": "red"}}, "colour"),
        ({**OK, "options": []}, "options must be a JSON object"),
        ({**OK, "options": 0}, "options must be a JSON object"),
        ({**OK, "options": False}, "options must be a JSON object"),
        ({**OK, "options": None}, "options must be a JSON object"),
        ({**OK, "options": {"override": "yes"}}, "override"),
        ({**OK, "options": {"batch_size": 0}}, "batch_size"),
        ({**OK, "options": {"batch_size": 1001}}, "batch_size"),
        ({**OK, "options": {"batch_size": True}}, "batch_size"),
        ({**OK, "options": {"header_row": 0}}, "header_row"),
        ({**OK, "options": {"header_row": "1"}}, "header_row"),
        ({**OK, "options": {"header_row": 10_000_001}}, "header_row"),
        ({**OK, "options": {"agent_name": "x" * 201}}, "agent_name"),
        ({**OK, "options": {"campaign": ["11"]}}, "campaign"),
        ({**OK, "options": {"status": 10.5}}, "status"),
        ({**OK, "options": {"default_region": 972}}, "default_region"),
    ],
)
def test_a_bad_request_is_refused_with_a_reason(body: Any, words: str) -> None:
    with pytest.raises(BadRequest, match=words.replace("[", r"\[").replace("]", r"\]")):
        Job.from_json(body, seal=SEAL)


def test_null_options_are_the_same_as_absent_ones() -> None:
    options = {"campaign": None, "agent_name": None, "status": None, "batch_size": 25, "header_row": None}
    the_job = job(options=options)
    assert (the_job.options, the_job.batch_size, the_job.header_row) == ({"batch_size": 25}, 25, 1)


def test_pending_mode_needs_no_rows() -> None:
    pending = {"spreadsheet_id": SPREADSHEET, "sheet_id": 3, "mode": "pending"}
    assert Job.from_json(pending, seal=SEAL).rows == ()
    assert Job.from_json({**pending, "rows": None}, seal=SEAL).rows == ()


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        (b"\xff\xfe{}", "UTF-8"),
        (b"{", "not valid JSON"),
        (b'{"a": NaN}', "not valid JSON"),
        (b'{"a": Infinity}', "not valid JSON"),
        (b'{"a": 1e999}', "not valid JSON"),
        (b'{"a": 1, "a": 2}', "not valid JSON"),
        (b'{"a": ' + b"1" * 5000 + b"}", "not valid JSON"),
        (b"[" * 9 + b"]" * 9, "nests deeper"),
        (b"[" * 2000 + b"]" * 2000, "nests deeper"),
        (b'{"cursor": "' + b"[" * 2000 + b'"}', ""),  # brackets inside a string do not nest
    ],
)
def test_a_body_is_json_strictly(raw: bytes, words: str) -> None:
    if not words:
        assert parse_body(raw) == {"cursor": "[" * 2000}
        return
    with pytest.raises(BadRequest, match=words):
        parse_body(raw)


def test_a_body_larger_than_the_cap_is_413() -> None:
    with pytest.raises(PayloadTooLarge):
        parse_body(b" " * (MAX_BODY_BYTES + 1))
    assert parse_body(b" " * (MAX_BODY_BYTES - 2) + b"{}") == {}


# ------------------------------------------------------------------------------------------- cursor


def test_a_cursor_round_trips_and_belongs_to_its_job() -> None:
    progress = Progress.decode(None, job())
    progress.done, progress.counts, progress.retry = [(2, 5)], Counter({"uploaded": 4}), [(7, 7)]
    progress.errors.append({"row": 6, "column": "Phone", "message": "bad"})
    again = Progress.decode(progress.encode(), job())
    assert (again.done, again.counts, again.retry, again.errors) == (
        [(2, 5)],
        Counter({"uploaded": 4}),
        [(7, 7)],
        [{"row": 6, "column": "Phone", "message": "bad"}],
    )
    with pytest.raises(CursorInvalid, match="another job"):
        Progress.decode(progress.encode(), job(rows=[[2, 11]]))


def test_a_cursor_belongs_to_its_caller_and_to_this_deploys_key() -> None:
    cursor = Progress.decode(None, job()).encode()
    someone_else = CursorSeal(SEAL.key, subject="2222222222222222222222")
    another_deploy = CursorSeal(Secret("j" * 43), subject=SEAL.subject)
    for seal in (someone_else, another_deploy):
        with pytest.raises(CursorInvalid, match="not one this function gave you"):
            Progress.decode(cursor, job(seal=seal))


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "not base64 at all!",
        17,
        ["a", "b"],
        "eyJ2IjogOX0",  # an unsigned cursor, as they once were
        "a" * 200_000,
    ],
)
def test_a_cursor_not_given_by_the_function_is_refused(cursor: object) -> None:
    with pytest.raises(CursorInvalid, match="cursor"):
        Progress.decode(cursor, job())


def test_every_changed_character_of_a_cursor_is_noticed() -> None:
    progress = Progress.decode(None, job())
    progress.done, progress.counts = [(2, 10)], Counter({"uploaded": 9})
    cursor = progress.encode()
    for i in range(len(cursor)):
        for other in {"A", "z", "-"} - {cursor[i]}:
            tampered = cursor[:i] + other + cursor[i + 1 :]
            with pytest.raises(CursorInvalid):
                Progress.decode(tampered, job())


def test_done_rows_are_clipped_to_the_jobs_rows() -> None:
    wide = job(rows=[[2, 100]])
    progress = Progress.decode(None, wide)
    progress.done = [(2, 40), (60, 100)]
    # The same caller's cursor, signed, but for a job of fewer rows: only those rows count.
    narrow = Job.from_json({**OK, "rows": [[30, 70]]}, seal=SEAL)
    forged = CursorSeal(SEAL.key, SEAL.subject).seal(
        {"job": narrow.key(), "done": [2, 38, 20, 40], "counts": {}, "errors": [], "retry": []}
    )
    assert Progress.decode(forged, narrow).done == [(30, 40), (60, 70)]


def test_the_cursor_holds_no_phone_number() -> None:
    progress = Progress.decode(None, job())
    progress.errors.append({"row": 3, "column": "Phone", "message": "masked ***-**-000"})
    body = progress.encode().split(".")[0]
    raw = zlib.decompress(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    assert b"054" not in raw


def test_a_large_fragmented_progress_still_fits_in_a_cursor() -> None:
    big = job(rows=[[2, 200_001]])
    progress = Progress.decode(None, big)
    # every other row done (the others empty), 100,000 separate intervals, and 50 long errors
    progress.done = [(n, n) for n in range(2, 200_001, 2)]
    progress.errors = [{"row": n, "column": "Phone", "message": "x" * 300} for n in range(2, 52)]
    cursor = progress.encode()
    assert len(cursor) <= MAX_CURSOR_CHARS
    assert Progress.decode(cursor, big).done == progress.done


# ------------------------------------------------------------------------------------ run_step


@dataclass
class World:
    sheets_app: Any
    callmarker_app: Any
    spreadsheet_id: str
    gid: int

    def context(
        self,
        *,
        budget: float = 30.0,
        batch_size: int = 500,
        max_rows: int = 50_000,
        sheets: Any = None,
        token: str | None = None,
    ) -> StepContext:
        """A step's context on this world; ``sheets``: a WSGI app in front of the Sheets emulator; ``token``:
        the Sheets token of whoever runs the step (the world's owner's by default)."""
        gc = connect(Credentials(token=token or "ya29.test"), adapter=WSGIAdapter(sheets or self.sheets_app))
        client = CallMarkerClient(
            "https://callmarker.test/api/v1",
            CALLMARKER_TOKEN,
            batch_size=batch_size,
            retry=RetryPolicy(max_attempts=2, base_delay=0.001, max_delay=0.002),
            transport=AsyncEmulatorTransport(self.callmarker_app),
        )
        sheet = Sheet.open(gc, self.spreadsheet_id, self.gid)
        return StepContext(sheet=sheet, client=client, budget_s=budget, max_rows=max_rows)

    def sheet_values(self) -> list[list[str]]:
        gc = connect(Credentials(token="ya29.test"), adapter=WSGIAdapter(self.sheets_app))
        values: list[list[str]] = gc.open_by_key(self.spreadsheet_id).sheet1.get_values()
        return values

    def statuses(self) -> dict[int, str]:
        values = self.sheet_values()
        column = values[0].index(STATUS)
        return {
            n: row[column] for n, row in enumerate(values[1:], start=2) if len(row) > column and row[column]
        }


def make_world(
    rows: Sequence[Sequence[str]], *, headers: Sequence[str] = HEADERS, owner: str | None = None
) -> Iterator[World]:
    """Leads in a spreadsheet of the Sheets emulator; with an ``owner``, the token ``ya29.test`` is theirs,
    and only they and those they share it with may use it."""
    sheets_app = sheets.create_app(sleep=lambda _s: None)
    callmarker_app = callmarker.create_app(tokens=[CALLMARKER_TOKEN], **ACCOUNT)
    if owner is not None:
        sheets_app.backend.sign_in("ya29.test", owner)
    spreadsheet = sheets_app.backend.create_spreadsheet(
        "Leads", locale="iw_IL", time_zone="Asia/Jerusalem", owner=owner
    )
    world = World(sheets_app, callmarker_app, spreadsheet.id, 0)
    gc = connect(Credentials(token="ya29.test"), adapter=WSGIAdapter(sheets_app))
    gc.open_by_key(spreadsheet.id).sheet1.update(
        [list(headers), *map(list, rows)], "A1", value_input_option=ValueInputOption.raw
    )
    try:
        yield world
    finally:
        callmarker_app.close()


def leads(n: int, start: int = 0) -> list[list[str]]:
    return [[f"054-7{i:06d}", f"Lead {i}", "Cohen", ""] for i in range(start, start + n)]


@pytest.fixture
def world() -> Iterator[World]:
    yield from make_world([*leads(30), ["not a phone", "Broken", "", ""], ["054-7000001", "Again", "", ""]])


def test_a_step_uploads_valid_rows_and_marks_the_others(world: World) -> None:
    answer = run_step(job(rows=[[2, 33]], options={"campaign": CAMPAIGN}), None, world.context())

    assert answer.done
    assert answer.cursor is None
    assert answer.counts == {
        "uploaded": 30,
        "rejected": 0,
        "invalid": 2,
        "failed": 0,
        "skipped": 0,
        "sent": 0,
    }
    assert (answer.total_rows, answer.processed_rows) == (32, 32)
    statuses = world.statuses()
    assert [statuses[n] for n in range(2, 32)] == ["uploaded"] * 30
    assert statuses[32] == statuses[33] == "invalid"
    assert {e["row"] for e in answer.errors} == {32, 33}
    assert "row 3" in next(e["message"] for e in answer.errors if e["row"] == 33)
    # no phone number leaves in an answer (the problem rows' link holds ids only, which may hold any digits)
    assert "054" not in json.dumps({**answer.to_json(), "problem_rows_url": None})
    assert len(world.callmarker_app.backend.state()["customers"]) == 30


def test_results_are_coloured_in_the_sheet_with_a_filter_view_of_problem_rows(world: World) -> None:
    ctx = world.context()
    ctx.who = "dana@"
    answer = run_step(job(rows=[[2, 33]], options={"campaign": CAMPAIGN}), None, ctx)

    sheet = world.sheets_app.backend.spreadsheet_json(world.spreadsheet_id)["sheets"][0]
    status_column = world.sheet_values()[0].index(STATUS)
    rules = sheet["conditionalFormats"]
    colour_of = {}
    for rule in rules:
        [cells] = rule["ranges"]
        assert (cells["startRowIndex"], cells["startColumnIndex"], cells["endColumnIndex"]) == (
            1,
            status_column,
            status_column + 1,
        )
        assert "endRowIndex" not in cells, "rows added later are coloured too"
        condition = rule["booleanRule"]["condition"]
        assert condition["type"] == "TEXT_EQ"
        background = rule["booleanRule"]["format"]["backgroundColor"]
        colour_of[condition["values"][0]["userEnteredValue"]] = "#" + "".join(
            f"{round(background[c] * 255):02x}" for c in ("red", "green", "blue")
        )
    green, red, amber = "#e6f4ea", "#fce8e6", "#fef7e0"
    assert colour_of == {
        "uploaded": green,
        "removed": green,
        "invalid": red,
        "rejected": red,
        "failed": amber,
        "sent": amber,
    }

    [view] = sheet["filterViews"]
    assert view["title"] == "CallMarker: problem rows"
    [spec] = view["filterSpecs"]
    assert spec["columnIndex"] == status_column
    formula = spec["filterCriteria"]["condition"]["values"][0]["userEnteredValue"]
    letter = chr(ord("A") + status_column)
    assert formula == f'=OR({letter}2="invalid",{letter}2="rejected",{letter}2="failed",{letter}2="sent")'
    url = f"https://docs.google.com/spreadsheets/d/{world.spreadsheet_id}/edit#gid=0&fvid={view['filterViewId']}"
    assert answer.problem_rows_url == url

    values = world.sheet_values()
    time_column = values[0].index(STATUS_COLUMNS[2])
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d · dana@", row[time_column]) for row in values[1:])

    # A later job finds the colours and the view: nothing is added again, and it answers the same link.
    world.sheets_app.backend.reset_calls()
    again = run_step(job(rows=[[2, 33]], options={"campaign": CAMPAIGN}), None, world.context())
    assert again.problem_rows_url == url
    assert world.sheets_app.backend.calls()["spreadsheets.batchUpdate"] == 1  # the edit check only
    after = world.sheets_app.backend.spreadsheet_json(world.spreadsheet_id)["sheets"][0]
    assert (len(after["conditionalFormats"]), len(after["filterViews"])) == (6, 1)


def test_a_tiny_budget_still_moves_the_job_on_by_one_batch_a_step(world: World) -> None:
    the_job = job(rows=[[2, 31]], options={"batch_size": 10})
    answers, cursor = [], None
    for _ in range(10):
        answer = run_step(the_job, cursor, world.context(budget=0.000_001, batch_size=10))
        answers.append(answer)
        if answer.done:
            break
        cursor = answer.cursor
    assert [a.processed_rows for a in answers] == [10, 20, 30]
    assert [r["customers"] for r in world.callmarker_app.requests] == [10, 10, 10]


class RecordingClient(CallMarkerClient):
    """The real client, noting the deadlines each upload was given."""

    given: list[tuple[float | None, float | None]]

    async def upload(
        self, items: Any, *, deadline: float | None = None, hard_deadline: float | None = None
    ) -> Any:
        self.given.append((deadline, hard_deadline))
        return await super().upload(items, deadline=deadline, hard_deadline=hard_deadline)


@pytest.mark.parametrize(
    ("read_ends", "last_batch_ends", "sent"),
    [
        (30.0, 45.0, 10),  # reading took the time kept for uploading: one batch, until the step's deadline
        (48.0, 50.0, 10),  # past the deadline: a short chance, half of LATE_REQUEST_S past it at most
        (52.0, 50.0, 0),  # later still: nothing is sent, the rows wait for the next step
    ],
)
def test_after_a_long_read_the_last_batch_ends_within_the_steps_reach(
    world: World, read_ends: float, last_batch_ends: float, sent: int
) -> None:
    """A step answers within Apps Script's 60 s: a batch sent after reading took the budget ends by the
    step's deadline (45 s), or 5 s after it at most, so that the write has its own 5 s."""
    context = world.context(budget=45.0, batch_size=10)
    now = [0.0]
    read = context.sheet.read

    def slow_read(*args: Any, **kwargs: Any) -> Selection:
        selection = read(*args, **kwargs)
        now[0] = read_ends
        return selection

    context.sheet.read = slow_read  # type: ignore[method-assign]
    client = context.client
    assert isinstance(client, CallMarkerClient)
    recording = RecordingClient(
        "https://callmarker.test/api/v1",
        CALLMARKER_TOKEN,
        batch_size=10,
        transport=AsyncEmulatorTransport(world.callmarker_app),
        clock=lambda: now[0],
    )
    recording.given = []
    context = replace(context, client=recording, clock=lambda: now[0])
    answer = run_step(job(rows=[[2, 31]]), None, context)
    assert recording.given == [(last_batch_ends, last_batch_ends)]
    assert answer.processed_rows == sent
    assert sum(r["customers"] for r in world.callmarker_app.requests) == sent
    if sent:
        assert list(world.statuses().values()) == ["uploaded"] * sent
    else:  # nothing to say of any row yet: no status written
        assert world.sheet_values()[0] == HEADERS


def test_check_sends_nothing_and_remove_removes(world: World) -> None:
    checked = run_step(job(rows=[[2, 31]], action="check"), None, world.context())
    assert checked.counts["valid"] == 30
    assert world.callmarker_app.requests == []
    assert set(world.statuses().values()) == {"valid"}

    run_step(job(rows=[[2, 31]], options={"campaign": CAMPAIGN}), None, world.context())
    removed = run_step(
        job(rows=[[2, 11]], action="remove", options={"campaign": CAMPAIGN}), None, world.context()
    )
    assert removed.counts["removed"] == 10
    assert world.callmarker_app.requests[-1]["body"]["remove"] is True
    state = world.callmarker_app.backend.state()["customers"]
    in_campaign = [number for number, c in state.items() if CAMPAIGN in c["campaigns"]]
    assert len(in_campaign) == 20
    assert Counter(world.statuses().values()) == {"removed": 10, "uploaded": 20}


def test_remove_without_a_campaign_is_refused_before_anything_is_read(world: World) -> None:
    with pytest.raises(BadRequest, match="campaign"):
        run_step(job(rows=[[2, 31]], action="remove"), None, world.context())
    assert world.callmarker_app.requests == []


def test_pending_takes_only_rows_not_uploaded_or_changed(world: World) -> None:
    pending = job(mode="pending", rows=None)
    first = run_step(pending, None, world.context())
    assert first.counts["uploaded"] == 30
    world.callmarker_app.clear_requests()

    second = run_step(pending, None, world.context())

    assert second.counts["skipped"] == 30
    assert second.counts["uploaded"] == 0
    assert second.counts["invalid"] == 2
    assert world.callmarker_app.requests == []


def test_pending_rows_beyond_one_job_wait_for_the_next_run() -> None:
    for world in make_world(leads(12)):
        pending = job(mode="pending", rows=None)
        first = run_step(pending, None, world.context(max_rows=5))
        assert first.done
        assert first.counts["uploaded"] == 5
        assert "7 more pending rows wait for the next run" in first.message
        assert sorted(world.statuses()) == [2, 3, 4, 5, 6]

        second = run_step(pending, None, world.context(max_rows=5))
        assert (second.counts["uploaded"], second.counts["skipped"]) == (5, 5)
        assert sorted(world.statuses()) == list(range(2, 12))


def test_too_many_rows_and_a_header_without_phone_are_refused() -> None:
    for world in make_world(leads(5)):
        with pytest.raises(TooManyRows, match="at most 3"):
            run_step(job(rows=[[2, 6]]), None, world.context(max_rows=3))
    for world in make_world([["Dana", "Cohen"]], headers=["Name", "Surname"]):
        with pytest.raises(HeaderProblem, match="phone"):
            run_step(job(rows=[[2, 2]]), None, world.context())


def test_a_refused_token_marks_the_rows_and_stops(world: World) -> None:
    world.callmarker_app.backend.reset()
    world.callmarker_app.backend.seed(tokens=["someone-else"])
    with pytest.raises(CallMarkerRefused, match="token"):
        run_step(job(rows=[[2, 31]]), None, world.context())
    assert set(world.statuses().values()) <= {"rejected", "failed"}


def test_callmarker_down_marks_the_rows_failed_and_says_so(world: World) -> None:
    world.callmarker_app.configure(rate_503=1.0)
    with pytest.raises(CallMarkerUnreachable, match="try again"):
        run_step(job(rows=[[2, 31]]), None, world.context())
    assert set(world.statuses().values()) == {"failed"}
    assert world.callmarker_app.backend.state()["customers"] == {}


LEAD, REP = "lead@example.com", "rep@example.com"


@pytest.fixture
def team() -> Iterator[World]:
    """The team lead's sheet of leads, shared with a rep who may edit it."""
    for world in make_world([*leads(30), ["not a phone", "Broken", "", ""]], owner=LEAD):
        world.sheets_app.backend.sign_in("ya29.rep", REP)
        world.sheets_app.backend.share(world.spreadsheet_id, REP, "writer")
        yield world


def test_status_columns_protected_from_the_rep_stop_the_upload_before_anything_is_sent(team: World) -> None:
    """The team lead uploaded once (the status columns E-H exist), then protected them for herself: a
    rep's upload would send rows whose statuses it could not write, so it sends nothing and says why."""
    assert run_step(job(rows=[[2, 11]]), None, team.context()).counts["uploaded"] == 10
    before = team.sheet_values()
    team.sheets_app.backend.protect(team.spreadsheet_id, 0, columns=(4, 8))
    with pytest.raises(StatusColumnsProtected) as caught:
        run_step(job(rows=[[12, 32]]), None, team.context(token="ya29.rep"))
    assert caught.value.http_status == 403
    assert visible(caught.value.message) == (
        "The status columns of this sheet (E, F, G, H) are protected, and your account may not edit them, so "
        "nothing was sent. Ask the spreadsheet's owner to let you edit them, or to take their protection off."
    )
    assert len(team.callmarker_app.backend.state()["customers"]) == 10
    assert team.sheet_values() == before
    # the team lead, who may edit them, goes on
    assert run_step(job(rows=[[12, 32]]), None, team.context()).counts["uploaded"] == 20


def test_a_protected_header_row_is_no_reason_to_refuse_a_rep(team: World) -> None:
    """A header row protected by the team lead: the rep may still edit the rows, and the statuses, once
    their columns are there; the edit check writes to a cell the rep may edit."""
    run_step(job(rows=[[2, 3]]), None, team.context())
    team.sheets_app.backend.protect(team.spreadsheet_id, 0, rows=(0, 1))
    answer = run_step(job(rows=[[4, 32]]), None, team.context(token="ya29.rep"))
    assert answer.counts["uploaded"] == 28
    assert team.statuses()[32] == "invalid"


def test_status_columns_still_to_add_in_a_protected_header_row_stop_the_upload(team: World) -> None:
    team.sheets_app.backend.protect(team.spreadsheet_id, 0, rows=(0, 1))
    with pytest.raises(StatusColumnsProtected):
        run_step(job(rows=[[2, 32]]), None, team.context(token="ya29.rep"))
    assert team.callmarker_app.backend.state()["customers"] == {}


def test_a_protection_that_only_warns_lets_the_upload_go_on(team: World) -> None:
    team.sheets_app.backend.protect(team.spreadsheet_id, 0, warning_only=True)
    assert run_step(job(rows=[[2, 32]]), None, team.context(token="ya29.rep")).counts["uploaded"] == 30


class ProtectedStatuses:
    """Google Sheets in front of the emulator, refusing every write of values, as it does when the status
    columns are in a protected range the user may not edit (found only when the statuses are written)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if environ["REQUEST_METHOD"] == "POST" and environ["PATH_INFO"].endswith("/values:batchUpdate"):
            message = (
                "You are trying to edit a protected cell or object. Please contact the spreadsheet owner."
            )
            body = {"error": {"code": 403, "message": message, "status": "PERMISSION_DENIED"}}
            start_response("403 Forbidden", [("Content-Type", "application/json")])
            return [json.dumps(body).encode()]
        return self.app(environ, start_response)


def test_rows_sent_whose_statuses_google_did_not_take_are_named(world: World) -> None:
    """The sheet cannot say that these rows were sent: the answer does, row by row, so that nobody sends
    them again unknowing."""
    with pytest.raises(StatusesNotWritten) as caught:
        run_step(job(rows=[[2, 33]]), None, world.context(sheets=ProtectedStatuses(world.sheets_app)))
    # 30 rows uploaded (and 2 invalid, which CallMarker never saw)
    assert len(world.callmarker_app.backend.state()["customers"]) == 30
    assert caught.value.http_status == 503
    assert caught.value.code == "statuses_not_written"
    words = visible(caught.value.message)
    assert words.startswith(
        "30 rows were sent to CallMarker, but Google Sheets did not take their statuses ("
    )
    assert "protected cell" in words
    assert "Rows 2\u201331: check them in CallMarker before you upload them again" in words
    assert STATUS not in world.sheet_values()[0]


def test_a_refused_write_with_no_row_sent_is_the_sheets_own_error(world: World) -> None:
    with pytest.raises(SheetError) as caught:
        run_step(
            job(rows=[[2, 33]], action="check"),
            None,
            world.context(sheets=ProtectedStatuses(world.sheets_app)),
        )
    assert not isinstance(caught.value, StatusesNotWritten)
    assert caught.value.http_status == 403


def test_rows_are_named_in_ranges_and_only_the_first_ten() -> None:
    assert row_ranges([5, 2, 3, 4, 9]) == "2\u20135, 9"
    assert row_ranges(range(2, 60, 2)) == "2, 4, 6, 8, 10, 12, 14, 16, 18, 20 and 19 more ranges"
    # a tall sheet's rows, through the masking every answer gets, still read as rows
    tall = row_ranges([*range(10_234, 10_300), 1_000_001])
    assert tall == "10,234\u201310,299, 1,000,001"
    assert redact(f"Rows {tall}: check them") == f"Rows {tall}: check them"


class SortingSheet:
    """The real sheet, sorted by someone else between the step's read and its write."""

    def __init__(self, sheet: Sheet, sheets_app: Any) -> None:
        self._sheet = sheet
        self._app = sheets_app
        self.info = sheet.info

    def read_header(self, header_row: int) -> tuple[str, ...]:
        return self._sheet.read_header(header_row)

    def read(self, intervals: Sequence[tuple[int, int]], **how: Any) -> Selection:
        return self._sheet.read(intervals, **how)

    def rows_now(self, selection: Selection, *, key_column: int) -> RowsNow:
        """Sorted just before the write looks where the rows are."""
        gc = connect(Credentials(token="ya29.other-user"), adapter=WSGIAdapter(self._app))
        gc.open_by_key(self.info.spreadsheet_id).sheet1.sort((2, "des"), range="A2:D31")
        return self._sheet.rows_now(selection, key_column=key_column)

    def write(
        self,
        selection: Selection,
        statuses: Sequence[StatusUpdate],
        *,
        key_column: int,
        as_now: RowsNow | None = None,
    ) -> WriteReport:
        return self._sheet.write(
            selection,
            statuses,
            key_column=key_column,
            as_now=as_now or self.rows_now(selection, key_column=key_column),
        )


def test_sorting_during_the_step_leaves_every_status_on_its_own_row() -> None:
    for world in make_world(leads(25) + [["12", f"Bad {i}", "", ""] for i in range(5)]):
        ctx = world.context()
        ctx.sheet = SortingSheet(ctx.sheet, world.sheets_app)  # type: ignore[assignment]

        answer = run_step(job(rows=[[2, 31]]), None, ctx)

        assert answer.lost_rows == ()
        values = world.sheet_values()
        status_col = values[0].index(STATUS)
        for row in values[1:31]:
            expected = "invalid" if row[1].startswith("Bad") else "uploaded"
            assert row[status_col] == expected, row


# ------------------------------------------------------------------- validation ahead of the client


def _items(n: int) -> Iterator[UploadItem]:
    for row in range(n):
        yield UploadItem(row, RequestOptions(), {"number": f"05{row:08d}"})


def test_rows_validated_ahead_arrive_all_and_in_order() -> None:
    ahead = _Ahead(_items(1234), chunk=100, chunks_ahead=2)
    assert [item.row for item in ahead] == list(range(1234))
    ahead.close()


def test_a_failure_while_validating_ahead_reaches_the_step() -> None:
    def broken() -> Iterator[UploadItem]:
        yield from _items(250)
        raise ValueError("a validator bug")

    ahead = _Ahead(broken(), chunk=100)
    with pytest.raises(ValueError, match="a validator bug"):
        list(ahead)
    ahead.close()


def test_giving_up_early_stops_the_thread_ahead() -> None:
    ahead = _Ahead(_items(1_000_000), chunk=100, chunks_ahead=2)
    assert next(ahead).row == 0
    ahead.close()  # returns: the thread stopped although most rows were never drawn
    assert not ahead._thread.is_alive()
