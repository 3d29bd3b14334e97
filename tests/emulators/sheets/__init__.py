"""An in-memory Google Sheets v4 and Drive v3 emulator for tests, demos and benchmarks.

`create_app()` gives a new WSGI app with empty state; `app.backend` is its `SheetsBackend`.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from .exceptions import ApiError
from .models import SheetsBackend
from .responses import SheetsApp


def create_app(
    *, clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep
) -> SheetsApp:
    """A new emulator app. `clock` drives the quota window and `sleep` spends latency (both injectable)."""
    return SheetsApp(SheetsBackend(clock=clock), sleep=sleep)


__all__ = ["ApiError", "SheetsApp", "SheetsBackend", "create_app"]
