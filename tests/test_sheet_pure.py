"""The pure parts of the Sheets adapter: intervals, A1 ranges, locales, fingerprints, status headers."""

import hashlib
import json
from dataclasses import replace
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from callmarker_sheets.sheet import (
    STATUS_COLUMNS,
    SheetInfo,
    a1_block,
    a1_column,
    edit_check_cell,
    find_status_columns,
    is_locked,
    locked_blocks,
    locks_any,
    merge_intervals,
    number_runs,
    region_from_locale,
    row_fingerprint,
)

# ------------------------------------------------------------------------------------------ intervals


def test_overlapping_unsorted_and_adjacent_intervals_merge() -> None:
    assert merge_intervals([(10, 12), (2, 4), (3, 6), (7, 7), (20, 20)]) == ((2, 7), (10, 12), (20, 20))


def test_intervals_are_clipped_to_the_data_rows() -> None:
    assert merge_intervals([(1, 5), (8, 200)], first=3, last=100) == ((3, 5), (8, 100))


def test_intervals_wholly_outside_disappear() -> None:
    assert merge_intervals([(1, 2), (150, 160)], first=3, last=100) == ()


def test_a_backwards_interval_means_the_same_rows() -> None:
    assert merge_intervals([(9, 4)]) == ((4, 9),)


def test_rows_taken_one_by_one_make_runs() -> None:
    assert number_runs([7, 1, 3, 2, 3, 9, 8, 12]) == [(1, 3), (7, 9), (12, 12)]
    assert number_runs([]) == []


@given(st.lists(st.integers(min_value=0, max_value=300), max_size=200))
def test_number_runs_are_merged_intervals_of_single_rows(rows: list[int]) -> None:
    assert tuple(number_runs(rows)) == merge_intervals(((row, row) for row in rows), first=0)


@given(
    st.lists(st.tuples(st.integers(-5, 80), st.integers(-5, 80)), max_size=12),
    st.integers(1, 10),
    st.integers(10, 70),
)
def test_merged_intervals_cover_exactly_the_selected_rows(
    intervals: list[tuple[int, int]], first: int, last: int
) -> None:
    merged = merge_intervals(intervals, first=first, last=last)
    covered = [r for lo, hi in merged for r in range(lo, hi + 1)]
    expected = {r for a, b in intervals for r in range(min(a, b), max(a, b) + 1) if first <= r <= last}
    assert set(covered) == expected
    assert covered == sorted(set(covered)), "disjoint and sorted"
    assert all(b[0] > a[1] + 1 for a, b in pairwise(merged)), "no two touch"


# ---------------------------------------------------------------------------------------------- A1


def test_a1_block_quotes_the_sheet_title() -> None:
    assert a1_block("Leads", 2, 1, 9, 4) == "'Leads'!A2:D9"
    assert a1_block("לידים 2024", 1, 27, 1, 28) == "'לידים 2024'!AA1:AB1"
    assert a1_block("Bob's list", 5, 3, 5, 3) == "'Bob''s list'!C5"


def test_a1_column_is_open_ended() -> None:
    assert a1_column("Leads", 3) == "'Leads'!C:C"
    assert a1_column("Leads", 53) == "'Leads'!BA:BA"


# ------------------------------------------------------------------------------------------- locale


@pytest.mark.parametrize(
    ("locale", "region"),
    [
        ("iw_IL", "IL"),
        ("he_IL", "IL"),
        ("en_US", "US"),
        ("en_GB", "GB"),
        ("en-gb", "GB"),
        ("sr_Latn_RS", "RS"),
        ("en", None),
        ("es_419", None),
        ("", None),
        (None, None),
    ],
)
def test_region_from_locale(locale: str | None, region: str | None) -> None:
    assert region_from_locale(locale) == region


# -------------------------------------------------------------------------------------- fingerprint


def test_fingerprint_is_short_and_stable() -> None:
    fp = row_fingerprint(["דנה", "054-700-0000", "2024-05-01"])
    assert fp == row_fingerprint(("דנה", "054-700-0000", "2024-05-01"))
    assert len(fp) == 16
    assert all(c in "0123456789abcdef" for c in fp)


def test_fingerprint_changes_with_any_cell() -> None:
    base = ["Dana", "054-700-0000", ""]
    assert row_fingerprint(base) != row_fingerprint(["Dana", "054-700-0001", ""])
    assert row_fingerprint(base) != row_fingerprint(["Dana", "054-700-0000", "x"])
    assert row_fingerprint(base) != row_fingerprint(["054-700-0000", "Dana", ""])


def test_fingerprint_ignores_trailing_blank_cells_only() -> None:
    assert row_fingerprint(["a", "b"]) == row_fingerprint(["a", "b", "", " "])
    assert row_fingerprint(["a", "", "b"]) != row_fingerprint(["a", "b"])


