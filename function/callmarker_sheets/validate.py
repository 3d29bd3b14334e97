"""Sheet cells -> a CallMarker customer and its request options, or every error of the row. Pure, no I/O.

Each row comes twice: ``formatted`` (the text the user sees) and ``raw`` (Sheets' unformatted values,
dates as serial numbers). Every error carries its column as the user wrote it, and its message quotes
the value (set apart with bidi isolates) without naming the column again. Messages are in the language
of the translator given, and are made only for errors: a valid row costs no lookup.
"""

from __future__ import annotations

import math
import re
import zoneinfo
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import Any, NamedTuple

import phonenumbers
from phonenumbers import NumberParseException, PhoneMetadata, PhoneNumberFormat

from callmarker_sheets.fields import STATUS_VALUES, Field, HeaderMap, Kind, field_for, fold
from callmarker_sheets.i18n import ENGLISH, N_, Choices, Text, Translator, isolate
from callmarker_sheets.model import RequestOptions, RowError, UploadItem

__all__ = [
    "FLAG_OFF",
    "FLAG_ON",
    "FORMULA_ERRORS",
    "JobOptions",
    "check_job_options",
    "country_name",
    "day_first",
    "field_label",
    "key_columns",
    "raw_columns",
    "validate_row",
    "validate_rows",
]

DEFAULT_REGION = "IL"
DEFAULT_TIME_ZONE = "Asia/Jerusalem"
DEFAULT_LOCALE = "iw_IL"


@dataclass(frozen=True, slots=True)
class JobOptions:
    """The request-level options chosen in the sidebar, and how to read the spreadsheet's cells.

    ``default_region``: the country of numbers written without a country code. ``time_zone``: the
    spreadsheet's (date cells are wall-clock times in it). ``locale``: the spreadsheet's; it decides
    whether ``24/10/2017`` typed as text is day first (see ``day_first``).
    """

    campaign: str | None = None
    agent_name: str | None = None
    override: bool = False
    remove: bool = False
    unique: bool = False
    status: int | None = None
    international: bool = False
    default_region: str = DEFAULT_REGION
    time_zone: str = DEFAULT_TIME_ZONE
    locale: str = DEFAULT_LOCALE

    def request_options(self) -> RequestOptions:
        return RequestOptions(
            campaign=self.campaign or None,
            agent_name=self.agent_name or None,
            status=self.status,
            override=self.override,
            remove=self.remove,
            unique=self.unique,
            international=self.international,
        )


# --- cells -------------------------------------------------------------------------------------------

# Hebrew text pasted from other apps often carries direction marks at its ends; they are invisible.
_MARKS = "\u200b\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff"
_TRIM = "".join(ch for ch in map(chr, range(0x3001)) if ch.isspace()) + _MARKS
_DROP_MARKS = dict.fromkeys(map(ord, _MARKS))


#: A value quoted in a message is cut to this many characters: the message is a sentence, the cell is
#: right beside it, and a message cell must stay far below Google's limit on a cell.
MAX_QUOTED_CHARS = 100


def quoted(text: str) -> str:
    """A cell's value as a message quotes it: cut short when it is long."""
    return text if len(text) <= MAX_QUOTED_CHARS else text[: MAX_QUOTED_CHARS - 1] + "…"


def _trim(text: str) -> str:
    return text.strip(_TRIM)


def _serial(text: str, raw: object) -> float | None:
    """The raw number of a date or time cell, or None when the cell is text or a number typed as such.

    Both come as numbers from Sheets; a date cell shows something other than its number.
    """
    if isinstance(raw, bool) or not isinstance(raw, int | float) or _same_number(text, raw):
        return None
    return float(raw)


def _integral(raw: object) -> int | None:
    """The whole number a numeric cell holds (12.0 is 12), else None."""
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        return None
    if isinstance(raw, float):
        if not math.isfinite(raw) or not raw.is_integer():
            return None
        return int(raw)
    return raw


def _same_number(text: str, value: float) -> bool:
    """True when the cell shows ``value`` as a plain number (typed as a number, not a date or time)."""
    compact = text.translate(_NUMBER_NOISE)
    if _NOT_A_NUMBER.search(compact):  # a date or a time: what float() would refuse, without asking it
        return False
    for candidate in (compact.replace(",", ""), compact.replace(".", "").replace(",", ".")):
        try:
            if float(candidate) == value:
                return True
        except ValueError:
            pass
    return False


_NUMBER_NOISE = dict.fromkeys(map(ord, " \u00a0\u202f'"))
#: A character float() never takes (after the noise above is gone), such as the "/" of a date.
_NOT_A_NUMBER = re.compile(r"[^\d\s.,eE+\-_]")


class _Invalid(Exception):
    """A cell's value is wrong; ``reason`` completes the sentence '"value" ...'. It is put in words only
    when the error is reported, in the job's language."""

    def __init__(self, reason: Text) -> None:
        self.reason = reason


# --- formula errors ----------------------------------------------------------------------------------

#: What a cell shows when its formula failed, as Google Sheets writes each error type (its API's
#: ErrorValue: #ERROR!, #NULL!, #DIV/0!, #VALUE!, #REF!, #NAME?, #NUM!, #N/A), and a formula still
#: being calculated (an IMPORTRANGE, say). Such a cell holds no value a customer could have.
FORMULA_ERRORS = frozenset(
    {"#ERROR!", "#NULL!", "#DIV/0!", "#DIV/0", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "Loading..."}
)


def _formula_error(text: str) -> Text:
    if text == "Loading...":
        return N_("is still being calculated: wait until the sheet shows its value, then upload again")
    return N_("is a formula error, not a value: fix the formula or type the value")


