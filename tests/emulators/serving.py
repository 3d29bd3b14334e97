"""What the emulators served as processes of their own (``python -m tests.emulators.<name>``) share."""

from __future__ import annotations

import gc

#: Allocations of container objects between two collections of the youngest (Python's default: 700).
YOUNG_COLLECTION_EVERY = 100_000


def collect_garbage_less_often() -> None:
    """Run the garbage collector less often than Python's default, in an emulator's own process.

    An emulator holds its state for its whole life: a sheet's 100,000 rows, CallMarker's customers and
    its log of requests, hundreds of thousands of objects. A large answer is made of as many short-lived
    lists again, and with the default thresholds enough of them outlive a few young collections to set
    off full ones, each walking every object held: the collector then took more CPU than the answers
    themselves. With young collections this far apart, an answer's objects are gone before they are
    ever looked at again, and full collections are rare. Nothing the emulator answers changes.
    """
    gc.set_threshold(YOUNG_COLLECTION_EVERY, 20, 10)
