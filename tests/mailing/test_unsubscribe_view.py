"""Personal unsubscribe links: signed tokens, confirm page, one-click POST (RFC 8058)."""

from __future__ import annotations

import re
import time
from unittest import mock

import pytest
from django.core import signing
from django.test import Client
from django.urls import reverse

from contacts.models import Contact
from mailing.models import TrackingEvent
from mailing.unsubscribe import (
    SALT,
    BadToken,
    PreviewToken,
    contact_resubscribe,
    contact_unsubscribe,
    make_preview_token,
    make_token,
    mask_email,
    read_token,
    unsubscribe_by_mail,
    unsubscribe_url,
)
from tests.contacts.factories import ContactFactory

pytestmark = pytest.mark.django_db

ONE_CLICK = {"List-Unsubscribe": "One-Click"}


def url_for(contact: Contact, mailing_id: int | None = 7) -> str:
    return reverse(
        "mailing:unsubscribe",
        kwargs={"token": make_token(contact_id=contact.pk, mailing_id=mailing_id)},
    )


def is_unsubscribed(contact: Contact) -> bool:
    return Contact.objects.get(pk=contact.pk).is_unsubscribed


@pytest.fixture
def csrf_client() -> Client:
    """Anonymous, and enforcing CSRF like a real browser-less mail client would meet it."""
    return Client(enforce_csrf_checks=True)


# --- Tokens -----------------------------------------------------------------


@pytest.mark.parametrize("mailing_id", [None, 1, 123456789012])
def test_token_round_trips(mailing_id):
    assert read_token(make_token(contact_id=42, mailing_id=mailing_id)) == (42, mailing_id)


def test_token_is_url_safe_and_compact():
    token = make_token(contact_id=987654321, mailing_id=123456)
    assert re.fullmatch(r"[A-Za-z0-9_\-:]+", token)
    assert len(token) < 80  # 25 of payload, 43 of HMAC-SHA256 signature


def test_token_does_not_expire():
    token = make_token(contact_id=5, mailing_id=None)
    ten_years_later = time.time() + 10 * 365 * 86400
    with mock.patch("time.time", return_value=ten_years_later):
        assert read_token(token) == (5, None)


def test_old_key_still_verifies_after_rotation(settings):
    token = make_token(contact_id=5, mailing_id=3)
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "rotated-" + settings.SECRET_KEY
    assert read_token(token) == (5, 3)


def test_unsubscribe_url_is_absolute(settings):
    settings.SITE_URL = "https://flock.example.org"
    url = unsubscribe_url(contact_id=9, mailing_id=2)
    prefix = "https://flock.example.org/u/"
    assert url.startswith(prefix) and url.endswith("/")
    assert read_token(url.removeprefix(prefix).rstrip("/")) == (9, 2)


def _swap_payload(token: str, payload_from: str) -> str:
    """`token`'s signature on the payload of `payload_from`."""
    return payload_from.rsplit(":", 1)[0] + ":" + token.rsplit(":", 1)[1]


def _altered_payload_token() -> str:
    """Contact 2's payload carrying contact 1's signature."""
    return _swap_payload(
        make_token(contact_id=1, mailing_id=None), make_token(contact_id=2, mailing_id=None)
    )


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(_altered_payload_token(), id="payload-swapped"),
        pytest.param(make_token(contact_id=1, mailing_id=None)[:-1], id="truncated"),
        pytest.param(make_token(contact_id=1, mailing_id=None) + "x", id="extended"),
        pytest.param("not-a-token", id="garbage"),
        pytest.param("a:b", id="garbage-with-colon"),
        pytest.param("", id="empty"),
        pytest.param(signing.Signer(salt="other").sign_object((1, None)), id="other-salt"),
        pytest.param(signing.Signer(key="x" * 50, salt=SALT).sign_object((1, 2)), id="other-key"),
        pytest.param(signing.dumps((1, None)), id="plain-dumps"),
        pytest.param(signing.Signer(salt=SALT).sign_object("hello"), id="wrong-shape"),
        pytest.param(signing.Signer(salt=SALT).sign_object((1, 2, 3)), id="wrong-length"),
        pytest.param(signing.Signer(salt=SALT).sign_object((True, None)), id="bool-id"),
        pytest.param(signing.Signer(salt=SALT).sign_object((0, None)), id="zero-id"),
        pytest.param(signing.Signer(salt=SALT).sign_object(("1", None)), id="str-id"),
    ],
)
def test_bad_tokens_are_refused(token):
    with pytest.raises(BadToken):
        read_token(token)


def test_mask_email():
    assert mask_email("alice@example.com") == "a***@example.com"
    assert mask_email("a@example.com") == "a***@example.com"
    assert mask_email("weird") == "w***"


# --- Service ----------------------------------------------------------------


