from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.functional import lazy

from contacts.admin import GroupAdmin, PrettyJSONField
from contacts.models import Group

from .models import ContactSegment, SegmentEvaluation
from .rules import FIELDS, RuleErrors, describe_filter, parse_filter
from .selectors import segments_using, segments_using_group
from .services import segment_evaluate


class SegmentEvaluationInline(admin.TabularInline):
    model = SegmentEvaluation
    fields = ["evaluated_at", "count"]
    readonly_fields = ["evaluated_at", "count"]  # all of them: the history is a record
    extra = 0
    max_num = 0
    can_delete = False
    ordering = ["-evaluated_at"]
    verbose_name_plural = "size history"

    def get_queryset(self, request):
        return super().get_queryset(request).order_by("-evaluated_at")


def _rules_help() -> str:
    fields = ", ".join(f"<code>{name}</code>" for name in FIELDS)
    return (
        "The rules as JSON, checked as the segment builder checks them. A group is "
        '<code>{"match": "all" or "any", "rules": [...]}</code> (add <code>"negate": true</code> '
        'for NOT); each rule is a condition <code>{"field": ..., "op": ..., "value": ...}</code> '
        f"or another group, at most {settings.SEGMENT_MAX_DEPTH} levels deep and "
        f"{settings.SEGMENT_MAX_CONDITIONS} conditions. Example: "
        '<code>{"match": "all", "rules": [{"field": "leadScore", "op": "gte", "value": 70}, '
        '{"field": "tag", "op": "is", "value": "vip"}]}</code>. '
        f"Fields: {fields}, <code>customField:&lt;name&gt;</code>. The builder "
        "(Contacts → Segments) lists each field's operators."
    )


class ContactSegmentAdminForm(forms.ModelForm):
    # Its errors come from ContactSegment.clean(), i.e. segments.rules.parse_filter.
    filter_json = PrettyJSONField(
        label="Rules (JSON)",
        help_text=lazy(_rules_help, str)(),
        key_order=("match", "negate", "rules", "field", "op", "value"),
    )

    class Meta:
        model = ContactSegment
        fields = ["name", "description", "filter_json"]

    def _update_errors(self, errors) -> None:
        # When the text did not parse, the model's clean() checked the rules held before
        # this edit: its message ("add at least one condition") is not about the text.
        # _errors and _update_errors are private BaseForm/BaseModelForm API the stubs omit.
        if "filter_json" in self._errors and hasattr(errors, "error_dict"):  # type: ignore[attr-defined]
            errors.error_dict.pop("filter_json", None)
            if not errors.error_dict:
                return
        super()._update_errors(errors)  # type: ignore[misc]


@admin.register(ContactSegment)
class ContactSegmentAdmin(admin.ModelAdmin):
    form = ContactSegmentAdminForm
    list_display = ["name", "summary", "last_count", "last_evaluated_at", "created_by"]
    search_fields = ["name", "description"]
    readonly_fields = ["summary", "last_count", "last_evaluated_at", "created_by", "created_at"]
    fields = ["name", "description", "filter_json", *readonly_fields]
    inlines = [SegmentEvaluationInline]
    actions = ["evaluate_now"]

    class Media:
        css = {"all": ["css/admin.css"]}

    @admin.display(description="rules in words")
    def summary(self, segment: ContactSegment) -> str:
        try:
            return describe_filter(parse_filter(segment.filter_json))
        except RuleErrors as exc:
            return f"Invalid rules: {exc}"

    def save_model(self, request, obj: ContactSegment, form, change: bool) -> None:
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    def get_deleted_objects(self, objs, request):
        """Refuse to delete a segment that another one's rules use (as the list page does).

        Listing them as "protected" makes both the delete page and the bulk delete
        action show them and refuse; segments deleted together may use each other.
        """
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        doomed = {segment.pk for segment in objs}
        for segment in objs:
            for user in segments_using(segment):
                if user.pk not in doomed:
                    protected.append(f"Segment “{user.name}”, whose rules use “{segment.name}”")
        return deleted, counts, perms_needed, protected

    @admin.action(description="Re-evaluate now")
    def evaluate_now(self, request: HttpRequest, queryset: QuerySet[ContactSegment]) -> None:
        for segment in queryset:  # a handful of segments, one COUNT each
            try:
                count = segment_evaluate(segment=segment)
            except RuleErrors as exc:
                self.message_user(request, f"{segment}: {exc}", messages.ERROR)
            else:
                self.message_user(request, f"{segment}: {count:,} contacts match now.")


class GroupInSegmentsAdmin(GroupAdmin):
    """The contacts admin's groups, but a group that segments name is not deleted
    (their rules would stop working): the admin lists them as what protects it,
    as the dashboard's delete page does. Registered here: only segments know."""

    def get_deleted_objects(self, objs, request):
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        for group in objs:
            for segment in segments_using_group(group):
                protected.append(
                    f"Segment “{segment.name}”, whose rules use the group “{group.name}”"
                )
        return deleted, counts, perms_needed, protected


admin.site.unregister(Group)
admin.site.register(Group, GroupInSegmentsAdmin)
