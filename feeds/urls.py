"""Small pure helpers for the URLs of feeds and the sites that publish them."""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

from feeds.types import DroppedLink, LinkFlaw, LinkKind

DEFAULT_PORTS = {"http": 80, "https": 443}
SLUG_JUNK = re.compile(r"[^a-z0-9]+")


def is_http_url(url: str) -> bool:
    """An absolute http(s) URL with a host."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises ValueError for a bad port)
    except ValueError:
        return False
    return parts.scheme in DEFAULT_PORTS and bool(parts.hostname)


#: Longest URL stored from remote input.
MAX_URL = 2000
_UNSAFE_URL = re.compile(r"[\x00-\x20\x7f\ud800-\udfff]")
#: A URL's scheme as RFC 3986 spells it (what a drop reason names), bounded.
SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]{0,19}):")


def url_flaw(url: str) -> LinkFlaw | None:
    """Why ``url`` may not be stored as a link (None: it may)."""
    if len(url) > MAX_URL:
        return LinkFlaw.TOO_LONG
    if _UNSAFE_URL.search(url):
        return LinkFlaw.CHARACTERS
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises ValueError for a bad port)
    except ValueError:
        return LinkFlaw.MALFORMED
    if parts.scheme not in DEFAULT_PORTS:
        return LinkFlaw.SCHEME
    return None if parts.hostname else LinkFlaw.MALFORMED


def safe_url(url: object) -> str | None:
    """``url`` when it is an absolute http(s) URL a page may link to, else None.

    Remote input (entry links, ``asdg:url``, source links, a feed's home page,
    OPML ``htmlUrl``) is stored only through this (or :func:`checked_url`,
    which says why a URL was dropped): ``javascript:``, ``data:`` and every
    other scheme, relative URLs, control characters, spaces and overlong URLs
    are dropped.
    """
    if not isinstance(url, str) or not url:
        return None
    return None if url_flaw(url) else url


def checked_url(url: object, kind: LinkKind) -> tuple[str | None, DroppedLink | None]:
    """``(url, None)`` when ``url`` may be stored, else ``(None, why it was dropped)``.

    An absent or empty value is no link at all: ``(None, None)``.
    """
    if url is None or (isinstance(url, str) and not url.strip()):
        return None, None
    if not isinstance(url, str):
        return None, DroppedLink(kind, LinkFlaw.MALFORMED)
    flaw = url_flaw(url)
    if flaw is None:
        return url, None
    scheme = SCHEME.match(url)
    return None, DroppedLink(kind, flaw, scheme.group(1).lower() if scheme else None)


def origin_of(url: str | None) -> str | None:
    """``scheme://host[:port]`` of an http(s) URL, lowercase, default port left out.

    This is how a site is named throughout mirroring: two URLs belong to the
    same site when their origins are equal.
    """
    if not url or not is_http_url(url):
        return None
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    if port is None or port == DEFAULT_PORTS[parts.scheme]:
        return f"{parts.scheme}://{host}"
    return f"{parts.scheme}://{host}:{port}"


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def resolve(base: str, href: str) -> str:
    """``href`` made absolute against ``base`` (fragment dropped)."""
    return urljoin(base, href.strip()).split("#", 1)[0]


def slug_from_host(url: str, *, max_length: int = 64) -> str:
    """A city-style slug for a site.

    ``https://www.news.example.org:8080/x`` gives ``news-example-org``.
    """
    host = host_of(url)
    host = host.removeprefix("www.")
    slug = SLUG_JUNK.sub("-", host).strip("-") or "feed"
    if not slug[0].isalpha():
        slug = "site-" + slug
    return slug[:max_length].rstrip("-")
