"""R7.2 over all time without reading every month: case_tally_total holds the sum of each
jurisdiction's monthly tally, kept by a trigger on case_tally itself (so the trigger of 0003
stays as it is), in the transaction that changes a case; upserts in key order."""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops

TRACK = """
CREATE FUNCTION case_tally_total_track() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO case_tally_total (jurisdiction_id, dimension, key, n)
    SELECT t.jurisdiction_id, t.dimension, t.key, sum(t.delta)
    FROM (SELECT (OLD).jurisdiction_id, (OLD).dimension, (OLD).key, -(OLD).n AS delta
          WHERE TG_OP IN ('UPDATE', 'DELETE')
          UNION ALL
          SELECT (NEW).jurisdiction_id, (NEW).dimension, (NEW).key, (NEW).n
          WHERE TG_OP IN ('INSERT', 'UPDATE')) t
    GROUP BY 1, 2, 3
    HAVING sum(t.delta) <> 0
    ORDER BY 1, 2, 3
    ON CONFLICT (jurisdiction_id, dimension, key)
    DO UPDATE SET n = case_tally_total.n + EXCLUDED.n;
    RETURN NULL;
END $$;
"""


class Migration(migrations.Migration):
    dependencies = [('models', '0007_jurisdiction_notices')]

    initial = False

    operations = [
        ops.CreateModel(
            name='CaseTallyTotal',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True,
                                          db_index=True)),
                ('jurisdiction_id', fields.IntField()),
                ('dimension', fields.CharField(max_length=16)),
                ('key', fields.CharField(max_length=32)),
                ('n', fields.BigIntField(default=0)),
            ],
            options={'table': 'case_tally_total', 'app': 'models',
                     'unique_together': (('jurisdiction_id', 'dimension', 'key'),),
                     'pk_attr': 'id',
                     'table_description': 'R7.2: the same counts over all time (the sum of a '
                                          "jurisdiction's months), so that the figures of the "
                                          'whole history do not grow with it. Written only by '
                                          'the trigger on case_tally (migration 0008), in the '
                                          'same transaction.'},
            bases=['Model'],
        ),
        ops.RunSQL(
            [TRACK,
             "CREATE TRIGGER case_tally_total AFTER INSERT OR UPDATE OR DELETE ON case_tally "
             "FOR EACH ROW EXECUTE FUNCTION case_tally_total_track()",
             "INSERT INTO case_tally_total (jurisdiction_id, dimension, key, n) "
             "SELECT jurisdiction_id, dimension, key, sum(n) FROM case_tally GROUP BY 1, 2, 3 "
             "HAVING sum(n) <> 0"],
            reverse_sql=["DROP TRIGGER case_tally_total ON case_tally",
                         "DROP FUNCTION case_tally_total_track()"],
        ),
    ]
