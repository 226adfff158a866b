"""The role the application acts as (`core.db.APP_ROLE`): it reads and writes every table but
can never change or remove an audit record, whatever the trigger of 0002 does. The statements
are `core.db.APP_ROLE_GRANTS`, which every migrate asserts again."""

from tortoise import migrations
from tortoise.migrations import operations as ops

from core.db import APP_ROLE_GRANTS as GRANTS


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
