from __future__ import annotations

from django import forms

from .custom_fields import FieldType
from .models import BulkAction, Contact, CustomField, Group, Tag
from .selectors import stored_names_in_other_case, stored_values_not_fitting


class ContactFilterForm(forms.Form):
    """The contacts list's search box, filters and keyset cursor (all GET)."""

    q = forms.CharField(required=False, max_length=200, label="Search")
    tag = forms.ModelChoiceField(
        queryset=Tag.objects.all(), required=False, to_field_name="name", empty_label="Any tag"
    )
    group = forms.ModelChoiceField(
        queryset=Group.objects.all(), required=False, to_field_name="name", empty_label="Any group"
    )
    status = forms.ChoiceField(
        choices=[("", "Any status"), *Contact.Status.choices], required=False
    )
    # A segment's members (its contacts list, reached from the segment list): by id.
    segment = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    after = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    before = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.segment_name = ""
        self.fields["q"].widget.attrs.update(
            {"placeholder": "Email, name or company", "type": "search", "autocomplete": "off"}
        )
        self.fields["tag"].error_messages["invalid_choice"] = (
            "There is no tag with that name; pick one from the list."
        )
        self.fields["group"].error_messages["invalid_choice"] = (
            "There is no group with that name; pick one from the list."
        )

    def clean_segment(self) -> int | None:
        from .selectors import segment_lookup

        pk = self.cleaned_data.get("segment")
        if pk is None:
            return None
        name = segment_lookup.name(pk) if segment_lookup else None
        if name is None:
            raise forms.ValidationError(
                "That segment no longer exists; pick one from the segment list."
            )
        self.segment_name = name
        return pk

    def value(self, name: str):
        """The cleaned value, or the empty value when that field was invalid."""
        if not hasattr(self, "cleaned_data"):
            self.is_valid()
        return self.cleaned_data.get(name) or None


class OptionsField(forms.Field):
    """A choice's options as a textarea, one per line."""

    widget = forms.Textarea(attrs={"rows": 4})

    def prepare_value(self, value):
        return "\n".join(value) if isinstance(value, list | tuple) else value

    def to_python(self, value) -> list[str]:
        return [line.strip() for line in (value or "").splitlines() if line.strip()]


class CustomFieldForm(forms.ModelForm):
    """Register a custom field, or change its label and options (the name and type of
    a saved field are fixed: the stored values are under that name, in that type).
    The dashboard and the admin both use it."""

    options = OptionsField(
        required=False, help_text="For a choice: the values it may take, one per line."
    )

    class Meta:
        model = CustomField
        fields = ["name", "label", "type", "options"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["name"].widget.attrs.update({"autocomplete": "off", "spellcheck": "false"})
        if self.instance.pk:
            for name in ("name", "type"):
                self.fields[name].disabled = True
                self.fields[name].help_text = "Fixed once the field is saved."

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        name, type_ = (cleaned.get("name") or "").strip(), cleaned.get("type")
        if name and type_ and not self.instance.pk:
            # Contacts that already have this key: their values must fit the type.
            misfits = stored_values_not_fitting(
                FieldType(name, type_, tuple(cleaned.get("options") or ())), limit=3
            )
            other_case = stored_names_in_other_case(name, limit=3)
            if other_case:
                shown = ", ".join(f"{email} ({key})" for email, key in other_case)
                self.add_error(
                    "name",
                    f"Contacts have this field under another case: {shown}. Rename their "
                    "key first, or register it in the case they use.",
                )
            if misfits:
                shown = ", ".join(f"{email} ({value})" for email, value in misfits)
                more = " and others" if len(misfits) == 3 else ""
                label = CustomField.Type(type_).label.lower()
                self.add_error(
                    "type",
                    f"Contacts already have '{name}' values that are not {label}: "
                    f"{shown}{more}. Choose the type they fit (Text fits any text), or "
                    "correct those values first.",
                )
        return cleaned


class GroupForm(forms.ModelForm):
    """Create or rename a group (a static list)."""

    class Meta:
        model = Group
        fields = ["name", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}


class BulkActionForm(forms.Form):
    """A bulk action from the contacts list: what to do, with which tag or group,
    to the ticked contacts or to every contact matching the list's filters (sent
    along as the filter form's own fields)."""

    NEEDS_NAME = {"add_tag", "remove_tag", "add_to_group", "remove_from_group"}

    action = forms.ChoiceField(choices=BulkAction.Action.choices)
    name = forms.CharField(required=False, max_length=200, label="Tag or group")
    scope = forms.ChoiceField(
        choices=[("selected", "The ticked contacts"), ("all", "All matching")]
    )
    ids = forms.Field(required=False, widget=forms.MultipleHiddenInput)
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)
    # The count the confirmation page asked about: a different count now is asked again.
    asked = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)

    def clean_ids(self) -> list[int]:
        sent = self.data.getlist("ids") if hasattr(self.data, "getlist") else []
        try:
            ids = sorted({int(value) for value in sent})
        except ValueError:
            message = "The ticked rows are not contacts; reload the page."
            raise forms.ValidationError(message) from None
        if len(ids) > 1000:
            raise forms.ValidationError("Tick at most 1,000 contacts, or apply to all matching.")
        return ids

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        action, name = cleaned.get("action"), (cleaned.get("name") or "").strip()
        cleaned["name"] = name
        if action in self.NEEDS_NAME and not name:
            kind = "tag" if "tag" in action else "group"
            self.add_error("name", f"Name the {kind}.")
        elif action in ("add_tag", "remove_tag") and len(name) > 100:
            self.add_error("name", "A tag name has at most 100 characters.")
        elif action in ("remove_tag", "remove_from_group"):
            model = Tag if action == "remove_tag" else Group
            if not model.objects.filter(name__iexact=name).exists():
                kind = "tag" if model is Tag else "group"
                self.add_error("name", f"There is no {kind} named “{name}”.")
        ticked = cleaned.get("ids")
        if cleaned.get("scope") == "selected" and not ticked and "ids" not in self.errors:
            self.add_error("ids", "Tick at least one contact, or apply to all matching.")
        return cleaned


