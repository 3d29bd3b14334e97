"""Realistic sheet rows, as Sheets hands them over, with a known share of rows wrong in known ways.

``make_rows`` gives the header row, ``(formatted, raw)`` pairs (formatted: the text a user sees;
raw: UNFORMATTED_VALUE with serial-number dates) and, for each row, what validation must say about it.
Every invalid row has exactly one problem, in one column. Demo, engine tests and benchmark share it.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

__all__ = ["HEADERS", "INVALID_KINDS", "Expected", "Row", "make_rows", "sheet_of", "typed"]

#: Hebrew and English headers, spelled as people spell them.
HEADERS: tuple[str, ...] = (
    "טלפון",
    "שם",
    "Last name",
    "Email",
    "Source",
    "Follow-up date",
    "Follow-up type",
    "Note",
    "Min hour",
    "Max hour",
    "Blacklist",
    "custom_field_7",
    "Product ID",
    "Opportunity status",
    "Opportunity agent",
    "Not purchased reason",
)
(
    PHONE,
    NAME,
    LAST,
    EMAIL,
    SOURCE,
    FOLLOWUP,
    FOLLOWUP_TYPE,
    NOTE,
    MIN_HOUR,
    MAX_HOUR,
    BLACKLIST,
    CUSTOM,
    PRODUCT,
    OPP_STATUS,
    OPP_AGENT,
    REASON,
) = range(len(HEADERS))


@dataclass
class Row:
    """One sheet row: what the user sees, and Sheets' unformatted values."""

    formatted: list[str]
    raw: list[object]

    def set(self, column: int, formatted: str, raw: object | None = None) -> None:
        self.formatted[column] = formatted
        self.raw[column] = formatted if raw is None else raw


@dataclass(frozen=True, slots=True)
class Expected:
    """What validation must say: valid, or the header of the one column its error names."""

    valid: bool
    column: str | None = None
    kind: str = "valid"


_FIRST = ("דנה", "יוסי", "Noa", "אביגיל", "Moshe", "רוני", "Maya", "איתי", "Sarah", "עומר")
_LAST = ("כהן", "Levi", "מזרחי", "Peretz", "ביטון", "Friedman", "אברהם", "Shapiro")
_LATIN = ("dana", "yossi", "noa", "avigail", "moshe", "roni", "maya", "itay", "sarah", "omer")
_SOURCES = ("Facebook", "גוגל", "Website", "אינסטגרם", "Referral", "")
_NOTES = (
    "",
    "",
    "לקוח חוזר",
    "Asked for a call after 18:00",
    "\u200fמעוניין במנוי שנתי\u200f",
    "=not a formula",
)
# Mobile prefixes in use in Israel (050-2, 052-2, 054-2 ...): every number under them is valid.
_PREFIXES: tuple[str, ...] = (
    "502",
    "503",
    "504",
    "505",
    "506",
    "507",
    "508",
    "522",
    "523",
    "524",
    "526",
    "527",
    "528",
)
_PREFIXES += ("532", "533", "542", "543", "544", "545", "546", "547", "548", "549", "584", "585", "586")
_EPOCH = date(1899, 12, 30)


def _serial(day: date) -> int:
    return (day - _EPOCH).days


