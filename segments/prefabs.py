"""One-click segment templates (docs/design.md#prefabs): data, not templates.

A test validates each with the same parser as user input.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Prefab:
    key: str
    label: str
    description: str
    filter_json: dict


PREFABS: dict[str, Prefab] = {
    p.key: p
    for p in [
        Prefab(
            "win_back",
            "Win-back: inactive 90 days",
            "Reachable contacts who last interacted more than 90 days ago.",
            {
                "match": "all",
                "negate": False,
                "rules": [
                    {"field": "lastInteracted", "op": "older_than_days", "value": 90},
                    {"field": "isBounced", "op": "equals", "value": False},
                    {"field": "isUnsubscribed", "op": "equals", "value": False},
                ],
            },
        ),
        Prefab(
            "most_engaged",
            "Most engaged (last 30 days)",
            "Contacts who interacted in the last 30 days.",
            {
                "match": "all",
                "negate": False,
                "rules": [{"field": "lastInteracted", "op": "within_days", "value": 30}],
            },
        ),
        Prefab(
            "high_value",
            "High-value leads",
            "Lead score of 70 or more.",
            {
                "match": "all",
                "negate": False,
                "rules": [{"field": "leadScore", "op": "gte", "value": 70}],
            },
        ),
        Prefab(
            "new_this_week",
            "New subscribers this week",
            "Contacts created in the last 7 days.",
            {
                "match": "all",
                "negate": False,
                "rules": [{"field": "createdAt", "op": "within_days", "value": 7}],
            },
        ),
        Prefab(
            "never_engaged",
            "Never engaged",
            "Reachable contacts with no interaction on record.",
            {
                "match": "all",
                "negate": False,
                "rules": [
                    {"field": "lastInteracted", "op": "is_not_set"},
                    {"field": "status", "op": "equals", "value": "active"},
                ],
            },
        ),
    ]
}
