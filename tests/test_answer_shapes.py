"""Whole jobs against CallMarker answering in shapes this tool was never shown: the status column stays true.

Each example is a job of the same 60 rows (a few refused by CallMarker: an agent it does not know, a
number it will not take) run step by step through the function's own code against the Sheets
emulator and the CallMarker emulator answering in one generated dialect (tests/emulators/callmarker/
dialects.py), with or without faults, and sometimes with a token or campaign that is wrong for all.
What a sales team relies on must hold for every one of them:

- no row says ``uploaded`` that CallMarker did not store;
- no row says ``rejected`` that CallMarker did not refuse;
- every row of the job gets a status, and a row's message never names another row's number;
- the job ends with a sentence that says what happened;
- without faults, no customer is sent more than ``1 + ceil(log2(batch))`` times.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

import pytest
from google.oauth2.credentials import Credentials
from gspread.utils import ValueInputOption
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from callmarker_sheets.callmarker import CallMarkerClient
from callmarker_sheets.config import Secret
from callmarker_sheets.cursor import CursorSeal
from callmarker_sheets.retry import RetryPolicy
from callmarker_sheets.sheet import STATUS_COLUMNS, Sheet, connect
from callmarker_sheets.upload import (
    CallMarkerRefused,
    CallMarkerUnreachable,
    CallMarkerUnreadable,
    Job,
    JobError,
    StepAnswer,
    StepContext,
    run_step,
)
from tests.emulators import callmarker, sheets
from tests.emulators.callmarker.dialects import (
    COUNT_FORMS,
    CUSTOMER_ERROR_FORMS,
    NUMBER_KEYS,
    REFUSAL_WORDS,
    SUCCESS_FORMS,
)
from tests.emulators.callmarker.transport import AsyncEmulatorTransport
from tests.emulators.wsgi_requests import WSGIAdapter

#: The cursor seal of the person running the jobs: each step's cursor is signed for them.
SEAL = CursorSeal(Secret("k" * 43), subject="1098765432101234567890")

TOKEN = "cm-shapes-token-41c7"
ROWS = 60
CAMPAIGN = "11"
KNOWN_AGENT, UNKNOWN_AGENT = "Dana Levi", "Moshe Nobody"
HEADERS = ["Phone", "Name", "Agent"]
STATUS, MESSAGE = STATUS_COLUMNS[0], STATUS_COLUMNS[1]
FAULTS = ("429", "503", "500", "502_html", "malformed", "html_200", "empty_200", "drop", "hang")


def number(index: int) -> str:
    """The national number of the row at ``index`` (row ``index + 2``), as validation sends it."""
    return f"0547{index:06d}"


LIST_KEYS = {
    "numbers": ["invalid_numbers", "not_valid", "failed", "errors", "details"],
    "e164": ["invalid_numbers", "rejected", "numbers"],
    "objects": ["errors", "failures", "items"],
    "keyed": ["errors", "invalid", "skipped", "details"],
    "indexes": ["failed_indexes", "invalid_indexes"],
    "results": ["results", "customers", "data"],
}


@st.composite
def dialects(draw: st.DrawFn) -> dict[str, Any]:
    listing = draw(st.none() | st.sampled_from(sorted(LIST_KEYS)))
    return {
        "success": draw(st.sampled_from(SUCCESS_FORMS)),
        "counts": draw(st.sampled_from(COUNT_FORMS)),
        "refusal_word": draw(st.sampled_from(REFUSAL_WORDS)),
        "listing": listing,
        "list_key": draw(st.sampled_from(LIST_KEYS[listing])) if listing else "invalid_numbers",
        "nest": draw(st.sampled_from([[], ["data"], ["result", "details"]])),
        "number_key": draw(st.sampled_from(NUMBER_KEYS)),
        "omit_empty": draw(st.booleans()),
        "customer_errors": draw(st.sampled_from(CUSTOMER_ERROR_FORMS)),
    }


@dataclass(frozen=True)
class Case:
    dialect: dict[str, Any]
    error_status: int
    bad_agents: frozenset[int]  # row indexes whose agent CallMarker does not know
    refused_numbers: frozenset[int]  # row indexes whose number CallMarker counts as not valid
    scenario: str  # "normal", "wrong token", "wrong campaign"
    faults: dict[str, float]
    batch_size: int
    concurrency: int
    split_budget: int

    @property
    def refused_by_callmarker(self) -> frozenset[int]:
        if self.scenario != "normal":
            return frozenset(range(ROWS))
        return self.bad_agents | self.refused_numbers


@st.composite
def cases(draw: st.DrawFn) -> Case:
    bad = draw(st.sets(st.integers(0, ROWS - 1), max_size=ROWS // 2))
    agents = frozenset(i for i in bad if draw(st.booleans()))
    fault_mix = draw(
        st.just({})
        | st.dictionaries(st.sampled_from(FAULTS), st.sampled_from([0.05, 0.1, 0.15]), min_size=1, max_size=3)
    )
    return Case(
        dialect=draw(dialects()),
        error_status=draw(st.sampled_from([200, 400, 422])),
        bad_agents=agents,
        refused_numbers=frozenset(bad) - agents,
        scenario=draw(st.sampled_from(["normal", "wrong token", "normal", "wrong campaign", "normal"])),
        faults={f"rate_{name}": rate for name, rate in fault_mix.items()},
        batch_size=draw(st.integers(1, ROWS)),
        concurrency=draw(st.integers(1, 4)),
        split_budget=draw(st.sampled_from([200, 200, 200, 6])),
    )


@pytest.fixture(scope="module")
def sheets_app() -> Any:
    """One Sheets emulator for every job: each gets a spreadsheet of its own."""
    return sheets.create_app(sleep=lambda _s: None)


def run_job(sheets_app: Any, case: Case) -> tuple[Any, StepAnswer | JobError, dict[int, tuple[str, str]]]:
    """The job the add-in would run: steps until done or stopped. Returns the CallMarker emulator, how
    the job ended, and each row's status and message as the sheet shows them."""
    app = callmarker.create_app(
        tokens=[TOKEN],
        campaigns={CAMPAIGN: [KNOWN_AGENT]},
        refused_numbers=[number(i) for i in case.refused_numbers],
        answers=case.dialect,
        error_status=case.error_status,
        seed=1,
        hang_seconds=0.3,
        retry_after=0,
        **case.faults,
    )
    spreadsheet = sheets_app.backend.create_spreadsheet("Leads", locale="en_US", time_zone="Asia/Jerusalem")
    gc = connect(Credentials(token="ya29.shapes"), adapter=WSGIAdapter(sheets_app))
    rows = [
        [number(i), f"Lead {i}", UNKNOWN_AGENT if i in case.bad_agents else KNOWN_AGENT if i % 3 else ""]
        for i in range(ROWS)
    ]
    gc.open_by_key(spreadsheet.id).sheet1.update(
        [HEADERS, *rows], "A1", value_input_option=ValueInputOption.raw
    )
    campaign = "99" if case.scenario == "wrong campaign" else CAMPAIGN
    job = Job.from_json(
        {
            "spreadsheet_id": spreadsheet.id,
            "sheet_id": 0,
            "rows": [[2, ROWS + 1]],
            "options": {"campaign": campaign, "batch_size": case.batch_size},
        },
        seal=SEAL,
    )
    cursor: str | None = None
    end: StepAnswer | JobError
    try:
        for _ in range(10):
            client = CallMarkerClient(
                "http://callmarker.shapes/api/v1",
                "not-the-token" if case.scenario == "wrong token" else TOKEN,
                # Short only where hangs are drawn: a busy machine must not turn a slow answer into a fault.
                timeout=0.1 if "rate_hang" in case.faults else 10.0,
                batch_size=case.batch_size,
                concurrency=case.concurrency,
                retry=RetryPolicy(max_attempts=3, base_delay=0.001, max_delay=0.002),
                max_split_requests=case.split_budget,
                transport=AsyncEmulatorTransport(app),
            )
            context = StepContext(sheet=Sheet.open(gc, spreadsheet.id, 0), client=client, budget_s=30.0)
            end = run_step(job, cursor, context)
            if end.done:
                break
            cursor = end.cursor
        else:
            raise AssertionError("the job did not end in 10 steps")
    except JobError as exc:
        end = exc
    finally:
        app.close()
    values = gc.open_by_key(spreadsheet.id).sheet1.get_values()
    status, message = values[0].index(STATUS), values[0].index(MESSAGE)
    shown = {
        n - 2: (row[status] if len(row) > status else "", row[message] if len(row) > message else "")
        for n, row in enumerate(values[1:], start=2)
    }
    return app, end, shown


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=cases())
def test_every_status_is_true_whatever_shape_callmarker_answers_in(sheets_app: Any, case: Case) -> None:
    app, end, shown = run_job(sheets_app, case)
    stored = app.backend.state()["customers"]
    statuses = {i: status for i, (status, _) in shown.items()}

    # Every row of the job has a status.
    assert set(statuses) == set(range(ROWS))
    assert all(statuses.values()), {i: s for i, s in statuses.items() if not s}
    assert set(statuses.values()) <= {"uploaded", "rejected", "failed", "sent"}

    # Uploaded only when CallMarker stored it; rejected only when CallMarker refused it.
    for i, status in statuses.items():
        if status == "uploaded":
            assert number(i) in stored, (i, shown[i])
            assert CAMPAIGN in stored[number(i)]["campaigns"]
        if status == "rejected":
            assert i in case.refused_by_callmarker, (i, shown[i])

    # A row's message comes from an answer about that row: it never names another row's number.
    for i, (_, message) in shown.items():
        for other in re.findall(r"0547\d{6}", message):
            assert other == number(i), (i, message)

    # The job ends with a sentence that says what happened.
    counts = Counter(statuses.values())
    if isinstance(end, StepAnswer):
        assert end.message.startswith(f"Uploaded {counts['uploaded']:,} of {ROWS} rows")
        assert end.message.endswith(".")
        if counts["sent"]:
            assert f"{counts['sent']:,} sent, but CallMarker did not confirm them row by row" in end.message
        attention = counts["rejected"] + counts["failed"]
        assert (f"{attention:,} need attention" in end.message) == bool(attention)
        assert {k: v for k, v in end.counts.items() if v} == dict(counts)
    else:
        assert end.message.endswith(".")
        expected = {
            CallMarkerRefused: "CallMarker refused the upload",
            CallMarkerUnreadable: "CallMarker answered something this tool cannot read",
            CallMarkerUnreachable: "CallMarker could not be reached",
        }
        assert any(isinstance(end, kind) and words in end.message for kind, words in expected.items()), end
        if isinstance(end, CallMarkerRefused) and case.scenario == "normal":
            # Only customers refused alone with the same words, none named, look like that.
            assert case.dialect["customer_errors"] == "unattributed"
            assert case.bad_agents
    if case.scenario != "normal" and not case.faults and case.split_budget >= 200:
        assert isinstance(end, CallMarkerRefused), end

    # Without faults, a customer is sent again only as a part of what it was sent in, halved.
    if not case.faults:
        sends = Counter(c["number"] for request in app.requests for c in request["body"]["customers"])
        assert max(sends.values(), default=0) <= 1 + math.ceil(math.log2(case.batch_size))
