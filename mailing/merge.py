"""Merge tags for mailing subjects and bodies (docs/design.md#merge-tags).

Marketers write ``{{ first_name }}``, ``{{ custom.plan }}`` or
``{{ first_name|default:"there" }}``. Their text is never handed to a template
engine: a template engine would let ``{{ contact.__class__ }}`` or ``{% load %}``
reach Python objects, so a small regex recognises exactly the supported tags
and everything else stays literal text. Unknown tags are left as written so the
marketer sees them in the preview, and ``unknown_tags`` lists them for a
validation message.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

FIELDS: tuple[str, ...] = (
    "first_name",
    "last_name",
    "name",
    "email",
    "company",
    "job_title",
    "country",
    "city",
)

# A supported tag: a field or custom.<key>, optionally |default:"…" or '…'.
_TAG = (
    r"\{\{\s*(?P<name>" + "|".join(FIELDS) + r"|custom\.(?P<key>[\w-]+))"
    r"(?:\s*\|\s*default\s*:\s*(?:\"(?P<dq>[^\"]*)\"|'(?P<sq>[^']*)'))?\s*\}\}"
)
# Anything else that looks like template syntax; tried after _TAG at each
# position so that a default containing "}}" is still read as one tag.
_OTHER = r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}"
_SCANNER = re.compile(rf"(?P<tag>{_TAG})|(?P<other>{_OTHER})", re.DOTALL)

# Control characters (newlines included) in a value: a merged subject must stay
# one header line, so they are folded into a space.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")

SAMPLE_TAGS: list[tuple[str, str]] = [
    ("{{ first_name }}", "First name"),
    ("{{ last_name }}", "Last name"),
    ("{{ name }}", "First and last name"),
    ("{{ email }}", "Email address"),
    ("{{ company }}", "Company"),
    ("{{ job_title }}", "Job title"),
    ("{{ country }}", "Country"),
    ("{{ city }}", "City"),
    ("{{ custom.plan }}", "Custom field “plan” (any custom field by its name)"),
    ('{{ first_name|default:"there" }}', "First name, or “there” when it is empty"),
]


def _as_text(value: Any) -> str:
    """Custom values are JSON scalars: numbers and booleans read as their JSON text."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return json.dumps(value)
    return json.dumps(value, ensure_ascii=False, default=str)


@dataclass(frozen=True, slots=True)
class Tag:
    """A supported merge tag, parsed: the field (or custom key) and its default."""

    name: str
    key: str | None
    default: str


@dataclass(frozen=True, slots=True)
class Link:
    """A URL attribute (`` href="…"`` or `` src="…"``) of the HTML part with tags in it.

    Its literal parts are HTML already (Markdown escaped them); the URL is only
    known once merged, so its scheme is checked then, per recipient: a value
    such as ``javascript:alert(1)`` drops the attribute and the link becomes
    plain text. Only an address whose scheme a tag could change is a Link
    (`scheme_is_fixed`), so most mailings never pay for this check.
    """

    attribute: str
    pieces: tuple[str | Tag, ...]

    def merge(self, contact: Any) -> str:
        url: list[str] = []  # as the browser reads it
        written: list[str] = []  # as it stands in the HTML
        for piece in self.pieces:
            if isinstance(piece, str):
                url.append(html.unescape(piece))
                written.append(piece)
            else:
                value = value_for(piece, contact)
                url.append(value)
                written.append(html.escape(value))
        if not is_safe_url("".join(url)):
            return ""
        return f' {self.attribute}="{"".join(written)}"'


# A subject or plain-text template, compiled: literal text and tags.
TextPiece = str | Tag
# The HTML part, compiled: literal HTML, tags, and links whose scheme a tag sets.
Piece = str | Tag | Link

SAFE_SCHEMES = frozenset({"http", "https", "mailto"})
# Before the first "/", "?" or "#", a colon ends a URL's scheme.
_SCHEME_END = re.compile(r"[/?#]")
# What browsers ignore in a scheme (tabs, newlines, other controls and spaces).
_IGNORED_IN_SCHEME = re.compile(r"[\x00-\x20\x7f\s]+")


def is_safe_url(url: str) -> bool:
    """Whether a link may point there: http, https, mailto, or a relative URL (no scheme).

    Stricter than browsers on purpose: anything before a colon counts as a
    scheme once the characters browsers skip (``java\\tscript:``) are taken out,
    so no spelling of ``javascript:`` or ``data:`` gets through.
    """
    head = _SCHEME_END.split(url, maxsplit=1)[0]
    if ":" not in head:
        return True
    scheme = _IGNORED_IN_SCHEME.sub("", head.partition(":")[0]).lower()
    return scheme in SAFE_SCHEMES


