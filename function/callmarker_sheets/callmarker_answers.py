"""How CallMarker's answers are read: status code, headers and body -> what happened to each customer.

Pure, no I/O: the client (``callmarker.py``) sends, this module decides what an answer says. CallMarker
documents two answers (``success`` with a message) and is silent on partial success, so an answer is
read for whatever it says about the customers of its request, wherever it says it:

- per customer: ``ACCEPTED`` (confirmed), ``REFUSED`` (with the words about that customer) or
  ``UNKNOWN``;
- for the request: answered, refused as a whole, worth another try later, too large, or unreadable.

A customer is ``ACCEPTED`` only when a count of refusals reads zero for it, or a list of refusals (or
of results) is present and does not name it. Lists are found under any key and at any depth and are
matched to customers by normalised number, or by index where the answer says so (``customers[3]``,
``customers.3.number``, ``"index": 3``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

__all__ = [
    "Answer",
    "Counts",
    "CustomerState",
    "Kind",
    "Verdict",
    "parse_counts",
    "read_answer",
    "same_number",
]

#: Longest piece of an unreadable body quoted back to the user.
EXCERPT_CHARS = 80


class Kind(StrEnum):
    """What the answer is, for the request as a whole."""

    ANSWERED = "answered"  # CallMarker read the request and said something: see the verdicts
    REFUSED = "refused"  # refused as a whole: every request like it would be (401, 403, a wrong address)
    RETRY = "retry"  # "not now": 408, 429, 5xx
    TOO_LARGE = "too_large"  # 413: the batch is too big
    UNREADABLE = "unreadable"  # a 2xx answer that is not a JSON object with a success field


class CustomerState(StrEnum):
    ACCEPTED = "accepted"
    REFUSED = "refused"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Verdict:
    """What an answer says about one customer of its request; ``message`` only words about it."""

    state: CustomerState
    message: str = ""
    #: True when the answer itself named this customer (a list entry, a number, ``customers[i]``).
    named: bool = False


_ACCEPTED = Verdict(CustomerState.ACCEPTED)
_ACCEPTED_NAMED = Verdict(CustomerState.ACCEPTED, named=True)
_UNKNOWN = Verdict(CustomerState.UNKNOWN)
_UNKNOWN_NAMED = Verdict(CustomerState.UNKNOWN, named=True)
_NOTHING: frozenset[CustomerState] = frozenset()
_ONLY_REFUSED = frozenset({CustomerState.REFUSED})
_ONLY_ACCEPTED = frozenset({CustomerState.ACCEPTED})


@dataclass(frozen=True, slots=True)
class Counts:
    """The counts an answer gives, by wording; ``refused`` adds up every wording of a refusal."""

    created: int | None = None
    updated: int | None = None
    restored: int | None = None
    existing: int | None = None
    refused: int | None = None
    #: Every count found, by its wording ("not valid", "failed", ...).
    words: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Answer:
    """One answer, read.

    ``customers`` holds one verdict per customer of the request, in the request's order (empty unless
    ``kind`` is ANSWERED). For the customers left UNKNOWN by a ``success: true`` answer,
    ``refused_among_unknown`` is how many of them CallMarker counted as refused (None: it did not
    say); ``consistent`` is False when the answer's counts and lists cannot all be true.
    """

    kind: Kind
    status: int
    success: bool | None = None
    message: str = ""
    customers: tuple[Verdict, ...] = ()
    counts: Counts = field(default_factory=Counts)
    refused_among_unknown: int | None = None
    consistent: bool = True
    retry_after: str | None = None
    #: A short piece of a body that could not be read, for the user.
    excerpt: str = ""

    @property
    def unknown(self) -> list[int]:
        """Indexes of the customers this answer settles nothing about."""
        return [i for i, v in enumerate(self.customers) if v.state is CustomerState.UNKNOWN]


# --- words ---------------------------------------------------------------------------------------------

# How counts are worded, and what each wording means. A wording is a regex over lower-case text.
_REFUSAL_WORDINGS = {
    "not valid": r"not[\s_-]*valid",
    "invalid": r"invalid",
    "failed": r"failed",
    "rejected": r"rejected",
    "refused": r"refused",
    "skipped": r"skipped",
    "errors": r"errors?",
}
_ACCEPTED_WORDINGS = {
    "created": r"created",
    "updated": r"updated",
    "restored": r"restored",
    "existing": r"existing",
    "duplicate": r"duplicates?",
}
_WORDINGS = {**_ACCEPTED_WORDINGS, **_REFUSAL_WORDINGS}
# A count is a number followed by words ending in its wording ("2 new customers were created"), or the
# wording followed by ":" or "=" and a number; punctuation between them ends the match, so the number
# of one count is never read as another's.
_COUNT = r"(?:(\d+)[^\W\d]*(?:\s+[^\W\d]+)*?\s+(?:{w})\b|\b(?:{w})\s*[:=]\s*(\d+))"
_COUNT_PATTERNS = {
    name: re.compile(_COUNT.format(w=wording), re.IGNORECASE) for name, wording in _WORDINGS.items()
}
# Words of a single customer's fate, in a status field, a list's key or a short text.
_REFUSED_WORDS = re.compile(
    r"\b(?:not[\s_-]*valid|invalid|fail(?:ed|ure|ures|s)?|errors?|rejected|refused|skipped|declined|"
    r"blocked|bad|wrong)\b|^(?:not[\s_-]*valid|invalid|failed|errors?|rejected|refused|skipped)",
    re.IGNORECASE,
)
_ACCEPTED_WORDS = re.compile(
    r"\b(?:created|updated|restored|existing|exists|duplicates?|ok|success(?:ful)?|succeeded|"
    r"accepted|saved|added|stored|inserted|valid|new)\b",
    re.IGNORECASE,
)
_NEGATION = re.compile(
    r"\b(?:not|no|never|cannot|unable|without|isn't|wasn't|couldn't|can't|didn't)\b|n't\b", re.IGNORECASE
)
_CUSTOMER_INDEX = re.compile(r"customers?\s*(?:\[\s*(\d+)\s*\]|\.(\d+))\.?", re.IGNORECASE)
_PHONE_RUN = re.compile(r"\+?\d(?:[\s\-.()/]{0,2}\d){6,}")
_NUMBER_KEY = re.compile(r"number|phone|mobile|msisdn|\btel\b|^tel|cell", re.IGNORECASE)
_INDEX_KEYS = frozenset({"index", "idx", "position", "customer_index", "customerindex"})
_INDEXES_KEY = re.compile(r"ind(?:ex|exes|ices)\b|ind(?:ex|exes|ices)$", re.IGNORECASE)
_STATUS_KEYS = ("status", "result", "state", "outcome")
_FLAG_KEYS = ("success", "ok", "valid", "accepted", "created", "saved", "stored")
_REASON_KEYS = ("error", "errors", "reason", "message", "msg", "description", "detail", "details")
_LETTER = re.compile(r"[^\W\d_]")
_TAG = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")


def _camel_words(key: str) -> str:
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", key).replace("_", " ").replace("-", " ").lower()


def _fate(text: str) -> CustomerState | None:
    """ACCEPTED or REFUSED when ``text`` clearly speaks of one of them; None when of neither or both.

    A negation turns words of acceptance into a refusal ("not a valid number"); acceptance is read
    only from words of acceptance alone, since a row wrongly confirmed is the worst mistake to make.
    """
    words = _camel_words(text)
    refused = _REFUSED_WORDS.search(words) is not None
    accepted = _ACCEPTED_WORDS.search(re.sub(r"not[\s_-]*valid|invalid", " ", words)) is not None
    negated = _NEGATION.search(words) is not None
    if refused and not accepted:
        return CustomerState.REFUSED
    if accepted and negated and not refused:
        return CustomerState.REFUSED
    if accepted and not refused:
        return CustomerState.ACCEPTED
    return None


def _status_word(text: str) -> CustomerState | None:
    """The fate a status ("created", "already exists", "not valid") gives. A longer text is a reason
    rather than a status: it may tell of a refusal ("not a valid number"), never confirm one."""
    fate = _fate(text)
    return fate if len(text.split()) <= 3 or fate is CustomerState.REFUSED else None


def boolean(value: object) -> bool | None:
    """``success`` read leniently: true/false, 1/0, and the same as text; None for anything else."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return value == 1
    if isinstance(value, str):
        return {"true": True, "false": False, "1": True, "0": False}.get(value.strip().lower())
    return None


