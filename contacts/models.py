"""Contacts, tags, static groups and the registry of typed custom fields.

The indexes are chosen for the segment queries (segments/rules) and the
contacts list at 1M contacts; each says which query it serves. Text matching
is case-insensitive everywhere and Django compiles ``iexact``/``icontains``
to ``UPPER(col) = / LIKE UPPER(%s)``, so the trigram indexes are built on
``UPPER(col)``: one such GIN index serves equals, contains, starts_with and
ends_with (pg_trgm answers ``=`` and ``LIKE`` from the same index).
"""

from __future__ import annotations

import copy

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Func, Q
from django.db.models.functions import Concat, Lower, Trim, Upper
from django.urls import reverse
from django.utils import timezone

from . import custom_fields as typed


def _unique_name(constraint: str, thing: str) -> models.UniqueConstraint:
    """A name unique whatever its case ("VIP" is "vip"), and a clash said in words."""
    return models.UniqueConstraint(
        Lower("name"),
        name=constraint,
        violation_error_message=f"There is a {thing} with this name already "
        "(names are the same in any case).",
    )


class Tag(models.Model):
    name = models.CharField(max_length=100)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [
            # Tag names are unique whatever their case: "VIP" is "vip".
            _unique_name("tag_name_ci_unique", "tag"),
        ]

    def __str__(self) -> str:
        return self.name


class Group(models.Model):
    """A static list: members are added by hand, by import or through the API."""

    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [
            _unique_name("group_name_ci_unique", "group"),
        ]

    def __str__(self) -> str:
        return self.name


class CustomField(models.Model):
    """A registered custom field: a name in `Contact.custom_fields` with a type that
    every write checks (contacts/custom_fields.py). Its name and type are fixed once
    created (the stored values are in that name and type); label and options change.
    Deleting it leaves the values on the contacts, unregistered."""

    class Type(models.TextChoices):
        TEXT = typed.TEXT, "Text"
        NUMBER = typed.NUMBER, "Number"
        DATE = typed.DATE, "Date"
        BOOLEAN = typed.BOOLEAN, "Yes / no"
        CHOICE = typed.CHOICE, "Choice"

    name = models.CharField(
        max_length=100,
        help_text="The key in a contact's custom fields; rules name it customField:NAME.",
    )
    label = models.CharField(
        max_length=200,
        blank=True,
        help_text="What forms and the builder call it (default: the name).",
    )
    type = models.CharField(max_length=10, choices=Type.choices, default=Type.TEXT)
    options = ArrayField(
        models.CharField(max_length=200),
        default=list,
        blank=True,
        help_text="For a choice: the values it may take.",
    )
    created_at = models.DateTimeField(default=timezone.now)

    MAX_OPTIONS = 200

    class Meta:
        ordering = ["name"]
        constraints = [
            # One field per name whatever its case: "Plan" would be a second field to
            # nobody but the rules, so writes of it are refused (custom_fields.py).
            _unique_name("custom_field_name_ci_unique", "field"),
        ]

    def __str__(self) -> str:
        return self.label or self.name

    def as_type(self) -> typed.FieldType:
        return typed.FieldType(self.name, self.type, tuple(self.options))

    @classmethod
    def registry(cls) -> typed.FieldTypes:
        """Every registered field by lower-case name, for the checks of one write."""
        return {field.name.lower(): field.as_type() for field in cls.objects.all()}

    def clean(self) -> None:
        self.name = self.name.strip()
        self.label = self.label.strip() or self.name
        if typed.CONTROL_CHARACTER.search(self.name):
            raise ValidationError({"name": "A field name cannot have control characters."})
        self.options = self._clean_options()

    def _clean_options(self) -> list[str]:
        if self.type != self.Type.CHOICE:
            return []
        options: dict[str, str] = {}
        for option in self.options:
            if option.strip():
                options.setdefault(option.strip().lower(), option.strip())
        if not options:
            raise ValidationError({"options": "A choice needs its options: one per line."})
        if len(options) > self.MAX_OPTIONS:
            raise ValidationError({"options": f"Keep to {self.MAX_OPTIONS} options at most."})
        return list(options.values())


# Never written from Python: the key, PostgreSQL's own columns, and the auto_now stamp
# (added back whenever something else changed).
_NOT_SAVED = frozenset({"id", "tag_ids", "full_name", "updated_at"})