def scheme_is_fixed(start: str) -> bool:
    """Whether a URL that starts with this (HTML) text is safe whatever follows it.

    True for ``https://x.example/`` or ``/path``: the part where a scheme can be
    ends within it, so a merged value that follows cannot change the scheme.
    """
    start = html.unescape(start)
    return len(_SCHEME_END.split(start, maxsplit=1)[0]) < len(start) and is_safe_url(start)


@lru_cache(maxsize=128)
def compile_template(template: str) -> tuple[TextPiece, ...]:
    """Literal text and tags, parsed once: a mailing merges the same template per recipient."""
    pieces: list[TextPiece] = []
    pos = 0
    for match in _SCANNER.finditer(template):
        if match.start() > pos:
            pieces.append(template[pos : match.start()])
        if match["tag"]:
            default = match["dq"] if match["dq"] is not None else match["sq"]
            pieces.append(Tag(match["name"], match["key"], default or ""))
        else:  # unknown template syntax stays literal
            pieces.append(match.group())
        pos = match.end()
    if pos < len(template):
        pieces.append(template[pos:])
    return tuple(pieces)


def value_for(tag: Tag, contact: Any) -> str:
    """The contact's value for a tag, or the tag's default when empty."""
    if tag.key is not None:
        custom = getattr(contact, "custom_fields", None)
        raw = custom.get(tag.key) if isinstance(custom, dict) else None
    elif tag.name == "name":
        first = _as_text(getattr(contact, "first_name", None))
        last = _as_text(getattr(contact, "last_name", None))
        raw = f"{first} {last}"
    else:
        raw = getattr(contact, tag.name, None)
    return _CONTROL.sub(" ", _as_text(raw)).strip() or tag.default


def merge_text(pieces: tuple[TextPiece, ...], contact: Any) -> str:
    """A compiled subject or text part with the contact's values, nothing escaped."""
    return "".join(p if isinstance(p, str) else value_for(p, contact) for p in pieces)


def merge_html(pieces: tuple[Piece, ...], contact: Any) -> str:
    """The compiled HTML part with the contact's values HTML-escaped.

    Literal pieces are used as they are: they are HTML already.
    """
    return "".join(
        p
        if isinstance(p, str)
        else html.escape(value_for(p, contact))
        if isinstance(p, Tag)
        else p.merge(contact)
        for p in pieces
    )


def render_text(template: str, contact: Any) -> str:
    """Subject and plain-text part: substituted, nothing escaped."""
    return merge_text(compile_template(template), contact)


def render_html(template: str, contact: Any) -> str:
    """HTML part: the text and every substituted value HTML-escaped.

    Pieces are escaped after parsing, not the template before it, so that a
    default such as ``"there"`` is parsed before its quotes become entities.
    """
    return "".join(
        html.escape(p if isinstance(p, str) else value_for(p, contact))
        for p in compile_template(template)
    )


def tags_in(text: str) -> list[str]:
    """The supported tag names used (``first_name``, ``custom.plan``…), once each, in order."""
    names = (m["name"] for m in _SCANNER.finditer(text) if m["tag"])
    return list(dict.fromkeys(names))


def unknown_tags(text: str) -> list[str]:
    """Template-like text that is not a supported tag, as written, once each."""
    found = (m.group() for m in _SCANNER.finditer(text) if m["other"])
    return list(dict.fromkeys(found))


def tags_without_default(*texts: str) -> list[str]:
    """Tags used with no default (``company``, ``custom.plan``), once each, in order.

    An empty value for one of these leaves a gap ("Big news for "), which the
    compose page warns about.
    """
    names = (
        piece.name
        for text in texts
        for piece in compile_template(text)
        if isinstance(piece, Tag) and not piece.default
    )
    return list(dict.fromkeys(names))


def readable(template: str) -> str:
    """A subject for page titles and lists: each tag as ‹company›, never raw ``{{ … }}``."""
    return "".join(p if isinstance(p, str) else f"‹{p.name}›" for p in compile_template(template))


# A default to suggest in the compose page's warning about empty values.
_SUGGESTED_DEFAULTS = {
    "first_name": "there",
    "name": "there",
    "company": "your company",
    "job_title": "your team",
    "country": "your country",
    "city": "your city",
}


def with_default(name: str) -> str:
    """The tag written with a default, e.g. ``{{ company|default:"your company" }}``."""
    return f'{{{{ {name}|default:"{_SUGGESTED_DEFAULTS.get(name, "…")}" }}}}'
