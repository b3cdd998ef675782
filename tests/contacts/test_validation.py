"""contacts.validation.contact_clean: every problem of a contact, named by field."""

from __future__ import annotations

import pytest

from contacts.validation import ContactInvalid, contact_clean


def test_clean_reports_every_problem_with_its_field():
    with pytest.raises(ContactInvalid) as info:
        contact_clean({"email": "nope", "lead_score": 300, "tags": "x", "zzz": 1})
    assert {e.path for e in info.value.errors} == {"email", "lead_score", "tags", "zzz"}


def test_clean_suggests_the_field_a_misspelt_key_meant():
    with pytest.raises(ContactInvalid) as info:
        contact_clean({"email": "a@example.com", "compnay": "Acme"})
    assert [(e.path, e.message) for e in info.value.errors] == [
        ("compnay", "Unknown field 'compnay'; did you mean 'company'?")
    ]
