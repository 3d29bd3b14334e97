"""The function's message catalogs: whole, in step with the code and with their compiled .mo files, and
every message rendered in both languages with Hebrew values keeps each value inside its own isolate.

To add or change a message: change the code, then (Babel is a dev dependency)

    pybabel extract --no-default-keywords -k N_ -k Np_:1,2 -k plural:1,2 -k t -k word -k W_ \
        --no-location --sort-output -o messages.pot function/
    pybabel update -i messages.pot -d function/callmarker_sheets/locale -D callmarker_sheets --no-location
    # translate the new entries in the .po file, then
    pybabel compile -d function/callmarker_sheets/locale -D callmarker_sheets
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from callmarker_sheets.fields import map_headers
from callmarker_sheets.i18n import DOMAIN, LANGUAGES, LOCALE_DIR, Translator, translator
from callmarker_sheets.validate import JobOptions, validate_rows

PACKAGE = LOCALE_DIR.parent
KEYWORDS = {"N_": None, "Np_": (1, 2), "plural": (1, 2), "t": None, "word": None, "W_": None}
PLACEHOLDER = re.compile(r"\{([#=]?)([a-z_0-9]+)\}")
FSI, PDI = "\u2068", "\u2069"
TRANSLATED = [lang for lang in LANGUAGES if lang != "en"]


def catalog(lang: str) -> Catalog:
    with (LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po").open("rb") as po:
        return read_po(po)


def extracted() -> dict[str | tuple[str, ...], Message]:
    found: dict[str | tuple[str, ...], Message] = {}
    # the function's folder as it is deployed: the package and its entry point, main.py
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(PACKAGE.parent), keywords=KEYWORDS, comment_tags=()
    ):
        key = tuple(message) if isinstance(message, tuple) else message
        found[key] = Message(key)
    return found


def messages(lang: str) -> Iterator[Message]:
    yield from (m for m in catalog(lang) if m.id)


@pytest.mark.parametrize("lang", TRANSLATED)
def test_the_catalog_holds_every_message_of_the_code_and_no_other(lang: str) -> None:
    in_code = set(extracted())
    in_catalog = {m.id if isinstance(m.id, str) else tuple(m.id) for m in messages(lang)}
    assert sorted(map(str, in_code - in_catalog)) == [], "messages of the code missing from the catalog"
    assert sorted(map(str, in_catalog - in_code)) == [], "messages the code no longer has"


@pytest.mark.parametrize("lang", TRANSLATED)
def test_every_message_is_translated_with_the_same_placeholders(lang: str) -> None:
    for message in messages(lang):
        assert not message.fuzzy, message.id
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        strings = [message.string] if isinstance(message.string, str) else list(message.string or ())
        assert all(strings), f"untranslated: {message.id}"
        wanted = set(PLACEHOLDER.findall(ids[-1]))
        for form, text in enumerate(strings):
            found = set(PLACEHOLDER.findall(text))
            # A singular may say its count in words ("שורה אחת"); every other form names what it fills.
            assert found == wanted or (len(strings) > 1 and form == 0 and found <= wanted), (message.id, text)


@pytest.mark.parametrize("lang", TRANSLATED)
def test_the_compiled_catalog_is_in_step_with_its_source(lang: str) -> None:
    compiled = io.BytesIO()
    write_mo(compiled, catalog(lang))
    committed = (LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.mo").read_bytes()
    assert committed == compiled.getvalue(), "run pybabel compile: the .mo file is older than its .po"


def isolated_once(text: str, value: str, times: int = 1) -> bool:
    """Each time ``value`` appears in ``text`` (``times`` times), it is right inside an FSI ... PDI pair
    of its own: no part of it outside."""
    return text.count(value) == times and text.count(FSI + value + PDI) == times


def balanced(text: str) -> bool:
    depth = 0
    for ch in text:
        if ch in "\u2066\u2067\u2068":
            depth += 1
        elif ch == PDI:
            depth -= 1
            if depth < 0:
                return False
    return depth == 0


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_message_keeps_each_hebrew_value_inside_its_own_isolate(lang: str) -> None:
    t = translator(lang)
    for key in extracted():
        singular = key[0] if isinstance(key, tuple) else key
        names = PLACEHOLDER.findall(singular)
        values: dict[str, object] = {}
        outside: dict[str, str] = {}
        for kind, name in names:
            if kind == "#":
                values[name] = 1234
            elif kind == "=":
                # our own words, already in the language, may carry isolated values of their own
                values[name] = t('"{value}" {=reason}', value=f"טלפון {name} 054", reason="x")
            else:
                outside[name] = f"ערך {name} 054-700"
                values[name] = outside[name]
        text = t.plural(key[0], key[1], 1234, **values) if isinstance(key, tuple) else t(key, **values)
        assert balanced(text), (key, text)
        for name, value in outside.items():
            assert isolated_once(text, value, singular.count("{" + name + "}")), (key, name, text)
        for kind, name in names:
            if kind == "=":
                assert isolated_once(text, f"טלפון {name} 054", singular.count("{=" + name + "}")), (
                    key,
                    name,
                    text,
                )


HEBREW_HEADERS = [
    "טלפון",
    "שם",
    "מייל",
    "תאריך חזרה",
    "משעה",
    "עד שעה",
    "סטטוס",
    "בינלאומי",
    "מוצר",
    "סטטוס הזדמנות",
]
BAD_ROWS = [
    ["054-700-1234 ext. 5", "דנה", "לא-מייל", "31-02-2024", "25:00", "8pm", "אולי", "כן", "", "נרכש"],
    ["12", "", "dana@example.com", "מחר", "9pm", "8am", "12", "לא", "0", ""],
    ["#N/A", "Loading...", "", "2024-13-01", "", "", "99", "", "x", "3"],
    ["+1 212 555 0100", "", "", "", "", "", "", "", "", ""],
    ["054-7000000", "", "", "", "", "", "", "", "", ""],
    ["0547000000", "", "", "", "", "", "", "", "", ""],
    ["", "רק שם", "", "", "", "", "", "", "", ""],
]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_row_messages_quote_hebrew_values_in_isolates_and_never_repeat_the_column(lang: str) -> None:
    t: Translator = translator(lang)
    headers = map_headers(HEBREW_HEADERS)
    rows = [(n, row, row) for n, row in enumerate(BAD_ROWS, start=2)]
    verdicts = list(validate_rows(rows, headers, JobOptions(), t))
    errors = [e for v in verdicts if isinstance(v, list) for e in v]
    assert len(errors) >= 15
    assert {e.column for e in errors} >= {"טלפון", "מייל", "תאריך חזרה", "משעה", "סטטוס"}
    for error in errors:
        assert balanced(error.message), error
        # The column travels apart: the message does not start with it, as the sheet's cell and the
        # sidebar put it before the message themselves.
        own_words = re.sub(f"{FSI}[^{PDI}]*{PDI}", "", error.message).lstrip('" ')
        assert error.column is None or not own_words.startswith(error.column), (
            f"the column is named again: {error}"
        )
        cell = dict(zip(HEBREW_HEADERS, BAD_ROWS[error.row - 2], strict=True)).get(error.column or "")
        if cell and cell in error.message:
            assert FSI + cell + PDI in error.message, error
        if lang == "he":
            assert re.search("[\u0590-\u05ff]", error.message.replace(cell or "", "")), error


def test_a_request_without_a_language_is_answered_in_english() -> None:
    assert translator("en")("Ready to upload") == "Ready to upload"
    assert translator("fr")("Ready to upload") == "Ready to upload"
    assert translator("he")("Ready to upload") == "מוכנה להעלאה"


def test_catalogs_live_in_the_deployed_folder() -> None:
    assert Path(PACKAGE, "locale", "he", "LC_MESSAGES", f"{DOMAIN}.mo").is_file()
