"""The segments panel of other apps' pages, so those apps need not import segments.

`{% contact_segments contact %}` on the contact page lists the segments the contact
is in now, evaluated by the one selector (docs/design.md#one-selector).
"""

from __future__ import annotations

from django import template

from contacts.models import Contact
from segments.selectors import segments_containing

register = template.Library()


@register.inclusion_tag("segments/_contact_segments.html")
def contact_segments(contact: Contact) -> dict:
    return {"segments": segments_containing(contact)}