class Contact(models.Model):
    class LifecycleStage(models.TextChoices):
        SUBSCRIBER = "subscriber", "Subscriber"
        LEAD = "lead", "Lead"
        MQL = "mql", "MQL"
        SQL = "sql", "SQL"
        CUSTOMER = "customer", "Customer"

    class Status(models.TextChoices):
        """Derived from the two flags; never stored."""

        ACTIVE = "active", "Active"
        BOUNCED = "bounced", "Bounced"
        UNSUBSCRIBED = "unsubscribed", "Unsubscribed"

    email = models.EmailField(max_length=254)
    first_name = models.CharField(max_length=100, blank=True, default="")
    last_name = models.CharField(max_length=100, blank=True, default="")
    # "First Last" kept by PostgreSQL so that name search and the `name` rule
    # have an index; trimmed so that a contact with neither name has "".
    full_name = models.GeneratedField(
        expression=Trim(Concat("first_name", models.Value(" "), "last_name")),
        output_field=models.CharField(max_length=201),
        db_persist=True,
    )
    company = models.CharField(max_length=200, blank=True, default="")
    job_title = models.CharField(max_length=200, blank=True, default="")
    country = models.CharField(max_length=100, blank=True, default="")
    city = models.CharField(max_length=100, blank=True, default="")
    source = models.CharField(max_length=100, blank=True, default="")
    lead_score = models.PositiveSmallIntegerField(default=0)
    lifecycle_stage = models.CharField(
        max_length=20, choices=LifecycleStage.choices, default=LifecycleStage.SUBSCRIBER
    )
    last_interacted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    is_bounced = models.BooleanField(default=False)
    is_unsubscribed = models.BooleanField(default=False)
    # Soft bounces in a row (ESP webhooks); the third marks the contact bounced.
    soft_bounces = models.PositiveSmallIntegerField(default=0, db_default=0)
    custom_fields = models.JSONField(
        default=dict, blank=True, validators=[typed.validate_custom_fields]
    )
    # Annotated: the plugin cannot infer the through model from its name (defined below).
    tags: models.ManyToManyField[Tag, ContactTag] = models.ManyToManyField(
        Tag, through="ContactTag", related_name="contacts", blank=True
    )
    # The ids of `tags`, kept by PostgreSQL triggers on ContactTag (migration 0003)
    # so that tag rules are GIN-indexed array tests (`tag_ids && ARRAY[…]`) that
    # combine with other conditions in one bitmap or parallel scan, where an
    # EXISTS inside an OR forces a single-core scan with a subplan per row.
    # Never written by Django: save() leaves it out (see below).
    tag_ids = ArrayField(models.BigIntegerField(), default=list, blank=True, editable=False)
    groups: models.ManyToManyField[Group, GroupMembership] = models.ManyToManyField(
        Group, through="GroupMembership", related_name="members", blank=True
    )

    class Meta:
        ordering = ["-id"]
        constraints = [
            # Upserts by email (API, import) conflict on this expression.
            models.UniqueConstraint(Lower("email"), name="contact_email_ci_unique"),
            models.CheckConstraint(
                condition=Q(lead_score__gte=0, lead_score__lte=100),
                name="contact_lead_score_0_100",
            ),
            models.CheckConstraint(
                condition=Q(lifecycle_stage__in=["subscriber", "lead", "mql", "sql", "customer"]),
                name="contact_lifecycle_stage_valid",
            ),
        ]
        indexes = [
            # Sending and "reachable members": NOT is_bounced AND NOT is_unsubscribed.
            models.Index(
                fields=["id"],
                condition=Q(is_bounced=False, is_unsubscribed=False),
                name="contact_reachable_idx",
            ),
            # Win-back and other "reachable and inactive since" rules: an index-only
            # scan answers `last_interacted_at < X AND NOT is_bounced AND NOT is_unsubscribed`.
            models.Index(
                fields=["last_interacted_at"],
                condition=Q(is_bounced=False, is_unsubscribed=False),
                name="contact_reachable_last_int_idx",
            ),
            # `tag is vip`, `any_of`, `all_of`, `none_of` (array overlap/containment).
            GinIndex(fields=["tag_ids"], name="contact_tag_ids_gin"),
            # Search and text rules (equals/contains/starts_with/ends_with) on email.
            GinIndex(OpClass(Upper("email"), name="gin_trgm_ops"), name="contact_email_trgm"),
            # Contacts list search and the `name` rule.
            GinIndex(
                OpClass(Upper("full_name"), name="gin_trgm_ops"), name="contact_full_name_trgm"
            ),
            # Contacts list search and `company contains "inc"`.
            GinIndex(OpClass(Upper("company"), name="gin_trgm_ops"), name="contact_company_trgm"),
            # `source equals/starts_with "webinar"` as an exact range scan; its bitmap
            # needs no recheck, so it ORs cheaply with other rules. (Sources are few
            # and short: `contains` on them scans, cheaply, without a trigram index.)
            models.Index(
                OpClass(Upper("source"), name="text_pattern_ops"), name="contact_source_prefix_idx"
            ),
            # Admin's source filter lists distinct sources with a loose index scan.
            models.Index(fields=["source"], name="contact_source_idx"),
            # `leadScore gte 70`, `between`.
            models.Index(fields=["lead_score"], name="contact_lead_score_idx"),
            # `lastInteracted within_days/older_than_days/before/after`.
            models.Index(fields=["last_interacted_at"], name="contact_last_interacted_idx"),
            # `createdAt ...` rules.
            models.Index(fields=["created_at"], name="contact_created_at_idx"),
            # `lifecycleStage equals customer`, alone or with `lastInteracted within/
            # before/after` in the same index condition: "customers active in 60 days"
            # is then one index range, ORed with other indexes without a per-row
            # recheck of the rest of the rule (B8: 156 → ~110 ms).
            models.Index(
                fields=["lifecycle_stage", "last_interacted_at"], name="contact_stage_last_int_idx"
            ),
            # `customField:plan equals "pro"`: flock_custom_terms() lists each custom
            # value as UPPER(name + U+001F + text form) (migration 0004); array
            # containment is exact, so no row is re-read to recheck it.
            GinIndex(
                Func(F("custom_fields"), function="flock_custom_terms"),
                name="contact_custom_terms_gin",
            ),
        ]

    def __str__(self) -> str:
        return self.email

    def save(self, *args, update_fields=None, **kwargs) -> None:
        # Write only the fields changed since this contact was read: a stale copy
        # (an admin form opened an hour ago) must not undo an unsubscribe or a
        # bounce recorded meanwhile, and tag_ids belongs to the database triggers.
        loaded = getattr(self, "_loaded", None)
        if update_fields is None and loaded is not None and not self._state.adding:
            update_fields = [
                name
                for name, value in loaded.items()
                if name not in _NOT_SAVED and getattr(self, name) != value
            ]
            if not update_fields:
                return
            update_fields.append("updated_at")
        super().save(*args, update_fields=update_fields, **kwargs)
        self._loaded = {
            f.attname: copy.deepcopy(getattr(self, f.attname))
            for f in self._meta.concrete_fields
            if not f.generated and f.attname not in self.get_deferred_fields()
        }

    def get_absolute_url(self) -> str:
        return reverse("contacts:detail", args=[self.pk])

    def clean_fields(self, exclude=None) -> None:
        super().clean_fields(exclude=exclude)  # validate_custom_fields among the rest
        if isinstance(self.custom_fields, dict) and "custom_fields" not in (exclude or ()):
            # Valid, so normalising cannot fail; the admin saves the stripped names.
            values = typed.normalise_custom_fields(self.custom_fields)
            try:
                self.custom_fields = typed.typed_custom_fields(values, CustomField.registry())
            except typed.WrongTypes as exc:
                raise ValidationError({"custom_fields": list(exc.problems.values())}) from None

    @classmethod
    def from_db(cls, db, field_names, values):
        contact = super().from_db(db, field_names, values)
        # What was read, to save only what changed since (see save()).
        contact._loaded = dict(zip(field_names, copy.deepcopy(values), strict=True))
        return contact

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def status(self) -> str:
        return self.status_of(is_bounced=self.is_bounced, is_unsubscribed=self.is_unsubscribed)

    @classmethod
    def status_of(cls, *, is_bounced: bool, is_unsubscribed: bool) -> Contact.Status:
        """The status of a contact with these flags (also for rows read with `.values()`)."""
        if is_unsubscribed:
            return cls.Status.UNSUBSCRIBED
        if is_bounced:
            return cls.Status.BOUNCED
        return cls.Status.ACTIVE

    def get_status_display(self) -> str:
        return self.Status(self.status).label


