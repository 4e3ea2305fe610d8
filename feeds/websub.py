"""WebSub (W3C Recommendation, 2018): the parts of the protocol that need no web framework.

Both sides use these: the hub (this instance, for its own feeds) and the
subscriber (this instance, of the hubs its subscriptions advertise).

* A subscription request (``hub.mode``, ``hub.topic``, ``hub.callback``,
  ``hub.lease_seconds``, ``hub.secret``; section 5.1) is read and checked by
  :func:`parse_request`; a lease is bounded by :func:`grant_lease` (5.1, 5.3).
* Verification of intent (5.3): the hub GETs the callback with
  :func:`verification_url`; the subscriber answers the ``hub.challenge``.
* Content distribution (7): the hub POSTs the topic's content with ``Link``
  headers (:func:`link_header`) and, when the subscriber gave a secret,
  ``X-Hub-Signature: sha256=<hex HMAC of the body>`` (:func:`sign`, 7.1); the
  subscriber checks it with :func:`signature_matches`, which accepts every
  algorithm the Recommendation lists (sha1, sha256, sha384, sha512).
* Discovery (4): ``Link`` headers first, then the document's own links
  (:func:`discover`).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx

from feeds.errors import FeedsError
from feeds.urls import is_http_url

SUBSCRIBE, UNSUBSCRIBE, DENIED = "subscribe", "unsubscribe", "denied"
MODES = (SUBSCRIBE, UNSUBSCRIBE)
#: The algorithms of X-Hub-Signature (section 7.1); the first is the one this hub signs with.
ALGORITHMS = ("sha256", "sha384", "sha512", "sha1")
#: A secret "MUST be less than 200 bytes in length" (5.1).
MAX_SECRET_BYTES = 199
MAX_URL = 2000
SIGNATURE_HEADER = "X-Hub-Signature"
#: Hubs read from one document at most.
MAX_HUBS = 5


class WebSubError(FeedsError):
    """A WebSub request that breaks the protocol; ``field`` names the parameter."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class SubscriptionRequest:
    """A subscriber's request to a hub (section 5.1)."""

    mode: str
    topic: str
    callback: str
    lease_seconds: int | None = None
    secret: str | None = None


def _url(form: Mapping[str, str], name: str) -> str:
    value = (form.get(name) or "").strip()
    if not value:
        raise WebSubError(f"Нет параметра {name}", field=name)
    if len(value) > MAX_URL or not is_http_url(value):
        raise WebSubError(
            f"{name}: нужен абсолютный адрес http:// или https:// до {MAX_URL} символов",
            field=name,
        )
    return value


def parse_request(form: Mapping[str, str]) -> SubscriptionRequest:
    """Read and check a subscription request's form fields; raises :class:`WebSubError`."""
    mode = (form.get("hub.mode") or "").strip()
    if mode not in MODES:
        raise WebSubError("hub.mode: ожидается subscribe или unsubscribe", field="hub.mode")
    topic = _url(form, "hub.topic")
    callback = _url(form, "hub.callback")
    lease: int | None = None
    raw_lease = (form.get("hub.lease_seconds") or "").strip()
    if raw_lease:
        if not raw_lease.isdigit() or len(raw_lease) > 12 or int(raw_lease) == 0:
            raise WebSubError(
                "hub.lease_seconds: нужно целое положительное число секунд",
                field="hub.lease_seconds",
            )
        lease = int(raw_lease)
    secret = form.get("hub.secret") or None
    if secret is not None and len(secret.encode("utf-8")) > MAX_SECRET_BYTES:
        raise WebSubError("hub.secret: не длиннее 199 байт", field="hub.secret")
    return SubscriptionRequest(mode, topic, callback, lease, secret)


def grant_lease(requested: int | None, *, minimum: int, default: int, maximum: int) -> int:
    """The lease a hub grants: the one asked for, within the hub's bounds."""
    if requested is None:
        return default
    return max(minimum, min(maximum, requested))


def request_form(request: SubscriptionRequest) -> dict[str, str]:
    """The form a subscriber POSTs to a hub."""
    form = {"hub.mode": request.mode, "hub.topic": request.topic, "hub.callback": request.callback}
    if request.lease_seconds is not None:
        form["hub.lease_seconds"] = str(request.lease_seconds)
    if request.secret:
        form["hub.secret"] = request.secret
    return form


