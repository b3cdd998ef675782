"""Bounces and complaints through anymail's Postmark tracking webhook.

See docs/design.md#bounces-and-complaints."""

from __future__ import annotations

import base64
import itertools
import json
from types import SimpleNamespace

import pytest
from django.test import Client
from django.urls import reverse

from contacts.models import Contact
from mailing.bounces import COMPLAINT, HARD, SOFT, bounce_record, kind_of
from mailing.models import TrackingEvent
from mailing.webhook_urls import urlpatterns as webhook_routes
from tests.contacts.factories import ContactFactory

pytestmark = pytest.mark.django_db

URL = "/webhooks/postmark/tracking/"
_ids = itertools.count(1000)


@pytest.fixture(autouse=True)
def webhook_secret(settings):
    settings.ANYMAIL = {"WEBHOOK_SECRET": "user:pass"}


def auth(credentials: str = "user:pass") -> dict:
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(credentials.encode()).decode()}


def bounce(email: str, type_: str = "HardBounce", *, event_id=None, message_id=None) -> dict:
    """A Postmark bounce webhook payload (RecordType Bounce)."""
    n = next(_ids)
    return {
        "RecordType": "Bounce",
        "ID": event_id if event_id is not None else n,
        "Type": type_,
        "TypeCode": 1,
        "Name": type_,
        "MessageID": message_id or f"00000000-0000-0000-0000-{n:012d}",
        "Description": "The server was unable to deliver your message.",
        "Details": "smtp;550 5.1.1 The email account does not exist",
        "Email": email,
        "BouncedAt": "2025-01-15T10:00:00Z",
        "Inactive": True,
        "CanActivate": True,
    }


def complaint(email: str) -> dict:
    payload = bounce(email, "SpamComplaint")
    payload["RecordType"] = "SpamComplaint"
    return payload


def post(payload: dict, headers: dict | None = None):
    headers = auth() if headers is None else headers
    return Client().post(URL, json.dumps(payload), content_type="application/json", **headers)


def fresh(contact: Contact) -> Contact:
    return Contact.objects.get(pk=contact.pk)


def test_the_url_is_under_webhooks():
    assert reverse("webhooks:postmark_tracking_webhook") == URL
    assert reverse("webhooks:mailgun_tracking_webhook") == "/webhooks/mailgun/tracking/"


def test_hard_bounce_marks_the_contact_bounced_whatever_the_case_of_the_email():
    contact = ContactFactory(email="Ann@Example.com")
    other = ContactFactory(email="other@example.com")

    response = post(bounce("ann@EXAMPLE.com"))

    assert response.status_code == 200
    assert fresh(contact).is_bounced
    assert not fresh(other).is_bounced
    assert TrackingEvent.objects.get().event_type == HARD


def test_complaint_marks_the_contact_bounced():
    contact = ContactFactory(email="ann@example.com")

    assert post(complaint("ann@example.com")).status_code == 200

    assert fresh(contact).is_bounced
    assert TrackingEvent.objects.get().event_type == COMPLAINT


def test_two_soft_bounces_are_counted_and_the_third_marks_bounced():
    contact = ContactFactory(email="ann@example.com")

    for _ in range(2):
        assert post(bounce("ann@example.com", "SoftBounce")).status_code == 200
    contact = fresh(contact)
    assert (contact.soft_bounces, contact.is_bounced) == (2, False)

    assert post(bounce("ann@example.com", "SoftBounce")).status_code == 200
    contact = fresh(contact)
    assert (contact.soft_bounces, contact.is_bounced) == (3, True)


def test_transient_deferral_counts_as_a_soft_bounce():
    contact = ContactFactory(email="ann@example.com")

    post(bounce("ann@example.com", "Transient"))

    contact = fresh(contact)
    assert (contact.soft_bounces, contact.is_bounced) == (1, False)


def test_retries_of_one_message_count_as_one_soft_bounce():
    contact = ContactFactory(email="ann@example.com")

    for _ in range(3):  # three deferrals of the same message, three event ids
        post(bounce("ann@example.com", "Transient", message_id="same-message"))

    contact = fresh(contact)
    assert (contact.soft_bounces, contact.is_bounced) == (1, False)


