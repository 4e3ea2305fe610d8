"""The one HTML policy: what survives of any HTML that reaches a page or a feed.

Content from other sites (:mod:`feeds.parse`) and our own rendered Markdown
(``service.entries.markup``) pass the same nh3 (Ammonia) cleaner: formatting
kept; scripts, styles, event handlers and unsafe URLs dropped; links get
``rel="noopener noreferrer nofollow"``; images become links to them (their alt
text, or «изображение»), so no reader's browser loads a third party's image
(tracking pixels): pages allow images from their own site only (CSP). So HTML
sanitized once, in the thread that fetched and parsed it (nh3 releases the
GIL), needs no second pass when the mirror stores it.
"""

from __future__ import annotations

import html
import re

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


#: An image as the cleaner writes it (attributes double-quoted, their text escaped).
_IMG = re.compile(r"<img\b([^>]*)>")
_ATTR = re.compile(r'([a-z]+)="([^"]*)"')


def _image_link(match: re.Match[str]) -> str:
    attrs = dict(_ATTR.findall(match.group(1)))
    text = attrs.get("alt") or attrs.get("title") or "изображение"
    src = attrs.get("src")
    if not src:
        return text
    return f'<a href="{src}" rel="{LINK_REL}">[{text}]</a>'


def sanitize(fragment: str) -> str:
    """Untrusted HTML made safe under the policy."""
    if not fragment:
        return ""
    cleaned = _CLEANER.clean(fragment)
    return _IMG.sub(_image_link, cleaned) if "<img" in cleaned else cleaned


def to_text(fragment: str) -> str:
    """Plain text of an HTML fragment, whitespace collapsed."""
    if not fragment:
        return ""
    return " ".join(html.unescape(_TEXT_CLEANER.clean(fragment)).split())
