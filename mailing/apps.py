from django.apps import AppConfig


class MailingConfig(AppConfig):
    name = "mailing"

    def ready(self) -> None:
        from anymail.signals import inbound, tracking

        from .bounces import on_tracking_event
        from .unsubscribe import on_inbound_mail

        # Bounces and complaints from ESP webhooks (mailing/bounces.py).
        tracking.connect(on_tracking_event, dispatch_uid="mailing.bounces.on_tracking_event")
        # Mail to FLOCK_UNSUBSCRIBE_MAILTO (the List-Unsubscribe mailto) from inbound webhooks.
        inbound.connect(on_inbound_mail, dispatch_uid="mailing.unsubscribe.on_inbound_mail")
