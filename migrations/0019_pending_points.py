"""R4.4: points of a case held until its day has ended (core/scoring/points.py, credit_days)."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from core.scoring.models import PointEvent
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0018_audit_append_in_one_insert')]

    initial = False

    operations = [
        ops.CreateModel(
            name='PendingPoints',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('supervisor', fields.ForeignKeyField('models.Supervisor', source_field='supervisor_id', db_constraint=True, to_field='id', related_name='pending_points', on_delete=OnDelete.RESTRICT)),
                ('event', fields.CharEnumField(description='REPORT_SUBMITTED: REPORT_SUBMITTED\nREPORT_SUBSTANTIATED: REPORT_SUBSTANTIATED\nMAJOR_LEAD_SUBSTANTIATED: MAJOR_LEAD_SUBSTANTIATED\nSUGGESTION_ADOPTED: SUGGESTION_ADOPTED\nINQUIRY_ANSWERED: INQUIRY_ANSWERED\nSUPERVISION_RECORD_FILED: SUPERVISION_RECORD_FILED\nACTIVITY_ATTENDED: ACTIVITY_ATTENDED\nTRAINING_COMPLETED: TRAINING_COMPLETED\nASSISTANCE_COMPLETED: ASSISTANCE_COMPLETED\nCONTACT_FIRM_LINKED: CONTACT_FIRM_LINKED\nDISCIPLINE: DISCIPLINE\nADJUSTMENT: ADJUSTMENT', enum_type=PointEvent, max_length=32)),
                ('default_points', fields.IntField()),
                ('source', fields.CharField(unique=True, max_length=64)),
                ('actor', fields.CharField(max_length=64)),
                ('at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'pending_points', 'app': 'models', 'indexes': [Index(fields=['supervisor_id', 'id'])], 'pk_attr': 'id', 'table_description': "R4.4: a case's points, held until its local day has ended and then credited to the"},
            bases=['Model'],
        ),
        ops.AlterModelOptions(
            name='CaseTallyTotal',
            options={'table': 'case_tally_total', 'app': 'models', 'unique_together': (('jurisdiction_id', 'dimension', 'key'),), 'pk_attr': 'id', 'table_description': "R7.2: the same counts over all time (the sum of a jurisdiction's months), so that the"},
        ),
    ]
