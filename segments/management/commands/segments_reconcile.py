"""Re-check every segment (or one) whole, repair any drift of the materialised
membership and say what changed."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from segments.membership import membership_settle, segment_reconcile
from segments.models import ContactSegment


class Command(BaseCommand):
    help = "Repair segment membership: each segment re-checked against its rules."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--segment", type=int, help="Only this segment (its id).")

    def handle(self, *args, segment: int | None = None, **options) -> None:
        if segment is not None and not ContactSegment.objects.filter(pk=segment).exists():
            raise CommandError(f"There is no segment {segment}; see the ids in the segment list.")
        membership_settle()  # the journal first, so that only real drift is left
        names = dict(ContactSegment.objects.values_list("pk", "name"))
        drifted = 0
        for pk, (entered, left) in segment_reconcile(segment_id=segment).items():
            if entered or left:
                drifted += 1
                self.stdout.write(f"{names[pk]} (#{pk}): {entered} added, {left} removed")
        checked = 1 if segment is not None else len(names)
        self.stdout.write(self.style.SUCCESS(f"{checked} segment(s) checked, {drifted} repaired."))
