"""OpenAPI schema hooks (drf-spectacular): what every operation shares."""

from __future__ import annotations

from .serializers.rules import RULE_COMPONENTS


def without_slash_duplicates(endpoints, **kwargs):
    """Every path is routed with and without a trailing slash (api/urls.py); the
    schema lists the spelling without it (docs/design.md#api)."""
    return [endpoint for endpoint in endpoints if not endpoint[0].endswith("/")]


ERRORS_REF = {"$ref": "#/components/schemas/Errors"}
ERRORS_SCHEMA = {
    "type": "object",
    "properties": {
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"path": {"type": "string"}, "message": {"type": "string"}},
                "required": ["path", "message"],
            },
        }
    },
    "required": ["errors"],
}
COMMON = {
    "401": "No token or session, or a token that is not valid.",
    "403": "Not allowed (e.g. a session request without its CSRF token).",
    "406": "The client does not accept JSON.",
    "429": "Too many requests for this token; wait Retry-After seconds.",
}
WITH_BODY = {
    "400": "The body is not valid: each error has its path and message.",
    "413": "The body is too large.",
    "415": "The body is not JSON.",
}
WITH_QUERY = {"400": "A query parameter is not valid."}
WITH_PATH = {"404": "There is nothing with this id."}


def add_shared_parts(result, generator, request, public):
    """The rule-tree components, request bodies closed to unknown keys, and the error
    responses every operation can give (all as `{"errors": [{"path", "message"}]}`)."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.update(RULE_COMPONENTS)
    schemas.setdefault("Errors", ERRORS_SCHEMA)
    for name, schema in schemas.items():
        if name.endswith("Request") and "properties" in schema:
            # Every body is read whole: a key it does not know is a 400 (api.views.base.valid_body,
            # contacts.services.contact_clean), never dropped.
            schema["additionalProperties"] = False
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            locations = {parameter["in"] for parameter in operation.get("parameters", [])}
            codes = dict(COMMON)
            if "requestBody" in operation:
                codes.update(WITH_BODY)
            if "query" in locations:
                codes.update(WITH_QUERY)
            if "path" in locations:
                codes.update(WITH_PATH)
            responses = operation.setdefault("responses", {})
            for code, description in sorted(codes.items()):
                responses.setdefault(
                    code,
                    {
                        "description": description,
                        "content": {"application/json": {"schema": ERRORS_REF}},
                    },
                )
            responses["429"]["headers"] = {
                "Retry-After": {
                    "schema": {"type": "integer", "minimum": 1},
                    "required": True,
                    "description": "Seconds to wait before the next request.",
                }
            }
    return result