#: Fingerprints as the status column holds them today, written before the function encoded rows with
#: orjson (json.dumps(cells, ensure_ascii=False, separators=(",", ":")), SHA-256, 16 hex digits): a
#: fingerprint that changed would make pending mode send every unchanged row again.
WRITTEN_BEFORE = [
    (["0547000000", "דנה", "כהן", "dana@example.co.il"], "037375025b260cf1"),
    (["054-700-0000", "Maya 🙂", "👩\u200d👩\u200d👧", "", "", "note"], "633b9efcaacc8742"),
    (["1,250", "3.14", "-0", "1.23E+15", "24/10/2017", "08:16"], "81365f00156c3c73"),
    (["", "", ""], "4f53cda18c2baa0c"),
    ([], "4f53cda18c2baa0c"),
    (
        [
            "\u200fמעוניין במנוי שנתי\u200f",
            "=not a formula",
            'quote " and \\ backslash',
            "tab\tnew\nline",
            "\x01ctl\x7f",
        ],
        "b7b9e2c12e104e35",
    ),
    (["\u2028sep\u2029", "é", "ﬁ", " leading", "trailing "], "b271e52e8684f409"),
]


@pytest.mark.parametrize(("cells", "written"), WRITTEN_BEFORE)
def test_fingerprints_already_in_sheets_still_match(cells: list[str], written: str) -> None:
    assert row_fingerprint(cells) == written


def _fingerprint_as_written_before(cells: list[str]) -> str:
    while cells and not cells[-1].strip():
        cells = cells[:-1]
    encoded = json.dumps(cells, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return hashlib.sha256(encoded).hexdigest()[:16]


# Any text a cell can hold (a lone surrogate cannot come from Google's JSON as UTF-8).
_CELL = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(_CELL, st.sampled_from(["", " ", "0", "-1.5", "1E+20", "דנה", "🙂"])), max_size=8))
def test_any_row_has_the_fingerprint_it_had_before(cells: list[str]) -> None:
    assert row_fingerprint(cells) == _fingerprint_as_written_before(cells)


def test_fingerprint_does_not_confuse_cell_boundaries() -> None:
    assert row_fingerprint(["ab", "c"]) != row_fingerprint(["a", "bc"])
    assert row_fingerprint(["a,b"]) != row_fingerprint(["a", "b"])


# ---------------------------------------------------------------------------------- status headers


def test_status_columns_are_found_in_any_order_and_case() -> None:
    headers = ["Phone", "callmarker  MESSAGE", "Name", " CallMarker status ", "CallMarker fingerprint"]
    assert find_status_columns(headers) == {
        "CallMarker message": 1,
        "CallMarker status": 3,
        "CallMarker fingerprint": 4,
    }


def test_the_first_of_two_equal_status_headers_wins() -> None:
    assert find_status_columns([STATUS_COLUMNS[0], "x", STATUS_COLUMNS[0]]) == {STATUS_COLUMNS[0]: 0}


# ------------------------------------------------------------------------------------ protected ranges


def test_protected_ranges_lock_only_what_the_caller_may_not_edit() -> None:
    protected = [
        # the header row, for the owner alone
        {"range": {"sheetId": 7, "startRowIndex": 0, "endRowIndex": 1}, "requestingUserCanEdit": False},
        # a range the caller may edit, a warning, another tab's range: none of them locks anything
        {"range": {"sheetId": 7, "startColumnIndex": 2, "endColumnIndex": 3}, "requestingUserCanEdit": True},
        {"range": {"sheetId": 7}, "warningOnly": True},
        {"range": {"sheetId": 8}, "requestingUserCanEdit": False},
        # the whole tab but columns A-C of rows 2-100: the holes stay editable
        {
            "range": {"sheetId": 7},
            "unprotectedRanges": [
                {"sheetId": 7, "startRowIndex": 1, "endRowIndex": 100, "endColumnIndex": 3}
            ],
        },
    ]
    locked = locked_blocks(protected, 7)
    assert len(locked) == 2
    assert is_locked(locked, 0, 0)  # the header row
    assert not is_locked(locked, 1, 0)
    assert not is_locked(locked, 99, 2)
    assert is_locked(locked, 1, 3)
    assert is_locked(locked, 100, 0)
    assert locks_any(locked, [1, 2, 150], 0)
    assert not locks_any(locked, range(1, 100), 1)
    assert locks_any(locked, [5], 4)


def test_a_protected_range_that_cannot_be_read_is_taken_for_the_whole_tab() -> None:
    locked = locked_blocks([{"range": {"sheetId": 7, "startRowIndex": "x"}}], 7)
    assert is_locked(locked, 0, 0)
    assert is_locked(locked, 10**6, 25)
    assert locked_blocks("not a list", 7) == ()


def test_the_edit_check_writes_to_the_first_cell_the_caller_may_edit() -> None:
    info = SheetInfo("s", "Leads", 7, "Sheet1", None, None, row_count=1000, column_count=26)
    assert edit_check_cell(info) == (0, 0)
    header = locked_blocks([{"range": {"sheetId": 7, "endRowIndex": 1}}], 7)
    assert edit_check_cell(replace(info, locked=header)) == (1, 0)
    everything = locked_blocks([{"range": {"sheetId": 7}}], 7)
    assert edit_check_cell(replace(info, locked=everything)) == (0, 0)
