"""The pre-flight preview: what a job would do, read-only. It reads, plans and validates exactly as a
step would, writes nothing and sends nothing (it has no CallMarker client at all), and answers in the
request's language what the add-in's pre-flight card shows."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from callmarker_sheets.fields import STATUS_VALUES, HeaderMap, display_header
from callmarker_sheets.i18n import W_, Translator
from callmarker_sheets.job import MAX_ERRORS, Job, Progress
from callmarker_sheets.upload import (
    StepContext,
    StepRead,
    answer_errors,
    checked_rows,
    invalid_result,
    narrowed,
    plan_step,
    read_step,
)
from callmarker_sheets.validate import JobOptions, country_name, field_label

__all__ = ["Preview", "run_preview"]


@dataclass(frozen=True, slots=True)
class Preview:
    """What a job would do; ``to_json`` is what the add-in's card reads."""

    action: str
    total_rows: int
    to_send: int
    invalid: int
    skipped: int
    left_for_later: int
    columns: tuple[Mapping[str, str], ...]
    unmapped_columns: tuple[str, ...]
    options: tuple[Mapping[str, Any], ...]
    errors: tuple[Mapping[str, Any], ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "preview": {
                "action": self.action,
                "total_rows": self.total_rows,
                "to_send": self.to_send,
                "invalid": self.invalid,
                "skipped": self.skipped,
                "left_for_later": self.left_for_later,
                "columns": [dict(c) for c in self.columns],
                "unmapped_columns": list(self.unmapped_columns),
                "options": [dict(o) for o in self.options],
                "errors": [dict(e) for e in self.errors],
            }
        }


def run_preview(job: Job, ctx: StepContext, t: Translator) -> Preview:
    """Read, plan and validate the job's rows as its first step would; count what it would send."""
    read = read_step(job, ctx, t)
    plan = plan_step(job, read, Progress.decode(None, job), first_step=True, max_rows=ctx.max_rows)
    read = narrowed(read, plan)
    to_send = invalid = 0
    errors: list[dict[str, Any]] = []
    for row, verdict in checked_rows(read, plan, t):
        if isinstance(verdict, list):
            invalid += 1
            if len(errors) < MAX_ERRORS:
                errors += answer_errors(invalid_result(row.number, verdict, t))[: MAX_ERRORS - len(errors)]
        else:
            to_send += 1
    return Preview(
        action=job.action,
        total_rows=plan.job_size,
        to_send=to_send,
        invalid=invalid,
        skipped=plan.skipped,
        left_for_later=plan.left_for_later,
        columns=_columns(read.headers, t),
        unmapped_columns=read.headers.unmapped,
        options=_options(job, read, t),
        errors=tuple(errors),
    )


def _columns(headers: HeaderMap, t: Translator) -> tuple[Mapping[str, str], ...]:
    """Each column the job sends, in the sheet's order, with the CallMarker field it fills."""
    return tuple(
        {"column": display_header(headers.headers[index]), "field": name, "label": field_label(name, t)}
        for index, name in sorted(headers.columns.items())
    )


def _options(job: Job, read: StepRead, t: Translator) -> tuple[Mapping[str, Any], ...]:
    """The request's options as the card shows them, in words; the region numbers are read in always."""
    options: JobOptions = read.options
    shown: list[Mapping[str, Any]] = []

    def add(name: str, label: str, value: Any, text: str) -> None:
        shown.append({"name": name, "label": label, "value": value, "text": text})

    yes, no = t.word("Yes"), t.word("No")
    if options.campaign:
        add("campaign", t.word("Campaign"), options.campaign, options.campaign)
    if options.agent_name:
        add("agent_name", t.word("Agent"), options.agent_name, options.agent_name)
    if options.status is not None and options.status in STATUS_VALUES:
        add("status", t.word("Status"), options.status, t.word(STATUS_VALUES[options.status][0]))
    for name, label in (
        ("override", W_("Update existing customers")),
        ("unique", W_("Remove them from all other campaigns")),
        ("international", W_("Numbers are international")),
    ):
        if name in job.options:
            value = bool(getattr(options, name))
            add(name, t.word(label), value, yes if value else no)
    region = options.default_region
    add(
        "default_region",
        t.word("Default phone region"),
        region,
        t("{=country} ({region})", country=country_name(region, t), region=region),
    )
    return tuple(shown)
