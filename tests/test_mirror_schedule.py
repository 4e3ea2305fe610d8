"""feeds.schedule: intervals, server hints and capped backoff with jitter."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from feeds.schedule import (
    Policy,
    after_failure,
    after_success,
    backoff_delay,
    parse_max_age,
    parse_retry_after,
)

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
POLICY = Policy(interval=3600, min_interval=300, max_interval=86400, jitter=0.1)


def seconds(when: datetime) -> float:
    return (when - NOW).total_seconds()


@pytest.mark.parametrize(
    ("header", "expect"),
    [
        ("max-age=600", 600),
        ("public, max-age=86400", 86400),
        ('max-age="120", s-maxage=5', 120),
        ("no-cache, max-age=600", None),
        ("no-store", None),
        ("public", None),
        ("max-age=-1", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_max_age(header: str | None, expect: int | None) -> None:
    assert parse_max_age(header) == expect


@pytest.mark.parametrize(
    ("header", "expect"),
    [
        ("120", 120.0),
        ("Wed, 01 May 2024 12:10:00 GMT", 600.0),
        ("Wed, 01 May 2024 11:00:00 GMT", 0.0),
        ("soon", None),
        ("-5", None),
        (None, None),
    ],
)
def test_parse_retry_after(header: str | None, expect: float | None) -> None:
    assert parse_retry_after(header, NOW) == expect


@pytest.mark.parametrize(("rand", "expect"), [(0.0, 3240), (0.5, 3600), (0.999999, 3960)])
def test_success_uses_the_interval_with_jitter(rand: float, expect: float) -> None:
    assert seconds(after_success(NOW, POLICY, rand=rand)) == pytest.approx(expect, abs=0.01)


def test_success_honours_max_age_and_retry_after_clamped() -> None:
    assert seconds(after_success(NOW, POLICY, max_age=7200)) == 7200
    assert seconds(after_success(NOW, POLICY, max_age=60)) == 3600  # never more often
    assert seconds(after_success(NOW, POLICY, max_age=10**9)) == 86400  # clamped
    assert seconds(after_success(NOW, POLICY, retry_after=20000)) == 20000
    assert seconds(after_success(NOW, POLICY, retry_after=10**7)) == 86400


def test_backoff_doubles_up_to_the_cap_and_stays_there() -> None:
    delays = [backoff_delay(n, POLICY, rand=1.0) for n in range(1, 16)]
    assert delays[:4] == [300, 600, 1200, 2400]
    assert all(b >= a for a, b in itertools.pairwise(delays))
    assert delays[-1] == 86400 and delays[-5:] == [86400] * 5
    assert backoff_delay(10**6, POLICY, rand=1.0) == 86400  # no overflow


@pytest.mark.parametrize("failures", [1, 3, 9, 40])
def test_backoff_jitter_stays_within_half_to_full(failures: int) -> None:
    full = backoff_delay(failures, POLICY, rand=1.0)
    low = seconds(after_failure(NOW, POLICY, failures=failures, rand=0.0))
    high = seconds(after_failure(NOW, POLICY, failures=failures, rand=0.99))
    assert low == pytest.approx(full / 2)
    assert full / 2 <= high < full


def test_failure_honours_retry_after_up_to_the_cap() -> None:
    assert seconds(after_failure(NOW, POLICY, failures=1, retry_after=5000, rand=0)) == 5000
    assert seconds(after_failure(NOW, POLICY, failures=1, retry_after=10**8, rand=0)) == 86400
    assert seconds(after_failure(NOW, POLICY, failures=1, retry_after=1, rand=0)) == 150
    assert NOW + timedelta(seconds=150) == after_failure(NOW, POLICY, failures=1, rand=0)
