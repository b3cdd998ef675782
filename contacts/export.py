"""CSV export of a selection of contacts (docs/design.md#export).

PostgreSQL writes the CSV itself (`COPY (SELECT …) TO STDOUT`), and the rows are
passed on to the client as they come, so a million contacts are never in memory
and no Python loop touches each one. Every field is a column, then the tags and
groups by name and one column per custom field (the registered ones and every
key the selection's contacts have). Text that a spreadsheet would run as a
formula (starting with = + - @, a tab or a carriage return) gets a leading `'`.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone
from psycopg import sql

from .models import Contact, CustomField, Group, GroupMembership, ImportRejection, Tag

TEXT_COLUMNS = (
    "email", "first_name", "last_name", "company", "job_title", "country", "city", "source",
)  # fmt: skip
OTHER_COLUMNS = (
    "lead_score", "lifecycle_stage", "last_interacted_at", "created_at", "updated_at",
    "is_bounced", "is_unsubscribed",
)  # fmt: skip
MAX_CUSTOM_COLUMNS = 200


_FORMULA_STARTS = frozenset("=+-@\t\r")


def _safe(expression: str) -> str:
    """The text of `expression`, defused against CSV formula injection."""
    return (
        f"CASE WHEN {expression} ~ '^[=+@\\t\\r-]' THEN '''' || {expression} ELSE {expression} END"
    )


def export_csv(contacts: QuerySet[Contact]) -> Iterator[bytes]:
    """The contacts of the queryset as CSV with a header row, oldest first."""
    try:
        ids_sql, ids_params = contacts.order_by().values("pk").query.sql_with_params()
    except EmptyResultSet:  # .none(): a header, and no rows
        ids_sql, ids_params = "SELECT NULL::bigint WHERE false", ()
    keys = _custom_keys(ids_sql, ids_params)
    table = Contact._meta.db_table
    tags = (
        f"array_to_string(ARRAY(SELECT t.name FROM {Tag._meta.db_table} t "
        "WHERE t.id = ANY(c.tag_ids) ORDER BY lower(t.name)), ', ')"
    )
    groups = (
        f"array_to_string(ARRAY(SELECT g.name FROM {GroupMembership._meta.db_table} m "
        f"JOIN {Group._meta.db_table} g ON g.id = m.group_id WHERE m.contact_id = c.id "
        "ORDER BY lower(g.name)), ', ')"
    )
    status = (
        "CASE WHEN c.is_unsubscribed THEN 'unsubscribed' "
        "WHEN c.is_bounced THEN 'bounced' ELSE 'active' END"
    )
    columns = [
        *(f"{_safe('c.' + name)} AS {name}" for name in TEXT_COLUMNS),
        *(f"c.{name}" for name in OTHER_COLUMNS),
        f"{status} AS status",
        f"{_safe(tags)} AS tags",
        f"{_safe(groups)} AS groups",
    ]
    taken = {*TEXT_COLUMNS, *OTHER_COLUMNS, "status", "tags", "groups"}
    params: list = []
    with connection.cursor() as cursor:
        pg = cursor.connection  # the psycopg connection, to quote the custom names
        for key in keys:
            header = key if key not in taken else f"custom:{key}"
            if header[:1] in _FORMULA_STARTS:  # a name is a cell of the header row
                header = "'" + header
            # A % in a name would be read as a placeholder by the client-side binding.
            alias = sql.Identifier(header).as_string(pg).replace("%", "%%")
            columns.append(f"{_safe('(c.custom_fields ->> %s)')} AS {alias}")
            params += [key, key, key]  # _safe repeats the expression three times
        statement = (
            f"COPY (SELECT {', '.join(columns)} FROM {table} c "
            f"WHERE c.id IN ({ids_sql}) ORDER BY c.id) TO STDOUT WITH (FORMAT csv, HEADER)"
        )
        # Raw: COPY streams the whole selection in one statement (psycopg binds the
        # parameters client-side, COPY itself takes none).
        with cursor.cursor.copy(statement, [*params, *ids_params]) as copy:
            for block in copy:
                yield bytes(block)


def rejections_csv(job_id: int) -> Iterator[bytes]:
    """An import's rejected rows as CSV (line, email, reason), in line order."""
    statement = (
        f"COPY (SELECT line, {_safe('email')} AS email, {_safe('reason')} AS reason "
        f"FROM {ImportRejection._meta.db_table} WHERE job_id = %s ORDER BY line, id) "
        "TO STDOUT WITH (FORMAT csv, HEADER)"
    )
    with connection.cursor() as cursor, cursor.cursor.copy(statement, [job_id]) as copy:
        for block in copy:
            yield bytes(block)


def _custom_keys(ids_sql: str, ids_params: tuple) -> list[str]:
    """The registered custom fields, then every other key the selection has."""
    registered = list(CustomField.objects.values_list("name", flat=True))
    with connection.cursor() as cursor:
        # One pass over the selection's custom_fields (a seq scan for a whole table).
        cursor.execute(
            f"SELECT DISTINCT k FROM {Contact._meta.db_table} c, "
            f"jsonb_object_keys(CASE WHEN jsonb_typeof(c.custom_fields) = 'object' "
            f"THEN c.custom_fields ELSE '{{}}' END) AS k "
            f"WHERE c.id IN ({ids_sql}) ORDER BY k LIMIT {MAX_CUSTOM_COLUMNS + 1}",
            ids_params,
        )
        found = [row[0] for row in cursor.fetchall()]
    return [*registered, *(key for key in found if key not in registered)][:MAX_CUSTOM_COLUMNS]


def csv_response(rows: Iterator[bytes], name: str) -> StreamingHttpResponse:
    """A download of streamed CSV, named after what it holds and today's date."""
    response = StreamingHttpResponse(rows, content_type="text/csv; charset=utf-8")
    filename = f"{name}-{timezone.now():%Y-%m-%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
