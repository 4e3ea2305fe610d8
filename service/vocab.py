"""The topic list the service ships: the Association's own sections.

Codes are stable Latin identifiers used in URLs, feeds and the API; names are
the Russian titles shown to people. Order is the order of the list.
"""

from __future__ import annotations

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
