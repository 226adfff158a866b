"""Notices for the in-process jurisdiction tree (tenants/directory.py): any change to the
jurisdiction table notifies channel `jurisdiction` on commit, whoever makes it."""

from tortoise import migrations
from tortoise.migrations import operations as ops

FUNCTION = """CREATE OR REPLACE FUNCTION jurisdiction_changed() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('jurisdiction', '');
    RETURN NULL;
END $$ LANGUAGE plpgsql"""


class Migration(migrations.Migration):
    dependencies = [('models', '0006_principal_notices')]

    initial = False

    operations = [
        ops.RunSQL(FUNCTION, reverse_sql="DROP FUNCTION jurisdiction_changed()"),
        ops.RunSQL("CREATE TRIGGER jurisdiction_changed "
                   "AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON jurisdiction "
                   "FOR EACH STATEMENT EXECUTE FUNCTION jurisdiction_changed()",
                   reverse_sql="DROP TRIGGER jurisdiction_changed ON jurisdiction"),
    ]
