"""What goes wrong, and when: the emulator's latency, seeded random faults and a queue of scripted ones.

Faults named in BEFORE_APPLY answer before the customers are applied; every other fault happens after
they were applied, the worst case for a client that retries.
"""

from __future__ import annotations

import random
import threading
from collections import deque
from dataclasses import asdict, dataclass, fields
from typing import Any

#: Fault names, in the order the random draw tries them. "ok" in a script means "answer normally".
FAULTS = ("429", "503", "500", "502_html", "malformed", "html_200", "empty_200", "hang", "drop")
BEFORE_APPLY = frozenset({"429", "503"})
OK = "ok"
_ALIASES = {"502": "502_html"}


@dataclass(slots=True)
class FaultSettings:
    latency: float = 0.0
    latency_per_customer: float = 0.0
    rate_429: float = 0.0
    retry_after: float | None = 1
    rate_503: float = 0.0
    rate_500: float = 0.0
    rate_502_html: float = 0.0
    rate_malformed: float = 0.0
    rate_html_200: float = 0.0
    rate_empty_200: float = 0.0
    rate_hang: float = 0.0
    hang_seconds: float = 5.0
    rate_drop: float = 0.0
    max_batch: int | None = None
    seed: int | None = None

    def rate(self, fault: str) -> float:
        return float(getattr(self, f"rate_{fault}"))


SETTING_NAMES = frozenset(f.name for f in fields(FaultSettings)) | {"next"}


class Faults:
    """Thread-safe: ``draw()`` is called by concurrent requests."""

    def __init__(self, **settings: Any) -> None:
        self._lock = threading.Lock()
        self._settings = FaultSettings()
        self._next: deque[str] = deque()
        self._random = random.Random()
        self.configure(**settings)

    def configure(self, **settings: Any) -> None:
        """Change the given settings, keep the others. ``next`` replaces the script; ``seed`` reseeds."""
        unknown = sorted(set(settings) - SETTING_NAMES)
        if unknown:
            raise ValueError(f"unknown fault setting: {unknown[0]}")
        has_script = "next" in settings
        script = [self._fault_name(item) for item in settings.pop("next", None) or ()]
        with self._lock:
            candidate = FaultSettings(**{**asdict(self._settings), **settings})
            _check(candidate)
            self._settings = candidate
            if has_script:
                self._next = deque(script)
            if "seed" in settings:
                self._random.seed(candidate.seed)

    def reset(self) -> None:
        with self._lock:
            self._settings = FaultSettings()
            self._next.clear()
            self._random.seed(None)

    @property
    def settings(self) -> FaultSettings:
        with self._lock:
            return FaultSettings(**asdict(self._settings))

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {**asdict(self._settings), "next": list(self._next)}

    def draw(self) -> str | None:
        """The fault for the request now arriving: the script first, then the seeded dice; None: none."""
        with self._lock:
            if self._next:
                fault = self._next.popleft()
                return None if fault == OK else fault
            rates = [(fault, self._settings.rate(fault)) for fault in FAULTS]
            if not any(rate for _, rate in rates):
                return None
            roll = self._random.random()
            for fault, rate in rates:
                if roll < rate:
                    return fault
                roll -= rate
            return None

    @staticmethod
    def _fault_name(item: Any) -> str:
        name = _ALIASES.get(str(item), str(item))
        if name != OK and name not in FAULTS:
            raise ValueError(f"unknown fault {item!r} in next (known: ok, {', '.join(FAULTS)})")
        return name


def _check(settings: FaultSettings) -> None:
    total = 0.0
    for fault in FAULTS:
        rate = settings.rate(fault)
        if not 0 <= rate <= 1:
            raise ValueError(f"rate_{fault} must be between 0 and 1")
        total += rate
    if total > 1:
        raise ValueError("the fault rates add up to more than 1")
    for name in ("latency", "latency_per_customer", "hang_seconds"):
        if getattr(settings, name) < 0:
            raise ValueError(f"{name} must not be negative")
    if settings.max_batch is not None and settings.max_batch < 1:
        raise ValueError("max_batch must be at least 1 (or null for no limit)")
