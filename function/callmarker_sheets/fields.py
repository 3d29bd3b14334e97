"""Every CallMarker request option and customer field, and how a sheet's headers map onto them.

Pure data and header matching; the values under the headers are checked in ``validate.py``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

from callmarker_sheets.i18n import N_, W_, Phrase, Text, Translator

__all__ = [
    "CATALOGUE",
    "CUSTOMER_FIELDS",
    "FIELDS",
    "REQUEST_FIELDS",
    "Field",
    "HeaderError",
    "HeaderMap",
    "Kind",
    "Level",
    "MissingNumberColumn",
    "column_letter",
    "display_header",
    "field_for",
    "fold",
    "map_headers",
]


class Level(StrEnum):
    """Where a field travels: beside ``customers`` in the request, or inside each customer."""

    REQUEST = "request"
    CUSTOMER = "customer"


class Kind(StrEnum):
    """What a cell of the field may hold; ``validate.py`` has one parser per kind."""

    TEXT = "text"  # free text, trimmed
    FLAG = "flag"  # "if set": yes/no, a checkbox
    ENUM = "enum"  # one of a few documented numbers, or their names
    DATE = "date"  # followup_date
    HOUR = "hour"  # min_hour / max_hour
    ID = "id"  # a positive whole number (campaign, product, reason)
    NUMBER = "number"  # the customer's phone number
    EMAIL = "email"  # free text with a light shape check


@dataclass(frozen=True, slots=True)
class Field:
    """One CallMarker option or customer field.

    ``allowed`` maps each documented value of an enum to the words a user may write for it (the first
    is the English name used in messages). ``aliases`` are header names that mean this field, besides
    the API name itself, which always matches.
    """

    name: str
    level: Level
    kind: Kind
    label: str
    aliases: tuple[str, ...] = ()
    allowed: Mapping[int, tuple[str, ...]] = field(default_factory=dict)


def _enum(values: dict[int, tuple[str, ...]]) -> Mapping[int, tuple[str, ...]]:
    return MappingProxyType(values)


STATUS_VALUES = _enum(
    {
        1: (W_("Waiting"), "ממתין"),
        10: (W_("Not Interested"), "לא מעוניין"),
        11: (W_("Interested"), "מעוניין"),
        12: (W_("Follow Up"), "Followup", "פולואפ", "מעקב"),
        18: (W_("Completed"), "הושלם"),
    }
)

R, C = Level.REQUEST, Level.CUSTOMER

#: The whole catalogue: the request-level options first, then the customer fields. ``agent_name``
#: appears twice: the job's agent (request) and a row's own agent (customer), which overrides it.
CATALOGUE: tuple[Field, ...] = (
    Field(
        "campaign", R, Kind.ID, W_("Campaign"), ("Campaign id", "Campaign number", "קמפיין", "מספר קמפיין")
    ),
    Field("agent_name", R, Kind.TEXT, W_("Agent")),
    Field("override", R, Kind.FLAG, W_("Override"), ("Update existing", "עדכון", "דריסה")),
    # Only its API name: a column that removes customers must not appear by a lucky alias.
    Field("remove", R, Kind.FLAG, W_("Remove")),
    Field("unique", R, Kind.FLAG, W_("Unique"), ("ייחודי",)),
    Field("status", R, Kind.ENUM, W_("Status"), ("סטטוס",), STATUS_VALUES),
    Field("international", R, Kind.FLAG, W_("International"), ("בינלאומי",)),
    Field(
        "number",
        C,
        Kind.NUMBER,
        W_("Phone"),
        (
            "Phone",
            "Phone number",
            "Phone no",
            "Mobile",
            "Mobile number",
            "Mobile phone",
            "Cell",
            "Cell phone",
            "Cellphone",
            "Tel",
            "Telephone",
            "Number",
            "טלפון",
            "מספר טלפון",
            "טלפון נייד",
            "נייד",
            "פלאפון",
            "סלולרי",
        ),
    ),
    Field(
        "name", C, Kind.TEXT, W_("Name"), ("First name", "Full name", "Firstname", "שם", "שם פרטי", "שם מלא")
    ),
    Field("last_name", C, Kind.TEXT, W_("Last name"), ("Surname", "Family name", "Lastname", "שם משפחה")),
    Field(
        "email", C, Kind.EMAIL, W_("Email"), ("E-mail", "Email address", "Mail", "אימייל", "מייל", 'דוא"ל')
    ),
    Field("crm_id", C, Kind.TEXT, W_("CRM id"), ("CRM", "CRM number", "מזהה CRM", "מספר לקוח")),
    Field("source", C, Kind.TEXT, W_("Source"), ("Lead source", "UTM source", "מקור", "מקור הגעה")),
    Field("source_medium", C, Kind.TEXT, W_("Source medium"), ("Medium", "UTM medium", "מדיום")),
    Field("source_campaign", C, Kind.TEXT, W_("Source campaign"), ("UTM campaign", "קמפיין מקור")),
    Field(
        "followup_date",
        C,
        Kind.DATE,
        W_("Follow-up date"),
        (
            "Follow up",
            "Followup",
            "Follow-up date",
            "Callback",
            "Callback date",
            "Call back",
            "תאריך חזרה",
            "פולואפ",
            "תאריך פולואפ",
            "מועד חזרה",
        ),
    ),
    Field(
        "followup_type",
        C,
        Kind.ENUM,
        W_("Follow-up type"),
        ("Follow up type", "Callback type", "סוג פולואפ", "סוג חזרה"),
        _enum({1: (W_("Call"), "שיחה"), 2: (W_("Reminder"), "תזכורת")}),
    ),
    Field("note", C, Kind.TEXT, W_("Note"), ("Notes", "Comment", "Comments", "Remarks", "הערה", "הערות")),
    Field("agent_name", C, Kind.TEXT, W_("Agent"), ("Agent", "Agent name", "Rep", "נציג", "שם נציג", "סוכן")),
    Field(
        "min_hour", C, Kind.HOUR, W_("Min hour"), ("From hour", "Call from", "Earliest", "משעה", "שעת התחלה")
    ),
    Field(
        "max_hour", C, Kind.HOUR, W_("Max hour"), ("To hour", "Call until", "Latest", "עד שעה", "שעת סיום")
    ),
    Field(
        "blacklisted",
        C,
        Kind.FLAG,
        W_("Blacklisted"),
        ("Blacklist", "Do not call", "DNC", "רשימה שחורה", "לא להתקשר", "חסום"),
    ),
    Field("product_id", C, Kind.ID, W_("Product id"), ("Product", "מוצר", "מזהה מוצר")),
    Field("opportunity_crm_id", C, Kind.TEXT, W_("Opportunity CRM id"), ("מזהה הזדמנות",)),
    Field(
        "opportunity_status",
        C,
        Kind.ENUM,
        W_("Opportunity status"),
        ("סטטוס הזדמנות",),
        _enum(
            {
                2: (W_("Purchased"), "Bought", "נרכש", "רכש"),
                3: (W_("Not purchased"), "Not bought", "לא נרכש", "לא רכש"),
            }
        ),
    ),
    Field(
        "opportunity_agent_name",
        C,
        Kind.TEXT,
        W_("Opportunity agent"),
        ("Opportunity agent", "Opportunity agent name", "נציג הזדמנות"),
    ),
    Field(
        "opportunity_not_purchased_reason_id",
        C,
        Kind.ID,
        W_("Not purchased reason"),
        ("Not purchased reason", "Not purchased reason id", "Reason id", "סיבת אי רכישה"),
    ),
)

#: Request-level options by name.
REQUEST_FIELDS: Mapping[str, Field] = MappingProxyType({f.name: f for f in CATALOGUE if f.level is R})
#: Customer fields by name (``custom_field_{id}`` and ``product_field_{id}`` are made by ``field_for``).
CUSTOMER_FIELDS: Mapping[str, Field] = MappingProxyType({f.name: f for f in CATALOGUE if f.level is C})
#: What a column may be, by name: every customer field, and the request options that make sense per row
#: (a column named ``agent_name`` is the customer's agent, which is why customer fields win).
FIELDS: Mapping[str, Field] = MappingProxyType(
    {**{n: f for n, f in REQUEST_FIELDS.items() if n != "agent_name"}, **CUSTOMER_FIELDS}
)

_INVISIBLE = dict.fromkeys(
    [0x200B, 0x200E, 0x200F, 0xFEFF, *range(0x202A, 0x202F), *range(0x2066, 0x206A)],
)


def fold(header: str) -> str:
    """The form headers are compared in: NFKC, case folded, only letters and digits kept.

    So ``"E-mail:"``, ``"e mail"`` and ``"EMAIL"`` are one header, and so are ``דוא"ל`` and ``דוא״ל``.
    """
    text = unicodedata.normalize("NFKC", header.translate(_INVISIBLE)).casefold()
    return "".join(ch for ch in text if ch.isalnum())


def _build_aliases() -> dict[str, str]:
    aliases: dict[str, str] = {}
    for f in FIELDS.values():
        for name in (f.name, f.label, *f.aliases):
            key = fold(name)
            owner = aliases.setdefault(key, f.name)
            if owner != f.name:  # pragma: no cover - a catalogue mistake, caught by the tests at import
                raise AssertionError(f"header {name!r} means both {owner} and {f.name}")
    return aliases


_ALIASES = _build_aliases()
_NUMBERED = re.compile(r"(custom|product)field(.*)")
_NUMBERED_ID = re.compile(r"field(?:[\s_]+|-)?(\d+)$")


def field_for(name: str) -> Field:
    """The catalogue record of a column's field name, ``custom_field_12`` and ``product_field_3`` included."""
    if name in FIELDS:
        return FIELDS[name]
    kind, _, number = name.rpartition("_")
    if kind in ("custom_field", "product_field") and number.isdigit():
        words = "Custom field" if kind == "custom_field" else "Product field"
        return Field(name, C, Kind.TEXT, f"{words} {number}")
    raise KeyError(name)


