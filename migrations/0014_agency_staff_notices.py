"""Notices for the agency staff links kept in process memory (core/agencies/service.py, which
agency an account works for): any change to the table notifies the channel named after it on
commit, whoever makes it, and every process drops what it keeps of it (the function of
migration 0013)."""

from tortoise import migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [('models', '0013_supervisor_agency_notices')]

    initial = False

    operations = [
        ops.RunSQL("CREATE TRIGGER agency_staff_changed "
                   "AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON agency_staff "
                   "FOR EACH STATEMENT EXECUTE FUNCTION table_changed()",
                   reverse_sql="DROP TRIGGER agency_staff_changed ON agency_staff"),
    ]
