"""marshmallow fields and a base schema with Russian error messages.

Admins read these messages in the web forms, and API clients see them in the
``errors`` object next to the field they concern.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate

COMMON = {
    "required": "Обязательное поле.",
    "null": "Поле не может быть null.",
    "validator_failed": "Недопустимое значение.",
}


class Str(fields.String):
    default_error_messages = {**COMMON, "invalid": "Ожидается строка."}  # noqa: RUF012


class Int(fields.Integer):
    default_error_messages = {  # noqa: RUF012
        **COMMON,
        "invalid": "Ожидается целое число.",
        "too_large": "Слишком большое число.",
    }


class Date(fields.Date):
    default_error_messages = {  # noqa: RUF012
        **COMMON,
        "invalid": "Ожидается дата в формате ГГГГ-ММ-ДД.",
        "format": "Неверный формат даты.",
    }


class Email(fields.Email):
    default_error_messages = {**COMMON, "invalid": "Неверный адрес электронной почты."}  # noqa: RUF012


class List(fields.List):
    default_error_messages = {**COMMON, "invalid": "Ожидается список."}  # noqa: RUF012


class Nested(fields.Nested):
    default_error_messages = {**COMMON, "type": "Ожидается объект."}  # noqa: RUF012


class Bool(fields.Boolean):
    default_error_messages = {**COMMON, "invalid": "Ожидается true или false."}  # noqa: RUF012


def not_blank(value: str) -> None:
    if not value.strip():
        raise ValidationError("Поле не может быть пустым.")


def one_of(choices: Any, names: str | None = None) -> validate.OneOf:
    listed = names or ", ".join(str(c) for c in choices)
    return validate.OneOf(choices, error=f"Допустимые значения: {listed}.")


def length(max_: int, min_: int | None = None) -> validate.Length:
    return validate.Length(min=min_, max=max_, error=f"Длина должна быть не больше {max_}.")


def date_range(min_: date, max_: date) -> validate.Range:
    return validate.Range(
        min=min_, max=max_, error=f"Допустимы даты с {min_.year} по {max_.year} год."
    )


def int_range(min_: int, max_: int) -> validate.Range:
    return validate.Range(min=min_, max=max_, error=f"Допустимо от {min_} до {max_}.")


class BaseSchema(Schema):
    """Unknown fields are an error that names them."""

    class Meta:
        unknown = RAISE

    error_messages = {  # noqa: RUF012
        "unknown": "Неизвестное поле.",
        "type": "Ожидается объект JSON.",
    }