class ContactTag(models.Model):
    # The named indexes below replace Django's per-column FK indexes.
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, db_index=False)
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, db_index=False)

    class Meta:
        constraints = [
            # Also the index for "this tag's contacts" (`tag is vip`, list filter by tag):
            # tag_id leads, and contact_id rides along for an index-only semi-join.
            models.UniqueConstraint(fields=["tag", "contact"], name="contact_tag_unique"),
        ]
        indexes = [
            # A contact's tags (detail page, API) and cascade deletes.
            models.Index(fields=["contact"], name="contact_tag_contact_idx"),
        ]

    def __str__(self) -> str:
        # The label of a row in the contact's "tags" inline (which select_related()s it).
        return self.tag.name


class GroupMembership(models.Model):
    group = models.ForeignKey(Group, on_delete=models.CASCADE, db_index=False)
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, db_index=False)
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            # Also serves `group in_group X` (group_id leads).
            models.UniqueConstraint(fields=["group", "contact"], name="group_membership_unique"),
        ]
        indexes = [
            # A contact's groups and cascade deletes.
            models.Index(fields=["contact"], name="group_membership_contact_idx"),
        ]

    def __str__(self) -> str:
        # The label of a row in the contact's "groups" inline (which select_related()s it).
        return self.group.name


class BulkAction(models.Model):
    """One bulk action over a selection of contacts (contacts/bulk.py), with its
    progress: a large one runs in the background in batches, newest contacts first,
    and `cursor` (the lowest id done) is where a retried task goes on."""

    class Action(models.TextChoices):
        ADD_TAG = "add_tag", "Add tag"
        REMOVE_TAG = "remove_tag", "Remove tag"
        ADD_TO_GROUP = "add_to_group", "Add to group"
        REMOVE_FROM_GROUP = "remove_from_group", "Remove from group"
        UNSUBSCRIBE = "unsubscribe", "Unsubscribe"
        DELETE = "delete", "Delete"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    action = models.CharField(max_length=20, choices=Action.choices)
    tag = models.ForeignKey(Tag, null=True, blank=True, on_delete=models.SET_NULL)
    group = models.ForeignKey(Group, null=True, blank=True, on_delete=models.SET_NULL)
    # {"ids": [...]} or {"filter": {"q", "tag", "group", "status"}} (the contacts list's).
    selection = models.JSONField()
    total = models.PositiveIntegerField(help_text="Contacts selected when it was confirmed.")
    done = models.PositiveIntegerField(default=0)
    changed = models.PositiveIntegerField(default=0)
    cursor = models.BigIntegerField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} ({self.done}/{self.total})"


