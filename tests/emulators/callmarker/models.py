"""CallMarker's state and the rules of its customers upload, with no HTTP in sight.

Rules and guesses come from ../shared/spec/CALLMARKER.md; where the vendor's page is silent the choice
made here is written beside the code that makes it.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

WAITING = 1
FOLLOW_UP = 12
#: 1 Waiting, 10 Not Interested, 11 Interested, 12 Follow Up, 18 Completed.
STATUSES = frozenset({1, 10, 11, 12, 18})
FOLLOWUP_TYPES = frozenset({1, 2})  # 1 Call, 2 Reminder
CALL = 1
OPEN = "open"
OPPORTUNITY_STATUSES = {2: "purchased", 3: "not_purchased"}

REQUEST_KEYS = frozenset(
    {
        "token",
        "campaign",
        "agent_name",
        "customers",
        "override",
        "remove",
        "unique",
        "status",
        "international",
    }
)
TEXT_FIELDS = frozenset(
    {"name", "last_name", "email", "crm_id", "source", "source_medium", "source_campaign", "note"}
)
OPPORTUNITY_KEYS = frozenset(
    {
        "opportunity_crm_id",
        "opportunity_status",
        "opportunity_agent_name",
        "opportunity_not_purchased_reason_id",
    }
)
CUSTOMER_KEYS = (
    TEXT_FIELDS
    | OPPORTUNITY_KEYS
    | {"number", "followup_date", "followup_type", "agent_name", "min_hour", "max_hour", "blacklisted"}
    | {"product_id"}
)
_NUMBERED_FIELD = re.compile(r"(custom_field|product_field)_(.*)", re.DOTALL)
_POSITIVE_ID = re.compile(r"[1-9][0-9]*")

SUCCESS_MESSAGE = (
    "There are {created} new customers were created, {restored} were restored and {not_valid} were not valid."
)


class CallMarkerError(Exception):
    """A request CallMarker refuses. ``message`` says what to fix and never holds the token."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidToken(CallMarkerError):
    """The token is missing or unknown."""

    def __init__(self) -> None:
        super().__init__("Invalid token")


class BadRequest(CallMarkerError):
    """Something in the request (or in one of its customers) must be fixed; nothing was applied."""


class CustomerErrors(BadRequest):
    """Customers of the request must be fixed (``errors``: index -> message); nothing was applied."""

    def __init__(self, errors: Mapping[int, str]) -> None:
        super().__init__(errors[min(errors)])
        self.errors = dict(errors)


#: How a request with customers in error is answered: refused naming the first of them (the default,
#: nothing applied), refused listing all of them (nothing applied), or applied without them.
CUSTOMER_ERRORS = ("first", "all", "skip")


# --- Values ------------------------------------------------------------------------------------------


_SPACES_AND_DASHES = re.compile(r"[ \-]")
_LOCAL = re.compile(r"0[0-9]{8,9}")
_E164 = re.compile(r"\+[1-9][0-9]{7,14}")


def normalise_local_number(raw: str) -> str | None:
    """A number in Israeli national format (``054-700-0000``) -> its digits, or None when not valid.

    The one place that decides what a local number is: 9 or 10 digits starting with 0, once spaces and
    dashes are gone.
    """
    digits = _SPACES_AND_DASHES.sub("", raw)
    if _LOCAL.fullmatch(digits):
        return digits
    return None


def normalise_international_number(raw: str) -> str | None:
    """An E.164 number (``+972547000000``; spaces and dashes tolerated) -> ``+digits``, or None."""
    compact = _SPACES_AND_DASHES.sub("", raw)
    if _E164.fullmatch(compact):
        return compact
    return None


def normalise_number(raw: str, *, international: bool) -> str | None:
    """The key a customer is known by. Local and international numbers are kept apart (a guess)."""
    return normalise_international_number(raw) if international else normalise_local_number(raw)


