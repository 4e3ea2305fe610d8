"""Many polls at once, for one worker: claim, run concurrently, store as they finish.

:func:`poll_many` keeps the guarantees of a worker sharing the database with
others: at most ``MIRROR_CONCURRENCY`` network parts at once in all and
``MIRROR_PER_HOST`` per host; claims are taken :data:`CLAIM_BATCH` times the
concurrency at a time, so other workers get their share of what is due; a
claim that waited in the queue has its lease renewed before it starts (or is
dropped if another worker took it over); finished polls are stored in the
calling thread as they come, the 304s in batches of :data:`UNCHANGED_BATCH`.
"""

from __future__ import annotations

import contextlib
import queue
import time
from collections import Counter, deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from feeds.urls import host_of
from service.mirror.claims import Claim, renew
from service.mirror.poller import Poller, Work
from service.mirror.results import PollResult, Summary

#: Feeds that answered 304 whose new schedule is written in one transaction.
UNCHANGED_BATCH = 64
#: A worker claims this many times its concurrency at once (fewer claim transactions;
#: the rest stays for other workers).
CLAIM_BATCH = 4


class _Queues:
    """Claims waiting to start, per host, and the network parts running per host."""

    def __init__(self, size: int, per_host: int) -> None:
        self.size, self.per_host = size, per_host
        self.waiting: dict[str, deque[Claim]] = {}
        self.running: Counter[str] = Counter()
        self.hosts: dict[int, str] = {}  # claimed and not finished: the host of each
        self.busy = 0  # network parts running

    def waiting_count(self) -> int:
        return sum(len(q) for q in self.waiting.values())

    def add(self, claim: Claim) -> None:
        self.hosts[claim.id] = host = host_of(claim.url)
        self.waiting.setdefault(host, deque()).append(claim)

    def start(self, keep: Callable[[int], bool]) -> list[Claim]:
        """Take the claims that may start now within the bounds, and count them running.

        ``keep(id)`` says whether a claim is still ours; one that is not is dropped.
        """
        out: list[Claim] = []
        for host in list(self.waiting):
            waiting = self.waiting[host]
            while waiting and self.running[host] < self.per_host and self.busy < self.size:
                claim = waiting.popleft()
                if not keep(claim.id):
                    del self.hosts[claim.id]
                    continue
                out.append(claim)
                self.running[host] += 1
                self.busy += 1
            if not waiting:
                del self.waiting[host]
        return out

    def finished(self, claim: Claim) -> None:
        """A started claim's network part has ended."""
        self.running[self.hosts.pop(claim.id)] -= 1
        self.busy -= 1


class Scheduler:
    """One round of :func:`poll_many` (see the module notes for its guarantees)."""

    def __init__(
        self,
        poller: Poller,
        claim_more: Callable[[int], list[Claim]],
        on_result: Callable[[PollResult], None] | None,
        limit: int | None,
    ) -> None:
        self.poller = poller
        self.claim_more = claim_more
        self.on_result = on_result
        self.limit = limit
        self.size = poller.settings.concurrency
        self.queues = _Queues(self.size, poller.settings.per_host)
        self.done: queue.SimpleQueue[Work] = queue.SimpleQueue()  # finished network parts
        self.held: dict[int, float] = {}  # claimed and not finished: when claimed or renewed
        self.unchanged: list[Work] = []
        self.summary = Summary()
        self.claimed, self.exhausted = 0, False

    def run(self) -> Summary:
        with ThreadPoolExecutor(max_workers=self.size, thread_name_prefix="mirror") as pool:
            while True:
                self._claim()
                for claim in self.queues.start(self._still_ours):
                    pool.submit(self.poller.prepare_into, claim, self.done)
                if not self.queues.busy:
                    break
                self._collect()
            self._flush_unchanged()
        return self.summary

    # -- claiming ----------------------------------------------------------------------

    def _wanted(self) -> int:
        """How many claims to ask for: a few rounds' worth once the queue runs low."""
        want = CLAIM_BATCH * self.size if self.queues.waiting_count() < self.size else 0
        if self.limit is not None:
            want = min(want, self.limit - self.claimed)
        return want

    def _claim(self) -> None:
        want = self._wanted()
        if self.exhausted or want <= 0:
            return
        batch = self.claim_more(want)
        self.claimed += len(batch)
        self.exhausted = len(batch) < want or (
            self.limit is not None and self.claimed >= self.limit
        )
        for claim in batch:
            if claim.id not in self.held:  # else: our own lease ran out while queued
                self.held[claim.id] = time.monotonic()
                self.queues.add(claim)

    def _still_ours(self, sub_id: int) -> bool:
        """Renew the lease of a claim that waited long in the queue; False if lost."""
        lease = self.poller.settings.lease
        if time.monotonic() - self.held[sub_id] < lease.total_seconds() / 2:
            return True
        if renew(sub_id, self.poller.worker, lease):
            self.held[sub_id] = time.monotonic()
            return True
        del self.held[sub_id]
        return False

    # -- finishing -------------------------------------------------------------------------

    def _collect(self) -> None:
        """Wait for a network part to end, then store every one that has ended."""
        finished = [self.done.get()]
        with contextlib.suppress(queue.Empty):
            while True:
                finished.append(self.done.get_nowait())
        for work in finished:
            self.queues.finished(work.claim)
            self.held.pop(work.claim.id, None)
            if work.unchanged:
                self.unchanged.append(work)
            else:
                self._report(self.poller.finish(work))
        if len(self.unchanged) >= UNCHANGED_BATCH or not self.queues.busy:
            self._flush_unchanged()

    def _flush_unchanged(self) -> None:
        self.poller.finish_unchanged(self.unchanged)
        for work in self.unchanged:
            self._report(work.result)
        self.unchanged.clear()

    def _report(self, result: PollResult) -> None:
        self.summary.add(result)
        if self.on_result is not None:
            self.on_result(result)


def poll_many(
    poller: Poller,
    claim_more: Callable[[int], list[Claim]],
    on_result: Callable[[PollResult], None] | None = None,
    *,
    limit: int | None = None,
) -> Summary:
    """Poll concurrently, bounded overall and per host, claiming as slots free.

    ``claim_more(n)`` claims up to n subscriptions; a worker holds at most
    about ``CLAIM_BATCH + 1`` times its concurrency, so other workers take the
    rest. Stops when a claim comes back short (nothing more is due) or after
    ``limit``.
    """
    return Scheduler(poller, claim_more, on_result, limit).run()
