"""Helpers for real processes on 127.0.0.1, shared by the tests and ``bench/``: a free
port, and waiting (bounded) until a check holds."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from typing import Any

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(check: Callable[[], Any], timeout: float, what: str, step: float = 0.1) -> Any:
    """``check()``'s first true value (an HTTP error counts as not yet), or
    :class:`TimeoutError` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = check()
        except httpx.HTTPError:
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(step)
