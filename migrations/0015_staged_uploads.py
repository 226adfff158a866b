"""The uploads still staged (no case, no assistance report), by when they came: what the
hourly purge of those nothing took reads (core/cases/attachments.py)."""

from tortoise import migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [('models', '0014_agency_staff_notices')]

    initial = False

    operations = [
        ops.RunSQL("CREATE INDEX attachment_staged_uploaded_at ON attachment (uploaded_at) "
                   "WHERE case_id IS NULL AND assistance_id IS NULL",
                   reverse_sql="DROP INDEX attachment_staged_uploaded_at"),
    ]
