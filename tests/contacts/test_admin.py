from __future__ import annotations

import json
import re

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from contacts.models import Contact, CustomField, Tag

from .factories import ContactFactory, GroupFactory, TagFactory

pytestmark = pytest.mark.django_db
CHANGELIST = reverse("admin:contacts_contact_changelist")


def shown(response) -> list[str]:
    return [c.email for c in response.context["cl"].result_list]


def test_marketer_without_staff_cannot_open_admin(marketer_client):
    assert marketer_client.get(CHANGELIST).status_code == 302


def test_changelist_searches_email_name_and_company(admin_client_):
    ContactFactory(email="ada@example.com", first_name="Ada", last_name="Lovelace")
    ContactFactory(email="linus@example.com", company="Kernel Inc")
    assert shown(admin_client_.get(CHANGELIST, {"q": "lovelace"})) == ["ada@example.com"]
    assert shown(admin_client_.get(CHANGELIST, {"q": "kernel"})) == ["linus@example.com"]


def test_changelist_filters_by_status_stage_source_and_tag(admin_client_):
    vip = TagFactory(name="vip")
    ContactFactory(email="a@example.com", source="webinar-q1", tags=[vip])
    ContactFactory(email="b@example.com", source="website", is_bounced=True)
    ContactFactory(email="c@example.com", source="website", lifecycle_stage="customer")

    assert shown(admin_client_.get(CHANGELIST, {"status": "bounced"})) == ["b@example.com"]
    assert shown(admin_client_.get(CHANGELIST, {"lifecycle_stage__exact": "customer"})) == [
        "c@example.com"
    ]
    assert shown(admin_client_.get(CHANGELIST, {"source": "webinar-q1"})) == ["a@example.com"]
    assert shown(admin_client_.get(CHANGELIST, {"tag": str(vip.pk)})) == ["a@example.com"]


def test_source_filter_lists_each_distinct_source_once(admin_client_):
    ContactFactory.create_batch(3, source="website")
    ContactFactory(source="api")
    ContactFactory(source="")
    response = admin_client_.get(CHANGELIST)
    source_filter = next(
        spec
        for spec in response.context["cl"].filter_specs
        if getattr(spec, "parameter_name", None) == "source"
    )
    assert [value for value, _ in source_filter.lookup_choices] == ["api", "website"]


def test_changelist_does_not_count_the_whole_table(admin_client_):
    ContactFactory.create_batch(3)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE contacts_contact")
    with CaptureQueriesContext(connection) as queries:
        response = admin_client_.get(CHANGELIST)
    assert response.status_code == 200
    counts = [q["sql"] for q in queries if "COUNT(" in q["sql"] and "contacts_contact" in q["sql"]]
    # The unfiltered total comes from pg_class.reltuples; the "N total" link is off.
    assert counts == []
    assert any("reltuples" in q["sql"] for q in queries)
    assert response.context["cl"].result_count == 3


def test_add_tag_action_tags_the_selected_contacts(admin_client_):
    chosen = ContactFactory.create_batch(2)
    other = ContactFactory()
    response = admin_client_.post(
        CHANGELIST,
        {
            "action": "add_tag",
            ACTION_CHECKBOX_NAME: [c.pk for c in chosen],
            "apply": "1",
            "tag": "Spring-Promo",
        },
        follow=True,
    )
    assert b"Tagged 2 contacts" in response.content
    tag = Tag.objects.get(name="Spring-Promo")
    assert set(tag.contacts.all()) == set(chosen)
    assert not other.tags.exists()


def test_add_tag_action_asks_for_the_tag_first(admin_client_):
    contact = ContactFactory()
    response = admin_client_.post(
        CHANGELIST, {"action": "add_tag", ACTION_CHECKBOX_NAME: [contact.pk]}
    )
    assert response.status_code == 200
    assert b"Add a tag to 1 selected contact" in response.content
    assert not contact.tags.exists()


def test_mark_unsubscribed_action(admin_client_):
    contact = ContactFactory()
    admin_client_.post(
        CHANGELIST, {"action": "mark_unsubscribed", ACTION_CHECKBOX_NAME: [contact.pk]}
    )
    contact.refresh_from_db()
    assert contact.is_unsubscribed


