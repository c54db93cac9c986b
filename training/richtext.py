"""Course material is rich text written by HR: kept as HTML, cleaned with nh3 (the
maintained successor of bleach) to a short list of formatting tags, so material can
never carry a script, a style or an event handler into a colleague's browser."""

from __future__ import annotations

import nh3

TAGS = {
    "p",
    "br",
    "strong",
    "b",
    "em",
    "i",
    "u",
    "s",
    "h2",
    "h3",
    "h4",
    "ul",
    "ol",
    "li",
    "blockquote",
    "a",
    "code",
    "pre",
    "hr",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
}
ATTRIBUTES = {"a": {"href", "title"}, "th": {"scope"}}


def clean(html: str) -> str:
    """Allowed formatting kept, everything else removed; links only to http(s) and mail."""
    return nh3.clean(
        html or "",
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    ).strip()
