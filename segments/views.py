"""Segment list and rule builder (SPEC §3). Thin views over selectors and services."""

from __future__ import annotations

import copy

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect, trigger_client_event

from contacts.counting import table_estimate
from contacts.models import Contact, Group, Tag
from contacts.views import HtmxHttpRequest

from . import services
from .forms import (
    FIELD_CHOICES,
    ROOT,
    SegmentMetaForm,
    apply_action,
    build_rows,
    decode_tree,
    errors_by_node,
    flatten,
    new_condition,
)
from .models import ContactSegment
from .prefabs import PREFABS
from .rules import RuleError, RuleErrors, describe_filter, parse_filter
from .rules.fields import STAGE_VALUES, STATUS_VALUES
from .selectors import (
    display_names,
    preview,
    segment_rows,
    segments_using,
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
def segment_duplicate(request: HtmxHttpRequest, segment_id: int) -> HttpResponse:
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


@require_http_methods(["GET", "POST"])
def segment_send(request: HtmxHttpRequest, segment_id: int) -> HttpResponse:
    """The compose page: segment pages own the URL, the mailing app the view."""
    from mailing.views import compose

    return compose(request, _get_segment_for_user(request, segment_id))


# -- builder --------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def segment_create(request: HtmxHttpRequest) -> HttpResponse:
    return _builder(request, None)


@require_http_methods(["GET", "POST"])
def segment_edit(request: HtmxHttpRequest, segment_id: int) -> HttpResponse:
    return _builder(request, _get_segment_for_user(request, segment_id))


def _builder(request: HtmxHttpRequest, segment: ContactSegment | None) -> HttpResponse:
    """Create/edit. Every button is a submit of the whole form (`action`), so it all
    works without JavaScript; htmx swaps in just the rules card or the preview."""
    action = request.POST.get("action", "") if request.method == "POST" else ""
    if request.method == "POST":
        meta = SegmentMetaForm(request.POST)
        tree = decode_tree(request.POST)
    else:
        initial = {"name": segment.name, "description": segment.description} if segment else {}
        meta = SegmentMetaForm(initial=initial)
        tree = copy.deepcopy(segment.filter_json) if segment else _blank_tree()

    prefab = action.removeprefix("prefab:") if action.startswith("prefab:") else ""
    prefab = prefab or request.GET.get("prefab", "")
    if prefab in PREFABS:
        tree = copy.deepcopy(PREFABS[prefab].filter_json)
    elif action.startswith(("add-condition:", "add-group:", "remove:")):
        tree = apply_action(tree, action)

    rule_errors: list = []
    result = None
    if action == "save":
        saved = _save(request, segment, meta, tree)
        if isinstance(saved, ContactSegment):
            count = services.segment_evaluate(segment=saved)  # the list shows it at once
            messages.success(request, f"Saved “{saved.name}”: {count:,} contacts match now.")
            url = reverse("segments:list")
            return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
        rule_errors = saved
    if action in ("preview", "save") or (request.method == "GET" and segment):
        result, errors = _preview(tree)
        rule_errors = rule_errors or errors

    context = _builder_context(request, segment, meta, tree, rule_errors, result)
    template_name = "segments/segment_builder.html"
    # The rules card, or one row of it (a field/operator change redraws only its
    # own row, so what is being typed elsewhere is never replaced).
    target = request.htmx.target or "" if request.htmx else ""
    if target == "rules-card" or target.startswith("node-"):
        response = render(request, template_name + "#rules-card", context)
        # The rows changed under the live preview: ask it to run again.
        return trigger_client_event(response, "rules-changed", after="settle")
    return render(request, template_name, context)


def _blank_tree() -> dict:
    return {"match": "all", "negate": False, "rules": [new_condition()]}


def _save(request, segment, meta, tree) -> ContactSegment | list:
    """The saved segment, or the rule errors that stopped it (meta errors stay on `meta`)."""
    meta_ok = meta.is_valid()
    try:
        parse_filter(tree, segment_id=segment.pk if segment else None)
    except RuleErrors as exc:
        return exc.errors
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


def _preview(tree: dict):
    try:
        return preview(tree), []
    except RuleErrors as exc:
        return None, exc.errors


def _builder_context(request, segment, meta, tree, rule_errors, result) -> dict:
    errors = errors_by_node(rule_errors)
    root = build_rows(tree if isinstance(tree, dict) else _blank_tree(), errors)
    total = table_estimate(Contact)
    summary = ""
    if result is not None:
        summary = describe_filter(parse_filter(tree), names=display_names())
    return {
        "segment": segment,
        "meta": meta,
        "root": root,
        "root_errors": errors.get(ROOT, []),
        "prefabs": PREFABS.values(),
        "field_choices": FIELD_CHOICES,
        "status_choices": STATUS_VALUES,
        "stage_choices": STAGE_VALUES,
        "tag_names": list(Tag.objects.values_list("name", flat=True)),
        "groups": list(Group.objects.values_list("pk", "name")),
        "segments": list(
            ContactSegment.objects.exclude(pk=segment.pk if segment else None).values_list(
                "pk", "name"
            )
        ),
        "result": result,
        "summary": summary,
        "share": (100 * result.count / total) if result is not None and total else None,
        "total": total,
        "max_depth": settings.SEGMENT_MAX_DEPTH,
        "rows": list(flatten(root)),
        "has_errors": bool(rule_errors),
    }


@require_POST
def segment_preview(request: HtmxHttpRequest) -> HttpResponse:
    """Live preview: bound to the builder form; invalid rules come back as messages
    next to their rows (out-of-band) with status 200, valid ones as count and sample."""
    tree = decode_tree(request.POST)
    segment_id = request.POST.get("segment_id", "")
    segment = ContactSegment.objects.filter(pk=segment_id).first() if segment_id.isdigit() else None
    result, rule_errors = _preview(tree)
    context = _builder_context(
        request, segment, SegmentMetaForm(request.POST), tree, rule_errors, result
    )
    context["oob_errors"] = True
    return render(request, "segments/segment_builder.html#preview", context)
