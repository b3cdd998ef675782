from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils import timezone

from contacts.counting import EstimatedCountPaginator

from .addresses import validate_from_address
from .models import Delivery, Mailing, TrackingEvent

# What the recipients and messages are made from: fixed once the mailing leaves draft
# (its deliveries were written from this segment and go out with this content).
CONTENT_FIELDS = ("subject", "body", "body_format", "from_email", "segment")


class MailingAdminForm(forms.ModelForm):
    class Meta:
        model = Mailing
        fields = CONTENT_FIELDS

    def clean_from_email(self) -> str:
        return validate_from_address(self.cleaned_data["from_email"])

    def clean(self):
        cleaned_data = super().clean()
        # The page was opened while it was a draft and it was queued since: say so
        # rather than drop the edits without a word.
        instance = self.instance
        if (
            instance.pk
            and instance.status != Mailing.Status.DRAFT
            and any(name in self.data for name in CONTENT_FIELDS)
        ):
            raise ValidationError(
                f"This mailing is {instance.get_status_display().lower()} now, so its "
                "subject, body, format, from address and segment can no longer change. "
                "Nothing was saved."
            )
        return cleaned_data


@admin.register(Mailing)
class MailingAdmin(admin.ModelAdmin):
    form = MailingAdminForm
    list_display = [
        "subject", "segment", "status", "recipients", "sent", "failed", "suppressed", "created_at",
    ]  # fmt: skip
    list_filter = ["status"]
    search_fields = ["subject"]
    readonly_fields = [
        "status", "segment_count", "evaluated_at", "recipients", "sent", "failed", "suppressed",
        "created_by", "created_at", "updated_at",
    ]  # fmt: skip
    fieldsets = [
        (None, {"fields": CONTENT_FIELDS}),
        (
            "Sending",
            {"fields": ["status", ("segment_count", "evaluated_at"),
                        ("recipients", "sent", "failed", "suppressed")]},
        ),
        ("History", {"fields": ["created_by", ("created_at", "updated_at")]}),
    ]  # fmt: skip

    def get_readonly_fields(self, request, obj: Mailing | None = None) -> list[str]:
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.status != Mailing.Status.DRAFT:
            fields += CONTENT_FIELDS  # not in the form at all, so a POST cannot set them
        return fields

    def save_model(self, request, obj: Mailing, form, change: bool) -> None:
        if not change:
            super().save_model(request, obj, form, change)
            return
        # Only the edited content, and only while it is still a draft: obj.save() would
        # also write the status and counters as read at the start of the request over
        # what the workers wrote since (and a draft queued meanwhile must keep its content).
        changed = {name: getattr(obj, name) for name in form.changed_data if name in CONTENT_FIELDS}
        if not changed:
            return
        updated = Mailing.objects.filter(pk=obj.pk, status=Mailing.Status.DRAFT).update(
            **changed, updated_at=timezone.now()
        )
        if not updated:
            self.message_user(
                request,
                "This mailing was queued while you saved it: its content was not changed.",
                messages.ERROR,
            )

    def has_delete_permission(self, request, obj: Mailing | None = None) -> bool:
        """Not while recipients are written or sent: cancel first (see Delivery's FKs)."""
        if obj is not None and obj.status in (
            Mailing.Status.QUEUED,
            Mailing.Status.SENDING,
            Mailing.Status.PAUSED,
        ):
            return False
        return super().has_delete_permission(request, obj)


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    """Deliveries grow by millions: estimated counts, no full-table COUNT(*)."""

    list_display = ["email", "mailing", "status", "attempts", "sent_at", "last_error"]
    list_filter = ["status"]
    search_fields = ["email"]
    raw_id_fields = ["mailing", "contact"]
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    readonly_fields = ["mailing", "contact", "email", "attempts", "sent_at", "last_error"]


@admin.register(TrackingEvent)
class TrackingEventAdmin(admin.ModelAdmin):
    """Mail events applied to contacts (bounces, complaints, resubscriptions): read-only."""

    list_display = ["event_type", "email", "received_at"]
    list_filter = ["event_type"]
    search_fields = ["email"]
    date_hierarchy = "received_at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
