"""`make demo` keeps its promise: the job runs over several steps, the sheet is printed, and the check
it prints can fail when the result is wrong."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest

from tests import demo
from tests.demo import (
    COLUMNS,
    LOG_COLUMNS,
    MESSAGE,
    STATUS,
    SheetRow,
    fit,
    log_table,
    main,
    selection,
    verify,
    verify_automatic,
)
from tests.rowgen import HEADERS, PHONE
from tests.stack import CAMPAIGN, Stack


def test_the_demo_uploads_a_sheet_over_several_steps_prints_it_and_checks_it() -> None:
    out = io.StringIO()

    # A budget below the time kept for writing: every step sends one batch, so the job takes several.
    code = main(["--rows", "150", "--budget", "1"], out=out)

    text = out.getvalue()
    assert code == 0, text
    steps = re.findall(r"^step (\d+) \([\d.]+ s\): (.*)$", text, flags=re.MULTILINE)
    assert len(steps) > 1
    assert [int(n) for n, _ in steps] == list(range(1, len(steps) + 1))
    assert all(message.endswith("continuing…") for _, message in steps[:-1])
    assert steps[-1][1].startswith("Uploaded ")
    assert steps[-1][1].endswith(".")

    lines = text.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("Row "))
    assert lines[header].split() == [title for title, _ in COLUMNS]
    shown = [line for line in lines[header + 2 :] if re.match(r"^\d+ ", line)]
    assert [int(line.split()[0]) for line in shown[:15]] == list(range(2, 17))
    assert any(" invalid " in line for line in shown)

    summary = re.search(r"^Summary: 150 rows in (\d+) steps?, .*: (\d+) uploaded, (\d+) invalid", text, re.M)
    assert summary is not None, text
    assert int(summary[1]) == len(steps)
    assert int(summary[2]) + int(summary[3]) == 150
    assert f"Uploaded {int(summary[2]):,} of 150 rows" in steps[-1][1]
    check = re.search(r"^Check: ok\. .* exactly the (\d+) uploaded rows", text, re.M)
    assert check is not None, text
    assert check[1] == summary[2]

    # Then new leads arrive, and the add-in's automatic upload picks them up.
    automatic = text[text.index("\nAutomatic upload\n") :]
    assert "50 new leads were appended to the sheet" in automatic
    turned_on = r"^  Uploads the pending rows every 15 minutes, as dana@example\.com, since "
    assert re.search(turned_on, automatic, re.M)
    assert re.findall(r"^Run (\d), (\d+) minutes later \(automaticUpload\)", automatic, re.M) == [
        ("1", "15"),
        ("2", "30"),
    ]
    log = automatic.splitlines()
    table = log.index('The "CallMarker log" tab:')
    assert log[table + 1].split() == [title for title, _ in LOG_COLUMNS]
    newest, first = log[table + 3], log[table + 4]
    quiet = r" schedule +\d+ +\d+ +\d+ +0:\d\d +Nothing new to send in 1 run since .* still invalid\.$"
    assert re.search(quiet, newest)
    sent = r" schedule +\d+ +50 +\d+ +\d+ +0:\d\d +Done: uploaded 50 · invalid \d+ · skipped \d+\.$"
    assert re.search(sent, first)
    assert log[table + 5] == ""
    assert "Check: ok. The 50 new leads are uploaded, each sent to CallMarker once" in automatic


def test_the_demo_exits_1_with_the_functions_own_message_when_the_job_fails(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refused_stack(**kwargs: Any) -> Stack:
        # The function holds a token this CallMarker does not know: every upload is refused.
        return Stack(**{**kwargs, "function_env": {**kwargs["function_env"], "CALLMARKER_TOKEN": "revoked"}})

    monkeypatch.setattr(demo, "Stack", refused_stack)
    out = io.StringIO()

    code = main(["--rows", "20"], out=out)

    assert code == 1
    last = out.getvalue().splitlines()[-1]
    assert last.startswith("Demo FAILED: step 1: the function answered 502: CallMarker refused the upload")
    assert "token" in last


# -------------------------------------------------------------------------------------- the check


def _row(number: int, phone: str, status: str, message: str = "") -> SheetRow:
    return SheetRow(number, {HEADERS[PHONE]: phone, STATUS: status, MESSAGE: message}, phone)


def _consistent() -> dict[str, Any]:
    return {
        "answers": [
            {"done": False, "counts": {"uploaded": 1}, "processed_rows": 1},
            {"done": True, "counts": {"uploaded": 2, "invalid": 1, "failed": 0}, "processed_rows": 3},
        ],
        "rows": [
            _row(2, "054-700-0000", "uploaded"),
            _row(3, "call me", "invalid", 'טלפון "call me" is not a phone number'),
            _row(4, "\u200e+972 52-311-2233\u00a0", "uploaded"),
        ],
        "selected": 3,
        "held": {"0547000000": {"campaigns": {CAMPAIGN: None}}, "0523112233": {"campaigns": {CAMPAIGN: 1}}},
        "sent": ["0547000000", "0523112233"],
        "texts": ["Uploaded 2 of 3 rows", "a log line"],
        "secrets": ["cm-secret", "ya29.secret"],
    }


def test_the_check_passes_a_consistent_result() -> None:
    case = _consistent()
    assert verify(case.pop("answers"), case.pop("rows"), **case) == []


def _without_customer(case: dict[str, Any]) -> None:
    del case["held"]["0523112233"]


def _extra_customer(case: dict[str, Any]) -> None:
    case["held"]["0501234567"] = {"campaigns": {CAMPAIGN: None}}


def _other_campaign(case: dict[str, Any]) -> None:
    case["held"]["0547000000"] = {"campaigns": {"12": None}}


def _counts_differ(case: dict[str, Any]) -> None:
    case["answers"][-1]["counts"]["uploaded"] = 3


def _row_without_status(case: dict[str, Any]) -> None:
    case["rows"][1] = _row(3, "call me", "")


def _row_not_read(case: dict[str, Any]) -> None:
    case["selected"] = 4


def _not_done(case: dict[str, Any]) -> None:
    case["answers"][-1]["done"] = False


def _sent_twice(case: dict[str, Any]) -> None:
    case["sent"].append("0547000000")


def _token_in_log(case: dict[str, Any]) -> None:
    case["texts"].append('{"message": "calling with token cm-secret"}')


def _uploaded_without_number(case: dict[str, Any]) -> None:
    case["rows"][1] = _row(3, "call me", "uploaded")
    case["answers"][-1]["counts"] = {"uploaded": 3}


@pytest.mark.parametrize(
    ("tamper", "problem"),
    [
        (_without_customer, "CallMarker does not hold rows marked uploaded: [4]"),
        (_extra_customer, "CallMarker holds 1 customers no row is marked uploaded for"),
        (_other_campaign, f"rows not in campaign {CAMPAIGN} at CallMarker: [2]"),
        (_counts_differ, "the final answer counts"),
        (_row_without_status, "selected rows carry no status: [3]"),
        (_row_not_read, "1 selected rows carry no status"),
        (_not_done, "the last answer does not say done"),
        (_sent_twice, "1 customers were sent to CallMarker more than once"),
        (_token_in_log, "a token appears"),
        (_uploaded_without_number, "row 3 is marked uploaded but holds no valid phone number"),
    ],
)
def test_the_check_names_what_is_wrong(tamper: Any, problem: str) -> None:
    case = _consistent()
    tamper(case)

    problems = verify(case.pop("answers"), case.pop("rows"), **case)

    assert any(problem in p for p in problems), problems


# ------------------------------------------------------------------------------------ the printing


@pytest.mark.parametrize("count", [1, 2, 3, 150, 599, 600, 1000, 49_999])
def test_the_selection_covers_every_row_once_in_up_to_three_ranges(count: int) -> None:
    ranges = selection(2, count + 1)

    assert 1 <= len(ranges) <= 3
    covered = [n for lo, hi in ranges for n in range(lo, hi + 1)]
    assert covered == list(range(2, count + 2))


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("\u200e054-700-0000\u00a0", "054-700-0000\u00a0 "),  # direction marks take no column
        ("\u200fמעוניין במנוי שנתי\u200f", "מעוניין במנוי…"),
        ("two\nlines", "two lines     "),
        ("Noa כהן", "Noa כהן       "),
        ("", " " * 14),
    ],
)
def test_a_cell_takes_exactly_its_column_width(text: str, shown: str) -> None:
    assert fit(text, 14) == shown
    assert len(fit(text, 14)) == 14


# ------------------------------------------------------------------------- the automatic upload


def _automatic() -> dict[str, Any]:
    header = ["When", "Who", "How", "Tab", "Action", "Mode", "Rows", "uploaded", "invalid", "Result"]
    return {
        "new": ["0547000001", "0547000002"],
        "earlier": {"0547000009"},
        "sent": ["0547000001", "0547000002"],
        "rows": [
            _row(2, "054-700-0009", "uploaded"),
            _row(3, "054-700-0001", "uploaded"),
            _row(4, "054-700-0002", "uploaded"),
        ],
        "outcome": {
            "log": [
                header,
                ["t2", "d", "schedule", "Leads", "upload", "pending", "0", "", "", "Nothing new to send"],
                ["t1", "d", "schedule", "Leads", "upload", "pending", "2", "2", "", "Done: uploaded 2."],
            ],
            "emails": [],
        },
        "emails": 0,
    }


def _lost_lead(case: dict[str, Any]) -> None:
    case["sent"].remove("0547000002")


def _earlier_again(case: dict[str, Any]) -> None:
    case["sent"].append("0547000009")


def _lead_twice(case: dict[str, Any]) -> None:
    case["sent"].append("0547000001")


def _not_marked(case: dict[str, Any]) -> None:
    case["rows"][2] = _row(4, "054-700-0002", "failed")


def _no_log_row(case: dict[str, Any]) -> None:
    del case["outcome"]["log"][1]


def _unwanted_email(case: dict[str, Any]) -> None:
    case["outcome"]["emails"].append({"to": "dana@example.com", "subject": "x"})


@pytest.mark.parametrize(
    ("tamper", "problem"),
    [
        (_lost_lead, "1 new leads never reached CallMarker"),
        (_earlier_again, "1 earlier rows were sent again"),
        (_lead_twice, "1 numbers were sent to CallMarker more than once"),
        (_not_marked, "1 new leads are not marked uploaded in the sheet"),
        (_no_log_row, "the log tab holds 1 rows, not one per run"),
        (_unwanted_email, "the owner got 1 emails, not 0"),
    ],
)
def test_the_automatic_check_names_what_is_wrong(tamper: Any, problem: str) -> None:
    case = _automatic()
    assert verify_automatic(**case) == []
    tamper(case)

    assert problem in verify_automatic(**case)


def test_the_log_is_printed_in_the_columns_that_tell_a_run() -> None:
    log = _automatic()["outcome"]["log"]
    header = [*log[0][:7], "skipped", "Duration", *log[0][7:]]
    lines = log_table([header, [*log[2][:7], "30", "0:01", *log[2][7:]]])

    assert lines[0].split() == [title for title, _ in LOG_COLUMNS]
    assert lines[2].split() == ["t1", "schedule", "2", "2", "30", "0:01", "Done:", "uploaded", "2."]
