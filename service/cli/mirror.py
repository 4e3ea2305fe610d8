"""Command line for mirroring: ``subscribe``, ``subscriptions``, ``mirror poll|run``.

Thin click wrappers over :mod:`service.mirror.subscriptions`.
"""

from __future__ import annotations

import json
import signal
import threading
from contextlib import ExitStack
from datetime import datetime
from typing import IO, Any

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from service.cli.errors import friendly_errors
from service.mirror import subscriptions
from service.mirror.results import (
    PollResult,
    Summary,
    error_line,
    log_line,
    summary_json,
    summary_text,
    totals,
)
from service.push.status import push_line
from service.push.worker import start_push
from service.store.models import Subscription, utcnow
from service.vocab import SubscriptionState

STATES = SubscriptionState.names()


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "—"


@click.command("subscribe")
@click.argument("url", required=False)
@click.option(
    "--opml", "opml", type=click.File("rb"), help="Subscribe to every feed of an OPML file."
)
@with_appcontext
@friendly_errors
def subscribe_command(url: str | None, opml: IO[bytes] | None) -> None:
    """Subscribe to a feed (URL of the feed or of a page that links it)."""
    if (url is None) == (opml is None):
        raise click.UsageError("Укажите либо URL, либо --opml FILE")
    created = [subscriptions.add_subscription(url)] if url else []
    if opml is not None:
        created = subscriptions.import_opml(opml.read())
    for sub in created:
        click.echo(f"Подписка #{sub.id}: {sub.url}" + (f" ({sub.title})" if sub.title else ""))
    if not created:
        click.echo("Новых подписок нет: все ленты из файла уже подписаны.")


def describe(sub: Subscription) -> str:
    lines = [
        f"#{sub.id} {sub.url}",
        f"  {sub.title or '(без названия)'} — {STATES.get(sub.state, sub.state)}",
        f"  опрос: {_when(sub.last_poll)}, успешно: {_when(sub.last_success)}, "
        f"следующий: {_when(sub.next_poll)}, записей: {sub.entries_mirrored}, "
        f"ошибок подряд: {sub.failures}",
    ]
    if sub.last_error:
        lines.append(f"  последняя ошибка: {sub.last_error}")
    lines.append(f"  push: {push_line(sub.id)}")
    return "\n".join(lines)


@click.command("subscriptions")
@with_appcontext
@friendly_errors
def subscriptions_command() -> None:
    """List subscriptions with their status."""
    subs = subscriptions.list_subscriptions()
    if not subs:
        click.echo("Подписок нет.")
    for sub in subs:
        click.echo(describe(sub))


mirror_cli = AppGroup("mirror", help="Mirror subscribed feeds.")


class _Progress:
    """A click progress bar over feeds, with running totals."""

    def __init__(self, stack: ExitStack) -> None:
        self.stack = stack
        self.summary = Summary()
        self.bar: Any = None

    def start(self, total: int) -> None:
        if total:
            self.bar = self.stack.enter_context(
                click.progressbar(
                    length=total, label="Ленты", show_pos=True, item_show_func=self._totals
                )
            )

    def _totals(self, _: Any) -> str:
        return totals(self.summary)

    def done(self, result: PollResult) -> None:
        self.summary.add(result)
        if self.bar is not None:
            self.bar.update(1, result)


@mirror_cli.command("poll")
@click.option("--all", "everything", is_flag=True, help="Every subscription, due or not.")
@click.option("--json", "as_json", is_flag=True, help="One JSON summary line, no progress bar.")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="At most this many feeds.")
@friendly_errors
def mirror_poll(everything: bool, as_json: bool, limit: int | None) -> None:
    """Poll every due subscription once, with a progress bar."""
    if as_json:
        summary = subscriptions.poll_due(everything=everything, limit=limit)
        click.echo(json.dumps(summary_json(summary)))
        return
    with ExitStack() as stack:
        progress = _Progress(stack)
        summary = subscriptions.poll_due(
            everything=everything, limit=limit, on_start=progress.start, on_result=progress.done
        )
    click.echo(summary_text(summary))
    for result in summary.results:
        if result.error:
            click.echo(f"  {error_line(result)}", err=True)


@mirror_cli.command("run")
@click.option(
    "--idle",
    type=click.FloatRange(min=0.2),
    default=2.0,
    help="Longest sleep between checks for due feeds, seconds (new subscriptions wait this long).",
)
@friendly_errors
def mirror_run(idle: float) -> None:
    """Poll on schedule and do the push work until stopped (Ctrl+C or SIGTERM).

    Polls run in this thread; the WebSub work (the hub's verifications and
    deliveries, this instance's subscriptions at other hubs) in another, so
    a long poll never holds up a delivery.
    """
    stop = threading.Event()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: stop.set())

    def say(line: str) -> None:
        click.echo(f"{utcnow():%Y-%m-%d %H:%M:%S} {line}")

    click.echo("Зеркалирование запущено.")
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    pushing = start_push(app, stop, on_event=say)
    try:
        subscriptions.run_forever(
            stop=stop, idle=idle, on_result=lambda result: say(log_line(result))
        )
    except KeyboardInterrupt:
        stop.set()
    finally:
        stop.set()
        pushing.join(timeout=30)
    click.echo("Зеркалирование остановлено.")


COMMANDS = (subscribe_command, subscriptions_command, mirror_cli)
