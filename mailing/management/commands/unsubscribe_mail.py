"""``manage.py unsubscribe_mail [FILE]``: act on one mail sent to the unsubscribe address.

For mail servers that deliver to a program, as list managers are usually set up
(e.g. a Postfix alias ``unsubscribe: "|/srv/flock/.venv/bin/python
/srv/flock/manage.py unsubscribe_mail"``): the message is read from FILE or
standard input, and the signed token that the ``List-Unsubscribe`` mailto put in
its subject unsubscribes that contact. ESPs with inbound webhooks need no command:
see ``/webhooks/<esp>/inbound/``.
"""

from __future__ import annotations

import email
import sys
from email import policy
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from mailing.unsubscribe import unsubscribe_by_mail


class Command(BaseCommand):
    help = "Unsubscribe the contact named by an unsubscribe mail (from FILE or standard input)."

    def add_arguments(self, parser):
        parser.add_argument("file", nargs="?", help="an RFC 5322 message; default: stdin")

    def handle(self, *args, file: str | None = None, **options) -> None:
        if file:
            try:
                raw = Path(file).read_bytes()
            except OSError as exc:
                raise CommandError(f"{file}: cannot be read ({exc.strerror or exc}).") from None
        else:
            raw = sys.stdin.buffer.read()
        if not raw.strip():
            raise CommandError("No message given: pipe a mail to this command or name a file.")
        try:
            subject = str(email.message_from_bytes(raw, policy=policy.default)["Subject"] or "")
        except (ValueError, TypeError, IndexError) as exc:  # malformed header encodings
            raise CommandError(f"The message could not be read: {exc}") from None
        result = unsubscribe_by_mail(subject)
        if result is None:
            raise CommandError(
                "No unsubscribe token in the subject. Mails to the unsubscribe address come "
                "from the List-Unsubscribe header, whose subject is 'unsubscribe <token>'."
            )
        contact_id, changed = result
        state = "unsubscribed" if changed else "needed no change (already unsubscribed, or deleted)"
        self.stdout.write(f"Contact {contact_id} {state}.")
