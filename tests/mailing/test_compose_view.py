"""The compose page at /contacts/segments/<id>/send: audience, form, preview, test, send."""

from __future__ import annotations

import html
import re
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
    return reverse("mailing:compose", args=[segment.pk])


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
    assert message.subject == "[Test] Hi Ann"  # the account has no name: the sample's
    assert message.from_email == MESSAGE["from_email"]
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.extra_headers["List-Unsubscribe"].startswith("<http")
    assert not Mailing.objects.exists()
    # Its unsubscribe link must not unsubscribe the sample contact, and says why.
    link = message.extra_headers["List-Unsubscribe"].split(">")[0].lstrip("<")
    response = Client().post(urlsplit(link).path)
    assert response.status_code == 200
    assert "Test messages do not unsubscribe anyone" in response.content.decode()
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
    assert marketer_client.get(reverse("mailing:compose", args=[999999])).status_code == 404


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


# -- test sends (issue 14, point 13) -------------------------------------------


def test_a_test_send_is_marked_and_merged_with_the_senders_own_name(marketer_client, url, marketer):
    marketer.first_name, marketer.last_name = "Alice", "Liddell"
    marketer.save()
    ContactFactory(lead_score=90, first_name="Ann", email="ann@example.com", company="Acme")
    body = post(
        marketer_client, url, "test", body="Hello {{ first_name }} ({{ email }}) at {{ company }}"
    )
    merged_with = (
        "your name and address (Alice Liddell, alice@example.com) and the other fields "
        "of ann@example.com, the first recipient"
    )
    assert f"Sent a test to alice@example.com, merged with {merged_with}." in body
    message = mail.outbox[0]
    assert message.subject == "[Test] Hi Alice"
    assert message.body.startswith(f"[Test message. Merged with {merged_with}.")
    assert "Hello Alice (alice@example.com) at Acme" in message.body
    html_part = message.alternatives[0][0]
    assert html_part.startswith('<p style="')
    assert "<strong>Test message.</strong> Merged with your name and address" in html_part
    assert "Ann" not in message.subject + message.body + html_part


def test_the_page_says_whom_a_test_is_sent_to_and_merged_with(marketer_client, url, marketer):
    ContactFactory(lead_score=90, email="ann@example.com")
    body = html.unescape(marketer_client.get(url).content.decode())
    note = re.search(r'<p class="muted small" id="test-send-note">(.*?)</p>', body)[1]
    assert note == (
        "“Send a test to myself” mails it to alice@example.com, marked [Test] and merged "
        "with your address (alice@example.com) and, as your account has no name, the name "
        "and other fields of ann@example.com, the first recipient."
    )


def test_the_preview_is_not_marked_as_a_test_and_its_link_unsubscribes_nobody(marketer_client, url):
    contact = ContactFactory(lead_score=90, first_name="Ann")
    body = post(marketer_client, url, "preview")
    assert '<dd id="preview-subject">Hi Ann</dd>' in body
    assert "Test message" not in body
    link = re.search(r'<a href="(http[^"]+/u/[^"]+)">Unsubscribe</a>', body)[1]
    for method in ("get", "post"):
        response = getattr(Client(), method)(urlsplit(html.unescape(link)).path)
        assert response.status_code == 200
        assert "Test messages do not unsubscribe anyone" in response.content.decode()
    contact.refresh_from_db()
    assert not contact.is_unsubscribed


# -- empty merge tags (point 15) -------------------------------------------------


def test_it_warns_when_a_tag_without_default_is_empty_for_some_recipients(marketer_client, url):
    ContactFactory.create_batch(2, lead_score=90, company="", first_name="")
    ContactFactory(lead_score=90, company="Acme", first_name="", custom_fields={"plan": "pro"})
    ContactFactory(lead_score=90, company="", is_unsubscribed=True)  # not a recipient
    body = post(
        marketer_client,
        url,
        "preview",
        subject="Big news for {{ company }}",
        body='Hi {{ first_name|default:"there" }}, your plan: {{ custom.plan }}',
    )
    text = html.unescape(re.sub(r"<[^>]+>", "", body))
    assert (
        "company is empty for 2 of 3 recipients — add a default? "
        'For example {{ company|default:"your company" }}'
    ) in text
    assert (
        "custom.plan is empty for 2 of 3 recipients — add a default? "
        'For example {{ custom.plan|default:"…" }}'
    ) in text
    assert "first_name is empty" not in text  # it has a default


