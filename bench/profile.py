"""Sampling profiles of this process with py-spy (every thread), summarised as text.

``with sampled(path):`` records the running process (``py-spy record --pid``,
raw folded stacks) while the block runs; :func:`summary` turns the stacks
into the functions with the most samples, by own time and by inclusive time,
and by thread role (the main thread stores, the pool threads fetch and parse).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def sampled(path: Path, rate: int = 250) -> Iterator[None]:
    """Record this process's stacks (all threads) into ``path`` while the block runs."""
    spy = str(Path(sys.executable).parent / "py-spy")
    if not Path(spy).exists():
        spy = shutil.which("py-spy") or "py-spy"
    process = subprocess.Popen(
        [
            spy,
            "record",
            "--pid",
            str(os.getpid()),
            "--format",
            "raw",
            "--rate",
            str(rate),
            "--threads",
            "--nonblocking",
            "--output",
            str(path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(0.5)  # attach before the work starts
    try:
        yield
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(30)


def _frame(frame: str) -> str:
    name, _, where = frame.partition(" (")
    where = where.rstrip(")")
    for marker in ("site-packages/", "/wt-feeds14/", "/lib/python3"):
        if marker in where:
            where = where.split(marker, 1)[1]
    return f"{name} ({where.rsplit(':', 1)[0]})"


def summary(path: Path, top: int = 18) -> str:
    """The most sampled functions: own time and inclusive time, per thread role."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    roles: Counter[str] = Counter()
    total = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        thread, frames = frames[0], [_frame(f) for f in frames[1:]]
        if not frames:
            continue
        total += count
        roles["main thread (store)" if "MainThread" in thread else "other threads"] += count
        own[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count
    if not total:
        return "      (no samples)"
    lines = [f"      {total} samples; " + ", ".join(
        f"{role} {n / total:.0%}" for role, n in roles.most_common())]  # fmt: skip
    lines.append("      own time:")
    lines += [f"        {n / total:6.1%}  {name}" for name, n in own.most_common(top)]
    lines.append("      inclusive:")
    lines += [f"        {n / total:6.1%}  {name}" for name, n in inclusive.most_common(top)]
    return "\n".join(lines)
