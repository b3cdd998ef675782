"""An index on lifecycle_stage, built without blocking writes to a full table."""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [
        ("contacts", "0011_import_job"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="contact",
            index=models.Index(fields=["lifecycle_stage"], name="contact_lifecycle_stage_idx"),
        ),
    ]
