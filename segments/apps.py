from django.apps import AppConfig


class SegmentsConfig(AppConfig):
    name = "segments"

    def ready(self) -> None:
        # The contacts list (and its bulk actions and export) filters by a segment
        # through this; contacts cannot import segments (docs/design.md#import-direction).
        from contacts import selectors

        from .selectors import SegmentLookup

        selectors.segment_lookup = SegmentLookup()

        # Each Celery worker listens for contact writes and settles membership.
        from celery.signals import worker_ready

        from .listen import start_listener

        worker_ready.connect(start_listener, weak=False)
