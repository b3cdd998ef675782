"""The dashboard's form of one contact (create and edit).

It only reads the page into the shape the API sends (`contact_clean`'s input), so
a contact typed in the dashboard is checked by the same rules as one posted to the
API; the errors `contact_clean` finds are put back next to their fields. Custom
fields get a widget for their registered type (contacts/custom_fields.py); the
keys a contact has that nobody registered are shown as text and keep their stored
value (a number stays a number) unless their text is changed.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models.functions import Lower

from .custom_fields import BOOLEAN, CHOICE, DATE, NUMBER, FieldType, WrongType, as_text, from_text
from .models import Contact, CustomField, Group
from .validation import TEXT_FIELDS, ContactInvalid, contact_clean

PREFIX = "custom:"  # the form-field name of custom field NAME is "custom:NAME"
TEXT_LABELS = {
    "first_name": "First name",
    "last_name": "Last name",
    "company": "Company",
    "job_title": "Job title",
    "country": "Country",
    "city": "City",
    "source": "Source",
}


def _custom_widget(field: FieldType) -> forms.Field:
    if field.type == NUMBER:
        return forms.CharField(required=False, widget=forms.NumberInput(attrs={"step": "any"}))
    if field.type == DATE:
        return forms.CharField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    if field.type == BOOLEAN:
        return forms.ChoiceField(required=False, choices=[("", "—"), ("yes", "Yes"), ("no", "No")])
    if field.type == CHOICE:
        return forms.ChoiceField(
            required=False, choices=[("", "—")] + [(o, o) for o in field.options]
        )
    return forms.CharField(required=False, max_length=1000)


def _text(name: str) -> forms.CharField:
    return forms.CharField(
        required=False, widget=forms.TextInput(attrs={"maxlength": TEXT_FIELDS[name]})
    )


def _shown(name: str, value: Any) -> str:
    """A stored custom value as its text box shows it."""
    return as_text(FieldType(name, "text"), value)


class ContactForm(forms.Form):
    """Every writable field of a contact; `data()` is what contact_clean returned."""

    # Lengths and ranges are contact_clean's; the attributes only help the browser.
    email = forms.CharField(widget=forms.EmailInput(attrs={"maxlength": 254}))
    first_name = _text("first_name")
    last_name = _text("last_name")
    company = _text("company")
    job_title = _text("job_title")
    country = _text("country")
    city = _text("city")
    source = _text("source")
    lifecycle_stage = forms.ChoiceField(
        choices=Contact.LifecycleStage.choices, initial=Contact.LifecycleStage.SUBSCRIBER
    )
    lead_score = forms.IntegerField(
        initial=0, widget=forms.NumberInput(attrs={"min": 0, "max": 100})
    )
    tags = forms.CharField(
        required=False,
        max_length=20_000,  # up to 100 tags of 100 characters, as the API takes
        help_text="Separated by commas; new names become new tags.",
        widget=forms.TextInput(attrs={"list": "tag-names", "autocomplete": "off"}),
    )
    groups = forms.ModelMultipleChoiceField(
        queryset=Group.objects.order_by(Lower("name")),
        to_field_name="name",
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    is_unsubscribed = forms.BooleanField(required=False, label="Unsubscribed")
    is_bounced = forms.BooleanField(required=False, label="Bounced")
    new_field_name = forms.CharField(required=False, max_length=100, label="New field")
    new_field_value = forms.CharField(required=False, max_length=1000, label="Its value")
    # Set by the confirmation step: changing a contact's reachability is asked first.
    confirm_status = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, contact: Contact | None = None, **kwargs):
        self.contact = contact
        registered = list(CustomField.objects.all())
        self.types = {field.name: field.as_type() for field in registered}
        values = contact.custom_fields if contact is not None else {}
        self.stored: dict[str, Any] = values if isinstance(values, dict) else {}
        if contact is not None:
            kwargs.setdefault("initial", self._initial(contact))
        super().__init__(*args, **kwargs)
        for field in registered:
            widget = self.fields[PREFIX + field.name] = _custom_widget(field.as_type())
            widget.label = field.label or field.name
            stored = self.stored.get(field.name)
            if field.type == CHOICE and stored is not None:
                shown = _shown(field.name, stored)
                if shown not in field.options:
                    # A stored value that is no (exact) option stays selected, so that a
                    # save does not drop it unseen; it is then read (or refused) as typed.
                    options = [("", "—"), *((o, o) for o in field.options), (shown, shown)]
                    widget = self.fields[PREFIX + field.name] = forms.ChoiceField(
                        required=False, choices=options, label=widget.label
                    )
        for name in self.stored:
            if name not in self.types:
                self.fields[PREFIX + name] = forms.CharField(required=False, label=name)
        self._data: dict[str, Any] = {}

    def _initial(self, contact: Contact) -> dict[str, Any]:
        initial: dict[str, Any] = {
            name: getattr(contact, name)
            for name in ("email", *TEXT_FIELDS, "lifecycle_stage", "lead_score")
        }
        initial["tags"] = ", ".join(sorted((t.name for t in contact.tags.all()), key=str.lower))
        initial["groups"] = list(contact.groups.all())
        initial["is_unsubscribed"] = contact.is_unsubscribed
        initial["is_bounced"] = contact.is_bounced
        for name, value in self.stored.items():
            initial[PREFIX + name] = _shown(name, value)
        return initial

    @property
    def custom_field_names(self) -> list[str]:
        """The form-field names of the custom fields, registered ones first."""
        return [name for name in self.fields if name.startswith(PREFIX)]

    @property
    def custom_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.custom_field_names]

    def status_changes(self) -> list[str]:
        """What a save would change in the contact's reachability, in words."""
        if not hasattr(self, "cleaned_data"):
            return []
        was_unsubscribed = self.contact.is_unsubscribed if self.contact else False
        was_bounced = self.contact.is_bounced if self.contact else False
        changes = []
        for flag, was, word in (
            ("is_unsubscribed", was_unsubscribed, "unsubscribed"),
            ("is_bounced", was_bounced, "bounced"),
        ):
            now = self.cleaned_data.get(flag, False)
            if now != was:
                changes.append(f"mark it {word}" if now else f"clear its {word} mark")
        return changes

    def needs_confirmation(self) -> bool:
        return bool(self.status_changes()) and not self.cleaned_data.get("confirm_status")

    def clean(self):
        """contact_clean checks what the form fields could read (a lead score that is
        not a number cannot be read); every problem is shown at once, by its field."""
        super().clean()
        cleaned = self.cleaned_data
        plain = ("email", *TEXT_FIELDS, "lifecycle_stage", "lead_score")
        raw: dict[str, Any] = {
            name: cleaned[name]
            for name in (*plain, "is_unsubscribed", "is_bounced")
            if name in cleaned
        }
        if "tags" in cleaned and cleaned["tags"] != self.initial.get("tags"):
            # Only when changed: a tag whose name has a comma is kept by a save as is.
            raw["tags"] = [name.strip() for name in cleaned["tags"].split(",") if name.strip()]
        if "groups" in cleaned:
            raw["groups"] = [group.name for group in cleaned["groups"]]
        raw["custom_fields"] = self._custom_values(cleaned)
        try:
            self._data = contact_clean(
                raw,
                partial="email" not in raw,
                types={field.name.lower(): field for field in self.types.values()},
            )
        except ContactInvalid as exc:
            for error in exc.errors:
                self.add_error(self._form_field(error.path), error.message)
        return cleaned

    def _custom_values(self, cleaned: dict[str, Any]) -> dict[str, Any]:
        """Custom fields from their widgets; a blank one is left out (removed)."""
        values: dict[str, Any] = {}
        for form_name in self.custom_field_names:
            name, text = form_name[len(PREFIX) :], cleaned.get(form_name) or ""
            field = self.types.get(name)
            if (
                field is None
                and name in self.stored
                and text == as_text(FieldType(name, "text"), self.stored[name])
            ):
                values[name] = self.stored[name]  # unchanged: kept in its JSON type
                continue
            try:
                value = from_text(field or FieldType(name, "text"), text)
            except WrongType as exc:
                self.add_error(form_name, str(exc))
                continue
            if value is not None:
                values[name] = value
        new_name, new_text = (
            cleaned.get("new_field_name", "").strip(),
            cleaned.get("new_field_value", ""),
        )
        if new_name and new_text.strip():
            field = self.types.get(new_name)
            try:
                values[new_name] = from_text(field or FieldType(new_name, "text"), new_text)
            except WrongType as exc:
                self.add_error("new_field_value", str(exc))
        elif new_name:
            self.add_error("new_field_value", "Give the new field a value (or leave both blank).")
        return values

    def _form_field(self, path: str) -> str | None:
        """The form field an error of contact_clean belongs to (None: the whole form)."""
        if path.startswith("custom_fields."):
            name = path[len("custom_fields.") :]
            return PREFIX + name if PREFIX + name in self.fields else "new_field_name"
        if path == "custom_fields":
            return None
        return path if path in self.fields else None

    def data_to_save(self) -> dict[str, Any]:
        """The contact as contact_clean returned it (after is_valid())."""
        return self._data
