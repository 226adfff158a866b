"""R7.2's tally counted at commit: the trigger of migration 0003 becomes a deferred constraint
trigger. As an ordinary trigger it upserted the tally rows of a case's jurisdiction, state,
kind… when the case was written, and held their row locks until the transaction's end: every
submission to one county (the same jurisdiction, the same state SUBMITTED) waited for the one
before it through its points, notices, history and audit statements and their round trips. At
size M that capped submissions at ~145 a second, the server process two-thirds idle. Deferred,
the same function runs with the same rows (each change's old row at -1 and new row at +1) when
the transaction commits, so the locks are held for the commit alone. The counts are unchanged
at every commit; only the changing transaction itself no longer sees its own changes in the
tally before it commits (nothing reads it there)."""

from tortoise import migrations
from tortoise.migrations import operations as ops

IMMEDIATE = ("CREATE TRIGGER case_tally AFTER INSERT OR UPDATE OR DELETE ON supervision_case "
             "FOR EACH ROW EXECUTE FUNCTION case_tally_track()")
AT_COMMIT = ("CREATE CONSTRAINT TRIGGER case_tally AFTER INSERT OR UPDATE OR DELETE ON "
             "supervision_case DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
             "EXECUTE FUNCTION case_tally_track()")
DROP = "DROP TRIGGER case_tally ON supervision_case"


class Migration(migrations.Migration):
    dependencies = [('models', '0010_one_record_per_account')]

    initial = False

    operations = [
        ops.RunSQL([DROP, AT_COMMIT], reverse_sql=[DROP, IMMEDIATE]),
    ]
