"""What the parser needs to know about groups and saved segments, as a protocol.

`parse_filter` never reads the database itself: it asks a `RuleLookup`, and
only between its passes (collect the references, ask once per kind, then
validate). `segments.lookups.DatabaseRuleLookup` answers from the database;
a test can answer from a dict.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class StoredSegment:
    """A saved segment as the parser sees it: its name (for the cycle error) and
    its stored rules (to follow its own segment references)."""

    name: str
    filter_json: Any


class RuleLookup(Protocol):
    def group_ids_by_name(self, names: Collection[str]) -> Mapping[str, int]:
        """For each name, the id of the group with that name ignoring case (the first
        one in the groups' order); names no group has are left out."""
        ...

    def existing_group_ids(self, ids: Collection[int]) -> Collection[int]:
        """Those of `ids` that are the id of a group."""
        ...

    def segments(self, ids: Collection[int]) -> Mapping[int, StoredSegment]:
        """The saved segments among `ids`, by id; ids with no segment are left out."""
        ...
