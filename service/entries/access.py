"""The one access rule: who may read and write which entries, and who runs the instance.

Every front end (API, web, CLI) and every query (SQL lists, full-text search)
asks this module; nothing else decides access.

- Published entries, own and mirrored, are public.
- A draft is seen only by its own city (its tokens and admins) and by the
  instance operator; for everyone else it does not exist (404 everywhere,
  never 403, so nobody learns that another city's draft exists).
- Own entries are written by their city and by the operator; another city's
  published entry is refused (403). Mirrored entries are read-only copies: only
  their origin city changes them, on its own instance (403).
- Instance-wide settings (subscriptions to other instances' feeds) belong to
  the instance operator: an operator token (``token create --all``) in the
  API, an admin with the instance-admin role on the web.
"""

from __future__ import annotations

from dataclasses import dataclass

from service.errors import NotFoundError, PermissionDeniedError
from service.store.models import Entry
from service.vocab import Origin, Status


@dataclass(frozen=True)
class Principal:
    """Who is acting: a city's token or admin, or the instance operator.

    ``operator`` acts for every city hosted here and manages the instance.
    """

    city_id: int | None
    operator: bool = False
    label: str = ""
    #: An admin with the instance-admin role: manages the instance, writes as its city.
    instance_admin: bool = False

    def may_write(self, city_id: int) -> bool:
        """May act for this city (create and change its entries)?"""
        return self.operator or self.city_id == city_id

    @property
    def manages_instance(self) -> bool:
        """May change instance-wide settings (subscriptions)?"""
        return self.operator or self.instance_admin


@dataclass(frozen=True)
class Term:
    """An equality on one column of ``entries``: how the rule is written for any query."""

    column: str
    value: object


def visibility(viewer: Principal | None) -> tuple[Term, ...]:
    """What makes an entry visible to the viewer: any one of these terms.

    Rendered to SQL by :mod:`service.entries.filters` and to FTS5 facets by
    :mod:`service.entries.search`, so lists and search always agree.
    """
    terms = [Term("status", Status.PUBLISHED.value)]
    if viewer is not None and viewer.operator:
        terms.append(Term("origin", Origin.LOCAL.value))
    elif viewer is not None and viewer.city_id is not None:
        terms.append(Term("city_id", viewer.city_id))
    return tuple(terms)


def may_read(entry: Entry, viewer: Principal | None) -> bool:
    """The same rule as :func:`visibility`, for one loaded entry."""
    if entry.status == Status.PUBLISHED:
        return True
    return viewer is not None and viewer.may_write(entry.city_id)


def check_read(entry: Entry | None, viewer: Principal | None) -> Entry:
    """The entry if the viewer may see it; :class:`NotFoundError` otherwise."""
    if entry is None or not may_read(entry, viewer):
        raise NotFoundError("Запись не найдена", field="id")
    return entry


def check_write(entry: Entry | None, principal: Principal) -> Entry:
    """The entry if the principal may change it.

    Not found (404) when it may not even see it; 403 for a mirrored entry or
    another city's published one.
    """
    entry = check_read(entry, principal)
    if entry.origin == Origin.MIRROR:
        raise PermissionDeniedError(
            "Запись получена из ленты другого города: изменить её может только этот город",
            field="id",
        )
    if not principal.may_write(entry.city_id):
        raise PermissionDeniedError("Запись принадлежит другому городу", field="city")
    return entry


def check_instance_admin(principal: Principal | None) -> Principal:
    """The principal if it manages the instance; :class:`PermissionDeniedError` otherwise."""
    if principal is None or not principal.manages_instance:
        raise PermissionDeniedError(
            "Нужны права администратора сервера: ключ оператора (token create --all) "
            "или роль администратора сервера (admin create --instance-admin)",
            field="Authorization",
        )
    return principal
