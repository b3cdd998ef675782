"""The compose page at /contacts/segments/<id>/send: audience, form, preview, test, send."""

from __future__ import annotations

import html
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from mailing.models import Mailing
from segments.models import ContactSegment
from segments.services import segment_create

from ..contacts.factories import ContactFactory

pytestmark = pytest.mark.django_db
HIGH = [{"field": "leadScore", "op": "gte", "value": 70}]
MESSAGE = {"from_email": "Flock <news@example.com>", "subject": "Hi {{ first_name }}"}


@pytest.fixture
def segment(marketer) -> ContactSegment:
    return segment_create(name="High", filter_json=HIGH, user=marketer)


@pytest.fixture
def url(segment) -> str:
    return reverse("segments:send", args=[segment.pk])


def post(client: Client, url: str, action: str, **fields) -> str:
    data = {**MESSAGE, "body": "Hello {{ first_name }} at {{ company }}", **fields}
    response = client.post(url, {**data, "action": action}, follow=True)
    assert response.status_code == 200
    return response.content.decode()


def test_it_shows_who_will_receive_it(marketer_client, url):
    ContactFactory.create_batch(3, lead_score=90)
    ContactFactory(lead_score=90, is_unsubscribed=True)
    ContactFactory(lead_score=90, is_bounced=True)
    ContactFactory(lead_score=10)
    body = marketer_client.get(url).content.decode()
    assert "5 match now · 1 unsubscribed and 1 bounced left out · 3 will receive it" in body
    assert 'id="compose"' in body


def test_from_defaults_to_the_settings_and_tags_are_listed(marketer_client, url, settings):
    settings.DEFAULT_FROM_EMAIL = "Team <team@example.org>"
    body = marketer_client.get(url).content.decode()
    assert 'value="Team &lt;team@example.org&gt;"' in body
    assert "{{ first_name }}" in html.unescape(body)
    assert '{{ first_name|default:"there" }}' in html.unescape(body)


def test_a_segment_with_broken_rules_shows_the_problem_not_the_form(marketer_client, segment, url):
    ContactSegment.objects.filter(pk=segment.pk).update(
        filter_json={"match": "all", "rules": [{"field": "nope", "op": "eq", "value": 1}]}
    )
    response = marketer_client.get(url)
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="segment-problem"' in body and 'id="compose"' not in body
    body = post(marketer_client, url, "confirm")
    assert 'id="segment-problem"' in body
    assert not Mailing.objects.exists()


def test_an_unknown_merge_tag_is_an_error_naming_it(marketer_client, url):
    body = post(marketer_client, url, "preview", body="Hi {{ frist_name }} {% if x %}")
    assert 'id="error-body"' in body
    assert "{{ frist_name }}" in html.unescape(body) and "{% if x %}" in html.unescape(body)
    assert 'id="preview-html"' not in body


def test_a_missing_subject_is_an_error_not_a_500(marketer_client, url):
    body = post(marketer_client, url, "send", subject="")
    assert 'id="error-subject"' in body
    assert 'id="confirm-send"' not in body


def test_a_bad_from_address_is_an_error(marketer_client, url):
    body = post(marketer_client, url, "preview", from_email="not an address")
    assert 'id="error-from_email"' in body


def test_preview_merges_the_first_reachable_match_and_escapes_html(marketer_client, url):
    ContactFactory(lead_score=90, is_unsubscribed=True, first_name="Gone")
    first = ContactFactory(lead_score=90, first_name="<b>Bo</b>", company="Acme & Co")
    ContactFactory(lead_score=90, first_name="Later")
    body = post(marketer_client, url, "preview")
    assert f"As {first.email} will get it" in body
    assert '<dd id="preview-subject">Hi &lt;b&gt;Bo&lt;/b&gt;</dd>' in body
    # The HTML part is shown as HTML: its merged values arrive escaped, never as tags.
    assert "Hello &lt;b&gt;Bo&lt;/b&gt; at Acme &amp;amp; Co" not in body
    assert "Hello &lt;b&gt;Bo&lt;/b&gt; at Acme &amp; Co" in body
    assert "<b>Bo</b>" not in body
    assert "Gone" not in body and "Later" not in body