def parse_counts(message: str) -> Counts:
    """Counts in a message such as "There are 2 new customers were created, 0 were restored and 0 were
    not valid." or "created: 4, failed: 1"; each wording that is not there is None."""
    words: dict[str, int] = {}
    for name, pattern in _COUNT_PATTERNS.items():
        match = pattern.search(message)
        if match:
            words[name] = int(match.group(1) or match.group(2))
    return _counts(words)


def _counts(words: Mapping[str, int]) -> Counts:
    refusals = [n for name, n in words.items() if name in _REFUSAL_WORDINGS]
    return Counts(
        created=words.get("created"),
        updated=words.get("updated"),
        restored=words.get("restored"),
        existing=words.get("existing"),
        refused=sum(refusals) if refusals else None,
        words=dict(words),
    )


# --- customers ---------------------------------------------------------------------------------------


_NOT_ASCII_DIGITS = re.compile(r"[^0-9]+")


def _digits(value: object) -> str:
    text = str(value)
    if text.isascii():  # the digits of ASCII text are 0 to 9
        return _NOT_ASCII_DIGITS.sub("", text)
    return "".join(ch for ch in text if ch.isdigit())


class _Numbers:
    """The request's customers by normalised number: digits, leading zeros dropped, and a country code
    of one to three digits in front allowed on either side (0547000000 = +972547000000). The index is
    made when an answer first names a number: most answers name none."""

    def __init__(self, numbers: Sequence[str]) -> None:
        self._numbers = numbers
        self._exact: dict[str, set[int]] | None = None
        self._shorter: dict[str, set[int]] = {}

    def _index(self) -> dict[str, set[int]]:
        exact: dict[str, set[int]] = {}
        for index, number in enumerate(self._numbers):
            key = _digits(number).lstrip("0")
            if len(key) < 7:
                continue
            exact.setdefault(key, set()).add(index)
            for cut in (1, 2, 3):
                if len(key) - cut >= 7:
                    self._shorter.setdefault(key[cut:], set()).add(index)
        self._exact = exact
        return exact

    def find(self, value: object) -> int | None:
        """The index of the one customer ``value`` is the number of; None when none or several."""
        exact = self._exact if self._exact is not None else self._index()
        key = _digits(value).lstrip("0")
        if len(key) < 7:
            return None
        found = exact.get(key, set()) | self._shorter.get(key, set())
        for cut in (1, 2, 3):
            if len(key) - cut >= 7:
                found = found | exact.get(key[cut:], set())
        return next(iter(found)) if len(found) == 1 else None


