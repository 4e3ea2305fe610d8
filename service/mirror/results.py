"""What a poll did, and every wording of it.

:class:`PollResult` is one poll's outcome, :class:`Summary` the totals of
several. The texts people read about them live here only: the log line of
``mirror run`` (:func:`log_line`), the CLI's progress and summary
(:func:`totals`, :func:`summary_text`, :func:`error_line`), the admin page's
message after "poll now" (:func:`poll_message`), the subscription's error
text for refused and unreadable entries (:func:`describe_trouble`) and the
error recorded for a failed poll (:func:`failure_text`, :func:`internal_error`).
"""

from __future__ import annotations

import errno
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy.exc import SQLAlchemyError

from feeds.decide import Refusal, Refused
from feeds.errors import FeedsError, FetchError
from feeds.types import DroppedLink, LinkFlaw, LinkKind
from service.errors import FeedError
from service.vocab import PollStatus


@dataclass
class PollResult:
    subscription_id: int
    url: str
    status: PollStatus
    new: int = 0
    updated: int = 0
    deleted: int = 0
    skipped: int = 0
    refused: int = 0
    pages: int = 0
    links_dropped: int = 0
    #: Records refused because their site's key is not known yet (retried by the next poll).
    waiting: int = 0
    #: Why entries were refused (the first :data:`MAX_REASONS`), over every batch of the poll.
    reasons: list[str] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0

    @property
    def failed(self) -> bool:
        return self.status in (PollStatus.ERROR, PollStatus.GONE)


@dataclass
class Summary:
    """Totals of several polls."""

    feeds: int = 0
    new: int = 0
    updated: int = 0
    deleted: int = 0
    refused: int = 0
    errors: int = 0
    not_modified: int = 0
    #: Subscriptions left alone because they were not due (``mirror poll`` without ``--all``).
    not_due: int = 0
    seconds: float = 0.0
    results: list[PollResult] = field(default_factory=list)

    def add(self, result: PollResult) -> None:
        self.feeds += 1
        self.new += result.new
        self.updated += result.updated
        self.deleted += result.deleted
        self.refused += result.refused
        self.errors += result.failed
        self.not_modified += result.status == PollStatus.NOT_MODIFIED
        self.results.append(result)


# -- one poll -------------------------------------------------------------------------


def log_line(result: PollResult) -> str:
    """One log line: what was polled and what it changed."""
    head = f"#{result.subscription_id} {result.url} {result.status}"
    counts = (
        f"новых {result.new}, изменено {result.updated}, удалено {result.deleted}, "
        f"отклонено {result.refused}, страниц {result.pages}"
    )
    tail = f" — {result.error}" if result.error else ""
    return f"{head}: {counts}, {result.seconds:.2f} с{tail}"


#: The admin page's words for how a poll ended.
STATUS_TEXTS = {
    PollStatus.OK: "лента прочитана",
    PollStatus.NOT_MODIFIED: "лента не изменилась",
    PollStatus.ERROR: "ошибка",
    PollStatus.GONE: "лента удалена на сервере (410), опрос остановлен",
}


#: What an unchanged feed's last poll says (written with the 304s' batch schedule).
NOT_MODIFIED_TEXT = "Опрос: лента не изменилась."


def poll_message(result: PollResult) -> str:
    """The admin page's message after "poll now"."""
    message = f"Опрос {result.url}: {STATUS_TEXTS[result.status]}"
    if result.status == PollStatus.OK:
        message += (
            f"; новых записей {result.new}, изменённых {result.updated}, удалённых {result.deleted}"
        )
    if result.error:
        message += f" ({result.error})"
    return message + "."


def poll_requested_message(name: str) -> str:
    """The admin page's message after "poll now": the worker does it."""
    return f"Опрос ленты {name} запрошен: обработчик опросит её в ближайшие секунды."


def progress_message(result: PollResult, pages: int) -> str:
    """What a backfill under way has done so far (the admin page shows it)."""
    return (
        f"Читается история: архивных страниц {pages}; новых записей {result.new}, "
        f"изменённых {result.updated}, удалённых {result.deleted}, отклонено {result.refused}"
    )


def error_line(result: PollResult) -> str:
    """A poll's error, naming the subscription (the CLI lists them after the summary)."""
    return f"#{result.subscription_id} {result.url}: {result.error}"


# -- several polls ----------------------------------------------------------------------


def totals(summary: Summary) -> str:
    """The running totals beside the CLI's progress bar."""
    s = summary
    return f"новых {s.new}, изменено {s.updated}, удалено {s.deleted}, ошибок {s.errors}"


def summary_text(summary: Summary) -> str:
    """The CLI's closing line of ``mirror poll``."""
    s = summary
    return (
        f"Опрошено лент: {s.feeds} (без изменений: {s.not_modified}; "
        f"не подошёл срок опроса: {s.not_due}); "
        f"записей новых: {s.new}, изменено: {s.updated}, удалено: {s.deleted}, "
        f"отклонено: {s.refused}; ошибок: {s.errors}; {s.seconds:.2f} с"
    )


def summary_json(summary: Summary) -> dict[str, int | float]:
    """``mirror poll --json``: the contract's keys, and ``not_due``."""
    s = summary
    return {
        "feeds": s.feeds,
        "new": s.new,
        "updated": s.updated,
        "deleted": s.deleted,
        "not_modified": s.not_modified,
        "refused": s.refused,
        "errors": s.errors,
        "not_due": s.not_due,
        "seconds": round(s.seconds, 3),
    }


# -- the subscription's error text --------------------------------------------------------

