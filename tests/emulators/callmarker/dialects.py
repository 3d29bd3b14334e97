"""How the emulator words its answers: the two shapes CallMarker's page shows, or another plausible one.

CallMarker's page documents a success and an error answer and is cut off where a partial success
would be shown. A ``Dialect`` is one guess of the rest: how ``success`` is written, how customers are
counted, whether and where the refused ones are listed, and how customers with a field in error are
answered. The rules stay in models.py; a dialect only shapes what they decided. ``Dialect()`` is the
documented shape, the emulator's default.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

from tests.emulators.callmarker.models import CustomerOutcome, UploadResult

SUCCESS_FORMS = ("bool", "string", "int")
COUNT_FORMS = ("sentence", "short", "keyed", "fields", "none")
REFUSAL_WORDS = ("not valid", "invalid", "failed", "rejected", "skipped")
LISTINGS = ("numbers", "e164", "objects", "keyed", "indexes", "results")
NUMBER_KEYS = ("number", "phone", "mobile")
CUSTOMER_ERROR_FORMS = ("first", "all", "skip", "unattributed")
#: The message of a success that counts nothing.
SAVED = "Customers saved"
#: A framework's answer to a request whose customers failed validation (no success field).
INVALID_DATA = "The given data was invalid."

_FIELD_ERROR = re.compile(r"customers\[(\d+)\]\.?([A-Za-z_0-9]*):?\s*(.*)", re.DOTALL)


@dataclass(frozen=True, slots=True)
class Dialect:
    """One way of answering. Every field has the documented shape as its default."""

    #: How ``success`` is written: true/false, "true"/"false", or 1/0.
    success: str = "bool"
    #: How customers are counted: the documented sentence, "2 created, 1 failed", "created: 2, failed:
    #: 1", numbers in a ``counts`` object (message "Customers saved"), or not at all.
    counts: str = "sentence"
    #: The word for customers refused, in counts, lists and per-customer statuses.
    refusal_word: str = "not valid"
    #: Whether and how refused customers are listed (None: not at all): their numbers as sent, as
    #: E.164, as objects with a reason, as an object keyed by number, as indexes in the request, or
    #: a result for every customer.
    listing: str | None = None
    list_key: str = "invalid_numbers"
    #: Keys the list (and a ``counts`` object) are nested under: ("data",) gives {"data": {...}}.
    nest: tuple[str, ...] = ()
    #: The key holding a customer's number in listed objects.
    number_key: str = "number"
    #: Leave an empty list of refusals out instead of sending [].
    omit_empty: bool = False
    #: Customers with a field in error: the request refused naming the first (documented shape of an
    #: error), refused listing all in a framework's 422 shape, left out of an applied request (counted
    #: and listed as refused), or the request refused without naming the customer.
    customer_errors: str = "first"

    def __post_init__(self) -> None:
        choices = {
            "success": SUCCESS_FORMS,
            "counts": COUNT_FORMS,
            "refusal_word": REFUSAL_WORDS,
            "number_key": NUMBER_KEYS,
            "customer_errors": CUSTOMER_ERROR_FORMS,
        }
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise ValueError(f"answers.{name} must be one of {', '.join(allowed)}")
        if self.listing is not None and self.listing not in LISTINGS:
            raise ValueError(f"answers.listing must be null or one of {', '.join(LISTINGS)}")
        if self.listing == "indexes" and "index" not in self.list_key:
            raise ValueError("answers.list_key must say 'index' for a listing of indexes")

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any] | None) -> Dialect:
        settings = dict(settings or {})
        unknown = sorted(set(settings) - {f.name for f in fields(cls)})
        if unknown:
            raise ValueError(f"unknown answers setting: {unknown[0]}")
        if "nest" in settings:
            settings["nest"] = tuple(settings["nest"] or ())
        return cls(**settings)

    def snapshot(self) -> dict[str, Any]:
        return {**asdict(self), "nest": list(self.nest)}

    @property
    def backend_errors(self) -> str:
        """What the backend does with customers in error, for this dialect."""
        return {"unattributed": "first"}.get(self.customer_errors, self.customer_errors)

    # --- answers ----------------------------------------------------------------------------------

    def success_answer(self, result: UploadResult) -> dict[str, Any]:
        """The answer to an applied request."""
        refused = [c for c in result.customers if not c.applied]
        word_key = self.refusal_word.replace(" ", "_")
        counts = {"created": result.created, "restored": result.restored, word_key: len(refused)}
        answer: dict[str, Any] = {"success": self._success(True), "message": self._message(result, refused)}
        inner: dict[str, Any] = {}
        if self.counts == "fields":
            inner["counts"] = counts
        listed = self._listing(result.customers, refused)
        if listed is not None:
            inner[self.list_key] = listed
        if inner:
            _place(answer, self.nest, inner)
        return answer

    def refusal(self, message: str, errors: Mapping[int, str] | None = None) -> dict[str, Any]:
        """The answer to a refused request: the documented error, or a framework's list of errors."""
        if errors is not None and self.customer_errors == "all":
            listed: dict[str, list[str]] = {}
            for index, text in errors.items():
                match = _FIELD_ERROR.fullmatch(text)
                name, words = (match.group(2) or "customer", match.group(3)) if match else ("customer", text)
                listed[f"customers.{index}.{name}"] = [f"The customers.{index}.{name} {words}"]
            return {"message": INVALID_DATA, "errors": listed}
        if self.customer_errors == "unattributed":
            message = _FIELD_ERROR.sub(lambda m: f"{m.group(2)}: {m.group(3)}".strip(": "), message)
        return {"success": self._success(False), "message": message}

    def _success(self, value: bool) -> Any:
        if self.success == "string":
            return "true" if value else "false"
        if self.success == "int":
            return int(value)
        return value

    def _message(self, result: UploadResult, refused: list[CustomerOutcome]) -> str:
        created, restored, word = result.created, result.restored, self.refusal_word
        if self.counts == "sentence":
            return (
                f"There are {created} new customers were created, {restored} were restored "
                f"and {len(refused)} were {word}."
            )
        if self.counts == "short":
            return f"{created} created, {restored} restored, {len(refused)} {word}"
        if self.counts == "keyed":
            return f"created: {created}, restored: {restored}, {word.replace(' ', '_')}: {len(refused)}"
        return SAVED

    def _listing(self, customers: tuple[CustomerOutcome, ...], refused: list[CustomerOutcome]) -> Any:
        if self.listing is None or (self.omit_empty and not refused and self.listing != "results"):
            return None
        if self.listing == "numbers":
            return [c.number for c in refused]
        if self.listing == "e164":
            return [_e164(c.number) for c in refused]
        if self.listing == "objects":
            return [{self.number_key: c.number, "error": c.reason or self.refusal_word} for c in refused]
        if self.listing == "keyed":
            return {str(c.number): c.reason or self.refusal_word for c in refused}
        if self.listing == "indexes":
            return [c.index for c in refused]
        return [
            {
                self.number_key: c.number,
                "status": c.outcome if c.applied else self.refusal_word,
                **({"message": c.reason} if c.reason and not c.applied else {}),
            }
            for c in customers
        ]


def _place(answer: dict[str, Any], nest: tuple[str, ...], inner: dict[str, Any]) -> None:
    target = answer
    for key in nest:
        target = target.setdefault(key, {})
    target.update(inner)


def _e164(number: Any) -> Any:
    text = str(number)
    return "+972" + text[1:] if text.startswith("0") else text
