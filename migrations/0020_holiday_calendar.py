"""R5.1: China's official calendar as data (core/holidays.py): each year held, its source, and its
days off their weekday's rule. `migrate` seeds the years the chinesecalendar package knows."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0019_pending_points')]

    initial = False

    operations = [
        ops.CreateModel(
            name='HolidayYear',
            fields=[
                ('year', fields.IntField(generated=False, primary_key=True, unique=True, db_index=True)),
                ('source', fields.CharField(max_length=300)),
                ('loaded_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('loaded_by', fields.CharField(max_length=64)),
            ],
            options={'table': 'holiday_year', 'app': 'models', 'pk_attr': 'year', 'table_description': 'A year whose schedule the platform holds, and its source (the notice).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='HolidayDay',
            fields=[
                ('day', fields.DateField(primary_key=True, unique=True, db_index=True)),
                ('year', fields.ForeignKeyField('models.HolidayYear', source_field='year_id', db_constraint=True, to_field='year', related_name='days', on_delete=OnDelete.CASCADE)),
                ('working', fields.BooleanField()),
                ('name', fields.CharField(default='', max_length=50)),
            ],
            options={'table': 'holiday_day', 'app': 'models', 'indexes': [Index(fields=['year_id', 'day'])], 'pk_attr': 'day', 'table_description': "A day off its weekday's rule: a holiday (working False) or an adjusted working"},
            bases=['Model'],
        ),
    ]
