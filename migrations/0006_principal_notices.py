"""Notices for the in-process principal cache (core/accounts/principals.py): whenever a session
is revoked, an account deactivated, renamed or moved, or an API key revoked (or rows of them
removed), the changing transaction notifies channel `principal` on commit, so every process
forgets the principals it keeps, whoever made the change (the application or an operator)."""

from tortoise import migrations
from tortoise.migrations import operations as ops

WATCHED = {
    "session": "UPDATE OF revoked_at OR DELETE OR TRUNCATE",
    "account": "UPDATE OF is_active, username, kind, home_id OR DELETE OR TRUNCATE",
    "api_key": "UPDATE OF revoked_at OR DELETE OR TRUNCATE",
}
FUNCTION = """CREATE OR REPLACE FUNCTION principal_changed() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('principal', TG_TABLE_NAME);
    RETURN NULL;
END $$ LANGUAGE plpgsql"""


class Migration(migrations.Migration):
    dependencies = [('models', '0005_foreign_key_indexes')]

    initial = False

    operations = [
        ops.RunSQL(FUNCTION, reverse_sql="DROP FUNCTION principal_changed()"),
        *(ops.RunSQL(f"CREATE TRIGGER {table}_principal_changed AFTER {events} ON {table} "
                     "FOR EACH STATEMENT EXECUTE FUNCTION principal_changed()",
                     reverse_sql=f"DROP TRIGGER {table}_principal_changed ON {table}")
          for table, events in WATCHED.items()),
    ]
