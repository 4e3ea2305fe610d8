"""Fetching feeds over HTTP: one pool of kept-alive connections, bounded in every direction.

* Conditional GET (``If-None-Match``/``If-Modified-Since``); a 304 is a value
  (:class:`NotModified`), not an exception.
* gzip, decoded here chunk by chunk with a bounded output, so a compressed
  bomb cannot grow past ``max_bytes`` either.
* Redirects followed by hand, at most ``max_redirects`` times, loops refused;
  when every hop was permanent (301/308) the result names the new URL.
* ``timeout`` bounds the whole fetch, redirects included: every socket wait is
  cut to what is left of it, so a server that drips one byte at a time is cut
  too. ``max_bytes`` bounds the body, compressed and decompressed; the body
  is streamed and reading stops at the limit.
* SSRF guard: unless ``allow_private``, the host is resolved here and only a
  public address is connected to (private, loopback, link-local, multicast,
  reserved and other non-global addresses are refused), so the check is made
  on the address actually used (no DNS rebinding between check and connect)
  and again for every redirect and every new connection.

Errors are :mod:`feeds.errors` exceptions with a Russian message for admins.
"""

from __future__ import annotations

import contextlib
import functools
import ipaddress
import socket
import ssl
import threading
import time
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import httpcore
import httpx

from feeds.errors import (
    BlockedAddressError,
    FeedGoneError,
    FetchError,
    FetchTimeoutError,
    HTTPStatusError,
    RedirectError,
    TooLargeError,
)
from feeds.urls import is_http_url, resolve

ACCEPT = (
    "application/atom+xml, application/feed+json;q=0.95, application/rss+xml;q=0.9, "
    "application/json;q=0.8, application/xml;q=0.8, text/xml;q=0.8, text/html;q=0.5, */*;q=0.1"
)
REDIRECTS = {301, 302, 303, 307, 308}
PERMANENT = {301, 308}
#: Seconds an idle kept-alive connection is reused.
KEEPALIVE = 30.0


@dataclass(frozen=True)
class FetchOptions:
    timeout: float = 20.0
    max_bytes: int = 10 * 1024 * 1024
    max_redirects: int = 5
    allow_private: bool = False
    user_agent: str = "asdg-exchange/0.1 (ASDG practice exchange feed mirror)"
    #: Connections kept open per client (shared by the threads that use it).
    max_connections: int = 32


@dataclass(frozen=True)
class Fetched:
    #: The URL the body came from (after redirects).
    url: str
    body: bytes
    content_type: str | None
    etag: str | None
    last_modified: str | None
    cache_control: str | None
    retry_after: str | None
    #: The new address when every redirect on the way was permanent.
    permanent_url: str | None = None
    #: The ``Link`` header (WebSub discovery: the feed's hub and canonical URL).
    link: str | None = None


@dataclass(frozen=True)
class NotModified:
    url: str
    etag: str | None
    last_modified: str | None
    cache_control: str | None
    retry_after: str | None
    permanent_url: str | None = None
    link: str | None = None


# -- the whole-fetch deadline, per thread ------------------------------------

_local = threading.local()


def _remaining(timeout: float | None) -> float | None:
    """``timeout`` cut to what is left of the current fetch's deadline."""
    deadline: float | None = getattr(_local, "deadline", None)
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise httpcore.ReadTimeout("deadline passed")
    return left if timeout is None else min(timeout, left)


@contextlib.contextmanager
def _deadline(seconds: float) -> Iterator[float]:
    _local.deadline = time.monotonic() + seconds
    try:
        yield _local.deadline
    finally:
        _local.deadline = None


# -- the SSRF guard: resolve, check, connect to the checked address ------------


