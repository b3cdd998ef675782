"""Builder form data that `helpers.builder_data` cannot make (it goes through parse_filter):
rows that are not valid yet, as a browser posts them, and forms no browser would post."""

from __future__ import annotations

from urllib.parse import urlencode

URLENCODED = "application/x-www-form-urlencoded"


def row(path: str, field: str, op: str, value: str = "") -> dict[str, str]:
    """One condition row as drawn for `field` (`.drawn`) and posted as it stands."""
    return {
        f"{path}.kind": "condition",
        f"{path}.field": field,
        f"{path}.drawn": field,
        f"{path}.op": op,
        f"{path}.value": value,
    }


def form(*rows: dict[str, str], **extra: str) -> dict[str, str]:
    data = {"r.kind": "group", "r.match": "all"}
    for one in rows:
        data.update(one)
    data.update(extra)
    return data


def blank_builder(**extra: str) -> dict[str, str]:
    """What a new builder posts before anything is typed: one empty 'Email contains' row."""
    return form(row("r.0", "email", "contains"), **extra)


def nested_groups(levels: int) -> dict[str, str]:
    """`levels` groups, each the only child of the one above, around one condition."""
    data = {}
    path = "r"
    for _ in range(levels):
        data[f"{path}.kind"] = "group"
        path += ".0"
    data.update(row(path, "leadScore", "gte", "70"))
    return data


def many_conditions(count: int) -> dict[str, str]:
    return form(*(row(f"r.{i}", "leadScore", "gte", "70") for i in range(count)))


def post_urlencoded(client, url: str, data: dict[str, str], **extra):
    """POST as a browser does (the test client's default, multipart, caps each part's
    header, which a field name 1,000 characters long exceeds)."""
    return client.post(url, urlencode(data), content_type=URLENCODED, **extra)
