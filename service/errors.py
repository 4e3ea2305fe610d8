"""One exception hierarchy for the whole service.

Every error the service raises on purpose derives from :class:`ServiceError`.
The web layer maps them to HTTP answers (JSON for the API, a Russian HTML page
for the site); the CLI prints the message and exits non-zero. Lower-layer
errors (SQLAlchemy, httpx, lxml) are wrapped with ``raise ... from e`` and
never leak to callers.
"""

from __future__ import annotations


class ServiceError(Exception):
    """Root of every error the service raises on purpose.

    ``message`` is shown to people (Russian); ``field`` names the offending
    input field when there is one.
    """

    status_code = 400

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class BadRequestError(ServiceError):
    """A malformed request that is not a record (e.g. a feed's query string)."""

    status_code = 400


class ValidationError(ServiceError):
    """Input that does not satisfy the rules of a record."""

    status_code = 422


class NotFoundError(ServiceError):
    status_code = 404


class ConflictError(ServiceError):
    """The request clashes with stored state (duplicate slug, id in use...)."""

    status_code = 409


class PreconditionFailedError(ServiceError):
    """``If-Match`` names another version than the stored one."""

    status_code = 412


class AuthError(ServiceError):
    """Missing or invalid credentials."""

    status_code = 401


class PermissionDeniedError(ServiceError):
    """Valid credentials, but not for this city's entries."""

    status_code = 403


class GoneError(ServiceError):
    """The record existed and was deleted."""

    status_code = 410


class QuestionnaireError(ServiceError):
    """A questionnaire text that cannot be read; ``part`` names what is missing."""

    status_code = 422

    def __init__(self, message: str, *, part: str) -> None:
        super().__init__(message, field=part)
        self.part = part


class FeedError(ServiceError):
    """A remote feed could not be fetched, parsed or trusted."""

    status_code = 502


class ConfigError(ServiceError):
    """A setting with a value of the wrong type (instance/config.py or the environment)."""
