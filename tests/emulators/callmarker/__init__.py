"""An in-process stand-in for CallMarker's customers API, with controls and faults for tests.

``create_app(**settings)`` returns a new WSGI app with empty state; ``python -m
tests.emulators.callmarker --port N`` serves one on 127.0.0.1.
"""

from __future__ import annotations

from typing import Any

from tests.emulators.callmarker.app import CallMarkerEmulator, DroppedConnection
from tests.emulators.callmarker.models import CallMarkerBackend, normalise_number

__all__ = ["CallMarkerBackend", "CallMarkerEmulator", "DroppedConnection", "create_app", "normalise_number"]


def create_app(**settings: Any) -> CallMarkerEmulator:
    """A new emulator. Settings: the seed keys (tokens, campaigns, agents, products,
    not_purchased_reasons, customers), the fault keys (latency, rate_429, max_batch, next, ...) and
    ``error_status`` (the HTTP status of ``success: false`` answers; 200 unless told)."""
    return CallMarkerEmulator(**settings)
