"""Outgoing WebSub requests: subscription requests, verifications, content deliveries.

The same rules as fetching feeds (:mod:`feeds.fetch`): the address guard
(only public addresses are connected to, checked on the address actually
used, unless ``allow_private``), one deadline for the whole exchange, bodies
read up to a bound. Redirects are not followed: a hub or a callback that
answers 3xx has not accepted the request. A hub calling back subscribers'
URLs is exactly the kind of client an attacker would aim at internal
addresses (SSRF), so this matters as much here as for feeds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

import httpcore
import httpx

from feeds.errors import FetchError, FetchTimeoutError
from feeds.fetch import (
    _TRANSPORT_ERRORS,
    KEEPALIVE,
    FetchOptions,
    _deadline,
    _GuardedBackend,
    _remaining,
    _ssl_context,
)
from feeds.urls import is_http_url

#: Bytes of a reply read at most (a challenge echoed back, an error text); the rest is dropped.
MAX_REPLY = 64 * 1024
FORM_TYPE = "application/x-www-form-urlencoded"


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes
    headers: Mapping[str, str]

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


class Notifier:
    """A pool of kept-alive connections for WebSub requests; safe to share between threads."""

    def __init__(self, options: FetchOptions | None = None) -> None:
        self.options = options = options or FetchOptions()
        self._pool = httpcore.ConnectionPool(
            ssl_context=_ssl_context(),
            max_connections=options.max_connections,
            keepalive_expiry=KEEPALIVE,
            network_backend=_GuardedBackend(options.allow_private),
        )
        self._extensions = {"timeout": httpx.Timeout(options.timeout).as_dict()}
        self._agent = options.user_agent.encode("ascii", "replace")

    def close(self) -> None:
        self._pool.close()

    def __enter__(self) -> Notifier:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(self, url: str) -> Reply:
        return self.request("GET", url)

    def post(
        self,
        url: str,
        body: bytes,
        content_type: str,
        headers: Iterable[tuple[str, str]] = (),
    ) -> Reply:
        return self.request("POST", url, body, [("Content-Type", content_type), *headers])

    def post_form(self, url: str, fields: Mapping[str, str]) -> Reply:
        return self.post(url, urlencode(list(fields.items())).encode("ascii"), FORM_TYPE)

    def request(
        self,
        method: str,
        url: str,
        body: bytes = b"",
        headers: Iterable[tuple[str, str]] = (),
    ) -> Reply:
        """One exchange; raises :class:`feeds.errors.FetchError` subclasses."""
        if not is_http_url(url):
            raise FetchError(f"Адрес не http(s): {url[:200]}")
        timeout = self.options.timeout
        parsed = httpx.URL(url)
        all_headers = [
            (b"Host", parsed.netloc),
            (b"User-Agent", self._agent),
            *((k.encode("latin-1"), v.encode("latin-1", "replace")) for k, v in headers),
        ]
        if body or method == "POST":
            all_headers.append((b"Content-Length", str(len(body)).encode("ascii")))
        target = httpcore.URL(
            scheme=parsed.raw_scheme, host=parsed.raw_host, port=parsed.port, target=parsed.raw_path
        )
        try:
            with _deadline(timeout):
                return self._exchange(method, target, all_headers, body)
        except (httpcore.TimeoutException, httpx.TimeoutException) as e:
            raise FetchTimeoutError(f"Нет ответа за {timeout:g} с") from e
        except (*_TRANSPORT_ERRORS, httpx.HTTPError, httpx.InvalidURL) as e:
            raise FetchError(f"Ошибка соединения: {e or type(e).__name__}") from e

    def _exchange(
        self, method: str, target: httpcore.URL, headers: list[tuple[bytes, bytes]], body: bytes
    ) -> Reply:
        with self._pool.stream(
            method.encode("ascii"),
            target,
            headers=headers,
            content=body,
            extensions=self._extensions,
        ) as response:
            parts: list[bytes] = []
            size = 0
            for chunk in response.iter_stream():
                _remaining(None)  # a drip is cut at the deadline
                parts.append(chunk)
                size += len(chunk)
                if size >= MAX_REPLY:  # the rest is not needed (the connection is dropped)
                    break
            reply_headers = {
                k.decode("latin-1").lower(): v.decode("latin-1") for k, v in response.headers
            }
            return Reply(response.status, b"".join(parts)[:MAX_REPLY], reply_headers)
