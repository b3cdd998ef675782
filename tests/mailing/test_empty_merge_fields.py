"""empty_merge_fields: how many recipients a tag without a default leaves a gap for."""

from __future__ import annotations

import pytest

from contacts.models import Contact
from mailing.selectors import EmptyMergeField, empty_merge_fields

from ..contacts.factories import ContactFactory

pytestmark = pytest.mark.django_db


def test_it_counts_empty_values_per_tag_in_one_query(django_assert_num_queries):
    ContactFactory(company="", first_name="", last_name="", custom_fields={})
    ContactFactory(company="  ", first_name="Ada", last_name="", custom_fields={"plan": ""})
    ContactFactory(company="Acme", first_name="", last_name="Bo", custom_fields={"plan": None})
    ContactFactory(company="Acme", first_name="Cy", custom_fields={"plan": "pro"})
    ContactFactory(company="Acme", first_name="Di", custom_fields={"plan": 0})
    tags = ["company", "first_name", "name", "custom.plan", "city", "email"]
    with django_assert_num_queries(1):
        found = empty_merge_fields(Contact.objects.all(), tags)
    assert found == [
        EmptyMergeField("company", 2),  # blank counts as empty, as when merged
        EmptyMergeField("first_name", 2),
        EmptyMergeField("name", 1),
        EmptyMergeField("custom.plan", 3),  # missing, null or "" (0 is a value)
    ]


def test_it_only_counts_the_contacts_given():
    ContactFactory(company="", lead_score=10)
    ContactFactory(company="Acme", lead_score=90)
    assert empty_merge_fields(Contact.objects.filter(lead_score__gte=70), ["company"]) == []


def test_no_tags_no_query(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert empty_merge_fields(Contact.objects.all(), []) == []


def test_a_custom_key_with_double_underscores_is_one_key():
    ContactFactory(custom_fields={"a__b": "x"})
    ContactFactory()
    assert empty_merge_fields(Contact.objects.all(), ["custom.a__b"]) == [
        EmptyMergeField("custom.a__b", 1)
    ]


def test_the_suggestion_uses_the_default_syntax():
    assert EmptyMergeField("city", 3).with_default == '{{ city|default:"your city" }}'
