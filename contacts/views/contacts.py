"""Contacts: the list, one contact's page, and its create, edit and delete forms."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.db.models.functions import Lower
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_http_methods

from config.http import HtmxHttpRequest

from ..contact_form import ContactForm
from ..counting import capped_count, table_estimate
from ..export import csv_response, export_csv
from ..forms import ContactFilterForm
from ..models import BulkAction, Contact, Group, Tag
from ..selectors import contact_search, keyset_page
from ..services import EmailTaken, contact_create, contact_update


def _get_contact_for_user(request: HttpRequest, contact_id: int) -> Contact:
    # Every signed-in user of a Flock instance works on the same contact base.
    return get_object_or_404(Contact.objects.prefetch_related("tags", "groups"), pk=contact_id)


@require_GET
def contact_list(request: HtmxHttpRequest) -> HttpResponse:
    form = ContactFilterForm(request.GET)
    form.is_valid()  # invalid fields are shown with their errors and ignored
    q, status = form.value("q") or "", form.value("status") or ""
    tag, group, segment = form.value("tag"), form.value("group"), form.value("segment")
    if form.errors.get("segment"):
        # Unlike a stale tag, a deleted segment must not show everyone as its members.
        messages.error(request, " ".join(str(error) for error in form.errors["segment"]))
        return redirect("contacts:list")
    contacts = contact_search(q=q, tag=tag, group=group, status=status, segment=segment)
    page = keyset_page(
        contacts,
        size=settings.CONTACTS_PER_PAGE,
        after=form.value("after"),
        before=form.value("before"),
    )
    filtered = bool(q or tag or group or status or segment)
    context = {
        "form": form,
        "segment_name": form.segment_name,
        "page": page,
        "filtered": filtered,
        # An unfiltered total is the planner's estimate; a filtered one stops counting at 10,000.
        "total": capped_count(contacts) if filtered else table_estimate(Contact),
        "query_string": _filters_query_string(request),
    }
    template_name = "contacts/contact_list.html"
    if request.htmx and not request.htmx.boosted and not request.htmx.history_restore_request:
        template_name += "#results"
        # The form stays on the page while typing: its Clear link comes along out of band.
        context["fragment"] = True
    else:
        # The bulk bar is outside the fragment: its choices are read for a whole page only.
        context["bulk_actions"] = BulkAction.Action.choices
        context["bulk_names"] = [  # suggestions for its name box: the tags and groups
            *Tag.objects.order_by(Lower("name")).values_list("name", flat=True)[:300],
            *Group.objects.order_by(Lower("name")).values_list("name", flat=True)[:300],
        ]
    response = render(request, template_name, context)
    # The same URL answers with a page or a fragment: caches must keep both apart.
    patch_vary_headers(response, ["HX-Request"])
    return response


def _filters_query_string(request: HttpRequest) -> str:
    params = request.GET.copy()
    for cursor in ("after", "before"):
        params.pop(cursor, None)
    return params.urlencode()


@require_GET
def contact_detail(request: HtmxHttpRequest, contact_id: int) -> HttpResponse:
    contact = _get_contact_for_user(request, contact_id)
    fields = contact.custom_fields
    custom_fields = sorted(fields.items()) if isinstance(fields, dict) else []
    return render(
        request,
        "contacts/contact_detail.html",
        {
            "contact": contact,
            "custom_fields": custom_fields,
        },
    )


# -- create, edit, delete -------------------------------------------------------


@require_http_methods(["GET", "POST"])
def contact_new(request: HttpRequest) -> HttpResponse:
    return _contact_form(request, None)


@require_http_methods(["GET", "POST"])
def contact_edit(request: HttpRequest, contact_id: int) -> HttpResponse:
    return _contact_form(request, _get_contact_for_user(request, contact_id))


def _contact_form(request: HttpRequest, contact: Contact | None) -> HttpResponse:
    """Create or edit: the form is checked by contact_clean, as the API's bodies are;
    a change of the contact's reachability (unsubscribed, bounced) is confirmed first."""
    posted = request.method == "POST"
    form = ContactForm(request.POST if posted else None, contact=contact)
    confirm: list[str] = []
    if posted and form.is_valid():
        if form.needs_confirmation():
            confirm = form.status_changes()
        else:
            try:
                if contact is None:
                    contact = contact_create(data=form.data_to_save())
                    messages.success(request, f"Added {contact.email}.")
                else:
                    contact_update(contact=contact, data=form.data_to_save())
                    messages.success(request, f"Saved {contact.email}.")
                return redirect(contact)
            except EmailTaken:
                form.add_error("email", "Another contact already has this email.")
    context = {
        "form": form,
        "contact": contact,
        "confirm": confirm,
        "tag_names": Tag.objects.order_by(Lower("name")).values_list("name", flat=True)[:500],
    }
    return render(request, "contacts/contact_form.html", context)


@require_http_methods(["GET", "POST"])
def contact_delete(request: HttpRequest, contact_id: int) -> HttpResponse:
    contact = _get_contact_for_user(request, contact_id)
    if request.method == "POST":
        contact.delete()
        messages.success(request, f"Deleted {contact.email}.")
        return redirect("contacts:list")
    return render(request, "contacts/contact_delete.html", {"contact": contact})


@require_GET
def contact_export(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    """The contacts of the list's search and filters (a group's, with ?group=) as CSV."""
    form = ContactFilterForm(request.GET)
    if not form.is_valid():
        # Unlike the list, an export must not quietly widen to everyone.
        reasons = " ".join(str(error) for errors in form.errors.values() for error in errors)
        messages.error(request, f"Nothing was exported: {reasons}")
        return redirect(reverse("contacts:list") + "?" + request.GET.urlencode())
    contacts = contact_search(
        q=form.value("q") or "",
        tag=form.value("tag"),
        group=form.value("group"),
        status=form.value("status") or "",
        segment=form.value("segment"),
    )
    return csv_response(export_csv(contacts), "contacts")
