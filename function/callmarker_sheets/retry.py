"""The one retry policy: which answers are worth another try, and how long to wait before it.

Both edges use it: the CallMarker client (httpx) and the Sheets adapter (gspread/requests).
Exponential backoff with full jitter, a bound on attempts, and Retry-After honoured as a floor.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

#: Answers that say "not now" rather than "no": worth retrying after a pause.
RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How many attempts a call gets and how long to wait between them.

    ``delay(n)`` for the wait after the n-th failed attempt (n from 1): a random time in
    ``[0, min(max_delay, base_delay * 2**(n-1))]`` ("full jitter", so many callers that failed together
    do not come back together), never less than the server's Retry-After, never more than
    ``max_retry_after`` (a longer Retry-After is not waited for: the attempt counts as failed).
    """

    max_attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 20.0
    max_retry_after: float = 60.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.base_delay < 0 or self.max_delay < 0:
            raise ValueError("delays must not be negative")

    def delay(
        self,
        attempt: int,
        retry_after: float | None = None,
        *,
        rand: Callable[[], float] = random.random,
    ) -> float:
        ceiling = min(self.max_delay, self.base_delay * 2 ** max(attempt - 1, 0))
        wait = ceiling * rand()
        if retry_after is not None:
            wait = max(wait, min(retry_after, self.max_retry_after))
        return wait

    def should_retry(self, attempt: int, retry_after: float | None = None) -> bool:
        """True when another attempt is allowed after ``attempt`` failed ones."""
        if attempt >= self.max_attempts:
            return False
        return retry_after is None or retry_after <= self.max_retry_after


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date); None if absent or unreadable."""
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
