"""Indexes for the filters the API offers, and the audit trail made append-only in the
database."""

from tortoise import migrations
from tortoise.migrations import operations as ops

APPEND_ONLY = """
CREATE FUNCTION audit_record_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_record is append-only';
END $$;
"""


class Migration(migrations.Migration):
    dependencies = [('models', '0001_initial')]

    initial = False

    operations = [
        # Subtree filters are `path = X OR path LIKE 'X.%'`: a pattern index serves the LIKE.
        ops.RunSQL(
            "CREATE INDEX jurisdiction_path_pattern ON jurisdiction (path text_pattern_ops)",
            reverse_sql="DROP INDEX jurisdiction_path_pattern",
        ),
        ops.RunSQL("CREATE INDEX jurisdiction_parent ON jurisdiction (parent_id)",
                   reverse_sql="DROP INDEX jurisdiction_parent"),
        ops.RunSQL("CREATE INDEX account_home ON account (home_id, id)",
                   reverse_sql="DROP INDEX account_home"),
        ops.RunSQL("CREATE INDEX grant_domain_role ON \"grant\" (domain, role)",
                   reverse_sql="DROP INDEX grant_domain_role"),
        ops.RunSQL("CREATE INDEX session_account ON session (account_id)",
                   reverse_sql="DROP INDEX session_account"),
        ops.RunSQL("CREATE INDEX refresh_token_session ON refresh_token (session_id)",
                   reverse_sql="DROP INDEX refresh_token_session"),
        ops.RunSQL("CREATE INDEX api_key_account ON api_key (account_id)",
                   reverse_sql="DROP INDEX api_key_account"),
        ops.RunSQL("CREATE EXTENSION IF NOT EXISTS pg_trgm",
                   reverse_sql="DROP EXTENSION IF EXISTS pg_trgm"),
        # Supervisor search is `name LIKE '%term%'`: a trigram index serves it.
        ops.RunSQL("CREATE INDEX supervisor_name_trgm ON supervisor USING gin (name gin_trgm_ops)",
                   reverse_sql="DROP INDEX supervisor_name_trgm"),
        ops.RunSQL("CREATE INDEX supervisor_by_group ON supervisor (group_id)",
                   reverse_sql="DROP INDEX supervisor_by_group"),
        ops.RunSQL("CREATE INDEX filing_supervisor ON filing (supervisor_id, term_start)",
                   reverse_sql="DROP INDEX filing_supervisor"),
        ops.RunSQL("CREATE INDEX filing_pending ON filing (id) WHERE filed_at IS NULL "
                   "AND revoked_at IS NULL", reverse_sql="DROP INDEX filing_pending"),
        ops.RunSQL("CREATE INDEX endorsement_supervisor ON endorsement (supervisor_id)",
                   reverse_sql="DROP INDEX endorsement_supervisor"),
        ops.RunSQL("CREATE INDEX case_submitted ON supervision_case (jurisdiction_id, submitted_at)",
                   reverse_sql="DROP INDEX case_submitted"),
        ops.RunSQL("CREATE INDEX case_overdue ON supervision_case (due_at) "
                   "WHERE state = 'TRANSFERRED'", reverse_sql="DROP INDEX case_overdue"),
        # R6.3 dispatch: great-circle distance with a GiST index over active supervisors.
        ops.RunSQL(["CREATE EXTENSION IF NOT EXISTS cube",
                    "CREATE EXTENSION IF NOT EXISTS earthdistance"],
                   reverse_sql=["DROP EXTENSION IF EXISTS earthdistance",
                                "DROP EXTENSION IF EXISTS cube"]),
        ops.RunSQL("CREATE INDEX supervisor_location ON supervisor USING gist "
                   "(ll_to_earth(latitude, longitude)) WHERE status = 'ACTIVE'",
                   reverse_sql="DROP INDEX supervisor_location"),
        ops.RunSQL("CREATE INDEX assistance_offering ON assistance_request (next_round_at) "
                   "WHERE state = 'OFFERING'", reverse_sql="DROP INDEX assistance_offering"),
        ops.RunSQL(
            [
                APPEND_ONLY,
                "CREATE TRIGGER audit_record_append_only BEFORE UPDATE OR DELETE ON audit_record "
                "FOR EACH ROW EXECUTE FUNCTION audit_record_append_only()",
            ],
            reverse_sql=[
                "DROP TRIGGER audit_record_append_only ON audit_record",
                "DROP FUNCTION audit_record_append_only()",
            ],
        ),
    ]
