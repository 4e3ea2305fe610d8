"""API tokens and admin accounts.

Tokens are random, shown once, and stored only as a SHA-256 hash (they carry
256 bits of entropy, so a fast hash is the right tool). Admin passwords are
hashed with werkzeug's scrypt.
"""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from service.entries.access import Principal
from service.errors import AuthError, ConflictError, NotFoundError, ValidationError
from service.store.models import AdminUser, ApiToken, City, db, utcnow

TOKEN_PREFIX = "asdg_"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(city: City | None, label: str = "") -> tuple[ApiToken, str]:
    """Make a token for a city (or, with ``city=None``, for the operator).

    Returns the record and the plain token, which is not stored anywhere.
    """
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    record = ApiToken(city_id=city.id if city else None, label=label, token_hash=_hash(plain))
    db.session.add(record)
    db.session.commit()
    return record, plain


def revoke_token(token_id: int, principal: Principal) -> None:
    record = db.session.get(ApiToken, token_id)
    if record is None or not (principal.operator or record.city_id == principal.city_id):
        raise NotFoundError("Ключ не найден", field="id")
    record.revoked = utcnow()
    db.session.commit()


def list_tokens(city_id: int | None) -> list[ApiToken]:
    query = select(ApiToken).order_by(ApiToken.created.desc())
    if city_id is not None:
        query = query.where(ApiToken.city_id == city_id)
    return list(db.session.scalars(query))


def principal_for_token(plain: str) -> Principal:
    """The principal a bearer token stands for, or :class:`AuthError`."""
    record = db.session.scalar(
        select(ApiToken).where(ApiToken.token_hash == _hash(plain), ApiToken.revoked.is_(None))
    )
    if record is None:
        raise AuthError("Недействительный ключ доступа", field="Authorization")
    return Principal(city_id=record.city_id, operator=record.city_id is None, label=record.label)


def create_admin(email: str, city: City, password: str) -> AdminUser:
    email = email.strip().lower()
    if "@" not in email:
        raise ValidationError("Неверный адрес электронной почты", field="email")
    if len(password) < 8:
        raise ValidationError("Пароль должен быть не короче 8 символов", field="password")
    if db.session.scalar(select(AdminUser).where(AdminUser.email == email)):
        raise ConflictError("Такой администратор уже есть", field="email")
    user = AdminUser(
        email=email, city_id=city.id, password_hash=generate_password_hash(password, "scrypt")
    )
    db.session.add(user)
    db.session.commit()
    return user


def authenticate_admin(email: str, password: str) -> AdminUser:
    user = db.session.scalar(select(AdminUser).where(AdminUser.email == email.strip().lower()))
    if user is None or not check_password_hash(user.password_hash, password):
        raise AuthError("Неверный адрес или пароль", field="password")
    return user
