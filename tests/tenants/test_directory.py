"""The jurisdiction tree in process memory (tenants/directory.py): read once while the process
listens, changed the moment the database says so, never used while nobody listens."""

from __future__ import annotations

import asyncio

import asyncpg

from tenants.directory import jurisdictions
from tests.support import Api, QueryCounter

LIST = """{ supervisors(first: 5, filter: {jurisdiction: "jl.th.dc"}) {
  edges { node { name jurisdiction { path name } } } } }"""


def _reads_jurisdictions(counter: QueryCounter) -> bool:
    return any('"jurisdiction"' in s for s in counter.statements)


async def test_scope_filter_and_rows_come_from_memory(api: Api, roster_demo: None,
                                                      listening: None) -> None:
    first = (await api.gql(LIST, as_user="admin.dc")).ok()
    with QueryCounter() as counter:
        again = (await api.gql(LIST, as_user="admin.dc")).ok()
    assert again == first and len(first["supervisors"]["edges"]) == 5
    assert {e["node"]["jurisdiction"]["path"] for e in again["supervisors"]["edges"]} == {
        "jl.th.dc"}
    # The caller, their scope and the filter's jurisdiction come from memory: the one statement
    # is the answer (schema/projection.py), the rows' jurisdictions joined in it.
    assert len(counter.statements) == 1, counter.statements
    assert counter.statements[0].startswith("SELECT json_build_object(")
    # Scope is still enforced from memory: another county's office finds nobody in 东昌区.
    assert (await api.gql(LIST, as_user="admin.ja")).ok() == {"supervisors": {"edges": []}}


async def test_a_change_made_elsewhere_is_seen(api: Api, roster_demo: None, listening: None,
                                               owner: asyncpg.Connection) -> None:
    assert (await api.gql(LIST, as_user="admin.dc")).ok()
    await owner.execute("UPDATE jurisdiction SET name = '东昌新区' WHERE path = 'jl.th.dc'")
    names: set[str] = set()
    for _ in range(100):
        data = (await api.gql(LIST, as_user="admin.dc")).ok()
        names = {e["node"]["jurisdiction"]["name"] for e in data["supervisors"]["edges"]}
        if names == {"东昌新区"}:
            break
        await asyncio.sleep(0.05)
    assert names == {"东昌新区"}


async def test_nothing_is_kept_while_not_listening(api: Api, roster_demo: None) -> None:
    assert not jurisdictions.listening
    with QueryCounter() as counter:
        assert (await api.gql(LIST, as_user="admin.dc")).ok()
    assert _reads_jurisdictions(counter)


async def test_a_scope_s_ids_are_kept_until_the_tree_changes(
        roster_demo: None, listening: None, owner: asyncpg.Connection) -> None:
    from policies.access import Scope

    city = Scope(frozenset(), frozenset({"jl.th"}))
    first = await city.jurisdiction_ids()
    with QueryCounter() as counter:
        assert await city.jurisdiction_ids() is first  # kept: no walk, no statement
    assert counter.count == 0
    new = await owner.fetchval(
        "INSERT INTO jurisdiction (path, code, name, level, parent_id, created_at) "
        "SELECT 'jl.th.xq', 'xq', '新区', 'COUNTY', id, now() FROM jurisdiction "
        "WHERE path = 'jl.th' RETURNING id")
    found: list[int] = first
    for _ in range(100):
        found = await city.jurisdiction_ids()
        if new in found:
            break
        await asyncio.sleep(0.05)
    assert new in found and set(found) - {new} == set(first)


async def test_the_city_figures_jurisdictions_are_kept_until_the_tree_changes(
        full_demo: None, listening: None) -> None:
    """R7.2's figures name the jurisdictions under the asked one that the caller shares: a
    walk over the tree, kept with it for the caller's scope and the asked jurisdiction."""
    from core.accounts.models import Account
    from core.cases import oversight
    from core.principal import Principal

    account = await Account.get(username="admin.th")
    city = Principal(account.id, account.username, account.kind, "jl.th")
    first = await oversight.oversight_stats(city, "jl.th", None, None)
    again = await oversight.oversight_stats(city, "jl.th", None, None)
    assert again.paths is first.paths
    county = await oversight.oversight_stats(city, "jl.th.dc", None, None)
    assert set(county.paths) < set(first.paths)
    assert list(county.paths.values()) == ["jl.th.dc"]
    assert [j.path for j in (await jurisdictions.by_ids(county.paths)).values()] == ["jl.th.dc"]
