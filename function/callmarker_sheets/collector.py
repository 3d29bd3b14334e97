"""The cyclic garbage collector, kept out of a step.

A step makes a few hundred thousand objects (rows, cells, customers) that reference counting frees as
soon as the step lets them go; almost none of them is part of a cycle. With its default thresholds the
cyclic collector walks them hundreds of times a step (a full collection walks every object alive), for
a quarter of the step's CPU. So the objects made by importing the function are frozen once (never
looked at again), the collector rests while a step runs, and it collects once after the step's answer
has been sent, when the step's objects are gone and there is little left to walk.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["collect", "freeze_imports", "paused"]

_lock = threading.Lock()
_running = 0


def freeze_imports() -> None:
    """Move every object alive now (modules, classes, catalogs) out of the collector's sight for good.

    Called once, at the end of the entry point's import: before gunicorn forks, so they also stay
    shared with the worker instead of being copied when the collector would touch them."""
    gc.collect()
    gc.freeze()


@contextmanager
def paused() -> Iterator[None]:
    """No automatic collection while any step runs (steps of one instance may run at once)."""
    global _running  # noqa: PLW0603 - one count for the process, as the collector is one
    with _lock:
        _running += 1
        if _running == 1:
            gc.disable()
    try:
        yield
    finally:
        with _lock:
            _running -= 1
            if _running == 0:
                gc.enable()


def collect() -> None:
    """One collection of what the steps left in cycles (a few of asyncio's and of exceptions')."""
    with _lock:
        if _running:
            return  # another step is running: it collects when it ends
    gc.collect()
