"""Bounces and complaints: ESP tracking webhooks and bounce lists.

See docs/design.md#bounces-and-complaints.

Two ways in, one service:

* django-anymail's tracking webhooks (routes in ``mailing/webhook_urls.py``,
  e.g. ``POST /webhooks/postmark/tracking/``, secured with the basic auth of
  ``ANYMAIL["WEBHOOK_SECRET"]``) send the ``anymail.signals.tracking`` signal;
  :func:`on_tracking_event` (connected in ``MailingConfig.ready()``) maps the
  event to a kind and calls :func:`bounce_record`.
* ``manage.py import_bounces FILE.csv`` for providers without webhooks.

Mapping of anymail's normalised ``AnymailTrackingEvent`` to a kind:

======================================  ==========================================
anymail event                           kind
======================================  ==========================================
``event_type == "complained"``          complaint: contact marked bounced
``event_type == "bounced"``             hard bounce: contact marked bounced …
  … unless the ESP's raw event says     … soft bounce (anymail reports some soft
  the bounce was soft (see              bounces as "bounced" with no flag of its
  :func:`_esp_says_soft`)               own: Postmark ``Type: SoftBounce``, Brevo
                                        ``soft_bounce``, Mandrill ``soft_bounce``,
                                        MailerSend ``soft_bounced``, SparkPost
                                        bounce classes 20–24 and 70)
``event_type == "deferred"``            soft bounce (temporary failure: Postmark
                                        ``Transient``/``DnsError``, Mailgun
                                        temporary failures, SendGrid
                                        ``deferred``, SparkPost ``delay``, …),
                                        except Postmark ``OpenRelayTest``, which is
                                        a probe by the receiver, not a failure
anything else (delivered, opened,       ignored, not recorded. ``rejected`` is
clicked, rejected, autoresponded,       the ESP refusing to send (often its own
unsubscribed, unknown…)                 suppression list), not a bounce from the
                                        recipient's server.
======================================  ==========================================

A hard bounce or a complaint marks the contact bounced; a soft bounce adds one
to ``soft_bounces`` (soft bounces in a row) and the third marks the contact
bounced. Resetting the streak on a successful delivery is out of scope: the
counter only grows until someone clears it.

Some ESPs report every retry of one message as a new deferral, each with its own
event id; a greylisting server must not make three "soft bounces" out of one
message, so a soft bounce counts at most once per message id when the event has
one (a second ``TrackingEvent`` row keyed by the message id).
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import logging

from django.db import connection, transaction
from django.db.models import Case, F, Q, QuerySet, Value, When
from django.db.models.functions import Least, Lower
from django.db.models.lookups import Exact
from django.utils import timezone

from contacts.changes import change_cause
from contacts.models import Contact

from .models import TrackingEvent

logger = logging.getLogger(__name__)

HARD = "hard"
COMPLAINT = "complaint"
SOFT = "soft"
KINDS = (HARD, COMPLAINT, SOFT)

#: Soft bounces in a row that mark a contact bounced.
SOFT_BOUNCE_LIMIT = 3
# soft_bounces is a PositiveSmallIntegerField: stop counting well below its limit.
_SOFT_BOUNCES_CAP = 1000


class Outcome(enum.Enum):
    DUPLICATE = "duplicate"  # event id seen before: nothing changed
    UNKNOWN = "unknown"  # no contact has this email (the event is still recorded)
    BOUNCED = "bounced"  # the contact is now bounced
    SOFT_COUNTED = "soft_counted"  # a soft bounce counted, not yet the limit


def _event_key(value: str) -> str:
    """An id that fits TrackingEvent.event_id (255 characters)."""
    if len(value) <= 255:
        return value
    return "sha256:" + hashlib.sha256(value.encode()).hexdigest()


def _record_once(event_id: str, event_type: str, email: str) -> bool:
    """Insert the TrackingEvent; False if that id was already recorded.

    ON CONFLICT DO NOTHING: a concurrent duplicate waits for the first insert's
    transaction and then inserts nothing, so each id is applied exactly once.
    """
    table = connection.ops.quote_name(TrackingEvent._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (event_id, event_type, email, received_at)"
            " VALUES (%s, %s, %s, %s) ON CONFLICT (event_id) DO NOTHING RETURNING id",
            [_event_key(event_id), event_type[:50], email[:254], timezone.now()],
        )
        return cursor.fetchone() is not None


def apply_bounce(
    *, email: str, kind: str, event_id: str | None, message_id: str | None = None
) -> Outcome:
    """Apply one bounce or complaint; see the module docstring for the rules.

    ``event_id`` None means no deduplication (nothing recorded). ``message_id``
    (optional) makes soft bounces count once per message.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    email = (email or "").strip()
    # Case-insensitive, on the expression of the unique index contact_email_ci_unique.
    contact = Contact.objects.filter(Exact(Lower("email"), Lower(Value(email))))
    with transaction.atomic():
        if event_id is not None and not _record_once(event_id, kind, email):
            return Outcome.DUPLICATE
        if (
            kind == SOFT
            and message_id
            and not _record_once(f"soft-bounce:{message_id}:{email.lower()}", kind, email)
        ):
            # Another soft bounce of the same message was already counted.
            return Outcome.SOFT_COUNTED if contact.exists() else Outcome.UNKNOWN
        now = timezone.now()
        with change_cause("bounce"):
            changed = _bounce(contact, kind, now)
        if not changed:
            return Outcome.UNKNOWN
        if kind == SOFT and not contact.filter(is_bounced=True).exists():
            return Outcome.SOFT_COUNTED
        return Outcome.BOUNCED


