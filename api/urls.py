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

from .views import base, contacts, imports, lists, mailings, segments


class IdConverter:
    """A row id: digits only, small enough for a bigint (a longer number is a 404,
    not a database error)."""

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


register_converter(IdConverter, "id")


def route(pattern: str, view, name: str) -> list[URLPattern]:
    """`pattern` and `pattern/`, one view; only the first is named (and documented)."""
    return [path(pattern, view, name=name), path(pattern + "/", view)]


app_name = "api"
urlpatterns = [
    *route("segments", segments.SegmentListView.as_view(), "segments"),
    *route("segments/preview", segments.SegmentPreviewView.as_view(), "segment-preview"),
    *route(
        "segments/contacts",
        segments.SegmentContactsByQueryView.as_view(),
        "segment-contacts-q",
    ),
    *route("segments/<id:segment_id>", segments.SegmentDetailView.as_view(), "segment"),
    *route(
        "segments/<id:segment_id>/contacts",
        segments.SegmentContactsView.as_view(),
        "segment-contacts",
    ),
    *route("segments/<id:segment_id>/send", mailings.SegmentSendView.as_view(), "segment-send"),
    *route("mailings", mailings.MailingListView.as_view(), "mailings"),
    *route("mailings/<id:mailing_id>", mailings.MailingDetailView.as_view(), "mailing"),
    *route("contacts", contacts.ContactListView.as_view(), "contacts"),
    *route("contacts/export", contacts.ContactExportView.as_view(), "contacts-export"),
    *route("contacts/<id:contact_id>", contacts.ContactDetailView.as_view(), "contact"),
    *route("imports", imports.ImportListView.as_view(), "imports"),
    *route("imports/<id:job_id>", imports.ImportDetailView.as_view(), "import"),
    *route(
        "imports/<id:job_id>/rejections",
        imports.ImportRejectionsView.as_view(),
        "import-rejections",
    ),
    *route("imports/<id:job_id>/cancel", imports.ImportCancelView.as_view(), "import-cancel"),
    *route("tags", lists.TagListView.as_view(), "tags"),
    *route("groups", lists.GroupListView.as_view(), "groups"),
    *route("groups/<id:group_id>/members", lists.GroupMembersView.as_view(), "group-members"),
    *route(
        "groups/<id:group_id>/members/<id:contact_id>",
        lists.GroupMemberView.as_view(),
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
    re_path(r"^[\s\S]*$", base.NotFoundView.as_view()),  # not ".*": a %0A in the path too
]
