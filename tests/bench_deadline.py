"""The step deadline under stress, and the cold start, measured against the local stack.

``measure_cold_start()``: how long the served function takes to start (its imports and the server), and
its first request after that. ``deadline_scenario()``: the function's process takes ``cold_start_s`` to
start while the add-in's request waits, and Google Sheets answers 429 three times, at the start of the
step (``where="read"``) or at its end (``where="write"``); the figure is the latest answer of any step,
counted from when that step was called. Apps Script gives up after about 60 s; the goal is 55 s.

``python -m tests.bench_deadline`` prints both scenarios (about two minutes), and a JSON line last.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from tests.bench_function import FunctionProcess
from tests.rowgen import make_rows, sheet_of
from tests.stack import CAMPAIGN, Stack, local_stack

#: Google's answer to one request over its quota (the emulator's own wording).
_QUOTA_BODY = {
    "error": {
        "code": 429,
        "message": "Quota exceeded for quota metric 'Write requests' and limit 'Write requests per minute "
        "per user'",
        "status": "RESOURCE_EXHAUSTED",
    }
}


class _WriteStorm:
    """WSGI middleware: the first ``count`` values:batchUpdate requests are answered 429."""

    def __init__(self, app: Callable[..., Any], count: int, retry_after: float | None) -> None:
        self.app = app
        self.left = count
        self.retry_after = retry_after
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        uri = environ.get("REQUEST_URI") or environ.get("PATH_INFO", "")
        if environ["REQUEST_METHOD"] == "POST" and uri.split("?")[0].endswith("/values:batchUpdate"):
            with self._lock:
                storm, self.left = self.left > 0, self.left - 1
            if storm:
                headers = [("Content-Type", "application/json; charset=UTF-8")]
                if self.retry_after is not None:
                    headers.append(("Retry-After", str(int(self.retry_after))))
                start_response("429 Too Many Requests", headers)
                return [json.dumps(_QUOTA_BODY).encode()]
        return self.app(environ, start_response)


def measure_cold_start(*, rows: int = 200, procs: Path | None = None) -> dict[str, float]:
    """Seconds from launching the function's process until it serves (Python, the imports, the server),
    and its first request after that (a job of ``rows`` rows, one step). With ``procs`` (a cgroup's
    ``cgroup.procs``) the function's process joins that cgroup before it imports anything."""
    with local_stack() as stack:
        body = _job(stack, rows)
        launched = time.monotonic()
        function = None
        if procs is None:
            stack.start_function(process=True)
        else:
            function = FunctionProcess(stack.env(), procs=procs)
            stack.function_url = function.url
        ready = time.monotonic()
        try:
            response = stack.call(body)
            answered = time.monotonic()
        finally:
            if function is not None:
                function.close()
        if response.status_code != 200:
            raise RuntimeError(f"the first request answered {response.status_code}: {response.text[:300]}")
    return {"start_s": round(ready - launched, 3), "first_request_s": round(answered - ready, 3)}


def deadline_scenario(
    *,
    cold_start_s: float = 10.0,
    storm: int = 3,
    where: str = "read",
    retry_after: float | None = 30.0,
    rows: int = 3000,
    callmarker_latency_s: float = 4.0,
    budget_s: float | None = None,
) -> dict[str, Any]:
    """Run one job whose first step meets a cold start and ``storm`` 429 answers from Sheets; return
    every step's answer time (from when it was called), the latest, and how each step ended."""
    if where not in ("read", "write"):
        raise ValueError("where is read or write")
    # K_REVISION as Cloud Run sets it: there the first request of an instance counts from its start.
    env = {"K_REVISION": "callmarker-upload-00001-bench"}
    if budget_s is not None:
        env["TIME_BUDGET_S"] = str(budget_s)
    with local_stack(callmarker_settings={"latency": callmarker_latency_s}, function_env=env) as stack:
        body = _job(stack, rows)
        backend = stack.sheets_app.backend
        if where == "read":
            backend.set_quota(retry_after=retry_after)
            backend.inject_errors([429] * storm)
        else:
            stack.google_requests.app = _WriteStorm(stack.google_requests.app, storm, retry_after)
        steps: list[dict[str, Any]] = []
        cursor = None
        called = time.monotonic()  # the add-in calls; its request waits while the instance starts
        stack.start_function(process=True, cold_start_s=cold_start_s)
        for _ in range(100):
            response = stack.call({**body, **({"cursor": cursor} if cursor else {})})
            answered = time.monotonic()
            answer = response.json()
            steps.append(
                {
                    "answer_s": round(answered - called, 3),
                    "status": response.status_code,
                    "done": answer.get("done"),
                    "processed_rows": answer.get("processed_rows"),
                    "error": (answer.get("error") or {}).get("status"),
                }
            )
            if response.status_code != 200 or answer["done"]:
                break
            cursor = answer["cursor"]
            called = time.monotonic()
    return {
        "cold_start_s": cold_start_s,
        "storm": storm,
        "where": where,
        "retry_after_s": retry_after,
        "steps": steps,
        "latest_answer_s": max(step["answer_s"] for step in steps),
    }


def _job(stack: Stack, rows: int) -> dict[str, Any]:
    _, generated, _ = make_rows(rows, invalid_share=0.02, seed=5)
    spreadsheet_id, gid = stack.new_spreadsheet(sheet_of(generated))
    return {
        "spreadsheet_id": spreadsheet_id,
        "sheet_id": gid,
        "rows": [[2, rows + 1]],
        "options": {"campaign": CAMPAIGN, "batch_size": 100},
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench_deadline", description=__doc__)
    parser.add_argument("--cold-start", type=float, default=10.0, help="seconds the instance takes to start")
    parser.add_argument("--retry-after", type=float, default=30.0, help="Retry-After of Sheets' 429s")
    args = parser.parse_args(argv)
    cold = measure_cold_start()
    print(
        f"cold start: the function serves {cold['start_s']:.2f} s after launch; "
        f"first request {cold['first_request_s']:.2f} s"
    )
    results = []
    for where in ("read", "write"):
        result = deadline_scenario(cold_start_s=args.cold_start, where=where, retry_after=args.retry_after)
        results.append(result)
        answers = ", ".join(f"{s['answer_s']:.1f} s ({s['status']})" for s in result["steps"])
        print(
            f"{args.cold_start:g} s cold start, Sheets 429 x3 at the {where}: "
            f"latest answer {result['latest_answer_s']:.1f} s; steps: {answers}"
        )
    print(json.dumps({"cold_start": cold, "scenarios": results}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