# --- flags -------------------------------------------------------------------------------------------

#: Words that turn an "if set" flag on or off (compared case-folded); a checkbox is a flag too.
FLAG_ON = frozenset({"yes", "y", "true", "1", "✓", "✔", "✔️", "x", "v", "כן", "on"})
FLAG_OFF = frozenset({"no", "n", "false", "0", "לא", "off", ""})
_FLAG_HELP = N_(
    "write yes, true, 1, x, v or {yes} (or tick a checkbox) for on; no, false, 0, {no} or nothing for off",
    yes="כן",
    no="לא",
)


def parse_flag(text: str, raw: object) -> bool:
    if isinstance(raw, bool):
        return raw
    number = _integral(raw)
    if number in (0, 1):
        return number == 1
    word = text.casefold()
    if word in FLAG_ON:
        return True
    if word in FLAG_OFF:
        return False
    raise _Invalid(N_("is not yes or no: {=help}", help=_FLAG_HELP))


# --- enums and ids -----------------------------------------------------------------------------------


def _enum_parser(f: Field) -> Callable[[str, object], int]:
    words: dict[str, int] = {}
    for value, names in f.allowed.items():
        words[str(value)] = value
        for name in names:
            words[fold(name)] = value
    listing = Choices(f.allowed)

    def parse(text: str, raw: object) -> int:
        number = _integral(raw)
        if number is None:
            number = _integral(_as_float(text))
        if number is not None:
            if number in f.allowed:
                return number
        else:
            value = words.get(fold(text))
            if value is not None:
                return value
        raise _Invalid(N_("is not one of: {=choices}", choices=listing))

    return parse


def _as_float(text: str) -> float | None:
    if not text or not (text[0].isdigit() or text[0] in "+-."):
        return None
    try:
        return float(text)
    except ValueError:
        return None


_ID_DIGITS = 18  # ids are database keys; a longer "id" is a pasted mistake


def parse_id(text: str, raw: object) -> str:
    number = _integral(raw)
    if number is None and text.isascii() and text.isdigit() and len(text) <= _ID_DIGITS:
        number = int(text)
    if number is None or not 1 <= number < 10**_ID_DIGITS:
        raise _Invalid(N_("is not an id: CallMarker ids are whole numbers from 1"))
    return str(number)


# --- text and email ----------------------------------------------------------------------------------


def parse_text(text: str, raw: object) -> str:
    # Sheets shows long numbers in scientific notation; the digits the user typed are in the raw value.
    if "E+" in text and (number := _integral(raw)) is not None:
        return str(number)
    return text


_EMAIL = re.compile(r"[^@\s]+@[^@\s.][^@\s]*\.[^@\s.]+")


def parse_email(text: str, raw: object) -> str:
    if _EMAIL.fullmatch(text) is None:
        raise _Invalid(N_("is not an email address (name@example.com)"))
    return text


# --- hours -------------------------------------------------------------------------------------------

_HOUR = re.compile(r"(\d{1,2})(?::(\d{2}))?(?::(\d{2}))?\s*(?:([ap])\.?\s*m\.?)?", re.IGNORECASE)
_HOUR_HELP = N_("write an hour of the day such as 8pm, 08:16 AM or 20:48")


def _read_hour(text: str, *, bare: bool) -> tuple[int, int]:
    """(hour, minute) of ``8pm``, ``08:16 AM``, ``20:48``; a bare ``20`` only when ``bare``."""
    match = _HOUR.fullmatch(text)
    if match is None:
        raise _Invalid(N_("is not an hour: {=help}", help=_HOUR_HELP))
    hours, minutes, seconds, half = match.groups()
    if half is None and minutes is None and not bare:
        raise _Invalid(N_("is not an hour: {=help}", help=_HOUR_HELP))
    h, m = int(hours), int(minutes or 0)
    if half is not None:
        if not 1 <= h <= 12:
            raise _Invalid(
                N_("is not a real time: with am or pm the hour is 1 to 12 ({=help})", help=_HOUR_HELP)
            )
        h = h % 12 + (12 if half in "pP" else 0)
    if h > 23 or m > 59 or (seconds is not None and int(seconds) > 59):
        raise _Invalid(N_("is not a real time: hours go from 0:00 to 23:59 ({=help})", help=_HOUR_HELP))
    return h, m


