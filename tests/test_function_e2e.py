"""The function end to end: an HTTP call as the add-in makes it, a sheet in the Sheets emulator, and
uploads to the CallMarker emulator; every row's status checked in the sheet afterwards."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from callmarker_sheets.sheet import STATUS_COLUMNS
from tests.rowgen import make_rows, sheet_of
from tests.stack import CAMPAIGN, Stack, local_stack

STATUS, MESSAGE, TIME, FINGERPRINT = STATUS_COLUMNS


def statuses(stack: Stack, spreadsheet_id: str) -> dict[int, dict[str, str]]:
    """Row number -> the status columns' values, read back from the sheet."""
    values = stack.read_sheet(spreadsheet_id)
    header = values[0]
    where = {name: header.index(name) for name in STATUS_COLUMNS if name in header}
    out = {}
    for number, row in enumerate(values[1:], start=2):
        cells = {name: (row[i] if i < len(row) else "") for name, i in where.items()}
        if any(cells.values()):
            out[number] = cells
    return out


def held_numbers(stack: Stack) -> Counter[str]:
    return Counter(stack.callmarker_app.backend.state()["customers"])


def sent_customers(stack: Stack) -> list[dict[str, Any]]:
    return [c for r in stack.callmarker_app.requests for c in r["body"].get("customers", [])]


@pytest.fixture
def stack() -> Iterator[Stack]:
    with local_stack() as s:
        s.start_function()
        yield s


def test_a_selection_ends_with_every_row_carrying_its_own_status(stack: Stack) -> None:
    _, rows, expected = make_rows(400, invalid_share=0.08, seed=3)
    spreadsheet_id, gid = stack.new_spreadsheet(sheet_of(rows))

    answers = stack.run_job(
        {
            "spreadsheet_id": spreadsheet_id,
            "sheet_id": gid,
            "mode": "selected",
            "rows": [[2, 401]],
            "action": "upload",
            "options": {"campaign": CAMPAIGN},
        }
    )

    final = answers[-1]
    found = statuses(stack, spreadsheet_id)
    assert sorted(found) == list(range(2, 402))
    for i, want in enumerate(expected):
        got = found[i + 2]
        if want.valid:
            assert got[STATUS] == "uploaded", (i + 2, got)
        else:
            assert got[STATUS] == "invalid", (i + 2, want, got)
            assert want.column is not None
            assert want.column in got[MESSAGE], (i + 2, want, got)
        assert got[TIME]
        assert got[FINGERPRINT]
    by_status = Counter(s[STATUS] for s in found.values())
    assert final["counts"]["uploaded"] == by_status["uploaded"] == sum(e.valid for e in expected)
    assert final["counts"]["invalid"] == by_status["invalid"]
    assert final["total_rows"] == final["processed_rows"] == 400
    # every uploaded row is held by CallMarker exactly once, with the data sent
    state = stack.callmarker_app.backend.state()["customers"]
    sent = sent_customers(stack)
    assert len({c["number"] for c in sent}) == len(sent) == by_status["uploaded"]
    for customer in sent:
        assert customer["number"] in state
        assert CAMPAIGN in state[customer["number"]]["campaigns"]
    # the answer never carries a phone number
    assert not any(c["number"] in str(final) for c in sent)


def test_check_validates_and_writes_results_but_sends_nothing(stack: Stack) -> None:
    _, rows, expected = make_rows(60, invalid_share=0.2, seed=5)
    spreadsheet_id, gid = stack.new_spreadsheet(sheet_of(rows))

    (answer,) = stack.run_job(
        {"spreadsheet_id": spreadsheet_id, "sheet_id": gid, "rows": [[2, 61]], "action": "check"}
    )

    assert stack.callmarker_app.requests == []
    found = statuses(stack, spreadsheet_id)
    assert [found[i + 2][STATUS] for i in range(60)] == ["valid" if e.valid else "invalid" for e in expected]
    assert answer["counts"]["valid"] == sum(e.valid for e in expected)
    assert answer["counts"]["uploaded"] == 0


