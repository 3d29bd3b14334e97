"""What a cell holds and how Sheets shows it: USER_ENTERED parsing by locale, number and date formats.

Pure functions, no state. A stored cell is None (empty), a str, an int or float, a bool, or a `Cell`
when it carries more than a plain value (a formula, a number format, a note, a cell format).
"""

from __future__ import annotations

import ast
import datetime as dt
import functools
import math
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

EPOCH = dt.date(1899, 12, 30)  # day 0 of Sheets' serial numbers

Scalar = str | int | float | bool


@dataclass(frozen=True)
class Locale:
    decimal: str
    group: str
    day_first: bool
    currency: str


_MONTH_FIRST = {"en_US", "es_US", "en_PH", "fil_PH"}
_DECIMAL_COMMA = {"de", "fr", "es", "it", "pt", "ru", "nl", "pl", "tr", "sv", "da", "fi", "nb", "cs", "uk"}
_CURRENCY = {"US": "$", "GB": "£", "IL": "₪", "JP": "¥", "IN": "₹", "RU": "₽"}


@functools.lru_cache(maxsize=256)
def locale_rules(name: str) -> Locale:
    """Separators, date order and currency symbol for a Sheets locale name such as 'en_US' or 'he_IL'."""
    language, _, country = name.partition("_")
    comma = language in _DECIMAL_COMMA and name != "es_US"
    return Locale(
        decimal="," if comma else ".",
        group="." if comma else ",",
        day_first=name not in _MONTH_FIRST,
        currency=_CURRENCY.get(country, "€" if comma else "$"),
    )


class Cell:
    """A cell with more than a plain value. Treated as immutable: changes make a new Cell."""

    __slots__ = ("format", "formula", "note", "number_format", "value")

    def __init__(
        self,
        value: Scalar | None = None,
        *,
        formula: str | None = None,
        number_format: dict[str, str] | None = None,
        note: str | None = None,
        format: dict[str, Any] | None = None,
    ) -> None:
        self.value = value
        self.formula = formula
        self.number_format = number_format
        self.note = note
        self.format = format

    def replace(self, **changes: Any) -> Cell:
        fields = {name: getattr(self, name) for name in self.__slots__}
        fields.update(changes)
        value = fields.pop("value")
        return Cell(value, **fields)

    def simplified(self) -> Cell | Scalar | None:
        """The plainest equal form: a bare value when nothing else is held."""
        if self.formula is None and self.number_format is None and self.note is None and self.format is None:
            return self.value
        return self


Stored = Cell | Scalar | None


def value_of(entry: Stored) -> Scalar | None:
    return entry.value if isinstance(entry, Cell) else entry


# ---------------------------------------------------------------- input


def raw_input(value: Any) -> Stored:
    """valueInputOption=RAW: strings stay text as given; '' empties the cell."""
    if value == "" and isinstance(value, str):
        return None
    if isinstance(value, (str, bool, int, float)):
        return value
    raise ValueError(f"Invalid value: {value!r}")


_PLAIN_TEXT = re.compile(r"^[^\d=+\-'.,$€£₪¥₹₽(]*$")
_TIME = r"(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?\s*([AaPp][Mm])?"


def user_entered(value: Any, locale: Locale) -> Stored:
    """valueInputOption=USER_ENTERED: parse text as if typed into the Sheets UI in this locale."""
    if not isinstance(value, str):
        return raw_input(value)
    if value == "":
        return None
    if value.startswith("'"):
        return value[1:] or None
    if value.startswith("=") and len(value) > 1:
        return Cell(evaluate_formula(value), formula=value)
    text = value.strip()
    upper = text.upper()
    if upper in ("TRUE", "FALSE"):
        return upper == "TRUE"
    if _PLAIN_TEXT.match(text):
        return value
    number = parse_number(text, locale)
    if number is not None:
        return number
    percent = _parse_percent(text, locale)
    if percent is not None:
        return percent
    currency = _parse_currency(text, locale)
    if currency is not None:
        return currency
    when = parse_date_time(text, locale)
    if when is not None:
        return when
    return value


def parse_number(text: str, locale: Locale) -> int | float | None:
    """'0547000000' -> 547000000, '1,234.5' -> 1234.5 (en_US), '1.234,5' -> 1234.5 (de_DE)."""
    d, g = re.escape(locale.decimal), re.escape(locale.group)
    m = re.match(rf"^([+-]?)(\d{{1,3}}(?:{g}\d{{3}})+|\d+)?(?:{d}(\d+))?(?:[eE]([+-]?\d+))?$", text)
    if not m or (m.group(2) is None and m.group(3) is None):
        return None
    sign, whole, frac, exp = m.groups()
    digits = (whole or "0").replace(locale.group, "")
    literal = f"{sign}{digits}" + (f".{frac}" if frac else "") + (f"e{exp}" if exp else "")
    number = float(literal)
    if not math.isfinite(number):
        return None
    return int(number) if number.is_integer() and abs(number) < 2**53 else number


