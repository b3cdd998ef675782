"""Writes over contacts that span rows or models; each is one set-based statement.

Checking a contact's fields lives in `validation.py`, the batch upsert by email in
`upsert.py`; here are the writes of one contact, of tags and of groups.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import IntegrityError, connection, transaction
from django.db.models import QuerySet, Value
from django.db.models.functions import Lower
from django.utils import timezone

from .models import Contact, ContactTag, Group, GroupMembership, Tag
from .upsert import names_to_ids


def tag_get_or_create(*, name: str) -> Tag:
    """The tag with this name whatever its case ("VIP" is "vip"), created if new.

    Matches on LOWER(name), the expression of the unique index, and survives a
    concurrent create of the same name.
    """
    name = name.strip()
    same_name = Tag.objects.alias(lname=Lower("name")).filter(lname=Lower(Value(name)))
    tag: Tag | None = same_name.first()
    if tag is None:
        try:
            with transaction.atomic():
                tag = Tag.objects.create(name=name)
        except IntegrityError:
            tag = same_name.get()
    return tag


@transaction.atomic
def contacts_add_tag(*, contacts: QuerySet[Contact], tag_name: str) -> tuple[Tag, int]:
    """Tag every contact of the queryset (even all of a million) in one INSERT … SELECT."""
    tag = tag_get_or_create(name=tag_name)
    try:
        ids_sql, params = contacts.order_by().values("pk").query.sql_with_params()
    except EmptyResultSet:  # e.g. .none(): nothing to tag
        return tag, 0
    table = ContactTag._meta.db_table
    with connection.cursor() as cursor:
        # Raw: the ORM has no INSERT … SELECT, and a million link objects would not fit.
        cursor.execute(
            f"INSERT INTO {table} (contact_id, tag_id) SELECT ids.contact_id, %s "
            f"FROM ({ids_sql}) AS ids(contact_id) "
            "ON CONFLICT (tag_id, contact_id) DO NOTHING",
            [tag.pk, *params],
        )
        return tag, cursor.rowcount


@transaction.atomic
def contacts_unsubscribe(*, contacts: QuerySet[Contact]) -> int:
    """Mark contacts unsubscribed; every later send leaves them out."""
    return contacts.filter(is_unsubscribed=False).update(is_unsubscribed=True)


class EmailTaken(ValueError):
    """Another contact already has this email (emails are unique whatever their case)."""


@transaction.atomic
def contact_create(*, data: dict[str, Any]) -> Contact:
    """A new contact from `data` as `contact_clean` returns it, with its tags and
    groups by name (new names are created). Raises EmailTaken when the email (in
    any case) is another contact's."""
    fields = {name: value for name, value in data.items() if name not in ("tags", "groups")}
    try:
        with transaction.atomic():
            contact = Contact.objects.create(**fields)
    except IntegrityError:
        raise EmailTaken(data.get("email", "")) from None
    _set_names(contact, data)
    return contact


@transaction.atomic
def contact_update(*, contact: Contact, data: dict[str, Any]) -> Contact:
    """Change the given fields of one contact (`data` as `contact_clean(partial=True)`
    returns it); `tags` and `groups`, when given, become exactly those names.

    Raises EmailTaken when the new email belongs to another contact.
    """
    fields = {name: value for name, value in data.items() if name not in ("tags", "groups")}
    if fields:
        try:
            with transaction.atomic():
                Contact.objects.filter(pk=contact.pk).update(**fields, updated_at=timezone.now())
        except IntegrityError:
            raise EmailTaken(data.get("email", "")) from None
    _set_names(contact, data)
    contact.refresh_from_db()
    return contact


def _set_names(contact: Contact, data: dict[str, Any]) -> None:
    """`tags` and `groups`, when given, become exactly those names."""
    if "tags" in data:
        _set_links(ContactTag, "tag_id", contact, names_to_ids(Tag, data["tags"]).values())
    if "groups" in data:
        _set_links(
            GroupMembership, "group_id", contact, names_to_ids(Group, data["groups"]).values()
        )


def _set_links(model, column: str, contact: Contact, ids: Iterable[int]) -> None:
    """Exactly these tags/groups: one DELETE of the others, one INSERT of the missing.
    (For tags, the triggers of migration contacts 0003 keep tag_ids in step.)"""
    ids = sorted(set(ids))
    model.objects.filter(contact=contact).exclude(**{f"{column}__in": ids}).delete()
    if ids:
        extra = ", added_at" if model is GroupMembership else ""
        extra_value = ", now()" if model is GroupMembership else ""
        with connection.cursor() as cursor:
            # Raw: one statement whatever the number of ids, skipping existing links.
            cursor.execute(
                f"INSERT INTO {model._meta.db_table} (contact_id, {column}{extra}) "
                f"SELECT %s, x{extra_value} FROM unnest(%s::bigint[]) AS x "
                "ON CONFLICT DO NOTHING",
                [contact.pk, ids],
            )


@transaction.atomic
def group_add_members(*, group: Group, contact_ids: list[int]) -> int:
    """Add contacts to a static list in one INSERT … SELECT; ids that do not exist
    are skipped. Returns how many were not members before."""
    with connection.cursor() as cursor:
        # Raw: INSERT … SELECT drops unknown ids in the same statement that adds the rest.
        cursor.execute(
            f"INSERT INTO {GroupMembership._meta.db_table} (group_id, contact_id, added_at) "
            f"SELECT %s, c.id, now() FROM {Contact._meta.db_table} c "
            "WHERE c.id = ANY(%s::bigint[]) ON CONFLICT DO NOTHING",
            [group.pk, contact_ids],
        )
        return cursor.rowcount


@transaction.atomic
def group_remove_members(*, group: Group, contact_ids: list[int]) -> int:
    deleted, _ = GroupMembership.objects.filter(group=group, contact_id__in=contact_ids).delete()
    return deleted
