"""A journal of the writes that can move contacts in or out of segments.

Statement triggers with transition tables (one row per statement, whatever its
size) on the contact table and the group links; tag links already reach the
contact table through tag_ids (migration 0003). An UPDATE is journalled only for
the rows whose rule-readable columns changed, naming those columns. Each journal
write also NOTIFYs `flock_contacts_changed`, which PostgreSQL delivers once per
transaction, at commit (segments/listen.py)."""

import django.contrib.postgres.fields
import django.utils.timezone
from django.db import migrations, models

# The columns the rule language reads (segments/rules/fields.py); a write that
# changes none of them (updated_at, soft_bounces) moves nobody.
COLUMNS = [
    "email", "first_name", "last_name", "full_name", "company", "job_title", "country",
    "city", "source", "lead_score", "lifecycle_stage", "last_interacted_at", "created_at",
    "is_bounced", "is_unsubscribed", "custom_fields", "tag_ids",
]  # fmt: skip
# Above this many contacts a statement journals "every contact" (NULL) instead of ids.
MAX_IDS = 100_000

changed_columns = ",\n           ".join(
    f"CASE WHEN bool_or(o.{c} IS DISTINCT FROM n.{c}) THEN '{c}' END" for c in COLUMNS
)
old_row = ", ".join(f"o.{c}" for c in COLUMNS)
new_row = ", ".join(f"n.{c}" for c in COLUMNS)

TRIGGERS = f"""
CREATE OR REPLACE FUNCTION flock_change_cause() RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT coalesce(nullif(current_setting('flock.change_cause', true), ''), 'dashboard')
$$;

-- New and deleted contacts: every column.
CREATE OR REPLACE FUNCTION flock_contacts_written() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO contacts_contactchange (contact_ids, fields, cause, created_at)
    SELECT CASE WHEN count(*) > {MAX_IDS} THEN NULL ELSE array_agg(id) END,
           '{{*}}', flock_change_cause(), now()
      FROM written HAVING count(*) > 0;
    IF FOUND THEN PERFORM pg_notify('flock_contacts_changed', ''); END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION flock_contacts_updated() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO contacts_contactchange (contact_ids, fields, cause, created_at)
    SELECT CASE WHEN count(*) > {MAX_IDS} THEN NULL ELSE array_agg(n.id) END,
           array_remove(ARRAY[
           {changed_columns}
           ], NULL),
           flock_change_cause(), now()
      FROM old_rows o JOIN new_rows n ON n.id = o.id
     WHERE ({old_row}) IS DISTINCT FROM ({new_row})
    HAVING count(*) > 0;
    IF FOUND THEN PERFORM pg_notify('flock_contacts_changed', ''); END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION flock_group_links_written() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO contacts_contactchange (contact_ids, fields, cause, created_at)
    SELECT CASE WHEN count(*) > {MAX_IDS} THEN NULL ELSE array_agg(DISTINCT contact_id) END,
           '{{groups}}', flock_change_cause(), now()
      FROM written HAVING count(*) > 0;
    IF FOUND THEN PERFORM pg_notify('flock_contacts_changed', ''); END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER flock_contacts_inserted AFTER INSERT ON contacts_contact
    REFERENCING NEW TABLE AS written
    FOR EACH STATEMENT EXECUTE FUNCTION flock_contacts_written();
CREATE TRIGGER flock_contacts_deleted AFTER DELETE ON contacts_contact
    REFERENCING OLD TABLE AS written
    FOR EACH STATEMENT EXECUTE FUNCTION flock_contacts_written();
CREATE TRIGGER flock_contacts_updated AFTER UPDATE ON contacts_contact
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION flock_contacts_updated();
CREATE TRIGGER flock_group_links_inserted AFTER INSERT ON contacts_groupmembership
    REFERENCING NEW TABLE AS written
    FOR EACH STATEMENT EXECUTE FUNCTION flock_group_links_written();
CREATE TRIGGER flock_group_links_deleted AFTER DELETE ON contacts_groupmembership
    REFERENCING OLD TABLE AS written
    FOR EACH STATEMENT EXECUTE FUNCTION flock_group_links_written();
"""

DROP = """
DROP TRIGGER flock_contacts_inserted ON contacts_contact;
DROP TRIGGER flock_contacts_deleted ON contacts_contact;
DROP TRIGGER flock_contacts_updated ON contacts_contact;
DROP TRIGGER flock_group_links_inserted ON contacts_groupmembership;
DROP TRIGGER flock_group_links_deleted ON contacts_groupmembership;
DROP FUNCTION flock_contacts_written();
DROP FUNCTION flock_contacts_updated();
DROP FUNCTION flock_group_links_written();
DROP FUNCTION flock_change_cause();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("contacts", "0013_stage_last_interacted_index"),
    ]

    operations = [
        migrations.CreateModel(
            name="ContactChange",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("contact_ids", django.contrib.postgres.fields.ArrayField(base_field=models.BigIntegerField(), help_text="The contacts written; empty (NULL) when too many to list: every contact.", null=True, size=None)),
                ("fields", django.contrib.postgres.fields.ArrayField(base_field=models.CharField(max_length=40), help_text="The contact columns that changed ('groups' for group links, '*' for a new or deleted contact).", size=None)),
                ("cause", models.CharField(help_text="Who wrote: api, import, dashboard, …", max_length=16)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
            ],
        ),
        migrations.RunSQL(TRIGGERS, DROP),
    ]
