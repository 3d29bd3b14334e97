"""When a request's time began: its arrival, or, for a request that waited while the process started
(a cold start), the process's start. The step's time budget counts from there."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

__all__ = ["READY_WINDOW_S", "Arrivals", "process_started"]

#: A first request that reaches the function within this long of it being ready was waiting for it
#: to start; one that comes later found it idle, and its time begins when it arrives.
READY_WINDOW_S = 2.0


def process_started(*, proc: Path = Path("/proc"), clock: Callable[[], float] = time.monotonic) -> float:
    """The ``clock()`` time at which this process started, from Linux's ``/proc`` (the process's start
    in clock ticks since boot, and the time since boot); the time of the call where that cannot be read.
    """
    now = clock()
    try:
        # Field 22 of /proc/self/stat; the name in field 2 may hold spaces, so count after its ")".
        after_name = (proc / "self" / "stat").read_text().rsplit(")", 1)[1].split()
        started_ticks = int(after_name[19])
        since_boot = float((proc / "uptime").read_text().split()[0])
        age = since_boot - started_ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return now
    return now - max(0.0, age)


class Arrivals:
    """Hands each request the time it began. Created when the function is ready to serve.

    ``started`` is when the process started, or None where a process does not start for its first
    request (off Cloud Run: a test, the demo, a server started by hand): every request then begins
    when it arrives.
    """

    def __init__(
        self,
        started: float | None,
        *,
        clock: Callable[[], float] = time.monotonic,
        window: float = READY_WINDOW_S,
    ) -> None:
        self._clock = clock
        self._ready = clock()
        self._started = self._ready if started is None else started
        self._window = window
        self._first = True
        self._lock = threading.Lock()

    @property
    def cold_start_s(self) -> float:
        """How long the process took to be ready."""
        return max(0.0, self._ready - self._started)

    def arrival(self) -> float:
        now = self._clock()
        with self._lock:
            first, self._first = self._first, False
        if first and now - self._ready <= self._window:
            return min(now, self._started)
        return now
