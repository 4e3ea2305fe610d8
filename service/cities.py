"""Cities hosted here or known from mirrored feeds."""

from __future__ import annotations

import re

from sqlalchemy import select

from service.errors import ConflictError, ValidationError
from service.store.models import City, db

SLUG = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")


def add_city(slug: str, name: str, region: str | None = None) -> City:
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
    city = City(slug=slug, name=name.strip(), region=region, local=True)
    db.session.add(city)
    db.session.commit()
    return city


def list_cities() -> list[City]:
    return list(db.session.scalars(select(City).order_by(City.local.desc(), City.name)))
