"""Test controls of the emulator: latency per call, a per-minute quota, injected failures, call counts
and a log of when each call arrived and was answered.

Kept apart from the spreadsheets themselves; the clock is injectable so quota tests never sleep. The log
is kept on ``time.monotonic()`` whatever the clock: it is compared with the clocks of other processes
(the benchmark's), which share the machine's monotonic clock.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, deque
from collections.abc import Callable

from .exceptions import ApiError, quota_exceeded, server_error

# Which quota bucket each API call draws from (Drive calls are not Sheets quota).
READ_CALLS = frozenset({"spreadsheets.get", "values.get", "values.batchGet", "values.batchGetByDataFilter"})
WRITE_CALLS = frozenset(
    {
        "spreadsheets.create",
        "spreadsheets.batchUpdate",
        "values.update",
        "values.batchUpdate",
        "values.append",
        "values.clear",
        "values.batchClear",
    }
)
QUOTA_WINDOW = 60.0


class Controls:
    """Admission of each API call: count it, then fail it if a storm or the quota says so."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.latency = 0.0
            self.read_limit: int | None = None
            self.write_limit: int | None = None
            self.retry_after: float | None = None
            self._storm: deque[int] = deque()
            self._reads: deque[float] = deque()
            self._writes: deque[float] = deque()
            self._calls: Counter[str] = Counter()
            self._log: list[dict[str, object]] = []

    # -- settings

    def set_latency(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("latency must be >= 0")
        self.latency = float(seconds)

    def set_quota(
        self,
        *,
        reads_per_minute: int | None = None,
        writes_per_minute: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        """Limit admitted reads and writes per rolling minute; None lifts a limit."""
        with self._lock:
            self.read_limit = reads_per_minute
            self.write_limit = writes_per_minute
            self.retry_after = retry_after
            self._reads.clear()
            self._writes.clear()

    def inject_errors(self, codes: list[int]) -> None:
        """The next len(codes) API calls answer with these codes (429, 500 or 503), in order."""
        for code in codes:
            if code not in (429, 500, 503):
                raise ValueError(f"can inject 429, 500 or 503, not {code}")
        with self._lock:
            self._storm.extend(codes)

    # -- inspection

    def calls(self) -> dict[str, int]:
        with self._lock:
            return dict(self._calls)

    def reset_calls(self) -> None:
        """Forget the calls counted and logged so far."""
        with self._lock:
            self._calls.clear()
            self._log.clear()

    def call_log(self) -> list[dict[str, object]]:
        """Every call since the last reset, in the order answered: kind, arrived, answered, status."""
        with self._lock:
            return list(self._log)

    def record(self, kind: str, arrived: float, answered: float, status: int) -> None:
        """Log one call: when it arrived (before its latency) and when its answer was ready."""
        with self._lock:
            self._log.append({"kind": kind, "arrived": arrived, "answered": answered, "status": status})

    # -- admission

    def admit(self, kind: str) -> None:
        """Count a call of this kind; raise the ApiError it must answer with, if any."""
        with self._lock:
            self._calls[kind] += 1
            bucket = "Read" if kind in READ_CALLS else "Write" if kind in WRITE_CALLS else None
            if self._storm:
                code = self._storm.popleft()
                if code == 429:
                    raise quota_exceeded(bucket or "Write", self.retry_after)
                raise server_error(code)
            if bucket is None:
                return
            limit = self.read_limit if bucket == "Read" else self.write_limit
            if limit is None:
                return
            window = self._reads if bucket == "Read" else self._writes
            now = self.clock()
            while window and window[0] <= now - QUOTA_WINDOW:
                window.popleft()
            if len(window) >= limit:
                raise quota_exceeded(bucket, self.retry_after)
            window.append(now)


__all__ = ["READ_CALLS", "WRITE_CALLS", "ApiError", "Controls"]
