"""The row generator says the truth about its rows, so the demo, engine tests and benchmark can rely on it."""

import pytest

from callmarker_sheets.fields import map_headers
from callmarker_sheets.model import UploadItem
from callmarker_sheets.validate import JobOptions, validate_rows
from tests.rowgen import HEADERS, INVALID_KINDS, make_rows


@pytest.mark.parametrize(("seed", "international"), [(0, False), (1, False), (2, True)])
def test_every_row_validates_as_the_generator_says(seed: int, international: bool) -> None:
    headers, rows, expected = make_rows(3000, invalid_share=0.3, seed=seed, international=international)
    options = JobOptions(campaign="11", international=international)
    numbered = ((i + 2, formatted, raw) for i, (formatted, raw) in enumerate(rows))
    results = list(validate_rows(numbered, map_headers(headers), options))
    assert len(results) == len(expected) == 3000
    for result, want in zip(results, expected, strict=True):
        if want.valid:
            assert isinstance(result, UploadItem), (want, result)
        else:
            assert isinstance(result, list), (want, result)
            assert [e.column for e in result] == [want.column], (want, result)


def test_every_kind_of_invalid_row_is_made() -> None:
    _, _, expected = make_rows(2000, invalid_share=0.5)
    kinds = {e.kind for e in expected if not e.valid}
    assert kinds == {*INVALID_KINDS, "phone_foreign"}
    assert len(kinds) >= 20
    _, _, expected = make_rows(2000, invalid_share=0.5, international=True)
    assert {e.kind for e in expected if not e.valid} == set(INVALID_KINDS)


def test_the_share_of_invalid_rows_is_about_what_was_asked() -> None:
    _, _, expected = make_rows(4000, invalid_share=0.05, seed=3)
    assert 120 <= sum(not e.valid for e in expected) <= 280
    _, _, expected = make_rows(500, invalid_share=0.0)
    assert all(e.valid for e in expected)


def test_rows_look_like_sheets_gives_them() -> None:
    headers, rows, _ = make_rows(500, invalid_share=0.0)
    assert headers == list(HEADERS)
    assert all(len(formatted) == len(raw) == len(headers) for formatted, raw in rows)
    phones = [raw[0] for _, raw in rows]
    followups = [raw[headers.index("Follow-up date")] for _, raw in rows]
    assert any(isinstance(p, int) and not str(p).startswith("972") for p in phones)  # zero lost
    assert any(isinstance(f, float) for f in followups)  # date-time cells as serials
    assert any(any("\u0590" <= ch <= "\u05ff" for ch in formatted[1]) for formatted, _ in rows)


def test_the_same_seed_gives_the_same_rows_and_numbers_do_not_repeat_by_chance() -> None:
    assert make_rows(300, seed=5) == make_rows(300, seed=5)
    assert make_rows(300, seed=5)[1] != make_rows(300, seed=6)[1]
    headers, rows, _ = make_rows(5000, invalid_share=0.0, seed=9)
    numbered = ((i + 2, f, r) for i, (f, r) in enumerate(rows))
    items = [
        r for r in validate_rows(numbered, map_headers(headers), JobOptions()) if isinstance(r, UploadItem)
    ]
    assert len(items) == 5000
    assert len({item.customer["number"] for item in items}) == 5000
