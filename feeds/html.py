"""The one HTML policy: what survives of any HTML that reaches a page or a feed.

Content from other sites (:mod:`feeds.parse`) and our own rendered Markdown
(``service.entries.markup``) pass the same nh3 (Ammonia) cleaner: formatting
kept; scripts, styles, event handlers and unsafe URLs dropped; links get
``rel="noopener noreferrer nofollow"``. So HTML sanitized once, in the thread
that fetched and parsed it (nh3 releases the GIL), needs no second pass when
the mirror stores it.
"""

from __future__ import annotations

import html

import nh3

#: Ammonia's default tags plus what our renderer emits.
ALLOWED_TAGS = set(nh3.ALLOWED_TAGS) | {"section", "tfoot"}
ALLOWED_ATTRIBUTES: dict[str, set[str]] = {
    tag: set(attrs) for tag, attrs in nh3.ALLOWED_ATTRIBUTES.items()
}
for _tag, _attrs in {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
    "ol": {"start"},
}.items():
    ALLOWED_ATTRIBUTES[_tag] = ALLOWED_ATTRIBUTES.get(_tag, set()) | _attrs
URL_SCHEMES = {"http", "https", "mailto", "tel"}
LINK_REL = "noopener noreferrer nofollow"

#: Built once (``nh3.clean`` with options converts them on every call, half its cost).
_CLEANER = nh3.Cleaner(
    tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, url_schemes=URL_SCHEMES, link_rel=LINK_REL
)
_TEXT_CLEANER = nh3.Cleaner(tags=set())


def sanitize(fragment: str) -> str:
    """Untrusted HTML made safe under the policy."""
    return _CLEANER.clean(fragment) if fragment else ""


def to_text(fragment: str) -> str:
    """Plain text of an HTML fragment, whitespace collapsed."""
    if not fragment:
        return ""
    return " ".join(html.unescape(_TEXT_CLEANER.clean(fragment)).split())
