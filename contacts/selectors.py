"""Reads over contacts: the list's search and filters, keyset pages, the registry of
custom fields."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from django.db import connection
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Lower

from . import custom_fields
from .models import Contact, Group, GroupMembership, Tag


def contact_status_q(status: str) -> Q:
    """The derived status as a filter: unsubscribed wins over bounced
    (docs/design.md#status-and-reachability)."""
    if status == Contact.Status.UNSUBSCRIBED:
        return Q(is_unsubscribed=True)
    if status == Contact.Status.BOUNCED:
        return Q(is_bounced=True, is_unsubscribed=False)
    if status == Contact.Status.ACTIVE:
        return Q(is_bounced=False, is_unsubscribed=False)
    raise ValueError(f"Unknown status {status!r}")


def contact_has_tag(tag: Tag) -> Q:
    """Served by the GIN index on the trigger-kept tag_ids array."""
    return Q(tag_ids__contains=[tag.pk])


MAX_SEARCH_TERMS = 5


class SegmentLookup(Protocol):
    """What the segments app lends the contacts list, which cannot import it
    (docs/design.md#import-direction): a segment's name, and who is in it now."""

    def name(self, pk: int) -> str | None:
        """None: there is no such segment."""

    def members(self, pk: int) -> Q | None:
        """The segment's rules evaluated now; None: deleted, or its rules no longer work."""


# Set by segments.apps when Django starts; unset (no segments app), no filter by one.
segment_lookup: SegmentLookup | None = None


def contact_search(
    *,
    q: str = "",
    tag: Tag | None = None,
    group: Group | None = None,
    status: str = "",
    segment: int | None = None,
) -> QuerySet[Contact]:
    """Contacts matching the list's search box and filters.

    The search looks in email, name and company; each has a trigram index on
    UPPER(column), which is exactly what ``icontains`` compiles to. A segment is its
    rules, compiled into this query's WHERE (segments.selectors is the one way).
    """
    contacts = Contact.objects.all()
    if segment is not None:
        rules = segment_lookup.members(segment) if segment_lookup else None
        contacts = contacts.filter(rules if rules is not None else Q(pk__in=[]))
    # A few words narrow a search; more only cost a LIKE each.
    for term in q.split()[:MAX_SEARCH_TERMS]:
        contacts = contacts.filter(
            Q(email__icontains=term) | Q(full_name__icontains=term) | Q(company__icontains=term)
        )
    if tag is not None:
        contacts = contacts.filter(contact_has_tag(tag))
    if group is not None:
        # A semi-join that group_membership_unique (group_id, contact_id) answers alone.
        members = GroupMembership.objects.filter(group=group).values("contact_id")
        contacts = contacts.filter(pk__in=members)
    if status:
        contacts = contacts.filter(contact_status_q(status))
    return contacts


@dataclass(frozen=True)
class KeysetPage:
    """One page of a list ordered by id, newest first.

    Keyset pagination ("id < last seen id") costs the same on page 1 and
    page 20,000, where OFFSET would scan everything before the page.
    """

    items: list
    next_after: int | None  # pass as ?after= for the next (older) page
    prev_before: int | None  # pass as ?before= for the previous (newer) page


def keyset_page(
    queryset: QuerySet, *, size: int, after: int | None = None, before: int | None = None
) -> KeysetPage:
    """`queryset` may give model instances or `.values()` rows (which need "id")."""
    if before is not None:
        # Walk upwards from `before`, then show the page newest first again.
        rows = list(queryset.filter(pk__gt=before).order_by("pk")[: size + 1])
        has_newer = len(rows) > size
        items = rows[:size][::-1]
        has_older = bool(items) and queryset.filter(pk__lt=_pk(items[-1])).exists()
    else:
        queryset_page = queryset.filter(pk__lt=after) if after is not None else queryset
        rows = list(queryset_page.order_by("-pk")[: size + 1])
        items = rows[:size]
        has_older = len(rows) > size
        has_newer = (
            after is not None and bool(items) and queryset.filter(pk__gt=_pk(items[0])).exists()
        )
    return KeysetPage(
        items=items,
        next_after=_pk(items[-1]) if has_older else None,
        prev_before=_pk(items[0]) if has_newer else None,
    )


def _pk(row) -> int:
    return row["id"] if isinstance(row, dict) else row.pk


# What a stored JSON value `v` must be to fit each type (SQL over jsonb; a date is
# also a real calendar day, which flock_jsonb_timestamp checks).
_FITS = {
    custom_fields.TEXT: "jsonb_typeof(v) = 'string'",
    custom_fields.NUMBER: "jsonb_typeof(v) = 'number'",
    custom_fields.BOOLEAN: "jsonb_typeof(v) = 'boolean'",
    custom_fields.DATE: "jsonb_typeof(v) = 'string' AND (v #>> '{}') ~ '^\\d{4}-\\d{2}-\\d{2}$'"
    " AND flock_jsonb_timestamp(v) IS NOT NULL",
    custom_fields.CHOICE: "jsonb_typeof(v) = 'string' AND lower(v #>> '{}') = ANY(%(options)s)",
}


def stored_values_not_fitting(
    field: custom_fields.FieldType, *, limit: int
) -> list[tuple[str, str]]:
    """Up to `limit` (email, value as JSON text) of contacts whose value under the
    field's name does not fit its type. Raw SQL: jsonb_typeof has no ORM spelling."""
    sql = f"""
        SELECT email, v::text FROM (
            SELECT id, email, custom_fields -> %(name)s AS v FROM {Contact._meta.db_table}
            WHERE custom_fields ? %(name)s
        ) AS stored
        WHERE jsonb_typeof(v) <> 'null' AND NOT ({_FITS[field.type]})
        ORDER BY id LIMIT %(limit)s
    """
    params: dict[str, Any] = {
        "name": field.name,
        "limit": limit,
        "options": [option.lower() for option in field.options],
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [(email, value[:60]) for email, value in cursor.fetchall()]


def groups_with_sizes() -> list[tuple[Group, int]]:
    """Every group by name, with its number of members: one GROUP BY over the
    memberships (an index-only scan of group_membership_unique), not a count per group."""
    sizes = dict(
        GroupMembership.objects.order_by()
        .values_list("group_id")
        .annotate(n=Count("id"))
        .values_list("group_id", "n")
    )
    return [(group, sizes.get(group.pk, 0)) for group in Group.objects.order_by(Lower("name"))]


def stored_names_in_other_case(name: str, *, limit: int) -> list[tuple[str, str]]:
    """Up to `limit` (email, key) of contacts with a custom-field key that is `name`
    in another case ("Plan" for "plan"): once `name` is registered, writes of such a
    key are refused, so registering it while they exist is refused too. Raw SQL
    (jsonb_object_keys); one pass over the contacts."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT c.email, k FROM {Contact._meta.db_table} c, jsonb_object_keys("
            "CASE WHEN jsonb_typeof(c.custom_fields) = 'object' THEN c.custom_fields "
            "ELSE '{}' END) AS k WHERE lower(k) = lower(%s) AND k <> %s ORDER BY c.id LIMIT %s",
            [name, name, limit],
        )
        return list(cursor.fetchall())