def test_the_same_event_id_twice_changes_nothing_the_second_time():
    contact = ContactFactory(email="ann@example.com")
    payload = bounce("ann@example.com", "SoftBounce", event_id=42)

    assert post(payload).status_code == 200
    assert post(payload).status_code == 200

    contact = fresh(contact)
    assert (contact.soft_bounces, contact.is_bounced) == (1, False)
    assert TrackingEvent.objects.filter(event_id="Postmark:42").count() == 1


def test_unknown_email_is_ignored_but_recorded():
    contact = ContactFactory(email="ann@example.com")

    assert post(bounce("nobody@example.com", event_id=7)).status_code == 200

    assert not fresh(contact).is_bounced
    event = TrackingEvent.objects.get()
    assert (event.event_id, event.email) == ("Postmark:7", "nobody@example.com")


def test_delivery_and_open_events_change_nothing():
    contact = ContactFactory(email="ann@example.com")
    delivered = {
        "RecordType": "Delivery",
        "MessageID": "x",
        "Recipient": "ann@example.com",
        "DeliveredAt": "2025-01-15T10:00:00Z",
    }
    opened = {"RecordType": "Open", "MessageID": "x", "Recipient": "ann@example.com"}

    assert post(delivered).status_code == 200
    assert post(opened).status_code == 200

    contact = fresh(contact)
    assert (contact.soft_bounces, contact.is_bounced) == (0, False)
    assert not TrackingEvent.objects.exists()


@pytest.mark.parametrize(
    "headers",
    [{}, auth("user:wrong"), auth("someone:pass"), {"HTTP_AUTHORIZATION": "Bearer user:pass"}],
    ids=["no credentials", "wrong password", "wrong user", "not basic auth"],
)
def test_a_webhook_without_the_right_credentials_is_refused(headers):
    contact = ContactFactory(email="ann@example.com")

    response = post(bounce("ann@example.com"), headers)

    # Refused with a challenge (Amazon SNS sends credentials only once challenged),
    # not redirected to the login page.
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Basic ")
    assert not fresh(contact).is_bounced
    assert not TrackingEvent.objects.exists()


def test_webhooks_are_closed_while_no_secret_is_configured(settings):
    settings.ANYMAIL = {}
    contact = ContactFactory(email="ann@example.com")

    response = post(bounce("ann@example.com"))  # with the credentials it used to have

    assert response.status_code == 403
    assert not fresh(contact).is_bounced


def test_a_logged_in_user_without_credentials_is_refused_too(marketer_client):
    contact = ContactFactory(email="ann@example.com")

    response = marketer_client.post(
        URL, json.dumps(bounce("ann@example.com")), content_type="application/json"
    )

    assert response.status_code == 401
    assert not fresh(contact).is_bounced


def test_get_is_not_allowed_and_does_not_redirect_to_login():
    assert Client().get(URL, **auth()).status_code == 405


# --- malformed bodies -------------------------------------------------------------

MALFORMED = {
    "not JSON": b"{bad",
    "an empty list": b"[]",
    "an empty object": b"{}",
    "null": b"null",
    "not UTF-8": b'{"RecordType": "Bounce", "Email": "\xff\xfe@example.com"}',
    "a JSON string": b'"ann@example.com"',
    "an object without the keys": b'{"hello": "world"}',
    "a list of nothing useful": b"[{}]",
    "5,000 [": b"[" * 5000,
    '5,000 {"a":': b'{"a":' * 5000,
}


def post_raw(url: str, body: bytes, headers: dict | None = None, content_type="application/json"):
    headers = auth() if headers is None else headers
    return Client().post(url, body, content_type=content_type, **headers)


def assert_refused_and_logged(response, caplog, esp: str) -> None:
    assert response.status_code == 400
    reason = response.json()["error"]
    assert reason
    assert [
        r
        for r in caplog.records
        if r.levelname == "WARNING"
        and r.getMessage().startswith(f"Refused a {esp} ")
        and reason in r.getMessage()
    ]


