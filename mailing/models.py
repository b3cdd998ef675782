"""Mailings to a segment and one Delivery row per recipient.

See docs/design.md#mailings-and-deliveries."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from contacts.models import Contact
from segments.models import ContactSegment


class Mailing(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        PAUSED = "paused", "Paused"
        SENT = "sent", "Sent"
        CANCELLED = "cancelled", "Cancelled"
        FAILED = "failed", "Failed"

    # A mailing outlives its segment: the deliveries are the record of who got it.
    segment = models.ForeignKey(
        ContactSegment, null=True, blank=True, on_delete=models.SET_NULL, related_name="mailings"
    )

    class Format(models.TextChoices):
        TEXT = "text", "Plain text"
        MARKDOWN = "markdown", "Markdown"

    subject = models.CharField(max_length=300)
    body = models.TextField()
    # The text part is always the body as written; Markdown also styles the HTML part.
    body_format = models.CharField(max_length=10, choices=Format.choices, default=Format.TEXT)
    from_email = models.CharField(max_length=254)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    # The segment as it was when the recipients were written
    # (docs/design.md#materialising-recipients).
    segment_count = models.PositiveIntegerField(null=True, blank=True)
    evaluated_at = models.DateTimeField(null=True, blank=True)
    recipients = models.PositiveIntegerField(default=0)
    sent = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    suppressed = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.subject


class Delivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        SUPPRESSED = "suppressed", "Suppressed"

    # No database FK constraints: PostgreSQL checks one with a trigger per inserted
    # row at commit, and for a million recipients those checks (a key-share lock on
    # every contact, and on the mailing a million times) cost more than writing the
    # rows. The rows are written from the contacts table in one statement; deletes
    # through Django still cascade (it deletes the deliveries first); a contact
    # deleted meanwhile is suppressed at send time (deliveries_send), and a mailing
    # cannot be deleted while its recipients are being written or sent (admin).
    mailing = models.ForeignKey(
        Mailing,
        on_delete=models.CASCADE,
        related_name="deliveries",
        db_index=False,
        db_constraint=False,
    )
    contact = models.ForeignKey(
        Contact,
        on_delete=models.CASCADE,
        related_name="deliveries",
        db_index=False,
        db_constraint=False,
    )
    email = models.CharField(max_length=254)  # the address it went to, kept if the contact changes
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")
    sent_at = models.DateTimeField(null=True, blank=True)
    # A worker's claim on a `sending` row; an expired lease goes back to pending.
    lease_until = models.DateTimeField(null=True, blank=True)
    # The claim's random token, which names its journal of accepted messages in
    # Redis (mailing.journal); the beat reads it when the lease runs out.
    claim = models.BigIntegerField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name_plural = "deliveries"
        constraints = [
            # No contact is written twice into one mailing (ON CONFLICT DO NOTHING
            # target); also the index for "this mailing's deliveries".
            models.UniqueConstraint(fields=["mailing", "contact"], name="delivery_mailing_contact"),
        ]
        indexes = [
            # Workers claim the next batch of a mailing's pending rows.
            models.Index(
                fields=["mailing", "id"],
                condition=Q(status="pending"),
                name="delivery_pending_idx",
            ),
            # The beat task finds claims whose lease ran out.
            models.Index(
                fields=["lease_until"],
                condition=Q(status="sending"),
                name="delivery_lease_idx",
            ),
            # A contact's deliveries (contact detail, cascade deletes).
            models.Index(fields=["contact"], name="delivery_contact_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.email} ({self.status})"


class TrackingEvent(models.Model):
    """An ESP tracking event already applied (bounce, complaint…): webhooks repeat
    events, and the same event id must change nothing the second time."""

    event_id = models.CharField(max_length=255, unique=True)
    event_type = models.CharField(max_length=50)
    email = models.CharField(max_length=254, blank=True)
    received_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.event_type} {self.email}"
