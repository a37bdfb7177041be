"""Render member-written forum markdown to sanitised HTML."""

from __future__ import annotations

import re

import nh3
from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore

ALLOWED_TAGS: frozenset[str] = frozenset(
    {
        "p",
        "br",
        "hr",
        "strong",
        "em",
        "del",
        "s",
        "code",
        "pre",
        "blockquote",
        "ul",
        "ol",
        "li",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "a",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
        "img",
    }
)

ALLOWED_ATTRIBUTES: dict[str, set[str]] = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "th": {"align"},
    "td": {"align"},
}

ALLOWED_URL_SCHEMES: frozenset[str] = frozenset({"http", "https", "mailto"})

LINK_REL = "nofollow noopener noreferrer"

# Dropped together with their content: the text of a script or stylesheet is never useful prose.
_CLEAN_CONTENT_TAGS: frozenset[str] = frozenset({"script", "style"})

_TEXT_ALIGN = re.compile(r"^\s*text-align\s*:\s*(left|right|center)\s*;?\s*$")


def _table_align_attribute(state: StateCore) -> None:
    """Turn markdown-it's inline text-align styles on table cells into align attributes."""
    # nh3 is told to drop every style attribute, so without this column alignment would be lost.
    for token in state.tokens:
        if token.type not in ("th_open", "td_open"):
            continue
        style = token.attrs.pop("style", None)
        if isinstance(style, str) and (match := _TEXT_ALIGN.match(style)):
            token.attrs["align"] = match.group(1)


def _build_parser() -> MarkdownIt:
    """The shared markdown-it parser configured for forum posts."""
    md = MarkdownIt("commonmark", {"html": True, "linkify": False}).enable(["table", "strikethrough"])
    # nh3 is the single place URL schemes are judged. markdown-it's own check would render a
    # rejected link such as [x](javascript:...) as literal text, leaking the URL into the page;
    # letting it through makes nh3 strip the href and keep only the link text.
    md.validateLink = lambda url: True  # type: ignore[method-assign]  # markdown-it documents this override
    md.core.ruler.push("table_align_attribute", _table_align_attribute)
    return md


_PARSER = _build_parser()


def render(source: str) -> str:
    """Render member-written markdown to HTML sanitised against an explicit allow-list."""
    html = _PARSER.render(source)
    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        clean_content_tags=set(_CLEAN_CONTENT_TAGS),
        attributes={tag: set(attrs) for tag, attrs in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(ALLOWED_URL_SCHEMES),
        link_rel=LINK_REL,
    )
