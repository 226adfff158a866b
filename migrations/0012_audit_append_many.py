"""Audit records appended several at a time (core/audit.py): the lone records of concurrent
requests (reads that disclose a reporter, R4.4) wait for one another and go in one statement,
so the chain's lock and the commit's flush are taken once for all of them instead of once each.
Each record follows the one before it in the chain as one appended alone would. The function
of migration 0009, which appended one record, is replaced: a single record is a batch of
one."""

import importlib

from tortoise import migrations
from tortoise.migrations import operations as ops

FUNCTION = """
CREATE FUNCTION audit_append_many(
    lock_key bigint, genesis text, ats timestamptz[], actor_ids integer[], actors varchar[],
    actions varchar[], target_types varchar[], target_ids varchar[], jurisdictions varchar[],
    request_ids varchar[], details text[], bodies text[]) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    last text;
BEGIN
    PERFORM pg_advisory_xact_lock(lock_key);
    last := coalesce((SELECT r.hash FROM audit_record r ORDER BY r.id DESC LIMIT 1), genesis);
    FOR i IN 1 .. coalesce(array_length(ats, 1), 0) LOOP
        INSERT INTO audit_record (at, actor_id, actor, action, target_type, target_id,
                                  jurisdiction, request_id, detail, prev_hash, hash)
        VALUES (ats[i], actor_ids[i], actors[i], actions[i], target_types[i], target_ids[i],
                jurisdictions[i], request_ids[i], details[i]::jsonb, last,
                encode(sha256(convert_to(last || bodies[i], 'UTF8')), 'hex'))
        RETURNING hash INTO last;
    END LOOP;
END $$"""
SIGNATURE = ("audit_append_many(bigint, text, timestamptz[], integer[], varchar[], varchar[], "
             "varchar[], varchar[], varchar[], varchar[], text[], text[])")
ONE = ("audit_append(bigint, text, timestamptz, integer, varchar, varchar, varchar, varchar, "
       "varchar, varchar, jsonb, text)")


class Migration(migrations.Migration):
    dependencies = [('models', '0011_case_tally_at_commit')]

    initial = False

    operations = [
        ops.RunSQL(FUNCTION, reverse_sql=f"DROP FUNCTION {SIGNATURE}"),
        ops.RunSQL(f"DROP FUNCTION {ONE}",
                   reverse_sql=importlib.import_module("migrations.0009_audit_append").FUNCTION),
    ]
