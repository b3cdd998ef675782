"""Compose form: from, subject and body, with merge tags checked (docs/design.md#merge-tags)."""

from __future__ import annotations

import re

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError

from .addresses import validate_from_address
from .merge import unknown_tags
from .models import Delivery, Mailing

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _no_unknown_tags(value: str) -> str:
    unknown = unknown_tags(value)
    if unknown:
        raise ValidationError(
            "Unknown merge tag%(s)s: %(tags)s. Use one of the tags listed beside the form.",
            params={"s": "s" if len(unknown) > 1 else "", "tags": ", ".join(unknown)},
            code="unknown_tag",
        )
    return value


class ComposeForm(forms.Form):
    from_email = forms.CharField(
        label="From",
        max_length=Mailing._meta.get_field("from_email").max_length,
        help_text="An address, or a name and an address: Flock <hello@example.com>.",
    )
    subject = forms.CharField(max_length=Mailing._meta.get_field("subject").max_length)
    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 14}),
        help_text="An unsubscribe link is added at the end.",
    )
    body_format = forms.ChoiceField(
        label="Format",
        choices=Mailing.Format.choices,
        initial=Mailing.Format.TEXT,
        required=False,  # plain text unless asked
        widget=forms.RadioSelect,
        help_text="Markdown turns **bold**, _italics_, lists and [links](https://example.com) "
        "into formatting in the HTML part; the text part is the body as written.",
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {"from_email": settings.DEFAULT_FROM_EMAIL})
        super().__init__(*args, **kwargs)

    def clean_from_email(self) -> str:
        return validate_from_address(self.cleaned_data["from_email"])

    def clean_subject(self) -> str:
        value = self.cleaned_data["subject"]
        if _CONTROL.search(value):  # a subject is one header line
            raise ValidationError("The subject must be a single line.", code="invalid")
        return _no_unknown_tags(value)

    def clean_body(self) -> str:
        return _no_unknown_tags(self.cleaned_data["body"])

    def clean_body_format(self) -> str:
        return self.cleaned_data["body_format"] or Mailing.Format.TEXT


class DeliveryFilterForm(forms.Form):
    """The recipient list's filter and keyset cursor; bad values fall back to defaults."""

    FILTERS = [("", "All"), *((s.value, s.label) for s in Delivery.Status if s != "sending")]

    status = forms.ChoiceField(choices=FILTERS, required=False)
    after = forms.IntegerField(min_value=0, required=False)

    def value(self, name: str):
        self.is_valid()  # an invalid field is left out of cleaned_data, so it reads as unset
        return getattr(self, "cleaned_data", {}).get(name)