#: Ranges the standard library (Python 3.11) still calls global that are not
#: reachable public hosts: IETF protocol assignments (bar the two anycast
#: services), the deprecated 6to4 relay anycast, the local-use NAT64 prefix.
_NOT_PUBLIC = tuple(
    ipaddress.ip_network(net)
    for net in ("192.0.0.0/24", "192.88.99.0/24", "64:ff9b:1::/48", "fec0::/10")
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_PUBLIC_EXCEPTIONS = frozenset(ipaddress.ip_address(a) for a in ("192.0.0.9", "192.0.0.10"))


def is_public_address(address: str) -> bool:
    """True for a globally routable unicast address (``ipaddress``'s ``is_global``).

    IPv4 inside IPv6 (mapped, 6to4, NAT64, Teredo) is judged by its IPv4
    address; multicast and the ranges of :data:`_NOT_PUBLIC` are refused.
    """
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            return is_public_address(str(embedded))
        if ip.is_site_local:
            return False
    if ip.is_multicast or not ip.is_global:
        return False
    return ip in _PUBLIC_EXCEPTIONS or not any(ip in net for net in _NOT_PUBLIC)


class _GuardedStream(httpcore.NetworkStream):
    """A socket stream whose every wait is cut to the fetch deadline."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _remaining(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _remaining(timeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: Any,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        tls = self._inner.start_tls(ssl_context, server_hostname, _remaining(timeout))
        return _GuardedStream(tls)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _GuardedBackend(httpcore.NetworkBackend):
    def __init__(self, allow_private: bool) -> None:
        self.allow_private = allow_private
        self._inner = httpcore.SyncBackend()

    def _allowed(self, address: str) -> bool:
        return self.allow_private or is_public_address(address)

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as e:
            raise httpcore.ConnectError(f"cannot resolve {host}: {e}") from e
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        allowed = [a for a in addresses if self._allowed(a)]
        if not allowed:
            raise BlockedAddressError(
                f"Адрес {host} ({', '.join(addresses) or '—'}) не публичный: "
                "ленты с частных, локальных и служебных адресов не загружаются "
                "(MIRROR_ALLOW_PRIVATE_ADDRESSES)"
            )
        error: Exception | None = None
        for address in allowed:
            try:
                stream = self._inner.connect_tcp(
                    address, port, _remaining(timeout), local_address, socket_options
                )
            except httpcore.ConnectError as e:
                error = e
                continue
            peer = stream.get_extra_info("server_addr")
            if not peer or not self._allowed(str(peer[0])):
                stream.close()
                raise BlockedAddressError(f"Соединение с {host} ушло на непубличный адрес")
            return _GuardedStream(stream)
        assert error is not None
        raise error

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("unix sockets are not used for feeds")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


#: httpcore's exceptions for a failed exchange (its timeouts are caught apart).
_TRANSPORT_ERRORS = (
    httpcore.NetworkError,
    httpcore.ProtocolError,
    httpcore.UnsupportedProtocol,
    httpcore.ConnectionNotAvailable,
    httpcore.PoolTimeout,
)


_SSL_LOCK = threading.Lock()
_SSL: list[ssl.SSLContext] = []


def _ssl_context() -> ssl.SSLContext:
    """One TLS context (with the CA bundle) per process: loading it costs ~40 ms.

    Made once under a lock, so threads that open their first connections at
    the same moment do not each load the bundle; only https origins ask for it.
    """
    if not _SSL:
        with _SSL_LOCK:
            if not _SSL:
                _SSL.append(httpx.create_ssl_context())
    return _SSL[0]


class _Response:
    """An answer on a pooled connection; closing it gives the connection back."""

    def __init__(
        self,
        pool: _Pool,
        origin: httpcore.Origin,
        connection: httpcore.HTTPConnection,
        response: httpcore.Response,
    ) -> None:
        self.status = response.status
        self.headers = {k.decode("latin-1").lower(): v for k, v in response.headers}
        self.reason = response.extensions.get("reason_phrase", b"")
        self._pool = pool
        self._origin = origin
        self._connection: httpcore.HTTPConnection | None = connection
        self._response = response

    def header(self, name: str) -> str | None:
        value = self.headers.get(name)
        return None if value is None else value.decode("latin-1")

    def iter_raw(self) -> Iterator[bytes]:
        stream = self._response.stream
        assert isinstance(stream, Iterable)
        return iter(stream)

    def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                self._response.close()
            finally:
                self._pool.release(connection, self._origin)


def _key(origin: httpcore.Origin) -> tuple[bytes, bytes, int]:
    return origin.scheme, origin.host, origin.port


class _Pool:
    """Kept-alive connections per origin: at most ``size`` in use and ``size`` kept idle.

    httpcore's ``ConnectionPool`` checks every pooled socket for each request
    and again when each response closes, all under one lock; with a few
    threads polling many feeds on one host that lock is where they queue.
    Here a request takes an idle connection of its own origin (only that one
    socket is checked), and the lock guards the bookkeeping only.
    """

    def __init__(self, *, allow_private: bool, size: int) -> None:
        self._backend = _GuardedBackend(allow_private)
        self._slots = threading.BoundedSemaphore(size)
        self._size = size
        self._lock = threading.Lock()
        self._idle: dict[tuple[bytes, bytes, int], list[httpcore.HTTPConnection]] = {}
        self._idle_count = 0

    def _take(self, origin: httpcore.Origin) -> httpcore.HTTPConnection:
        """An idle connection to ``origin`` or a new one (closing a surplus idle one)."""
        while True:
            surplus = None
            with self._lock:
                idle = self._idle.get(_key(origin))
                if idle:
                    connection = idle.pop()
                    self._idle_count -= 1
                elif self._idle_count and self._idle_count >= self._size:
                    connection = None
                    other = next(conns for conns in self._idle.values() if conns)
                    surplus = other.pop(0)
                    self._idle_count -= 1
                else:
                    connection = None
            if surplus is not None:
                surplus.close()
            if connection is None:
                return httpcore.HTTPConnection(
                    origin,
                    ssl_context=_ssl_context() if origin.scheme == b"https" else None,
                    keepalive_expiry=KEEPALIVE,
                    network_backend=self._backend,
                )
            if connection.is_idle() and not connection.has_expired():
                return connection
            connection.close()

    def request(self, request: httpcore.Request) -> _Response:
        if not self._slots.acquire(timeout=_remaining(None)):
            raise httpcore.PoolTimeout("no free connection")
        try:
            connection = self._take(request.url.origin)
            try:
                response = connection.handle_request(request)
            except BaseException:
                connection.close()
                raise
        except BaseException:
            self._slots.release()
            raise
        return _Response(self, request.url.origin, connection, response)

    def release(self, connection: httpcore.HTTPConnection, origin: httpcore.Origin) -> None:
        try:
            if connection.is_idle():
                with self._lock:
                    self._idle.setdefault(_key(origin), []).append(connection)
                    self._idle_count += 1
            else:
                connection.close()
        finally:
            self._slots.release()

    def close(self) -> None:
        with self._lock:
            idle = [c for conns in self._idle.values() for c in conns]
            self._idle.clear()
            self._idle_count = 0
        for connection in idle:
            connection.close()


# -- the fetcher -----------------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def _target(url: str) -> tuple[httpcore.URL, bytes]:
    """Where a request for ``url`` goes, and its ``Host`` header (parsed once per URL)."""
    parsed = httpx.URL(url)
    target = httpcore.URL(
        scheme=parsed.raw_scheme, host=parsed.raw_host, port=parsed.port, target=parsed.raw_path
    )
    return target, parsed.netloc


class Fetcher:
    """One pool of kept-alive connections; safe to share between threads.

    Requests go straight to httpcore connections: redirects are followed
    here, and ``httpx.Client``'s other layers (cookie jar, auth and hook flows,
    environment proxies, request and response models) are of no use for
    feeds and would cost most of a 304's CPU.
    """

    def __init__(self, options: FetchOptions | None = None) -> None:
        self.options = options = options or FetchOptions()
        self._pool = _Pool(allow_private=options.allow_private, size=options.max_connections)
        self._extensions = {"timeout": httpx.Timeout(options.timeout).as_dict()}
        self._headers = [
            (b"User-Agent", options.user_agent.encode("ascii", "replace")),
            (b"Accept", ACCEPT.encode("ascii")),
            (b"Accept-Encoding", b"gzip"),
        ]

    def close(self) -> None:
        self._pool.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def fetch(
        self, url: str, *, etag: str | None = None, last_modified: str | None = None
    ) -> Fetched | NotModified:
        """GET ``url``; raises :class:`feeds.errors.FetchError` subclasses."""
        options = self.options
        try:
            with _deadline(options.timeout):
                return self._follow(url, etag, last_modified)
        except (httpcore.TimeoutException, httpx.TimeoutException) as e:
            raise FetchTimeoutError(
                f"Лента не загрузилась за {options.timeout:g} с (MIRROR_TIMEOUT)"
            ) from e
        except (*_TRANSPORT_ERRORS, httpx.HTTPError, httpx.InvalidURL) as e:
            raise FetchError(f"Ошибка соединения: {e or type(e).__name__}") from e

    def _request(self, url: str, etag: str | None, last_modified: str | None) -> httpcore.Request:
        target, host = _target(url)
        headers = [(b"Host", host), *self._headers]
        if etag:
            headers.append((b"If-None-Match", etag.encode("latin-1", "replace")))
        if last_modified:
            headers.append((b"If-Modified-Since", last_modified.encode("latin-1", "replace")))
        return httpcore.Request(b"GET", target, headers=headers, extensions=self._extensions)

    def _follow(
        self, url: str, etag: str | None, last_modified: str | None
    ) -> Fetched | NotModified:
        seen = {url}
        permanent = True
        for _hop in range(self.options.max_redirects + 1):
            if not is_http_url(url):
                raise RedirectError(f"Адрес ленты не http(s): {url[:200]}")
            response = self._pool.request(self._request(url, etag, last_modified))
            try:
                if response.status in REDIRECTS:
                    target = resolve(url, response.header("location") or "")
                    if target == url or target in seen:
                        raise RedirectError("Перенаправления ведут по кругу")
                    seen.add(target)
                    permanent = permanent and response.status in PERMANENT
                    url = target
                    _drain(response)
                    continue
                return self._answer(url, response, permanent and len(seen) > 1)
            finally:
                response.close()
        raise RedirectError(
            f"Больше {self.options.max_redirects} перенаправлений подряд (MIRROR_MAX_REDIRECTS)"
        )

    def _answer(self, url: str, response: _Response, moved: bool) -> Fetched | NotModified:
        header = response.header
        common: dict[str, Any] = {
            "url": url,
            "etag": header("etag"),
            "last_modified": header("last-modified"),
            "cache_control": header("cache-control"),
            "retry_after": header("retry-after"),
            "permanent_url": url if moved else None,
            "link": header("link"),
        }
        status = response.status
        if status == 304:
            _drain(response)
            return NotModified(**common)
        if status == 410:
            raise FeedGoneError("Лента удалена на сервере-источнике (410 Gone)", status=410)
        if status >= 400 or status < 200:
            reason = response.reason.decode("latin-1", "replace")
            raise HTTPStatusError(
                f"Сервер ответил ошибкой {status} {reason}".rstrip(),
                status=status,
                retry_after=_seconds(header("retry-after")),
            )
        body = read_body(response, self.options.max_bytes)
        return Fetched(body=body, content_type=header("content-type"), **common)


def _drain(response: _Response, limit: int = 64 * 1024) -> None:
    """Read a short body to its end, so the kept-alive connection can serve the next request.

    (Closing a response before its end closes the connection.) A longer body
    is left unread: the connection is dropped instead.
    """
    size = 0
    for chunk in response.iter_raw():
        size += len(chunk)
        if size > limit:
            break


def _seconds(value: str | None) -> float | None:
    return float(value) if value and value.strip().isdigit() else None


def _too_large(limit: int) -> TooLargeError:
    return TooLargeError(f"Лента больше {limit} байт (MIRROR_MAX_FEED_BYTES)")


def read_body(response: _Response, limit: int) -> bytes:
    """The body, decoded from gzip, never more than ``limit`` bytes either way."""
    length = response.header("content-length") or ""
    if length.isdigit() and int(length) > limit:
        raise _too_large(limit)
    encoding = (response.header("content-encoding") or "identity").strip().lower()
    if encoding in ("gzip", "x-gzip"):
        decoder: Any = zlib.decompressobj(16 + zlib.MAX_WBITS)
    elif encoding == "deflate":
        decoder = zlib.decompressobj()
    elif encoding in ("identity", ""):
        decoder = None
    else:
        raise FetchError(f"Неизвестное сжатие ответа: {encoding[:40]}")
    parts: list[bytes] = []
    raw = size = 0
    try:
        for chunk in response.iter_raw():
            _remaining(None)  # a drip feed is cut between chunks too
            raw += len(chunk)
            if raw > limit:
                raise _too_large(limit)
            if decoder is None:
                parts.append(chunk)
                size = raw
                continue
            data = chunk
            while data:
                out = decoder.decompress(data, limit - size + 1)
                size += len(out)
                if size > limit:
                    raise _too_large(limit)
                parts.append(out)
                data = decoder.unconsumed_tail
        if decoder is not None:
            parts.append(decoder.flush())
    except zlib.error as e:
        raise FetchError("Повреждённые сжатые данные (gzip)") from e
    return b"".join(parts)
