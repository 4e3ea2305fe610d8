"""API tokens and admin accounts.

Tokens are random, shown once, and stored only as a SHA-256 hash (they carry
256 bits of entropy, so a fast hash is the right tool). Admin passwords are
hashed with werkzeug's scrypt; a login with an unknown email checks a dummy
hash, so both answers take the same time. A password is at least
:data:`PASSWORD_MIN` characters, not blank, and not in the list of common
passwords shipped in ``service/data/common-passwords.txt``. Every admin has a
session version that its sessions carry: logout and a password change move it
on, which ends every session signed before.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from pathlib import Path

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


def admin_principal(user: AdminUser) -> Principal:
    """The principal a logged-in admin acts as: its city, and the instance if it has the role."""
    return Principal(city_id=user.city_id, label=user.email, instance_admin=user.instance_admin)


PASSWORD_MIN = 10
COMMON_PASSWORDS = Path(__file__).parent / "data" / "common-passwords.txt"


@functools.cache
def common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line and not line.startswith("#"))


def check_password(password: str) -> None:
    """The password rule; :class:`ValidationError` naming ``password`` when it fails."""
    if not password.strip():
        raise ValidationError("Пароль не может состоять из одних пробелов", field="password")
    if len(password) < PASSWORD_MIN:
        raise ValidationError(
            f"Пароль должен быть не короче {PASSWORD_MIN} символов", field="password"
        )
    if password.strip().lower() in common_passwords():
        raise ValidationError(
            "Этот пароль слишком распространён: его подбирают первым. Выберите другой",
            field="password",
        )


def _password_hash(password: str) -> str:
    check_password(password)
    return generate_password_hash(password, "scrypt")


def create_admin(
    email: str, city: City, password: str, *, instance_admin: bool = False
) -> AdminUser:
    email = email.strip().lower()
    if "@" not in email:
        raise ValidationError("Неверный адрес электронной почты", field="email")
    password_hash = _password_hash(password)
    if db.session.scalar(select(AdminUser).where(AdminUser.email == email)):
        raise ConflictError("Такой администратор уже есть", field="email")
    user = AdminUser(
        email=email, city_id=city.id, password_hash=password_hash, instance_admin=instance_admin
    )
    db.session.add(user)
    db.session.commit()
    return user


def find_admin(email: str) -> AdminUser:
    user = db.session.scalar(select(AdminUser).where(AdminUser.email == email.strip().lower()))
    if user is None:
        raise NotFoundError(f"Администратора {email} нет", field="email")
    return user


def change_password(user: AdminUser, password: str) -> None:
    """Set a new password; every session of the admin ends."""
    user.password_hash = _password_hash(password)
    user.password_changed = utcnow()
    end_sessions(user)


def end_sessions(user: AdminUser) -> None:
    """End every session of the admin (logout, password change)."""
    user.session_version += 1
    db.session.commit()


@functools.cache
def _dummy_hash() -> str:
    """A hash to check when the email is unknown, so that answer takes as long."""
    return generate_password_hash(secrets.token_urlsafe(16), "scrypt")


def authenticate_admin(email: str, password: str) -> AdminUser:
    user = db.session.scalar(select(AdminUser).where(AdminUser.email == email.strip().lower()))
    matches = check_password_hash(user.password_hash if user else _dummy_hash(), password)
    if user is None or not matches:
        raise AuthError("Неверный адрес или пароль", field="password")
    return user


def session_admin(admin_id: object, version: object) -> AdminUser | None:
    """The admin a session names, if the session is still in force (its version is current)."""
    if not isinstance(admin_id, int) or not isinstance(version, int):
        return None
    user = db.session.get(AdminUser, admin_id)
    return user if user is not None and user.session_version == version else None
