"""Form data for the builder, as a browser posts it."""

from __future__ import annotations

from segments.forms import encode_tree
from segments.rules import parse_filter


def builder_data(rules, **extra) -> dict:
    data: dict = dict(encode_tree(parse_filter(rules)))
    data.update(extra)
    return data