def _parse_percent(text: str, locale: Locale) -> Cell | None:
    if not text.endswith("%"):
        return None
    number = parse_number(text[:-1].strip(), locale)
    if number is None:
        return None
    decimals = "" if locale.decimal not in text else ".00"
    return Cell(_tidy(number / 100), number_format={"type": "PERCENT", "pattern": f"0{decimals}%"})


def _parse_currency(text: str, locale: Locale) -> Cell | None:
    symbol = locale.currency
    sign = ""
    body = text
    if body.startswith("-"):
        sign, body = "-", body[1:]
    if body.startswith(symbol):
        body = body[len(symbol) :].strip()
    elif body.endswith(symbol):
        body = body[: -len(symbol)].strip()
    else:
        return None
    number = parse_number(sign + body, locale)
    if number is None:
        return None
    return Cell(number, number_format={"type": "CURRENCY", "pattern": f'"{symbol}"#,##0.00'})


def _year(text: str) -> int:
    year = int(text)
    if len(text) <= 2:
        year += 2000 if year < 30 else 1900
    return year


def parse_date_time(text: str, locale: Locale) -> Cell | None:
    """Dates and times typed as text, stored as serial numbers with a date/time number format."""
    m = re.match(rf"^{_TIME}$", text)
    if m:
        fraction = _time_fraction(*m.groups())
        if fraction is None:
            return None
        pattern = "h:mm:ss" if m.group(3) else "h:mm"
        pattern += " am/pm" if m.group(5) else ""
        return Cell(_tidy(fraction), number_format={"type": "TIME", "pattern": pattern})
    m = re.match(rf"^(\d{{4}})([-/])(\d{{1,2}})\2(\d{{1,2}})(?:[ T]{_TIME})?$", text)
    if m:
        year, sep, month, day = int(m.group(1)), m.group(2), int(m.group(3)), int(m.group(4))
        date_pattern = f"yyyy{sep}mm{sep}dd"
        time_parts = m.groups()[4:]
    else:
        seps = "[/.-]" if locale.day_first else "/"
        m = re.match(rf"^(\d{{1,2}})({seps})(\d{{1,2}})\2(\d{{4}}|\d{{2}})(?:\s+{_TIME})?$", text)
        if not m:
            return None
        first, sep, second, year = int(m.group(1)), m.group(2), int(m.group(3)), _year(m.group(4))
        if locale.day_first:
            day, month, date_pattern = first, second, f"dd{sep}mm{sep}yyyy"
        else:
            month, day, date_pattern = first, second, f"m{sep}d{sep}yyyy"
        time_parts = m.groups()[4:]
    try:
        serial: float = (dt.date(year, month, day) - EPOCH).days
    except ValueError:
        return None
    if time_parts[0] is None:
        return Cell(serial, number_format={"type": "DATE", "pattern": date_pattern})
    fraction = _time_fraction(*time_parts)
    if fraction is None:
        return None
    time_pattern = "h:mm:ss" + (" am/pm" if time_parts[4] else "")
    return Cell(
        _tidy(serial + fraction),
        number_format={"type": "DATE_TIME", "pattern": f"{date_pattern} {time_pattern}"},
    )


def _time_fraction(
    hours: str, minutes: str, seconds: str | None, millis: str | None, half: str | None
) -> float | None:
    h, mi, s = int(hours), int(minutes), int(seconds or 0)
    if half:
        if not 1 <= h <= 12:
            return None
        h = h % 12 + (12 if half.lower() == "pm" else 0)
    if h > 23 or mi > 59 or s > 59:
        return None
    total = h * 3600 + mi * 60 + s + (float(f"0.{millis}") if millis else 0.0)
    return total / 86400


def _tidy(number: float) -> int | float:
    rounded = round(number, 10)
    return int(rounded) if float(rounded).is_integer() and abs(rounded) < 2**53 else rounded


# ---------------------------------------------------------------- formulas

_OPS: dict[type, Any] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
}


def evaluate_formula(formula: str) -> Scalar:
    """Arithmetic formulas (=4/2, =1+1, =(2+3)*4^2) are computed; anything else gives #NAME?."""
    try:
        tree = ast.parse(formula[1:].replace("^", "**").strip(), mode="eval")
        result = _arith(tree.body)
    except ZeroDivisionError:
        return "#DIV/0!"
    except (SyntaxError, ValueError, TypeError, OverflowError):
        return "#NAME?"
    return _tidy(result)


