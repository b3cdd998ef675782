"""Safer tag_ids upkeep; ASCII digits in flock_jsonb_timestamp().

- tag_ids is now changed incrementally from the row PostgreSQL re-reads after a
  concurrent writer commits (READ COMMITTED re-checks the row an UPDATE waited
  for), so two transactions tagging the same contact cannot lose a tag, which
  rebuilding the array from a statement's snapshot could.
- flock_jsonb_timestamp() matches ASCII digits only ([0-9], not \\d).
"""

from django.db import migrations

SQL = r"""
CREATE OR REPLACE FUNCTION flock_tag_ids_add() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('flock.tag_ids_written', true) = 'on' THEN
        RETURN NULL;
    END IF;
    UPDATE contacts_contact AS c
       SET tag_ids = ARRAY(SELECT DISTINCT t FROM unnest(c.tag_ids || added.ids) AS t ORDER BY t)
      FROM (SELECT contact_id, array_agg(tag_id) AS ids
              FROM changed_links GROUP BY contact_id) AS added
     WHERE c.id = added.contact_id;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION flock_tag_ids_remove() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('flock.tag_ids_written', true) = 'on' THEN
        RETURN NULL;
    END IF;
    UPDATE contacts_contact AS c
       SET tag_ids = ARRAY(SELECT t FROM unnest(c.tag_ids) AS t
                           WHERE t <> ALL (removed.ids) ORDER BY t)
      FROM (SELECT contact_id, array_agg(tag_id) AS ids
              FROM changed_links GROUP BY contact_id) AS removed
     WHERE c.id = removed.contact_id;
    RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS flock_tag_ids_insert ON contacts_contacttag;
DROP TRIGGER IF EXISTS flock_tag_ids_delete ON contacts_contacttag;
DROP TRIGGER IF EXISTS flock_tag_ids_update_old ON contacts_contacttag;
DROP TRIGGER IF EXISTS flock_tag_ids_update_new ON contacts_contacttag;
DROP FUNCTION IF EXISTS flock_refresh_tag_ids();

CREATE TRIGGER flock_tag_ids_insert AFTER INSERT ON contacts_contacttag
    REFERENCING NEW TABLE AS changed_links
    FOR EACH STATEMENT EXECUTE FUNCTION flock_tag_ids_add();
CREATE TRIGGER flock_tag_ids_delete AFTER DELETE ON contacts_contacttag
    REFERENCING OLD TABLE AS changed_links
    FOR EACH STATEMENT EXECUTE FUNCTION flock_tag_ids_remove();
-- Same-event triggers fire in name order: take the old links off, then add the new.
CREATE TRIGGER flock_tag_ids_update_1_old AFTER UPDATE ON contacts_contacttag
    REFERENCING OLD TABLE AS changed_links
    FOR EACH STATEMENT EXECUTE FUNCTION flock_tag_ids_remove();
CREATE TRIGGER flock_tag_ids_update_2_new AFTER UPDATE ON contacts_contacttag
    REFERENCING NEW TABLE AS changed_links
    FOR EACH STATEMENT EXECUTE FUNCTION flock_tag_ids_add();

CREATE OR REPLACE FUNCTION flock_jsonb_timestamp(value jsonb) RETURNS timestamptz
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    parts text[];
    y int; m int; d int; hh int := 0; mi int := 0; ss numeric := 0;
    day_start date;
    stamp timestamptz;
BEGIN
    IF jsonb_typeof(value) IS DISTINCT FROM 'string' THEN
        RETURN NULL;
    END IF;
    -- YYYY-MM-DD, optionally [T ]HH:MM[:SS[.ffffff]] and Z or ±HH[:MM].
    parts := regexp_match(
        value #>> '{}',
        '^([0-9]{4})-([0-9]{2})-([0-9]{2})(?:[T ]([0-9]{2}):([0-9]{2})(?::([0-9]{2}(?:\.[0-9]{1,6})?))?(Z|[+-][0-9]{2}(?::?[0-9]{2})?)?)?$'
    );
    IF parts IS NULL THEN
        RETURN NULL;
    END IF;
    y := parts[1]::int; m := parts[2]::int; d := parts[3]::int;
    IF y < 1 OR m NOT BETWEEN 1 AND 12 OR d NOT BETWEEN 1 AND 31 THEN
        RETURN NULL;
    END IF;
    day_start := make_date(y, m, 1) + (d - 1);
    IF extract(month FROM day_start) <> m THEN  -- 2026-02-30 and the like
        RETURN NULL;
    END IF;
    IF parts[4] IS NOT NULL THEN
        hh := parts[4]::int; mi := parts[5]::int; ss := coalesce(parts[6]::numeric, 0);
        IF hh > 23 OR mi > 59 OR ss >= 60 THEN
            RETURN NULL;
        END IF;
    END IF;
    stamp := (day_start + make_interval(hours => hh, mins => mi, secs => ss))::timestamp
             AT TIME ZONE 'UTC';
    IF parts[7] IS NOT NULL AND parts[7] <> 'Z' THEN
        -- "+02:00" means the wall clock is 2 hours ahead of UTC.
        stamp := stamp - (CASE WHEN left(parts[7], 1) = '-' THEN -1 ELSE 1 END)
                 * make_interval(hours => substr(parts[7], 2, 2)::int,
                                 mins => coalesce(nullif(right(replace(parts[7], ':', ''), 2), ''), '0')::int
                                         * (length(replace(parts[7], ':', '')) > 3)::int);
    END IF;
    RETURN stamp;
END
$$;
"""

REVERSE = migrations.RunSQL.noop


class Migration(migrations.Migration):
    dependencies = [("contacts", "0005_drop_source_trigram")]
    operations = [migrations.RunSQL(SQL, REVERSE)]