def parse_hour(text: str, raw: object) -> tuple[int, int]:
    """(hour, minute) of a cell: a time cell (a fraction of a day) or text such as ``8pm``."""
    value = _serial(text, raw)
    if value is not None:
        if not (math.isfinite(value) and 0 <= value < 1):
            raise _Invalid(N_("is a date, not an hour: {=help}", help=_HOUR_HELP))
        minutes = min(round(value * 86400) // 60, 24 * 60 - 1)
        return divmod(minutes, 60)
    return _read_hour(text, bare=True)


# --- dates -------------------------------------------------------------------------------------------

#: Locales whose dates read month first (as CallMarker's m/d/Y does); every other locale is day first.
MONTH_FIRST_LOCALES = frozenset(
    {"en", "en_US", "es_US", "en_PH", "fil_PH", "en_AS", "en_GU", "en_MP", "en_PR", "en_UM", "en_VI"}
)


def day_first(locale: str) -> bool:
    """True when ``24/10/2017`` in a sheet of this locale means 24 October (he_IL, en_GB, most locales)."""
    language, _, region = locale.replace("-", "_").partition("_")
    key = f"{language.lower()}_{region.upper()}" if region else language.lower()
    return key not in MONTH_FIRST_LOCALES


_DATE = re.compile(r"(\d{1,4})([-./])(\d{1,2})\2(\d{1,4})(?:(?:\s+|T)(.*))?", re.DOTALL)
_RELATIVE = re.compile(r"\+\s*(\d{1,4})\s*([^\W\d_]+)")
_UNITS = {
    "minute": "minute",
    "minutes": "minute",
    "min": "minute",
    "mins": "minute",
    "hour": "hour",
    "hours": "hour",
    "day": "day",
    "days": "day",
    "week": "week",
    "weeks": "week",
    "month": "month",
    "months": "month",
}
_EPOCH = date(1899, 12, 30)  # day 0 of Sheets' (and Lotus 1-2-3's) date serials


class _DateParser:
    """followup_date for one spreadsheet locale. Sends ``Y-m-d``, ``Y-m-d H:i`` or ``+N unit``."""

    def __init__(self, locale: str) -> None:
        self.day_first = day_first(locale)
        slash = "24/10/2017" if self.day_first else "10/24/2017"
        self.help = N_(
            "write it as 24-10-2017, 24.10.2017, 2017-10-24 or {=slash}, optionally with a time "
            "(24-10-2017 15:34, 24-10-2017 9:45 am), or as +2 hours, +1 day",
            slash=slash,
        )

    def __call__(self, text: str, raw: object) -> str:
        serial = _serial(text, raw)
        if serial is not None:
            return self._from_serial(serial)
        text = text.translate(_DROP_MARKS)
        match = _DATE.fullmatch(text)
        if match is not None:
            return self._written(*match.groups())
        match = _RELATIVE.fullmatch(text)
        if match is not None:
            count, unit = int(match[1]), _UNITS.get(match[2].casefold())
            if unit is not None and count >= 1:
                return f"+{count} {unit}{'s' if count > 1 else ''}"
        raise _Invalid(N_("is not a date CallMarker understands: {=help}", help=self.help))

    def _from_serial(self, serial: float) -> str:
        if not math.isfinite(serial) or not 1 <= serial < 2958466:  # 1899-12-31 .. 9999-12-31
            raise _Invalid(N_("is not a date: {=help}", help=self.help))
        days = math.floor(serial)
        seconds = round((serial - days) * 86400)
        if seconds >= 86400:
            days, seconds = days + 1, 0
        day = _EPOCH + timedelta(days=days)
        if seconds == 0:
            return day.isoformat()
        return f"{day.isoformat()} {seconds // 3600:02d}:{seconds % 3600 // 60:02d}"

    def _written(self, first: str, sep: str, second: str, third: str, time: str | None) -> str:
        if len(first) == 4:
            year, month, day, reading = first, second, third, N_("year-month-day")
            if len(third) > 2:
                raise _Invalid(N_("is not a date CallMarker understands: {=help}", help=self.help))
        elif len(third) == 4 and len(first) <= 2:
            year = third
            if sep == "/" and not self.day_first:
                month, day, reading = (
                    first,
                    second,
                    N_("month/day/year, as this spreadsheet's locale reads it"),
                )
            elif sep == "/":
                day, month, reading = (
                    first,
                    second,
                    N_("day/month/year, as this spreadsheet's locale reads it"),
                )
            else:
                day, month, reading = first, second, N_("day{=sep}month{=sep}year", sep=sep)
        else:
            raise _Invalid(N_("needs a year of four digits: {=help}", help=self.help))
        try:
            when = date(int(year), int(month), int(day))
        except ValueError:
            raise _Invalid(N_("is not a real date (read as {=reading})", reading=reading)) from None
        if time is None or not time.strip():
            return when.isoformat()
        try:
            hour, minute = _read_hour(time.strip(), bare=False)
        except _Invalid:
            raise _Invalid(
                N_("has a time that is not a real hour of the day: {=help}", help=self.help)
            ) from None
        return f"{when.isoformat()} {hour:02d}:{minute:02d}"


# --- phone numbers -----------------------------------------------------------------------------------

_PHONE_NOISE = dict.fromkeys(map(ord, " -.()/\u00a0\u2010\u2011\u2012\u2013\u2014\u2212" + _MARKS))


class Phone(NamedTuple):  # a tuple: one is made for every row
    national: str  # the national digits, 0547000000
    e164: str  # +972547000000
    country_code: int


class _PhoneParser:
    """Phone numbers of one default region.

    Mobile numbers of the region, written the usual ways, are recognised with the region's own
    metadata patterns (phonenumbers.parse costs tens of microseconds; a sheet has tens of thousands
    of rows); everything else goes through phonenumbers itself.
    """

    def __init__(self, region: str) -> None:
        self.region = region
        self.country_code = phonenumbers.country_code_for_region(region)
        self.plus_code = f"+{self.country_code}"
        self.bare_code = str(self.country_code)
        self.prefix = ""
        self.mobile: re.Pattern[str] | None = None
        self.general = re.compile(".*")
        meta = PhoneMetadata.metadata_for_region(region)
        if meta is None or meta.mobile is None or meta.general_desc is None:
            return
        prefix = meta.national_prefix or ""
        example = meta.mobile.example_number
        simple_prefix = meta.national_prefix_for_parsing in (None, prefix)
        pattern = meta.mobile.national_number_pattern
        # Only where "national prefix + national number" is exactly how phonenumbers writes a mobile.
        if (
            pattern
            and example
            and simple_prefix
            and self._slow(prefix + example).national == prefix + example
        ):
            self.prefix = prefix
            self.mobile = re.compile(pattern)
            self.general = re.compile(meta.general_desc.national_number_pattern or ".*")

    def _fast(self, digits: str) -> Phone | None:
        """A mobile of the region written as digits with +code, code, prefix or nothing before; else None."""
        if self.mobile is None:
            return None
        if digits.startswith(self.plus_code):
            nsn = digits[len(self.plus_code) :]
        elif self.prefix and digits.startswith(self.prefix):
            nsn = digits[len(self.prefix) :]
        elif digits.startswith(self.bare_code) and self.general.fullmatch(digits) is None:
            nsn = digits[len(self.bare_code) :]  # 972547000000, which phonenumbers reads the same way
        else:
            nsn = digits
        if nsn.isascii() and nsn.isdigit() and self.mobile.fullmatch(nsn) and self.general.fullmatch(nsn):
            return Phone(self.prefix + nsn, self.plus_code + nsn, self.country_code)
        return None

    def __call__(self, text: str, raw: object, *, international: bool) -> Phone:
        number = None if raw.__class__ is str else _integral(raw)
        # A number cell drops the leading zero (547000000); its digits are the raw value's.
        digits = str(number) if number is not None else text.translate(_PHONE_NOISE)
        fast = self._fast(digits)
        if fast is not None:
            return fast
        phone = self._slow(digits if number is not None else text)
        if phone.country_code != self.country_code and not international:
            raise _Invalid(
                N_(
                    "is a number in {=country}: turn on International to send numbers from other countries",
                    country=_country_of(phone.e164),
                )
            )
        return phone

    def _slow(self, text: str) -> Phone:
        try:
            parsed = phonenumbers.parse(text, self.region)
        except NumberParseException:
            raise _Invalid(N_("is not a phone number")) from None
        if parsed.extension:
            raise _Invalid(
                N_("has an extension: CallMarker dials the number only, so leave the extension out")
            )
        if not phonenumbers.is_valid_number(parsed):
            where = _region_name(phonenumbers.region_code_for_country_code(parsed.country_code or 0))
            raise _Invalid(N_("is not a valid phone number for {=country}", country=where))
        national = phonenumbers.format_number(parsed, PhoneNumberFormat.NATIONAL)
        return Phone(
            national="".join(ch for ch in national if ch.isdigit()),
            e164=phonenumbers.format_number(parsed, PhoneNumberFormat.E164),
            country_code=parsed.country_code or 0,
        )


# The names of the countries whose numbers sheets here hold most. phonenumbers' geocoder knows
# every country in every language, but loading it costs about 100 MB: others are named by their code.
_COUNTRY_NAMES: Mapping[str, Text] = {
    "IL": N_("Israel"), "PS": N_("the Palestinian territories"), "US": N_("the United States"),
    "CA": N_("Canada"), "GB": N_("the United Kingdom"), "IE": N_("Ireland"), "FR": N_("France"),
    "DE": N_("Germany"), "IT": N_("Italy"), "ES": N_("Spain"), "PT": N_("Portugal"),
    "NL": N_("the Netherlands"), "BE": N_("Belgium"), "CH": N_("Switzerland"), "AT": N_("Austria"),
    "SE": N_("Sweden"), "NO": N_("Norway"), "DK": N_("Denmark"), "FI": N_("Finland"), "PL": N_("Poland"),
    "CZ": N_("Czechia"), "HU": N_("Hungary"), "RO": N_("Romania"), "GR": N_("Greece"),
    "CY": N_("Cyprus"), "TR": N_("Turkey"), "RU": N_("Russia"), "UA": N_("Ukraine"), "BY": N_("Belarus"),
    "GE": N_("Georgia"), "AZ": N_("Azerbaijan"), "KZ": N_("Kazakhstan"), "EG": N_("Egypt"),
    "JO": N_("Jordan"), "AE": N_("the United Arab Emirates"), "MA": N_("Morocco"), "ET": N_("Ethiopia"),
    "ZA": N_("South Africa"), "IN": N_("India"), "TH": N_("Thailand"), "PH": N_("the Philippines"),
    "CN": N_("China"), "JP": N_("Japan"), "AU": N_("Australia"), "NZ": N_("New Zealand"),
    "BR": N_("Brazil"), "AR": N_("Argentina"), "MX": N_("Mexico"),
}  # fmt: skip


def _region_name(region: str) -> Text:
    if region in _COUNTRY_NAMES:
        return _COUNTRY_NAMES[region]
    return N_("the region {region}", region=region) if region and region != "ZZ" else N_("its country")


def country_name(region: str, t: Translator = ENGLISH) -> str:
    """A country's name in the translator's language, from its two-letter code."""
    return _region_name(region)(t)


def field_label(name: str, t: Translator = ENGLISH) -> str:
    """A CallMarker field's label in the translator's language: "Phone", "Custom field 12"."""
    kind, _, number = name.rpartition("_")
    if kind == "custom_field" and number.isdigit():
        return t("Custom field {=id}", id=number)
    if kind == "product_field" and number.isdigit():
        return t("Product field {=id}", id=number)
    return t.word(field_for(name).label)


def _country_of(e164: str) -> Text:
    try:
        parsed = phonenumbers.parse(e164)
    except NumberParseException:
        return N_("its country")
    return _region_name(phonenumbers.region_code_for_number(parsed) or "")


@lru_cache(maxsize=16)
def _phone_parser(region: str) -> _PhoneParser:
    return _PhoneParser(region)


def _display(phone: Phone, default_code: int) -> str:
    parsed = phonenumbers.parse(phone.e164)
    style = (
        PhoneNumberFormat.NATIONAL if phone.country_code == default_code else PhoneNumberFormat.INTERNATIONAL
    )
    return str(phonenumbers.format_number(parsed, style))


# --- job options -------------------------------------------------------------------------------------


def _is_id(value: str | None) -> bool:
    return value is not None and value.isascii() and value.isdigit() and int(value) > 0


def check_job_options(
    options: JobOptions, headers: HeaderMap | None = None, t: Translator = ENGLISH
) -> list[str]:
    """Problems with the sidebar's options that stop the whole job, in words a user understands (in the
    language of ``t``).

    With ``headers``, a campaign (or override) column may supply what an option needs row by row;
    those rows are then checked one by one by ``validate_rows``.
    """
    problems: list[str] = []
    campaign_column = headers is not None and "campaign" in headers
    override_column = headers is not None and "override" in headers
    has_campaign = bool(options.campaign) or campaign_column
    if options.campaign and not _is_id(options.campaign):
        problems.append(
            t(
                'Campaign "{campaign}" is not a campaign id: ids are whole numbers from 1.',
                campaign=options.campaign,
            )
        )
    if options.agent_name and not has_campaign:
        problems.append(
            t(
                'The agent "{agent}" takes effect only with a campaign: choose a campaign.',
                agent=options.agent_name,
            )
        )
    if options.unique and not has_campaign:
        problems.append(t("Unique (remove from all other campaigns) needs a campaign: choose a campaign."))
    if options.unique and not (options.override or override_column):
        problems.append(
            t("Unique (remove from all other campaigns) needs Override (update existing customers).")
        )
    if options.remove and not has_campaign:
        problems.append(t("Remove takes customers out of a campaign: choose the campaign."))
    if options.status is not None and options.status not in STATUS_VALUES:
        problems.append(
            t(
                "Status {status} is not one of: {=choices}.",
                status=options.status,
                choices=Choices(STATUS_VALUES),
            )
        )
    if options.default_region not in phonenumbers.SUPPORTED_REGIONS:
        problems.append(
            t('"{region}" is not a country code such as IL or US.', region=options.default_region)
        )
    if options.time_zone not in _time_zones():
        problems.append(t('"{zone}" is not a time zone such as Asia/Jerusalem.', zone=options.time_zone))
    return problems


@lru_cache(maxsize=1)
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


# --- rows --------------------------------------------------------------------------------------------

_REQUEST_COLUMNS = ("campaign", "status", "override", "remove", "unique", "international")
_PRODUCT_PARTS = ("opportunity_crm_id", "opportunity_status", "opportunity_agent_name")
_REASON = "opportunity_not_purchased_reason_id"


#: Kinds whose cells are read by their raw value too (a number cell's digits, a date's serial number, a
#: checkbox); the others are read as the user sees them.
_RAW_KINDS = frozenset({Kind.NUMBER, Kind.DATE, Kind.HOUR, Kind.FLAG, Kind.ID, Kind.ENUM})


def raw_columns(headers: HeaderMap) -> frozenset[int]:
    """The columns whose raw values validation reads (the others' are what the cells show)."""
    return frozenset(index for index, name in headers.columns.items() if field_for(name).kind in _RAW_KINDS)


def key_columns(headers: HeaderMap) -> tuple[int, ...]:
    """The columns that tell whether a row repeats another: its phone number, and the request options
    a row may carry (a customer may be in two campaigns, once in each)."""
    return tuple(
        sorted(
            index for index, name in headers.columns.items() if name == "number" or name in _REQUEST_COLUMNS
        )
    )


@dataclass(frozen=True, slots=True)
class _Column:
    index: int
    name: str
    header: str
    kind: Kind
    parse: Callable[[str, object], Any]


_NO_NUMBER = N_("empty: every customer needs a phone number")
#: How many last digits of a phone cell tell two numbers apart at a glance (``_RowValidator.tail``).
_TAIL = 7
_TEXT_KIND, _FLAG_KIND, _HOUR_KIND = Kind.TEXT, Kind.FLAG, Kind.HOUR
#: Kinds whose cells take few values in a job: each is parsed once.
_FEW_VALUES = frozenset({Kind.FLAG, Kind.ENUM, Kind.HOUR, Kind.DATE, Kind.ID})
_UNSEEN = object()


def _cell(formatted: Sequence[object], raw: Sequence[object], index: int) -> tuple[str, object] | None:
    """A cell's trimmed text and raw value; None when it is empty."""
    text = formatted[index] if index < len(formatted) else ""
    if type(text) is not str:
        text = "" if text is None else str(text)
    if text:
        text = text.strip(_TRIM)
    value = raw[index] if index < len(raw) else ""
    if not text and (value is None or isinstance(value, str)):
        text = value.strip(_TRIM) if value else ""
        if not text:
            return None
    return text, value


class _RowValidator:
    """Everything about a job that does not change from row to row, worked out once."""

    def __init__(self, headers: HeaderMap, options: JobOptions, t: Translator = ENGLISH) -> None:
        self.headers = headers
        self.options = options
        self.t = t
        self.job_request = options.request_options()
        self.phone = _phone_parser(options.default_region)
        self.number_index = headers.fields["number"]
        self.number_header = headers.header("number")
        parsers: dict[Kind, Callable[[str, object], Any]] = {
            Kind.TEXT: parse_text,
            Kind.FLAG: parse_flag,
            Kind.ID: parse_id,
            Kind.HOUR: parse_hour,
            Kind.EMAIL: parse_email,
            Kind.DATE: _DateParser(options.locale),
        }
        request: list[_Column] = []
        customer: list[_Column] = []
        for index, name in sorted(headers.columns.items()):
            if name == "number":
                continue
            f = field_for(name)
            parse = parsers.get(f.kind) or _enum_parser(f)
            column = _Column(index, name, headers.header(name), f.kind, parse)
            (request if name in _REQUEST_COLUMNS else customer).append(column)
        self.request_columns = tuple(request)
        self.customer_columns = tuple(customer)
        self.header_of = {c.name: c.header for c in (*request, *customer)}
        self.product_fields = tuple(
            c.name
            for c in customer
            if c.name in (*_PRODUCT_PARTS, _REASON) or c.name.startswith("product_field_")
        )
        self._product_set = frozenset(self.product_fields)
        # Each column, with (for a column of few values: a job's dates repeat, and its hours) what each
        # of its cells was read as, and whether the rules between fields may quote it.
        quoted_later = {"agent_name", "min_hour", "max_hour", *_PRODUCT_PARTS, _REASON, *self.product_fields}
        self._customer: tuple[
            tuple[int, str, str, Kind, Callable[[str, object], Any], dict[Any, Any] | None, bool], ...
        ] = tuple(
            (
                c.index,
                c.name,
                c.header,
                c.kind,
                c.parse,
                {} if c.kind in _FEW_VALUES else None,
                c.name in quoted_later,
            )
            for c in customer
        )
        order = {c.header: c.index for c in (*request, *customer)}
        order[self.number_header] = self.number_index
        self._error_order = lambda error: order.get(error.column or "", len(headers.headers))
        self._options_cache: dict[tuple[Any, ...], RequestOptions] = {}
        self._campaign = options.campaign or None
        self._job_request: RequestOptions | None = None
        self._job_request = self._request_options({}, options.international)
        campaign_header = self.header_of.get("campaign")
        self._where = (
            N_("choose a campaign in the sidebar or fill {column}", column=campaign_header)
            if campaign_header
            else N_("choose a campaign in the sidebar")
        )

    def _fail(
        self, errors: list[RowError], row: int, header: str | None, text: str | None, reason: Text
    ) -> None:
        # The column travels apart from the message, which quotes the value and never names it.
        t = self.t
        message = (
            t('"{value}" {=reason}', value=quoted(text), reason=reason) if text is not None else reason(t)
        )
        errors.append(RowError(row, header, message))

    def _request(  # noqa: PLR0917 - the row, then what it gathers
        self,
        formatted: Sequence[object],
        raw: Sequence[object],
        errors: list[RowError] | None,
        row: int,
        given: dict[str, str],
        bad: set[str],
    ) -> dict[str, Any]:
        """The row's own request options (campaign, status, flags); each cell that is wrong is in
        ``bad`` and, when ``errors`` is a list, reported there."""
        request: dict[str, Any] = {}
        for column in self.request_columns:
            found = _cell(formatted, raw, column.index)
            if found is None:
                continue
            text, value = found
            if text in FORMULA_ERRORS:
                bad.add(column.name)
                if errors is not None:
                    self._fail(errors, row, column.header, text, _formula_error(text))
                continue
            given[column.name] = text
            try:
                request[column.name] = column.parse(text, value)
            except _Invalid as exc:
                bad.add(column.name)
                if errors is not None:
                    self._fail(errors, row, column.header, text, exc.reason)
        return request

    def _request_options(self, request: Mapping[str, Any], international: bool) -> RequestOptions:
        job = self.options
        if not request and international == job.international and self._job_request is not None:
            return self._job_request
        key = (
            request.get("campaign", self._campaign),
            request.get("status", job.status),
            request.get("override", job.override),
            request.get("unique", job.unique),
            international,
        )
        options = self._options_cache.get(key)
        if options is None:
            options = RequestOptions(
                campaign=key[0],
                agent_name=job.agent_name or None,
                status=key[1],
                override=key[2],
                remove=job.remove,
                unique=key[3],
                international=key[4],
            )
            self._options_cache[key] = options
        return options

    @staticmethod
    def _parse(parse: Callable[[str, object], Any], text: str, value: object) -> Any:
        """What ``parse`` makes of a cell, or the ``_Invalid`` it raised."""
        try:
            return parse(text, value)
        except _Invalid as exc:
            # Kept for the next cell alike: a new one, which holds none of the frames the first was raised
            # in (its traceback, and the exception it was raised while handling), nor the rows they held.
            return _Invalid(exc.reason)

    def tail(self, formatted: Sequence[object], raw: Sequence[object]) -> str | None:
        """The last 7 digits of the row's phone cell as written, "" when it is empty, None when that
        cannot be told at a glance. Two numbers that are the same end alike: how a number is written
        (a country code, a national prefix, a number cell that lost its zero) changes only its start."""
        found = _cell(formatted, raw, self.number_index)
        if found is None:
            return ""
        text, value = found
        number = None if value.__class__ is str else _integral(value)
        digits = str(number) if number is not None else text.translate(_PHONE_NOISE)
        tail = digits[-_TAIL:]
        return tail if len(tail) == _TAIL and tail.isascii() and tail.isdigit() else None

    def key(self, formatted: Sequence[object], raw: Sequence[object]) -> tuple[RequestOptions, str] | None:
        """What makes a row a repeat of another: its request options and its number in E.164, read as
        ``validate`` reads them (the other cells are not looked at); None when it has no valid number."""
        request = self._request(formatted, raw, None, 0, {}, set())
        found = _cell(formatted, raw, self.number_index)
        if found is None or found[0] in FORMULA_ERRORS:
            return None
        international = request.get("international", self.options.international)
        try:
            phone = self.phone(*found, international=international)
        except _Invalid:
            return None
        return self._request_options(request, international), phone.e164

    def validate(
        self, row: int, formatted: Sequence[object], raw: Sequence[object]
    ) -> tuple[UploadItem | list[RowError], Phone | None, RequestOptions]:
        """The row's item or errors, with its phone number (when valid) and request options for repeats."""
        errors: list[RowError] = []
        given: dict[str, str] = {}  # field -> the text of its cell, for messages
        # Fields whose cell is wrong: rules between fields skip them, so one mistake gives one message.
        bad: set[str] = set()
        request = self._request(formatted, raw, errors, row, given, bad) if self.request_columns else {}

        international = request.get("international", self.options.international)
        phone: Phone | None = None
        found = _cell(formatted, raw, self.number_index)
        if found is None:
            self._fail(errors, row, self.number_header, None, _NO_NUMBER)
        elif found[0] in FORMULA_ERRORS:
            self._fail(errors, row, self.number_header, found[0], _formula_error(found[0]))
        else:
            try:
                phone = self.phone(*found, international=international)
            except _Invalid as exc:
                self._fail(errors, row, self.number_header, found[0], exc.reason)

        customer: dict[str, Any] = {}
        if phone is not None:
            customer["number"] = phone.e164 if international else phone.national
        hours: dict[str, tuple[int, int]] = {}
        # _cell, written out: this loop runs for every cell of every row
        for index, name, header, kind, parse, seen, quoted_later in self._customer:
            try:
                text = formatted[index]
            except IndexError:  # a short row: the cells past its end are empty
                text = ""
            if text.__class__ is not str:
                text = "" if text is None else str(text)
            elif text:
                text = text.strip(_TRIM)
            try:
                value = raw[index]
            except IndexError:
                value = ""
            if not text and (value is None or isinstance(value, str)):
                if not value:
                    continue
                text = value.strip(_TRIM)
                if not text:
                    continue
            if text in FORMULA_ERRORS:
                bad.add(name)
                self._fail(errors, row, header, text, _formula_error(text))
                continue
            if quoted_later:
                given[name] = text
            if kind is _TEXT_KIND and "E+" not in text:
                customer[name] = text  # what parse_text gives, without the call
                continue
            if seen is None:
                parsed = self._parse(parse, text, value)
            else:
                # a column of few values (dates, hours, choices): each is read once a job
                cell_key = (text, value, value.__class__)  # True == 1, but a checkbox is not the number 1
                parsed = seen.get(cell_key, _UNSEEN)
                if parsed is _UNSEEN:
                    parsed = seen[cell_key] = self._parse(parse, text, value)
            if parsed.__class__ is _Invalid:
                bad.add(name)
                self._fail(errors, row, header, text, parsed.reason)
                continue
            if kind is _FLAG_KIND:
                if parsed:  # "if set": an off flag is left out
                    customer[name] = True
            elif kind is _HOUR_KIND:
                hours[name] = parsed
                customer[name] = f"{parsed[0]:02d}:{parsed[1]:02d}"
            else:
                customer[name] = parsed

        options = self._request_options(request, international)
        self._dependencies(row, errors, options, request, customer, hours, given, bad)
        if errors:
            errors.sort(key=self._error_order)
            return errors, phone, options
        return UploadItem(row, options, customer), phone, options

    def _dependencies(  # noqa: PLR0917 - the row's parts, as validate made them
        self,
        row: int,
        errors: list[RowError],
        options: RequestOptions,
        request: Mapping[str, Any],
        customer: Mapping[str, Any],
        hours: Mapping[str, tuple[int, int]],
        given: Mapping[str, str],
        bad: set[str],
    ) -> None:
        """The rules between fields: what needs a campaign, override, a product, an opportunity status."""
        job = self.options
        header = self.header_of.get
        campaign_header = header("campaign")
        where = self._where
        fail = self._fail
        if "remove" in request and request["remove"] != job.remove:
            if request["remove"]:
                reason = N_(
                    "asks to remove this customer from the campaign, but removing is chosen for the whole "
                    "upload: turn on Remove in the sidebar, or clear the cell"
                )
            else:
                reason = N_("says not to remove, but this upload removes customers: leave this row out of it")
            fail(errors, row, header("remove"), given["remove"], reason)
        if not options.campaign and "campaign" not in bad:
            if "agent_name" in customer:
                fail(
                    errors,
                    row,
                    header("agent_name"),
                    given["agent_name"],
                    N_("takes effect only within a campaign: {=where}", where=where),
                )
            elif job.agent_name:
                fail(
                    errors,
                    row,
                    campaign_header,
                    None,
                    N_(
                        "The agent {agent} works only within a campaign: {=where}",
                        agent=job.agent_name,
                        where=where,
                    ),
                )
            if options.unique:
                if "unique" in given:
                    fail(
                        errors,
                        row,
                        header("unique"),
                        given["unique"],
                        N_("needs a campaign: {=where}", where=where),
                    )
                else:
                    fail(
                        errors,
                        row,
                        campaign_header,
                        None,
                        N_("Unique (chosen in the sidebar) needs a campaign: {=where}", where=where),
                    )
            if job.remove:
                fail(
                    errors,
                    row,
                    campaign_header,
                    None,
                    N_("Remove needs the campaign to remove customers from: {=where}", where=where),
                )
        if options.unique and not options.override and not bad & {"override", "unique"}:
            if "unique" in given:
                fail(
                    errors,
                    row,
                    header("unique"),
                    given["unique"],
                    N_("needs Override on too (update existing customers)"),
                )
            elif "override" in given:
                fail(
                    errors,
                    row,
                    header("override"),
                    given["override"],
                    N_("is off, but Unique (chosen in the sidebar) needs it on"),
                )
            else:
                fail(
                    errors,
                    row,
                    header("override"),
                    None,
                    N_("Unique (remove from other campaigns) needs Override on"),
                )
        if (
            self.product_fields
            and "product_id" not in customer
            and "product_id" not in bad
            and not self._product_set.isdisjoint(customer)
        ):
            orphans = [name for name in self.product_fields if name in customer]
            if orphans:  # one cause, one message: the first such column, naming the others
                product = header("product_id") or field_label("product_id", self.t)
                others = self.t.word(", ").join(isolate(str(header(name))) for name in orphans[1:])
                fail(
                    errors,
                    row,
                    header(orphans[0]),
                    given[orphans[0]],
                    N_(
                        "belongs to a product's opportunity (so do {=others}): fill {product} too",
                        others=others,
                        product=product,
                    )
                    if others
                    else N_("belongs to a product's opportunity: fill {product} too", product=product),
                )
        if (
            "opportunity_status" in customer
            and "opportunity_agent_name" not in customer
            and "opportunity_agent_name" not in bad
        ):
            agent = header("opportunity_agent_name") or field_label("opportunity_agent_name", self.t)
            fail(
                errors,
                row,
                header("opportunity_status"),
                given["opportunity_status"],
                N_("closes the opportunity, which needs {column} too", column=agent),
            )
        if (
            _REASON in customer
            and "product_id" in customer
            and "opportunity_status" not in bad
            and customer.get("opportunity_status") != 3
        ):
            status = header("opportunity_status") or field_label("opportunity_status", self.t)
            fail(
                errors,
                row,
                header(_REASON),
                given[_REASON],
                N_("goes only with {column} 3 (Not purchased)", column=status),
            )
        if "min_hour" in hours and "max_hour" in hours and hours["min_hour"] > hours["max_hour"]:
            fail(
                errors,
                row,
                header("min_hour"),
                given["min_hour"],
                N_('is after {column} "{value}"', column=header("max_hour"), value=quoted(given["max_hour"])),
            )


@lru_cache(maxsize=8)
def _validator(headers: HeaderMap, options: JobOptions, t: Translator = ENGLISH) -> _RowValidator:
    return _RowValidator(headers, options, t)


def validate_row(  # noqa: PLR0917 - the row's cells, then how to read them, as validate_rows takes them
    row: int,
    formatted: Sequence[str],
    raw: Sequence[object],
    headers: HeaderMap,
    options: JobOptions,
    t: Translator = ENGLISH,
) -> UploadItem | list[RowError]:
    """One row -> a customer ready to send, or every error of the row (each with its column), its
    messages in the language of ``t``.

    Checks the row on its own; ``validate_rows`` also finds a number repeated within the job.
    """
    return _validator(headers, options, t).validate(row, formatted, raw)[0]


def _end(validator: _RowValidator, formatted: Sequence[object], raw: Sequence[object]) -> str | None:
    """The end by which a row's number is found among other rows: the last digits as written (``tail``),
    or, written otherwise (words beside it), those of its E.164 form; "" for a row without a valid
    number, which repeats nothing; None when it cannot be told."""
    tail = validator.tail(formatted, raw)
    if tail is not None:
        return tail
    key = validator.key(formatted, raw)
    if key is None:
        return ""
    end = key[1][-_TAIL:]
    return end if len(end) == _TAIL and end.isascii() and end.isdigit() else None


def validate_rows(
    rows: Iterable[tuple[int, Sequence[str], Sequence[object]]],
    headers: HeaderMap,
    options: JobOptions,
    t: Translator = ENGLISH,
    *,
    others: Iterable[tuple[int, Sequence[str], Sequence[object]]] = (),
    others_headers: HeaderMap | None = None,
) -> Iterator[UploadItem | list[RowError]]:
    """Each row as ``validate_row`` does, in order, and a number already on an earlier row is an error.

    Repeats are looked for among rows sent with the same request options: the same customer may be
    added to two campaigns by two rows, but not twice to one. ``others`` are the job's other rows, in
    order, only looked at for the numbers they hold (a step that acts on some rows need not check the
    rest again): their cells are the columns of ``others_headers`` (``headers`` when None), usually the
    phone and request option columns alone.
    """
    validator = _validator(headers, options, t)
    seen: dict[tuple[RequestOptions, str], int] = {}
    default_code = validator.phone.country_code
    other = iter(others)
    keys = _validator(others_headers or headers, options, t)
    waiting = next(other, None)
    # Only another row whose number ends as one of these rows' numbers can be the first with it: the
    # others' numbers are read only then (a tall sheet's step acts on few of its rows).
    tails: set[str] | None = None
    if waiting is not None:
        rows = list(rows)
        ends = {_end(validator, formatted, raw) for _, formatted, raw in rows}
        # a number whose end cannot be told: every other row is read
        tails = None if None in ends else {end for end in ends if end is not None}
    for row, formatted, raw in rows:
        while waiting is not None and waiting[0] < row:
            if tails is None or (tail := keys.tail(waiting[1], waiting[2])) is None or tail in tails:
                key = keys.key(waiting[1], waiting[2])
                if key is not None:
                    seen.setdefault(key, waiting[0])
            waiting = next(other, None)
        result, phone, request = validator.validate(row, formatted, raw)
        if phone is not None:
            first = seen.setdefault((request, phone.e164), row)
            if first != row:
                error = RowError(
                    row,
                    validator.number_header,
                    t("{number} is already on row {=row}", number=_display(phone, default_code), row=first),
                )
                result = [*result, error] if isinstance(result, list) else [error]
        yield result
