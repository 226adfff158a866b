"""core/statements.py: a query read through the kept SQL of its shape returns what Tortoise's
own way returns, binds the values of each query (never the ones it learned from), keeps a
shape only once a probe proved its values' places, and leaves everything else to Tortoise."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from tortoise import queryset
from tortoise.exceptions import DoesNotExist, MultipleObjectsReturned
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from core import clock, statements
from core.cases.models import Case, State
from core.roster.models import Category, Status, Supervisor
from tenants.models import Jurisdiction

Build = Callable[[queryset.QuerySet[Any]], Any]


def _plain(model: type[Any]) -> queryset.QuerySet[Any]:
    return queryset.QuerySet(model)


def _dicts(found: Any) -> Any:
    """What a result holds: instances by their attributes, joined parents included."""
    if found is None:
        return None
    if isinstance(found, list):
        return [_dicts(f) for f in found]
    return {k: (_dicts(v) if k.startswith("_") and hasattr(v, "_meta") else v)
            for k, v in found.__dict__.items()}


async def _both(model: type[Any], build: Build) -> Any:
    """The result through the kept SQL and through Tortoise's own way; they must agree."""
    ours = await build(model.all())
    theirs = await build(_plain(model))
    assert _dicts(ours) == _dicts(theirs)
    return ours


async def test_shapes_read_what_tortoise_reads(full_demo: None) -> None:
    statements.forget()
    places = await Jurisdiction.all().order_by("id")
    dc = next(j for j in places if j.path == "jl.th.dc")
    some = await Supervisor.all().order_by("id").limit(30)
    first, other = some[3], some[17]
    since = clock.now() - timedelta(days=400)
    cases: list[Build] = [
        lambda q: q.filter(id=first.id).first(),
        lambda q: q.filter(jurisdiction_id=dc.id).order_by("id").limit(7),
        lambda q: q.filter(jurisdiction=dc).order_by("-id").limit(5).offset(2),
        lambda q: q.filter(jurisdiction_id__in=[p.id for p in places[:4]]).order_by("id"),
        lambda q: q.filter(jurisdiction_id__in=[]).order_by("id"),
        lambda q: q.filter(group_id=None, status=Status.ACTIVE).order_by("id").limit(9),
        lambda q: q.filter(account_id__isnull=False).order_by("id").limit(4),
        lambda q: q.filter(Q(category=Category.ENTERPRISE) | Q(id=other.id), is_special=False
                           ).order_by("id").limit(6),
        lambda q: q.filter(~Q(jurisdiction_id=dc.id), id__gte=first.id, id__lt=other.id + 40
                           ).order_by("id"),
        lambda q: q.filter(jurisdiction_id=dc.id).select_related("jurisdiction").order_by(
            "id").limit(3),
        lambda q: q.filter(id=other.id).only("id", "name").first(),
        lambda q: q.get_or_none(id=-1),
        lambda q: q.filter(created_at__gte=since).order_by("id").limit(2),
    ]
    for build in cases:
        await _both(Supervisor, build)
        await _both(Supervisor, build)  # the second time through the kept SQL, if kept
    assert sum(kept is not statements.UNFIT for kept in statements._kept.values()) >= 10
    found = await _both(Case, lambda q: q.filter(
        Q(jurisdiction_id__in=[dc.id]) | Q(reporter_id=first.id),
        state__in=[State.TRANSFERRED, State.REPLIED]).select_related(
        "jurisdiction", "agency").order_by("id").limit(5))
    assert found and all(c.agency.name and c.jurisdiction.path for c in found)


