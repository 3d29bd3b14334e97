from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from callmarker_sheets.retry import RetryPolicy, parse_retry_after


def test_delay_grows_exponentially_up_to_the_cap() -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=4.0)
    assert [policy.delay(n, rand=lambda: 1.0) for n in range(1, 7)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]


@given(attempt=st.integers(1, 30), r=st.floats(0, 1))
def test_jitter_stays_between_zero_and_the_ceiling(attempt: int, r: float) -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=20.0)
    assert 0.0 <= policy.delay(attempt, rand=lambda: r) <= 20.0


def test_retry_after_is_a_floor_but_bounded() -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=4.0, max_retry_after=30.0)
    assert policy.delay(1, retry_after=7.0, rand=lambda: 0.0) == 7.0
    assert policy.delay(1, retry_after=500.0, rand=lambda: 0.0) == 30.0
    assert not policy.should_retry(1, retry_after=500.0)


def test_attempts_are_bounded() -> None:
    policy = RetryPolicy(max_attempts=3)
    assert policy.should_retry(1)
    assert policy.should_retry(2)
    assert not policy.should_retry(3)


def test_a_policy_without_attempts_is_refused() -> None:
    with pytest.raises(ValueError, match="max_attempts"):
        RetryPolicy(max_attempts=0)


def test_retry_after_forms() -> None:
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after("Thu, 01 Jan 2026 12:00:10 GMT", now=now) == 10.0
    assert parse_retry_after("Thu, 01 Jan 2026 11:00:00 GMT", now=now) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None
    assert parse_retry_after("") is None
