from __future__ import annotations

import pytest
from django.test import override_settings
from django.urls import reverse

from .factories import ContactFactory, GroupFactory, TagFactory

pytestmark = pytest.mark.django_db
URL = reverse("contacts:list")


def emails(response) -> list[str]:
    return [contact.email for contact in response.context["page"].items]


def test_it_requires_login(stranger_client):
    response = stranger_client.get(URL)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_root_redirects_to_contacts(marketer_client):
    response = marketer_client.get("/")
    assert response.status_code == 302
    assert response.url == URL


def test_it_lists_newest_contacts_first(marketer_client):
    ContactFactory(email="old@example.com")
    ContactFactory(email="new@example.com")
    response = marketer_client.get(URL)
    assert response.status_code == 200
    assert emails(response) == ["new@example.com", "old@example.com"]
    assert b'id="contact-table"' in response.content
    assert b"<html" in response.content


def test_search_matches_email_name_and_company_case_insensitively(marketer_client):
    ContactFactory(email="ada@lovelace.org", first_name="Ada", company="Engines Ltd")
    ContactFactory(email="grace@navy.mil", first_name="Grace", last_name="Hopper", company="Navy")
    ContactFactory(email="linus@kernel.org", first_name="Linus", company="ACME Inc")

    assert emails(marketer_client.get(URL, {"q": "LOVELACE"})) == ["ada@lovelace.org"]
    assert emails(marketer_client.get(URL, {"q": "grace hopper"})) == ["grace@navy.mil"]
    assert emails(marketer_client.get(URL, {"q": "acme inc"})) == ["linus@kernel.org"]
    assert emails(marketer_client.get(URL, {"q": "nobody-has-this"})) == []


def test_empty_search_result_says_so(marketer_client):
    ContactFactory()
    response = marketer_client.get(URL, {"q": "zzzz-no-match"})
    assert b'id="contact-empty"' in response.content
    assert b"No contact matches these filters" in response.content


def test_filter_by_tag(marketer_client):
    vip = TagFactory(name="vip")
    ContactFactory(email="vip@example.com", tags=[vip])
    ContactFactory(email="plain@example.com")
    assert emails(marketer_client.get(URL, {"tag": "vip"})) == ["vip@example.com"]


def test_unknown_tag_shows_an_error_instead_of_failing(marketer_client):
    ContactFactory(email="someone@example.com")
    response = marketer_client.get(URL, {"tag": "no-such-tag"})
    assert response.status_code == 200
    assert b"There is no tag with that name" in response.content
    assert emails(response) == ["someone@example.com"]


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("active", ["active@example.com"]),
        ("bounced", ["bounced@example.com"]),
        ("unsubscribed", ["both@example.com", "unsub@example.com"]),
    ],
)
def test_filter_by_status(marketer_client, status, expected):
    ContactFactory(email="active@example.com")
    ContactFactory(email="bounced@example.com", is_bounced=True)
    ContactFactory(email="unsub@example.com", is_unsubscribed=True)
    ContactFactory(email="both@example.com", is_bounced=True, is_unsubscribed=True)
    assert emails(marketer_client.get(URL, {"status": status})) == expected


def test_bad_cursor_and_status_give_messages_not_errors(marketer_client):
    ContactFactory()
    response = marketer_client.get(URL, {"after": "abc", "status": "vip"})
    assert response.status_code == 200
    assert b"Enter a whole number" in response.content
    assert b"Select a valid choice" in response.content
    assert len(emails(response)) == 1


@override_settings(CONTACTS_PER_PAGE=2)
def test_keyset_pages_walk_forward_and_back(marketer_client):
    for n in range(5):
        ContactFactory(email=f"c{n}@example.com")

    first = marketer_client.get(URL)
    assert emails(first) == ["c4@example.com", "c3@example.com"]
    assert first.context["page"].prev_before is None

    second = marketer_client.get(URL, {"after": first.context["page"].next_after})
    assert emails(second) == ["c2@example.com", "c1@example.com"]

    third = marketer_client.get(URL, {"after": second.context["page"].next_after})
    assert emails(third) == ["c0@example.com"]
    assert third.context["page"].next_after is None

    back = marketer_client.get(URL, {"before": third.context["page"].prev_before})
    assert emails(back) == ["c2@example.com", "c1@example.com"]
    back_again = marketer_client.get(URL, {"before": back.context["page"].prev_before})
    assert emails(back_again) == ["c4@example.com", "c3@example.com"]
    assert back_again.context["page"].prev_before is None


