"""The database behind the rule parser: `segments.rules.parse_filter`'s default lookup.

One query per kind and parse: all the group names, then the ids of the values
no group is called, then the referenced segments (and one per level when
following them to find a cycle).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from functools import reduce
from operator import or_

from django.db import connection
from django.db.models import BooleanField, ExpressionWrapper, Q

from contacts.models import Group

from .models import ContactSegment
from .rules.lookup import StoredSegment


class DatabaseRuleLookup:
    """A `segments.rules.lookup.RuleLookup` that reads Group and ContactSegment."""

    def group_ids_by_name(self, names: Collection[str]) -> Mapping[str, int]:
        names = list(dict.fromkeys(names))
        if not names:
            return {}
        # PostgreSQL decides what matches ignoring case (`iexact`), one flag per name;
        # rows come in the groups' order, so the first match is what `.first()` gave.
        flags = {
            f"asked_{index}": ExpressionWrapper(Q(name__iexact=name), output_field=BooleanField())
            for index, name in enumerate(names)
        }
        rows = (
            Group.objects.filter(reduce(or_, (Q(name__iexact=name) for name in names)))
            .annotate(**flags)
            .values("pk", *flags)
        )
        found: dict[str, int] = {}
        for row in rows:
            for index, name in enumerate(names):
                if row[f"asked_{index}"] and name not in found:
                    found[name] = row["pk"]
        return found

    def existing_group_ids(self, ids: Collection[int]) -> Collection[int]:
        # An id the column cannot hold is no group's (what `pk=` answers), never an error.
        low, high = connection.ops.integer_field_range(Group._meta.pk.get_internal_type())
        ids = [pk for pk in set(ids) if (low is None or pk >= low) and (high is None or pk <= high)]
        if not ids:
            return set()
        return set(Group.objects.filter(pk__in=ids).values_list("pk", flat=True))

    def segments(self, ids: Collection[int]) -> Mapping[int, StoredSegment]:
        rows = ContactSegment.objects.filter(pk__in=set(ids)).values_list(
            "pk", "name", "filter_json"
        )
        return {pk: StoredSegment(name, filter_json) for pk, name, filter_json in rows}
