"""The benchmark's arithmetic, apart from any measuring: the floor of a step, the naive way, the bounds.

The floor of one step ("How fast is fast" in the design) is the time its waits alone would take:
each Sheets call that has to wait for the one before it costs one round trip S (calls made at the same
time, such as the two renders read at once, cost one), and CallMarker's requests cost whole rounds of C
requests at once, each round as long as its largest request (L plus the time per customer): no step
can take less, whatever the function's CPU.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

#: Google's per-user write quota for the Sheets API: a script writing one cell a request waits for it.
WRITES_PER_MINUTE = 60


@dataclass(frozen=True)
class Latency:
    """What the emulators are slowed to: one Sheets call; one CallMarker request, and per customer."""

    sheets_s: float = 0.15
    request_s: float = 0.2
    per_customer_s: float = 0.0001

    def request(self, customers: int) -> float:
        return self.request_s + self.per_customer_s * customers


def sheets_round_trips(calls: Iterable[tuple[float, float]]) -> int:
    """How many Sheets calls ran one after another: calls (arrived, answered) that overlap count once."""
    trips = 0
    busy_until = -math.inf
    for arrived, answered in sorted(calls):
        if arrived >= busy_until:
            trips += 1
            busy_until = answered
        else:
            busy_until = max(busy_until, answered)
    return trips


def callmarker_rounds(customers: int, batch: int, concurrency: int) -> int:
    """Whole rounds of requests: ``ceil(ceil(N/B)/C)``."""
    return math.ceil(math.ceil(customers / batch) / concurrency)


def callmarker_floor_s(customers: int, batch: int, concurrency: int, latency: Latency) -> float:
    """Rounds of C requests at once, each round as long as its largest request."""
    if customers <= 0:
        return 0.0
    batches = math.ceil(customers / batch)
    rounds = callmarker_rounds(customers, batch, concurrency)
    in_last_round = batches - (rounds - 1) * concurrency
    last_batch = customers - (batches - 1) * batch
    # a last round of several requests holds a full batch; a last round of one holds only the last batch
    last = latency.request(batch if in_last_round > 1 else last_batch)
    return (rounds - 1) * latency.request(batch) + last


def step_floor_s(
    round_trips: int, customers: int, *, batch: int, concurrency: int, latency: Latency
) -> float:
    """The floor of one step: its Sheets round trips and its rounds of CallMarker requests."""
    return round_trips * latency.sheets_s + callmarker_floor_s(customers, batch, concurrency, latency)


def steps_allowed(work_s: float, budget_s: float) -> int:
    """The most steps a job whose waits alone take ``work_s`` should need: ``ceil(work / budget) + 1``."""
    return math.ceil(work_s / budget_s) + 1


def naive_total_s(
    rows: int, per_row_s: float, writes_per_minute: int = WRITES_PER_MINUTE
) -> tuple[float, str]:
    """A script's time for ``rows`` rows, one request and one cell write each: what its sample took a
    row, but never less than the write quota allows (``rows / writes_per_minute`` minutes); and which
    bound applied ("measured" or "write quota")."""
    measured = rows * per_row_s
    quota = rows / writes_per_minute * 60.0
    return (quota, "write quota") if quota > measured else (measured, "measured")
