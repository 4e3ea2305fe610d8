"""The service's vocabulary: every closed set of values, with its Russian names.

Columns, schemas, feeds, pages and the CLI take their choices from here, so a
value is added in one place. Each enum member's ``label`` is the word a
page shows; the topic list ships with the service.
"""

from __future__ import annotations

import enum
from typing import ClassVar


class Choice(enum.StrEnum):
    """A closed set of string values with Russian names (``NAMES``)."""

    NAMES: ClassVar[dict[str, str]]

    @property
    def label(self) -> str:
        return type(self).NAMES[str(self)]

    @classmethod
    def values(cls) -> tuple[str, ...]:
        return tuple(str(member) for member in cls)

    @classmethod
    def names(cls) -> dict[str, str]:
        """{value: Russian name}, in declaration order."""
        return {str(member): member.label for member in cls}


class Kind(Choice):
    PRACTICE = "practice"
    EVENT = "event"


Kind.NAMES = {"practice": "Практика", "event": "Мероприятие"}
#: Plural headings of the kinds ("Практики", "Мероприятия").
KIND_PLURALS = {Kind.PRACTICE.value: "Практики", Kind.EVENT.value: "Мероприятия"}


class Status(Choice):
    DRAFT = "draft"
    PUBLISHED = "published"


Status.NAMES = {"draft": "Черновик", "published": "Опубликовано"}


class Origin(Choice):
    LOCAL = "local"
    MIRROR = "mirror"


Origin.NAMES = {"local": "Города этого сервера", "mirror": "С других серверов"}


class EventFormat(Choice):
    ONLINE = "online"
    OFFLINE = "offline"
    HYBRID = "hybrid"


EventFormat.NAMES = {"online": "онлайн", "offline": "очно", "hybrid": "смешанный формат"}


class EventStage(Choice):
    """Whether an event was held or is planned (a questionnaire's plans name planned ones)."""

    HELD = "held"
    PLANNED = "planned"


EventStage.NAMES = {"held": "проведено", "planned": "запланировано"}


class EventLevel(Choice):
    MUNICIPAL = "municipal"
    REGIONAL = "regional"
    INTERREGIONAL = "interregional"
    INTERNATIONAL = "international"


EventLevel.NAMES = {
    "municipal": "муниципальный",
    "regional": "региональный",
    "interregional": "межрегиональный",
    "international": "международный",
}


class SubscriptionState(Choice):
    """Where a subscription stands: polled, failing (retried with backoff) or gone (410)."""

    ACTIVE = "active"
    ERROR = "error"
    GONE = "gone"


SubscriptionState.NAMES = {"active": "работает", "error": "ошибка", "gone": "удалена (410)"}


class PollStatus(Choice):
    """How one poll of a subscription ended."""

    OK = "ok"
    NOT_MODIFIED = "not-modified"
    ERROR = "error"
    GONE = "gone"


PollStatus.NAMES = {
    "ok": "прочитана",
    "not-modified": "без изменений",
    "error": "ошибка",
    "gone": "удалена (410)",
}


class HubState(Choice):
    """A subscriber of this instance's hub: waiting for verification of intent, or verified."""

    PENDING = "pending"
    ACTIVE = "active"


HubState.NAMES = {"pending": "ждёт проверки", "active": "работает"}


class PushState(Choice):
    """Push (WebSub) for a subscription: how this instance stands with the feed's hub."""

    NONE = "none"
    REQUESTED = "requested"
    ACTIVE = "active"
    DENIED = "denied"
    ERROR = "error"


PushState.NAMES = {
    "none": "нет",
    "requested": "запрошена",
    "active": "работает",
    "denied": "отклонена хабом",
    "error": "ошибка",
}


#: The Association's sections: stable Latin codes (URLs, feeds, the API) and
#: the Russian titles shown to people, in the list's order.
TOPICS: tuple[tuple[str, str], ...] = (
    ("informatization", "Информатизация ОМСУ"),
    ("land-property", "Земельно-имущественные отношения"),
    ("information-policy", "Информационная политика"),
    ("local-government", "Местное самоуправление"),
    ("housing-construction", "ЖКХ и строительство"),
    ("consumer-market", "Потребительский рынок и услуги"),
    ("public-transport", "Городской пассажирский транспорт"),
    ("urban-planning", "Градоустройство"),
    ("legal", "Юридическая"),
    ("education", "Муниципальное образование"),
    ("economy-finance", "Экономика и финансы города"),
    ("youth-policy", "Муниципальная молодёжная политика"),
    ("organization-hr", "Организационная и кадровая работа ОМСУ"),
    ("international", "Внешнеэкономическая и международная деятельность"),
    ("labour-relations", "Социально-трудовые отношения"),
    ("elections", "Муниципальные выборы"),
    ("civil-defence", "ГО, ЧС и пожарная безопасность"),
    ("sport", "Муниципальный спорт и физкультура"),
    ("healthcare", "Здравоохранение"),
    ("social-support", "Социальная поддержка"),
    ("culture", "Культура"),
    ("ecology", "Экология и благоустройство"),
)

TOPIC_CODES: frozenset[str] = frozenset(code for code, _ in TOPICS)
TOPIC_NAMES: dict[str, str] = dict(TOPICS)