def _arith(node: ast.AST) -> float:
    if (
        isinstance(node, ast.Constant)
        and isinstance(node.value, (int, float))
        and not isinstance(node.value, bool)
    ):
        return float(node.value)
    if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
        return float(_OPS[type(node.op)](_arith(node.left), _arith(node.right)))
    if isinstance(node, ast.UnaryOp) and type(node.op) in _OPS:
        return float(_OPS[type(node.op)](_arith(node.operand)))
    raise ValueError("unsupported formula")


# ---------------------------------------------------------------- output


def general_number(number: int | float, locale: Locale) -> str:
    """Sheets' automatic number format: integers plainly, other numbers to 10 significant digits."""
    if isinstance(number, int) or (number.is_integer() and abs(number) < 1e15):
        text = str(int(number))
    else:
        text = format(number, ".10g").replace("e", "E")
        if "E" in text:
            mantissa, exp = text.split("E")
            text = f"{mantissa}E{exp[0]}{exp[1:].lstrip('0').rjust(2, '0')}"
    return text.replace(".", locale.decimal) if locale.decimal != "." else text


def _grouped(number: float, decimals: int, locale: Locale) -> str:
    text = f"{abs(number):,.{decimals}f}"
    text = text.replace(",", "\0").replace(".", locale.decimal).replace("\0", locale.group)
    return ("-" if number < 0 else "") + text


def format_number(number: int | float, number_format: dict[str, str] | None, locale: Locale) -> str:
    """A number as FORMATTED_VALUE shows it under its number format."""
    kind = (number_format or {}).get("type")
    pattern = (number_format or {}).get("pattern", "")
    if kind in ("DATE", "TIME", "DATE_TIME"):
        return format_serial(number, pattern)
    if kind == "PERCENT":
        decimals = len(pattern.split(".")[1]) - 1 if "." in pattern else 0
        return f"{number * 100:.{decimals}f}".replace(".", locale.decimal) + "%"
    if kind == "CURRENCY":
        symbol = pattern.split('"')[1] if pattern.startswith('"') else locale.currency
        text = _grouped(number, 2, locale)
        return f"-{symbol}{text[1:]}" if text.startswith("-") else f"{symbol}{text}"
    return general_number(number, locale)


_TOKENS = re.compile(r"yyyy|yy|mm|m|dd|d|hh|h|ss|am/pm|.", re.IGNORECASE)


def serial_to_datetime(serial: float) -> dt.datetime:
    return dt.datetime.combine(EPOCH, dt.time()) + dt.timedelta(seconds=round(serial * 86400))


@functools.lru_cache(maxsize=1024)
def _serial_template(pattern: str) -> tuple[str, bool]:
    """A date/time pattern as a str.format template over the fields of `_serial_fields`, and whether
    it shows a 12-hour clock. Worked out once per pattern, not once per cell."""
    tokens = _TOKENS.findall(pattern)
    twelve = any(t.lower() == "am/pm" for t in tokens)
    out = []
    for i, token in enumerate(tokens):
        low = token.lower()
        after_hour = any(t.lower() in ("h", "hh") for t in tokens[max(0, i - 2) : i])
        before_second = any(t.lower() == "ss" for t in tokens[i + 1 : i + 3])
        if low == "yyyy":
            out.append("{0:04d}")
        elif low == "yy":
            out.append("{1:02d}")
        elif low in ("mm", "m") and (after_hour or before_second):
            out.append("{6:02d}" if low == "mm" else "{6}")
        elif low == "mm":
            out.append("{2:02d}")
        elif low == "m":
            out.append("{2}")
        elif low == "dd":
            out.append("{3:02d}")
        elif low == "d":
            out.append("{3}")
        elif low in ("hh", "h"):
            out.append("{4:02d}" if low == "hh" else "{4}")
        elif low == "ss":
            out.append("{5:02d}")
        elif low == "am/pm":
            out.append("{7}")
        else:
            out.append(token.replace("{", "{{").replace("}", "}}"))
    return "".join(out), twelve


def format_serial(serial: float, pattern: str) -> str:
    """A serial number under a date/time pattern such as 'dd/mm/yyyy h:mm:ss'."""
    when = serial_to_datetime(serial)
    template, twelve = _serial_template(pattern)
    hour = when.hour
    return template.format(
        when.year,
        when.year % 100,
        when.month,
        when.day,
        (hour % 12 or 12) if twelve else hour,
        when.second,
        when.minute,
        "AM" if hour < 12 else "PM",
    )


def is_date_format(number_format: dict[str, str] | None) -> bool:
    return number_format is not None and number_format.get("type") in ("DATE", "TIME", "DATE_TIME")


def plain_number(number: int | float) -> int | float:
    """Integral floats as ints, as Google's JSON writes them."""
    if isinstance(number, float) and number.is_integer() and abs(number) < 2**53:
        return int(number)
    return number


