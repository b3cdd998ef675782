from __future__ import annotations

from django.contrib import admin

from contacts.counting import EstimatedCountPaginator

from .models import Delivery, Mailing


@admin.register(Mailing)
class MailingAdmin(admin.ModelAdmin):
    list_display = [
        "subject", "segment", "status", "recipients", "sent", "failed", "suppressed", "created_at",
    ]  # fmt: skip
    list_filter = ["status"]
    search_fields = ["subject"]
    readonly_fields = [
        "status", "segment_count", "evaluated_at", "recipients", "sent", "failed", "suppressed",
        "created_by", "created_at", "updated_at",
    ]  # fmt: skip

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
