"""Every foreign key has an index: lookups by the referencing column (the supervisor of an
account, an agency's staff) and RESTRICT checks never read a whole table. Every field a model
declares unique is unique in the database."""

import pytest
from tortoise import Tortoise
from tortoise.exceptions import IntegrityError

from core import orm
from core.private import meta

UNINDEXED = """
SELECT c.conrelid::regclass::text AS tbl, a.attname AS col
FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
WHERE c.contype = 'f' AND array_length(c.conkey, 1) = 1
  AND NOT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.conrelid
                  AND i.indkey[0] = c.conkey[1])"""


async def test_every_foreign_key_is_indexed() -> None:
    rows = await orm.client().execute_query_dict(UNINDEXED)
    assert rows == []


UNIQUE_COLUMNS = """
SELECT t.relname AS tbl, a.attname AS col
FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid
JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = i.indkey[0]
WHERE i.indisunique AND i.indnatts = 1"""


async def test_every_unique_field_is_unique_in_the_database() -> None:
    """What a model declares unique (one supervisor record, one agency per account) the
    database enforces; the first migration left two such foreign keys with plain indexes."""
    rows = await orm.client().execute_query_dict(UNIQUE_COLUMNS)
    unique = {(r["tbl"], r["col"]) for r in rows}
    declared = set()
    for model in Tortoise.apps["models"].values():
        described = meta(model)
        for name, field in described.fields_map.items():
            if not field.unique or field.pk or name in described.backward_fk_fields:
                continue
            if name in described.fk_fields or name in described.o2o_fields:
                declared.add((described.db_table, field.source_field))
            elif name in described.fields_db_projection:
                declared.add((described.db_table, described.fields_db_projection[name]))
    assert ("agency_staff", "account_id") in declared
    assert declared - unique == set()


async def test_an_account_has_one_supervisor_record_and_one_agency(full_demo: None) -> None:
    from core.agencies.models import Agency, AgencyStaff
    from core.roster.models import Supervisor

    link = await AgencyStaff.all().order_by("id").first()
    other = await Agency.exclude(id=link.agency_id).first()  # type: ignore[union-attr]
    assert link is not None and other is not None
    with pytest.raises(IntegrityError):
        await AgencyStaff.create(account_id=link.account_id, agency=other)
    mine = await Supervisor.filter(account_id__isnull=False).order_by("id").first()
    assert mine is not None
    twin = await Supervisor.filter(account_id__isnull=True).first()
    if twin is None:
        twin = await Supervisor.exclude(id=mine.id).order_by("id").first()
    assert twin is not None
    with pytest.raises(IntegrityError):
        await Supervisor.filter(id=twin.id).update(account_id=mine.account_id)
    assert await AgencyStaff.filter(account_id=link.account_id).count() == 1
