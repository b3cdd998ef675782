"""The API's JSON shapes: request validation where DRF fits, and the documented
responses (drf-spectacular reads these). Contacts are validated by
`contacts.services.contact_clean`, the one set of rules for every writer; the
contact serializers here only document that shape."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from contacts.models import Contact
from contacts.validation import MAX_NAMES_PER_CONTACT, TEXT_FIELDS
from mailing.models import Mailing

# Fields named `errors` or `source` carry `type: ignore[assignment]`: the stubs take
# them for Serializer.errors and Field.source, but DRF's metaclass moves declared
# fields off the class, so at runtime they shadow neither.

# -- rule trees (docs/design.md#tree-shape) --------------------------------------

# `logic` as other tools send it: AND or OR (and all / any, as `match` has them), any case.
LOGIC_WORDS = {"and": "all", "all": "all", "or": "any", "any": "any"}
LOGIC_PATTERN = "^([Aa][Nn][Dd]|[Oo][Rr]|[Aa][Ll][Ll]|[Aa][Nn][Yy])$"
RULE_REF = {"$ref": "#/components/schemas/Rule"}
RULE_GROUP_REF = {"$ref": "#/components/schemas/RuleGroup"}
RULE_COMPONENTS = {
    "Condition": {
        "type": "object",
        "description": "`{field, op, value}`; `operator` is accepted for `op`, compatible "
        "with the common `{field, operator, value}` segment format. "
        "`value` is left out for is_set / is_not_set. Any other key is a 400.",
        "properties": {
            "field": {"type": "string", "example": "leadScore"},
            "op": {"type": "string", "example": "gte"},
            "operator": {
                "type": "string",
                "example": "gte",
                "description": "Another name for `op`.",
            },
            "value": {"description": "Text, number, true/false, a date or a list of them."},
        },
        "required": ["field"],
        "additionalProperties": False,
    },
    "RuleGroup": {
        "type": "object",
        "description": "A group of rules: all (AND) or any (OR) of them, negated if asked. "
        "`logic` and `conditions` are accepted for `match` and `rules`; any other key is a 400.",
        "properties": {
            "match": {"type": "string", "enum": ["all", "any"]},
            "logic": {
                "type": "string",
                "pattern": LOGIC_PATTERN,
                "description": "Another name for `match`: AND (all) or OR (any), in any case.",
            },
            "negate": {"type": "boolean"},
            "rules": {"type": "array", "items": RULE_REF},
            "conditions": {
                "type": "array",
                "items": RULE_REF,
                "description": "Another name for `rules`.",
            },
        },
        "anyOf": [{"required": ["rules"]}, {"required": ["conditions"]}],
        "additionalProperties": False,
    },
    "Rule": {"anyOf": [RULE_GROUP_REF, {"$ref": "#/components/schemas/Condition"}]},
}


@extend_schema_field({"anyOf": [{"type": "array", "items": RULE_REF}, RULE_GROUP_REF]})
class RulesInputField(serializers.JSONField):
    """A list of rules (all of them must match), or a whole group."""

    def to_internal_value(self, data):
        if not isinstance(data, list | dict):
            raise serializers.ValidationError(
                "Rules must be a list of conditions (or a group with 'match' and 'rules')."
            )
        if isinstance(data, dict):
            _check_group(data)
        return data


def _check_group(data: dict) -> None:
    # ("conditions" is other tools' spelling of "rules".)
    if "rules" not in data and "conditions" not in data:
        raise serializers.ValidationError("A group needs its 'rules': a list of conditions.")


@extend_schema_field(RULE_GROUP_REF)
class FilterInputField(serializers.JSONField):
    def to_internal_value(self, data):
        if not isinstance(data, dict):
            raise serializers.ValidationError("The filter must be an object: {match, rules}.")
        _check_group(data)
        return data


@extend_schema_field({"type": "array", "items": RULE_REF})
class RulesOutputField(serializers.JSONField):
    pass


@extend_schema_field(RULE_GROUP_REF)
class FilterOutputField(serializers.JSONField):
    pass


@extend_schema_field({"type": "string", "pattern": LOGIC_PATTERN, "example": "AND"})
class LogicField(serializers.Field):
    """`match` as other tools spell it: AND / OR (or all / any), in any case."""

    default_error_messages = {"invalid": "Logic must be AND or OR."}

    def to_internal_value(self, data):
        if not isinstance(data, str) or data.lower() not in LOGIC_WORDS:
            self.fail("invalid")
        return LOGIC_WORDS[data.lower()]

    def to_representation(self, value):
        return value


class TextField(serializers.CharField):
    """Text, and only text: DRF's CharField would also take 5 or true as "5"/"True"."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class WholeNumberField(serializers.IntegerField):
    """A JSON integer, and only that (DRF's IntegerField also takes "5" and 5.0)."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class ErrorSerializer(serializers.Serializer):
    path = serializers.CharField(
        help_text='Where in the request, e.g. "rules[2].value"; "" for the whole request.'
    )
    message = serializers.CharField()


class ErrorsSerializer(serializers.Serializer):
    errors = ErrorSerializer(many=True)  # type: ignore[assignment]  # a field (see top)


class SegmentPreviewSerializer(serializers.Serializer):
    """A rule tree as a body gives it: `match` + `rules`, or `filter`. `logic` and
    `conditions` are the names other tools use for `match` and `rules`."""

    match = serializers.ChoiceField(
        ["all", "any"], required=False, help_text="How the `rules` list combines (default all)."
    )
    logic = LogicField(
        required=False,
        help_text="Another name for `match`: AND (all) or OR (any), in any case.",
    )
    rules = RulesInputField(
        required=False,
        help_text="The conditions (a bare list means all of them), or a whole group.",
    )
    conditions = RulesInputField(required=False, help_text="Another name for `rules`.")
    filter = FilterInputField(
        required=False, help_text="The whole rule tree, instead of `match` and `rules`."
    )


class SegmentWriteSerializer(SegmentPreviewSerializer):
    """A segment: its name, and its rules as for a preview."""

    name = TextField(max_length=200)
    description = TextField(max_length=5000, required=False, allow_blank=True)


class SegmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField()
    match = serializers.ChoiceField(["all", "any"])
    rules = RulesOutputField(
        help_text="The top-level rules in the common `{field, operator, value}` segment format."
    )
    filter = FilterOutputField(help_text="The canonical rule tree, with `op`.")
    contacts_count = serializers.IntegerField(
        allow_null=True,
        help_text="Contacts that match now (null when the saved rules no longer work).",
    )
    last_count = serializers.IntegerField(
        allow_null=True, help_text="The count recorded at the last evaluation."
    )
    last_evaluated_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    rule_errors = ErrorSerializer(
        many=True,
        help_text="Why the saved rules no longer work (e.g. a group was deleted); usually [].",
    )


# -- contacts -------------------------------------------------------------------

STATUS_CHOICES = Contact.Status.values
STAGE_CHOICES = Contact.LifecycleStage.values


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": {
            "anyOf": [{"type": "string"}, {"type": "number"}, {"type": "boolean"}],
            "nullable": True,
        },
        "example": {"plan": "pro", "seats": 12, "trial_ends": "2026-03-01"},
    }
)
class CustomFieldsField(serializers.JSONField):
    pass


class ContactSummarySerializer(serializers.Serializer):
    """A contact in a segment's list or a preview sample (common segment-contact shape)."""

    id = serializers.IntegerField()
    email = serializers.CharField()
    name = serializers.CharField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    company = serializers.CharField()
    status = serializers.ChoiceField(STATUS_CHOICES)
    lead_score = serializers.IntegerField()
    lifecycle_stage = serializers.ChoiceField(STAGE_CHOICES)
    last_interacted_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()