@pytest.mark.parametrize("body", MALFORMED.values(), ids=MALFORMED.keys())
def test_postmark_answers_400_to_a_malformed_body_and_logs_why(body, caplog):
    contact = ContactFactory(email="ann@example.com")

    response = post_raw(URL, body)

    assert_refused_and_logged(response, caplog, "Postmark")
    assert not fresh(contact).is_bounced
    assert not TrackingEvent.objects.exists()


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ({"RecordType": "Bounce", "Type": "HardBounce", "ID": 1}, "without the recipient"),
        ({"RecordType": "Bounce", "Type": "HardBounce", "Email": ["a@b.c"]}, "not an email"),
        ({"RecordType": "Bounce", "BouncedAt": 5, "Email": "ann@example.com"}, "TypeError"),
    ],
    ids=["no address", "address not text", "date not text"],
)
def test_postmark_bounces_that_cannot_be_applied_are_400(payload, reason, caplog):
    contact = ContactFactory(email="ann@example.com")

    response = post(payload)

    assert_refused_and_logged(response, caplog, "Postmark")
    assert reason in response.json()["error"]
    assert not fresh(contact).is_bounced


def test_the_reason_says_what_is_wrong():
    assert post_raw(URL, b"{bad").json() == {
        "error": "The body is not valid JSON: Expecting property name enclosed in double "
        "quotes at line 1, column 2."
    }
    assert post_raw(URL, b"\xff").json() == {"error": "The body is not UTF-8 text."}
    assert post_raw(URL, b"[" * 5000).json() == {"error": "The body is nested too deeply."}
    assert post_raw(URL, b"[]").json()["error"].startswith("The body is not a Postmark tracking")


SENDGRID = "/webhooks/sendgrid/tracking/"


def sendgrid_bounce(email: str) -> dict:
    return {
        "email": email,
        "event": "bounce",
        "sg_event_id": f"sg-{next(_ids)}",
        "sg_message_id": "m1",
        "timestamp": 1736935200,
        "reason": "550 5.1.1 no such user",
    }


def test_sendgrid_applies_a_batch_of_bounces():
    ann, bob = ContactFactory(email="ann@example.com"), ContactFactory(email="bob@example.com")
    body = json.dumps([sendgrid_bounce("ann@example.com"), sendgrid_bounce("bob@example.com")])

    assert post_raw(SENDGRID, body.encode()).status_code == 200

    assert fresh(ann).is_bounced and fresh(bob).is_bounced


@pytest.mark.parametrize("body", MALFORMED.values(), ids=MALFORMED.keys())
def test_sendgrid_answers_400_to_a_malformed_body_and_logs_why(body, caplog):
    contact = ContactFactory(email="ann@example.com")

    response = post_raw(SENDGRID, body)

    assert_refused_and_logged(response, caplog, "SendGrid")
    assert not fresh(contact).is_bounced


def test_one_bad_event_in_a_batch_applies_none_of_it(caplog):
    contact = ContactFactory(email="ann@example.com")
    body = json.dumps([sendgrid_bounce("ann@example.com"), {"event": "bounce", "email": 7}])

    response = post_raw(SENDGRID, body.encode())

    assert_refused_and_logged(response, caplog, "SendGrid")
    assert response.json()["error"].startswith("Event 1 has a recipient")
    assert not fresh(contact).is_bounced
    assert not TrackingEvent.objects.exists()


@pytest.mark.parametrize("url", [URL, SENDGRID, "/webhooks/postmark/inbound/"])
@pytest.mark.parametrize("headers", [{}, auth("user:wrong")], ids=["none", "wrong"])
def test_credentials_are_checked_before_the_body_is_read(url, headers, caplog):
    response = post_raw(url, b"[" * 5000, headers)

    assert response.status_code == 401
    assert not [r for r in caplog.records if "nested" in r.getMessage()]