@dataclass(frozen=True, slots=True)
class _Label(Phrase):
    """A field's label in the language it is shown in."""

    name: str

    def __call__(self, t: Translator) -> str:
        return t.word(field_for(self.name).label)


class HeaderError(ValueError):
    """The header row cannot be used as it is; nothing of the job is sent. ``problems`` lists each one
    (``str()`` in English, ``words(t)`` in the language of a translator)."""

    def __init__(self, problems: Sequence[Text]) -> None:
        self.texts = tuple(problems)
        self.problems = tuple(str(p) for p in self.texts)
        super().__init__(" ".join(self.problems))

    def words(self, t: Translator) -> str:
        return " ".join(p(t) for p in self.texts)


class MissingNumberColumn(HeaderError):
    """No column holds the customers' phone numbers."""


def display_header(header: str) -> str:
    """A header as written, without surrounding spaces or a trailing ``:`` or ``*``."""
    text = str(header).strip()
    return text.rstrip(":*： ").strip() or text


def column_letter(index: int) -> str:
    """The A1 name of a 0-based column index: 0 -> A, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


@dataclass(frozen=True, slots=True, eq=False)
class HeaderMap:
    """Which column holds which field. Compared by identity, so validators can be cached per job.

    ``columns``: column index -> field name; ``fields``: field name -> column index; ``headers``: the
    header row as written; ``unmapped``: headers that mean nothing to CallMarker (empty ones left out).
    """

    headers: tuple[str, ...]
    columns: Mapping[int, str]
    fields: Mapping[str, int]
    unmapped: tuple[str, ...] = ()

    def header(self, name: str) -> str:
        """The header of the column holding ``name`` as the user wrote it, for messages.

        Spaces around it, and the colon or asterisk forms put after a label, are left out.
        """
        return display_header(self.headers[self.fields[name]])

    def __contains__(self, name: object) -> bool:
        return name in self.fields

    def narrowed(self, indexes: Sequence[int]) -> HeaderMap:
        """The same fields, for rows that hold only the cells of ``indexes`` (in that order)."""
        position = {index: i for i, index in enumerate(indexes)}
        columns = {position[index]: name for index, name in self.columns.items() if index in position}
        return HeaderMap(
            headers=tuple(self.headers[index] if index < len(self.headers) else "" for index in indexes),
            columns=columns,
            fields={name: i for i, name in columns.items()},
        )


def _numbered_field(key: str, header: str, col: int, problems: list[Text]) -> str | None:
    """``custom_field_{id}`` / ``product_field_{id}`` in any spelling, or None; a bad id is a problem."""
    match = _NUMBERED.fullmatch(key)
    if not match:
        return None
    kind = match[1]
    # The id is read from the header itself: folding would turn "custom_field_-3" into field 3.
    text = unicodedata.normalize("NFKC", header.translate(_INVISIBLE)).casefold().strip().rstrip(":*").strip()
    written = _NUMBERED_ID.search(text)
    if written and written[1].isascii() and int(written[1]) > 0:
        return f"{kind}_field_{int(written[1])}"
    where = N_('Column {=letter} ("{header}")', letter=column_letter(col), header=display_header(header))
    problems.append(
        N_(
            '{=column}: a custom field needs its CallMarker id, a whole number from 1: "custom_field_12".',
            column=where,
        )
        if kind == "custom"
        else N_(
            '{=column}: a product field needs its CallMarker id, a whole number from 1: "product_field_12".',
            column=where,
        )
    )
    return None


def map_headers(headers: Sequence[str], *, ignore: Collection[int] = ()) -> HeaderMap:
    """Map a header row to CallMarker fields.

    ``ignore``: column indexes to leave out (the sheet's own status columns). Raises ``HeaderError``
    listing every problem (two columns for one field, a custom field without a valid id), or
    ``MissingNumberColumn`` when no column holds the phone number.
    """
    columns: dict[int, str] = {}
    fields: dict[str, int] = {}
    unmapped: list[str] = []
    problems: list[Text] = []
    for col, header in enumerate(headers):
        if col in ignore:
            continue
        text = str(header)
        key = fold(text)
        if not key:
            continue
        name = _ALIASES.get(key) or _numbered_field(key, text, col, problems)
        if name is None:
            if not _NUMBERED.fullmatch(key):
                unmapped.append(display_header(text))
            continue
        if name in fields:
            first = fields[name]
            problems.append(
                N_(
                    'Columns {=one} ("{first}") and {=other} ("{second}") are both {=field}: keep one of '
                    "them.",
                    one=column_letter(first),
                    first=display_header(headers[first]),
                    other=column_letter(col),
                    second=display_header(text),
                    field=_Label(name),
                )
            )
            continue
        fields[name] = col
        columns[col] = name
    if problems:
        raise HeaderError(problems)
    if "number" not in fields:
        raise MissingNumberColumn(
            [
                N_(
                    "No column holds the phone number: name one column Phone (or {hebrew}), or number.",
                    hebrew="טלפון",
                )
            ]
        )
    return HeaderMap(
        headers=tuple(str(h) for h in headers),
        columns=MappingProxyType(columns),
        fields=MappingProxyType(fields),
        unmapped=tuple(unmapped),
    )