class ImportUploadForm(forms.Form):
    """The file of an import, and its encoding when the guess would be wrong."""

    file = forms.FileField(
        label="CSV file",
        help_text="A .csv or .csv.gz with a header row; comma, semicolon or tab separated.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.gz,.txt,text/csv"}),
    )
    encoding = forms.ChoiceField(
        choices=[
            ("", "Detect"),
            ("utf-8", "UTF-8"),
            ("cp1252", "Windows-1252 / Latin-1"),
            ("utf-16", "UTF-16"),
        ],  # fmt: skip
        required=False,
        help_text="Leave on Detect unless accents come out wrong in the preview.",
    )


class ImportMappingForm(forms.Form):
    """What each column of an import holds, and how the rows are written.

    The columns' fields are made per file: `to-N` (a contact field, tags, a custom
    field, or skip), `field-N` (the custom field's name) and `type-N` (the type of
    a custom field the import registers)."""

    encoding = forms.ChoiceField(
        choices=[
            ("utf-8", "UTF-8"),
            ("utf-8-sig", "UTF-8 with BOM"),
            ("cp1252", "Windows-1252 / Latin-1"),
            ("utf-16", "UTF-16"),
        ],  # fmt: skip
    )
    delimiter = forms.ChoiceField(
        choices=[(",", "Comma"), (";", "Semicolon"), ("\t", "Tab"), ("|", "Pipe")]
    )
    update_existing = forms.TypedChoiceField(
        label="Contacts that exist already",
        choices=[("yes", "Update them with the file's values"), ("no", "Leave them as they are")],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
        initial="yes",
    )
    tags = forms.CharField(
        required=False,
        max_length=1000,
        help_text="Tags for every imported row, comma-separated (new ones are created).",
    )
    group = forms.CharField(
        required=False,
        max_length=200,
        label="Add to group",
        help_text="A group for every imported row (a new name creates it).",
        widget=forms.TextInput(attrs={"list": "group-names", "autocomplete": "off"}),
    )

    TYPES = [(value, label) for value, label in CustomField.Type.choices if value != "choice"]

    def __init__(self, *args, header: list[str], mapping: list[dict], **kwargs):
        from .imports.mapping import TARGETS

        super().__init__(*args, **kwargs)
        self.header = header
        for index, entry in enumerate(mapping):
            self.fields[f"to-{index}"] = forms.ChoiceField(
                choices=list(TARGETS.items()), initial=entry.get("to", "skip"), label=header[index]
            )
            self.fields[f"field-{index}"] = forms.CharField(
                required=False, max_length=100, initial=entry.get("field") or header[index]
            )
            self.fields[f"type-{index}"] = forms.ChoiceField(
                choices=self.TYPES, required=False, initial="text"
            )

    def columns(self) -> list[tuple[str, forms.BoundField, forms.BoundField, forms.BoundField]]:
        return [
            (name, self[f"to-{i}"], self[f"field-{i}"], self[f"type-{i}"])
            for i, name in enumerate(self.header)
        ]

    def clean_tags(self) -> list[str]:
        names: dict[str, str] = {}
        for name in self.cleaned_data["tags"].split(","):
            if name.strip():
                if len(name.strip()) > 100:
                    raise forms.ValidationError("A tag name has at most 100 characters.")
                names.setdefault(name.strip().lower(), name.strip())
        return list(names.values())

    def mapping(self) -> list[dict[str, str]]:
        """The mapping as the import takes it; a custom field not registered yet gets
        the chosen type (the import registers it)."""
        registered = CustomField.registry()
        mapping = []
        for index in range(len(self.header)):
            to = self.cleaned_data[f"to-{index}"]
            entry = {"to": to}
            if to == "custom":
                name = self.cleaned_data[f"field-{index}"].strip()
                entry["field"] = name
                if name and name.lower() not in registered:
                    entry["type"] = self.cleaned_data[f"type-{index}"] or "text"
            mapping.append(entry)
        return mapping
