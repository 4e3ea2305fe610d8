"""Guessing a note's or an event's topics from its text.

Pure: no Flask, no database (stems come from :mod:`service.entries.search`).
"""

from __future__ import annotations

from service.entries.search import stems

#: Word stems that point to a topic of the shipped list.
TOPIC_HINTS: dict[str, tuple[str, ...]] = {
    "organization-hr": ("организацион", "кадров"),
    "youth-policy": ("молодежн", "молодеж"),
    "culture": ("культур", "дельфийск", "праздник", "фестивал"),
    "public-transport": ("транспорт", "маршрут", "автобус", "трамва"),
    "sport": ("спорт", "физкультур"),
    "education": ("образован", "школ"),
    "informatization": ("информатизац", "цифров"),
    "ecology": ("экологи", "благоустройств", "озеленен"),
    "housing-construction": ("жкх", "строительств", "жилищн"),
    "healthcare": ("здравоохранен",),
    "social-support": ("социальн",),
    "economy-finance": ("бюджет", "экономик", "финанс"),
    "international": ("международн",),
}


def guess_topics(*texts: str) -> list[str]:
    """Codes of the topics whose hints occur in ``texts``, in the list's order."""
    found = " ".join(stems(" ".join(texts)))
    return [code for code, hints in TOPIC_HINTS.items() if any(h in found for h in hints)]
