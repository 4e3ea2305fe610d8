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


#: An image, and links around it, as the cleaner writes them (attributes double-quoted,
#: their text escaped).
_TAGS = re.compile(r"<img\b([^>]*)>|<a\b[^>]*>|</a>")
_ATTR = re.compile(r'([a-z]+)="([^"]*)"')


def _images_to_links(cleaned: str) -> str:
    """Each image becomes a link to it, ``[alt text]``; inside a link, the text alone."""
    out: list[str] = []
    depth, last = 0, 0
    for match in _TAGS.finditer(cleaned):
        out.append(cleaned[last : match.start()])
        last = match.end()
        tag = match.group(0)
        if match.group(1) is None:
            depth += -1 if tag == "</a>" else 1
            out.append(tag)
            continue
        attrs = dict(_ATTR.findall(match.group(1)))
        text = f"[{attrs.get('alt') or attrs.get('title') or 'изображение'}]"
        src = attrs.get("src")
        out.append(text if depth > 0 or not src else f'<a href="{src}" rel="{LINK_REL}">{text}</a>')
    out.append(cleaned[last:])
    return "".join(out)


def sanitize(fragment: str) -> str:
    """Untrusted HTML made safe under the policy."""
    if not fragment:
        return ""
    cleaned = _CLEANER.clean(fragment)
    return _images_to_links(cleaned) if "<img" in cleaned else cleaned


def to_text(fragment: str) -> str:
    """Plain text of an HTML fragment, whitespace collapsed."""
    if not fragment:
        return ""
    return " ".join(html.unescape(_TEXT_CLEANER.clean(fragment)).split())
