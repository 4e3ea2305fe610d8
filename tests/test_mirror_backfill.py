"""A bounded backfill, with real processes: ``flask mirror poll`` killed with SIGKILL in
the middle of a long history resumes where it stopped (nothing lost, nothing twice),
and admin writes made meanwhile all succeed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from service.entries.service import create_entry
from service.http.api.schemas import PracticeInSchema
from service.store.models import City, Entry, EntryChange, Subscription, db
from tests.conftest import ROOT, Api, practice_body
from tests.feedserver import Instance, sqlite_instance

pytestmark = pytest.mark.processes

BIN = Path(sys.executable).parent
HISTORY = 1500


@pytest.fixture
def source(tmp_path: Path, sqlite_template: Path) -> Iterator[Instance]:
    instance = sqlite_instance(tmp_path, sqlite_template, FEED_PAGE_SIZE=20)
    instance.add_city("irkutsk", "Иркутск")
    with instance.app.app_context():
        city = db.session.scalar(select(City).where(City.slug == "irkutsk"))
        for i in range(HISTORY):
            body = practice_body(title=f"Практика {i}", body=f"Подробности {i} " * 20)
            create_entry("practice", PracticeInSchema().load(body), city=city, commit=False)
        db.session.commit()
    yield instance
    instance.close()


def mirror_poll(database_url: str, *args: str) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-backfill",
        "FEED_AUTHORITY": "mirror.test",
        "MIRROR_ALLOW_PRIVATE_ADDRESSES": "1",
        "MIRROR_BATCH_ENTRIES": "100",
        "MIRROR_LEASE": "2",
        "WEBSUB_SUBSCRIBE": "0",
    }
    return subprocess.Popen(
        [str(BIN / "flask"), "--app", "wsgi", "mirror", "poll", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def state(app: Flask, sub_id: int) -> tuple[int, str | None, int]:
    with app.app_context():
        sub = db.session.get(Subscription, sub_id)
        assert sub is not None
        count = db.session.scalar(select(func.count(Entry.id)).where(Entry.origin == "mirror"))
        db.session.rollback()
        return sub.backfill_pages, sub.backfill_cursor, int(count or 0)


def test_killed_backfill_resumes_and_admin_writes_succeed(
    app: Flask, api: Api, database_url: str, source: Instance
) -> None:
    with app.app_context():
        sub = Subscription(url=source.url("/feeds/all.atom"))
        db.session.add(sub)
        db.session.commit()
        sub_id = sub.id
    token = api.city("omsk", "Омск") and api.token("omsk")

    process = mirror_poll(database_url)
    writes, failed = 0, []
    deadline = time.monotonic() + 60
    while state(app, sub_id)[0] < 15:  # a few batches stored: kill it in the middle
        assert process.poll() is None, process.stdout.read() if process.stdout else ""
        assert time.monotonic() < deadline
        answer = api.post("/api/v1/practices", practice_body(title=f"Своя {writes}"), token)
        writes += 1
        if answer.status_code != 201:
            failed.append((answer.status_code, answer.json))
    process.send_signal(signal.SIGKILL)
    process.communicate()
    pages, cursor, mirrored = state(app, sub_id)
    assert pages >= 15 and cursor is not None and 0 < mirrored < HISTORY
    assert writes > 0 and failed == []

    time.sleep(2.5)  # the dead worker's lease (MIRROR_LEASE=2) runs out
    rerun = mirror_poll(database_url, "--json")
    output, _ = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, output
    summary = json.loads(output.strip().splitlines()[-1])
    assert summary["errors"] == 0 and summary["new"] == HISTORY - mirrored

    with app.app_context():
        done = db.session.get(Subscription, sub_id)
        assert done is not None and done.backfilled and done.backfill_cursor is None
        uids = set(db.session.scalars(select(Entry.uid).where(Entry.origin == "mirror")))
        assert uids == set(source.snapshots())
        twice = db.session.execute(
            select(EntryChange.entry_uid, EntryChange.at)
            .group_by(EntryChange.entry_uid, EntryChange.at)
            .having(func.count() > 1)
        ).all()
        assert twice == []
