"""gunicorn settings of the web process (``asdg-web.service``).

Sync workers: each request is short (feeds come from a cache, pages are small)
and the database is the shared state, so processes scale simply. Override
with the environment (``WEB_CONCURRENCY``, ``WEB_BIND``).
"""

import multiprocessing
import os

bind = os.environ.get("WEB_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", 2 * multiprocessing.cpu_count() + 1))
worker_class = "sync"
timeout = 30
graceful_timeout = 20
keepalive = 5
# nginx on the same machine sets X-Forwarded-For/-Proto.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = "-"
errorlog = "-"
# Limits that match nginx's (the app bounds bodies itself too).
limit_request_line = 8190


def child_exit(server, worker):  # noqa: ARG001 (gunicorn's hook signature)
    """Prometheus multiprocess bookkeeping when a worker process ends."""
    from service.metrics import process_exited

    process_exited(worker.pid)
