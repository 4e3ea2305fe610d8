"""The push settings (``WEBSUB_*``, ``HUB_*``), read once per use from the app's config."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import Flask, current_app

from feeds.fetch import FetchOptions
from feeds.schedule import Policy

HUB_PATH = "/websub/hub"
CALLBACK_PATH = "/websub/callback/"
#: How long a worker holds the rows it claimed (a dead worker's claims come back after it).
WORK_LEASE = timedelta(seconds=120)


@dataclass(frozen=True)
class PushSettings:
    hub_enabled: bool
    subscribe_enabled: bool
    tick: float
    min_lease: int
    default_lease: int
    max_lease: int
    concurrency: int
    per_host: int
    retry: Policy
    verify_attempts: int
    max_subscriptions: int
    #: The lease asked of other hubs.
    lease: int
    push_interval: float
    fetch: FetchOptions
    base_url: str

    @property
    def hub_url(self) -> str:
        return self.base_url + HUB_PATH

    def callback_url(self, token: str) -> str:
        return self.base_url + CALLBACK_PATH + token


def settings(app: Flask | None = None) -> PushSettings:
    config = (app or current_app).config
    concurrency = max(1, int(config["HUB_CONCURRENCY"]))
    return PushSettings(
        hub_enabled=bool(config["WEBSUB_HUB"]),
        subscribe_enabled=bool(config["WEBSUB_SUBSCRIBE"]),
        tick=max(0.05, float(config["WEBSUB_TICK"])),
        min_lease=int(config["HUB_MIN_LEASE"]),
        default_lease=int(config["HUB_DEFAULT_LEASE"]),
        max_lease=int(config["HUB_MAX_LEASE"]),
        concurrency=concurrency,
        per_host=max(1, int(config["HUB_PER_HOST"])),
        retry=Policy(
            interval=float(config["HUB_RETRY_MAX"]),
            min_interval=float(config["HUB_RETRY_MIN"]),
            max_interval=float(config["HUB_RETRY_MAX"]),
        ),
        verify_attempts=max(1, int(config["HUB_VERIFY_ATTEMPTS"])),
        max_subscriptions=int(config["HUB_MAX_SUBSCRIPTIONS"]),
        lease=int(config["WEBSUB_LEASE"]),
        push_interval=float(config["MIRROR_PUSH_INTERVAL"]),
        fetch=FetchOptions(
            timeout=float(config["HUB_TIMEOUT"]),
            max_bytes=int(config["MIRROR_MAX_FEED_BYTES"]),
            max_redirects=0,
            allow_private=bool(config["MIRROR_ALLOW_PRIVATE_ADDRESSES"]),
            user_agent=f"asdg-exchange/0.1 (ASDG practice exchange hub; +{config['BASE_URL']})",
            max_connections=max(8, 2 * concurrency),
        ),
        base_url=config["BASE_URL"],
    )