def test_contact_unsubscribe_is_idempotent():
    contact = ContactFactory()
    assert contact_unsubscribe(contact_id=contact.pk) is True
    assert is_unsubscribed(contact)
    assert contact_unsubscribe(contact_id=contact.pk) is False
    assert is_unsubscribed(contact)
    assert contact_unsubscribe(contact_id=contact.pk + 10_000) is False


def test_stale_copy_does_not_undo_an_unsubscribe():
    contact = ContactFactory()
    stale = Contact.objects.get(pk=contact.pk)
    contact_unsubscribe(contact_id=contact.pk)
    stale.city = "Elsewhere"
    stale.save()
    assert is_unsubscribed(contact)


# --- Views ------------------------------------------------------------------


def test_get_shows_confirm_page_and_changes_nothing(stranger_client):
    contact = ContactFactory(email="alice@example.com")
    url = url_for(contact)
    response = stranger_client.get(url)
    assert response.status_code == 200
    body = response.content.decode()
    assert "a***@example.com" in body
    assert "alice@example.com" not in body
    assert f'method="post" action="{url}"' in body
    assert "mainnav" not in body  # no dashboard navigation for recipients
    assert "no-store" in response["Cache-Control"]
    assert not is_unsubscribed(contact)
    # Scanners fetch links more than once.
    stranger_client.get(url)
    assert not is_unsubscribed(contact)


def test_one_click_post_needs_no_login_nor_csrf(csrf_client):
    contact = ContactFactory()
    response = csrf_client.post(url_for(contact), ONE_CLICK)
    assert response.status_code == 200
    assert "You are unsubscribed" in response.content.decode()
    assert "mainnav" not in response.content.decode()
    assert is_unsubscribed(contact)


def test_confirm_button_empty_post_unsubscribes(csrf_client):
    contact = ContactFactory()
    response = csrf_client.post(url_for(contact, mailing_id=None))
    assert response.status_code == 200
    assert is_unsubscribed(contact)


def test_repeated_post_is_idempotent(stranger_client):
    contact = ContactFactory()
    url = url_for(contact)
    first = stranger_client.post(url, ONE_CLICK)
    second = stranger_client.post(url, ONE_CLICK)
    assert first.status_code == second.status_code == 200
    assert "You are unsubscribed" in second.content.decode()
    assert is_unsubscribed(contact)


def test_post_leaves_other_flags_alone(stranger_client):
    contact = ContactFactory(is_bounced=True, city="Lyon")
    stranger_client.post(url_for(contact), ONE_CLICK)
    fresh = Contact.objects.get(pk=contact.pk)
    assert fresh.is_unsubscribed and fresh.is_bounced and fresh.city == "Lyon"


def test_token_is_per_contact(stranger_client):
    a, b = ContactFactory(), ContactFactory()
    stranger_client.post(url_for(a), ONE_CLICK)
    assert is_unsubscribed(a)
    assert not is_unsubscribed(b)


@pytest.mark.parametrize("method", ["get", "post"])
def test_forged_tokens_are_404_and_change_nothing(csrf_client, method):
    a, b = ContactFactory(), ContactFactory()
    good = make_token(contact_id=a.pk, mailing_id=None)
    swapped = _swap_payload(good, make_token(contact_id=b.pk, mailing_id=None))
    for token in [swapped, good[:-1], good[:-10], "garbage", "Zm9v:YmFy"]:
        url = reverse("mailing:unsubscribe", kwargs={"token": token})
        response = getattr(csrf_client, method)(url, ONE_CLICK if method == "post" else None)
        assert response.status_code == 404, token
        body = response.content.decode()
        assert "This unsubscribe link is not valid" in body
        assert "mainnav" not in body
    assert not is_unsubscribed(a)
    assert not is_unsubscribed(b)


@pytest.mark.parametrize("method", ["get", "post"])
def test_deleted_contact_is_404(stranger_client, method):
    contact = ContactFactory()
    url = url_for(contact)
    contact.delete()
    response = getattr(stranger_client, method)(url)
    assert response.status_code == 404
    assert "This unsubscribe link is not valid" in response.content.decode()


def test_logged_in_marketer_gets_the_same_pages(marketer_client):
    contact = ContactFactory()
    assert marketer_client.get(url_for(contact)).status_code == 200
    assert marketer_client.post(url_for(contact)).status_code == 200
    assert is_unsubscribed(contact)


@pytest.mark.parametrize("method", ["put", "delete", "patch"])
def test_other_methods_are_refused(stranger_client, method):
    contact = ContactFactory()
    response = getattr(stranger_client, method)(url_for(contact))
    assert response.status_code == 405
    assert not is_unsubscribed(contact)


# --- Test sends and the preview (issue 14, point 13) --------------------------


