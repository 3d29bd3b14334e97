"""The upload engine as a whole, in-process: sheet cells -> validation -> batched client -> CallMarker.

10,000 realistic rows with 5% invalid rows of many kinds, against the CallMarker emulator, calm and
then with a fifth of the requests failing in mixed ways.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator

import pytest

from callmarker_sheets.callmarker import CallMarkerClient, UploadReport
from callmarker_sheets.fields import map_headers
from callmarker_sheets.model import Outcome, RowError, UploadItem
from callmarker_sheets.retry import RetryPolicy
from callmarker_sheets.upload import invalid_result
from callmarker_sheets.validate import JobOptions, validate_rows
from tests.emulators.callmarker import CallMarkerEmulator, create_app
from tests.emulators.callmarker.transport import AsyncEmulatorTransport
from tests.rowgen import make_rows
from tests.stack import ACCOUNT, CALLMARKER_TOKEN
from tests.words import visible

FLAGS = ("override", "remove", "unique", "international")
TEXT = ("name", "last_name", "email", "source", "note", "custom_field_7", "followup_date")


@pytest.fixture
def emulator() -> Iterator[CallMarkerEmulator]:
    app = create_app(tokens=[CALLMARKER_TOKEN], **ACCOUNT)
    yield app
    app.close()


def validated(n: int, seed: int) -> tuple[list[UploadItem], dict[int, list[RowError]], dict[int, str]]:
    headers, rows, expected = make_rows(n, invalid_share=0.05, seed=seed)
    options = JobOptions(locale="iw_IL", time_zone="Asia/Jerusalem")
    verdicts = validate_rows(
        ((i + 2, shown, raw) for i, (shown, raw) in enumerate(rows)), map_headers(headers), options
    )
    items: list[UploadItem] = []
    errors: dict[int, list[RowError]] = {}
    for row, verdict in enumerate(verdicts, start=2):
        if isinstance(verdict, list):
            errors[row] = verdict
        else:
            items.append(verdict)
    wanted = {i + 2: e.column for i, e in enumerate(expected) if not e.valid}
    kinds = {e.kind for e in expected if not e.valid}
    assert len(kinds) >= 20, kinds
    return items, errors, {row: column or "" for row, column in wanted.items()}


def upload(app: CallMarkerEmulator, items: list[UploadItem]) -> UploadReport:
    client = CallMarkerClient(
        "http://callmarker.emulator/api/v1",
        CALLMARKER_TOKEN,
        retry=RetryPolicy(max_attempts=3, base_delay=0.001, max_delay=0.004),
        timeout=1.0,
        transport=AsyncEmulatorTransport(app),
    )
    return asyncio.run(client.upload(items))


def check_held_once_with_the_data_sent(app: CallMarkerEmulator, items: list[UploadItem]) -> None:
    state = app.backend.state()["customers"]
    numbers = [item.customer["number"] for item in items]
    assert len(set(numbers)) == len(numbers)
    assert set(state) == set(numbers)
    for item in items:
        held = state[item.customer["number"]]
        for key in TEXT:
            assert held.get(key) == item.customer.get(key), (item.row, key)


def test_ten_thousand_rows_each_invalid_row_named_each_valid_row_held_once(
    emulator: CallMarkerEmulator,
) -> None:
    items, errors, wanted = validated(10_000, seed=42)

    # every invalid row is found, and its message names the column that is wrong
    assert set(errors) == set(wanted)
    for row, row_errors in errors.items():
        assert wanted[row] in {e.column for e in row_errors}, (row, row_errors)
        # the column travels apart, and the row's message cell names it once, before what is wrong
        cell = visible(invalid_result(row, row_errors).message)
        assert all(e.column and cell.count(f"{e.column}: ") >= 1 for e in row_errors), row_errors

    report = upload(emulator, items)

    assert Counter(r.outcome for r in report.results) == {Outcome.UPLOADED: len(items)}
    assert report.unsent == []
    check_held_once_with_the_data_sent(emulator, items)
    for request in emulator.requests:
        body = request["body"]
        assert not [flag for flag in FLAGS if flag in body], body.keys()
        assert not [c for c in body["customers"] if "blacklisted" in c and c["blacklisted"] is not True]


def test_with_a_fifth_of_requests_failing_every_valid_row_ends_uploaded_and_none_falsely(
    emulator: CallMarkerEmulator,
) -> None:
    items, _, _ = validated(10_000, seed=7)
    emulator.configure(
        seed=3, rate_429=0.04, retry_after=0, rate_500=0.04, rate_503=0.04, rate_502_html=0.03,
        rate_malformed=0.02, rate_drop=0.02, rate_hang=0.01, hang_seconds=2.0,
    )  # fmt: skip
    uploaded: set[int] = set()
    pending = items
    for _attempt in range(6):  # each pass is what the next step of the job would send
        report = upload(emulator, pending)
        held = set(emulator.backend.state()["customers"])
        for result in report.results:
            if result.outcome is Outcome.UPLOADED:
                row = next(i for i in pending if i.row == result.row)
                assert row.customer["number"] in held  # never marked uploaded unless CallMarker holds it
                uploaded.add(result.row)
        left = {r.row for r in report.results if r.outcome is Outcome.FAILED} | {i.row for i in report.unsent}
        pending = [i for i in pending if i.row in left]
        if not pending:
            break

    assert uploaded == {item.row for item in items}
    assert sum(r["fault"] is not None for r in emulator.requests) > 0.1 * len(emulator.requests)
    check_held_once_with_the_data_sent(emulator, items)
