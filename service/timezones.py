"""Cities' time zones: the IANA zone a city's admin pages show times in.

A city gets a default from its region or name (the Association's cities are
in Siberia and the Far East, from UTC+5 to UTC+12); its admins can change it.
Only the standard library's :mod:`zoneinfo` (the system's tz database).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

#: Where a city not found below is taken to be.
FALLBACK_ZONE = "Europe/Moscow"

#: The beginnings of words of region and city names, and their zones (first match wins).
ZONE_STEMS: tuple[tuple[str, str], ...] = (
    ("калинин", "Europe/Kaliningrad"),
    ("самар", "Europe/Samara"), ("удмурт", "Europe/Samara"), ("ижевск", "Europe/Samara"),
    ("тюмен", "Asia/Yekaterinburg"), ("свердлов", "Asia/Yekaterinburg"),
    ("екатеринбург", "Asia/Yekaterinburg"), ("курган", "Asia/Yekaterinburg"),
    ("челябинск", "Asia/Yekaterinburg"), ("ханты", "Asia/Yekaterinburg"),
    ("югр", "Asia/Yekaterinburg"), ("сургут", "Asia/Yekaterinburg"),
    ("ямал", "Asia/Yekaterinburg"), ("салехард", "Asia/Yekaterinburg"),
    ("пермск", "Asia/Yekaterinburg"), ("пермь", "Asia/Yekaterinburg"),
    ("башк", "Asia/Yekaterinburg"), ("уфа", "Asia/Yekaterinburg"),
    ("оренбург", "Asia/Yekaterinburg"),
    ("омск", "Asia/Omsk"),
    ("новосибирск", "Asia/Novosibirsk"),
    ("томск", "Asia/Tomsk"),
    ("кемеров", "Asia/Novokuznetsk"), ("кузбасс", "Asia/Novokuznetsk"),
    ("новокузнецк", "Asia/Novokuznetsk"), ("прокопьевск", "Asia/Novokuznetsk"),
    ("междуреченск", "Asia/Novokuznetsk"),
    ("алтай", "Asia/Barnaul"), ("барнаул", "Asia/Barnaul"), ("бийск", "Asia/Barnaul"),
    ("горно-алтайск", "Asia/Barnaul"), ("рубцовск", "Asia/Barnaul"),
    ("красноярск", "Asia/Krasnoyarsk"), ("норильск", "Asia/Krasnoyarsk"),
    ("хакас", "Asia/Krasnoyarsk"), ("абакан", "Asia/Krasnoyarsk"),
    ("тыва", "Asia/Krasnoyarsk"), ("тува", "Asia/Krasnoyarsk"), ("кызыл", "Asia/Krasnoyarsk"),
    ("иркутск", "Asia/Irkutsk"), ("братск", "Asia/Irkutsk"), ("ангарск", "Asia/Irkutsk"),
    ("бурят", "Asia/Irkutsk"), ("улан-удэ", "Asia/Irkutsk"),
    ("забайкал", "Asia/Chita"), ("чита", "Asia/Chita"), ("читин", "Asia/Chita"),
    ("якут", "Asia/Yakutsk"), ("саха", "Asia/Yakutsk"), ("амурск", "Asia/Yakutsk"),
    ("благовещенск", "Asia/Yakutsk"),
    ("хабаровск", "Asia/Vladivostok"), ("комсомольск", "Asia/Vladivostok"),
    ("примор", "Asia/Vladivostok"), ("владивосток", "Asia/Vladivostok"),
    ("еврейск", "Asia/Vladivostok"), ("биробиджан", "Asia/Vladivostok"),
    ("магадан", "Asia/Magadan"),
    ("южно-сахалинск", "Asia/Sakhalin"), ("сахалин", "Asia/Sakhalin"),
    ("камчат", "Asia/Kamchatka"), ("петропавловск-камчатск", "Asia/Kamchatka"),
    ("чукот", "Asia/Anadyr"), ("анадырь", "Asia/Anadyr"),
)  # fmt: skip

#: The zones an admin picks from (Russia's, west to east), with a Russian name.
ZONE_CHOICES: tuple[tuple[str, str], ...] = (
    ("Europe/Kaliningrad", "Калининград"),
    ("Europe/Moscow", "Москва"),
    ("Europe/Samara", "Самара"),
    ("Asia/Yekaterinburg", "Екатеринбург"),
    ("Asia/Omsk", "Омск"),
    ("Asia/Novosibirsk", "Новосибирск"),
    ("Asia/Barnaul", "Барнаул"),
    ("Asia/Tomsk", "Томск"),
    ("Asia/Novokuznetsk", "Новокузнецк"),
    ("Asia/Krasnoyarsk", "Красноярск"),
    ("Asia/Irkutsk", "Иркутск"),
    ("Asia/Chita", "Чита"),
    ("Asia/Yakutsk", "Якутск"),
    ("Asia/Vladivostok", "Владивосток, Хабаровск"),
    ("Asia/Magadan", "Магадан"),
    ("Asia/Sakhalin", "Южно-Сахалинск"),
    ("Asia/Srednekolymsk", "Среднеколымск"),
    ("Asia/Kamchatka", "Петропавловск-Камчатский"),
    ("Asia/Anadyr", "Анадырь"),
)
ZONE_NAMES = dict(ZONE_CHOICES)
MAX_ZONE_LENGTH = 64

_WORD = re.compile(r"[\w-]+")


def default_time_zone(*names: str | None) -> str:
    """The zone of the first of ``names`` (a region, a city name) that one is known for."""
    for name in names:
        for word in _WORD.findall((name or "").casefold().replace("ё", "е")):
            for stem, zone in ZONE_STEMS:
                if word.startswith(stem):
                    return zone
    return FALLBACK_ZONE


def zone(name: str) -> ZoneInfo | None:
    """The zone of an IANA name, None when the name is not one."""
    if not name or len(name) > MAX_ZONE_LENGTH or name.startswith(("/", ".")):
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def utc_offset(delta: timedelta | None) -> str:
    """``UTC+6``, ``UTC+5:30``, ``UTC``."""
    minutes = int((delta or timedelta()).total_seconds() // 60)
    if minutes == 0:
        return "UTC"
    sign = "+" if minutes > 0 else "−"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


def local_time(value: datetime, zone_name: str | None) -> datetime:
    """``value`` (UTC) in the zone (UTC when the name is missing or unknown)."""
    found = zone(zone_name or "")
    return value.astimezone(found) if found is not None else value
