"""What each column of an import is, and one record turned into a contact.

A mapping has one entry per column: {"to": target} with target a contact field,
"tags" (comma-separated names), "custom" (with "field": the custom field's name)
or "skip". `auto_mapping` guesses it from the header. `RowReader` turns a record's
cells into the contact the upsert writes, through the same `contact_clean` as the
API, so a cell is accepted or refused for the same reasons. A blank cell leaves
the field as it is.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..contact_form import TEXT_LABELS
from ..custom_fields import FieldType, FieldTypes, WrongType, from_text
from ..validation import ContactInvalid, FieldError, contact_clean, custom_text_clean

TARGETS: dict[str, str] = {
    "email": "Email",
    **TEXT_LABELS,
    "lead_score": "Lead score",
    "lifecycle_stage": "Lifecycle stage",
    "last_interacted_at": "Last interacted",
    "created_at": "Created",
    "is_unsubscribed": "Unsubscribed (yes/no)",
    "is_bounced": "Bounced (yes/no)",
    "tags": "Tags (comma-separated)",
    "custom": "Custom field",
    "skip": "Skip this column",
}
# Headers as other tools and spreadsheets write them, compared without case,
# spaces or punctuation ("E-mail address" is "emailaddress").
_HEADERS = {
    "email": "email emailaddress mail e mailaddress emailaddr",
    "first_name": "firstname first givenname forename fname",
    "last_name": "lastname last surname familyname lname",
    "company": "company companyname organization organisation org employer",
    "job_title": "jobtitle title position role",
    "country": "country countryname",
    "city": "city town",
    "source": "source leadsource signupsource",
    "lead_score": "leadscore score",
    "lifecycle_stage": "lifecyclestage stage",
    "last_interacted_at": "lastinteracted lastinteractedat lastactivity lastseen",
    "created_at": "created createdat signupdate signedup dateadded subscribedat",
    "is_unsubscribed": "unsubscribed isunsubscribed optedout optout",
    "is_bounced": "bounced isbounced",
    "tags": "tags tag labels",
}
_BY_HEADER = {alias: target for target, aliases in _HEADERS.items() for alias in aliases.split()}
_TRUE = frozenset({"true", "yes", "y", "1", "on", "x"})
_FALSE = frozenset({"false", "no", "n", "0", "off"})
_WHOLE = re.compile(r"\d+(\.0*)?")


def _key(header: str) -> str:
    return re.sub(r"[^a-z0-9]", "", header.lower())


def auto_mapping(header: Sequence[str], types: FieldTypes) -> list[dict[str, str]]:
    """A guess per column: a contact field, a registered custom field, or skip.
    Each target is given to its first column only."""
    taken: set[str] = set()
    mapping = []
    for name in header:
        key = _key(name)
        target = _BY_HEADER.get(key, "")
        field = types.get(name.strip().lower())
        if field is None:
            field = next((f for f in types.values() if _key(f.name) == key), None)
        if target and target not in taken:
            mapping.append({"to": target})
            taken.add(target)
        elif field is not None and field.name not in taken:
            mapping.append({"to": "custom", "field": field.name})
            taken.add(field.name)
        else:
            mapping.append({"to": "skip"})
    return mapping


@dataclass(frozen=True)
class Column:
    index: int
    header: str
    to: str
    field: FieldType | None = None  # registered custom field
    custom: str = ""  # custom field name (registered or not)


class RowReader:
    """Records of one import → contacts as the upsert takes them."""

    def __init__(
        self,
        header: Sequence[str],
        mapping: Sequence[dict[str, str]],
        types: FieldTypes,
        *,
        tags: Sequence[str] = (),
        group: str | None = None,
    ):
        self.width = len(header)
        self.types = types
        self.columns = []
        for index, (name, entry) in enumerate(zip(header, mapping, strict=True)):
            to = entry["to"]
            if to == "skip":
                continue
            custom = entry.get("field", "").strip() if to == "custom" else ""
            field = types.get(custom.lower()) if custom else None
            if field is not None:
                custom = field.name  # the registered spelling
            self.columns.append(Column(index, name or f"column {index + 1}", to, field, custom))
        # The custom field names are checked once here (as contact_clean would for
        # each row); a row's custom values are checked by their type in `contact`.
        names = [c.custom for c in self.columns if c.to == "custom"]
        contact_clean({"custom_fields": dict.fromkeys(names)}, partial=True, types=types)
        self.extra_tags = list(tags)
        self.groups = [group] if group else []
        self.label = {c.to if c.to != "custom" else f"custom_fields.{c.custom}": c.header
                      for c in self.columns}  # fmt: skip

    def email_cell(self, cells: list[str]) -> str:
        """The row's email cell as it is (for the rejection list)."""
        for column in self.columns:
            if column.to == "email" and column.index < len(cells):
                return cells[column.index].strip()
        return ""

    def contact(self, cells: list[str]) -> dict[str, Any]:
        """The cleaned contact of one record, or ContactInvalid naming the columns."""
        if len(cells) != self.width:
            raise ContactInvalid(
                [
                    FieldError(
                        "",
                        f"This row has {len(cells)} values but the header has {self.width} "
                        "columns; check the quotes and delimiters on this line.",
                    )
                ]
            )
        raw: dict[str, Any] = {}
        errors: list[FieldError] = []
        custom: dict[str, Any] = {}
        tags = list(self.extra_tags)
        for column in self.columns:
            text = cells[column.index].strip()
            if not text:
                continue
            try:
                if column.to == "custom":
                    value = from_text(column.field, text) if column.field else text
                    custom[column.custom] = (
                        custom_text_clean(value) if isinstance(value, str) else value
                    )
                elif column.to == "tags":
                    tags += [name.strip() for name in text.split(",") if name.strip()]
                else:
                    raw[column.to] = _value(column.to, text)
            except (WrongType, ValueError) as exc:
                errors.append(FieldError(column.header, str(exc)))
        if tags:
            raw["tags"] = tags
        if self.groups:
            raw["groups"] = self.groups
        if "email" not in raw and not errors:
            errors.append(FieldError("", "There is no email address in this row."))
        if errors:
            raise ContactInvalid(errors)
        try:
            contact = contact_clean(raw, types=self.types)
        except ContactInvalid as exc:
            raise ContactInvalid(
                [FieldError(self.label.get(e.path, e.path), e.message) for e in exc.errors]
            ) from None
        if custom:
            contact["custom_fields"] = custom
        return contact


def _value(to: str, text: str) -> Any:
    """A cell as the JSON value `contact_clean` checks (text stays text)."""
    if to in ("is_unsubscribed", "is_bounced"):
        if text.lower() in _TRUE:
            return True
        if text.lower() in _FALSE:
            return False
        raise ValueError(f"Enter yes or no, not '{text[:50]}'.")
    if to == "lead_score" and _WHOLE.fullmatch(text):
        return int(float(text))
    return text


def reason(error: ContactInvalid) -> str:
    """A rejection in one line: 'Column: what to change; …'."""
    return "; ".join(f"{e.path}: {e.message}" if e.path else e.message for e in error.errors)
