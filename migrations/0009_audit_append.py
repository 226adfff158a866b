"""The audit append as one statement (core/audit.py): the function takes the chain's lock and
inserts the record after its predecessor. Each statement of a volatile function reads a new
snapshot, so the insert sees a predecessor committed while it waited for the lock. A lone
append (a read that discloses a reporter, R4.4) then needs no transaction of its own, and an
append inside one holds the lock from here to its commit only."""

from tortoise import migrations
from tortoise.migrations import operations as ops

FUNCTION = """
CREATE FUNCTION audit_append(
    lock_key bigint, genesis text, at timestamptz, actor_id integer, actor varchar,
    action varchar, target_type varchar, target_id varchar, jurisdiction varchar,
    request_id varchar, detail jsonb, body text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(lock_key);
    INSERT INTO audit_record (at, actor_id, actor, action, target_type, target_id,
                              jurisdiction, request_id, detail, prev_hash, hash)
    SELECT at, actor_id, actor, action, target_type, target_id, jurisdiction, request_id,
           detail, prev.hash, encode(sha256(convert_to(prev.hash || body, 'UTF8')), 'hex')
    FROM (SELECT coalesce((SELECT r.hash FROM audit_record r ORDER BY r.id DESC LIMIT 1),
                          genesis) AS hash) prev;
END $$"""


class Migration(migrations.Migration):
    dependencies = [('models', '0008_case_tally_total')]

    initial = False

    operations = [
        ops.RunSQL(FUNCTION, reverse_sql="DROP FUNCTION audit_append(bigint, text, timestamptz, "
                                         "integer, varchar, varchar, varchar, varchar, varchar, "
                                         "varchar, jsonb, text)"),
    ]
