"""The REST API (docs/design.md#api) under /api/. Each path answers with and without
a trailing slash (`/api/segments` as other tools spell it, `/api/segments/` as Django
habits go)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.urls import URLPattern, path, re_path, register_converter
from drf_spectacular.renderers import (
    OpenApiJsonRenderer,
    OpenApiJsonRenderer2,
    OpenApiYamlRenderer,
    OpenApiYamlRenderer2,
)
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from . import views


class IdConverter:
    """A row id: digits only, small enough for a bigint (a longer number is a 404,
    not a database error)."""

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


register_converter(IdConverter, "id")


def route(pattern: str, view, name: str | None = None) -> list[URLPattern]:
    """`pattern` and `pattern/`, one view; only the first is named (and documented)."""
    return [path(pattern, view, name=name), path(pattern + "/", view)]


app_name = "api"
urlpatterns = [
    *route("segments", views.SegmentListView.as_view(), "segments"),
    *route("segments/preview", views.SegmentPreviewView.as_view(), "segment-preview"),
    *route("segments/contacts", views.SegmentContactsByQueryView.as_view(), "segment-contacts-q"),
    *route("segments/<id:segment_id>", views.SegmentDetailView.as_view(), "segment"),
    *route(
        "segments/<id:segment_id>/contacts",
        views.SegmentContactsView.as_view(),
        "segment-contacts",
    ),
    *route("segments/<id:segment_id>/send", views.SegmentSendView.as_view(), "segment-send"),
    *route("mailings", views.MailingListView.as_view(), "mailings"),
    *route("mailings/<id:mailing_id>", views.MailingDetailView.as_view(), "mailing"),
    *route("contacts", views.ContactListView.as_view(), "contacts"),
    *route("contacts/<id:contact_id>", views.ContactDetailView.as_view(), "contact"),
    *route("tags", views.TagListView.as_view(), "tags"),
    *route("groups", views.GroupListView.as_view(), "groups"),
    *route("groups/<id:group_id>/members", views.GroupMembersView.as_view(), "group-members"),
    *route(
        "groups/<id:group_id>/members/<id:contact_id>",
        views.GroupMemberView.as_view(),
        "group-member",
    ),
    # The OpenAPI schema and its interactive docs (Swagger UI served from our static
    # files). The docs page sends a browser without a session to the login page.
    path(
        "schema/",
        SpectacularAPIView.as_view(
            # JSON unless YAML is asked for (`Accept: application/yaml` or ?format=yaml).
            renderer_classes=[
                OpenApiJsonRenderer2,
                OpenApiJsonRenderer,
                OpenApiYamlRenderer,
                OpenApiYamlRenderer2,
            ]  # fmt: skip
        ),
        name="schema",
    ),
    path(
        "docs/",
        login_required(SpectacularSwaggerView.as_view(url_name="api:schema")),
        name="docs",
    ),
    # Anything else under /api/ is a JSON 404, not the dashboard's HTML page.
    re_path(r"^[\s\S]*$", views.NotFoundView.as_view()),  # not ".*": a %0A in the path too
]