def render(entry: Stored, value_option: str, datetime_option: str, locale: Locale) -> Scalar | None:
    """One stored cell under valueRenderOption / dateTimeRenderOption."""
    if entry is None or type(entry) is str:
        return entry
    if type(entry) is bool:
        return ("TRUE" if entry else "FALSE") if value_option == "FORMATTED_VALUE" else entry
    if isinstance(entry, (int, float)):
        return general_number(entry, locale) if value_option == "FORMATTED_VALUE" else plain_number(entry)
    assert isinstance(entry, Cell)
    if value_option == "FORMULA" and entry.formula is not None:
        return entry.formula
    value = entry.value
    if value is None or type(value) is str:
        return value
    if type(value) is bool:
        return render(value, value_option, datetime_option, locale)
    assert isinstance(value, (int, float))
    if value_option == "FORMATTED_VALUE":
        return format_number(value, entry.number_format, locale)
    if is_date_format(entry.number_format) and datetime_option == "FORMATTED_STRING":
        return format_number(value, entry.number_format, locale)
    return plain_number(value)


#: How many renderings of numbers one renderer keeps per number format before it starts afresh.
_REMEMBERED = 1 << 16
#: How many number formats one renderer keeps renderings for before it starts afresh.
_REMEMBERED_FORMATS = 256


@functools.lru_cache(maxsize=64)
def renderer(value_option: str, datetime_option: str, locale: Locale) -> Callable[[Stored], Scalar | None]:
    """`render` with its options bound, for reading many cells: the same answers, for less work.

    The text of a number under a number format is worked out once per value and remembered by value,
    never by position, so a cell written later is never answered with a stale rendering. Anything
    unusual (a type or a number format no API call stores) is answered by `render` itself.
    """
    formatted = value_option == "FORMATTED_VALUE"
    formula = value_option == "FORMULA"
    dates_as_text = datetime_option == "FORMATTED_STRING"
    # Dicts of numbers to strings only: the garbage collector never has to look into them.
    general: dict[float, str] = {}
    shown: dict[tuple[str | None, str, bool], dict[int | float, str]] = {}

    def general_float(number: float) -> str:
        text = general.get(number)
        if text is None:
            text = general_number(number, locale)
            if len(general) >= _REMEMBERED:
                general.clear()
            general[number] = text
        return text

    def number_text(value: int | float, number_format: Any) -> str:
        if type(number_format) is not dict or not value:  # 0 and -0.0 may differ ("0%", "-0%")
            return format_number(value, number_format, locale)
        kind = number_format.get("type")
        pattern = number_format.get("pattern", "")
        if type(pattern) is not str or (kind is not None and type(kind) is not str):
            return format_number(value, number_format, locale)
        key = (kind, pattern, type(value) is float)
        known = shown.get(key)
        if known is None:
            if len(shown) >= _REMEMBERED_FORMATS:
                shown.clear()
            known = shown[key] = {}
        text = known.get(value)
        if text is None:
            text = format_number(value, number_format, locale)
            if len(known) >= _REMEMBERED:
                known.clear()
            known[value] = text
        return text

    def one(entry: Any) -> Any:  # Stored -> Scalar | None, as render
        kind = type(entry)
        if kind is str or entry is None:
            return entry
        if kind is bool:
            return ("TRUE" if entry else "FALSE") if formatted else entry
        if kind is int:
            return str(entry) if formatted else entry
        if kind is float:
            return general_float(entry) if formatted else plain_number(entry)
        if kind is Cell:
            if formula and entry.formula is not None:
                return entry.formula
            value = entry.value
            value_kind = type(value)
            if value is None or value_kind is str:
                return value
            if value_kind is bool:
                return ("TRUE" if value else "FALSE") if formatted else value
            if value_kind is int or value_kind is float:
                number_format = entry.number_format
                if formatted:
                    return number_text(value, number_format)
                if not dates_as_text and (number_format is None or type(number_format) is dict):
                    return value if value_kind is int else plain_number(value)
                if is_date_format(number_format) and dates_as_text:
                    return number_text(value, number_format)
                return plain_number(value)
        return render(entry, value_option, datetime_option, locale)

    return one


def extended_value(value: Scalar, *, from_formula: bool = False) -> dict[str, Any]:
    """A value as the API's ExtendedValue: stringValue, numberValue, boolValue or errorValue."""
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, (int, float)):
        return {"numberValue": plain_number(value)}
    if from_formula and value in ("#NAME?", "#DIV/0!"):
        kind = "NAME" if value == "#NAME?" else "DIVIDE_BY_ZERO"
        return {"errorValue": {"type": kind, "message": "The emulator evaluates arithmetic only."}}
    return {"stringValue": value}
