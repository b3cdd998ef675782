"""Reads for the mailing pages: the list, progress counters, the recipient list."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import Count, QuerySet

from contacts.models import Contact

from .messages import build_message
from .models import Delivery, Mailing

LIST_LIMIT = 100
DELIVERIES_PER_PAGE = 100
ENDED = frozenset({Mailing.Status.SENT, Mailing.Status.CANCELLED, Mailing.Status.FAILED})


def mailing_list(*, limit: int = LIST_LIMIT) -> list[Mailing]:
    """The newest mailings; there are few, so a limit rather than paging."""
    return list(Mailing.objects.select_related("segment").order_by("-created_at", "-id")[:limit])


@dataclass(frozen=True)
class Progress:
    sent: int = 0
    failed: int = 0
    suppressed: int = 0
    pending: int = 0  # pending and in flight

    @property
    def total(self) -> int:
        return self.sent + self.failed + self.suppressed + self.pending

    @property
    def done(self) -> int:
        return self.sent + self.failed + self.suppressed

    def share(self, part: int) -> float:
        return 100 * part / self.total if self.total else 0.0

    @property
    def sent_pct(self) -> float:
        return self.share(self.sent)

    @property
    def failed_pct(self) -> float:
        return self.share(self.failed)

    @property
    def suppressed_pct(self) -> float:
        return self.share(self.suppressed)

    @property
    def done_pct(self) -> float:
        return self.share(self.done)


def mailing_progress(mailing: Mailing) -> Progress:
    """Counters from the Delivery rows themselves, not the mailing's running totals.

    One GROUP BY status over the mailing's deliveries; the unique
    (mailing, contact) index (delivery_mailing_contact) finds those rows.
    """
    counts = dict(
        Delivery.objects.filter(mailing=mailing)
        .order_by()
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    return Progress(
        sent=counts.get(Delivery.Status.SENT, 0),
        failed=counts.get(Delivery.Status.FAILED, 0),
        suppressed=counts.get(Delivery.Status.SUPPRESSED, 0),
        pending=counts.get(Delivery.Status.PENDING, 0) + counts.get(Delivery.Status.SENDING, 0),
    )


@dataclass(frozen=True)
class DeliveryPage:
    rows: list[Delivery]
    next_after: int | None  # the last id shown, when there is more


def deliveries_page(
    mailing: Mailing, *, status: str = "", after: int | None = None, size: int = DELIVERIES_PER_PAGE
) -> DeliveryPage:
    """One page of a mailing's recipients in id order, keyset-paged (`id > after`)."""
    deliveries: QuerySet[Delivery] = Delivery.objects.filter(mailing=mailing)
    if status == Delivery.Status.PENDING:
        deliveries = deliveries.filter(
            status__in=[Delivery.Status.PENDING, Delivery.Status.SENDING]
        )
    elif status:
        deliveries = deliveries.filter(status=status)
    if after:
        deliveries = deliveries.filter(pk__gt=after)
    rows = list(
        deliveries.order_by("pk").only(
            "id", "contact_id", "email", "status", "attempts", "last_error", "sent_at"
        )[: size + 1]
    )
    more = len(rows) > size
    rows = rows[:size]
    return DeliveryPage(rows=rows, next_after=rows[-1].pk if more else None)


# -- compose --------------------------------------------------------------------

PLACEHOLDER = Contact(
    first_name="Ada",
    last_name="Lovelace",
    email="ada@example.com",
    company="Analytical Engines Ltd",
    job_title="Programmer",
    country="United Kingdom",
    city="London",
    custom_fields={},
)


def sample_recipient(contacts: QuerySet[Contact]) -> Contact | None:
    """The first reachable match, by id: whom the preview is merged for."""
    return contacts.order_by("pk").first()


def sample_message(
    *,
    subject: str,
    body: str,
    from_email: str,
    contact: Contact | None,
    to: str,
    body_format: str = Mailing.Format.TEXT,
) -> EmailMultiAlternatives:
    """The message exactly as `contact` would get it, for the preview and test sends.

    It is built for a transient mailing with id 0 that is never saved. Its
    unsubscribe link therefore carries mailing id 0, which `read_token` refuses:
    a marketer clicking it in a test message cannot unsubscribe the sample contact.
    """
    transient = Mailing(
        pk=0,
        subject=subject,
        body=body,
        body_format=body_format,
        from_email=from_email or settings.DEFAULT_FROM_EMAIL,
    )
    return build_message(mailing=transient, contact=contact or PLACEHOLDER, to=to)