def _phone(i: int, seed: int, rng: random.Random) -> tuple[str, object]:
    """The i-th distinct Israeli mobile, written one of the ways sheets hold them."""
    prefix = _PREFIXES[i % len(_PREFIXES)]
    rest = (i // len(_PREFIXES) * 7919 + seed * 104729) % 10**6
    nsn = f"{prefix}{rest:06d}"
    local = f"0{nsn[:2]}-{nsn[2:5]}-{nsn[5:]}"
    style = rng.randrange(8)
    if style == 0:  # a number cell: the leading zero is gone
        return nsn, int(nsn)
    if style == 1:
        return f"+972 {nsn[:2]}-{nsn[2:5]}-{nsn[5:]}", f"+972 {nsn[:2]}-{nsn[2:5]}-{nsn[5:]}"
    if style == 2:  # a number cell with the country code
        return f"972{nsn}", int(f"972{nsn}")
    if style == 3:
        return f"(0{nsn[:2]}) {nsn[2:5]}.{nsn[5:]}", f"(0{nsn[:2]}) {nsn[2:5]}.{nsn[5:]}"
    if style == 4:
        return f"0{nsn}", f"0{nsn}"
    if style == 5:  # pasted from a Hebrew document: direction marks and a non-breaking space
        return f"\u200e{local}\u00a0", f"\u200e{local}\u00a0"
    return local, local


def _followup(rng: random.Random) -> tuple[str, object]:
    day = date(2027, 1, 1) + timedelta(days=rng.randrange(700))
    style = rng.randrange(9)
    if style == 0:  # a date-time cell
        minutes = rng.randrange(8 * 60, 20 * 60)
        text = f"{day:%d/%m/%Y} {minutes // 60}:{minutes % 60:02d}:00"
        return text, _serial(day) + minutes / 1440
    if style == 1:  # a date cell
        return f"{day:%d/%m/%Y}", _serial(day)
    if style == 2:
        return f"{day:%d-%m-%Y}", f"{day:%d-%m-%Y}"
    if style == 3:
        return f"{day:%d.%m.%Y} 9:45 am", f"{day:%d.%m.%Y} 9:45 am"
    if style == 4:
        return f"{day:%Y-%m-%d} 15:34", f"{day:%Y-%m-%d} 15:34"
    if style == 5:
        return rng.choice(("+2 hours", "+1 day", "+30 minutes")), ""
    return "", ""


def _valid_row(i: int, seed: int, rng: random.Random, international: bool) -> Row:
    row = Row([""] * len(HEADERS), [""] * len(HEADERS))
    if international and rng.random() < 0.1:
        number = f"+44 7911 {i % 1000000:06d}"
        row.set(PHONE, number)
    else:
        row.set(PHONE, *_phone(i, seed, rng))
    first = rng.randrange(len(_FIRST))
    row.set(NAME, _FIRST[first])
    row.set(LAST, rng.choice(_LAST))
    if rng.random() < 0.7:
        row.set(EMAIL, f"{_LATIN[first]}.{i}@example.co.il")
    row.set(SOURCE, rng.choice(_SOURCES))
    text, raw = _followup(rng)
    if raw == "":
        row.set(FOLLOWUP, text)
    else:
        row.set(FOLLOWUP, text, raw)
    if row.formatted[FOLLOWUP] and rng.random() < 0.5:
        kind = rng.choice((("Call", "Call"), ("2", 2), ("תזכורת", "תזכורת")))
        row.set(FOLLOWUP_TYPE, *kind)
    row.set(NOTE, rng.choice(_NOTES))
    window = rng.randrange(6)
    if window == 0:
        row.set(MIN_HOUR, "9:00")
        row.set(MAX_HOUR, "17:30")
    elif window == 1:
        row.set(MIN_HOUR, "8am")
        row.set(MAX_HOUR, "8pm")
    elif window == 2:  # time cells
        row.set(MIN_HOUR, "10:00:00", 10 / 24)
        row.set(MAX_HOUR, "18:00:00", 18 / 24)
    checked = rng.random() < 0.05
    row.set(BLACKLIST, "TRUE" if checked else "FALSE", checked)
    if rng.random() < 0.3:
        value = rng.randrange(1, 10**6)
        row.set(CUSTOM, str(value), value)
    deal = rng.randrange(10)
    if deal == 0:
        row.set(PRODUCT, "3", 3)
    elif deal == 1:
        row.set(PRODUCT, "3", 3)
        row.set(OPP_STATUS, "Purchased")
        row.set(OPP_AGENT, "Dana Cohen")
    elif deal == 2:
        row.set(PRODUCT, "5", 5)
        row.set(OPP_STATUS, "3", 3)
        row.set(OPP_AGENT, "יוסי")
        row.set(REASON, "4", 4)
    return row


_Change = tuple[int, str, object]  # column, formatted, raw (None: the same as formatted)


def _deal(
    status: str, *, product: str = "3", agent: str = "Dana Cohen", reason: str = ""
) -> tuple[_Change, ...]:
    return (
        (PRODUCT, product, int(product) if product.isdigit() else None),
        (OPP_STATUS, status, None),
        (OPP_AGENT, agent, None),
        (REASON, reason, int(reason) if reason.isdigit() else None),
    )


#: Ways a row goes wrong: kind -> (the column its one error names, the cells that make it wrong).
INVALID_KINDS: dict[str, tuple[int, tuple[_Change, ...]]] = {
    "phone_too_short": (PHONE, ((PHONE, "12345", 12345),)),
    "phone_words": (PHONE, ((PHONE, "call me", None),)),
    "phone_empty": (PHONE, ((PHONE, "", None),)),
    "phone_extension": (PHONE, ((PHONE, "054-700-1234 ext. 5", None),)),
    "phone_repeated": (PHONE, ()),  # make_rows gives it the number of an earlier row
    "email_without_at": (EMAIL, ((EMAIL, "dana.example.com", None),)),
    "email_with_space": (EMAIL, ((EMAIL, "dana @example.com", None),)),
    "email_two_at": (EMAIL, ((EMAIL, "dana@office@example.com", None),)),
    "email_without_domain_dot": (EMAIL, ((EMAIL, "dana@localhost", None),)),
    "date_not_real": (FOLLOWUP, ((FOLLOWUP, "31-02-2027", None),)),
    "date_words": (FOLLOWUP, ((FOLLOWUP, "next week", None),)),
    "date_two_digit_year": (FOLLOWUP, ((FOLLOWUP, "24-10-27", None),)),
    "date_typed_number": (FOLLOWUP, ((FOLLOWUP, "45000", 45000),)),
    "date_unknown_unit": (FOLLOWUP, ((FOLLOWUP, "+2 parsecs", None),)),
    "date_time_not_real": (FOLLOWUP, ((FOLLOWUP, "24-10-2027 25:61", None),)),
    "followup_type_unknown": (FOLLOWUP_TYPE, ((FOLLOWUP_TYPE, "Meeting", None),)),
    "hour_25": (MIN_HOUR, ((MIN_HOUR, "25:00", None), (MAX_HOUR, "20:00", None))),
    "hour_13pm": (MAX_HOUR, ((MIN_HOUR, "8am", None), (MAX_HOUR, "13pm", None))),
    "hour_minutes_75": (MAX_HOUR, ((MIN_HOUR, "9:00", None), (MAX_HOUR, "8:75", None))),
    "min_after_max": (MIN_HOUR, ((MIN_HOUR, "20:00", None), (MAX_HOUR, "08:00", None))),
    "blacklist_maybe": (BLACKLIST, ((BLACKLIST, "maybe", None),)),
    "product_words": (PRODUCT, ((PRODUCT, "shoes", None),)),
    "product_zero": (PRODUCT, ((PRODUCT, "0", 0),)),
    "opportunity_status_unknown": (OPP_STATUS, _deal("Sold")),
    "opportunity_without_product": (OPP_STATUS, _deal("Purchased", product="")),
    "closed_without_agent": (OPP_STATUS, _deal("Purchased", agent="")),
    "reason_when_purchased": (REASON, _deal("Purchased", reason="4")),
}


def make_rows(
    n: int, *, invalid_share: float = 0.05, seed: int = 0, international: bool = False
) -> tuple[list[str], list[tuple[list[str], list[object]]], list[Expected]]:
    """``n`` rows under ``HEADERS``; about ``invalid_share`` of them wrong, each in one known column.

    Valid for any job options without an agent (no row names a campaign), with ``international``
    matching the job's: with it on, some numbers are foreign; with it off, a foreign number is wrong.
    """
    rng = random.Random(seed)
    kinds = sorted(INVALID_KINDS)
    if not international:
        kinds.append("phone_foreign")
    rows: list[tuple[list[str], list[object]]] = []
    expected: list[Expected] = []
    good_numbers: list[tuple[str, object]] = []
    for i in range(n):
        row = _valid_row(i, seed, rng, international)
        if rng.random() >= invalid_share:
            rows.append((row.formatted, row.raw))
            expected.append(Expected(valid=True))
            good_numbers.append((row.formatted[PHONE], row.raw[PHONE]))
            continue
        kind = rng.choice(kinds)
        if kind == "phone_repeated" and not good_numbers:
            kind = "phone_words"
        if kind == "phone_repeated":
            row.set(PHONE, *rng.choice(good_numbers))
            column = PHONE
        elif kind == "phone_foreign":
            row.set(PHONE, "+33 6 12 34 56 78")
            column = PHONE
        else:
            column, changes = INVALID_KINDS[kind]
            for change in changes:
                row.set(*change)
        if column != PHONE:
            good_numbers.append((row.formatted[PHONE], row.raw[PHONE]))
        rows.append((row.formatted, row.raw))
        expected.append(Expected(valid=False, column=HEADERS[column], kind=kind))
    return list(HEADERS), rows, expected


def typed(formatted: str, raw: object) -> str:
    """What a user types so the cell holds ``raw`` and shows ``formatted``: text that Sheets would
    read as a number, a date or a formula is typed with a leading apostrophe, as users do."""
    if formatted == "" or isinstance(raw, int | float):
        return formatted
    return "'" + formatted


def sheet_of(rows: Iterable[tuple[Sequence[str], Sequence[object]]]) -> list[list[str]]:
    """The header row and ``rows`` as a user types them into a sheet (USER_ENTERED)."""
    return [list(HEADERS)] + [[typed(f, r) for f, r in zip(shown, raw, strict=True)] for shown, raw in rows]
