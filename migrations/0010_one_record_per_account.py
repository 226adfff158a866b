"""One supervisor and one agency link per account, enforced by the database. The models say
so (`unique=True`), but the first migration created plain indexes: two supervisor records of
one account would make "my record" (own_supervisor, case relations) pick one of them at
random, and an account linked to two agencies would act for either. The unique indexes
replace migration 0005's plain ones on the same columns. Existing duplicates stop the
migration with the accounts named, for an operator to resolve; nothing is deleted here."""

from tortoise import migrations
from tortoise.migrations import operations as ops

LINKS = [("supervisor", "account_id"), ("agency_staff", "account_id")]

CHECK = """
DO $$
DECLARE doubled text;
BEGIN
    SELECT string_agg(DISTINCT {column}::text, ', ') INTO doubled FROM (
        SELECT {column} FROM {table} WHERE {column} IS NOT NULL
        GROUP BY {column} HAVING count(*) > 1) d;
    IF doubled IS NOT NULL THEN
        RAISE EXCEPTION '{table}: accounts with more than one row: %', doubled
            USING HINT = 'Unlink the extra rows, then migrate again.';
    END IF;
END $$"""


class Migration(migrations.Migration):
    dependencies = [('models', '0009_audit_append')]

    initial = False

    operations = [
        operation
        for table, column in LINKS
        for operation in (
            ops.RunSQL(CHECK.format(table=table, column=column), reverse_sql="SELECT 1"),
            ops.RunSQL(f"CREATE UNIQUE INDEX {table}_{column}_unique ON {table} ({column})",
                       reverse_sql=f"DROP INDEX {table}_{column}_unique"),
            ops.RunSQL(f"DROP INDEX {table}_{column}",
                       reverse_sql=f"CREATE INDEX {table}_{column} ON {table} ({column})"),
        )
    ]
