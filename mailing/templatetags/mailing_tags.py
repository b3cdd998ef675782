"""Template filters for the mailing pages."""

from __future__ import annotations

from django import template

from ..merge import readable

register = template.Library()


@register.filter(name="readable")
def readable_filter(value: str) -> str:
    """A subject with its merge tags shown as ‹company›: page titles, lists, headings."""
    return readable(value or "")
