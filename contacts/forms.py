from __future__ import annotations

from django import forms

from .models import Contact, Tag


class ContactFilterForm(forms.Form):
    """The contacts list's search box, filters and keyset cursor (all GET)."""

    q = forms.CharField(required=False, max_length=200, label="Search")
    tag = forms.ModelChoiceField(
        queryset=Tag.objects.all(), required=False, to_field_name="name", empty_label="Any tag"
    )
    status = forms.ChoiceField(
        choices=[("", "Any status"), *Contact.Status.choices], required=False
    )
    after = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    before = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs.update(
            {"placeholder": "Email, name or company", "type": "search", "autocomplete": "off"}
        )
        self.fields["tag"].error_messages["invalid_choice"] = (
            "There is no tag with that name; pick one from the list."
        )

    def value(self, name: str):
        """The cleaned value, or the empty value when that field was invalid."""
        if not hasattr(self, "cleaned_data"):
            self.is_valid()
        return self.cleaned_data.get(name) or None
