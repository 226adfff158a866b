"""The role the application acts as (`core.db.APP_ROLE`): it reads and writes every table but
can never change or remove an audit record, whatever the trigger of 0002 does."""

from tortoise import migrations
from tortoise.migrations import operations as ops

GRANTS = [
    """DO $$ BEGIN
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'supervisor_app') THEN
            CREATE ROLE supervisor_app NOLOGIN;
        END IF;
    END $$""",
    # The migrating login switches to it (SET ROLE) for the application's connections.
    "GRANT supervisor_app TO CURRENT_USER",
    "GRANT USAGE ON SCHEMA public TO supervisor_app",
    "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO supervisor_app",
    "GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO supervisor_app",
    "ALTER DEFAULT PRIVILEGES IN SCHEMA public "
    "GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO supervisor_app",
    "ALTER DEFAULT PRIVILEGES IN SCHEMA public "
    "GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO supervisor_app",
    "REVOKE UPDATE, DELETE, TRUNCATE ON audit_record FROM supervisor_app",
]


class Migration(migrations.Migration):
    dependencies = [('models', '0003_case_tally')]

    initial = False

    operations = [
        ops.RunSQL(GRANTS, reverse_sql=[
            "ALTER DEFAULT PRIVILEGES IN SCHEMA public "
            "REVOKE ALL ON TABLES FROM supervisor_app",
            "ALTER DEFAULT PRIVILEGES IN SCHEMA public "
            "REVOKE ALL ON SEQUENCES FROM supervisor_app",
            "REVOKE ALL ON ALL TABLES IN SCHEMA public FROM supervisor_app",
            "REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM supervisor_app",
            "REVOKE USAGE ON SCHEMA public FROM supervisor_app",
        ]),
    ]
