"""SQL helpers for custom-field rules (docs/design.md#custom-fields).

Comparing a JSON value as a number or a date must never raise (a contact whose
`seats` is "lots" simply does not match `seats gte 10`), and PostgreSQL does
not promise to evaluate `jsonb_typeof(v) = 'number' AND (v #>> '{}')::numeric > 10`
left to right. These functions do the type check first and return NULL for
anything else, without exception blocks (which would cost a subtransaction
per row).
"""

from django.db import migrations

FUNCTIONS = r"""
CREATE OR REPLACE FUNCTION flock_jsonb_number(value jsonb) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN jsonb_typeof(value) = 'number' THEN value::numeric END
$$;

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

DROP = """
DROP FUNCTION IF EXISTS flock_jsonb_number(jsonb);
DROP FUNCTION IF EXISTS flock_jsonb_timestamp(jsonb);
"""


class Migration(migrations.Migration):
    dependencies = [("contacts", "0001_initial")]
    operations = [migrations.RunSQL(FUNCTIONS, DROP)]