async def test_each_query_binds_its_own_values(roster_demo: None,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    statements.forget()
    ids = [s.id for s in await Supervisor.all().order_by("id").limit(40)]
    built = 0
    make_query = queryset.QuerySet._make_query

    def counting(self: queryset.QuerySet[Any]) -> None:
        nonlocal built
        built += 1
        make_query(self)

    monkeypatch.setattr(queryset.QuerySet, "_make_query", counting)
    for wanted in ids[5:25]:
        found = await Supervisor.filter(id=wanted).select_related("jurisdiction").first()
        assert found is not None and found.id == wanted and found.jurisdiction.id
    assert built == 1  # Tortoise built the first; the other 19 bound their id to its SQL
    page = await Supervisor.filter(id__gt=ids[30]).order_by("id").limit(3)
    assert [s.id for s in page] == ids[31:34]
    page = await Supervisor.filter(id__gt=ids[10]).order_by("id").limit(2)
    assert [s.id for s in page] == ids[11:13]
    assert built == 2


async def test_equal_values_are_bound_where_a_probe_showed(roster_demo: None) -> None:
    """The shape is learned from a probe with distinct made-up values, so a query whose own
    values coincide (a county office filtering its own county) is kept all the same."""
    statements.forget()
    some = await Supervisor.all().order_by("id").limit(3)
    place = some[0].jurisdiction_id
    query = Supervisor.filter(Q(jurisdiction_id__in=[place]), jurisdiction_id=place).order_by(
        "id").limit(place)
    key, values = statements.shape(query)
    assert len(set(values)) == 1
    ours = await query
    assert isinstance(statements._kept[key], statements.Statement)
    assert statements._kept[key] is not statements.UNFIT
    assert _dicts(ours) == _dicts(await _plain(Supervisor).filter(
        Q(jurisdiction_id__in=[place]), jurisdiction_id=place).order_by("id").limit(place))
    elsewhere = await Supervisor.filter(Q(jurisdiction_id__in=[place]),
                                        jurisdiction_id=place + 1).order_by("id").limit(place)
    assert elsewhere == []  # bound: the IN list and the county are each the query's own


async def test_a_field_without_distinct_probes_goes_tortoise_s_way(roster_demo: None
                                                                   ) -> None:
    statements.forget()
    query = Supervisor.filter(is_special=False, is_small_micro=False, is_npc_deputy=False
                              ).order_by("id").limit(4)
    key, _ = statements.shape(query)
    ours = await query
    assert statements._kept[key] is statements.UNFIT  # three booleans: two made-up values
    assert _dicts(ours) == _dicts(await _plain(Supervisor).filter(
        is_special=False, is_small_micro=False, is_npc_deputy=False).order_by("id").limit(4))


async def test_a_wrapped_value_marks_its_shape(roster_demo: None) -> None:
    statements.forget()
    query = Supervisor.filter(name__contains="王").order_by("id").limit(5)
    key, _ = statements.shape(query)
    ours = await query
    assert statements._kept[key] is statements.UNFIT  # LIKE '%王%' is not the value
    assert _dicts(ours) == _dicts(await _plain(Supervisor).filter(name__contains="王").order_by(
        "id").limit(5))
    assert ours and all("王" in s.name for s in ours)


async def test_what_it_does_not_read_goes_tortoise_s_way(roster_demo: None) -> None:
    with pytest.raises(statements.Unfit):
        statements.shape(Supervisor.filter(jurisdiction__path="jl.th.dc"))
    with pytest.raises(statements.Unfit):
        statements.shape(Supervisor.filter(id__in=Supervisor.filter(id=1).values_list("id")))
    found = await Supervisor.filter(jurisdiction__path="jl.th.dc").order_by("id").limit(3)
    assert len(found) == 3


async def test_single_results_and_locks(roster_demo: None) -> None:
    statements.forget()
    first = await Supervisor.all().order_by("id").first()
    assert first is not None
    for _ in range(2):
        with pytest.raises(DoesNotExist):
            await Supervisor.get(id=-5)
        with pytest.raises(MultipleObjectsReturned):
            await Supervisor.get(jurisdiction_id=first.jurisdiction_id)
        assert (await Supervisor.get(id=first.id)).name == first.name
    async with in_transaction():
        locked = await Supervisor.filter(id=first.id).select_for_update().first()
        assert locked is not None and locked.id == first.id


async def test_parts_bind_the_last_value_to_the_statement_kept_for_the_rest(
        full_demo: None) -> None:
    """statements.Parts: kept by a key for everything before the last filter, a later query's
    value is bound to the same statement, and the rows are Tortoise's; a query that does not
    end with that value, or whose shape Tortoise builds, is not kept."""
    from core import orm

    statements.forget()
    ids = [(await Jurisdiction.get(path="jl.th.dc")).id]
    cases = await Case.filter(jurisdiction_id__in=ids).order_by("id").limit(3)
    assert len(cases) == 3
    parts = statements.Parts()
    key = ("cases in", tuple(ids))

    def query(case_id: int) -> queryset.QuerySet[Case]:
        return Case.filter(Q(jurisdiction_id__in=ids), id=case_id)

    assert parts.get(key, Case, cases[0].id) is None
    first = parts.keep(key, query(cases[0].id), cases[0].id)
    assert isinstance(first, statements.Bound)
    for case in cases:
        bound = parts.get(key, Case, case.id)
        assert bound is not None and bound.model is Case
        assert bound.statement() == query(case.id).statement()  # type: ignore[attr-defined]
        sql, values = bound.statement()
        rows = await orm.client().execute_query_dict(sql, values)
        assert [r["id"] for r in rows] == [case.id]
    outside = await Case.exclude(jurisdiction_id__in=ids).first()
    assert outside is not None
    sql, values = parts.get(key, Case, outside.id).statement()  # type: ignore[union-attr]
    assert await orm.client().execute_query_dict(sql, values) == []

    limited = Case.filter(Q(jurisdiction_id__in=ids), id=cases[0].id).limit(1)
    assert parts.keep(("limited",), limited, cases[0].id) is limited  # ends with the limit
    worded = Case.filter(title__icontains="x", id=cases[0].id)
    assert parts.keep(("worded",), worded, cases[0].id) is worded  # Tortoise builds a LIKE
    assert parts.get(("limited",), Case, 1) is None and parts.get(("worded",), Case, 1) is None
