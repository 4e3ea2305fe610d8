"""How the command line reports a service error: a Russian message, exit status 1."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from service.errors import ServiceError
from service.store.models import db

F = TypeVar("F", bound=Callable[..., Any])


def friendly_errors(func: F) -> F:
    """Print a service error as a message and exit non-zero, no traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ServiceError as error:
            db.session.rollback()
            where = f" [{error.field}]" if error.field else ""
            click.echo(f"Ошибка{where}: {error.message}", err=True)
            sys.exit(1)

    return wrapper  # type: ignore[return-value]