def _bounce(contact: QuerySet[Contact], kind: str, now: dt.datetime) -> int:
    """The contact's UPDATE for one bounce; how many rows it changed."""
    if kind == SOFT:
        # One statement: the row lock serialises concurrent soft bounces and
        # the right-hand sides read the row as it is before this update.
        return contact.update(
            soft_bounces=Least(F("soft_bounces") + 1, Value(_SOFT_BOUNCES_CAP)),
            is_bounced=Case(
                When(
                    Q(is_bounced=True) | Q(soft_bounces__gte=SOFT_BOUNCE_LIMIT - 1),
                    then=Value(True),
                ),
                default=Value(False),
            ),
            updated_at=now,
        )
    return contact.update(is_bounced=True, updated_at=now)


def bounce_record(*, email: str, kind: str, event_id: str | None) -> bool:
    """Apply a bounce (``kind`` is "hard", "complaint" or "soft").

    True when it changed a contact; False for a repeated event id or an email no
    contact has (the event is recorded all the same, so a repeat stays a no-op).
    """
    return apply_bounce(email=email, kind=kind, event_id=event_id) in (
        Outcome.BOUNCED,
        Outcome.SOFT_COUNTED,
    )


# --- anymail ---------------------------------------------------------------

_SPARKPOST_SOFT_CLASSES = {"20", "21", "22", "23", "24", "70"}


def _esp_says_soft(esp_name: str, esp_event) -> bool:
    """Whether the ESP's raw event marks an anymail "bounced" event as soft."""
    if not isinstance(esp_event, dict):
        return False
    esp = (esp_name or "").lower().replace(" ", "")
    if esp == "postmark":
        return esp_event.get("Type") == "SoftBounce"
    if esp in ("brevo", "sendinblue"):
        return esp_event.get("event") == "soft_bounce"
    if esp == "mandrill":
        return esp_event.get("event") == "soft_bounce"
    if esp == "mailersend":
        data = esp_event.get("data")
        return isinstance(data, dict) and data.get("type") == "soft_bounced"
    if esp == "sparkpost":
        msys = esp_event.get("msys")
        inner: object = next(iter(msys.values()), {}) if isinstance(msys, dict) and msys else {}
        return isinstance(inner, dict) and str(inner.get("bounce_class")) in (
            _SPARKPOST_SOFT_CLASSES
        )
    return False


def kind_of(event, esp_name: str) -> str | None:
    """The kind of an ``AnymailTrackingEvent``, or None when it is not a bounce."""
    if event.event_type == "complained":
        return COMPLAINT
    if event.event_type == "bounced":
        return SOFT if _esp_says_soft(esp_name, event.esp_event) else HARD
    if event.event_type == "deferred":
        esp_event = event.esp_event if isinstance(event.esp_event, dict) else {}
        if (esp_name or "").lower() == "postmark" and esp_event.get("Type") == "OpenRelayTest":
            return None
        return SOFT
    return None


def tracking_event_problem(event) -> str | None:
    """Why a tracking event parsed from a webhook body is not one the ESP sends, or None.

    The webhook answers 400 and applies nothing of the request (mailing/webhook_urls.py):
    anymail turns an object without the ESP's keys into an "unknown" event with no
    recipient, and a bounce whose address is missing or not text cannot be applied.
    """
    recipient = event.recipient
    if recipient is not None and not isinstance(recipient, str):
        return "has a recipient that is not an email address"
    if event.event_type == "unknown" and not recipient:
        return "is not one this ESP sends (no known event type and no recipient)"
    if not recipient and kind_of(event, "") is not None:
        return f"is a {event.event_type} event without the recipient's address"
    return None


def on_tracking_event(sender, event, esp_name, **kwargs) -> None:
    """Receiver of ``anymail.signals.tracking``."""
    kind = kind_of(event, esp_name)
    if kind is None or not event.recipient:
        return
    event_id = f"{esp_name}:{event.event_id}" if event.event_id else None
    message_id = f"{esp_name}:{event.message_id}" if event.message_id else None
    outcome = apply_bounce(
        email=event.recipient, kind=kind, event_id=event_id, message_id=message_id
    )
    logger.info(
        "%s %s bounce for %s (event %s): %s",
        esp_name,
        kind,
        event.recipient,
        event.event_id,
        outcome.value,
    )
