"""Writes over contacts that span rows or models; each is one set-based statement."""

from __future__ import annotations

from django.core.exceptions import EmptyResultSet
from django.db import IntegrityError, connection, transaction
from django.db.models import QuerySet, Value
from django.db.models.functions import Lower

from .models import Contact, ContactTag, Tag


def tag_get_or_create(*, name: str) -> Tag:
    """The tag with this name whatever its case ("VIP" is "vip"), created if new.

    Matches on LOWER(name), the expression of the unique index, and survives a
    concurrent create of the same name.
    """
    name = name.strip()
    same_name = Tag.objects.alias(lname=Lower("name")).filter(lname=Lower(Value(name)))
    tag = same_name.first()
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
