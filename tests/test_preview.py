"""The pre-flight preview: what a job would do, read as a step reads it, with nothing written or sent."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from google.oauth2.credentials import Credentials

from callmarker_sheets.errors import BadRequest
from callmarker_sheets.i18n import translator
from callmarker_sheets.preview import run_preview
from callmarker_sheets.sheet import Sheet, connect
from callmarker_sheets.upload import Job, StepContext, run_step
from tests.emulators.wsgi_requests import WSGIAdapter
from tests.stack import CAMPAIGN
from tests.test_upload import SEAL, SPREADSHEET, World, make_world
from tests.words import visible

HEADERS = ["טלפון", "שם", "Lead score", "Follow-up date"]


@pytest.fixture
def world() -> Iterator[World]:
    rows = [[f"054-7{i:06d}", f"ליד {i}", "7", ""] for i in range(20)]
    rows += [["12", "שבור", "", ""], ["054-7000001", "שוב", "", "31-02-2024"]]
    yield from make_world(rows, headers=HEADERS)


def preview_job(**body: Any) -> Job:
    request = {"spreadsheet_id": SPREADSHEET, "sheet_id": 0, "rows": [[2, 23]], "action": "preview"}
    request.update(body)
    return Job.from_json(request, seal=SEAL)


def reader(world: World) -> StepContext:
    gc = connect(Credentials(token="ya29.test"), adapter=WSGIAdapter(world.sheets_app))
    sheet = Sheet.open(gc, world.spreadsheet_id, world.gid, check_edit=False)
    return StepContext(sheet=sheet, client=None, budget_s=30)


def test_the_preview_counts_what_the_job_would_send_and_writes_and_sends_nothing(world: World) -> None:
    job = preview_job(preview_action="upload", options={"campaign": CAMPAIGN, "status": 12, "override": True})
    before = world.sheet_values()
    world.sheets_app.backend.reset_calls()
    answer = run_preview(job, reader(world), translator("en")).to_json()["preview"]

    assert {
        k: answer[k] for k in ("action", "total_rows", "to_send", "invalid", "skipped", "left_for_later")
    } == {
        "action": "upload",
        "total_rows": 22,
        "to_send": 20,
        "invalid": 2,
        "skipped": 0,
        "left_for_later": 0,
    }
    assert answer["columns"] == [
        {"column": "טלפון", "field": "number", "label": "Phone"},
        {"column": "שם", "field": "name", "label": "Name"},
        {"column": "Follow-up date", "field": "followup_date", "label": "Follow-up date"},
    ]
    assert answer["unmapped_columns"] == ["Lead score"]
    assert [(o["name"], o["label"], o["value"], visible(o["text"])) for o in answer["options"]] == [
        ("campaign", "Campaign", CAMPAIGN, CAMPAIGN),
        ("status", "Status", 12, "Follow Up"),
        ("override", "Update existing customers", True, "Yes"),
        ("default_region", "Default phone region", "IL", "Israel (IL)"),
    ]
    assert [(e["row"], e["column"]) for e in answer["errors"]] == [
        (22, "טלפון"),
        (23, "Follow-up date"),
        (23, "טלפון"),
    ]
    assert visible(answer["errors"][0]["message"]) == '"12" is not a valid phone number for Israel'
    # One read: the spreadsheet's properties and the two renders of the rows. No edit check, no write.
    assert world.sheets_app.backend.calls() == {"spreadsheets.get": 1, "values.batchGet": 2}
    assert world.sheet_values() == before
    assert world.callmarker_app.requests == []


def test_the_preview_speaks_hebrew_options_and_fields_in_words(world: World) -> None:
    job = preview_job(preview_action="remove", lang="he", options={"campaign": CAMPAIGN, "status": 12})
    answer = run_preview(job, reader(world), translator("he")).to_json()["preview"]
    assert answer["action"] == "remove"
    assert [c["label"] for c in answer["columns"]] == ["טלפון", "שם", "תאריך חזרה"]
    assert [(o["label"], visible(o["text"])) for o in answer["options"]] == [
        ("קמפיין", CAMPAIGN),
        ("סטטוס", "פולואפ"),
        ("אזור טלפון ברירת מחדל", "ישראל (IL)"),
    ]
    assert visible(answer["errors"][0]["message"]) == '"12" אינו מספר טלפון תקין בישראל'


def test_pending_rows_uploaded_and_unchanged_are_counted_as_skipped(world: World) -> None:
    uploaded = run_step(
        Job.from_json({"spreadsheet_id": SPREADSHEET, "sheet_id": 0, "rows": [[2, 11]]}, seal=SEAL),
        None,
        world.context(),
    )
    assert uploaded.counts["uploaded"] == 10
    answer = run_preview(
        preview_job(preview_action="upload", mode="pending", rows=None), reader(world), translator("en")
    ).to_json()["preview"]
    assert (answer["total_rows"], answer["to_send"], answer["invalid"], answer["skipped"]) == (12, 10, 2, 10)


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"action": "preview"}, "preview_action must be one of upload, remove"),
        ({"action": "preview", "preview_action": "check"}, "preview_action must be one of upload, remove"),
        ({"action": "preview", "preview_action": ["upload"]}, "preview_action must be one of"),
        ({"action": "preview", "preview_action": "upload", "cursor": "abc"}, "takes no cursor"),
        ({"action": "upload", "preview_action": "upload"}, "only with the action 'preview'"),
    ],
)
def test_a_preview_request_is_checked_strictly(body: dict[str, Any], words: str) -> None:
    with pytest.raises(BadRequest, match=words):
        Job.from_json({"spreadsheet_id": SPREADSHEET, "sheet_id": 0, "rows": [[2, 3]], **body}, seal=SEAL)


def test_a_preview_job_is_the_job_it_previews() -> None:
    job = preview_job(preview_action="remove", options={"campaign": CAMPAIGN})
    assert (job.action, job.preview) == ("remove", True)