def test_a_preview_token_is_signed_and_recognised():
    token = make_preview_token()
    with pytest.raises(PreviewToken):
        read_token(token)
    with pytest.raises(BadToken):  # altered, it is just a bad token
        read_token(token[:-1])


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_test_messages_link_says_it_unsubscribes_nobody(csrf_client, method):
    contacts = ContactFactory.create_batch(2)
    url = reverse("mailing:unsubscribe", kwargs={"token": make_preview_token()})
    response = getattr(csrf_client, method)(url, ONE_CLICK if method == "post" else None)
    body = response.content.decode()
    assert response.status_code == 200
    assert "This link is from a test message" in body
    assert "Test messages do not unsubscribe anyone" in body
    assert "<form" not in body
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert not any(is_unsubscribed(c) for c in contacts)


def test_a_test_messages_token_mailed_back_unsubscribes_nobody():
    contact = ContactFactory()
    assert unsubscribe_by_mail(f"unsubscribe {make_preview_token()}") is None
    assert not is_unsubscribed(contact)


# --- Already unsubscribed, and resubscribing (point 14) --------------------------


def resubscribe_url(contact: Contact) -> str:
    token = make_token(contact_id=contact.pk, mailing_id=7)
    return reverse("mailing:resubscribe", kwargs={"token": token})


def test_opening_the_link_again_says_already_unsubscribed_and_offers_to_resubscribe(
    stranger_client,
):
    contact = ContactFactory(email="alice@example.com", is_unsubscribed=True)
    response = stranger_client.get(url_for(contact))
    body = response.content.decode()
    assert response.status_code == 200
    assert "You are already unsubscribed" in body
    assert "a***@example.com" in body
    assert ">Unsubscribe</button>" not in body  # nothing asked again
    assert f'action="{resubscribe_url(contact)}"' in body
    assert 'name="csrfmiddlewaretoken"' in body
    assert is_unsubscribed(contact)


def test_the_unsubscribed_page_offers_to_resubscribe(stranger_client):
    contact = ContactFactory()
    body = stranger_client.post(url_for(contact)).content.decode()
    assert "You are unsubscribed" in body
    assert f'action="{resubscribe_url(contact)}"' in body


def test_resubscribing_from_the_page_subscribes_again_and_is_recorded(csrf_client):
    contact = ContactFactory(email="alice@example.com", is_unsubscribed=True)
    page = csrf_client.get(url_for(contact)).content.decode()
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)[1]
    response = csrf_client.post(resubscribe_url(contact), {"csrfmiddlewaretoken": csrf})
    body = response.content.decode()
    assert response.status_code == 200
    assert "You are subscribed again" in body
    assert f'action="{url_for(contact)}"' in body  # and can unsubscribe again
    assert not is_unsubscribed(contact)
    event = TrackingEvent.objects.get()
    assert (event.event_type, event.email) == ("resubscribed", "alice@example.com")


def test_a_resubscribe_post_from_elsewhere_is_refused(csrf_client):
    contact = ContactFactory(is_unsubscribed=True)
    response = csrf_client.post(resubscribe_url(contact))  # no CSRF token
    assert response.status_code == 403
    assert is_unsubscribed(contact)
    assert not TrackingEvent.objects.exists()


def test_a_get_of_the_resubscribe_address_changes_nothing(stranger_client):
    contact = ContactFactory(is_unsubscribed=True)
    response = stranger_client.get(resubscribe_url(contact))
    assert response.status_code == 302 and response.url == url_for(contact)
    assert is_unsubscribed(contact)


def test_resubscribing_with_a_bad_or_test_token_changes_nothing(stranger_client):
    contact = ContactFactory(is_unsubscribed=True)
    bad = reverse("mailing:resubscribe", kwargs={"token": "garbage"})
    assert stranger_client.post(bad).status_code == 404
    test = reverse("mailing:resubscribe", kwargs={"token": make_preview_token()})
    response = stranger_client.post(test)
    assert response.status_code == 200
    assert "Test messages do not unsubscribe anyone" in response.content.decode()
    assert is_unsubscribed(contact)


def test_resubscribing_a_deleted_contact_is_404(stranger_client):
    contact = ContactFactory(is_unsubscribed=True)
    url = resubscribe_url(contact)
    contact.delete()
    assert stranger_client.post(url).status_code == 404


def test_contact_resubscribe_is_idempotent_and_records_once():
    contact = ContactFactory(is_unsubscribed=True, is_bounced=True)
    assert contact_resubscribe(contact_id=contact.pk) is True
    assert contact_resubscribe(contact_id=contact.pk) is False
    fresh = Contact.objects.get(pk=contact.pk)
    assert not fresh.is_unsubscribed and fresh.is_bounced  # a bounce stays a bounce
    assert TrackingEvent.objects.filter(event_type="resubscribed").count() == 1
    assert contact_resubscribe(contact_id=contact.pk + 10_000) is False
