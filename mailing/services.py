"""Writes for mailings: create one, and pause, resume or cancel it.

The worker's side (writing recipients, claiming, sending, recording) is in
`mailing.recipients` and `mailing.sending` (docs/design.md#sending)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from segments.models import ContactSegment
from segments.selectors import Audience

from .addresses import validate_from_address
from .models import Mailing
from .stops import announce_stop

logger = logging.getLogger(__name__)


class NobodyReachable(Exception):
    """Every contact the segment matches is bounced or unsubscribed, or it matches none."""

    def __init__(self) -> None:
        super().__init__("Nobody in this segment can receive a mailing right now.")


def ensure_reachable(audience: Audience) -> None:
    """The rule the dashboard's Send and the API's send both apply before creating one."""
    if audience.reachable == 0:
        raise NobodyReachable


@transaction.atomic
def mailing_create(
    *,
    segment: ContactSegment,
    subject: str,
    body: str,
    user: User | None,
    from_email: str = "",
    body_format: str = Mailing.Format.TEXT,
) -> Mailing:
    """A queued mailing; its recipients are written by a task after this commits."""
    mailing = Mailing(
        segment=segment,
        subject=subject.strip(),
        body=body,
        body_format=body_format,
        from_email=validate_from_address(from_email or settings.DEFAULT_FROM_EMAIL),
        status=Mailing.Status.QUEUED,
        created_by=user,
    )
    mailing.full_clean()
    mailing.save()
    from .tasks import mailing_materialize

    # Never before the row exists for the worker to read.
    transaction.on_commit(lambda: mailing_materialize.delay(mailing.pk))
    return mailing


# -- controls: pause, resume, cancel ---------------------------------------------
#
# Each is one conditional UPDATE … WHERE status IN (…) whose row count says whether
# it applied: pressing a button twice, or at the moment a worker finishes the
# mailing, changes nothing and is reported as such. The claim query only hands out
# rows of a mailing whose status is `sending`; a batch in flight hears a pause or
# cancel before its next message (mailing.stops).

PAUSABLE = (Mailing.Status.SENDING,)
RESUMABLE = (Mailing.Status.PAUSED,)
CANCELLABLE = (Mailing.Status.QUEUED, Mailing.Status.SENDING, Mailing.Status.PAUSED)


def _transition(mailing: Mailing, *, source: tuple[str, ...], target: str) -> bool:
    changed = Mailing.objects.filter(pk=mailing.pk, status__in=source).update(
        status=target, updated_at=timezone.now()
    )
    mailing.refresh_from_db(fields=["status", "updated_at"])
    return changed > 0


def _stop(mailing: Mailing, *, source: tuple[str, ...], target: str) -> bool:
    stopped = _transition(mailing, source=source, target=target)
    if stopped:  # once committed: before that, a worker would still see `sending`
        mailing_id = mailing.pk
        transaction.on_commit(lambda: announce_stop(mailing_id))
    return stopped


@transaction.atomic
def mailing_pause(*, mailing: Mailing) -> bool:
    """sending → paused; True if it was sending. No new message starts after it."""
    return _stop(mailing, source=PAUSABLE, target=Mailing.Status.PAUSED)


@transaction.atomic
def mailing_resume(*, mailing: Mailing) -> bool:
    """paused → sending, and a send task once that is committed; True if it was paused."""
    resumed = _transition(mailing, source=RESUMABLE, target=Mailing.Status.SENDING)
    if resumed:
        from .tasks import mailing_send

        mailing_id = mailing.pk
        transaction.on_commit(lambda: mailing_send.delay(mailing_id))
    return resumed


@transaction.atomic
def mailing_cancel(*, mailing: Mailing) -> bool:
    """queued/sending/paused → cancelled; its pending deliveries stay pending, unsent.

    A queued mailing's recipients may still be written afterwards by its
    materialize task; that task leaves the status alone unless it is `queued`,
    and nothing claims rows of a cancelled mailing. No new message starts after it.
    """
    return _stop(mailing, source=CANCELLABLE, target=Mailing.Status.CANCELLED)