def test_change_form_shows_tag_and_group_inlines(admin_client_):
    contact = ContactFactory(tags=[TagFactory(name="vip")], groups=[GroupFactory(name="Board")])
    response = admin_client_.get(reverse("admin:contacts_contact_change", args=[contact.pk]))
    assert response.status_code == 200
    assert b"vip" in response.content and b"Board" in response.content


def test_add_contact_with_bad_lead_score_is_refused_with_a_message(admin_client_):
    response = admin_client_.post(
        reverse("admin:contacts_contact_add"),
        {
            "email": "new@example.com",
            "lead_score": "250",
            "lifecycle_stage": "lead",
            "custom_fields": "{}",
            "created_at_0": "2026-01-01",
            "created_at_1": "10:00:00",
            "contacttag_set-TOTAL_FORMS": "0",
            "contacttag_set-INITIAL_FORMS": "0",
            "groupmembership_set-TOTAL_FORMS": "0",
            "groupmembership_set-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    assert not Contact.objects.filter(email="new@example.com").exists()
    assert b"lead score" in response.content.lower()


def test_tag_and_group_lists_show_member_counts(admin_client_):
    vip = TagFactory(name="vip")
    board = GroupFactory(name="Board")
    ContactFactory.create_batch(2, tags=[vip], groups=[board])
    tags = admin_client_.get(reverse("admin:contacts_tag_changelist"))
    assert [(t.name, t.n_contacts) for t in tags.context["cl"].result_list] == [("vip", 2)]
    groups = admin_client_.get(reverse("admin:contacts_group_changelist"))
    assert [(g.name, g.n_members) for g in groups.context["cl"].result_list] == [("Board", 2)]


def test_inline_rows_read_the_tag_and_group_names(admin_client_):
    contact = ContactFactory(
        tags=[TagFactory(name="vip")], groups=[GroupFactory(name="Newsletter")]
    )
    response = admin_client_.get(reverse("admin:contacts_contact_change", args=[contact.pk]))
    page = response.content.decode()
    # Each existing row is labelled with str() of its row (was "19997 tagged 1").
    labels = re.findall(r'<td class="original">\s*<p>\s*(.*?)\s*</p>', page, re.DOTALL)
    assert labels == ["vip", "Newsletter"]
    assert "tagged" not in page and "in group" not in page


# --- custom fields as JSON text ---------------------------------------------------


def change_contact(client, contact, custom_fields: str):
    return client.post(
        reverse("admin:contacts_contact_change", args=[contact.pk]),
        {
            "email": contact.email,
            "lead_score": str(contact.lead_score),
            "lifecycle_stage": contact.lifecycle_stage,
            "custom_fields": custom_fields,
            "created_at_0": "2026-01-01",
            "created_at_1": "10:00:00",
            "contacttag_set-TOTAL_FORMS": "0",
            "contacttag_set-INITIAL_FORMS": "0",
            "groupmembership_set-TOTAL_FORMS": "0",
            "groupmembership_set-INITIAL_FORMS": "0",
        },
    )


def custom_fields_errors(response) -> list[str]:
    return response.context["adminform"].form.errors.get("custom_fields", [])


def test_custom_fields_are_shown_indented_in_a_monospace_box_with_help(admin_client_):
    contact = ContactFactory(custom_fields={"plan": "pro", "seats": 5})
    response = admin_client_.get(reverse("admin:contacts_contact_change", args=[contact.pk]))
    assert response.context["adminform"].form["custom_fields"].value() == (
        '{\n  "plan": "pro",\n  "seats": 5\n}'
    )
    page = response.content.decode()
    assert 'class="flock-json"' in page and "css/admin.css" in page
    assert "customField:plan" in page  # the help text says what they are for


def test_custom_fields_are_saved_from_the_text(admin_client_):
    contact = ContactFactory(custom_fields={"plan": "free"})
    response = change_contact(admin_client_, contact, '{\n  "plan": "pro",\n  "seats": 5\n}')
    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.custom_fields == {"plan": "pro", "seats": 5}


def test_empty_custom_fields_text_means_none(admin_client_):
    contact = ContactFactory(custom_fields={"plan": "free"})
    assert change_contact(admin_client_, contact, "  ").status_code == 302
    contact.refresh_from_db()
    assert contact.custom_fields == {}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[" * 5000, "The JSON is nested too deeply"),
        ('{"a":' * 5000, "The JSON is nested too deeply"),
        (
            '{"plan": "pro",\n "seats": }',
            "This is not valid JSON: Expecting value at line 2, column 11.",
        ),
        ('{"seats": NaN}', "This is not valid JSON: NaN is not allowed in JSON."),
        ('{"seats": -Infinity}', "This is not valid JSON: -Infinity is not allowed in JSON."),
        ('{"seats": 1e999}', "Numbers must be finite"),
        ('{"plan": "a\\u0000b"}', "It contains a NUL character"),
        ('{"plan": "\\ud800"}', "It contains text that is not valid Unicode"),
    ],
)
def test_bad_custom_fields_text_is_refused_with_a_message_and_nothing_changes(
    admin_client_, text, message
):
    contact = ContactFactory(custom_fields={"plan": "free"}, lead_score=10)
    response = change_contact(admin_client_, contact, text)

    assert response.status_code == 200
    assert [e for e in custom_fields_errors(response) if e.startswith(message)]
    contact.refresh_from_db()
    assert contact.custom_fields == {"plan": "free"}
    # What was typed is shown again, to be fixed rather than typed anew.
    assert response.context["adminform"].form["custom_fields"].value() == text


def test_custom_fields_that_are_not_an_object_of_values_are_refused(admin_client_):
    contact = ContactFactory(custom_fields={"plan": "free"})
    for text in ('["pro"]', '{"plan": {"name": "pro"}}'):
        response = change_contact(admin_client_, contact, text)
        assert response.status_code == 200
        assert custom_fields_errors(response)  # the model's validate_custom_fields message
    contact.refresh_from_db()
    assert contact.custom_fields == {"plan": "free"}


# Names are stored as rules read them (issue 14.23): Contact.full_clean() strips them
# and refuses names that then collide.


def test_the_admin_saves_custom_field_names_without_outer_spaces(admin_client_):
    contact = ContactFactory(custom_fields={})
    response = change_contact(admin_client_, contact, '{" plan ": "pro", "seats ": 5}')
    assert response.status_code == 302
    assert Contact.objects.get(pk=contact.pk).custom_fields == {"plan": "pro", "seats": 5}


def test_the_admin_refuses_names_that_are_one_once_stripped_and_keeps_the_text(admin_client_):
    contact = ContactFactory(custom_fields={"plan": "free"})
    text = '{"plan": "pro", " plan ": "team"}'
    response = change_contact(admin_client_, contact, text)
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert form.errors["custom_fields"] == [
        "Custom fields 'plan' and ' plan ' are the same name once the spaces around it "
        "are removed; keep only one of them."
    ]
    assert json.loads(form["custom_fields"].value()) == json.loads(text)  # shown again, indented
    assert Contact.objects.get(pk=contact.pk).custom_fields == {"plan": "free"}


# Registered custom fields (issue 16.2): the admin checks types like every writer.


def test_the_admin_refuses_a_value_of_a_registered_fields_wrong_type(admin_client_):
    CustomField.objects.create(name="seats", type="number")
    contact = ContactFactory(custom_fields={"seats": 3})
    response = change_contact(admin_client_, contact, '{"seats": "three"}')
    assert response.status_code == 200
    assert "Custom field 'seats' is a number: send it without quotes, e.g. 12." in (
        custom_fields_errors(response)
    )
    contact.refresh_from_db()
    assert contact.custom_fields == {"seats": 3}


def test_the_admin_registers_a_field_with_the_dashboards_checks(admin_client_):
    ContactFactory(email="ann@example.com", custom_fields={"vip": "yes"})
    add = reverse("admin:contacts_customfield_add")
    response = admin_client_.post(add, {"name": "vip", "label": "", "type": "boolean"})
    assert response.status_code == 200
    assert "ann@example.com" in str(response.context["adminform"].form.errors["type"])
    assert not CustomField.objects.exists()
    response = admin_client_.post(add, {"name": "vip", "label": "", "type": "text"})
    assert response.status_code == 302
    assert CustomField.objects.get().label == "vip"
