"""Refresh tokens by expiry: what the daily purge of sign-ins nothing can use any more reads
(core/accounts/service.py)."""

from tortoise import migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [('models', '0015_staged_uploads')]

    initial = False

    operations = [
        ops.RunSQL("CREATE INDEX refresh_token_expires_at ON refresh_token (expires_at)",
                   reverse_sql="DROP INDEX refresh_token_expires_at"),
    ]
