"""The function's words in the user's language: gettext catalogs, read with Python's ``gettext``.

The catalogs are ``locale/<lang>/LC_MESSAGES/callmarker_sheets.po`` beside this file, compiled to ``.mo``
files that are committed (the function deploys its folder as it is; a test keeps them in step). The
English text is the message id itself.

A request is served in a thread of its own, so no translation is installed process-wide: each request
gets a :class:`Translator` for its ``lang`` and passes it down; pure code takes it as an argument.

A message's placeholders, as the add-in writes its own (``apps_script/Messages.js``):

- ``{name}``  a value from outside (a cell, a header, CallMarker's words, an email): set apart with
  Unicode bidi isolates (FSI ... PDI), so that a Hebrew value cannot reorder the words around it, nor
  English words reorder a Hebrew sentence;
- ``{#name}`` a count, written as 20,000;
- ``{=name}`` our own words, already in the language (a :class:`Text`, or a phrase made with the same
  translator), put in as they are.

Messages that are made before their language is known (an error raised deep down) are a :class:`Text`:
the message id and its values, put in words by whoever answers, in the request's language.

Babel extracts the messages: ``tests/test_catalogs.py`` says how, and checks every catalog is whole.
"""

from __future__ import annotations

import gettext
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

__all__ = [
    "DOMAIN",
    "ENGLISH",
    "LANGUAGES",
    "LOCALE_DIR",
    "N_",
    "W_",
    "Choices",
    "Np_",
    "Phrase",
    "Text",
    "Translator",
    "isolate",
    "translator",
]

DOMAIN = "callmarker_sheets"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
#: The languages a request may ask for; English needs no catalog.
LANGUAGES = ("en", "he")
FIRST_STRONG_ISOLATE = "\u2068"
POP_DIRECTIONAL_ISOLATE = "\u2069"
_PLACEHOLDER = re.compile(r"\{([#=]?)([a-z_0-9]+)\}")
_EMBEDDINGS = re.compile("[\u202a-\u202e]")


def isolate(text: str) -> str:
    """``text`` set apart from the words around it (a first-strong isolate). Isolates it carries from
    outside are balanced first, and embeddings dropped, so that it can neither end ours early nor leak
    into the sentence after it."""
    opened = 0
    kept: list[str] = []
    for ch in _EMBEDDINGS.sub("", text):
        if ch in "\u2066\u2067\u2068":
            opened += 1
        elif ch == POP_DIRECTIONAL_ISOLATE:
            if not opened:
                continue
            opened -= 1
        kept.append(ch)
    return FIRST_STRONG_ISOLATE + "".join(kept) + POP_DIRECTIONAL_ISOLATE * (opened + 1)


class Phrase:
    """Words put together in a translator's language when they are shown (a :class:`Text`, a list)."""

    __slots__ = ()

    def __call__(self, t: Translator) -> str:
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class Choices(Phrase):
    """A list of numbered choices, "1 Waiting, 10 Not Interested", each name in the language."""

    allowed: Mapping[int, tuple[str, ...]]

    def __call__(self, t: Translator) -> str:
        return t.word(", ").join(f"{value} {t.word(names[0])}" for value, names in self.allowed.items())


@dataclass(frozen=True, slots=True)
class Text(Phrase):
    """A message not yet in a language: its id (and plural, for a count ``n``) and its values. ``str()``
    gives it in English; ``text(t)`` in the language of translator ``t``."""

    message: str
    values: Mapping[str, Any] = field(default_factory=dict)
    plural: str | None = None
    n: int | None = None

    def __call__(self, t: Translator) -> str:
        if self.plural is not None and self.n is not None:
            return t.plural(self.message, self.plural, self.n, **self.values)
        return t(self.message, **self.values)

    def __str__(self) -> str:
        return self(ENGLISH)


def W_(message: str) -> str:
    """A word marked for the catalogs and kept as it is (a field's label, a status's name): it is put
    in a language where it is shown, with ``Translator.word``."""
    return message


def N_(message: str, /, **values: Any) -> Text:
    """A message to be put in words later, in the language of whoever answers."""
    return Text(message, values)


def Np_(singular: str, plural: str, n: int, /, **values: Any) -> Text:
    """A deferred message chosen by the count ``n`` (given to the message as ``{#n}``)."""
    return Text(singular, {"n": n, **values}, plural, n)


class Translator:
    """One language's messages. ``t("...", name=value)`` gives a message in words."""

    def __init__(self, lang: str, catalog: gettext.NullTranslations) -> None:
        self.lang = lang
        self._catalog = catalog

    def __repr__(self) -> str:
        return f"Translator({self.lang!r})"

    def __call__(self, message: str, /, **values: Any) -> str:
        return self._fill(self._catalog.gettext(message), values)

    def plural(self, singular: str, plural: str, n: int, /, **values: Any) -> str:
        return self._fill(self._catalog.ngettext(singular, plural, n), {"n": n, **values})

    def word(self, message: str) -> str:
        """A word or label with no placeholder (a field's label, a status's name)."""
        return self._catalog.gettext(message)

    def _fill(self, template: str, values: Mapping[str, Any]) -> str:
        if "{" not in template:
            return template

        def put(match: re.Match[str]) -> str:
            kind, name = match.groups()
            value = values[name]
            if kind == "#":
                return f"{value:,}"
            if kind == "=":
                return value(self) if isinstance(value, Phrase) else str(value)
            return isolate(value(self) if isinstance(value, Phrase) else str(value))

        return _PLACEHOLDER.sub(put, template)


@cache
def translator(lang: str) -> Translator:
    """The translator for a language of :data:`LANGUAGES` (English for any other)."""
    if lang not in LANGUAGES or lang == "en":
        return Translator("en", gettext.NullTranslations())
    with (LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.mo").open("rb") as catalog:
        return Translator(lang, gettext.GNUTranslations(catalog))


ENGLISH = translator("en")
