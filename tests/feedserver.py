"""A real HTTP server on 127.0.0.1 for feed tests and the mirror benchmark.

Threaded, HTTP/1.1 keep-alive, ``ETag``/``Last-Modified`` with 304 answers,
gzip when asked, and hostile behaviours on demand (endless bodies, slow
drips, redirect loops, gzip bombs). It counts requests per path and the most
requests one path had in flight at once.
"""

from __future__ import annotations

import gzip
import hashlib
import shutil
import ssl
import threading
import time
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

Handler = Callable[[BaseHTTPRequestHandler], None]

LAST_MODIFIED = "Wed, 01 May 2024 12:00:00 GMT"


@dataclass
class Static:
    body: bytes
    content_type: str = "application/atom+xml; charset=utf-8"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha1(self.body).hexdigest()[:16] + '"'


class FeedServer:
    def __init__(self) -> None:
        self.routes: dict[str, Static | Handler] = {}
        self.hits: Counter[str] = Counter()
        self.active: Counter[str] = Counter()
        self.max_active: Counter[str] = Counter()
        self.headers: dict[str, dict[str, str]] = {}
        self._lock = threading.Lock()
        server = self

        class RequestHandler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return None

            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                server._enter(path, dict(self.headers))
                try:
                    route = server.routes.get(path)
                    if route is None:
                        send(self, 404, b"not found", "text/plain")
                    elif isinstance(route, Static):
                        if self.command == "GET":
                            serve_static(self, route)
                        else:
                            send(self, 405, b"", "text/plain")
                    else:
                        route(self)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True
                finally:
                    server._leave(path)

            do_POST = do_GET  # handlers see self.command

        self._httpd = _Server(("127.0.0.1", 0), RequestHandler)
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    def _enter(self, path: str, headers: dict[str, str]) -> None:
        with self._lock:
            self.hits[path] += 1
            self.active[path] += 1
            self.max_active[path] = max(self.max_active[path], self.active[path])
            self.headers[path] = headers

    def _leave(self, path: str) -> None:
        with self._lock:
            self.active[path] -= 1

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def add(self, path: str, body: bytes | str, **options: Any) -> str:
        data = body.encode() if isinstance(body, str) else body
        self.routes[path] = Static(data, **options)
        return self.url(path)

    def handle(self, path: str, handler: Handler) -> str:
        self.routes[path] = handler
        return self.url(path)

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> FeedServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def send(
    handler: BaseHTTPRequestHandler,
    status: int,
    body: bytes,
    content_type: str,
    headers: dict[str, str] | None = None,
) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    for key, value in (headers or {}).items():
        handler.send_header(key, value)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


class _Server(ThreadingHTTPServer):
    """A listen backlog for many clients at once (the default, 5, resets connections under load)."""

    daemon_threads = True
    request_queue_size = 256


def serve_static(handler: BaseHTTPRequestHandler, route: Static) -> None:
    if route.delay:
        time.sleep(route.delay)
    headers = {"ETag": route.etag, "Last-Modified": LAST_MODIFIED, **route.headers}
    if route.status == 200 and handler.headers.get("If-None-Match") == route.etag:
        handler.send_response(304)
        for key, value in headers.items():
            handler.send_header(key, value)
        handler.send_header("Content-Length", "0")
        handler.end_headers()
        return
    body = route.body
    if "gzip" in handler.headers.get("Accept-Encoding", "") and route.status == 200:
        body = gzip.compress(body, compresslevel=1)
        headers["Content-Encoding"] = "gzip"
    send(handler, route.status, body, route.content_type, headers)


# -- hostile behaviours ---------------------------------------------------------


def endless(chunk: bytes = b"<entry>" + b"x" * 65536 + b"</entry>") -> Handler:
    """A body that never ends (chunked, as fast as the client reads)."""

    def handler(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "application/atom+xml")
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        opening = b"<?xml version='1.0'?><feed xmlns='http://www.w3.org/2005/Atom'>"
        h.wfile.write(b"%x\r\n%s\r\n" % (len(opening), opening))
        while True:
            h.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))

    return handler


def drip(interval: float = 0.2) -> Handler:
    """Headers at once, then one byte of body every ``interval`` seconds, forever."""

    def handler(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "application/atom+xml")
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        while True:
            h.wfile.write(b"1\r\n \r\n")
            h.wfile.flush()
            time.sleep(interval)

    return handler


def silent(seconds: float = 30.0) -> Handler:
    """Accept the request and say nothing."""

    def handler(h: BaseHTTPRequestHandler) -> None:
        time.sleep(seconds)
        h.close_connection = True

    return handler


def redirect(location: str, status: int = 302) -> Handler:
    def handler(h: BaseHTTPRequestHandler) -> None:
        send(h, status, b"", "text/plain", {"Location": location})

    return handler


