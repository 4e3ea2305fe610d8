"""The mirroring settings, read once from the app's config (``MIRROR_*``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import Flask, current_app

from feeds.fetch import FetchOptions
from feeds.schedule import Policy


@dataclass(frozen=True)
class Settings:
    fetch: FetchOptions
    policy: Policy
    max_pages: int
    lease: timedelta
    concurrency: int
    per_host: int
    #: A backfill stores archive pages in transactions of about this many entries.
    batch_entries: int = 250
    #: Worker processes that parse large documents (feeds.workers); 0: parse in the threads.
    parse_processes: int = 0
    #: The schedule while push (WebSub) works for a feed; None: push is off (WEBSUB_SUBSCRIBE).
    push_policy: Policy | None = None


def settings(app: Flask | None = None) -> Settings:
    config = (app or current_app).config
    concurrency = max(1, int(config.get("MIRROR_CONCURRENCY", 8)))
    policy = Policy(
        interval=float(config.get("MIRROR_INTERVAL", 3600)),
        min_interval=float(config.get("MIRROR_MIN_INTERVAL", 300)),
        max_interval=float(config.get("MIRROR_MAX_INTERVAL", 24 * 3600)),
    )
    push_interval = float(config.get("MIRROR_PUSH_INTERVAL", 6 * 3600))
    push_policy = Policy(
        interval=max(policy.interval, push_interval),
        min_interval=policy.min_interval,
        max_interval=max(policy.max_interval, push_interval),
    )
    return Settings(
        fetch=FetchOptions(
            timeout=float(config["MIRROR_TIMEOUT"]),
            max_bytes=int(config["MIRROR_MAX_FEED_BYTES"]),
            max_redirects=int(config.get("MIRROR_MAX_REDIRECTS", 5)),
            allow_private=bool(config["MIRROR_ALLOW_PRIVATE_ADDRESSES"]),
            user_agent=f"asdg-exchange/0.1 (ASDG practice exchange mirror; +{config['BASE_URL']})",
            max_connections=max(8, 2 * concurrency),
        ),
        policy=policy,
        max_pages=int(config.get("MIRROR_MAX_ARCHIVE_PAGES", 1000)),
        lease=timedelta(seconds=float(config.get("MIRROR_LEASE", 900))),
        concurrency=concurrency,
        per_host=max(1, int(config.get("MIRROR_PER_HOST", 2))),
        batch_entries=max(1, int(config.get("MIRROR_BATCH_ENTRIES", 250))),
        parse_processes=max(0, int(config["MIRROR_PARSE_PROCESSES"])),
        push_policy=push_policy if config.get("WEBSUB_SUBSCRIBE", True) else None,
    )
