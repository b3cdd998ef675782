"""`?page=&per_page=` paging for plain JSON arrays, with `Link` and `X-Total-Count`.

Lists stay plain arrays (docs/design.md#api); where they are in the headers. A page is one
query for `per_page + 1` rows (the extra row says whether there is a next page).

Lists ordered newest first by id (contacts, a segment's or a group's contacts)
also take the keyset cursors `after_id` / `before_id` (contacts.selectors.keyset_page),
and their `next` / `prev` links carry them, so that walking a million contacts by
following `Link` costs the same on page 5,000 as on page 2. `page` then only
numbers the page; a bare `?page=5000` jumps there with an OFFSET, which costs more
the deeper it goes.

The total avoids COUNT(*) over a million rows (contacts/counting.py):

- a page that is not full ends the list, so the total is known without counting;
- an unfiltered table gives the planner's estimate of its size;
- a segment that had more than CAP contacts at its last evaluation gives that
  count (its `last_count`);
- anything else is counted up to CAP rows; above that, the planner's estimate
  of the query (never less than CAP + 1, nor than the rows already passed), and
  for a minute the same query skips the count and goes straight to the estimate;
- `?count=exact` always counts exactly (it costs a scan of the matching rows).

`X-Total-Count-Exact` says which it is; the `last` link is only given for an
exact total.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.core.cache import cache
from django.core.exceptions import EmptyResultSet
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter
from rest_framework.request import Request
from rest_framework.response import Response

from contacts.counting import capped_count, planner_estimate, table_estimate
from contacts.selectors import keyset_page

from .exceptions import invalid

DEFAULT_PER_PAGE = 100
MAX_PER_PAGE = 1000
MAX_PAGE = 10_000_000
MAX_ID = 2**63 - 1
CAP = 10_000


@dataclass(frozen=True)
class PageParams:
    page: int
    per_page: int
    exact: bool
    after_id: int | None = None
    before_id: int | None = None

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page

    @property
    def cursor(self) -> bool:
        return self.after_id is not None or self.before_id is not None


def whole_number(request: Request, name: str, *, default: int | None, low: int, high: int):
    """A query parameter that must be a whole number in [low, high] (else a 400)."""
    raw = request.query_params.get(name)
    if raw is None:
        if default is None:
            raise invalid(name, f"Give {name}.")
        return default
    if not raw.isascii() or not raw.isdigit() or len(raw) > 19 or not low <= int(raw) <= high:
        raise invalid(name, f"{name} must be a whole number from {low:,} to {high:,}.")
    return int(raw)


def page_params(request: Request, *, keyset: bool) -> PageParams:
    count = request.query_params.get("count")
    if count not in (None, "exact", "estimate"):
        raise invalid("count", "count must be 'exact' or 'estimate'.")
    after_id = before_id = None
    if keyset:
        after_id = whole_number(request, "after_id", default=0, low=1, high=MAX_ID) or None
        before_id = whole_number(request, "before_id", default=0, low=1, high=MAX_ID) or None
        if after_id is not None:
            before_id = None  # documented: after_id wins
    return PageParams(
        page=whole_number(request, "page", default=1, low=1, high=MAX_PAGE),
        per_page=whole_number(
            request, "per_page", default=DEFAULT_PER_PAGE, low=1, high=MAX_PER_PAGE
        ),
        exact=count == "exact",
        after_id=after_id,
        before_id=before_id,
    )


@dataclass(frozen=True)
class Total:
    value: int
    exact: bool


DEFERRED_JOIN_OFFSET = 10_000


def _offset_rows(queryset: QuerySet, params: PageParams, *, keyset: bool) -> list:
    """The page by OFFSET. Deep in an id-ordered list, the ids are found first (an
    index-only scan when unfiltered) and only their rows read: the rows skipped
    over are never fetched whole."""
    window = slice(params.offset, params.offset + params.per_page + 1)
    if not keyset or params.offset < DEFERRED_JOIN_OFFSET:
        return list(queryset[window])
    ids = list(queryset.order_by("-pk").values_list("pk", flat=True)[window])
    return list(queryset.filter(pk__in=ids).order_by("-pk")) if ids else []


def _total(
    queryset: QuerySet, params: PageParams, rows: int, *, ends_list: bool, hint: int | None
) -> Total:
    if ends_list and not params.cursor and (rows or params.page == 1):
        return Total(params.offset + rows, exact=True)  # this page ends the list
    ids = queryset.order_by().values("pk")
    if params.exact:
        return Total(ids.count(), exact=True)
    # What this page says about an estimate: at least the rows up to it; and an
    # empty page past the end puts the end before it.
    low = params.offset + rows if rows and not params.cursor else rows
    high = params.offset if not rows and not params.cursor else None

    def estimate(value: int) -> Total:
        value = max(value, low)
        return Total(value if high is None else min(value, high), exact=False)

    if not queryset.query.where:
        return estimate(table_estimate(queryset.model))
    if hint is not None and hint > CAP:
        return estimate(hint)  # large at its last evaluation: not worth counting now
    large = _large_list_key(ids)
    if large is None or not cache.get(large):
        counted = capped_count(ids, cap=CAP)
        if not counted.capped:
            return Total(counted.value, exact=True)
        if large is not None:
            # A list this long stays long for a while: the next pages skip the count.
            cache.set(large, True, LARGE_FOR_SECONDS)
    return estimate(max(planner_estimate(ids), CAP + 1))


LARGE_FOR_SECONDS = 60


def _large_list_key(ids: QuerySet) -> str | None:
    """A cache key for "this query has more than CAP rows"."""
    try:
        sql, params = ids.query.sql_with_params()
    except EmptyResultSet:
        return None
    digest = hashlib.sha256(f"{sql}|{params!r}".encode("utf-8", "replace")).hexdigest()
    return f"api:large-list:{digest}"


def paginated_response(
    request: Request,
    queryset: QuerySet,
    serialize: Callable[[Sequence[Any]], list],
    *,
    keyset: bool = False,
    hint: int | None = None,
) -> Response:
    """One page of `queryset` as a JSON array, with paging headers.

    `queryset` is ordered; with `keyset=True` it must be newest first by id (and
    give "id" in its `.values()` rows). `serialize` turns the page's rows into
    JSON-ready items all at once, so that it can fetch what they refer to (tag
    names, …) in one query per page. `hint` is a recent count of the list (a
    segment's last evaluation), used as its estimated total when large.
    """
    params = page_params(request, keyset=keyset)
    prev_before = None
    if params.cursor:
        page = keyset_page(
            queryset, size=params.per_page, after=params.after_id, before=params.before_id
        )
        rows, has_next, prev_before = page.items, page.next_after is not None, page.prev_before
    else:
        rows = _offset_rows(queryset, params, keyset=keyset)
        has_next = len(rows) > params.per_page
        rows = rows[: params.per_page]
    total = _total(queryset, params, len(rows) + has_next, ends_list=not has_next, hint=hint)
    response = Response(serialize(rows))
    response["X-Total-Count"] = str(total.value)
    response["X-Total-Count-Exact"] = "true" if total.exact else "false"

    links = {"first": _page_url(request, params, 1)}
    if prev_before is not None:
        links["prev"] = _page_url(request, params, params.page - 1, before_id=prev_before)
    elif params.page > 1 and not params.cursor:
        links["prev"] = _page_url(request, params, params.page - 1)
    if has_next:
        after = _row_id(rows[-1]) if keyset else None
        links["next"] = _page_url(request, params, params.page + 1, after_id=after)
    if total.exact:
        last = max(1, math.ceil(total.value / params.per_page))
        links["last"] = _page_url(request, params, last)
    response["Link"] = ", ".join(f'<{url}>; rel="{rel}"' for rel, url in links.items())
    return response


def _row_id(row) -> int:
    return row["id"] if isinstance(row, dict) else row.pk


def _page_url(request: Request, params: PageParams, page: int, **cursor: int | None) -> str:
    query = request.query_params.copy()
    for name in ("page", "per_page", "after_id", "before_id"):
        query.pop(name, None)
    query["page"] = str(max(page, 1))
    query["per_page"] = str(params.per_page)
    for name, value in cursor.items():
        if value is not None:
            query[name] = str(value)
    return request.build_absolute_uri(request.path) + "?" + urlencode(sorted(query.lists()), True)


# -- schema ----------------------------------------------------------------------

PAGE_PARAMETERS: list[OpenApiParameter] = [
    OpenApiParameter(
        "page",
        {"type": "integer", "minimum": 1, "maximum": MAX_PAGE},
        description="Page number, from 1.",
    ),
    OpenApiParameter(
        "per_page",
        {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE},
        description=f"Rows per page, 1 to {MAX_PER_PAGE} (default {DEFAULT_PER_PAGE}).",
    ),
    OpenApiParameter(
        "count",
        str,
        enum=["exact", "estimate"],
        description=f"`exact`: X-Total-Count counts every row (slower on big lists). "
        f"By default a total above {CAP:,} is PostgreSQL's estimate.",
    ),
    OpenApiParameter(
        "X-Total-Count",
        int,
        location=OpenApiParameter.HEADER,
        response=[200],
        required=True,
        description="How many rows the list has in all (see X-Total-Count-Exact).",
    ),
    OpenApiParameter(
        "X-Total-Count-Exact",
        str,
        enum=["true", "false"],
        location=OpenApiParameter.HEADER,
        response=[200],
        required=True,
        description="`false` when X-Total-Count is an estimate.",
    ),
    OpenApiParameter(
        "Link",
        str,
        location=OpenApiParameter.HEADER,
        response=[200],
        required=True,
        description='Pages as `<url>; rel="first|prev|next|last"` (RFC 8288); '
        "`last` only with an exact total.",
    ),
]

KEYSET_PARAMETERS = [
    *PAGE_PARAMETERS,
    OpenApiParameter(
        "after_id",
        {"type": "integer", "minimum": 1, "maximum": MAX_ID},
        description="Keyset cursor: the rows after (older than) this id. The `next` "
        "link carries it; `page` then only numbers the page.",
    ),
    OpenApiParameter(
        "before_id",
        {"type": "integer", "minimum": 1, "maximum": MAX_ID},
        description="Keyset cursor: the rows before (newer than) this id (the `prev` "
        "link). Ignored when `after_id` is given.",
    ),
]
