"""Properties of the cell parsers: they never crash, never accept what the API rejects, and round-trip."""

import re
from datetime import date, datetime

import phonenumbers
from hypothesis import given, settings
from hypothesis import strategies as st

from callmarker_sheets.fields import map_headers
from callmarker_sheets.model import RowError, UploadItem
from callmarker_sheets.validate import FLAG_OFF, FLAG_ON, JobOptions, validate_row, validate_rows

HEADERS = ["Phone", "Follow-up date", "Min hour", "Blacklist", "Status", "Follow-up type", "Product", "Email"]
MAP = map_headers(HEADERS)
PHONE = "054-700-0000"
# Spaces and the invisible direction marks Hebrew text carries: neither is part of what a cell says.
_BLANK = (
    "".join(ch for ch in map(chr, range(0x3001)) if ch.isspace())
    + "\u200b\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff"
)

raw_values = st.one_of(
    st.text(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    st.just(""),
)


def check(column: str, formatted: str, raw: object, options: JobOptions | None = None) -> UploadItem | None:
    """Validate one cell under ``column`` beside a valid phone; None when the row is refused."""
    cells = [""] * len(HEADERS)
    raws: list[object] = [""] * len(HEADERS)
    index = HEADERS.index(column)
    cells[0] = raws[0] = PHONE
    cells[index], raws[index] = formatted, raw
    result = validate_row(2, cells, raws, MAP, options or JobOptions())
    if isinstance(result, list):
        assert result
        assert all(isinstance(e, RowError) and e.column in HEADERS for e in result)
        return None
    return result


@settings(max_examples=300)
@given(column=st.sampled_from(HEADERS), formatted=st.text(), raw=raw_values, same=st.booleans())
def test_no_cell_crashes_validation(column: str, formatted: str, raw: object, same: bool) -> None:
    check(column, formatted, formatted if same else raw)


# --- follow-up dates ------------------------------------------------------------------------------------

_RELATIVE = re.compile(r"\+[1-9]\d* (minute|hour|day|week|month)s?")


def read_sent(value: str) -> datetime | None:
    """An independent reading of what may be sent: Y-m-d, Y-m-d H:i, or None for a relative date."""
    if _RELATIVE.fullmatch(value):
        return None
    for form in ("%Y-%m-%d", "%Y-%m-%d %H:%M"):
        try:
            return datetime.strptime(value, form)
        except ValueError:
            pass
    raise AssertionError(f"sent a date the API does not document: {value!r}")


@settings(max_examples=300)
@given(formatted=st.text(), raw=raw_values)
def test_any_accepted_date_is_a_real_date_in_a_documented_form(formatted: str, raw: object) -> None:
    item = check("Follow-up date", formatted, raw)
    if item is not None and "followup_date" in item.customer:
        read_sent(item.customer["followup_date"])


@st.composite
def date_like(draw: st.DrawFn) -> tuple[str, str]:
    parts = [str(draw(st.integers(0, 9999))).zfill(draw(st.integers(1, 4))) for _ in range(3)]
    sep = draw(st.sampled_from("-./"))
    time = draw(st.sampled_from(["", " 9:45", " 23:59", " 7:05 pm", " 12am", " 24:00", " 13pm"]))
    return sep.join(parts) + time, sep


@settings(max_examples=500)
@given(case=date_like(), locale=st.sampled_from(["en_US", "iw_IL", "en_GB"]))
def test_an_accepted_written_date_is_the_documented_reading_of_its_separator(
    case: tuple[str, str], locale: str
) -> None:
    text, sep = case
    item = check("Follow-up date", text, text, JobOptions(locale=locale))
    if item is None:
        return
    sent = read_sent(item.customer["followup_date"])
    assert sent is not None
    day_part, _, time_part = text.partition(" ")
    if len(day_part.split(sep)[0]) == 4:
        form = f"%Y{sep}%m{sep}%d"
    elif sep == "/" and locale == "en_US":
        form = "%m/%d/%Y"
    else:
        form = f"%d{sep}%m{sep}%Y"
    assert sent.date() == datetime.strptime(day_part, form).date()
    if time_part:
        twelve = time_part.endswith("m")
        form = ("%I:%M %p" if ":" in time_part else "%I%p") if twelve else "%H:%M"
        assert sent.time() == datetime.strptime(time_part.upper(), form).time()


@given(
    day=st.dates(min_value=date(1000, 1, 1), max_value=date(9999, 12, 31)),
    form=st.sampled_from(
        ["{d:02}-{m:02}-{y}", "{d}.{m}.{y}", "{y}-{m:02}-{d:02}", "{m}/{d:02}/{y}", "{d}-{m}-{y}"]
    ),
)
def test_every_real_date_in_a_documented_format_is_sent_as_that_date(day: date, form: str) -> None:
    text = form.format(d=day.day, m=day.month, y=day.year)
    item = check("Follow-up date", text, text, JobOptions(locale="en_US"))
    assert item is not None
    assert item.customer["followup_date"] == day.isoformat()


@given(serial=st.floats(min_value=1, max_value=2958465.99), shown=st.sampled_from(["24/10/2017", "10:00"]))
def test_a_date_cell_is_always_sent_as_the_day_it_holds(serial: float, shown: str) -> None:
    item = check("Follow-up date", shown, serial)
    assert item is not None
    sent = read_sent(item.customer["followup_date"])
    assert sent is not None
    assert abs((sent - datetime(1899, 12, 30)).total_seconds() / 86400 - serial) < 61 / 86400


# --- hours ------------------------------------------------------------------------------------------------


@settings(max_examples=300)
@given(formatted=st.text(), raw=raw_values)
def test_any_accepted_hour_is_between_0_00_and_23_59(formatted: str, raw: object) -> None:
    item = check("Min hour", formatted, raw)
    if item is not None and "min_hour" in item.customer:
        sent = item.customer["min_hour"]
        assert re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", sent), sent


@given(h=st.integers(0, 99), m=st.integers(0, 99), half=st.sampled_from(["", "am", " pm", " AM", "PM"]))
def test_a_written_hour_is_accepted_exactly_when_it_is_a_real_time(h: int, m: int, half: str) -> None:
    text = f"{h}:{m:02d}{half}"
    item = check("Min hour", text, text)
    real = m < 60 and (1 <= h <= 12 if half else h < 24)
    assert (item is not None) == real
    if item is not None:
        form = "%I:%M%p" if half else "%H:%M"
        expected = datetime.strptime(text.replace(" ", "").upper(), form)
        assert item.customer["min_hour"] == expected.strftime("%H:%M")


# --- phone numbers ----------------------------------------------------------------------------------------


@settings(max_examples=500)
@given(digits=st.from_regex(r"(0|972|\+972)?[1-9][0-9]{6,10}", fullmatch=True))
def test_a_number_is_accepted_exactly_when_phonenumbers_finds_it_valid(digits: str) -> None:
    item = check("Phone", digits, digits)
    try:
        parsed = phonenumbers.parse(digits, "IL")
    except phonenumbers.NumberParseException:  # 012..., 013...: Israel's international call prefixes
        assert item is None
        return
    assert (item is not None) == phonenumbers.is_valid_number(parsed)
    if item is not None:
        national = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
        assert item.customer["number"] == re.sub(r"\D", "", national)


@settings(max_examples=300)
@given(formatted=st.text(), raw=raw_values, international=st.booleans())
def test_any_accepted_number_reparses_as_valid(formatted: str, raw: object, international: bool) -> None:
    item = check("Phone", formatted, raw, JobOptions(international=international))
    if item is None:
        return
    number = item.customer["number"]
    parsed = phonenumbers.parse(number, None if international else "IL")
    assert phonenumbers.is_valid_number(parsed)
    if international:
        assert number == phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    else:
        assert number.isdigit()
        assert parsed.country_code == 972


def _mobiles() -> st.SearchStrategy[str]:
    def valid(nsn: str) -> bool:
        parsed = phonenumbers.parse("0" + nsn, "IL")
        return phonenumbers.number_type(parsed) == phonenumbers.PhoneNumberType.MOBILE

    return st.from_regex(r"5[0-9]{8}", fullmatch=True).filter(valid)


@given(nsn=_mobiles(), style=st.integers(0, 8))
def test_a_mobile_written_any_common_way_gives_the_same_digits(nsn: str, style: int) -> None:
    a, b, c = nsn[:2], nsn[2:5], nsn[5:]
    written: list[tuple[str, object]] = [
        (f"0{nsn}", f"0{nsn}"),
        (f"0{a}-{b}-{c}", f"0{a}-{b}-{c}"),
        (f"0{a} {b} {c}", f"0{a} {b} {c}"),
        (f"(0{a}) {b}.{c}", f"(0{a}) {b}.{c}"),
        (f"+972 {a}-{b}-{c}", f"+972 {a}-{b}-{c}"),
        (f"+972{nsn}", f"+972{nsn}"),
        (nsn, int(nsn)),
        (f"972{nsn}", int(f"972{nsn}")),
        (f"\u200e0{a}-{b}-{c}\u00a0", f"\u200e0{a}-{b}-{c}\u00a0"),
    ]
    formatted, raw = written[style]
    item = check("Phone", formatted, raw)
    assert item is not None
    assert item.customer["number"] == f"0{nsn}"
    assert check("Phone", formatted, raw, JobOptions(international=True)) == UploadItem(
        2, JobOptions(international=True).request_options(), {"number": f"+972{nsn}"}
    )


# --- flags and enums --------------------------------------------------------------------------------------


@settings(max_examples=300)
@given(formatted=st.text(), raw=raw_values)
def test_a_flag_is_only_ever_one_of_the_documented_words(formatted: str, raw: object) -> None:
    item = check("Blacklist", formatted, raw)
    if item is None:
        return
    if isinstance(raw, bool) or raw in (0, 1):
        return
    # What the cell shows; a cell showing nothing is read from its raw text.
    shown = formatted.strip(_BLANK) or (raw.strip(_BLANK) if isinstance(raw, str) else "")
    word = shown.casefold()
    assert not word or word in FLAG_ON | FLAG_OFF
    assert ("blacklisted" in item.customer) == (word in FLAG_ON)
    if "blacklisted" in item.customer:
        assert item.customer["blacklisted"] is True


@settings(max_examples=300)
@given(formatted=st.text(), raw=raw_values)
def test_enums_take_only_documented_values(formatted: str, raw: object) -> None:
    item = check("Status", formatted, raw)
    if item is not None and item.options.status is not None:
        assert item.options.status in {1, 10, 11, 12, 18}
    item = check("Follow-up type", formatted, raw)
    if item is not None and "followup_type" in item.customer:
        assert item.customer["followup_type"] in {1, 2}


@settings(max_examples=300)
@given(formatted=st.text(), raw=raw_values)
def test_ids_are_positive_whole_numbers(formatted: str, raw: object) -> None:
    item = check("Product", formatted, raw)
    if item is not None and "product_id" in item.customer:
        product = item.customer["product_id"]
        assert product.isascii()
        assert product.isdigit()
        assert int(product) >= 1


# --- repeats, when the job's other rows are read for their numbers only --------------------------------

#: One number written the ways sheets hold it (formatted, raw), two others, and numbers that are not.
_SPELLINGS: list[tuple[str, object]] = [
    ("054-700-0000", "054-700-0000"),
    ("+972 54-700-0000", "+972 54-700-0000"),
    ("547000000", 547000000),
    ("972547000000", "972547000000"),
    ("\u200e054 700 0000\u200f", "\u200e054 700 0000\u200f"),
    ("052-222-2222", "052-222-2222"),
    ("+44 7911 123456", "+44 7911 123456"),
    ("", ""),
    ("not a number", "not a number"),
    ("1-800-FLOWERS", "1-800-FLOWERS"),
    ("٠٥٤٧٠٠٠٠٠٠٠", "٠٥٤٧٠٠٠٠٠٠٠"),  # the first number, in Arabic-Indic digits
]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(_SPELLINGS), st.sampled_from(["11", "12"]), st.booleans()), max_size=14
    ),
    st.booleans(),
)
def test_repeats_are_the_same_whether_the_other_rows_are_read_whole_or_by_their_numbers(
    rows: list[tuple[tuple[str, object], str, bool]], international: bool
) -> None:
    headers = map_headers(["Phone", "Campaign", "Name"])
    options = JobOptions(international=international)
    every = [
        (n, [shown, campaign, "x"], [raw, campaign, "x"])
        for n, ((shown, raw), campaign, _) in enumerate(rows, 2)
    ]
    acted_on = [row for row, (_, _, acts) in zip(every, rows, strict=True) if acts]
    whole = dict(zip((n for n, _, _ in every), validate_rows(every, headers, options), strict=True))
    keys = headers.narrowed((0, 1))
    others = [
        (n, shown[:2], raw[:2]) for (n, shown, raw), (_, _, acts) in zip(every, rows, strict=True) if not acts
    ]
    narrowed = validate_rows(acted_on, headers, options, others=others, others_headers=keys)
    for (n, _, _), verdict in zip(acted_on, narrowed, strict=True):
        assert verdict == whole[n], n
