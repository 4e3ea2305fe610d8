"""The service's real processes: ``make run`` (the Procfile under honcho) runs the web
server and the mirror worker together, and Ctrl+C stops both."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from service import create_app
from service.accounts import create_token
from service.store.db import init_db
from service.store.models import db
from tests.conftest import ROOT, base_config, practice_body
from tests.feedserver import Instance
from tests.waiting import free_port, wait_for

pytestmark = pytest.mark.processes

BIN = Path(sys.executable).parent


def service_env(tmp_path: Path, port: int, **extra: str) -> dict[str, str]:
    """The environment of an instance run from the command line, on its own SQLite file."""
    metrics = tmp_path / "metrics"
    metrics.mkdir(exist_ok=True)
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'run.sqlite3'}",
        "BASE_URL": f"http://127.0.0.1:{port}",
        "FEED_AUTHORITY": "run.test",
        "SECRET_KEY": "test-run",
        "MIRROR_ALLOW_PRIVATE_ADDRESSES": "1",
        "PROMETHEUS_MULTIPROC_DIR": str(metrics),
    }
    env.update(extra)
    return env


def prepare_database(url: str, tmp_path: Path) -> str:
    """``init-db`` and ``token create --all`` (in this process: starting Python costs seconds)."""
    app = create_app(base_config(url, tmp_path))
    with app.app_context():
        init_db()
        token = create_token(None, "operator")[1]
        db.session.remove()
        db.engine.dispose()
    return token


def group_alive(pgid: int) -> bool:
    """Whether any live (not zombie) process is in process group ``pgid``."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


@pytest.fixture
def honcho(tmp_path: Path) -> Iterator[Callable[..., tuple[subprocess.Popen[str], Path]]]:
    """Start ``honcho start`` on the repository's Procfile, as ``make run`` does."""
    started: list[subprocess.Popen[str]] = []

    def start(env: dict[str, str], port: int) -> tuple[subprocess.Popen[str], Path]:
        log = tmp_path / "honcho.log"
        with log.open("w") as out:
            command = [str(BIN / "honcho"), "--procfile", str(ROOT / "Procfile"), "start"]
            process = subprocess.Popen(
                [*command, "-p", str(port)],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                text=True,
                start_new_session=True,  # like a terminal: Ctrl+C reaches honcho
            )
        started.append(process)
        return process, log

    yield start
    for process in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def test_make_run_serves_and_mirrors_and_stops_on_ctrl_c(
    tmp_path: Path, source: Instance, honcho: Callable[..., tuple[subprocess.Popen[str], Path]]
) -> None:
    writer = source.add_city("irkutsk", "Иркутск", "Иркутская область")
    source.api("POST", "/api/v1/practices", writer, practice_body(title="Из Иркутска"))
    port = free_port()
    env = service_env(tmp_path, port)
    operator = prepare_database(env["DATABASE_URL"], tmp_path)
    base = f"http://127.0.0.1:{port}"

    process, log = honcho(env, port)
    wait_for(lambda: httpx.get(f"{base}/healthz").status_code == 200, 30, "the web server")
    # A city subscribes through the API of the running web process; the worker,
    # a separate process, polls it without anyone running `mirror poll`.
    answer = httpx.post(
        f"{base}/api/v1/subscriptions",
        json={"url": source.url("/feeds/all.atom")},
        headers={"Authorization": f"Bearer {operator}"},
    )
    assert answer.status_code == 201, answer.text

    def mirrored() -> list[str]:
        items = httpx.get(f"{base}/api/v1/practices", params={"origin": "mirror"}).json()["items"]
        return [item["title"] for item in items]

    assert wait_for(mirrored, 30, "the mirrored entry") == ["Из Иркутска"]

    pids = [int(p) for p in re.findall(r"(?:web|worker)\.1 started \(pid=(\d+)\)", log.read_text())]
    assert len(pids) == 2, log.read_text()
    assert all(group_alive(pid) for pid in pids)
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=20) is not None
    wait_for(lambda: not any(group_alive(pid) for pid in pids), 10, "both processes to end")
    output = log.read_text()
    assert "SIGINT received" in output
    assert "Зеркалирование остановлено." in output  # the worker stopped cleanly, not killed
    assert "SIGKILL" not in output