def gzip_bomb(size: int) -> Handler:
    """A small gzip body that inflates to ``size`` bytes of spaces."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = b" " * (1 << 20)
    parts = [compressor.compress(b"<?xml version='1.0'?><feed>")]
    for _ in range(size >> 20):
        parts.append(compressor.compress(block))
    parts.append(compressor.flush())
    body = b"".join(parts)

    def handler(h: BaseHTTPRequestHandler) -> None:
        send(h, 200, body, "application/atom+xml", {"Content-Encoding": "gzip"})

    return handler


# -- a real instance of the service, served over HTTP ------------------------------


class Instance:
    """One instance of the service: its own app and database, on its own port.

    The server is bound first so the app's ``BASE_URL`` (and with it every
    link in its feeds) names the real address.
    """

    def __init__(self, name: str, database_url: str, *, tls: Any = None, **config: Any) -> None:
        from werkzeug.serving import make_server

        from service import create_app
        from service.store.db import init_db
        from tests.conftest import base_config

        self.name = name
        self._ssl_context = None
        if tls is not None:  # a trustme.CA: serve https with a certificate it issued
            self._ssl_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            tls.issue_cert("127.0.0.1").configure_cert(self._ssl_context)
        self._make_server = make_server
        self.server = make_server(
            "127.0.0.1", 0, self._wsgi, threaded=True, ssl_context=self._ssl_context
        )
        self.port = self.server.server_port
        scheme = "https" if tls is not None else "http"
        self.base_url = f"{scheme}://127.0.0.1:{self.port}"
        self._workers: list[tuple[threading.Event, threading.Thread]] = []
        settings = base_config(database_url, None)  # type: ignore[arg-type]
        settings.update(
            BASE_URL=self.base_url,
            FEED_AUTHORITY=f"{name}.test",
            MIRROR_ALLOW_PRIVATE_ADDRESSES=True,
            MIRROR_TIMEOUT=5.0,
            MIRROR_MIN_INTERVAL=1,
            MIRROR_INTERVAL=1,
        )
        settings.update(config)
        self.settings = settings
        self.app = create_app(settings)
        with self.app.app_context():
            init_db()
        self._thread: threading.Thread | None = None
        self.start()

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        return self.app(environ, start_response)

    def start(self) -> None:
        if self._thread is not None:
            return
        if self.server is None:
            self.server = self._make_server(
                "127.0.0.1", self.port, self._wsgi, threaded=True, ssl_context=self._ssl_context
            )
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Take the instance off the network (its data stays)."""
        if self._thread is None:
            return
        self.server.shutdown()
        self.server.server_close()
        self._thread.join()
        self._thread = None
        self.server = None

    def url(self, path: str) -> str:
        return self.base_url + path

    def start_push(self) -> None:
        """Run the worker's push loop (hub deliveries, hub subscriptions) in a thread."""
        from service.push.worker import start_push

        stop = threading.Event()
        self._workers.append((stop, start_push(self.app, stop)))

    def start_worker(self, idle: float = 0.2) -> None:
        """Run the whole worker (``mirror run``: polls on schedule, and push) in threads."""
        from service.mirror import subscriptions

        self.start_push()
        stop = threading.Event()

        def polls() -> None:
            with self.app.app_context():
                subscriptions.run_forever(stop=stop, idle=idle)

        thread = threading.Thread(target=polls, name=f"{self.name}-polls", daemon=True)
        thread.start()
        self._workers.append((stop, thread))

    def stop_workers(self) -> None:
        for stop, thread in self._workers:
            stop.set()
            thread.join(timeout=30)
        self._workers.clear()

    def close(self) -> None:
        from service.store.models import db

        self.stop_workers()
        self.stop()
        with self.app.app_context():
            db.session.remove()
            db.engine.dispose()

    # -- publishing through the instance's own API --------------------------------

    def add_city(self, slug: str, name: str, region: str = "Регион") -> str:
        """Host a city here; returns a token that writes for it."""
        from service.accounts import create_token
        from service.cities import add_city
        from service.store.models import City, db

        with self.app.app_context():
            city = add_city(slug, name, region)
            city.latitude, city.longitude = 52.28, 104.3
            db.session.commit()
            return create_token(db.session.get(City, city.id), "test")[1]

    def api(self, method: str, path: str, token: str | None = None, body: Any = None) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = self.app.test_client().open(path, method=method, json=body, headers=headers)
        assert response.status_code < 400, (method, path, response.status_code, response.json)
        return response.get_json(silent=True)

    def snapshots(self, **filters: Any) -> dict[str, dict[str, Any]]:
        """Every stored entry as published (``service.entries.service.snapshot``), by id."""
        from service.entries.changelog import snapshot
        from service.store.models import Entry, db

        with self.app.app_context():
            query = db.select(Entry).filter_by(**filters)
            return {e.uid: snapshot(e) for e in db.session.scalars(query).unique()}


def sqlite_instance(
    tmp_path: Path, template: Path, name: str = "source", **config: Any
) -> Instance:
    """An :class:`Instance` on a copy of the migrated SQLite template."""
    path = tmp_path / f"{name}.sqlite3"
    shutil.copy(template, path)
    return Instance(name, f"sqlite:///{path}", **config)