_DATE_PATTERNS = (
    # separator decides the order: '-' and '.' day first, '/' month first, 'Y-m-d' year first
    (re.compile(r"(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})"), "ymd"),
    (re.compile(r"(?P<d>\d{1,2})-(?P<m>\d{1,2})-(?P<y>\d{4})"), "dmy"),
    (re.compile(r"(?P<d>\d{1,2})\.(?P<m>\d{1,2})\.(?P<y>\d{4})"), "dmy"),
    (re.compile(r"(?P<m>\d{1,2})/(?P<d>\d{1,2})/(?P<y>\d{4})"), "mdy"),
)
_TIME_24 = re.compile(r"(?P<h>\d{1,2}):(?P<i>\d{2})")
_TIME_12 = re.compile(r"(?P<h>\d{1,2}):(?P<i>\d{2}) ?(?P<a>am|pm)", re.IGNORECASE)
_RELATIVE = re.compile(r"\+\s*(?P<n>\d+)\s*(?P<unit>minute|hour|day|week|month|year)s?", re.IGNORECASE)


@functools.lru_cache(maxsize=4096)  # a pure function of the text: many rows share a date
def parse_followup_date(text: str) -> str:
    """A followup date as the page allows it -> ``YYYY-MM-DDTHH:MM``, or a relative one as ``+N unit``.

    Raises ValueError with what is wrong: an unknown format, or a date or time that does not exist.
    """
    text = text.strip()
    relative = _RELATIVE.fullmatch(text)
    if relative:
        n, unit = int(relative["n"]), relative["unit"].lower()
        return f"+{n} {unit}{'' if n == 1 else 's'}"
    date_part, _, time_part = text.partition(" ")
    for pattern, _order in _DATE_PATTERNS:
        found = pattern.fullmatch(date_part)
        if found:
            break
    else:
        raise ValueError("invalid date format")
    hour, minute = 0, 0
    if time_part:
        hour, minute = _parse_time(time_part.strip())
    try:
        when = datetime(int(found["y"]), int(found["m"]), int(found["d"]), hour, minute)
    except ValueError:
        raise ValueError("date does not exist") from None
    return when.strftime("%Y-%m-%dT%H:%M")


def _parse_time(text: str) -> tuple[int, int]:
    """``15:34`` (H:i) or ``9:45 am`` (g:i a) -> (hour, minute)."""
    twelve = _TIME_12.fullmatch(text)
    if twelve:
        hour, minute = int(twelve["h"]), int(twelve["i"])
        if not 1 <= hour <= 12 or minute > 59:
            raise ValueError("time does not exist")
        return hour % 12 + (12 if twelve["a"].lower() == "pm" else 0), minute
    plain = _TIME_24.fullmatch(text)
    if plain:
        hour, minute = int(plain["h"]), int(plain["i"])
        if hour > 23 or minute > 59:
            raise ValueError("time does not exist")
        return hour, minute
    raise ValueError("invalid date format")


_HOUR = re.compile(r"(?P<h>\d{1,2})(?::(?P<i>\d{2}))?\s*(?P<a>am|pm)?", re.IGNORECASE)


@functools.lru_cache(maxsize=1024)
def parse_hour(text: str) -> str:
    """A calling-window hour (``8pm``, ``08:16 AM``, ``20:48``) -> ``HH:MM``; ValueError when unreadable.

    A bare number (``20``) is refused: without minutes or am/pm it is not one of the page's forms.
    """
    found = _HOUR.fullmatch(text.strip())
    if not found or (found["i"] is None and found["a"] is None):
        raise ValueError("unreadable hour (use 8pm, 08:16 AM or 20:48)")
    hour, minute = int(found["h"]), int(found["i"] or 0)
    if found["a"]:
        if not 1 <= hour <= 12:
            raise ValueError("unreadable hour (use 8pm, 08:16 AM or 20:48)")
        hour = hour % 12 + (12 if found["a"].lower() == "pm" else 0)
    if hour > 23 or minute > 59:
        raise ValueError("unreadable hour (use 8pm, 08:16 AM or 20:48)")
    return f"{hour:02d}:{minute:02d}"