def test_a_small_time_budget_spreads_the_job_over_several_steps_without_repeating_rows() -> None:
    with local_stack(callmarker_settings={"latency": 0.05}, function_env={"TIME_BUDGET_S": "1"}) as stack:
        stack.start_function()
        _, rows, expected = make_rows(1500, invalid_share=0.05, seed=8)
        spreadsheet_id, gid = stack.new_spreadsheet(sheet_of(rows))

        answers = stack.run_job(
            {
                "spreadsheet_id": spreadsheet_id,
                "sheet_id": gid,
                "rows": [[2, 1501]],
                "options": {"batch_size": 50},
            }
        )

        assert len(answers) > 2
        assert [a["done"] for a in answers] == [False] * (len(answers) - 1) + [True]
        progress = [a["processed_rows"] for a in answers]
        assert progress == sorted(progress)
        assert progress[-1] == 1500
        sent = [c["number"] for c in sent_customers(stack)]
        assert len(sent) == len(set(sent)) == sum(e.valid for e in expected)
        found = statuses(stack, spreadsheet_id)
        assert Counter(s[STATUS] for s in found.values()) == {
            "uploaded": sum(e.valid for e in expected),
            "invalid": sum(not e.valid for e in expected),
        }


def test_killing_the_function_mid_step_loses_and_duplicates_nothing() -> None:
    with local_stack(callmarker_settings={"latency": 0.4}) as stack:
        stack.start_function(process=True)
        _, rows, expected = make_rows(600, invalid_share=0.05, seed=11)
        spreadsheet_id, gid = stack.new_spreadsheet(sheet_of(rows))
        body = {
            "spreadsheet_id": spreadsheet_id,
            "sheet_id": gid,
            "rows": [[2, 601]],
            "options": {"batch_size": 20},
        }

        outcome: list[BaseException] = []

        def first_call() -> None:
            try:
                stack.call(body)
            except httpx.TransportError as exc:  # the process is killed under it
                outcome.append(exc)

        first = threading.Thread(target=first_call, daemon=True)
        first.start()
        deadline = time.monotonic() + 30
        while not stack.callmarker_app.requests and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)
        stack.kill_function()
        first.join(timeout=10)
        assert outcome, "the first call should have lost its connection"
        sent_before_kill = len(stack.callmarker_app.requests)
        assert sent_before_kill > 0
        assert statuses(stack, spreadsheet_id) == {}  # killed before writing anything

        stack.start_function(process=True)
        answers = stack.run_job(body)

        state = stack.callmarker_app.backend.state()["customers"]
        found = statuses(stack, spreadsheet_id)
        uploaded_rows = [n for n, s in found.items() if s[STATUS] == "uploaded"]
        assert len(uploaded_rows) == sum(e.valid for e in expected) == answers[-1]["counts"]["uploaded"]
        assert len(state) == len(uploaded_rows)  # each customer once, whatever was sent twice


def test_pending_after_editing_rows_sends_exactly_the_edited_and_the_failed_rows() -> None:
    with local_stack(function_env={"CALLMARKER_MAX_ATTEMPTS": "1"}) as stack:
        stack.start_function()
        _, rows, _ = make_rows(200, invalid_share=0.0, seed=13)
        spreadsheet_id, gid = stack.new_spreadsheet(sheet_of(rows))
        job = {"spreadsheet_id": spreadsheet_id, "sheet_id": gid, "mode": "pending"}
        # four batches of 50: one answered, three answered 500 (after CallMarker stored them)
        stack.callmarker_app.configure(next=["ok", "500", "500", "500"])
        first = stack.run_job({**job, "options": {"batch_size": 50}})[-1]
        assert first["counts"]["uploaded"] == 50
        assert first["counts"]["failed"] == 150
        failed_rows = {n for n, s in statuses(stack, spreadsheet_id).items() if s[STATUS] == "failed"}
        assert sum(hi - lo + 1 for lo, hi in first["retry_rows"]) == len(failed_rows) == 150
        uploaded_first = {n for n, s in statuses(stack, spreadsheet_id).items() if s[STATUS] == "uploaded"}

        sheet = stack.sheets_client().open_by_key(spreadsheet_id).sheet1
        edited = sorted(uploaded_first)[::5][:10]
        for row in edited:
            sheet.update_acell(f"C{row}", f"Edited {row}")
        stack.callmarker_app.clear_requests()

        second = stack.run_job(job)[-1]

        assert second["counts"]["uploaded"] == len(edited) + len(failed_rows)
        assert second["counts"]["skipped"] == 200 - len(edited) - len(failed_rows)
        sent = sent_customers(stack)
        assert len(sent) == len(edited) + len(failed_rows)
        edited_names = {c["last_name"] for c in sent if c["last_name"].startswith("Edited")}
        assert edited_names == {f"Edited {r}" for r in edited}
        found = statuses(stack, spreadsheet_id)
        assert {s[STATUS] for s in found.values()} == {"uploaded"}
        assert len(stack.callmarker_app.backend.state()["customers"]) == 200