REFUSALS = {
    Refusal.LOCAL_ENTRY: "лента выдаёт себя за записи этого сервера",
    Refusal.LOCAL_CITY: "лента выдаёт себя за записи города «{city}», размещённого на этом сервере",
    Refusal.FOREIGN_CITY: (
        "город «{city}» размещён на другом сервере, не на том, что публикует ленту"
    ),
    Refusal.CITY_MOVED: "запись другого города не может стать записью города «{city}»",
    Refusal.UNSIGNED: "запись без подписи не может заменить подписанную запись (город «{city}»)",
}


def describe_trouble(refused: Iterable[Refused], problems: list[str]) -> str | None:
    """The subscription's error text for refused and unreadable entries; None if none."""
    refused = list(refused)
    parts: list[str] = []
    if refused:
        reasons = dict.fromkeys(REFUSALS[r.reason].format(city=r.city) for r in refused)
        parts.append(f"Отклонено записей: {len(refused)} — " + "; ".join(list(reasons)[:3]))
    if problems:
        parts.append(f"Пропущено записей с ошибками: {len(problems)} — {problems[0]}")
    return ". ".join(parts) if parts else None


#: What a dropped link was, and why it was dropped (:class:`feeds.types.DroppedLink`).
LINK_KINDS = {
    LinkKind.ENTRY: "ссылка записи",
    LinkKind.RECORD: "ссылка на оригинал (asdg:url)",
    LinkKind.SOURCE: "ссылка на источник",
    LinkKind.SITE: "ссылка на сайт ленты",
    LinkKind.HTML_URL: "адрес сайта (htmlUrl) из OPML",
}
LINK_FLAWS = {
    LinkFlaw.SCHEME: "схема «{scheme}», а не http или https",
    LinkFlaw.MALFORMED: "не абсолютный адрес http(s)",
    LinkFlaw.CHARACTERS: "пробелы или управляющие символы",
    LinkFlaw.TOO_LONG: "длиннее 2000 символов",
}


def link_reason(where: str, link: DroppedLink) -> str:
    """One line of the subscription's reasons for a dropped link (no URL of it is shown)."""
    flaw = link.flaw
    if flaw == LinkFlaw.SCHEME and not link.scheme:
        flaw = LinkFlaw.MALFORMED
    why = LINK_FLAWS[flaw].format(scheme=link.scheme)
    head = f"{where[:200]}: " if where else ""
    return f"{head}отброшена {LINK_KINDS[link.kind]}: {why}"


#: Russian words for the operating system's connection errors ("[Errno 111] Connection refused").
CONNECTION_ERRORS = {
    errno.ECONNREFUSED: "сервер не принимает соединения (не запущен или закрыт порт)",
    errno.ECONNRESET: "сервер оборвал соединение",
    errno.ECONNABORTED: "соединение прервано",
    errno.EHOSTUNREACH: "сервер недоступен по сети",
    errno.ENETUNREACH: "сеть недоступна",
    errno.ETIMEDOUT: "сервер не ответил вовремя",
    errno.EHOSTDOWN: "сервер выключен",
}
_ERRNO = re.compile(r"\[Errno (-?\d+)\][^\]\n]*")
_NO_NAME = re.compile(
    "Name or service not known|nodename nor servname|getaddrinfo failed"
    "|No address associated with hostname|Temporary failure in name resolution"
)
NO_NAME = "адрес сервера не найден (нет такого имени в DNS)"


def _connection_words(text: str) -> str:
    """``text`` with the system's English connection errors in Russian."""
    if _NO_NAME.search(text):
        return _ERRNO.sub(NO_NAME, text) if _ERRNO.search(text) else NO_NAME

    def words(match: re.Match[str]) -> str:
        return CONNECTION_ERRORS.get(int(match.group(1)), "сетевая ошибка")

    return _ERRNO.sub(words, text)


#: Reasons kept on the subscription (the count is exact).
MAX_REASONS = 20


def add_reasons(result: PollResult, refused: Iterable[Refused], problems: list[str]) -> str | None:
    """Add a batch's reasons for refusing entries to the poll's; all of them, one a line."""
    room = MAX_REASONS - len(result.reasons)
    lines = [
        f"{r.uid[:200]}: " + REFUSALS[r.reason].format(city=r.city) for r in list(refused)[:room]
    ]
    result.reasons += (lines + problems)[: max(0, room)]
    return "\n".join(result.reasons)[:10_000] if result.reasons else None


def storage_error(error: Exception) -> FeedError:
    """A database error while storing a poll, as a short Russian message (never the SQL)."""
    kind = "конфликт с другой записью" if "Integrity" in type(error).__name__ else "база занята"
    return FeedError(f"Не удалось сохранить записи: {kind}; опрос будет повторён")


def error_text(error: Exception) -> str:
    """An error's own message (a :class:`feeds.errors.FeedsError`'s or a service error's),
    with the system's connection errors in Russian."""
    text = getattr(error, "message", None) or str(error)
    return _connection_words(text) if isinstance(error, FetchError) else text


def failure_text(error: Exception) -> str:
    """What a failed poll records as its error."""
    message = error_text(error)
    if isinstance(error, FeedsError) and not isinstance(error, FetchError):
        message = f"Лента не прочитана: {message}"
    return message


def internal_error(error: Exception) -> FeedError:
    """A bug or an outage during a poll, as the error the poll records (logged too).

    Only the kind of error is kept: a database error's text names the SQL
    statement and its parameters, which admins must never see.
    """
    if isinstance(error, SQLAlchemyError):
        return FeedError("Внутренняя ошибка: база данных не приняла запись")
    return FeedError(f"Внутренняя ошибка: {str(error)[:200] or type(error).__name__}")


#: The error of a poll whose network part was interrupted.
INTERRUPTED = "Опрос прерван"
