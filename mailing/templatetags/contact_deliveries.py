"""The deliveries panel of the contact page, so that contacts need not import mailing.

`{% contact_deliveries contact %}` lists the contact's latest deliveries: the
mailing, its status and when it was sent (or written, until then).
"""

from __future__ import annotations

from django import template

from contacts.models import Contact
from mailing.models import Delivery

register = template.Library()

SHOWN = 20


@register.inclusion_tag("mailing/_contact_deliveries.html")
def contact_deliveries(contact: Contact) -> dict:
    # A contact's deliveries: delivery_contact_idx (contact_id) finds them.
    deliveries = list(
        Delivery.objects.filter(contact=contact)
        .select_related("mailing")
        .order_by("-pk")[: SHOWN + 1]
    )
    return {"deliveries": deliveries[:SHOWN], "more": len(deliveries) > SHOWN}
