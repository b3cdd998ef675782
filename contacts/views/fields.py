"""The registry of custom fields (docs/design.md#custom-fields): list and register,
change a label or options, delete."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from ..forms import CustomFieldForm
from ..models import CustomField


def _get_field_for_user(request: HttpRequest, field_id: int) -> CustomField:
    # Every signed-in user of a Flock instance works on the same registry.
    return get_object_or_404(CustomField, pk=field_id)


@require_http_methods(["GET", "POST"])
def field_list(request: HttpRequest) -> HttpResponse:
    """The registered fields, and the form that registers one."""
    form = CustomFieldForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        field = form.save()
        messages.success(request, f"Registered “{field.name}” ({field.get_type_display()}).")
        return redirect("contacts:fields")
    context = {"fields": CustomField.objects.all(), "form": form}
    return render(request, "contacts/field_list.html", context)


@require_http_methods(["GET", "POST"])
def field_edit(request: HttpRequest, field_id: int) -> HttpResponse:
    field = _get_field_for_user(request, field_id)
    form = CustomFieldForm(request.POST if request.method == "POST" else None, instance=field)
    if form.is_valid():
        form.save()
        messages.success(request, f"Saved “{field.name}”.")
        return redirect("contacts:fields")
    return render(request, "contacts/field_edit.html", {"field": field, "form": form})


@require_http_methods(["GET", "POST"])
def field_delete(request: HttpRequest, field_id: int) -> HttpResponse:
    field = _get_field_for_user(request, field_id)
    if request.method == "POST":
        field.delete()
        messages.success(request, f"“{field.name}” is no longer registered; its values stay.")
        return redirect("contacts:fields")
    return render(request, "contacts/field_delete.html", {"field": field})