def same_number(one: object, other: object) -> bool:
    """Whether two writings are one phone number (``054-700-0000``, ``+972547000000``), as answers are
    matched to customers."""
    return _Numbers([str(other)]).find(one) == 0


@dataclass(slots=True)
class _Mention:
    index: int | None  # None: it names a customer we cannot match
    state: CustomerState | None  # None: it names the customer without saying what happened
    reason: str = ""


@dataclass(slots=True)
class _Reading:
    """What walking one body found."""

    mentions: list[_Mention] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    #: A list or object of refusals was present, even an empty one ("invalid": []).
    refusal_list: bool = False


class _Walker:
    """Finds every mention of a customer in a JSON body, and every structured count."""

    def __init__(self, numbers: _Numbers, size: int) -> None:
        self.numbers = numbers
        self.size = size
        self.reading = _Reading()

    def walk(self, node: object, polarity: CustomerState | None, key: str = "") -> None:
        if isinstance(node, Mapping):
            self._object(node, polarity, key)
        elif isinstance(node, list):
            for element in node:
                self.walk(element, polarity, key)
        elif isinstance(node, str):
            self._text(node, polarity)
        elif isinstance(node, int) and not isinstance(node, bool):
            self._integer(node, polarity, key)

    def _object(self, node: Mapping[str, Any], polarity: CustomerState | None, key: str) -> None:
        found, index = self._entry_reference(node)
        if found:
            self._mention(index, _entry_state(node) or polarity, _reason(node))
            return
        for child_key, value in node.items():
            found, index = self._key_reference(str(child_key))
            if found:
                self._mention(index, _value_state(value) or polarity, _reason(value))
                continue
            count_word = _count_wording(_camel_words(str(child_key)))
            number = _count_value(value)
            if count_word is not None and number is not None:
                self.reading.counts.setdefault(count_word, number)
                continue
            fate = _fate(str(child_key))
            if fate is CustomerState.REFUSED and isinstance(value, list | Mapping):
                self.reading.refusal_list = True
            self.walk(value, fate or polarity, str(child_key))

    def _entry_reference(self, node: Mapping[str, Any]) -> tuple[bool, int | None]:
        """Whether an object is about one customer (it has a number or an index field), and which.

        A number and an index that disagree name nobody we can trust.
        """
        by_index: int | None = None
        has_index = False
        for k, v in node.items():
            if str(k).lower() in _INDEX_KEYS and isinstance(v, int) and not isinstance(v, bool):
                has_index = True
                by_index = v if 0 <= v < self.size else None
        for k, v in node.items():
            number = isinstance(v, str | int) and not isinstance(v, bool) and len(_digits(v)) >= 7
            if number and _NUMBER_KEY.search(str(k)):
                by_number = self.numbers.find(v)
                if has_index and by_number != by_index:
                    return True, None
                return True, by_number
        return has_index, by_index

    def _key_reference(self, key: str) -> tuple[bool, int | None]:
        """Whether an object's key names a customer (``customers.3``, a number), and which."""
        stripped = key.strip()
        match = _CUSTOMER_INDEX.match(stripped)
        if match:
            index = int(match.group(1) or match.group(2))
            return True, (index if index < self.size else None)
        if re.fullmatch(r"\+?[\d\s\-.()]+", stripped) and len(_digits(stripped)) >= 7:
            return True, self.numbers.find(stripped)
        return False, None

    def _text(self, text: str, polarity: CustomerState | None) -> None:
        state = polarity if polarity is not None else _fate(text)
        if state is None:
            return  # a text that says nothing of what happened (a date, an id) names nobody
        # The text is the reason only when it says more than whom it is about.
        rest = _PHONE_RUN.sub(" ", _CUSTOMER_INDEX.sub(" ", text))
        reason = text if _LETTER.search(rest) else ""
        for index in self._indexes_in(text):
            self._mention(index, state, reason)
        for index in self._numbers_in(text):
            self._mention(index, state, reason)

    def _integer(self, value: int, polarity: CustomerState | None, key: str) -> None:
        if polarity is None:
            return
        if _INDEXES_KEY.search(key):
            self._mention(value if 0 <= value < self.size else None, polarity, "")
        elif len(str(value)) >= 7:
            self._mention(self.numbers.find(value), polarity, "")

    def _indexes_in(self, text: str) -> Iterator[int | None]:
        for match in _CUSTOMER_INDEX.finditer(text):
            index = int(match.group(1) or match.group(2))
            yield index if index < self.size else None

    def _numbers_in(self, text: str) -> Iterator[int | None]:
        for match in _PHONE_RUN.finditer(text):
            yield self.numbers.find(match.group())

    def _mention(self, index: int | None, state: CustomerState | None, reason: str) -> None:
        if state is CustomerState.REFUSED:
            self.reading.refusal_list = True
        # "customers[3]" counts within one request: it means nothing on the row it is written on.
        reason = " ".join(_CUSTOMER_INDEX.sub(" ", reason).split()).lstrip(":;,. ")
        self.reading.mentions.append(_Mention(index, state, reason))


