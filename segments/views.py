"""Segment list and rule builder (docs/design.md#pages). Thin views over selectors and services."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect, trigger_client_event

from config.http import AuthenticatedHtmxHttpRequest, HtmxHttpRequest
from contacts.counting import table_estimate
from contacts.export import csv_response, export_csv
from contacts.models import Contact, Group, Tag

from . import services
from .forms import (
    FIELD_CHOICES,
    ROOT,
    FormTooLarge,
    Registered,
    SegmentMetaForm,
    apply_action,
    custom_field_labels,
    decode_tree,
    new_condition,
    preview_part,
    registered_fields,
    rows_to_replace,
    rule_errors,
    typed_value_errors,
)
from .models import ContactSegment
from .prefabs import PREFABS, Prefab
from .rows import NodeErrors, build_rows, errors_by_node, flatten
from .rules import RuleError, RuleErrors, count_conditions, describe_filter, parse_filter
from .rules.describe import Names
from .rules.fields import STAGE_VALUES, STATUS_VALUES
from .selectors import (
    Preview,
    display_names,
    preview,
    segment_contacts,
    segment_rows,
    segments_using,
    segments_using_group,
)


def _get_segment_for_user(request: HttpRequest, segment_id: int) -> ContactSegment:
    # Every signed-in user of a Flock instance works on the same segments.
    return get_object_or_404(ContactSegment, pk=segment_id)


# -- list -----------------------------------------------------------------------


@require_GET
def segment_list(request: HtmxHttpRequest) -> HttpResponse:
    segments = list(ContactSegment.objects.order_by("name", "pk"))
    return render(request, "segments/segment_list.html", {"rows": segment_rows(segments)})


@require_POST
def segment_run(request: HtmxHttpRequest, segment_id: int) -> HttpResponse:
    segment = _get_segment_for_user(request, segment_id)
    try:
        count = services.segment_evaluate(segment=segment)
    except RuleErrors as exc:
        messages.error(request, f"“{segment}” could not be evaluated: {exc.errors[0].message}")
        return redirect("segments:list")
    if request.htmx:
        (row,) = segment_rows([segment])
        return render(request, "segments/segment_list.html#row", {"row": row})
    messages.success(request, f"“{segment}” matches {count:,} contacts now.")
    return redirect("segments:list")


@require_POST
def segment_duplicate(request: AuthenticatedHtmxHttpRequest, segment_id: int) -> HttpResponse:
    original = _get_segment_for_user(request, segment_id)
    copy_ = services.segment_create(
        name=f"{original.name} (copy)",
        description=original.description,
        filter_json=original.filter_json,
        user=request.user,
    )
    messages.success(request, f"Duplicated “{original}”. You are editing the copy.")
    return redirect("segments:edit", segment_id=copy_.pk)


@require_http_methods(["GET", "POST"])
def segment_delete(request: HtmxHttpRequest, segment_id: int) -> HttpResponse:
    segment = _get_segment_for_user(request, segment_id)
    users = segments_using(segment)
    if request.method == "POST" and not users:
        name = segment.name
        segment.delete()
        messages.success(request, f"Deleted “{name}”.")
        return redirect("segments:list")
    return render(
        request,
        "segments/segment_delete.html",
        {"segment": segment, "users": users},
        status=409 if request.method == "POST" else 200,
    )


@require_GET
def segment_export(request: HttpRequest, segment_id: int) -> HttpResponse | StreamingHttpResponse:
    """The segment's members now, as CSV (contacts/export.py); 409 with the reason
    when its saved rules no longer work."""
    segment = _get_segment_for_user(request, segment_id)
    try:
        contacts = segment_contacts(segment)
    except RuleErrors as exc:
        reasons = "; ".join(error.message for error in exc.errors)
        messages.error(request, f"“{segment.name}” cannot be exported: {reasons}")
        return redirect("segments:list")
    return csv_response(export_csv(contacts), slugify(segment.name) or "segment")


@require_http_methods(["GET", "POST"])
def group_delete(request: HttpRequest, group_id: int) -> HttpResponse:
    """A contacts page (/contacts/groups/<id>/delete) served here: only segments know
    which segments name a group, and a group they use cannot go (their rules would
    stop working)."""
    group = get_object_or_404(Group, pk=group_id)
    users = segments_using_group(group)
    if request.method == "POST" and not users:
        group.delete()
        messages.success(request, f"Deleted the group “{group.name}”; its contacts stay.")
        return redirect("contacts:groups")
    return render(
        request,
        "contacts/group_delete.html",
        {"group": group, "users": users},
        status=409 if request.method == "POST" else 200,
    )


# -- builder --------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def segment_create(request: AuthenticatedHtmxHttpRequest) -> HttpResponse:
    return _builder(request, None)


@require_http_methods(["GET", "POST"])
def segment_edit(request: AuthenticatedHtmxHttpRequest, segment_id: int) -> HttpResponse:
    return _builder(request, _get_segment_for_user(request, segment_id))


def _builder(request: AuthenticatedHtmxHttpRequest, segment: ContactSegment | None) -> HttpResponse:
    """Create/edit. Every button is a submit of the whole form (`action`), so it all
    works without JavaScript; htmx swaps in just the rules card or the preview."""
    action = request.POST.get("action", "") if request.method == "POST" else ""
    form_error = ""
    registered = registered_fields()
    if request.method == "POST":
        meta = SegmentMetaForm(request.POST)
        try:
            tree = decode_tree(request.POST, registered=registered)
        except FormTooLarge as exc:
            tree, action, form_error = _blank_tree(), "", str(exc)
    else:
        initial = {"name": segment.name, "description": segment.description} if segment else {}
        meta = SegmentMetaForm(initial=initial)
        tree = copy.deepcopy(segment.filter_json) if segment else _blank_tree()

    verb, _, key = action.partition(":")
    if request.method == "GET" and request.GET.get("prefab"):
        verb, key = "prefab", request.GET["prefab"]
    confirm: Prefab | None = None
    focus: str | None = None
    if verb == "prefab" and key in PREFABS and rows_to_replace(tree):
        confirm = PREFABS[key]  # the rules on screen would be lost: ask first
    elif verb in ("prefab", "prefab-replace") and key in PREFABS:
        tree = copy.deepcopy(PREFABS[key].filter_json)
    elif verb in ("add-condition", "add-group", "remove"):
        focus = apply_action(tree, action)

    errors: NodeErrors = {}
    shown = None
    if action == "save":
        saved = _save(request, segment, meta, tree, registered)
        if isinstance(saved, ContactSegment):
            count = services.segment_evaluate(segment=saved)  # the list shows it at once
            messages.success(request, f"Saved “{saved.name}”: {count:,} contacts match now.")
            url = reverse("segments:list")
            return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
        errors = errors_by_node(saved)
    if action in ("preview", "save") or (request.method == "GET" and segment):
        shown = _preview(tree, registered)
        errors = errors or shown.errors

    context = _builder_context(
        request,
        segment,
        meta,
        tree,
        registered,
        errors=errors,
        shown=shown,
        focus=focus,
        confirm=confirm,
    )
    context["form_error"] = form_error
    status = 400 if form_error else 200
    template_name = "segments/segment_builder.html"
    # The rules card, or one row of it (a field/operator change redraws only its
    # own row, so what is being typed elsewhere is never replaced).
    target = request.htmx.target or "" if request.htmx else ""
    if target == "rules-card" or target.startswith("node-"):
        response = render(request, template_name + "#rules-card", context, status=status)
        # The rows changed under the live preview: ask it to run again.
        return trigger_client_event(response, "rules-changed", after="settle")
    return render(request, template_name, context, status=status)


def _blank_tree() -> dict:
    return {"match": "all", "negate": False, "rules": [new_condition()]}


def _save(
    request: AuthenticatedHtmxHttpRequest, segment, meta, tree, registered: Registered
) -> ContactSegment | list:
    """The saved segment, or the rule errors that stopped it (meta errors stay on `meta`)."""
    meta_ok = meta.is_valid()
    errors = rule_errors(tree, registered, segment_id=segment.pk if segment else None)
    if errors:
        return errors
    if not meta_ok:
        return []
    fields = {
        "name": meta.cleaned_data["name"],
        "description": meta.cleaned_data["description"],
        "filter_json": tree,
    }
    try:
        if segment is None:
            return services.segment_create(user=request.user, **fields)
        return services.segment_update(segment=segment, **fields)
    except ValidationError as exc:
        messages_ = exc.message_dict.get("filter_json", exc.messages)
        return [RuleError(m.split(": ", 1)[0], m.split(": ", 1)[-1]) for m in messages_]


@dataclass(frozen=True)
class _Shown:
    """What the builder's preview shows: the finished rows' count, or why there is none."""

    result: Preview | None = None
    summary: str = ""
    errors: NodeErrors = field(default_factory=dict)
    waiting: bool = False  # every row still waits for its value


def _preview(tree, registered: Registered) -> _Shown:
    """The builder's preview: rows still waiting for a value are left out, not errors
    (saving still refuses them); errors point at the rows on screen."""
    part = preview_part(tree)
    if part.waiting:
        return _Shown(waiting=True)
    if typed_value_errors(part.tree, registered):
        return _Shown(errors=errors_by_node(rule_errors(part.tree, registered), part.paths))
    try:
        result = preview(part.tree)
    except RuleErrors as exc:
        return _Shown(errors=errors_by_node(exc.errors, part.paths))
    names: Names = {**display_names(), "customField": custom_field_labels(registered)}
    return _Shown(result=result, summary=describe_filter(parse_filter(part.tree), names=names))


def _builder_context(
    request,
    segment,
    meta,
    tree,
    registered: Registered,
    *,
    errors: NodeErrors,
    shown: _Shown | None = None,
    focus: str | None = None,
    confirm: Prefab | None = None,
) -> dict:
    tree = tree if isinstance(tree, dict) else _blank_tree()
    incomplete = preview_part(tree).incomplete
    root = build_rows(tree, errors, incomplete=incomplete, focus=focus, registered=registered)
    total = table_estimate(Contact)
    result = shown.result if shown else None
    # The segments this one's rules may refer to: all of them but itself.
    others = ContactSegment.objects.all()
    if segment:
        others = others.exclude(pk=segment.pk)
    return {
        "segment": segment,
        "meta": meta,
        "root": root,
        "root_errors": [message for _, message in errors.get(ROOT, [])],
        "confirm_prefab": confirm,
        "confirm_count": count_conditions(tree) if confirm else 0,
        "prefabs": PREFABS.values(),
        "field_choices": FIELD_CHOICES,
        "custom_field_choices": [(field.choice, field.label) for field in registered.values()],
        "status_choices": STATUS_VALUES,
        "stage_choices": STAGE_VALUES,
        "tag_names": list(Tag.objects.values_list("name", flat=True)),
        "groups": list(Group.objects.values_list("pk", "name")),
        "segments": list(others.values_list("pk", "name")),
        "result": result,
        "summary": shown.summary if shown else "",
        "share": (100 * result.count / total) if result is not None and total else None,
        "total": total,
        "left_out": len(incomplete) if result is not None else 0,
        "waiting": bool(shown and shown.waiting),
        "max_depth": settings.SEGMENT_MAX_DEPTH,
        "rows": list(flatten(root)),
        "has_errors": bool(errors),
    }


@require_POST
def segment_preview(request: HtmxHttpRequest) -> HttpResponse:
    """Live preview: bound to the builder form; invalid rules come back as messages
    next to their rows (out-of-band) with status 200, valid ones as count and sample."""
    template_name = "segments/segment_builder.html#preview"
    registered = registered_fields()
    try:
        tree = decode_tree(request.POST, registered=registered)
    except FormTooLarge as exc:
        return render(request, template_name, {"form_error": str(exc)}, status=400)
    segment_id = request.POST.get("segment_id", "")
    segment = ContactSegment.objects.filter(pk=segment_id).first() if segment_id.isdigit() else None
    shown = _preview(tree, registered)
    context = _builder_context(
        request,
        segment,
        SegmentMetaForm(request.POST),
        tree,
        registered,
        errors=shown.errors,
        shown=shown,
    )
    context["oob_errors"] = True
    return render(request, template_name, context)
