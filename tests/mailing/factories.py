from __future__ import annotations

import factory

from mailing.models import Delivery, Mailing

from ..contacts.factories import ContactFactory
from ..segments.factories import SegmentFactory


class MailingFactory(factory.django.DjangoModelFactory):
    """A mailing row as the compose page would have written it, in `draft` unless
    told otherwise; its recipients are not materialised (see DeliveryFactory)."""

    class Meta:
        model = Mailing

    segment = factory.SubFactory(SegmentFactory)
    subject = factory.Sequence(lambda n: f"News {n}")
    body = "Hello"
    from_email = "news@example.com"


class DeliveryFactory(factory.django.DjangoModelFactory):
    """One recipient of a mailing, addressed to its contact's email."""

    class Meta:
        model = Delivery

    mailing = factory.SubFactory(MailingFactory)
    contact = factory.SubFactory(ContactFactory)
    email = factory.SelfAttribute("contact.email")
