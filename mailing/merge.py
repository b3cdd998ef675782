"""Merge tags for mailing subjects and bodies (SPEC §5 item 7).

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


Piece = str | Tag


@lru_cache(maxsize=128)
def compile_template(template: str) -> tuple[Piece, ...]:
    """Literal text and tags, parsed once: a mailing merges the same template per recipient."""
    pieces: list[Piece] = []
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


def merge(pieces: tuple[Piece, ...], contact: Any, *, escape_values: bool = False) -> str:
    """Compiled pieces with the contact's values; values HTML-escaped if asked.

    Literal pieces are used as they are: for an HTML part they are already HTML.
    """
    if escape_values:
        return "".join(p if type(p) is str else html.escape(value_for(p, contact)) for p in pieces)
    return "".join(p if type(p) is str else value_for(p, contact) for p in pieces)


def render_text(template: str, contact: Any) -> str:
    """Subject and plain-text part: substituted, nothing escaped."""
    return merge(compile_template(template), contact)


def render_html(template: str, contact: Any) -> str:
    """HTML part: the text and every substituted value HTML-escaped.

    Pieces are escaped after parsing, not the template before it, so that a
    default such as ``"there"`` is parsed before its quotes become entities.
    """
    return "".join(
        html.escape(p if type(p) is str else value_for(p, contact))
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
