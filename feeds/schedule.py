"""When to poll a feed next: pure functions of the clock, the answer and the past.

* After a success: the normal interval, or longer when the server says its
  answer stays fresh longer (``Cache-Control: max-age``) or asks to come back
  later (``Retry-After``); never longer than ``max_interval``.
* After a failure: capped exponential backoff with jitter,
  ``min(cap, base * 2 ** (failures - 1))`` scaled by a random factor in
  [0.5, 1); a failing feed keeps being retried at the cap, it is never dropped.
  A ``Retry-After`` longer than that is honoured (up to the cap).

Randomness comes in as a number in [0, 1) so tests can pin it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

MAX_AGE = re.compile(r"(?:^|[,\s])(?:s-)?max-age\s*=\s*\"?(\d{1,10})\"?", re.IGNORECASE)
NO_CACHE = re.compile(r"(?:^|[,\s])(?:no-store|no-cache)(?:$|[,\s=])", re.IGNORECASE)


@dataclass(frozen=True)
class Policy:
    """Seconds. ``interval``: the normal pause between polls of a feed."""

    interval: float = 3600
    min_interval: float = 300
    max_interval: float = 24 * 3600
    #: Spread of the normal interval: +-10% so feeds do not all come due at once.
    jitter: float = 0.1

    @property
    def backoff_base(self) -> float:
        return min(self.min_interval, self.interval)


def parse_max_age(cache_control: str | None) -> int | None:
    """Seconds of freshness from ``Cache-Control``; None when absent or no-cache."""
    if not cache_control or NO_CACHE.search(cache_control):
        return None
    found = [int(m) for m in MAX_AGE.findall(cache_control)]
    return max(found) if found else None


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from ``Retry-After`` (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - now).total_seconds())


def backoff_delay(failures: int, policy: Policy, rand: float) -> float:
    """The pause after the ``failures``-th failure in a row (1, 2, ...)."""
    exponent = min(max(failures, 1) - 1, 60)
    delay = min(policy.max_interval, policy.backoff_base * 2.0**exponent)
    return delay * (0.5 + 0.5 * rand)


def after_success(
    now: datetime,
    policy: Policy,
    *,
    max_age: float | None = None,
    retry_after: float | None = None,
    rand: float = 0.5,
) -> datetime:
    delay = policy.interval * (1 + policy.jitter * (2 * rand - 1))
    for hint in (max_age, retry_after):
        if hint is not None:
            delay = max(delay, hint)
    return now + timedelta(seconds=min(delay, policy.max_interval))


def after_failure(
    now: datetime,
    policy: Policy,
    *,
    failures: int,
    retry_after: float | None = None,
    rand: float = 0.5,
) -> datetime:
    delay = backoff_delay(failures, policy, rand)
    if retry_after is not None:
        delay = max(delay, min(retry_after, policy.max_interval))
    return now + timedelta(seconds=delay)
