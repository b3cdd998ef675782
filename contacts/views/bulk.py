"""Bulk actions from the contacts list (contacts/bulk.py): asked first with the
count, then done at once (a few thousand contacts) or followed on a progress page
while a worker does it in batches."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from config.http import HtmxHttpRequest

from ..bulk import bulk_action_create, bulk_description, selection_contacts
from ..forms import BulkActionForm, ContactFilterForm
from ..models import BulkAction, Group, Tag
from ..services import tag_get_or_create
from ..upsert import names_to_ids

FILTERS = ("q", "tag", "group", "status", "segment")


@require_POST
def bulk_action(request: HttpRequest) -> HttpResponse:
    form = BulkActionForm(request.POST)
    filters = ContactFilterForm(request.POST)  # the list's search and filters, sent along
    back = reverse("contacts:list") + _query(filters)
    context: dict = {"form": form, "back": back}
    if request.POST.get("scope") == "all" and not filters.is_valid():
        # A filter that no longer holds (a tag renamed meanwhile) must not widen the
        # selection to everyone: nothing is done, and the page says why.
        for errors in filters.errors.values():
            for error in errors:
                form.add_error(None, error)
    if not form.is_valid():
        return render(request, "contacts/bulk_confirm.html", context)
    data = form.cleaned_data
    if data["scope"] == "selected":
        selection: dict = {"ids": data["ids"]}
    else:
        selection = {"filter": _saved_filter(filters)}
    total = selection_contacts(selection).count()
    question = bulk_description(data["action"], data["name"], total)
    if not data["confirm"] or total == 0 or data["asked"] != total:
        context.update(question=question, total=total, filters=filters)
        return render(request, "contacts/bulk_confirm.html", context)
    tag, group = _target(data["action"], data["name"])
    job = bulk_action_create(
        action=data["action"],
        selection=selection,
        total=total,
        tag=tag,
        group=group,
        user=request.user,
    )
    if job.status == BulkAction.Status.DONE:
        done = bulk_description(data["action"], data["name"], job.done, done=True)
        messages.success(request, f"{done} ({job.changed:,} changed).")
        return redirect(back)
    return redirect("contacts:bulk-job", job_id=job.pk)


def _query(filters: ContactFilterForm) -> str:
    """The list's query string again, to go back to the same search and filters."""
    pairs = [(name, filters.data[name]) for name in FILTERS if filters.data.get(name)]
    return "?" + urlencode(pairs) if pairs else ""


def _saved_filter(filters: ContactFilterForm) -> dict:
    tag, group = filters.value("tag"), filters.value("group")
    return {
        "q": filters.value("q") or "",
        "tag": tag.pk if tag else None,
        "group": group.pk if group else None,
        "status": filters.value("status") or "",
        "segment": filters.value("segment"),
    }


def _target(action: str, name: str) -> tuple[Tag | None, Group | None]:
    """The tag or group an action names: created for an add, looked up for a remove."""
    if action == BulkAction.Action.ADD_TAG:
        return tag_get_or_create(name=name), None
    if action == BulkAction.Action.ADD_TO_GROUP:
        (group_id,) = names_to_ids(Group, [name]).values()
        return None, Group.objects.get(pk=group_id)
    if action == BulkAction.Action.REMOVE_TAG:
        return Tag.objects.get(name__iexact=name), None
    if action == BulkAction.Action.REMOVE_FROM_GROUP:
        return None, Group.objects.get(name__iexact=name)
    return None, None


@require_GET
def bulk_job(request: HtmxHttpRequest, job_id: int) -> HttpResponse:
    job = get_object_or_404(BulkAction.objects.select_related("tag", "group"), pk=job_id)
    name = job.tag.name if job.tag else job.group.name if job.group else ""
    context = {
        "job": job,
        "title": bulk_description(job.action, name, job.total),
        "percent": min(100, job.done * 100 // job.total) if job.total else 100,
        "finished": job.status in (BulkAction.Status.DONE, BulkAction.Status.FAILED),
    }
    template_name = "contacts/bulk_job.html"
    if request.htmx:
        template_name += "#progress"
    return render(request, template_name, context)
