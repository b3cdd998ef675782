"""Pause, resume and cancel: conditional transitions, idempotent, safe at any moment."""

from __future__ import annotations

import pytest
from django.urls import reverse

from mailing.models import Mailing
from mailing.services import mailing_cancel, mailing_pause, mailing_resume

from .factories import MailingFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def mailing(marketer) -> Mailing:
    return MailingFactory(status=Mailing.Status.SENDING, created_by=marketer)


def set_status(mailing: Mailing, status: str) -> Mailing:
    Mailing.objects.filter(pk=mailing.pk).update(status=status)
    mailing.refresh_from_db()
    return mailing


def status_of(mailing: Mailing) -> str:
    return Mailing.objects.values_list("status", flat=True).get(pk=mailing.pk)


def test_pause_then_resume_enqueues_sending_after_commit(
    mailing, django_capture_on_commit_callbacks
):
    assert mailing_pause(mailing=mailing) is True
    assert status_of(mailing) == "paused" and mailing.status == "paused"
    assert mailing_pause(mailing=mailing) is False  # twice: no change
    with django_capture_on_commit_callbacks() as callbacks:
        assert mailing_resume(mailing=mailing) is True
    assert status_of(mailing) == "sending"
    assert len(callbacks) == 1


def test_resume_enqueues_the_send_task(mailing, django_capture_on_commit_callbacks, monkeypatch):
    sent = []
    monkeypatch.setattr("mailing.tasks.mailing_send.delay", sent.append)
    set_status(mailing, "paused")
    with django_capture_on_commit_callbacks(execute=True):
        mailing_resume(mailing=mailing)
    assert sent == [mailing.pk]


@pytest.mark.parametrize("status", ["sending", "queued", "paused"])
def test_cancel_stops_an_unfinished_mailing(mailing, status):
    set_status(mailing, status)
    assert mailing_cancel(mailing=mailing) is True
    assert status_of(mailing) == "cancelled"
    assert mailing_cancel(mailing=mailing) is False


@pytest.mark.parametrize(
    ("service", "status"),
    [
        (mailing_pause, "paused"),
        (mailing_pause, "sent"),
        (mailing_pause, "cancelled"),
        (mailing_pause, "queued"),
        (mailing_resume, "sending"),
        (mailing_resume, "cancelled"),
        (mailing_resume, "sent"),
        (mailing_cancel, "sent"),
        (mailing_cancel, "failed"),
    ],
)
def test_refused_transitions_change_nothing(
    mailing, service, status, django_capture_on_commit_callbacks
):
    set_status(mailing, status)
    with django_capture_on_commit_callbacks() as callbacks:
        assert service(mailing=mailing) is False
    assert status_of(mailing) == status
    assert callbacks == []


def test_the_pause_button_with_htmx_redraws_the_progress(marketer_client, mailing):
    response = marketer_client.post(
        reverse("mailing:pause", args=[mailing.pk]), HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert body.strip().startswith('<section class="card mailing-progress" id="progress"')
    assert "Paused." in body and 'id="resume"' in body and 'id="pause"' not in body
    assert status_of(mailing) == "paused"


def test_the_buttons_without_javascript_redirect_with_a_message(marketer_client, mailing):
    response = marketer_client.post(reverse("mailing:cancel", args=[mailing.pk]), follow=True)
    assert response.redirect_chain == [(reverse("mailing:detail", args=[mailing.pk]), 302)]
    body = response.content.decode()
    assert "Cancelled." in body
    assert status_of(mailing) == "cancelled"
    assert "every 2s" not in body


def test_resuming_a_cancelled_mailing_says_why_and_changes_nothing(
    marketer_client, mailing, django_capture_on_commit_callbacks
):
    set_status(mailing, "cancelled")
    with django_capture_on_commit_callbacks() as callbacks:
        response = marketer_client.post(reverse("mailing:resume", args=[mailing.pk]), follow=True)
    body = response.content.decode()
    assert "Only a paused mailing can be resumed; this one is cancelled." in body
    assert status_of(mailing) == "cancelled" and callbacks == []
    response = marketer_client.post(
        reverse("mailing:resume", args=[mailing.pk]), HTTP_HX_REQUEST="true"
    )
    assert 'class="message message-error"' in response.content.decode()


@pytest.mark.parametrize("name", ["mailing:pause", "mailing:resume", "mailing:cancel"])
def test_the_controls_reject_get(marketer_client, mailing, name):
    assert marketer_client.get(reverse(name, args=[mailing.pk])).status_code == 405
    assert status_of(mailing) == "sending"


@pytest.mark.parametrize("name", ["mailing:pause", "mailing:resume", "mailing:cancel"])
def test_the_controls_require_login(stranger_client, mailing, name):
    response = stranger_client.post(reverse(name, args=[mailing.pk]))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))
    assert status_of(mailing) == "sending"


def test_an_unknown_mailing_is_404(marketer_client):
    assert marketer_client.post(reverse("mailing:cancel", args=[999999])).status_code == 404
