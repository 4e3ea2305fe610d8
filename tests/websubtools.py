"""Test helpers for WebSub: a recording subscriber callback on a real HTTP server."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.feedserver import FeedServer, send


@dataclass(frozen=True)
class Call:
    method: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes


class Callback:
    """A subscriber's callback URL: records every request and answers as told.

    GET (verification of intent): echoes ``hub.challenge`` while ``confirm``
    is true, else 404. POST (a delivery): answers ``status``.
    """

    def __init__(self, server: FeedServer, path: str = "/callback") -> None:
        self.calls: list[Call] = []
        self.confirm = True
        self.status = 200
        self._lock = threading.Lock()
        self.url = server.handle(path, self._handle)

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        query = dict(parse_qsl(urlsplit(h.path).query, keep_blank_values=True))
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length else b""
        call = Call(h.command, query, {k.lower(): v for k, v in h.headers.items()}, body)
        with self._lock:
            self.calls.append(call)
        if h.command == "GET":
            if self.confirm and "hub.challenge" in query:
                send(h, 200, query["hub.challenge"].encode(), "text/plain")
            else:
                send(h, 404, b"unknown", "text/plain")
        else:
            send(h, self.status, b"", "text/plain")

    def gets(self) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == "GET"]

    def posts(self) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == "POST"]


def eventually(check: Callable[[], Any], timeout: float = 10.0, what: str = "") -> Any:
    """Wait until ``check()`` is true (polling every 20 ms); its value."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or check}")
        time.sleep(0.02)
