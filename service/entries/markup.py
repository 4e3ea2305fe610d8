"""Markdown (CommonMark) to sanitized HTML.

Admins type Markdown; pages and feeds show HTML. Whatever the Markdown holds,
the HTML that leaves the service passes through nh3 (the Ammonia sanitizer).
"""

from __future__ import annotations

from functools import lru_cache

from markdown_it import MarkdownIt

from feeds.html import sanitize

_md = MarkdownIt("commonmark", {"html": False})


def sanitize_html(html: str) -> str:
    """Keep formatting, drop scripts, styles, event handlers and unsafe URLs.

    The one policy of :mod:`feeds.html`, which remote feeds' content passes too.
    """
    return sanitize(html)


@lru_cache(maxsize=4096)
def markdown_to_html(text: str) -> str:
    """Render CommonMark and sanitize; empty text gives an empty string."""
    if not text or not text.strip():
        return ""
    return sanitize_html(_md.render(text))