def with_query(url: str, params: Iterable[tuple[str, str]]) -> str:
    """``url`` with ``params`` added to its query (its own parameters are kept, 5.3)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True) + list(params)
    return urlunsplit(parts._replace(query=urlencode(query)))


def verification_url(
    callback: str, mode: str, topic: str, challenge: str, lease_seconds: int | None
) -> str:
    params = [("hub.mode", mode), ("hub.topic", topic), ("hub.challenge", challenge)]
    if lease_seconds is not None:
        params.append(("hub.lease_seconds", str(lease_seconds)))
    return with_query(callback, params)


def denial_url(callback: str, topic: str, reason: str) -> str:
    """The GET that tells a subscriber its request was refused (5.2)."""
    return with_query(
        callback, [("hub.mode", DENIED), ("hub.topic", topic), ("hub.reason", reason)]
    )


def new_challenge() -> str:
    return secrets.token_urlsafe(32)


def new_secret() -> str:
    """A subscriber's secret for signing deliveries: 256 random bits."""
    return secrets.token_urlsafe(32)


def new_token() -> str:
    """The unguessable part of a callback URL: 256 random bits."""
    return secrets.token_urlsafe(32)


# -- signatures (7.1) ---------------------------------------------------------------


def sign(secret: str, body: bytes, algorithm: str = ALGORITHMS[0]) -> str:
    """The ``X-Hub-Signature`` value of ``body``: ``method=hexdigest``."""
    digest = hmac.new(secret.encode("utf-8"), body, getattr(hashlib, algorithm)).hexdigest()
    return f"{algorithm}={digest}"


def signature_matches(secret: str, body: bytes, header: str | None) -> bool:
    """Whether ``header`` is a valid signature of ``body`` with ``secret`` (constant time)."""
    if not header or "=" not in header:
        return False
    algorithm, _, given = header.strip().partition("=")
    algorithm = algorithm.strip().lower()
    if algorithm not in ALGORITHMS:
        return False
    expected = sign(secret, body, algorithm).partition("=")[2]
    return hmac.compare_digest(expected, given.strip().lower())


# -- links and discovery (4, 7) ---------------------------------------------------------


def link_header(hub: str, topic: str) -> str:
    """The ``Link`` header of a delivery or of a feed: its hub and its canonical URL."""
    return f'<{hub}>; rel="hub", <{topic}>; rel="self"'


def parse_links(header: str | None) -> dict[str, str]:
    """``rel`` -> URL of an HTTP ``Link`` header (the first of each rel)."""
    if not header:
        return {}
    links = httpx.Response(200, headers=[("link", header)]).links
    out: dict[str, str] = {}
    for rel_value, link in links.items():
        url = link.get("url")
        for rel in str(rel_value).split():
            if url and rel not in out:
                out[rel] = url
    return out


def json_hubs(value: Any) -> list[str]:
    """The hub URLs of a JSON Feed's ``hubs`` (``[{"type": "WebSub", "url": ...}]``), as given."""
    if not isinstance(value, list):
        return []
    return [
        hub["url"]
        for hub in value[:MAX_HUBS]
        if isinstance(hub, dict)
        and isinstance(hub.get("url"), str)
        and str(hub.get("type", "")).lower() in ("websub", "pubsubhubbub")
    ]


@dataclass(frozen=True)
class Discovered:
    """Where to subscribe for a topic: its hub and its canonical (self) URL."""

    hub: str
    topic: str


def discover(
    link: str | None, hubs: Iterable[str], self_url: str | None, fetched_url: str
) -> Discovered | None:
    """The hub and topic of a fetched feed: ``Link`` headers, else the document's links.

    The topic is the ``rel=self`` URL, else the URL the feed was fetched from.
    None when no http(s) hub is advertised.
    """
    headers = parse_links(link)
    hub = headers.get("hub") or next((h for h in hubs if is_http_url(h)), None)
    if hub is None or not is_http_url(hub) or len(hub) > MAX_URL:
        return None
    topic = headers.get("self") or self_url or fetched_url
    if not is_http_url(topic) or len(topic) > MAX_URL:
        return None
    return Discovered(hub=hub, topic=topic)