class ContactSerializer(ContactSummarySerializer):
    """A contact: one flat object with tags and groups by name."""

    job_title = serializers.CharField()
    country = serializers.CharField()
    city = serializers.CharField()
    source = serializers.CharField()  # type: ignore[assignment]  # a field (see top)
    updated_at = serializers.DateTimeField()
    is_bounced = serializers.BooleanField()
    is_unsubscribed = serializers.BooleanField()
    custom_fields = CustomFieldsField()
    tags = serializers.ListField(child=serializers.CharField())
    groups = serializers.ListField(child=serializers.CharField())


class IgnoredField(serializers.JSONField):
    """A key of the API's contacts that nobody writes (`id`, `status`, …): accepted
    and ignored, so that a contact read from the API can be sent back as it is."""

    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", "Read-only: accepted and ignored.")
        super().__init__(required=False, **kwargs)


def _optional_text(name: str) -> serializers.CharField:
    return serializers.CharField(
        max_length=TEXT_FIELDS[name], allow_blank=True, allow_null=True, required=False
    )


class ContactWriteSerializer(serializers.Serializer):
    """What `POST /api/contacts` and `PATCH /api/contacts/{id}` take (documentation;
    `contacts.services.contact_clean` validates)."""

    email = serializers.EmailField(max_length=254)
    first_name = _optional_text("first_name")
    last_name = _optional_text("last_name")
    company = _optional_text("company")
    job_title = _optional_text("job_title")
    country = _optional_text("country")
    city = _optional_text("city")
    source = _optional_text("source")  # type: ignore[assignment]  # a field (see top)
    lead_score = serializers.IntegerField(min_value=0, max_value=100, required=False)
    lifecycle_stage = serializers.ChoiceField(STAGE_CHOICES, required=False)
    last_interacted_at = serializers.DateTimeField(allow_null=True, required=False)
    created_at = serializers.DateTimeField(required=False)
    is_bounced = serializers.BooleanField(required=False)
    is_unsubscribed = serializers.BooleanField(required=False)
    custom_fields = CustomFieldsField(required=False)
    tags = serializers.ListField(
        child=serializers.CharField(max_length=100),
        max_length=MAX_NAMES_PER_CONTACT,
        required=False,
        help_text="Tag names; new names are created. POST adds them, PATCH sets exactly these.",
    )
    groups = serializers.ListField(
        child=serializers.CharField(max_length=200),
        max_length=MAX_NAMES_PER_CONTACT,
        required=False,
        help_text="Group names; new names are created. POST adds them, PATCH sets exactly these.",
    )
    # contacts.services.READ_ONLY_FIELDS (tests/api/test_schema.py checks that they agree).
    id = IgnoredField()
    name = IgnoredField()
    full_name = IgnoredField()
    status = IgnoredField()
    updated_at = IgnoredField()
    soft_bounces = IgnoredField()


