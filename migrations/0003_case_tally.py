from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

# R7.2: case_tally kept current by supervision_case itself, in the changing transaction. One
# statement per change: the old row's keys at -1 and the new row's at +1, netted, upserted in
# key order (so concurrent changes lock tally rows in one order and cannot deadlock).
TRACK = """
CREATE FUNCTION case_tally_track() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO case_tally (jurisdiction_id, month, dimension, key, n)
    SELECT c.jurisdiction_id,
           date_trunc('month', c.submitted_at AT TIME ZONE 'Asia/Shanghai')::date, v.d, v.k,
           sum(c.delta)
    FROM (SELECT (OLD).*, -1 AS delta WHERE TG_OP IN ('UPDATE', 'DELETE')
          UNION ALL
          SELECT (NEW).*, 1 WHERE TG_OP IN ('INSERT', 'UPDATE')) c
    CROSS JOIN LATERAL (VALUES ('kind', c.kind), ('category', c.category),
                               ('state', c.state), ('agency', c.agency_id::text),
                               ('finding', c.finding)) v(d, k)
    WHERE v.k IS NOT NULL
    GROUP BY 1, 2, 3, 4
    HAVING sum(c.delta) <> 0
    ORDER BY 1, 2, 3, 4
    ON CONFLICT (jurisdiction_id, month, dimension, key)
    DO UPDATE SET n = case_tally.n + EXCLUDED.n;
    RETURN NULL;
END $$;
"""

class Migration(migrations.Migration):
    dependencies = [('models', '0002_indexes_and_audit_guard')]

    initial = False

    operations = [
        ops.CreateModel(
            name='CaseTally',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('jurisdiction_id', fields.IntField()),
                ('month', fields.DateField()),
                ('dimension', fields.CharField(max_length=16)),
                ('key', fields.CharField(max_length=32)),
                ('n', fields.IntField(default=0)),
            ],
            options={'table': 'case_tally', 'app': 'models', 'unique_together': (('jurisdiction_id', 'month', 'dimension', 'key'),), 'pk_attr': 'id', 'table_description': 'R7.2: how many cases of a jurisdiction, submitted in a (local) month, have each value'},
            bases=['Model'],
        ),
        ops.RunSQL(
            [TRACK,
             "CREATE TRIGGER case_tally AFTER INSERT OR UPDATE OR DELETE ON supervision_case "
             "FOR EACH ROW EXECUTE FUNCTION case_tally_track()",
             # Counts of existing cases (the statement the trigger keeps true from now on).
             "INSERT INTO case_tally (jurisdiction_id, month, dimension, key, n) "
             "SELECT c.jurisdiction_id, date_trunc('month', c.submitted_at AT TIME ZONE "
             "'Asia/Shanghai')::date, v.d, v.k, count(*) FROM supervision_case c "
             "CROSS JOIN LATERAL (VALUES ('kind', c.kind), ('category', c.category), "
             "('state', c.state), ('agency', c.agency_id::text), ('finding', c.finding)) v(d, k) "
             "WHERE v.k IS NOT NULL GROUP BY 1, 2, 3, 4"],
            reverse_sql=["DROP TRIGGER case_tally ON supervision_case",
                         "DROP FUNCTION case_tally_track()"],
        ),
    ]
