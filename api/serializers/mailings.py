"""Mailings in the API: what a send takes, and a mailing with its counters."""

from __future__ import annotations

from dataclasses import dataclass

from rest_framework import serializers

from mailing.models import Mailing
from mailing.selectors import Progress

from .fields import TextField, UtcDateTimeField


class SendSerializer(serializers.Serializer):
    subject = TextField(max_length=300, trim_whitespace=False)
    body = TextField(trim_whitespace=False)
    from_email = TextField(
        max_length=254,
        required=False,
        help_text="An address, or a name and an address (default: DEFAULT_FROM_EMAIL).",
    )
    body_format = serializers.ChoiceField(
        Mailing.Format.values,
        required=False,
        help_text="`markdown` also formats the HTML part; the text part is the body as "
        "written (default `text`).",
    )


@dataclass(frozen=True)
class CountedMailing:
    """A mailing with its counters: the running totals the workers keep on the row
    (a list), or counted from its delivery rows (one mailing)."""

    mailing: Mailing
    sent: int
    failed: int
    suppressed: int
    pending: int

    @classmethod
    def from_totals(cls, mailing: Mailing) -> CountedMailing:
        done = mailing.sent + mailing.failed + mailing.suppressed
        return cls(
            mailing, mailing.sent, mailing.failed, mailing.suppressed,
            pending=max(mailing.recipients - done, 0),
        )  # fmt: skip

    @classmethod
    def from_progress(cls, mailing: Mailing, progress: Progress) -> CountedMailing:
        return cls(mailing, progress.sent, progress.failed, progress.suppressed, progress.pending)


# A mailing as the API shows it, read from a CountedMailing. (No docstring: a
# serializer's docstring is its description in the public schema.)
class MailingSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="mailing.pk")
    status = serializers.ChoiceField(Mailing.Status.values, source="mailing.status")
    segment_id = serializers.IntegerField(source="mailing.segment_id", allow_null=True)
    subject = serializers.CharField(source="mailing.subject")
    body = serializers.CharField(source="mailing.body")
    body_format = serializers.ChoiceField(Mailing.Format.values, source="mailing.body_format")
    from_email = serializers.CharField(source="mailing.from_email")
    recipients = serializers.IntegerField(
        source="mailing.recipients",
        help_text="Deliveries written; 0 until the worker has re-run the segment.",
    )
    sent = serializers.IntegerField()
    failed = serializers.IntegerField()
    suppressed = serializers.IntegerField()
    pending = serializers.IntegerField(help_text="Not sent yet, or in flight.")
    segment_count = serializers.IntegerField(source="mailing.segment_count", allow_null=True)
    evaluated_at = UtcDateTimeField(source="mailing.evaluated_at", allow_null=True)
    created_at = UtcDateTimeField(source="mailing.created_at")
    updated_at = UtcDateTimeField(source="mailing.updated_at")
