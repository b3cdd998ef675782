"""Admin for contacts, tags and groups, kept fast at 1M contacts.

No full COUNT(*) per page (estimated paginator, no "show all" count), search
on the trigram-indexed columns, and bulk actions as single statements.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any, TypedDict

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.forms.fields import InvalidJSONInput
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from .counting import EstimatedCountPaginator
from .forms import CustomFieldForm
from .models import Contact, ContactTag, CustomField, Group, GroupMembership, Tag
from .selectors import contact_has_tag, contact_status_q
from .services import contacts_add_tag, contacts_unsubscribe

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations  # a dev dependency (django-stubs)

# --- JSON in a textarea ---------------------------------------------------------

#: Levels of [ and { the admin's JSON fields take. Real rules need about a dozen
#: (SEGMENT_MAX_DEPTH groups, each an object and a list); far deeper text is refused
#: before json.loads, whose C decoder recurses once per level (RecursionError).
MAX_JSON_NESTING = 64
# A JSON string (possibly unterminated: its brackets are text, not nesting) or a bracket.
_JSON_NESTING_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?|[\[\]{}]', re.DOTALL)


def json_nesting_exceeds(text: str, limit: int = MAX_JSON_NESTING) -> bool:
    """Whether `text` opens more than `limit` levels of [ and { outside strings."""
    depth = 0
    for match in _JSON_NESTING_TOKEN.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            if depth > limit:
                return True
        elif token in "]}":
            depth = max(depth - 1, 0)
    return False


def _unstorable(value: Any) -> str | None:
    """Why PostgreSQL's jsonb would refuse `value` (a 500 at save time), or None."""
    try:
        json.dumps(value, ensure_ascii=False, allow_nan=False).encode("utf-8")
    except UnicodeEncodeError:
        return "It contains text that is not valid Unicode (a lone \\ud800 escape); remove it."
    except ValueError:
        return "Numbers must be finite: NaN, Infinity and numbers such as 1e999 are not allowed."
    stack = [value]  # iterative: the depth is bounded, but no recursion is simpler still
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str) and "\x00" in item:
            return "It contains a NUL character (\\u0000), which cannot be stored; remove it."
    return None


def _no_constants(name: str):
    raise ValueError(f"{name} is not allowed in JSON")


class PrettyJSONField(forms.JSONField):
    """JSON shown indented in a monospace textarea, with errors that say where and why.

    Django's JSONField lets a RecursionError (deep nesting) or a value jsonb refuses
    (NaN, a lone surrogate, NUL) through as a 500; here they are form errors.
    """

    widget = forms.Textarea(attrs={"class": "flock-json", "rows": 12, "spellcheck": "false"})

    def __init__(self, *, empty_value: Any = None, key_order: tuple[str, ...] = (), **kwargs):
        super().__init__(**kwargs)
        self.empty_value = empty_value  # after CharField's own ("")
        # jsonb hands keys back shortest first ("op" before "field"); show these first.
        self.key_order = {key: index for index, key in enumerate(key_order)}

    def _load(self, text: str) -> Any:
        if json_nesting_exceeds(text):
            raise ValidationError(
                f"The JSON is nested too deeply (more than {MAX_JSON_NESTING} levels of "
                "[ and {); nothing was saved. Remove the extra brackets.",
                code="too_deep",
            )
        try:
            value = json.loads(text, parse_constant=_no_constants)
        except json.JSONDecodeError as exc:
            raise ValidationError(
                f"This is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}.",
                code="invalid",
            ) from None
        except (ValueError, RecursionError) as exc:  # NaN, 5,000-digit numbers…
            raise ValidationError(f"This is not valid JSON: {exc}.", code="invalid") from None
        problem = _unstorable(value)
        if problem:
            raise ValidationError(problem, code="invalid")
        return value

    def to_python(self, value):
        if self.disabled or not isinstance(value, str):
            return super().to_python(value)
        if not value.strip():
            return self.empty_value
        return self._load(value)

    def bound_data(self, data, initial):
        # Re-shows the text as typed when it does not parse (instead of a RecursionError).
        if self.disabled or data is None:
            return super().bound_data(data, initial)
        try:
            return self._load(data)
        except ValidationError:
            return InvalidJSONInput(data)

    def prepare_value(self, value):
        if isinstance(value, InvalidJSONInput):
            return value
        return json.dumps(self._ordered(value), ensure_ascii=False, indent=2)

    def _ordered(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self._ordered(item) for item in value]
        if isinstance(value, dict) and self.key_order:
            last = len(self.key_order)
            keys = sorted(value, key=lambda key: self.key_order.get(key, last))
            return {key: self._ordered(value[key]) for key in keys}
        return value

    def has_changed(self, initial, data):
        try:
            return super().has_changed(initial, data)
        except ValidationError:
            return True


class ContactAdminForm(forms.ModelForm):
    custom_fields = PrettyJSONField(
        required=False,
        empty_value={},
        label="Custom fields",
        help_text=(
            "A JSON object of name → value; each value is text, a number, true/false, "
            'null or an ISO date, e.g. <code>{"plan": "pro", "seats": 5, '
            '"renews": "2026-03-01"}</code>. Segment rules read them as '
            "<code>customField:plan</code>. Leave empty for none."
        ),
    )

    class Meta:
        model = Contact
        fields = ["custom_fields"]  # the admin's fieldsets list the rest


class StatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return Contact.Status.choices

    def queryset(self, request, queryset):
        value = self.value()
        if value is not None and value in Contact.Status.values:
            return queryset.filter(contact_status_q(value))
        return queryset


class TagFilter(admin.SimpleListFilter):
    title = "tag"
    parameter_name = "tag"

    def lookups(self, request, model_admin):
        return [(str(tag.pk), tag.name) for tag in Tag.objects.all()]

    def queryset(self, request, queryset):
        value = self.value()
        if value and value.isdigit():
            tag = Tag.objects.filter(pk=int(value)).first()
            if tag is not None:
                return queryset.filter(contact_has_tag(tag))
            return queryset.none()
        return queryset


class SourceFilter(admin.SimpleListFilter):
    title = "source"
    parameter_name = "source"

    def lookups(self, request, model_admin):
        # Raw: SELECT DISTINCT would read every row; this "loose index scan" (a
        # recursive CTE the ORM cannot write) jumps through contact_source_idx once
        # per distinct value instead.
        table = connection.ops.quote_name(Contact._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                WITH RECURSIVE sources(source) AS (
                    (SELECT source FROM {table} ORDER BY source LIMIT 1)
                    UNION ALL
                    SELECT (SELECT c.source FROM {table} c
                            WHERE c.source > s.source ORDER BY c.source LIMIT 1)
                    FROM sources s WHERE s.source IS NOT NULL
                )
                SELECT source FROM sources WHERE source IS NOT NULL AND source <> '' LIMIT 200
                """
            )
            return [(row[0], row[0]) for row in cursor.fetchall()]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(source=self.value())
        return queryset


class ContactTagInline(admin.TabularInline):
    model = ContactTag
    extra = 1
    autocomplete_fields = ["tag"]
    verbose_name = "tag"

    def get_queryset(self, request):
        # Each row is labelled with its tag's name (ContactTag.__str__): one join, not N queries.
        return super().get_queryset(request).select_related("tag")


class GroupMembershipInline(admin.TabularInline):
    model = GroupMembership
    extra = 1
    autocomplete_fields = ["group"]
    fields = ["group", "added_at"]
    readonly_fields = ["added_at"]
    verbose_name = "group"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("group")


class AddTagForm(forms.Form):
    tag = forms.CharField(
        max_length=100, help_text="An existing tag, or a new name to create it.", strip=True
    )


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    form = ContactAdminForm
    list_display = [
        "email",
        "full_name",
        "company",
        "lifecycle_stage",
        "lead_score",
        "status_badge",
        "last_interacted_at",
        "created_at",
    ]
    list_filter = [StatusFilter, "lifecycle_stage", SourceFilter, TagFilter]
    # full_name and company are what the trigram indexes cover (UPPER(col) LIKE ...).
    search_fields = ["email", "full_name", "company"]
    search_help_text = "Search by email, name or company."
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    list_per_page = 50
    ordering = ["-id"]
    readonly_fields = ["full_name", "updated_at"]
    inlines = [ContactTagInline, GroupMembershipInline]
    actions = ["add_tag", "mark_unsubscribed"]
    fieldsets = [
        (None, {"fields": ["email", ("first_name", "last_name"), ("company", "job_title")]}),
        ("Location and source", {"fields": [("country", "city"), "source"]}),
        ("Marketing", {"fields": [("lifecycle_stage", "lead_score"), "last_interacted_at"]}),
        ("Deliverability", {"fields": [("is_bounced", "is_unsubscribed")]}),
        ("Custom fields", {"fields": ["custom_fields"]}),
        ("History", {"fields": [("created_at", "updated_at")]}),
    ]

    class Media:
        css = {"all": ["css/admin.css"]}

    @admin.display(description="status")
    def status_badge(self, contact: Contact) -> str:
        return contact.get_status_display()

    @admin.action(description="Add a tag to the selected contacts")
    def add_tag(self, request: HttpRequest, queryset: QuerySet[Contact]) -> HttpResponse | None:
        if "apply" in request.POST:
            form = AddTagForm(request.POST)
            if form.is_valid():
                tag, added = contacts_add_tag(contacts=queryset, tag_name=form.cleaned_data["tag"])
                self.message_user(request, f"Tagged {added:,} contacts with “{tag.name}”.")
                return None
        else:
            form = AddTagForm()
        return render(
            request,
            "admin/contacts/add_tag.html",
            {
                **self.admin_site.each_context(request),
                "title": "Add a tag",
                "form": form,
                "selected_ids": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
                "opts": self.model._meta,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                "select_across": request.POST.get("select_across", "0"),
            },
        )

    @admin.action(description="Mark the selected contacts unsubscribed")
    def mark_unsubscribed(self, request: HttpRequest, queryset: QuerySet[Contact]) -> None:
        changed = contacts_unsubscribe(contacts=queryset)
        self.message_user(request, f"Unsubscribed {changed:,} contacts.", messages.SUCCESS)


def _member_count(model, fk: str) -> Coalesce:
    """Per-row count as a correlated subquery: one index range per listed row."""
    counted = (
        model.objects.filter(**{fk: OuterRef("pk")})
        .order_by()
        .values(fk)
        .annotate(n=Count("*"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


class _ContactCount(TypedDict):
    n_contacts: int


class _MemberCount(TypedDict):
    n_members: int


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["name", "contact_count", "created_at"]
    search_fields = ["name"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(n_contacts=_member_count(ContactTag, "tag"))

    @admin.display(description="contacts", ordering="n_contacts")
    def contact_count(self, tag: WithAnnotations[Tag, _ContactCount]) -> int:
        return tag.n_contacts


@admin.register(Group)
class GroupAdmin(admin.ModelAdmin):
    list_display = ["name", "description", "member_count", "created_at"]
    search_fields = ["name"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(n_members=_member_count(GroupMembership, "group"))
        )

    @admin.display(description="members", ordering="n_members")
    def member_count(self, group: WithAnnotations[Group, _MemberCount]) -> int:
        return group.n_members


@admin.register(CustomField)
class CustomFieldAdmin(admin.ModelAdmin):
    """The registry, with the dashboard's form: the same checks of the stored values,
    the name and type fixed once saved."""

    form = CustomFieldForm
    list_display = ["name", "label", "type", "created_at"]
    search_fields = ["name", "label"]
