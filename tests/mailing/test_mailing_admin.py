from __future__ import annotations

import pytest
from django.contrib.admin import site
from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.db import SessionStore
from django.test import RequestFactory
from django.urls import reverse

from mailing.admin import MailingAdmin
from mailing.models import Delivery, Mailing

from ..segments.factories import SegmentFactory
from .factories import DeliveryFactory, MailingFactory

pytestmark = pytest.mark.django_db


def test_admin_lists_mailings_and_deliveries(admin_client_):
    DeliveryFactory(mailing__subject="Spring news", contact__email="reader@example.com")
    mailings = admin_client_.get(reverse("admin:mailing_mailing_changelist"))
    assert b"Spring news" in mailings.content
    deliveries = admin_client_.get(
        reverse("admin:mailing_delivery_changelist"), {"status": "pending"}
    )
    assert b"reader@example.com" in deliveries.content


@pytest.mark.parametrize(
    ("status", "deletable"),
    [("queued", False), ("sending", False), ("paused", False), ("sent", True), ("cancelled", True)],
)
def test_a_mailing_in_flight_cannot_be_deleted_in_admin(admin_client_, status, deletable):
    mailing = MailingFactory(status=status)
    DeliveryFactory(mailing=mailing)
    url = reverse("admin:mailing_mailing_delete", args=[mailing.pk])
    response = admin_client_.post(url, {"post": "yes"})
    assert response.status_code == (302 if deletable else 403)
    assert Mailing.objects.filter(pk=mailing.pk).exists() is not deletable
    assert Delivery.objects.filter(mailing_id=mailing.pk).exists() is not deletable


# --- content is fixed once the mailing leaves draft --------------------------------

CONTENT = ["subject", "body", "body_format", "from_email", "segment"]


def change_url(mailing: Mailing) -> str:
    return reverse("admin:mailing_mailing_change", args=[mailing.pk])


def content_of(mailing: Mailing) -> tuple:
    mailing = Mailing.objects.get(pk=mailing.pk)
    return (
        mailing.subject,
        mailing.body,
        mailing.body_format,
        mailing.from_email,
        mailing.segment_id,
    )


@pytest.fixture
def segments():
    return SegmentFactory(name="Old"), SegmentFactory(name="New")


def edited(new_segment) -> dict:
    return {
        "subject": "Edited subject",
        "body": "Edited **body**",
        "body_format": "markdown",
        "from_email": "other@example.com",
        "segment": str(new_segment.pk),
    }


@pytest.mark.parametrize("status", ["queued", "sending", "paused", "sent", "cancelled", "failed"])
def test_a_mailing_past_draft_cannot_have_its_content_changed_in_admin(
    admin_client_, segments, status
):
    old, new = segments
    mailing = MailingFactory(segment=old, subject="News", status=status, sent=3)
    before = content_of(mailing)

    page = admin_client_.get(change_url(mailing))
    form = page.context["adminform"].form
    assert not set(CONTENT) & set(form.fields)  # shown as text, not inputs
    assert b"News" in page.content

    response = admin_client_.post(change_url(mailing), edited(new))

    assert response.status_code == 200
    assert "can no longer change. Nothing was saved." in response.content.decode()
    assert content_of(mailing) == before
    # Saving the page as shown (no content inputs) changes nothing either.
    assert admin_client_.post(change_url(mailing), {}).status_code == 302
    assert content_of(mailing) == before
    assert Mailing.objects.get(pk=mailing.pk).sent == 3


def test_a_draft_stays_editable_in_admin(admin_client_, segments):
    old, new = segments
    mailing = MailingFactory(segment=old)

    response = admin_client_.post(change_url(mailing), edited(new))

    assert response.status_code == 302
    assert content_of(mailing) == (
        "Edited subject",
        "Edited **body**",
        "markdown",
        "other@example.com",
        new.pk,
    )


def admin_request(admin):
    request = RequestFactory().post("/")
    request.user = admin
    request.session = SessionStore()
    request._messages = FallbackStorage(request)
    return request


def test_a_draft_queued_while_the_admin_saves_keeps_its_content_and_status(admin, segments):
    old, new = segments
    mailing = MailingFactory(segment=old, subject="News")
    request = admin_request(admin)
    model_admin = MailingAdmin(Mailing, site)
    form = model_admin.get_form(request, mailing)(edited(new), instance=mailing)
    assert form.is_valid(), form.errors
    # The send starts between the form's checks and the save.
    Mailing.objects.filter(pk=mailing.pk).update(status="queued", recipients=7)

    model_admin.save_model(request, form.save(commit=False), form, change=True)

    mailing.refresh_from_db()
    assert (mailing.subject, mailing.status, mailing.recipients) == ("News", "queued", 7)
    assert "its content was not changed" in str(list(get_messages(request))[0])


def test_saving_a_draft_writes_only_its_content_not_stale_counters(admin, segments):
    old, new = segments
    mailing = MailingFactory(segment=old)
    request = admin_request(admin)
    model_admin = MailingAdmin(Mailing, site)
    form = model_admin.get_form(request, mailing)(
        {**edited(new), "subject": "Hi"}, instance=mailing
    )
    assert form.is_valid(), form.errors
    Mailing.objects.filter(pk=mailing.pk).update(segment_count=42)  # written meanwhile

    model_admin.save_model(request, form.save(commit=False), form, change=True)

    mailing.refresh_from_db()
    assert (mailing.subject, mailing.segment_count) == ("Hi", 42)


def test_admin_labels_read_as_english(admin_client_):
    page = admin_client_.get(reverse("admin:index")).content.decode()
    assert "Deliveries" in page and "Deliverys" not in page
    assert Delivery._meta.verbose_name_plural == "deliveries"


def test_a_drafts_from_address_is_checked_in_admin(admin_client_, segments):
    old, new = segments
    mailing = MailingFactory(segment=old, from_email="news@example.com")
    response = admin_client_.post(
        change_url(mailing), {**edited(new), "from_email": "a@example.com, b@example.com"}
    )
    assert response.status_code == 200
    assert "Enter one From address, not several" in response.content.decode()
    assert content_of(mailing)[3] == "news@example.com"


def test_mail_events_are_listed_read_only(admin_client_):
    from mailing.models import TrackingEvent

    event = TrackingEvent.objects.create(
        event_id="resub-1", event_type="resubscribed", email="ada@example.com"
    )
    listing = admin_client_.get(reverse("admin:mailing_trackingevent_changelist"))
    assert listing.status_code == 200 and "ada@example.com" in listing.content.decode()
    assert admin_client_.get(reverse("admin:mailing_trackingevent_add")).status_code == 403
    change = admin_client_.post(
        reverse("admin:mailing_trackingevent_change", args=[event.pk]), {"email": "x@example.com"}
    )
    assert change.status_code in (200, 403)
    event.refresh_from_db()
    assert event.email == "ada@example.com"