def _as_int(value: Any) -> int | None:
    """An id or code sent as a JSON number or as a string of digits; None when it is neither."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


@functools.lru_cache(maxsize=1024)  # a pure function of the name: the same few names come in every request
def _field_problem(key: str) -> str | None:
    """What is wrong with the name of a customer field that is not one of CUSTOMER_KEYS, if anything."""
    numbered = _NUMBERED_FIELD.fullmatch(key)
    if numbered:
        if not _POSITIVE_ID.fullmatch(numbered[2]):
            return f"the id after {numbered[1]}_ must be a positive integer"
        return None
    return "unknown field"


def _is_text(value: Any) -> bool:
    # a tuple, not a union of types: isinstance checks a tuple several times faster
    return isinstance(value, (str, int, float)) and not isinstance(value, bool)


# --- State -------------------------------------------------------------------------------------------


@dataclass(slots=True)
class Membership:
    """A customer in one campaign. ``removed`` keeps the trace, so coming back counts as restored."""

    status: int = WAITING
    agent: str | None = None
    removed: bool = False


@dataclass(slots=True)
class CustomerRecord:
    number: str
    fields: dict[str, Any] = field(default_factory=dict)
    campaigns: dict[str, Membership] = field(default_factory=dict)
    deleted: bool = False


@dataclass(slots=True)
class Opportunity:
    number: str
    product_id: int
    status: str = OPEN
    crm_id: str | None = None
    agent: str | None = None
    not_purchased_reason_id: int | None = None
    product_fields: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "product_id": self.product_id,
            "status": self.status,
            "crm_id": self.crm_id,
            "agent_name": self.agent,
            "not_purchased_reason_id": self.not_purchased_reason_id,
            "product_fields": dict(self.product_fields),
        }


# --- A request, once checked -------------------------------------------------------------------------


@dataclass(slots=True)
class OpportunityInput:
    product_id: int
    crm_id: str | None = None
    status: str | None = None
    agent: str | None = None
    not_purchased_reason_id: int | None = None
    product_fields: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class CustomerInput:
    number: str | None  # None: not valid, counted and skipped
    fields: dict[str, Any]
    #: What is wrong with this customer (a field CallMarker refuses); it is then not applied.
    error: str | None = None
    #: The number as the request wrote it.
    sent: Any = None
    agent_given: bool = False
    agent: str | None = None  # None with agent_given: the keyword "none", unassign
    blacklisted: bool = False
    opportunity: OpportunityInput | None = None


@dataclass(slots=True)
class UploadRequest:
    customers: list[CustomerInput]
    campaign: str | None = None
    agent: str | None = None
    status: int | None = None
    override: bool = False
    remove: bool = False
    unique: bool = False
    international: bool = False


#: What happened to one customer of an applied request.
CREATED, RESTORED, EXISTING, NOT_VALID, REFUSED = "created", "restored", "existing", "not_valid", "refused"


@dataclass(frozen=True, slots=True)
class CustomerOutcome:
    index: int
    number: Any  # as sent
    outcome: str  # CREATED, RESTORED, EXISTING (applied) or NOT_VALID, REFUSED (not applied)
    reason: str = ""

    @property
    def applied(self) -> bool:
        return self.outcome in (CREATED, RESTORED, EXISTING)


@dataclass(frozen=True, slots=True)
class UploadResult:
    created: int
    restored: int
    not_valid: int
    #: One outcome per customer of the request, in its order.
    customers: tuple[CustomerOutcome, ...] = ()

    @property
    def refused(self) -> int:
        """Customers not applied for a field in error (only when errors are skipped)."""
        return sum(c.outcome == REFUSED for c in self.customers)

    @property
    def message(self) -> str:
        return SUCCESS_MESSAGE.format(created=self.created, restored=self.restored, not_valid=self.not_valid)


def count_customers(body: Any) -> int:
    """How many customers a request body carries (0 when it carries none, or not as a list)."""
    if isinstance(body, Mapping) and isinstance(body.get("customers"), list):
        return len(body["customers"])
    return 0


class CallMarkerBackend:
    """One CallMarker account: its tokens, campaigns, agents, products, customers and opportunities.

    Every public method takes the lock, and ``upload`` checks a whole request before changing
    anything, so concurrent requests are applied one at a time and a refused request changes nothing.
    """

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self._customer_errors = "first"
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self._tokens: set[str] = set()
            self._campaigns: dict[str, set[str]] = {}
            self._agents: dict[str, str] = {}  # name or CRM name -> agent name
            self._products: set[int] = set()
            self._reasons: set[int] = set()
            self._customers: dict[str, CustomerRecord] = {}
            # Numbers this account counts as not valid although their shape is fine (a guess of what
            # CallMarker may refuse: numbers it cannot dial, say).
            self._refused_numbers: set[str] = set()
            self._blacklist: set[str] = set()
            self._opportunities: list[Opportunity] = []
            # the same opportunities by (number, product), so a large upload stays linear
            self._opportunities_of: dict[tuple[str, int], list[Opportunity]] = {}

    # --- Seeding and inspection ----------------------------------------------------------------------

    def seed(
        self,
        *,
        tokens: Iterable[str] = (),
        campaigns: Mapping[str | int, Iterable[str]] | None = None,
        agents: Iterable[str | Mapping[str, str]] = (),
        products: Iterable[int] = (),
        not_purchased_reasons: Iterable[int] = (),
        customers: Mapping[str, Mapping[str, Any]] | None = None,
        refused_numbers: Iterable[str] = (),
    ) -> None:
        """Add to the state. ``agents`` items are names or ``{"name": ..., "crm_name": ...}``; agents
        named in ``campaigns`` are created too. ``customers`` take the shape ``state()`` gives.
        ``refused_numbers`` (local or E.164) are counted as not valid whenever they are sent."""
        with self.lock:
            self._tokens.update(tokens)
            for number in refused_numbers:
                key = normalise_number(number, international=number.strip().startswith("+"))
                if key is None:
                    raise ValueError(f"refused_numbers: {number!r} is not a number")
                self._refused_numbers.add(key)
            for agent in agents:
                if isinstance(agent, str):
                    self._agents[agent] = agent
                else:
                    self._agents[agent["name"]] = agent["name"]
                    if agent.get("crm_name"):
                        self._agents[agent["crm_name"]] = agent["name"]
            for campaign, assigned in (campaigns or {}).items():
                names = self._campaigns.setdefault(str(campaign), set())
                for name in assigned:
                    self._agents.setdefault(name, name)
                    names.add(self._agents[name])
            self._products.update(int(p) for p in products)
            self._reasons.update(int(r) for r in not_purchased_reasons)
            for number, data in (customers or {}).items():
                self._customers[number] = _record_from_state(number, data)

    def state(self) -> dict[str, Any]:
        """Everything a test may want to check, as JSON-ready data."""
        with self.lock:
            return {
                "customers": {number: _record_to_state(c) for number, c in self._customers.items()},
                "blacklist": sorted(self._blacklist),
                "opportunities": [o.to_json() for o in self._opportunities],
            }

    # --- The customers endpoint ----------------------------------------------------------------------

    def check_token(self, body: Any) -> None:
        token = body.get("token") if isinstance(body, Mapping) else None
        with self.lock:
            if not isinstance(token, str) or token not in self._tokens:
                raise InvalidToken

    def upload(self, body: Any) -> UploadResult:
        """Apply one POST /customers body. Raises InvalidToken or BadRequest (and then changes nothing).

        Customers with a field in error refuse the whole request, named by the first of them
        (``customer_errors`` "first", BadRequest) or all of them ("all", CustomerErrors), or are left
        out while the others are applied ("skip": their outcome is REFUSED, with the reason).
        """
        with self.lock:
            self.check_token(body)
            request = self._parse_request(body)
            errors = {i: c.error for i, c in enumerate(request.customers) if c.error is not None}
            if errors and self.customer_errors == "first":
                raise BadRequest(errors[min(errors)])
            if errors and self.customer_errors == "all":
                raise CustomerErrors(errors)
            return self._apply(request)

    @property
    def customer_errors(self) -> str:
        return self._customer_errors

    @customer_errors.setter
    def customer_errors(self, value: str) -> None:
        if value not in CUSTOMER_ERRORS:
            raise ValueError(f"customer_errors must be one of {', '.join(CUSTOMER_ERRORS)}")
        self._customer_errors = value

    def _parse_request(self, body: Mapping[str, Any]) -> UploadRequest:
        unknown = sorted(set(body) - REQUEST_KEYS)
        if unknown:
            raise BadRequest(f"unknown parameter: {unknown[0]}")
        customers = body.get("customers")
        if not isinstance(customers, list) or not customers:
            raise BadRequest("customers is required and must be a non-empty array of customer objects")

        # "If set" flags: present means on, whatever the value (false, 0 and "" included).
        request = UploadRequest(
            customers=[],
            override="override" in body,
            remove="remove" in body,
            unique="unique" in body,
            international="international" in body,
        )
        if "campaign" in body:
            campaign = body["campaign"]
            key = str(campaign) if _is_text(campaign) else None
            if key is None or key not in self._campaigns:
                raise BadRequest(f"campaign {campaign!r} does not exist")
            request.campaign = key
        if "agent_name" in body:
            request.agent = self._campaign_agent(body["agent_name"], request.campaign, "agent_name")
        if "status" in body:
            status = _as_int(body["status"])
            if status not in STATUSES:
                raise BadRequest("status must be one of 1, 10, 11, 12, 18")
            request.status = status
        if request.remove and request.campaign is None:
            raise BadRequest("remove needs campaign: which campaign should the customers be removed from?")
        # The page says unique needs campaign and override "for this to take effect": without them it
        # is accepted and ignored, not refused.
        request.unique = request.unique and request.campaign is not None and request.override

        request.customers = [self._checked_customer(i, raw, request) for i, raw in enumerate(customers)]
        return request

    def _checked_customer(self, index: int, raw: Any, request: UploadRequest) -> CustomerInput:
        sent = raw.get("number") if type(raw) is dict or isinstance(raw, Mapping) else None
        try:
            customer = self._parse_customer(index, raw, request)
        except BadRequest as exc:
            return CustomerInput(number=None, fields={}, error=exc.message, sent=sent)
        if customer.number in self._refused_numbers:
            customer.number = None
        customer.sent = sent
        return customer

    def _campaign_agent(self, name: Any, campaign: str | None, where: str) -> str:
        """An agent name (or CRM name) that may serve ``campaign`` -> the agent's name."""
        if campaign is None:
            raise BadRequest(f"{where} needs campaign: an agent is assigned within a campaign")
        agent = self._agent(name, where)
        if agent not in self._campaigns[campaign]:
            raise BadRequest(f"{where}: agent {agent!r} is not assigned to campaign {campaign}")
        return agent

    def _agent(self, name: Any, where: str) -> str:
        if not isinstance(name, str) or name not in self._agents:
            raise BadRequest(f"{where}: unknown agent {name!r}")
        return self._agents[name]

    def _parse_customer(self, index: int, raw: Any, request: UploadRequest) -> CustomerInput:
        at = f"customers[{index}]"
        if type(raw) is not dict and not isinstance(raw, Mapping):
            raise BadRequest(f"{at}: must be an object")
        for key in raw:
            if key not in CUSTOMER_KEYS:
                problem = _field_problem(key)
                if problem is not None:
                    raise BadRequest(f"{at}.{key}: {problem}")

        if "number" not in raw:
            raise BadRequest(f"{at}.number: is required")
        number = raw["number"]
        if not _is_text(number):
            raise BadRequest(f"{at}.number: must be text")
        customer = CustomerInput(
            number=normalise_number(str(number), international=request.international), fields={}
        )

        for key, value in raw.items():
            if key in TEXT_FIELDS or key.startswith("custom_field_"):
                if type(value) is not str and not _is_text(value):
                    raise BadRequest(f"{at}.{key}: must be text or a number")
                customer.fields[key] = value
        if "followup_date" in raw:
            value = raw["followup_date"]
            try:
                if not isinstance(value, str):
                    raise ValueError("invalid date format")
                customer.fields["followup_at"] = parse_followup_date(value)
            except ValueError as exc:
                raise BadRequest(f"{at}.followup_date: {exc}") from None
            customer.fields["followup_date"] = value
            customer.fields["followup_type"] = CALL
        if "followup_type" in raw:
            kind = _as_int(raw["followup_type"])
            if kind not in FOLLOWUP_TYPES:
                raise BadRequest(f"{at}.followup_type: must be 1 (Call) or 2 (Reminder)")
            customer.fields["followup_type"] = kind
        for key in ("min_hour", "max_hour"):
            if key in raw:
                try:
                    if not isinstance(raw[key], str):
                        raise ValueError("unreadable hour (use 8pm, 08:16 AM or 20:48)")
                    customer.fields[key] = parse_hour(raw[key])
                except ValueError as exc:
                    raise BadRequest(f"{at}.{key}: {exc}") from None
        if "agent_name" in raw:
            customer.agent_given = True
            name = raw["agent_name"]
            if request.campaign is None:
                raise BadRequest(f"{at}.agent_name: needs campaign: an agent is assigned within a campaign")
            if not (isinstance(name, str) and name.strip().lower() == "none"):
                customer.agent = self._campaign_agent(name, request.campaign, f"{at}.agent_name")
        customer.blacklisted = "blacklisted" in raw
        customer.opportunity = self._parse_opportunity(at, raw)
        return customer

    def _parse_opportunity(self, at: str, raw: Mapping[str, Any]) -> OpportunityInput | None:
        product_fields = {k: v for k, v in raw.items() if k.startswith("product_field_")}
        if "product_id" not in raw:
            if product_fields or not OPPORTUNITY_KEYS.isdisjoint(raw):
                needing = sorted(OPPORTUNITY_KEYS & set(raw)) + sorted(product_fields)
                raise BadRequest(f"{at}.{needing[0]}: needs product_id")
            return None
        product_id = _as_int(raw["product_id"])
        if product_id is None or product_id not in self._products:
            raise BadRequest(f"{at}.product_id: unknown product {raw['product_id']!r}")
        for key, value in product_fields.items():
            if not _is_text(value):
                raise BadRequest(f"{at}.{key}: must be text or a number")
        opportunity = OpportunityInput(product_id=product_id, product_fields=product_fields)
        if "opportunity_crm_id" in raw:
            if not _is_text(raw["opportunity_crm_id"]):
                raise BadRequest(f"{at}.opportunity_crm_id: must be text or a number")
            opportunity.crm_id = str(raw["opportunity_crm_id"])
        code = None
        if "opportunity_status" in raw:
            code = _as_int(raw["opportunity_status"])
            if code not in OPPORTUNITY_STATUSES:
                raise BadRequest(f"{at}.opportunity_status: must be 2 (Purchased) or 3 (Not purchased)")
            opportunity.status = OPPORTUNITY_STATUSES[code]
            if "opportunity_agent_name" not in raw:
                raise BadRequest(f"{at}.opportunity_agent_name: is required to close an opportunity")
        if "opportunity_agent_name" in raw:
            opportunity.agent = self._agent(raw["opportunity_agent_name"], f"{at}.opportunity_agent_name")
        if "opportunity_not_purchased_reason_id" in raw:
            if code != 3:
                raise BadRequest(f"{at}.opportunity_not_purchased_reason_id: only with opportunity_status 3")
            reason = _as_int(raw["opportunity_not_purchased_reason_id"])
            if reason is None or reason not in self._reasons:
                raise BadRequest(
                    f"{at}.opportunity_not_purchased_reason_id: unknown reason "
                    f"{raw['opportunity_not_purchased_reason_id']!r}"
                )
            opportunity.not_purchased_reason_id = reason
        return opportunity

    def _apply(self, request: UploadRequest) -> UploadResult:
        created = restored = not_valid = 0
        outcomes: list[CustomerOutcome] = []
        for index, customer in enumerate(request.customers):
            number = customer.sent
            if customer.error is not None:
                outcomes.append(CustomerOutcome(index, number, REFUSED, customer.error))
                continue
            if customer.number is None:
                not_valid += 1
                outcomes.append(CustomerOutcome(index, number, NOT_VALID, "not a valid number"))
                continue
            if request.remove:
                self._remove(customer.number, request)
                outcomes.append(CustomerOutcome(index, number, EXISTING))
                continue
            was_created, was_restored = self._upsert(customer, request)
            created += was_created
            restored += was_restored
            outcome = CREATED if was_created else RESTORED if was_restored else EXISTING
            outcomes.append(CustomerOutcome(index, number, outcome))
            if customer.blacklisted:
                self._blacklist.add(customer.number)
            if customer.opportunity is not None:
                self._apply_opportunity(customer.number, customer.opportunity)
        return UploadResult(created, restored, not_valid, tuple(outcomes))

    def _remove(self, number: str, request: UploadRequest) -> None:
        # remove only removes: a number CallMarker does not hold is not created for it
        record = self._customers.get(number)
        if record is not None and request.campaign in record.campaigns:
            record.campaigns[request.campaign].removed = True

    def _upsert(self, customer: CustomerInput, request: UploadRequest) -> tuple[bool, bool]:
        """Create, restore or update one customer; (created, restored)."""
        assert customer.number is not None
        record = self._customers.get(customer.number)
        created = record is None
        restored = False
        if record is None:
            record = self._customers[customer.number] = CustomerRecord(customer.number)
        elif record.deleted:
            record.deleted = False
            restored = True
        fresh = created or restored
        if fresh or request.override:
            record.fields.update(customer.fields)
        follow_up = request.override and "followup_date" in customer.fields
        agent_given = customer.agent_given or request.agent is not None
        agent = customer.agent if customer.agent_given else request.agent

        if request.campaign is not None:
            membership = record.campaigns.get(request.campaign)
            if membership is None or membership.removed:
                restored = restored or (membership is not None and not fresh)
                membership = record.campaigns[request.campaign] = Membership(
                    status=FOLLOW_UP if follow_up else (request.status or WAITING),
                    agent=agent,
                )
            elif request.override:
                if request.status is not None:
                    membership.status = request.status
                if follow_up:
                    membership.status = FOLLOW_UP
                if agent_given:
                    membership.agent = agent
            if request.unique:
                for campaign, other in record.campaigns.items():
                    if campaign != request.campaign:
                        other.removed = True
        else:
            # Without campaign, status applies to every campaign the customer is in (page: "when
            # campaign is not set updates all statuses in all campaigns"), with or without override.
            for membership in record.campaigns.values():
                if membership.removed:
                    continue
                if request.status is not None:
                    membership.status = request.status
                if follow_up:
                    membership.status = FOLLOW_UP
        return created, restored

    def _apply_opportunity(self, number: str, given: OpportunityInput) -> None:
        same = self._opportunities_of.setdefault((number, given.product_id), [])
        current = next((o for o in same if o.status == OPEN), None)
        if current is None:
            if given.status is not None and same and _repeats_closing(same[-1], given):
                return  # this opportunity was closed just so already: sending it again changes nothing
            current = Opportunity(number=number, product_id=given.product_id)
            self._opportunities.append(current)
            same.append(current)
        if given.crm_id is not None:
            current.crm_id = given.crm_id
        current.product_fields.update(given.product_fields)
        if given.agent is not None:
            current.agent = given.agent
        if given.status is not None:
            current.status = given.status
            current.not_purchased_reason_id = given.not_purchased_reason_id