# The settings each ESP's anymail view needs before it reads anything.
ESP_SETTINGS = {
    "MAILGUN_WEBHOOK_SIGNING_KEY": "key",
    "MAILERSEND_SIGNING_SECRET": "key",
    "MAILERSEND_INBOUND_SECRET": "key",
    "MANDRILL_WEBHOOK_KEY": "key",
    "POSTAL_WEBHOOK_KEY": "key",
    "RESEND_API_KEY": "key",
    "BREVO_API_KEY": "key",
    "SENDINBLUE_API_KEY": "key",
    "MAILTRAP_API_TOKEN": "key",
    "UNISENDER_GO_API_KEY": "key",
}
ROUTES = [str(route.pattern) for route in webhook_routes]


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize(
    "body", [b"{bad", b"\xff\xfe", b"null", b"[" * 5000], ids=["json", "utf8", "null", "deep"]
)
def test_no_routed_webhook_answers_500_to_a_malformed_body(settings, route, body):
    settings.ANYMAIL = {"WEBHOOK_SECRET": "user:pass", **ESP_SETTINGS}

    response = Client(raise_request_exception=False).post(
        f"/webhooks/{route}", body, content_type="application/json", **auth()
    )

    if route.startswith("amazon_ses/") and response.status_code == 503:
        return  # boto3 is not installed here: "not configured", and the ESP retries later
    # 403 where the ESP signs its webhooks: a body that does not parse cannot be verified.
    assert response.status_code in (400, 403)
    assert response.json()["error"]


def test_an_esp_whose_settings_are_missing_answers_503_so_that_it_retries(caplog):
    response = post_raw("/webhooks/mailgun/tracking/", b"{}")

    assert response.status_code == 503
    assert response.json() == {"error": "The mailgun webhook is not configured on this server."}
    assert any(
        r.levelname == "ERROR" and "MAILGUN_WEBHOOK_SIGNING_KEY" in r.getMessage()
        for r in caplog.records
    )


# --- the service and the mapping ------------------------------------------------


def test_bounce_record_reports_what_changed():
    contact = ContactFactory(email="ann@example.com")

    assert bounce_record(email="ANN@example.com", kind=SOFT, event_id="e1") is True
    assert bounce_record(email="ann@example.com", kind=SOFT, event_id="e1") is False
    assert bounce_record(email="nobody@example.com", kind=HARD, event_id="e2") is False
    assert fresh(contact).soft_bounces == 1
    assert bounce_record(email="ann@example.com", kind=HARD, event_id=None) is True
    assert fresh(contact).is_bounced


def test_bounce_record_rejects_an_unknown_kind():
    with pytest.raises(ValueError):
        bounce_record(email="ann@example.com", kind="bogus", event_id=None)


def event(event_type: str, esp_event=None):
    return SimpleNamespace(event_type=event_type, esp_event=esp_event or {})


@pytest.mark.parametrize(
    ("esp_name", "anymail_event", "kind"),
    [
        ("Postmark", event("bounced", {"Type": "HardBounce"}), HARD),
        ("Postmark", event("bounced", {"Type": "SoftBounce"}), SOFT),
        ("Postmark", event("deferred", {"Type": "OpenRelayTest"}), None),
        ("Postmark", event("complained", {"Type": "SpamComplaint"}), COMPLAINT),
        ("Mailgun", event("deferred"), SOFT),
        ("Mailgun", event("bounced"), HARD),
        ("Brevo", event("bounced", {"event": "soft_bounce"}), SOFT),
        ("Mandrill", event("bounced", {"event": "soft_bounce"}), SOFT),
        ("MailerSend", event("bounced", {"data": {"type": "soft_bounced"}}), SOFT),
        ("MailerSend", event("bounced", {"data": {"type": "hard_bounced"}}), HARD),
        ("SparkPost", event("bounced", {"msys": {"message_event": {"bounce_class": "22"}}}), SOFT),
        ("SparkPost", event("bounced", {"msys": {"message_event": {"bounce_class": "10"}}}), HARD),
        ("SendGrid", event("rejected"), None),
        ("SendGrid", event("delivered"), None),
        ("SendGrid", event("autoresponded"), None),
    ],
)
def test_mapping_of_anymail_events(esp_name, anymail_event, kind):
    assert kind_of(anymail_event, esp_name) == kind
