from django.apps import AppConfig


class MailingConfig(AppConfig):
    name = "mailing"

    def ready(self) -> None:
        from anymail.signals import tracking

        from .bounces import on_tracking_event

        # Bounces and complaints from ESP webhooks (mailing/bounces.py).
        tracking.connect(on_tracking_event, dispatch_uid="mailing.bounces.on_tracking_event")
