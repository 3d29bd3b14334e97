"""The values that travel along the job: sheet rows -> customers -> batches -> results.

Pure data, no I/O. Every other module speaks in these types.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

#: One customer as CallMarker's JSON wants it: field name -> value (already validated and formatted).
Customer = dict[str, Any]


@dataclass(frozen=True, slots=True)
class RequestOptions:
    """The request-level options of one CallMarker call. Rows with equal options share requests.

    Flags are "if set" in CallMarker's API: a flag that is off is left out of the JSON, never sent as
    ``false`` (see spec/CALLMARKER.md).
    """

    campaign: str | None = None
    agent_name: str | None = None
    status: int | None = None
    override: bool = False
    remove: bool = False
    unique: bool = False
    international: bool = False
    #: Worked out once: every row's options are a key, for repeats and for batches.
    _hash: int = field(default=0, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        fields = (self.campaign, self.agent_name, self.status, self.override, self.remove, self.unique)
        object.__setattr__(self, "_hash", hash((*fields, self.international)))

    def __hash__(self) -> int:
        return self._hash

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {}
        if self.campaign is not None:
            body["campaign"] = self.campaign
        if self.agent_name is not None:
            body["agent_name"] = self.agent_name
        if self.status is not None:
            body["status"] = self.status
        for flag in ("override", "remove", "unique", "international"):
            if getattr(self, flag):
                body[flag] = True
        return body


@dataclass(frozen=True, slots=True)
class RowError:
    """One thing wrong with one row. ``column`` is the header as the user wrote it (None: the whole row)."""

    row: int
    column: str | None
    message: str


@dataclass(frozen=True, slots=True)
class UploadItem:
    """A valid row, ready to send: its sheet row number, its request options and its customer object."""

    row: int
    options: RequestOptions
    customer: Customer


class Outcome(StrEnum):
    """What finally happened to a row. UPLOADED and REMOVED mean CallMarker confirmed that row: a count of
    refusals that reads zero for it, or a list of refusals (or of results) that does not name it."""

    UPLOADED = "uploaded"
    REJECTED = "rejected"  # CallMarker refused it; the message is CallMarker's, about this row
    INVALID = "invalid"  # we refused it before sending; the message is ours
    FAILED = "failed"  # not confirmed (network, 5xx, timeout, unreadable answer, unsettled): safe to retry
    # CallMarker took the request (success: true) but neither counted nor listed its refusals: most
    # likely uploaded, not confirmed row by row. Left alone by "Upload all pending rows".
    SENT = "sent"
    SKIPPED = "skipped"  # pending mode: already uploaded and unchanged
    VALID = "valid"  # the check action: nothing wrong found, nothing sent
    REMOVED = "removed"  # the remove action: CallMarker said success: true for the removal


@dataclass(frozen=True, slots=True)
class RowResult:
    """The outcome of one row, with a message a person can act on."""

    row: int
    outcome: Outcome
    message: str
    errors: tuple[RowError, ...] = field(default=())
