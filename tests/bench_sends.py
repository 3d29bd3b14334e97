"""How many times each customer reaches CallMarker: the real client against the emulator, in-process.

``sends_per_customer()`` runs the two scenarios and returns, for each, the mean and the most requests
that carried one customer, counted from what the emulator received, every attempt included (and, as
``processed_mean``, leaving out the requests answered 429 or 503 before CallMarker read them):

- ``refused_1pct``: 10,000 rows, 1% of them refused by CallMarker, no faults, CallMarker listing the
  customers it refused; ``refused_1pct_counted`` and ``refused_1pct_errors`` are the same rows when
  CallMarker only counts its refusals ("... and 100 were not valid", the documented shape), and when
  it refuses each request naming its first bad customer (``customers[3].agent_name: ...``);
- ``faults_20pct``: 10,000 rows, a fifth of the requests failing in mixed ways (429, 500, 503, a
  proxy's 502 page, a truncated body, a dropped connection, a hang), each row sent again while it
  ends ``failed``, as "Retry failed rows" would, until every row is settled; ten runs with other
  draws of the faults, added up (one run is only 20 batches).

``python -m tests.bench_sends`` prints them.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import Counter
from typing import Any

from callmarker_sheets.callmarker import CallMarkerClient
from callmarker_sheets.model import Outcome, RequestOptions, UploadItem
from callmarker_sheets.retry import RetryPolicy
from tests.emulators.callmarker import CallMarkerEmulator, create_app
from tests.emulators.callmarker.faults import BEFORE_APPLY
from tests.emulators.callmarker.transport import AsyncEmulatorTransport

TOKEN = "bench-sends-token-5e2d"
ROWS = 10_000
BATCH = 500
CONCURRENCY = 4
CAMPAIGN = RequestOptions(campaign="11")
AGENT, UNKNOWN_AGENT = "Dana Levi", "Moshe Nobody"
#: The fault mix of the engine's test: a fifth of the requests fail.
FAULTS_20PCT = {
    "rate_429": 0.04,
    "rate_500": 0.04,
    "rate_503": 0.04,
    "rate_502_html": 0.03,
    "rate_malformed": 0.02,
    "rate_drop": 0.02,
    "rate_hang": 0.01,
}
LISTED = {"listing": "objects", "list_key": "invalid"}
MAX_PASSES = 8
FAULT_SEEDS = range(10)


def number(row: int) -> str:
    return f"0547{row:06d}"


def _items(refused: set[int], *, by_agent: bool) -> list[UploadItem]:
    def customer(row: int) -> dict[str, Any]:
        agent = UNKNOWN_AGENT if by_agent and row in refused else AGENT
        return {"number": number(row), "name": f"Lead {row}", "agent_name": agent}

    return [UploadItem(row, CAMPAIGN, customer(row)) for row in range(2, ROWS + 2)]


def _run(app: CallMarkerEmulator, items: list[UploadItem], *, timeout: float = 30.0) -> dict[str, Any]:
    """Upload ``items``, then the rows that ended failed again, until none is left; what it took."""
    client = CallMarkerClient(
        "http://callmarker.bench/api/v1",
        TOKEN,
        timeout=timeout,
        batch_size=BATCH,
        concurrency=CONCURRENCY,
        retry=RetryPolicy(max_attempts=3, base_delay=0.001, max_delay=0.004),
        transport=AsyncEmulatorTransport(app),
    )
    pending = items
    outcomes: Counter[str] = Counter()
    for _ in range(MAX_PASSES):
        report = asyncio.run(client.upload(pending))
        again = {r.row for r in report.results if r.outcome is Outcome.FAILED} | {
            i.row for i in report.unsent
        }
        outcomes.update(r.outcome.value for r in report.results if r.row not in again)
        pending = [item for item in pending if item.row in again]
        if not pending:
            break
    outcomes["failed"] += len(pending)
    app.close()
    return {"requests": app.requests, "outcomes": outcomes}


def _figures(runs: list[dict[str, Any]]) -> dict[str, Any]:
    sends: Counter[tuple[int, str]] = Counter()
    processed: Counter[tuple[int, str]] = Counter()
    outcomes: Counter[str] = Counter()
    for run, result in enumerate(runs):
        outcomes.update(result["outcomes"])
        for request in result["requests"]:
            numbers = [(run, c["number"]) for c in request["body"]["customers"]]
            sends.update(numbers)
            if request["fault"] not in BEFORE_APPLY:
                processed.update(numbers)
    return {
        "mean": round(sum(sends.values()) / len(sends), 4),
        "max": max(sends.values()),
        "processed_mean": round(sum(processed.values()) / len(sends), 4),
        "requests": sum(len(result["requests"]) for result in runs),
        "outcomes": dict(outcomes),
    }


def _account(**settings: Any) -> CallMarkerEmulator:
    return create_app(tokens=[TOKEN], campaigns={"11": [AGENT]}, **settings)


def refused_1pct(answers: dict[str, Any] | None, *, by_agent: bool = False) -> dict[str, Any]:
    """1% of the rows refused by CallMarker (every hundredth), no faults."""
    refused = set(range(2, ROWS + 2, 100))
    numbers = [] if by_agent else [number(row) for row in refused]
    app = _account(refused_numbers=numbers, answers=answers)
    return _figures([_run(app, _items(refused, by_agent=by_agent))])


def faults_20pct() -> dict[str, Any]:
    """A fifth of the requests failing in mixed ways, nothing refused; failed rows sent again."""
    runs = []
    for seed in FAULT_SEEDS:
        app = _account(retry_after=0, hang_seconds=1.0, **FAULTS_20PCT)
        app.configure(seed=seed)
        runs.append(_run(app, _items(set(), by_agent=False), timeout=0.5))
    return _figures(runs)


def sends_per_customer() -> dict[str, dict[str, Any]]:
    """Mean and most sends per customer in each scenario (see the module's docstring)."""
    # The client warns of every fault it meets; here the faults are the scenario, not news.
    client_log = logging.getLogger("callmarker_sheets")
    level = client_log.level
    client_log.setLevel(logging.ERROR)
    try:
        return {
            "refused_1pct": refused_1pct(LISTED),
            "refused_1pct_counted": refused_1pct(None),
            "refused_1pct_errors": refused_1pct(None, by_agent=True),
            "faults_20pct": faults_20pct(),
        }
    finally:
        client_log.setLevel(level)


if __name__ == "__main__":
    figures = sends_per_customer()
    for name, one in figures.items():
        print(
            f"{name}: mean {one['mean']:.3f}, max {one['max']} sends per customer "
            f"({one['processed_mean']:.3f} read by CallMarker) in {one['requests']} requests"
        )
    print(json.dumps(figures, separators=(",", ":")))
