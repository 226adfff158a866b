"""Audit records appended from one JSON array (core/audit.py): the rows of a batch go to
PostgreSQL as one jsonb value, not as ten arrays of one column each. asyncpg checks every
element of an array it encodes against the abstract collection types: ~60 µs of the server's
CPU for a batch of five records (measured alone), about 4 % of a case detail's at size M.
Each record follows the one before it in the chain exactly as in migration 0012's function,
which this one replaces. That function is left in place: servers still running the code
before this migration append through it until they are restarted (a rolling update). A later
migration may drop it once no such server is left."""

from tortoise import migrations
from tortoise.migrations import operations as ops

# Each record: [at, actor_id, actor, action, target_type, target_id, jurisdiction,
# request_id, detail, hashed text].
FUNCTION = """
CREATE FUNCTION audit_append_records(lock_key bigint, genesis text, records jsonb)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    last text;
    r jsonb;
BEGIN
    PERFORM pg_advisory_xact_lock(lock_key);
    last := coalesce((SELECT a.hash FROM audit_record a ORDER BY a.id DESC LIMIT 1), genesis);
    FOR r IN SELECT e.value FROM jsonb_array_elements(records) WITH ORDINALITY e
             ORDER BY e.ordinality LOOP
        INSERT INTO audit_record (at, actor_id, actor, action, target_type, target_id,
                                  jurisdiction, request_id, detail, prev_hash, hash)
        VALUES ((r->>0)::timestamptz, (r->>1)::integer, r->>2, r->>3, r->>4, r->>5, r->>6,
                r->>7, r->8, last, encode(sha256(convert_to(last || (r->>9), 'UTF8')), 'hex'))
        RETURNING hash INTO last;
    END LOOP;
END $$"""


class Migration(migrations.Migration):
    dependencies = [('models', '0016_refresh_token_expiry')]

    initial = False

    operations = [
        ops.RunSQL(FUNCTION,
                   reverse_sql="DROP FUNCTION audit_append_records(bigint, text, jsonb)"),
    ]
