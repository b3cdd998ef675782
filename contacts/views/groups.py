"""Groups (static lists): list with their sizes and create, rename. Deleting one is
the segments app's page (segments.views.group_delete): only it knows which
segments use a group."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from ..forms import GroupForm
from ..models import Group
from ..selectors import groups_with_sizes


def _get_group_for_user(request: HttpRequest, group_id: int) -> Group:
    # Every signed-in user of a Flock instance works on the same groups.
    return get_object_or_404(Group, pk=group_id)


@require_http_methods(["GET", "POST"])
def group_list(request: HttpRequest) -> HttpResponse:
    form = GroupForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        group = form.save()
        messages.success(request, f"Created the group “{group.name}”.")
        return redirect("contacts:groups")
    return render(
        request, "contacts/group_list.html", {"groups": groups_with_sizes(), "form": form}
    )


@require_http_methods(["GET", "POST"])
def group_edit(request: HttpRequest, group_id: int) -> HttpResponse:
    group = _get_group_for_user(request, group_id)
    form = GroupForm(request.POST if request.method == "POST" else None, instance=group)
    if form.is_valid():
        form.save()
        messages.success(request, f"Saved the group “{group.name}”.")
        return redirect("contacts:groups")
    return render(request, "contacts/group_edit.html", {"group": group, "form": form})
