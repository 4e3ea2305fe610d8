"""The production recipe (deploy/), run for real on 127.0.0.1: nginx with TLS in front of
gunicorn (the shipped config, two workers) and a ``mirror run`` worker, all sharing a
Prometheus multiprocess directory; the systemd units checked by systemd-analyze."""

from __future__ import annotations

import os
import re
import shutil
import signal
import ssl
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import trustme
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import ROOT, practice_body
from tests.feedserver import Instance
from tests.test_processes import BIN, prepare_database, service_env
from tests.waiting import free_port, wait_for

pytestmark = pytest.mark.processes

DEPLOY = ROOT / "deploy"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def local_paths(text: str, env_file: Path) -> str:
    return (
        text.replace("/srv/asdg/venv", str(BIN.parent))
        .replace("/srv/asdg/app", str(ROOT))
        .replace("/etc/asdg/asdg.env", str(env_file))
    )


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze not installed")
def test_systemd_units_are_valid(tmp_path: Path) -> None:
    units = []
    for unit in (DEPLOY / "systemd").glob("*.service"):
        name = unit.name.replace("@.service", "@1.service")
        target = tmp_path / name
        target.write_text(local_paths(unit.read_text(), DEPLOY / "asdg.env"))
        units.append(str(target))
    assert len(units) == 2
    done = subprocess.run(
        ["systemd-analyze", "verify", *units], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0 and done.stderr.strip() == "", done.stderr


def nginx_config(tmp_path: Path, ca: trustme.CA, http: int, https: int, upstream: int) -> Path:
    """deploy/nginx/asdg.conf with this test's ports, certificate and directories."""
    cert = ca.issue_cert("127.0.0.1")
    cert.cert_chain_pems[0].write_to_path(str(tmp_path / "fullchain.pem"))
    for blob in cert.cert_chain_pems[1:]:
        blob.write_to_path(str(tmp_path / "fullchain.pem"), append=True)
    cert.private_key_pem.write_to_path(str(tmp_path / "privkey.pem"))
    site = (DEPLOY / "nginx" / "asdg.conf").read_text()
    site = site.replace("/etc/letsencrypt/live/asdg.example.org", str(tmp_path))
    site = site.replace("/var/cache/nginx/asdg", str(tmp_path / "cache"))
    site = site.replace("/var/www/html", str(tmp_path))
    site = site.replace("127.0.0.1:8000", f"127.0.0.1:{upstream}")
    site = re.sub(r"listen \[::\]:\d+[^;]*;", "", site)
    site = site.replace("listen 80;", f"listen 127.0.0.1:{http};")
    site = site.replace("listen 443 ssl http2;", f"listen 127.0.0.1:{https} ssl http2;")
    (tmp_path / "site.conf").write_text(site)
    main = tmp_path / "nginx.conf"
    main.write_text(
        f"""user root;
worker_processes 1;
pid {tmp_path}/nginx.pid;
error_log {tmp_path}/error.log;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {tmp_path}/body;
    proxy_temp_path {tmp_path}/proxy;
    include {tmp_path}/site.conf;
}}
"""
    )
    return main


@pytest.fixture
def processes() -> Iterator[Callable[..., subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []

    def start(
        command: list[str], log: Path, env: dict[str, str] | None = None
    ) -> subprocess.Popen[str]:
        with log.open("w") as out:
            process = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, text=True,
                start_new_session=True,
            )  # fmt: skip
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


@pytest.mark.skipif(not os.path.exists(NGINX), reason="nginx not installed (make system-tools)")
def test_production_recipe_end_to_end(
    tmp_path: Path, source: Instance, processes: Callable[..., subprocess.Popen[str]]
) -> None:
    ca = trustme.CA()
    http, https, upstream = free_port(), free_port(), free_port()
    env = service_env(tmp_path, https, BASE_URL=f"https://127.0.0.1:{https}")
    env.update(WEB_BIND=f"127.0.0.1:{upstream}", WEB_CONCURRENCY="2", FEED_PAGE_SIZE="1")
    operator = prepare_database(env["DATABASE_URL"], tmp_path)
    writer = source.add_city("irkutsk", "Иркутск", "Иркутская область")
    for i in range(3):
        source.api("POST", "/api/v1/practices", writer, practice_body(title=f"Практика {i}"))

    conf = nginx_config(tmp_path, ca, http, https, upstream)
    check = subprocess.run([NGINX, "-t", "-c", str(conf)], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    gunicorn = [str(BIN / "gunicorn"), "--config", str(DEPLOY / "gunicorn.conf.py"), "wsgi:app"]
    processes(gunicorn, tmp_path / "web.log", env)
    processes(
        [str(BIN / "flask"), "--app", "wsgi", "mirror", "run"],
        tmp_path / "worker.log",
        env,
    )
    processes([NGINX, "-c", str(conf), "-g", "daemon off;"], tmp_path / "nginx.log")

    trust = ssl.create_default_context()
    ca.configure_trust(trust)
    with httpx.Client(base_url=f"https://127.0.0.1:{https}", verify=trust, timeout=10) as site:
        check_site(site, http, https, source, operator)


def check_site(site: httpx.Client, http: int, https: int, source: Instance, operator: str) -> None:
    wait_for(lambda: site.get("/healthz").status_code == 200, 30, "gunicorn behind nginx")
    assert site.get("/healthz").json()["status"] == "ok"
    plain = httpx.get(f"http://127.0.0.1:{http}/feeds/all.atom?x=1")
    assert plain.status_code == 301
    assert plain.headers["location"] == "https://127.0.0.1/feeds/all.atom?x=1"
    assert "max-age" in site.get("/").headers["strict-transport-security"]

    answer = site.post(
        "/api/v1/subscriptions",
        json={"url": source.url("/feeds/all.atom")},
        headers={"Authorization": f"Bearer {operator}"},
    )
    assert answer.status_code == 201, answer.text
    wait_for(
        lambda: site.get("/api/v1/practices", params={"origin": "mirror"}).json()["total"] == 3,
        30,
        "the worker to mirror the source",
    )

    # HTML is gzipped by nginx; feeds by the app (one ETag from every gunicorn worker).
    page = site.get("/", headers={"Accept-Encoding": "gzip"})
    assert page.headers["content-encoding"] == "gzip" and "Практика" in page.text
    heads = [site.get("/feeds/network.atom", headers={"Accept-Encoding": "gzip"}) for _ in range(4)]
    assert {h.headers["etag"] for h in heads} == {heads[0].headers["etag"]}
    assert all(h.headers["content-encoding"] == "gzip" for h in heads)
    assert all(h.headers["x-cache-status"] != "HIT" for h in heads)  # heads always revalidate
    assert "Практика 2" in heads[0].text

    # Archive pages (immutable) are served from nginx's cache after the first time.
    first, again = (site.get("/feeds/network.atom?page=1") for _ in range(2))
    assert first.status_code == again.status_code == 200 and first.content == again.content
    assert "immutable" in first.headers["cache-control"]
    assert (first.headers["x-cache-status"], again.headers["x-cache-status"]) == ("MISS", "HIT")

    # The hub and the callbacks go through; the hub only takes POSTs.
    hub = site.post(
        "/websub/hub",
        data={
            "hub.mode": "subscribe",
            "hub.topic": f"https://127.0.0.1:{https}/feeds/all.atom",
            "hub.callback": "http://127.0.0.1:9/nowhere",
        },
    )
    assert hub.status_code == 202, hub.text
    assert site.get("/websub/hub").status_code == 403
    assert site.post("/websub/callback/unknown-token", content=b"<feed/>").status_code == 410

    # /metrics: any gunicorn worker shows the polls counted in the worker process.
    def polled() -> float:
        values = samples(site.get("/metrics").text)
        return values.get(("asdg_mirror_polls_total", (("status", "ok"),)), 0.0)

    assert all(polled() >= 1 for _ in range(6))
    values = samples(site.get("/metrics").text)
    assert values[("asdg_subscriptions", (("state", "active"),))] == 1
    assert (
        values[("asdg_hub_requests_total", (("mode", "subscribe"), ("outcome", "accepted")))] == 1
    )
    assert values[("asdg_database_up", ())] == 1