class ImportJob(models.Model):
    """One CSV import (contacts/imports/): the stored file, how its columns map to
    contact fields, and the progress and outcome of the run. `line` is the last line
    of the file whose rows are committed: a run that was stopped goes on after it."""

    class Status(models.TextChoices):
        MAPPING = "mapping", "Waiting for the column mapping"
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Importing"
        CANCELLING = "cancelling", "Cancelling"
        CANCELLED = "cancelled", "Cancelled"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    FINISHED = (Status.CANCELLED, Status.DONE, Status.FAILED)

    file_name = models.CharField(max_length=255, help_text="The name the file was uploaded as.")
    path = models.CharField(max_length=500, help_text="Where the file is kept until it is done.")
    size = models.BigIntegerField(help_text="Bytes uploaded.")
    encoding = models.CharField(max_length=20)
    delimiter = models.CharField(max_length=1)
    header = models.JSONField(default=list, help_text="The column names, as in the file.")
    # One entry per column: {"to": "email" | "first_name" | … | "tags" | "custom" | "skip",
    # "field": custom field name, "type": its type when the import registers it}.
    mapping = models.JSONField(default=list)
    update_existing = models.BooleanField(
        default=True, help_text="Update contacts that exist; otherwise only add new ones."
    )
    tags = models.JSONField(default=list, help_text="Tag names given to every imported row.")
    group = models.ForeignKey(Group, null=True, blank=True, on_delete=models.SET_NULL)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.MAPPING)
    line = models.PositiveIntegerField(default=0)
    bytes_read = models.BigIntegerField(default=0)
    total = models.PositiveIntegerField(null=True, blank=True, help_text="Rows in the file.")
    rows = models.PositiveIntegerField(default=0, help_text="Rows read so far.")
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.get_status_display()})"

    @property
    def finished(self) -> bool:
        return self.status in self.FINISHED


class ImportRejection(models.Model):
    """A row of an import that was not written, with its line in the file and why."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="rejections")
    line = models.PositiveIntegerField()
    email = models.CharField(max_length=254, blank=True)
    reason = models.TextField()

    class Meta:
        ordering = ["line", "id"]
        indexes = [
            # The summary lists and downloads one job's rejections in line order.
            models.Index(fields=["job", "line"], name="import_rejection_line_idx"),
        ]

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


class ImportEmail(models.Model):
    """The emails an import has written so far and the line of each, so that a later
    row with the same email is reported as a duplicate (the first row wins) even in
    another batch or after a restart. Deleted when the import finishes."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE)
    email = models.CharField(max_length=254, help_text="Lower case.")
    line = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["job", "email"], name="import_email_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.email} (line {self.line})"


class ContactChange(models.Model):
    """A journal of writes that can move contacts in or out of segments, one row per
    statement, written by the triggers of migration 0014 in the writer's transaction
    (so no path that writes a contact can forget it, and a rollback takes it back).
    The segments app reads and deletes the rows as it re-checks membership."""

    contact_ids = ArrayField(
        models.BigIntegerField(),
        null=True,
        help_text="The contacts written; empty (NULL) when too many to list: every contact.",
    )
    fields = ArrayField(
        models.CharField(max_length=40),
        help_text="The contact columns that changed ('groups' for group links, '*' for a "
        "new or deleted contact).",
    )
    cause = models.CharField(max_length=16, help_text="Who wrote: api, import, dashboard, …")
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.cause}: {self.fields}"
