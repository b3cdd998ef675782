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


def _value(match: re.Match[str], contact: Any) -> str:
    """The contact's value for a supported tag, or its default when empty."""
    name, key = match["name"], match["key"]
    if key is not None:
        custom = getattr(contact, "custom_fields", None)
        raw = custom.get(key) if isinstance(custom, dict) else None
    elif name == "name":
        first = _as_text(getattr(contact, "first_name", None))
        last = _as_text(getattr(contact, "last_name", None))
        raw = f"{first} {last}"
    else:
        raw = getattr(contact, name, None)
    text = _CONTROL.sub(" ", _as_text(raw)).strip()
    if text:
        return text
    default = match["dq"] if match["dq"] is not None else match["sq"]
    return default or ""


def _render(template: str, contact: Any, escape: bool) -> str:
    out: list[str] = []
    pos = 0
    for match in _SCANNER.finditer(template):
        out.append(template[pos : match.start()])
        out.append(_value(match, contact) if match["tag"] else match.group())
        pos = match.end()
    out.append(template[pos:])
    if not escape:
        return "".join(out)
    # Even indexes are the marketer's text, odd ones substituted values or
    # unknown tags: all of it is escaped, each piece on its own.
    return "".join(html.escape(piece) for piece in out)


def render_text(template: str, contact: Any) -> str:
    """Subject and plain-text part: substituted, nothing escaped."""
    return _render(template, contact, escape=False)


def render_html(template: str, contact: Any) -> str:
    """HTML part: the text and every substituted value HTML-escaped.

    Pieces are escaped after substitution, not the template before it, so that
    a default such as ``"there"`` is parsed before its quotes become entities.
    """
    return _render(template, contact, escape=True)


def tags_in(text: str) -> list[str]:
    """The supported tag names used (``first_name``, ``custom.plan``…), once each, in order."""
    names = (m["name"] for m in _SCANNER.finditer(text) if m["tag"])
    return list(dict.fromkeys(names))


def unknown_tags(text: str) -> list[str]:
    """Template-like text that is not a supported tag, as written, once each."""
    found = (m.group() for m in _SCANNER.finditer(text) if m["other"])
    return list(dict.fromkeys(found))
