"""Cities hosted here or known from mirrored feeds."""

from __future__ import annotations

import re

from sqlalchemy import select

from service.errors import ConflictError, ValidationError
from service.store.models import City, db
from service.timezones import default_time_zone, zone

SLUG = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")


def add_city(slug: str, name: str, region: str | None = None, time_zone: str | None = None) -> City:
    """A city hosted here; its time zone defaults to its region's (or its name's)."""
    slug = slug.strip()
    if not SLUG.match(slug) or len(slug) > 64:
        raise ValidationError(
            "Код города: строчные латинские буквы, цифры и дефис (например, ulan-ude)",
            field="slug",
        )
    if not name.strip():
        raise ValidationError("Укажите название города", field="name")
    if db.session.scalar(select(City).where(City.slug == slug)):
        raise ConflictError(f"Город «{slug}» уже есть", field="slug")
    zone = check_time_zone(time_zone) if time_zone else default_time_zone(region, name)
    city = City(slug=slug, name=name.strip(), region=region, local=True, time_zone=zone)
    db.session.add(city)
    db.session.commit()
    return city


def list_cities() -> list[City]:
    return list(db.session.scalars(select(City).order_by(City.local.desc(), City.name)))


def check_time_zone(name: str) -> str:
    """An IANA zone name as given, or a :class:`ValidationError` naming ``time_zone``."""
    name = name.strip()
    if zone(name) is None:
        raise ValidationError(
            f"Часовой пояс «{name[:64]}» неизвестен: укажите имя IANA, например Asia/Omsk",
            field="time_zone",
        )
    return name


def set_time_zone(city: City, name: str) -> City:
    city.time_zone = check_time_zone(name)
    db.session.commit()
    return city