_COUNT_KEYS = {
    name: re.compile(rf"(?:number of |count of |total )?(?:{wording})(?: count| total| customers)?")
    for name, wording in _WORDINGS.items()
}


def _count_wording(words: str) -> str | None:
    """The wording a key of counts is in ("not_valid", "failedCount", "total created"), or None."""
    return next((name for name, pattern in _COUNT_KEYS.items() if pattern.fullmatch(words)), None)


def _count_value(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _entry_state(node: Mapping[str, Any]) -> CustomerState | None:
    lowered = {str(k).lower(): v for k, v in node.items()}
    for key in _FLAG_KEYS:
        if key in lowered:
            flag = boolean(lowered[key])
            if flag is not None:
                return CustomerState.ACCEPTED if flag else CustomerState.REFUSED
    for key in _STATUS_KEYS:
        value = lowered.get(key)
        if isinstance(value, str) and (state := _status_word(value)) is not None:
            return state
    for key in ("error", "errors", "reason", "failure"):
        if lowered.get(key):
            return CustomerState.REFUSED
    return None


def _value_state(value: object) -> CustomerState | None:
    """The fate the value under a customer's key gives it ({"0547000000": "created"})."""
    if isinstance(value, Mapping):
        return _entry_state(value)
    if isinstance(value, bool):
        return CustomerState.ACCEPTED if value else CustomerState.REFUSED
    if isinstance(value, str):
        return _status_word(value)
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        # A list of messages is what validation errors look like.
        return CustomerState.REFUSED if _fate(" ".join(value)) is not CustomerState.ACCEPTED else None
    return None


def _reason(value: object) -> str:
    """The words an entry gives about its customer."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "; ".join(r for r in (_reason(v) for v in value) if r)
    if isinstance(value, Mapping):
        lowered = {str(k).lower(): v for k, v in value.items()}
        for key in _REASON_KEYS:
            if lowered.get(key):
                return _reason(lowered[key])
        for key in _STATUS_KEYS:
            if isinstance(lowered.get(key), str):
                return str(lowered[key])
    return ""


# --- the answer --------------------------------------------------------------------------------------


def read_answer(status: int, headers: Mapping[str, str], body: bytes | str, numbers: Sequence[str]) -> Answer:
    """What one answer says about the request that held the customers with ``numbers``, in order."""
    retry_after = _header(headers, "retry-after")
    if status in (401, 403):
        data = _json_object(body)
        message = _message(data) or f"HTTP {status}"
        return Answer(Kind.REFUSED, status, message=message)
    if status == 413:
        return Answer(Kind.TOO_LARGE, status)
    if status in (408, 429) or status >= 500:
        return Answer(Kind.RETRY, status, retry_after=retry_after, excerpt=excerpt(body))
    data = _json_object(body)
    if 200 <= status < 300:
        success = boolean(data.get("success")) if data is not None else None
        if data is None or success is None:
            return Answer(Kind.UNREADABLE, status, excerpt=excerpt(body))
        return _answered(status, data, success, numbers)
    if 300 <= status < 400 or status in (404, 405, 410):
        # A redirect or a missing page: most likely a wrong base URL, the same for every request.
        return Answer(Kind.REFUSED, status, message=_message(data) or f"CallMarker answered HTTP {status}")
    # Any other 4xx is a refusal of this request: whether of the request or of some of its customers
    # is read from what it names, and otherwise found out by sending parts of it.
    if data is None:
        return _refused_without_words(status, f"HTTP {status}: {excerpt(body)}".rstrip(": "), numbers)
    return _answered(status, data, False, numbers)


def _refused_without_words(status: int, message: str, numbers: Sequence[str]) -> Answer:
    size = len(numbers)
    verdicts = tuple(
        Verdict(CustomerState.REFUSED, message) if size == 1 else Verdict(CustomerState.UNKNOWN)
        for _ in numbers
    )
    return Answer(Kind.ANSWERED, status, success=False, message=message, customers=verdicts)


def _answered(status: int, data: Mapping[str, Any], success: bool, numbers: Sequence[str]) -> Answer:
    size = len(numbers)
    message = _message(data)
    walker = _Walker(_Numbers(numbers), size)
    body = {k: v for k, v in data.items() if k not in ("success", "message")}
    walker.walk(body, None)
    reading = walker.reading
    if not success and message:
        # A refusal that names customers is about them.
        walker._text(message, CustomerState.REFUSED)

    states: dict[int, set[CustomerState]] = {}
    reasons: dict[int, str] = {}
    # Customers named with words that neither confirm nor refuse ({"0547000017": "customers[1].agent_name:
    # unknown agent"}): a list of refusals that names them cannot confirm them.
    unclear: dict[int, str] = {}
    unmatched_refusals = 0
    for mention in reading.mentions:
        if mention.state is None:
            if mention.index is not None and mention.reason:
                unclear.setdefault(mention.index, mention.reason)
            continue
        if mention.index is None:
            unmatched_refusals += mention.state is CustomerState.REFUSED
            continue
        if not success and mention.state is CustomerState.ACCEPTED and not 200 <= status < 300:
            continue  # a 4xx cannot confirm anything
        states.setdefault(mention.index, set()).add(mention.state)
        if mention.state is CustomerState.REFUSED and mention.reason and mention.index not in reasons:
            reasons[mention.index] = mention.reason

    refusals_named = any(CustomerState.REFUSED in found for found in states.values())
    if not states and not unclear:  # most answers name no customer (verdicts are shared: frozen)
        verdicts = [_UNKNOWN] * size
    else:
        verdicts = []
        for index in range(size):
            found = states.get(index, _NOTHING)
            if found == _ONLY_REFUSED:
                verdicts.append(Verdict(CustomerState.REFUSED, reasons.get(index, ""), named=True))
            elif found == _ONLY_ACCEPTED:
                verdicts.append(_ACCEPTED_NAMED)
            elif not found and index in unclear and success and refusals_named:
                # Named beside the refusals, with words of its own that confirm nothing: one of them.
                verdicts.append(Verdict(CustomerState.REFUSED, unclear[index], named=True))
            else:
                verdicts.append(_UNKNOWN_NAMED if index in unclear else _UNKNOWN)

    message_counts = parse_counts(message)
    field_counts = _counts(reading.counts)
    refused_count, consistent = _refused_count(message_counts, field_counts)
    counts = message_counts if message_counts.words else field_counts

    refused_among_unknown: int | None = None
    if success:
        word = next((w for w in counts.words if w in _REFUSAL_WORDINGS), "not valid")
        verdicts, refused_among_unknown, consistent = _settle_unknown(
            verdicts, reading, refused_count, unmatched_refusals, consistent=consistent, refusal_word=word
        )
    elif size == 1 and verdicts[0].state is CustomerState.UNKNOWN:
        # A refusal of a request that held only this customer is about this customer.
        verdicts[0] = Verdict(CustomerState.REFUSED, message or f"HTTP {status}")
    return Answer(
        Kind.ANSWERED,
        status,
        success=success,
        message=message,
        customers=tuple(verdicts),
        counts=counts,
        refused_among_unknown=refused_among_unknown,
        consistent=consistent,
    )


def _refused_count(message: Counts, fields: Counts) -> tuple[int | None, bool]:
    """The number of refusals counted, from the message or else from fields; False when they disagree."""
    if message.refused is not None and fields.refused is not None and message.refused != fields.refused:
        return None, False
    return (message.refused if message.refused is not None else fields.refused), True


def _settle_unknown(
    verdicts: list[Verdict],
    reading: _Reading,
    refused_count: int | None,
    unmatched_refusals: int,
    *,
    consistent: bool,
    refusal_word: str,
) -> tuple[list[Verdict], int | None, bool]:
    """A success: the customers nothing named are confirmed by a count of zero refusals left for them,
    or by a list of refusals that names none of them; else the count says how many of them to find."""
    named_refused = sum(v.state is CustomerState.REFUSED for v in verdicts)
    unknown = [i for i, v in enumerate(verdicts) if v.state is CustomerState.UNKNOWN]
    if not unknown:
        return verdicts, None, consistent
    if refused_count is not None and consistent:
        left = refused_count - named_refused
        if left == 0:
            return _confirm(verdicts, unknown), 0, True
        if left > 0 and len(unknown) == 1:
            # One customer left and a refusal counted for it: it is the one.
            verdicts[unknown[0]] = Verdict(CustomerState.REFUSED, f"counted as {refusal_word}")
            return verdicts, 0, True
        if left < 0 or left > len(unknown):
            return verdicts, None, False
        return verdicts, left, True
    if (
        reading.refusal_list
        and unmatched_refusals == 0
        and consistent
        and not any(verdicts[i].named for i in unknown)
    ):
        # A list of refusals that names none of them.
        return _confirm(verdicts, unknown), 0, True
    return verdicts, None, consistent


def _confirm(verdicts: list[Verdict], indexes: Sequence[int]) -> list[Verdict]:
    for index in indexes:
        verdicts[index] = _ACCEPTED
    return verdicts


def _message(data: Mapping[str, Any] | None) -> str:
    if data is None:
        return ""
    value = data.get("message")
    if value is None:
        value = data.get("error") or data.get("msg") or ""
    if isinstance(value, Mapping):
        value = value.get("message", "")
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)[:200]


def _json_object(body: bytes | str) -> dict[str, Any] | None:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def excerpt(body: bytes | str) -> str:
    """A short, single-line piece of a body for the user: tags dropped, spaces collapsed."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    text = _SPACE.sub(" ", _TAG.sub(" ", text)).strip()
    if not text:
        return "an empty answer"
    return text if len(text) <= EXCERPT_CHARS else text[: EXCERPT_CHARS - 1] + "…"