class ContactPatchSerializer(ContactWriteSerializer):
    email = serializers.EmailField(max_length=254, required=False)


UPSERT_STATUSES = ["created", "updated", "rejected"]


class UpsertItemResultSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="The item's position in the request, from 0.")
    status = serializers.ChoiceField(UPSERT_STATUSES)
    id = serializers.IntegerField(allow_null=True)
    email = serializers.CharField(allow_null=True)
    errors = ErrorSerializer(many=True)  # type: ignore[assignment]  # a field (see top)


class UpsertResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    rejected = serializers.IntegerField()
    results = UpsertItemResultSerializer(many=True)


# -- tags and groups --------------------------------------------------------------


class TagSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    created_at = serializers.DateTimeField()


class TagWriteSerializer(serializers.Serializer):
    name = TextField(max_length=100)


class GroupSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField()
    created_at = serializers.DateTimeField()


class GroupWriteSerializer(serializers.Serializer):
    name = TextField(max_length=200)
    description = TextField(max_length=5000, required=False, allow_blank=True)


class MembersSerializer(serializers.Serializer):
    contact_ids = serializers.ListField(
        child=WholeNumberField(min_value=1, max_value=2**63 - 1),
        min_length=1,
        max_length=1000,
    )


class MembersResultSerializer(serializers.Serializer):
    changed = serializers.IntegerField(help_text="How many memberships were added or removed.")


# -- mailings -------------------------------------------------------------------


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


class MailingSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(Mailing.Status.values)
    segment_id = serializers.IntegerField(allow_null=True)
    subject = serializers.CharField()
    body = serializers.CharField()
    body_format = serializers.ChoiceField(Mailing.Format.values)
    from_email = serializers.CharField()
    recipients = serializers.IntegerField(
        help_text="Deliveries written; 0 until the worker has re-run the segment."
    )
    sent = serializers.IntegerField()
    failed = serializers.IntegerField()
    suppressed = serializers.IntegerField()
    pending = serializers.IntegerField(help_text="Not sent yet, or in flight.")
    segment_count = serializers.IntegerField(allow_null=True)
    evaluated_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class PreviewSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    sample = ContactSummarySerializer(many=True)
    evaluated_at = serializers.DateTimeField()