def _repeats_closing(closed: Opportunity, given: OpportunityInput) -> bool:
    return (
        closed.status == given.status
        and closed.agent == given.agent
        and closed.not_purchased_reason_id == given.not_purchased_reason_id
        and (given.crm_id is None or closed.crm_id == given.crm_id)
        and all(closed.product_fields.get(k) == v for k, v in given.product_fields.items())
    )


_STATE_KEYS = frozenset({"campaigns", "agents", "removed_from", "deleted"})


def _record_to_state(record: CustomerRecord) -> dict[str, Any]:
    active = {c: m for c, m in record.campaigns.items() if not m.removed and not record.deleted}
    return {
        **record.fields,
        "campaigns": {c: m.status for c, m in active.items()},
        "agents": {c: m.agent for c, m in active.items() if m.agent is not None},
        "removed_from": sorted(c for c in record.campaigns if c not in active),
        "deleted": record.deleted,
    }


def _record_from_state(number: str, data: Mapping[str, Any]) -> CustomerRecord:
    agents = data.get("agents", {})
    record = CustomerRecord(
        number=number,
        fields={k: v for k, v in data.items() if k not in _STATE_KEYS},
        deleted=bool(data.get("deleted", False)),
    )
    for campaign, status in data.get("campaigns", {}).items():
        record.campaigns[str(campaign)] = Membership(
            status=int(status), agent=agents.get(campaign), removed=record.deleted
        )
    for campaign in data.get("removed_from", ()):
        record.campaigns[str(campaign)] = Membership(removed=True)
    return record
