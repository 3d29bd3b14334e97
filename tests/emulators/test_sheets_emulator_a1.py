"""A1 notation and cell formats of the Sheets emulator, as pure functions."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.emulators.sheets import a1
from tests.emulators.sheets.cells import (
    Cell,
    Stored,
    format_serial,
    general_number,
    locale_rules,
    render,
    renderer,
    user_entered,
)

TITLES = ["Sheet1", "My sheet", "It's", "D3", "לידים"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Sheet1", a1.RangeRef("Sheet1")),
        ("'My sheet'!A1:B2", a1.RangeRef("My sheet", 0, 2, 0, 2)),
        ("'It''s'!C3", a1.RangeRef("It's", 2, 3, 2, 3)),
        ("My sheet!A1", a1.RangeRef("My sheet", 0, 1, 0, 1)),
        ("לידים!A2:F", a1.RangeRef("לידים", 1, None, 0, 6)),
        ("Sheet1!A:A", a1.RangeRef("Sheet1", None, None, 0, 1)),
        ("Sheet1!2:5", a1.RangeRef("Sheet1", 1, 5, None, None)),
        ("Sheet1!A1:1", a1.RangeRef("Sheet1", 0, 1, 0, None)),
        ("Sheet1!$B$2:$C$3", a1.RangeRef("Sheet1", 1, 3, 1, 3)),
        ("Sheet1!b2:a1", a1.RangeRef("Sheet1", 0, 2, 0, 2)),
        ("A1:B2", a1.RangeRef(None, 0, 2, 0, 2)),
        ("B7", a1.RangeRef(None, 6, 7, 1, 2)),
        ("'D3'", a1.RangeRef("D3")),
        ("D3", a1.RangeRef("D3")),
    ],
)
def test_parse_range(text: str, expected: a1.RangeRef) -> None:
    assert a1.parse_range(text, TITLES) == expected


@pytest.mark.parametrize(
    "text", ["", "'unterminated!A1", "Sheet1!A1:B2:C3", "Sheet1!1A", "nosuchsheet", "'x'A1"]
)
def test_parse_range_refuses_what_google_cannot_parse(text: str) -> None:
    with pytest.raises(a1.A1Error):
        a1.parse_range(text, TITLES)


@pytest.mark.parametrize(
    ("title", "written"),
    [
        ("Sheet1", "Sheet1"),
        ("D3", "'D3'"),
        ("My sheet", "'My sheet'"),
        ("It's", "'It''s'"),
        ("TRUE", "'TRUE'"),
    ],
)
def test_titles_are_quoted_only_when_needed(title: str, written: str) -> None:
    assert a1.quote_title(title) == written


@given(st.integers(min_value=0, max_value=18277))
def test_column_letters_round_trip(index: int) -> None:
    assert a1.column_index(a1.column_letters(index)) == index


@given(
    st.sampled_from(TITLES),
    st.integers(0, 5000),
    st.integers(1, 50),
    st.integers(0, 700),
    st.integers(1, 30),
)
def test_formatted_ranges_parse_back(title: str, r0: int, height: int, c0: int, width: int) -> None:
    text = a1.format_range(title, r0, r0 + height, c0, c0 + width)
    assert a1.parse_range(text, TITLES) == a1.RangeRef(title, r0, r0 + height, c0, c0 + width)


def test_general_number_format() -> None:
    en, de = locale_rules("en_US"), locale_rules("de_DE")
    assert [general_number(n, en) for n in (42, 42.0, 1.45, 1 / 3, 0.12)] == [
        "42",
        "42",
        "1.45",
        "0.3333333333",
        "0.12",
    ]
    assert general_number(1234.5, de) == "1234,5"


def test_date_patterns_render_minutes_and_months_apart() -> None:
    serial = 43032 + (15 * 60 + 34) / 1440
    assert format_serial(serial, "dd/mm/yyyy h:mm:ss") == "24/10/2017 15:34:00"
    assert format_serial(serial, "m/d/yyyy h:mm am/pm") == "10/24/2017 3:34 PM"


@given(st.text(alphabet="0123456789-/.:, abcTRUE'=$%", max_size=12))
def test_user_entered_stores_odd_text_as_some_cell(text: str) -> None:
    for locale in ("en_US", "he_IL", "de_DE"):
        stored = user_entered(text, locale_rules(locale))
        assert stored is None or isinstance(stored, (str, int, float, bool, Cell))
        assert (stored is None) == (text in ("", "'"))


NUMBER_FORMATS = [
    None,
    {},
    {"type": "NUMBER"},
    {"type": "PERCENT", "pattern": "0%"},
    {"type": "PERCENT", "pattern": "0.00%"},
    {"type": "CURRENCY", "pattern": '"₪"#,##0.00'},
    {"type": "DATE", "pattern": "dd/mm/yyyy"},
    {"type": "DATE_TIME", "pattern": "dd/mm/yyyy h:mm:ss"},
    {"type": "DATE_TIME", "pattern": "m/d/yyyy h:mm am/pm"},
    {"type": "TIME", "pattern": "h:mm:ss"},
    {"type": "TIME", "pattern": "hh:mm {x}"},
]
NUMBERS = st.one_of(
    st.integers(-(10**17), 10**17),
    st.floats(min_value=-1e6, max_value=3e6),
    st.sampled_from([0, 0.0, -0.0, 1e15, 1e16, 45000.5, 2**53, math.nan, math.inf, -math.inf]),
)
STORED = st.one_of(
    st.none(),
    st.text(max_size=3),
    st.booleans(),
    NUMBERS,
    st.builds(
        Cell,
        st.one_of(NUMBERS, st.booleans(), st.none(), st.text(max_size=3)),
        formula=st.sampled_from([None, "=1+1"]),
        number_format=st.sampled_from(NUMBER_FORMATS),
    ),
)


@given(st.lists(STORED, max_size=20))
def test_renderer_answers_as_render_does(entries: list[Stored]) -> None:
    for locale in ("en_US", "de_DE", "iw_IL"):
        rules = locale_rules(locale)
        for value_option in ("FORMATTED_VALUE", "UNFORMATTED_VALUE", "FORMULA"):
            for datetime_option in ("SERIAL_NUMBER", "FORMATTED_STRING"):
                one = renderer(value_option, datetime_option, rules)
                for entry in entries * 2:  # the second time, from what the renderer remembers
                    expected = _outcome(render, entry, value_option, datetime_option, rules)
                    assert _outcome(one, entry) == expected


def _outcome(function: Callable[..., object], *args: object) -> tuple[str, str]:
    """What a call gave, told apart by type (1 is not 1.0, nor True) or the exception it raised."""
    try:
        got = function(*args)
    except Exception as exc:  # dates far outside the calendar overflow, in both alike
        return type(exc).__name__, ""
    return type(got).__name__, repr(got)
