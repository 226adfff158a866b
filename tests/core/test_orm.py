"""core/orm.py builds models from rows with the attributes and values Tortoise's own way
gives, for every model of the platform, and leaves partial rows to Tortoise."""

from __future__ import annotations

import pytest
from tortoise import Tortoise, connections

from core.orm import Executor, hydrator
from core.roster.models import Supervisor


async def test_every_model_is_built_as_tortoise_builds_it(full_demo: None) -> None:
    conn = connections.get("default")
    compared = 0
    for model in Tortoise.apps["models"].values():
        _, rows = await conn.execute_query(
            f'SELECT * FROM "{model._meta.db_table}" ORDER BY 1 LIMIT 20')
        for row in rows:
            ours, theirs = hydrator(model)(row), model._init_from_db(**row)
            assert type(ours) is model
            assert ours.__dict__ == theirs.__dict__, model.__name__
            compared += 1
    assert compared > 200


async def test_queries_go_through_it(roster_demo: None, monkeypatch: pytest.MonkeyPatch
                                     ) -> None:
    assert connections.get("default").executor_class is Executor

    def refuse(**_row: object) -> None:
        raise AssertionError("built Tortoise's way")

    monkeypatch.setattr(Supervisor, "_init_from_db", refuse)
    assert len(await Supervisor.all().limit(5)) == 5
    monkeypatch.undo()
    first = await Supervisor.all().order_by("id").first()
    assert first is not None and not first._partial and first._saved_in_db
    first.name = first.name + "·"
    await first.save(update_fields=["name"])  # a built instance saves like any other
    again = await Supervisor.get(id=first.id)
    assert again.name == first.name


async def test_partial_rows_go_tortoise_s_way(roster_demo: None) -> None:
    rows = await Supervisor.all().only("id", "name").limit(3)
    assert len(rows) == 3
    for row in rows:
        assert row._partial and row.name and "phone" not in row.__dict__


async def test_lists_and_joins_read_the_same(roster_demo: None) -> None:
    query = Supervisor.filter(jurisdiction__path="jl.th.dc").order_by("id").limit(5)
    plain, joined = await query, await query.select_related("jurisdiction")
    assert [s.__dict__ | {"_jurisdiction": None} for s in plain] == [
        s.__dict__ | {"_jurisdiction": None} for s in joined]
    assert {s.jurisdiction.path for s in joined} == {"jl.th.dc"}
