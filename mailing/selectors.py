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
    in_flight: int = 0  # claimed by a worker: sent or not, not known yet

    @property
    def waiting(self) -> int:
        """Not claimed by any worker: after a cancel, these will not be sent."""
        return self.pending - self.in_flight

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
        in_flight=counts.get(Delivery.Status.SENDING, 0),
    )


def mailing_settled(mailing: Mailing, progress: Progress) -> bool:
    """Nothing more will change: the mailing has ended and no worker holds a claim.

    A batch in flight at a cancel records what the server took when it stops,
    so until then the counts are not final, and the page keeps refreshing.
    """
    return mailing.status in ENDED and progress.in_flight == 0


def mailing_failure(mailing: Mailing) -> str:
    """Why a failed mailing failed: the error of one of its failed deliveries."""
    if mailing.status != Mailing.Status.FAILED:
        return ""
    # Any one, unordered: sorting a million failed rows to pick one would not pay.
    errors = (
        Delivery.objects.filter(mailing=mailing, status=Delivery.Status.FAILED)
        .exclude(last_error="")
        .order_by()
        .values_list("last_error", flat=True)[:1]
    )
    return next(iter(errors), "")


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
    test_note: str | None = None,
) -> EmailMultiAlternatives:
    """The message exactly as `contact` would get it, for the preview and test sends.

    It is built for a transient mailing that is never saved, and its unsubscribe
    link is the test link: a marketer clicking it in a test message is told that
    it unsubscribes nobody, and nobody is unsubscribed. A test send passes
    `test_note`, which marks it as a test (see `messages.marked_as_test`).
    """
    transient = Mailing(
        pk=0,
        subject=subject,
        body=body,
        body_format=body_format,
        from_email=from_email or settings.DEFAULT_FROM_EMAIL,
    )
    return build_message(
        mailing=transient, contact=contact or PLACEHOLDER, to=to, test_note=test_note
    )


@dataclass(frozen=True)
class SenderMerge:
    """Whom a test send is merged for, and how to say so."""

    contact: Contact  # never saved
    merged_with: str  # "your name and address (…) and the other fields of …"


def merge_for_sender(user, sample: Contact | None) -> SenderMerge:
    """A test send's merge data: the sender's own name and address where the account has them.

    The other fields (company, custom fields…) are the sample recipient's, or the
    made-up contact's when nobody will receive the mailing; so is the name when
    the account has none.
    """
    source = sample or PLACEHOLDER
    first = (getattr(user, "first_name", "") or "").strip()
    last = (getattr(user, "last_name", "") or "").strip()
    email = (getattr(user, "email", "") or "").strip()
    others = f"{source.email}, the first recipient" if sample else "a made-up contact"
    if first or last:
        name = " ".join(part for part in (first, last) if part)
        merged_with = f"your name and address ({name}, {email}) and the other fields of {others}"
    else:
        first, last = source.first_name, source.last_name
        merged_with = (
            f"your address ({email}) and, as your account has no name, the name and "
            f"other fields of {others}"
        )
    contact = Contact(
        first_name=first,
        last_name=last,
        email=email or source.email,
        company=source.company,
        job_title=source.job_title,
        country=source.country,
        city=source.city,
        custom_fields=source.custom_fields,
    )
    return SenderMerge(contact=contact, merged_with=merged_with)


@dataclass(frozen=True)
class EmptyMergeField:
    """A tag without a default whose value is empty for some recipients."""

    tag: str  # "company", "custom.plan"
    count: int

    @property
    def with_default(self) -> str:
        from .merge import with_default

        return with_default(self.tag)


# Empty as a merged value is: nothing but spaces and control characters (merge.value_for).
_BLANK = r"^[[:space:][:cntrl:]]*$"


def empty_merge_fields(contacts: QuerySet[Contact], tags: list[str]) -> list[EmptyMergeField]:
    """For each tag, how many of `contacts` have nothing to put in: one query for all tags.

    One aggregate, a `count(*) FILTER (WHERE … ~ blank)` per tag, over the
    recipients' query (the segment's reachable contacts).
    """
    from django.db.models import Q, TextField, Value
    from django.db.models.fields.json import KeyTextTransform
    from django.db.models.functions import Coalesce

    conditions: dict[str, Q] = {}
    for i, tag in enumerate(tags):
        if tag.startswith("custom."):
            alias = f"_custom_{i}"
            # One key, as written: KeyTextTransform does not split it at "__".
            key = tag.removeprefix("custom.")
            value = Coalesce(
                KeyTextTransform(key, "custom_fields"), Value(""), output_field=TextField()
            )
            contacts = contacts.alias(**{alias: value})
            conditions[tag] = Q(**{f"{alias}__regex": _BLANK})
        elif tag == "name":
            conditions[tag] = Q(first_name__regex=_BLANK, last_name__regex=_BLANK)
        else:
            conditions[tag] = Q(**{f"{tag}__regex": _BLANK})
    if not conditions:
        return []
    counts = contacts.order_by().aggregate(
        **{f"n{i}": Count("pk", filter=q) for i, q in enumerate(conditions.values())}
    )
    found = zip(conditions, (counts[f"n{i}"] for i in range(len(conditions))), strict=True)
    return [EmptyMergeField(tag=tag, count=count) for tag, count in found if count]
