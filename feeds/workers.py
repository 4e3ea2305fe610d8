"""Parsing in worker processes: large documents are read (and sanitized) off the GIL.

A mirror fetches in threads and stores in one thread of one process. Parsing
and sanitizing there competes with the store for the GIL: nh3 releases it
for every fragment and then waits for it again, behind a store thread that
gives it up only every few milliseconds, so a feed of 50 entries took three
times as long to read beside a busy store as alone (``bench/mirror_bench.py``).
:class:`ParserPool` sends documents of at least :data:`MIN_BODY` bytes to
``processes`` worker processes (started on first use, with ``spawn``: safe
beside threads) and waits for the parsed feed; small documents, and every
document when ``processes`` is 0, are parsed in the calling thread. The result
is the same :class:`~feeds.types.ParsedFeed` either way, errors included.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from feeds.parse import parse_feed
from feeds.types import ParsedFeed

#: Documents smaller than this are parsed in the calling thread (sending costs more).
MIN_BODY = 32 * 1024


#: How often a worker checks that the process that started it still lives (seconds).
PARENT_CHECK = 1.0


def _watch_parent(parent: int) -> None:
    """End this worker when its parent is gone (killed with SIGKILL, say).

    A pool's workers otherwise wait for work forever after such a death,
    holding the dead parent's stdout and stderr open.
    """

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


class ParserPool:
    """``parse_feed`` in up to ``processes`` worker processes (0: in the caller's thread)."""

    def __init__(self, processes: int) -> None:
        self.processes = max(0, processes)
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def _executor(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    self.processes,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_watch_parent,
                    initargs=(os.getpid(),),
                )
            return self._pool

    def parse(self, body: bytes, *, url: str, content_type: str | None = None) -> ParsedFeed:
        if self.processes == 0 or len(body) < MIN_BODY:
            return parse_feed(body, url=url, content_type=content_type)
        try:
            future = self._executor().submit(parse_feed, body, url=url, content_type=content_type)
            return future.result()
        except BrokenProcessPool:  # a worker died (killed, out of memory): parse here
            self.close()
            return parse_feed(body, url=url, content_type=content_type)

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> ParserPool:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


_shared: dict[int, ParserPool] = {}
_shared_lock = threading.Lock()


def shared_pool(processes: int) -> ParserPool:
    """The process's pool of ``processes`` workers, kept for every poll (workers stay warm).

    Its worker processes end with the process (``concurrent.futures`` shuts
    its executors down at exit).
    """
    with _shared_lock:
        pool = _shared.get(processes)
        if pool is None:
            pool = _shared[processes] = ParserPool(processes)
        return pool