def test_the_answer_for_each_kind_of_failure(stack: Stack) -> None:
    spreadsheet_id, gid = stack.new_spreadsheet([["Name", "Email"], ["Dana", "dana@example.com"]])
    good = {"spreadsheet_id": spreadsheet_id, "sheet_id": gid, "rows": [[2, 2]]}

    cases: list[tuple[dict[str, Any], dict[str, str] | None, int]] = [
        ({"sheet_id": gid, "rows": [[2, 2]]}, None, 400),
        ({**good, "rows": "2-5"}, None, 400),
        ({**good, "action": "launch"}, None, 400),
        ({**good, "sheet_id": 999}, None, 404),
        ({**good, "spreadsheet_id": "1" + "x" * 43}, None, 403),
        ({**good, "rows": [[2, 60_000]]}, None, 413),
        (good, None, 422),  # no phone column
        (good, {"Authorization": "Bearer not-a-token"}, 401),
        (good, {"Authorization": ""}, 401),
    ]
    for body, headers, status in cases:
        if headers is None:
            response = stack.call(body)
        else:
            response = stack.http.post(stack.function_url or "", json=body, headers=headers)
        assert response.status_code == status, (body, response.text)
        error = response.json()["error"]
        assert error["code"] == status
        assert error["message"]

    forbidden = stack.call(good, id_token=stack.id_token(email="mallory@elsewhere.example", hd=None))
    assert forbidden.status_code == 403


def test_a_refused_token_stops_the_job_and_says_so(stack: Stack) -> None:
    _, rows, _ = make_rows(30, invalid_share=0.0, seed=2)
    spreadsheet_id, gid = stack.new_spreadsheet(sheet_of(rows))
    stack.callmarker_app.backend.reset()  # the emulator no longer knows our token
    stack.callmarker_app.backend.seed(tokens=["another-token"])

    response = stack.call({"spreadsheet_id": spreadsheet_id, "sheet_id": gid, "rows": [[2, 31]]})

    assert response.status_code == 502
    assert "token" in response.json()["error"]["message"].lower()
    found = statuses(stack, spreadsheet_id)
    assert found
    assert all(s[STATUS] in {"rejected", "failed"} for s in found.values())
    assert not any(s[STATUS] == "uploaded" for s in found.values())


@pytest.mark.slow
def test_a_20000_row_job_with_a_5_second_budget_finishes_over_several_calls_each_row_once() -> None:
    with local_stack(callmarker_settings={"latency": 0.5}, function_env={"TIME_BUDGET_S": "5"}) as stack:
        stack.start_function()
        _, rows, expected = make_rows(20_000, invalid_share=0.05, seed=21)
        spreadsheet_id, gid = stack.new_spreadsheet(sheet_of(rows))

        answers = stack.run_job({"spreadsheet_id": spreadsheet_id, "sheet_id": gid, "rows": [[2, 20_001]]})

        valid = sum(e.valid for e in expected)
        assert len(answers) >= 2
        assert answers[-1]["counts"]["uploaded"] == valid
        assert answers[-1]["counts"]["invalid"] == 20_000 - valid
        sent = [c["number"] for c in sent_customers(stack)]
        assert len(sent) == len(set(sent)) == valid
        found = statuses(stack, spreadsheet_id)
        assert len(found) == 20_000
        for i, want in enumerate(expected):
            assert found[i + 2][STATUS] == ("uploaded" if want.valid else "invalid"), i + 2