@override_settings(CONTACTS_PER_PAGE=2)
def test_pages_keep_the_filters(marketer_client):
    for n in range(3):
        ContactFactory(email=f"inc{n}@example.com", company="Acme Inc")
    ContactFactory(email="other@example.com", company="Other")
    first = marketer_client.get(URL, {"q": "inc"})
    assert f"q=inc&amp;after={first.context['page'].next_after}".encode() in first.content
    second = marketer_client.get(URL, {"q": "inc", "after": first.context["page"].next_after})
    assert emails(second) == ["inc0@example.com"]


def test_filtered_total_is_counted_up_to_a_cap(marketer_client):
    ContactFactory.create_batch(3, company="Acme Inc")
    response = marketer_client.get(URL, {"q": "acme"})
    assert str(response.context["total"]) == "3"
    assert b"3 matching contacts" in response.content


def test_htmx_request_gets_only_the_results_fragment(marketer_client):
    ContactFactory(email="frag@example.com")
    response = marketer_client.get(URL, {"q": "frag"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert b'id="contact-results"' in response.content
    assert b"<html" not in response.content
    assert b"frag@example.com" in response.content


def test_htmx_history_restore_gets_the_whole_page(marketer_client):
    response = marketer_client.get(
        URL, HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true"
    )
    assert b"<html" in response.content


def test_page_and_fragment_are_cached_apart(marketer_client):
    response = marketer_client.get(URL)
    assert "HX-Request" in response["Vary"]


def test_a_long_search_only_uses_its_first_words(marketer_client):
    ContactFactory(email="ada@example.com", first_name="Ada", company="Engines")
    # Words past the fifth are ignored: "zzzz" matches nobody.
    words = "ada engines ada engines ada " + " ".join("zzzz" for _ in range(100))
    assert emails(marketer_client.get(URL, {"q": words})) == ["ada@example.com"]


def test_a_live_search_brings_the_clear_link_along(marketer_client):
    ContactFactory(email="live@example.com")
    response = marketer_client.get(URL, {"q": "live"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    # The form is not swapped while typing: the Clear slot comes out of band.
    assert '<span id="filters-clear" hx-swap-oob="true">' in body
    assert 'id="clear-filters"' in body


def test_an_unfiltered_fragment_takes_the_clear_link_away(marketer_client):
    ContactFactory()
    response = marketer_client.get(URL, {"q": ""}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert '<span id="filters-clear" hx-swap-oob="true"></span>' in body
    assert 'id="clear-filters"' not in body


def test_the_page_shows_clear_only_when_filtered(marketer_client):
    ContactFactory(email="page@example.com")
    filtered = marketer_client.get(URL, {"status": "active"}).content.decode()
    assert filtered.count('id="clear-filters"') == 1
    assert "hx-swap-oob" not in filtered
    assert 'id="clear-filters"' not in marketer_client.get(URL).content.decode()


def test_clear_gets_the_whole_unfiltered_page(marketer_client):
    # The Clear link is boosted: htmx asks for the page and swaps the body, form included.
    ContactFactory()
    response = marketer_client.get(URL, HTTP_HX_REQUEST="true", HTTP_HX_BOOSTED="true")
    body = response.content.decode()
    assert "<html" in body and 'id="id_q"' in body
    assert 'id="clear-filters"' not in body
    assert "hx-swap-oob" not in body


def test_the_group_filter_shows_the_groups_members(marketer_client):
    board = GroupFactory(name="Board")
    ContactFactory(email="member@example.com", groups=[board])
    ContactFactory(email="outsider@example.com")
    body = marketer_client.get(reverse("contacts:list"), {"group": "Board"}).content.decode()
    assert "member@example.com" in body and "outsider@example.com" not in body


def test_an_unknown_group_filter_says_so(marketer_client):
    body = marketer_client.get(reverse("contacts:list"), {"group": "Nope"}).content.decode()
    assert "There is no group with that name; pick one from the list." in body