def test_no_warning_when_every_recipient_has_a_value(marketer_client, url):
    ContactFactory.create_batch(2, lead_score=90, company="Acme")
    body = post(marketer_client, url, "preview", subject="Big news for {{ company }}")
    assert 'id="empty-fields"' not in body


def test_the_warning_is_in_the_live_preview_and_the_confirmation(marketer_client, url):
    ContactFactory(lead_score=90, company="")
    data = {**MESSAGE, "subject": "Big news for {{ company }}", "body": "Hello"}
    response = marketer_client.post(
        url, {**data, "action": "preview"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="mail-preview"
    )
    assert 'id="empty-company"' in response.content.decode()
    body = post(marketer_client, url, "send", subject="Big news for {{ company }}")
    assert 'id="confirm-send"' in body and 'id="empty-company"' in body
    # …and the confirmation shows the subject readably.
    assert "“Big news for ‹company›” from" in html.unescape(body)


# -- links in Markdown (point 18) --------------------------------------------------


def test_a_merged_javascript_url_is_no_link_in_the_preview(marketer_client, url):
    ContactFactory(lead_score=90, custom_fields={"url": "javascript:alert(document.cookie)"})
    body = post(
        marketer_client, url, "preview", body="[click me]({{ custom.url }})", body_format="markdown"
    )
    preview = re.search(r'<div class="mail-html" id="preview-html">(.*?)</div>', body, re.S)[1]
    assert "javascript:" not in preview
    assert "<a>click me</a>" in preview


def test_a_merged_https_url_stays_a_link_in_the_preview(marketer_client, url):
    ContactFactory(lead_score=90, custom_fields={"url": "https://example.com/?a=1&b=2"})
    body = post(
        marketer_client, url, "preview", body="[click me]({{ custom.url }})", body_format="markdown"
    )
    assert '<a href="https://example.com/?a=1&amp;b=2">click me</a>' in body


# -- From address (point 19) -------------------------------------------------------


@pytest.mark.parametrize(
    ("from_email", "message"),
    [
        ("a@example.com, b@example.com", "Enter one From address, not several"),
        ("Name <a@example.com>, Other <b@example.com>", "Enter one From address, not several"),
        ("<a@example.com>>", "Remove “>” after the address"),
        ("Na\u2028me <a@example.com>", "The From address must be on one line"),
    ],
)
def test_a_bad_from_address_is_a_clear_error_never_a_500(marketer_client, url, from_email, message):
    ContactFactory(lead_score=90)
    data = {**MESSAGE, "body": "Hello", "from_email": from_email}
    for action in ("preview", "test", "send", "confirm"):
        response = marketer_client.post(url, {**data, "action": action})
        assert response.status_code == 200
        body = html.unescape(response.content.decode())
        error = re.search(r'id="error-from_email">(.*?)</p>', body)[1]
        assert error.startswith(message)
        assert f'value="{from_email}"' in body  # what was typed is kept
    live = marketer_client.post(
        url, {**data, "action": "preview"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="mail-preview"
    )
    assert live.status_code == 200
    assert f"<li>From: {message}" in html.unescape(live.content.decode())
    assert not Mailing.objects.exists()
    assert mail.outbox == []


def test_the_sent_notice_shows_the_subject_readably(marketer_client, url):
    ContactFactory(lead_score=90)
    body = post(marketer_client, url, "confirm", subject="Big news for {{ company }}")
    assert "“Big news for ‹company›” is on its way" in html.unescape(body)
    assert Mailing.objects.get().subject == "Big news for {{ company }}"  # kept as written
