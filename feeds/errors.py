"""Errors of the feeds package (kept free of the service layer).

The service layer wraps them into :class:`service.errors.FeedError`.
"""

from __future__ import annotations


class FeedsError(Exception):
    """Root of every error the feeds package raises on purpose."""


class FeedParseError(FeedsError):
    """A feed document that cannot be read: not a feed, malformed, hostile or too big."""


# -- fetching (feeds.fetch, feeds.discover); messages are shown to admins, in Russian --


class FetchError(FeedsError):
    """A feed could not be fetched; ``retry_after`` (seconds) when the server asked."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


class BlockedAddressError(FetchError):
    """The host resolves to a private, loopback or otherwise non-public address (SSRF)."""


class TooLargeError(FetchError):
    """The body is longer than the configured limit."""


class FetchTimeoutError(FetchError):
    """The whole fetch took longer than the configured time."""


class RedirectError(FetchError):
    """Too many redirects, a redirect loop, or a redirect to a non-HTTP URL."""


class HTTPStatusError(FetchError):
    """The server answered with an error status."""

    def __init__(self, message: str, *, status: int, retry_after: float | None = None) -> None:
        super().__init__(message, retry_after=retry_after)
        self.status = status


class FeedGoneError(HTTPStatusError):
    """410 Gone: the feed was removed for good."""


class DiscoveryError(FeedsError):
    """An HTML page that links no feed, or an OPML document that cannot be read."""
