"""Create (or reset) the demo login that `make dev` prints."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "flock-demo"


class Command(BaseCommand):
    help = "Create the demo superuser (demo / flock-demo) used by `make dev`."

    def handle(self, *args, **options) -> None:
        user, created = get_user_model().objects.get_or_create(
            username=DEMO_USERNAME, defaults={"email": "demo@flock.localhost"}
        )
        user.is_staff = user.is_superuser = True
        user.set_password(DEMO_PASSWORD)
        user.save()
        verb = "Created" if created else "Reset"
        self.stdout.write(
            self.style.SUCCESS(f"{verb} the demo login: {DEMO_USERNAME} / {DEMO_PASSWORD}")
        )
