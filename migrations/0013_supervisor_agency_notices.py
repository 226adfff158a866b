"""Notices for the supervisor and agency records kept in process memory (core/kept.py: each
account's supervisor record in core/roster/service.py, agencies in core/agencies/service.py):
any change to either table notifies the channel named after it on commit, whoever makes it,
and every process drops what it keeps of that table."""

from tortoise import migrations
from tortoise.migrations import operations as ops

FUNCTION = """CREATE OR REPLACE FUNCTION table_changed() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify(TG_TABLE_NAME, '');
    RETURN NULL;
END $$ LANGUAGE plpgsql"""
WATCHED = ("supervisor", "agency")


class Migration(migrations.Migration):
    dependencies = [('models', '0012_audit_append_many')]

    initial = False

    operations = [
        ops.RunSQL(FUNCTION, reverse_sql="DROP FUNCTION table_changed()"),
        *(ops.RunSQL(f"CREATE TRIGGER {table}_changed "
                     f"AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
                     "FOR EACH STATEMENT EXECUTE FUNCTION table_changed()",
                     reverse_sql=f"DROP TRIGGER {table}_changed ON {table}")
          for table in WATCHED),
    ]
