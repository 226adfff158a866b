"""Indexes on the foreign keys that had none. Found at size L (1,000,000 supervisors): finding
the supervisor of a signed-in account read the whole table, so submitCase slowed from ~50 to
~4 per second between sizes M and L."""

from tortoise import migrations
from tortoise.migrations import operations as ops

FOREIGN_KEYS = [
    ("supervisor", "account_id"),
    ("agency_staff", "account_id"),
    ("agency_staff", "agency_id"),
    ("activity", "group_id"),
    ("activity_target", "agency_id"),
    ("application", "nominated_by_id"),
    ("application", "supervisor_id"),
    ("assessment_result", "supervisor_id"),
    ("assistance_request", "accepted_by_id"),
    ("assistance_request", "requester_id"),
    ("supervision_case", "contact_firm_id"),
    ("attachment", "assistance_id"),
    ("case_disclosure", "agency_id"),
    ("supervision_order", "issued_by_id"),
]


class Migration(migrations.Migration):
    dependencies = [('models', '0004_application_role')]

    initial = False

    operations = [
        ops.RunSQL(f"CREATE INDEX {table}_{column} ON {table} ({column})",
                   reverse_sql=f"DROP INDEX {table}_{column}")
        for table, column in FOREIGN_KEYS
    ]
