"""The lifecycle-stage index becomes (lifecycle_stage, last_interacted_at): it still
answers stage rules alone, and a stage ANDed with a last-interaction range is one
index condition. Built before the old one is dropped, neither blocking writes."""

from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False  # CREATE/DROP INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [
        ("contacts", "0012_lifecycle_stage_index"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="contact",
            index=models.Index(
                fields=["lifecycle_stage", "last_interacted_at"], name="contact_stage_last_int_idx"
            ),
        ),
        RemoveIndexConcurrently(model_name="contact", name="contact_lifecycle_stage_idx"),
    ]
