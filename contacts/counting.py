"""Counting without ``COUNT(*)`` over a million rows.

A page that lists contacts needs "how many, roughly" and "is there a next
page", never an exact total of a million-row table.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, cast

from django.core.paginator import Paginator
from django.db import OperationalError, connection, transaction
from django.db.models import Model, QuerySet
from django.utils.functional import cached_property


def table_estimate(model: type[Model]) -> int:
    """The planner's row estimate for a whole table (kept fresh by autovacuum)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
            [model._meta.db_table],
        )
        row = cursor.fetchone()
    # -1 means "never analysed": fall back to a real count, which is cheap then.
    if row is None or row[0] < 0:
        return model._default_manager.count()
    return row[0]


@dataclass(frozen=True)
class CappedCount:
    value: int
    capped: bool  # True: there are at least `value` rows, maybe many more

    def __str__(self) -> str:
        return f"{self.value:,}+" if self.capped else f"{self.value:,}"


def capped_count(queryset: QuerySet, cap: int = 10_000) -> CappedCount:
    """Count up to `cap` rows: the cost is bounded by the cap, not the table."""
    found = queryset.order_by()[: cap + 1].count()
    return CappedCount(min(found, cap), found > cap)


def _is_unfiltered(queryset: QuerySet) -> bool:
    return not queryset.query.where


class EstimatedCountPaginator(Paginator):
    """Admin paginator: the table estimate when unfiltered, else a count that
    gives up after 200 ms and falls back to the planner's estimate."""

    @cached_property
    def count(self) -> int:
        # Only the admin's change lists use this paginator, and they page a queryset.
        queryset = cast("QuerySet[Any]", self.object_list)
        if _is_unfiltered(queryset):
            return table_estimate(queryset.model)
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SET LOCAL statement_timeout = 200")
                count = queryset.count()
                # Inside an outer transaction SET LOCAL would outlive this block.
                cursor.execute("SET LOCAL statement_timeout TO DEFAULT")
                return count
        except OperationalError:
            return planner_estimate(queryset)


def planner_estimate(queryset: QuerySet) -> int:
    """PostgreSQL's estimate of the rows `queryset` returns: one EXPLAIN, no scan."""
    sql, params = queryset.order_by().values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):  # psycopg may hand back text
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])
