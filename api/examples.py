"""Request and response examples for the OpenAPI docs, in the common
`{field, operator, value}` segment format."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample

SEED_RULES = [
    {"field": "status", "operator": "equals", "value": "active"},
    {"field": "company", "operator": "contains", "value": "Inc"},
]

SEGMENT_CREATE_SEED = OpenApiExample(
    "Seed 002: name and a list of rules (all must match)",
    value={"name": "Active Enterprise", "rules": SEED_RULES},
    request_only=True,
)
SEGMENT_CREATE_FILTER = OpenApiExample(
    "A whole rule tree",
    value={
        "name": "VIP win-back",
        "filter": {
            "match": "all",
            "rules": [
                {"field": "lastInteracted", "op": "older_than_days", "value": 90},
                {"field": "tag", "op": "is", "value": "vip"},
                {
                    "match": "any",
                    "negate": False,
                    "rules": [
                        {"field": "leadScore", "op": "gte", "value": 70},
                        {"field": "customField:plan", "op": "equals", "value": "pro"},
                    ],
                },
            ],
        },
    },
    request_only=True,
)
SEGMENT_PATCH = OpenApiExample(
    "Rename and match any rule",
    value={"name": "Active or Inc", "match": "any"},
    request_only=True,
)

_SEGMENT = {
    "id": 3,
    "name": "Active Enterprise",
    "description": "",
    "match": "all",
    "rules": SEED_RULES,
    "filter": {
        "match": "all",
        "negate": False,
        "rules": [
            {"field": "status", "op": "equals", "value": "active"},
            {"field": "company", "op": "contains", "value": "Inc"},
        ],
    },
    "contacts_count": 142,
    "last_count": 142,
    "last_evaluated_at": "2026-02-01T09:30:00Z",
    "created_at": "2026-02-01T09:30:00Z",
    "updated_at": "2026-02-01T09:30:00Z",
    "rule_errors": [],
}
SEGMENT_CREATED = OpenApiExample(
    "Created", value=_SEGMENT, response_only=True, status_codes=["201"]
)
SEGMENT_LIST = OpenApiExample("Segments", value=[_SEGMENT], response_only=True)
SEGMENT_RULE_ERRORS = OpenApiExample(
    "Rule errors",
    value={
        "errors": [
            {
                "path": "rules[0].value",
                "message": "Lead score needs a whole number between 0 and 100.",
            },
            {
                "path": "rules[1].field",
                "message": "Unknown field 'lead_scor'; did you mean 'leadScore'?",
            },
        ]
    },
    response_only=True,
    status_codes=["400"],
)  # fmt: skip

_SUMMARY = {
    "id": 12,
    "email": "alice@acme-inc.com",
    "name": "Alice Chen",
    "first_name": "Alice",
    "last_name": "Chen",
    "company": "Acme Inc",
    "status": "active",
    "lead_score": 72,
    "lifecycle_stage": "customer",
    "last_interacted_at": "2026-01-20T14:02:11Z",
    "created_at": "2025-06-03T08:00:00Z",
}
SEGMENT_CONTACTS = OpenApiExample("Contacts", value=[_SUMMARY], response_only=True)

PREVIEW_REQUEST = OpenApiExample(
    "Rules to try",
    value={"match": "all", "rules": [{"field": "leadScore", "op": "gte", "value": 70}]},
    request_only=True,
)
PREVIEW_RESPONSE = OpenApiExample(
    "Count and sample",
    value={"count": 1204, "sample": [_SUMMARY], "evaluated_at": "2026-02-01T09:30:00Z"},
    response_only=True,
)

SEND_REQUEST = OpenApiExample(
    "A mailing",
    value={
        "subject": 'We miss you, {{ first_name|default:"there" }}',
        "body": 'Hi {{ first_name|default:"there" }},\n\nHere is what is new at Acme…',
        "from_email": "Acme <news@acme.example>",
        "body_format": "text",
    },
    request_only=True,
)
SEND_RESPONSE = OpenApiExample(
    "Queued mailing",
    value={
        "id": 7,
        "status": "queued",
        "segment_id": 3,
        "subject": 'We miss you, {{ first_name|default:"there" }}',
        "body": 'Hi {{ first_name|default:"there" }},\n\nHere is what is new at Acme…',
        "body_format": "text",
        "from_email": "Acme <news@acme.example>",
        "recipients": 0,
        "sent": 0,
        "failed": 0,
        "suppressed": 0,
        "pending": 0,
        "segment_count": None,
        "evaluated_at": None,
        "created_at": "2026-02-01T09:31:00Z",
        "updated_at": "2026-02-01T09:31:00Z",
    },
    response_only=True,
)

_CONTACT = {
    "id": 12,
    "email": "alice@acme-inc.com",
    "name": "Alice Chen",
    "first_name": "Alice",
    "last_name": "Chen",
    "company": "Acme Inc",
    "job_title": "Head of Growth",
    "country": "United States",
    "city": "Boston",
    "source": "webinar",
    "lead_score": 72,
    "lifecycle_stage": "customer",
    "last_interacted_at": "2026-01-20T14:02:11Z",
    "created_at": "2025-06-03T08:00:00Z",
    "updated_at": "2026-01-20T14:02:11Z",
    "is_bounced": False,
    "is_unsubscribed": False,
    "status": "active",
    "custom_fields": {"plan": "pro", "seats": 12},
    "tags": ["vip"],
    "groups": ["Newsletter"],
}
CONTACT_LIST = OpenApiExample("Contacts", value=[_CONTACT], response_only=True)
CONTACT_UPSERT_ONE = OpenApiExample(
    "One contact",
    value={
        "email": "alice@acme-inc.com",
        "first_name": "Alice",
        "last_name": "Chen",
        "company": "Acme Inc",
        "lead_score": 72,
        "custom_fields": {"plan": "pro", "seats": 12},
        "tags": ["vip"],
        "groups": ["Newsletter"],
    },
    request_only=True,
)
CONTACT_UPSERT_MANY = OpenApiExample(
    "Several contacts (up to 1,000)",
    value=[
        {"email": "alice@acme-inc.com", "tags": ["vip"]},
        {"email": "bob@globex-inc.com", "first_name": "Bob", "lead_score": 40},
        {"email": "not-an-email", "first_name": "Carol"},
    ],
    request_only=True,
)
CONTACT_UPSERT_RESULT = OpenApiExample(
    "Result per item",
    value={
        "created": 1,
        "updated": 1,
        "rejected": 1,
        "results": [
            {"index": 0, "status": "updated", "id": 12, "email": "alice@acme-inc.com",
             "errors": []},
            {"index": 1, "status": "created", "id": 34, "email": "bob@globex-inc.com",
             "errors": []},
            {"index": 2, "status": "rejected", "id": None, "email": "not-an-email",
             "errors": [{"path": "[2].email",
                         "message": "'not-an-email' is not a valid email address."}]},
        ],
    },
    response_only=True,
    status_codes=["200"],
)  # fmt: skip
CONTACT_PATCH = OpenApiExample(
    "Change the score and set the tags",
    value={"lead_score": 90, "tags": ["vip", "customer"]},
    request_only=True,
)

IMPORT_REQUEST = OpenApiExample(
    "A file with its mapping (the other columns guessed)",
    value={
        "file": "contacts.csv",
        "mapping": {
            "E-mail": "email",
            "Plan": {"to": "custom", "field": "plan", "type": "text"},
            "Notes": "skip",
        },
        "update_existing": True,
        "tags": ["webinar-march", "imported"],
        "group": "Newsletter",
    },
    request_only=True,
    media_type="multipart/form-data",
)
_IMPORT = {
    "id": 4,
    "status": "queued",
    "file_name": "contacts.csv",
    "size": 48213,
    "columns": [
        {"header": "E-mail", "to": "email", "field": None},
        {"header": "First name", "to": "first_name", "field": None},
        {"header": "Plan", "to": "custom", "field": "plan"},
        {"header": "Notes", "to": "skip", "field": None},
    ],
    "update_existing": True,
    "tags": ["webinar-march", "imported"],
    "group": "Newsletter",
    "total": None,
    "rows": 0,
    "created": 0,
    "updated": 0,
    "unchanged": 0,
    "rejected": 0,
    "progress": 0.0,
    "rate": None,
    "error": "",
    "created_at": "2026-02-01T09:30:00Z",
    "started_at": None,
    "finished_at": None,
}
IMPORT_QUEUED = OpenApiExample("Queued", value=_IMPORT, response_only=True, status_codes=["202"])
IMPORT_DONE = OpenApiExample(
    "Done",
    value={
        **_IMPORT,
        "status": "done",
        "total": 1200,
        "rows": 1200,
        "created": 1150,
        "updated": 38,
        "unchanged": 9,
        "rejected": 3,
        "progress": 1.0,
        "rate": 4210.5,
        "started_at": "2026-02-01T09:30:01Z",
        "finished_at": "2026-02-01T09:30:01.285000Z",
    },
    response_only=True,
)
IMPORT_ERRORS = OpenApiExample(
    "A mapping that cannot run",
    value={
        "errors": [
            {
                "path": "mapping.Emial",
                "message": "The file has no column “Emial”; its columns: “E-mail”, "
                "“First name”, “Plan”, “Notes”.",
            }
        ]
    },
    response_only=True,
    status_codes=["400"],
)
IMPORT_REJECTIONS = OpenApiExample(
    "Rejected rows",
    value=[
        {"line": 7, "email": "nope", "reason": "E-mail: 'nope' is not a valid email address."},
        {
            "line": 12,
            "email": "ann@example.com",
            "reason": "The same email is on line 3, which was imported; each contact once.",
        },
    ],
    response_only=True,
)