def test_live_preview_with_htmx_renders_only_the_fragment(marketer_client, url):
    ContactFactory(lead_score=90, first_name="Ann")
    response = marketer_client.post(
        url,
        {**MESSAGE, "body": "Hello {{ first_name }}", "action": "preview"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="mail-preview",
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert body.strip().startswith('<aside class="card preview" id="mail-preview"')
    assert "Hello Ann" in body


def test_live_preview_with_an_unknown_tag_shows_the_error_in_the_fragment(marketer_client, url):
    response = marketer_client.post(
        url,
        {**MESSAGE, "body": "Hello {{ nickname }}", "action": "preview"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="mail-preview",
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="preview-invalid"' in body and "{{ nickname }}" in html.unescape(body)


def test_a_test_send_mails_one_message_to_the_user(marketer_client, url, marketer):
    contact = ContactFactory(lead_score=90, first_name="Ann")
    body = post(marketer_client, url, "test")
    assert "Sent a test to alice@example.com" in body
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [marketer.email]
    assert message.subject == "Hi Ann"
    assert message.from_email == MESSAGE["from_email"]
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.extra_headers["List-Unsubscribe"].startswith("<http")
    assert not Mailing.objects.exists()
    # Its unsubscribe link must not unsubscribe the sample contact.
    link = message.extra_headers["List-Unsubscribe"].split(">")[0].lstrip("<")
    response = Client().post(urlsplit(link).path)
    assert response.status_code == 404
    contact.refresh_from_db()
    assert not contact.is_unsubscribed


def test_a_test_send_without_an_email_address_says_so(marketer_client, url, marketer):
    marketer.email = ""
    marketer.save()
    body = post(marketer_client, url, "test")
    assert "has no email address" in body
    assert mail.outbox == []


def test_send_asks_for_confirmation_with_the_count(
    marketer_client, url, django_capture_on_commit_callbacks
):
    ContactFactory.create_batch(3, lead_score=90)
    with django_capture_on_commit_callbacks() as callbacks:
        body = post(marketer_client, url, "send")
    assert 'id="confirm-send"' in body
    assert "Send to 3 contacts?" in body
    assert not Mailing.objects.exists() and callbacks == []


def test_confirming_creates_the_mailing_and_redirects_to_it(
    marketer_client, url, segment, marketer, django_capture_on_commit_callbacks
):
    ContactFactory.create_batch(2, lead_score=90)
    data = {**MESSAGE, "body": "Hello", "action": "confirm"}
    with django_capture_on_commit_callbacks() as callbacks:
        response = marketer_client.post(url, data)
    mailing = Mailing.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("mailing:detail", args=[mailing.pk])
    assert (mailing.segment, mailing.subject, mailing.body) == (
        segment,
        "Hi {{ first_name }}",
        "Hello",
    )
    assert (mailing.from_email, mailing.created_by, mailing.status) == (
        MESSAGE["from_email"], marketer, Mailing.Status.QUEUED,
    )  # fmt: skip
    assert len(callbacks) == 1  # the materialize task, after commit
    page = marketer_client.get(response.url).content.decode()
    assert "on its way to about 2 contacts" in page


def test_nobody_reachable_cannot_be_sent(marketer_client, url):
    ContactFactory(lead_score=90, is_bounced=True)
    body = post(marketer_client, url, "confirm")
    assert "Nobody in this segment can receive" in body
    assert not Mailing.objects.exists()


def test_it_requires_login(stranger_client, url):
    for response in (stranger_client.get(url), stranger_client.post(url, {"action": "confirm"})):
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))
    assert not Mailing.objects.exists()


def test_an_unknown_segment_is_404(marketer_client):
    assert marketer_client.get(reverse("segments:send", args=[999999])).status_code == 404


def test_markdown_styles_the_preview_and_is_kept_on_the_mailing(marketer_client, url):
    ContactFactory(lead_score=90, first_name="Ada")
    body = post(
        marketer_client, url, "preview", body="Hi **{{ first_name }}**", body_format="markdown"
    )
    assert "<strong>Ada</strong>" in body  # the HTML part
    assert "Hi **Ada**" in body  # the text part, as written
    plain = post(marketer_client, url, "preview", body="Hi **{{ first_name }}**")
    assert "<strong>" not in plain
    marketer_client.post(
        url, {**MESSAGE, "body": "**Hello**", "body_format": "markdown", "action": "confirm"}
    )
    assert Mailing.objects.get().body_format == Mailing.Format.MARKDOWN


def test_an_unknown_body_format_is_refused_with_a_message(marketer_client, url):
    ContactFactory(lead_score=90)
    body = post(marketer_client, url, "confirm", body_format="rtf")
    assert "Select a valid choice" in body
    assert not Mailing.objects.exists()
