"""core/orm.py builds models from rows with the attributes and values Tortoise's own way
gives, for every model of the platform, and leaves partial rows to Tortoise; it returns a
connection to the pool without the reset query only when its use ended cleanly."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import asyncpg
import pytest
from tortoise import Tortoise
from tortoise.backends.asyncpg.executor import AsyncpgExecutor
from tortoise.exceptions import OperationalError
from tortoise.expressions import Subquery
from tortoise.models import Model
from tortoise.transactions import in_transaction

from core import db, orm
from core.agencies.models import Agency
from core.orm import Connection, Executor, FairPool, hydrator
from core.roster.models import ContactFirm, Supervisor
from tenants.models import Jurisdiction


async def test_every_model_is_built_as_tortoise_builds_it(full_demo: None) -> None:
    conn = orm.client()
    compared = 0
    for model in Tortoise.apps["models"].values():
        _, rows = await conn.execute_query(
            f'SELECT * FROM "{model._meta.db_table}" ORDER BY 1 LIMIT 20')
        for row in rows:
            ours, theirs = hydrator(model)(row), model._init_from_db(**row)
            assert type(ours) is model
            assert _typed(ours) == _typed(theirs), model.__name__
            compared += 1
    assert compared > 200


def _typed(instance: object) -> dict[str, tuple[object, type, object]]:
    """Each attribute's value, its type and its time zone (equal moments compare equal
    whatever their zone)."""
    return {k: (v, type(v), getattr(v, "tzinfo", None)) for k, v in vars(instance).items()}


async def test_any_order_of_columns_is_read_by_name(full_demo: None) -> None:
    conn = orm.client()
    columns = [f'"{c}"' for c in Supervisor._meta.db_fields]
    forward = ", ".join(columns)
    backward = ", ".join(reversed(columns))
    _, rows = await conn.execute_query(f"SELECT {forward} FROM supervisor ORDER BY id LIMIT 3")
    _, reversed_rows = await conn.execute_query(
        f"SELECT {backward} FROM supervisor ORDER BY id LIMIT 3")
    read = hydrator(Supervisor)
    assert read.reader(rows[0]) is not read.reader(reversed_rows[0])
    for row, other in zip(rows, reversed_rows, strict=True):
        assert _typed(read(row)) == _typed(read(other)) == _typed(
            Supervisor._init_from_db(**row))
    _, partial = await conn.execute_query("SELECT id, name FROM supervisor LIMIT 1")
    assert read.reader(partial[0]) is None
    with pytest.raises(KeyError):
        read(partial[0])


async def test_the_client_of_the_running_task(roster_demo: None) -> None:
    """orm.client(): the pool's client, and inside a transaction that transaction's, whose
    statements see its uncommitted writes; the pool's again after it."""
    pooled = orm.client()
    assert type(pooled) is orm.Client
    first = await Supervisor.all().order_by("id").first()
    assert first is not None
    async with in_transaction() as transaction:
        assert orm.client() is transaction
        await Supervisor.filter(id=first.id).update(name="事务中")
        _, rows = await orm.client().execute_query(
            "SELECT name FROM supervisor WHERE id = $1", [first.id])
        assert rows[0]["name"] == "事务中"
        await transaction.rollback()
    assert orm.client() is pooled
    assert (await Supervisor.get(id=first.id)).name == first.name


async def test_queries_go_through_it(roster_demo: None, monkeypatch: pytest.MonkeyPatch
                                     ) -> None:
    assert orm.client().executor_class is Executor

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


def _tree(instance: object) -> dict[str, Any]:
    """`_typed`, with each joined instance (kept in `_agency`, ...) as its own tree."""
    return {k: _tree(v) if isinstance(v, Model) else None if v is None else typed
            for (k, v), typed in zip(vars(instance).items(), _typed(instance).values(),
                                     strict=True)}


async def test_joined_rows_are_built_as_tortoise_builds_them(
        full_demo: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """select_related: the model and every joined one (nested, nullable and found absent,
    partial) as Tortoise's own executor builds them; complete ones without its way."""
    from core.cases.models import Case

    firm = await ContactFirm.first()
    assert firm is not None
    await Case.filter(id__in=Subquery(Case.all().order_by("-id").limit(3).values("id"))).update(
        contact_firm_id=firm.id)
    queries: list[Callable[[], Any]] = [
        lambda: Case.all().select_related("jurisdiction", "agency").order_by("id").limit(30),
        lambda: Case.all().select_related("agency__jurisdiction", "contact_firm", "reporter")
        .order_by("-id").limit(30),
        lambda: Case.all().only("id", "agency__name").order_by("id").limit(5),
        lambda: Supervisor.filter(jurisdiction__path="jl.th.dc").select_related(
            "jurisdiction").order_by("id").limit(10),
    ]
    ours = [[_tree(i) for i in await query()] for query in queries]
    assert any(case["_contact_firm"] is None for case in ours[1])
    assert any(case["_contact_firm"] is not None for case in ours[1])
    assert ours[1][0]["_agency"]["_jurisdiction"]["path"][0].startswith("jl.")
    monkeypatch.setattr(Executor, "execute_select", AsyncpgExecutor.execute_select)
    theirs = [[_tree(i) for i in await query()] for query in queries]
    assert ours == theirs
    monkeypatch.undo()

    def refuse(**_row: object) -> None:
        raise AssertionError("built Tortoise's way")

    for model in (Case, Agency, Jurisdiction, ContactFirm, Supervisor):
        monkeypatch.setattr(model, "_init_from_db", refuse)
    for query in (queries[0], queries[1], queries[3]):
        assert len(await query()) > 0


class ResetSpy:
    """Counts the reset queries asyncpg's pool sends when connections come back."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        original = Connection.execute

        async def execute(connection: Connection, query: str, *args: object,
                          **kwargs: object) -> str:
            if query == connection.get_reset_query():
                self.count += 1
            return await original(connection, query, *args, **kwargs)

        monkeypatch.setattr(Connection, "execute", execute)


async def test_a_clean_use_is_released_without_the_reset(
        roster_demo: None, monkeypatch: pytest.MonkeyPatch) -> None:
    spy = ResetSpy(monkeypatch)
    assert len(await Supervisor.all().limit(3)) == 3
    await orm.client().execute_query("SELECT 1")
    assert await orm.client().fetch_value("SELECT $1::int + 1", [1]) == 2
    async with in_transaction():
        first = await Supervisor.all().order_by("id").first()
        assert first is not None
        await Supervisor.filter(id=first.id).update(unit=first.unit)
    assert spy.count == 0


async def test_a_failed_statement_a_rolled_back_transaction_and_a_script_are_reset(
        roster_demo: None, monkeypatch: pytest.MonkeyPatch) -> None:
    spy = ResetSpy(monkeypatch)
    conn = orm.client()
    with pytest.raises(OperationalError):
        await conn.execute_query("SELECT * FROM no_such_table")
    assert spy.count == 1
    with pytest.raises(OperationalError):
        await conn.fetch_value("SELECT * FROM no_such_table", [])
    assert spy.count == 2
    with pytest.raises(RuntimeError):
        async with in_transaction():
            await Supervisor.all().first()
            raise RuntimeError("rolled back")
    assert spy.count == 3
    await conn.execute_script("SET application_name = 'left behind'")
    assert spy.count == 4
    for _ in range(5):  # whichever pooled connection answers, the setting is gone
        _, rows = await conn.execute_query("SHOW application_name")
        assert rows[0]["application_name"] != "left behind"


@pytest.mark.parametrize("way", ["execute_query", "fetch_value"])
async def test_a_cancelled_statement_leaves_no_busy_connection(
        roster_demo: None, monkeypatch: pytest.MonkeyPatch, way: str) -> None:
    spy = ResetSpy(monkeypatch)
    conn = orm.client()
    statement = conn.execute_query("SELECT pg_sleep(30)") if way == "execute_query" else (
        conn.fetch_value("SELECT pg_sleep(30)", []))
    task = asyncio.create_task(statement)
    await asyncio.sleep(0.3)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert spy.count == 1
    for _ in range(5):
        _, rows = await conn.execute_query(
            "SELECT count(*) AS n FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep%' "
            "AND state <> 'idle'")
        assert rows[0]["n"] == 0
    assert await Supervisor.all().count() > 0


async def _one_connection_pool(database_url: str, make: Callable[..., asyncpg.Pool]
                               ) -> asyncpg.Pool:
    creds = db.credentials(database_url)
    return await make(None, host=creds["host"], port=creds["port"], user=creds["user"],
                            password=creds["password"], database=creds["database"],
                            min_size=1, max_size=1)


async def _order_served(pool: asyncpg.Pool) -> list[str]:
    """One request waits for the pool's only connection; as it comes back, another request
    arrives (it runs before the woken waiter does): which of them is served first?"""
    served: list[str] = []
    held = await pool.acquire()

    async def request(name: str) -> None:
        connection = await pool.acquire()
        served.append(name)
        await pool.release(connection)

    waiting = asyncio.create_task(request("waiting"))
    await asyncio.sleep(0.01)  # it waits
    arriving: list[asyncio.Task[None]] = []
    give_back = pool._queue.put_nowait

    def arrive_then_give_back(holder: object) -> None:
        arriving.append(asyncio.create_task(request("later")))
        give_back(holder)

    pool._queue.put_nowait = arrive_then_give_back
    await pool.release(held)
    del pool._queue.put_nowait
    await asyncio.gather(waiting, *arriving)
    return served


async def test_connections_are_handed_out_in_the_order_asked_for(database_url: str) -> None:
    ours = await _one_connection_pool(database_url, FairPool)
    theirs = await _one_connection_pool(database_url, asyncpg.create_pool)
    try:
        assert await _order_served(ours) == ["waiting", "later"]
        # asyncpg's own pool lets the later request take it first (what FairPool is for)
        assert await _order_served(theirs) == ["later", "waiting"]
        async with ours.acquire() as connection:  # and it works as a pool
            assert await connection.fetchval("SELECT 1") == 1
        assert ours._turns._value == 1  # every turn given back
    finally:
        await ours.close()
        await theirs.close()


async def test_a_clean_connection_goes_back_in_place_and_any_other_by_asyncpg(
        database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A clean release waits for nothing, so it runs in place, without asyncpg's task and
    timer; one that must be reset, or holds a listener, goes asyncpg's way."""
    pool = await _one_connection_pool(database_url, FairPool)
    shielded: list[object] = []
    shield = asyncio.shield

    def counted(released: Any) -> Any:
        shielded.append(released)
        return shield(released)

    monkeypatch.setattr(asyncio, "shield", counted)
    try:
        held = await pool.acquire()
        pid = await held.fetchval("SELECT pg_backend_pid()")
        await held.execute("SET application_name = 'kept'")  # what the reset would undo
        held._con.mark_clean()
        await pool.release(held)
        assert shielded == [] and pool._turns._value == 1
        async with pool.acquire() as again:  # the same session, not reset
            assert await again.fetchval("SELECT pg_backend_pid()") == pid
            assert await again.fetchval("SHOW application_name") == "kept"
        assert len(shielded) == 1  # not marked clean: reset by asyncpg's release
        held = await pool.acquire()
        assert await held.fetchval("SHOW application_name") != "kept"
        await held.add_listener("somewhere", lambda *_: None)
        held._con.mark_clean()
        with pytest.warns(asyncpg.InterfaceWarning):  # asyncpg's, on a listener left behind
            await pool.release(held)
        assert len(shielded) == 2 and pool._turns._value == 1
    finally:
        await pool.close()


async def test_an_idle_connection_is_taken_in_place_and_any_other_by_asyncpg(
        database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """An idle connection, open and current, is handed out without asyncpg's acquire; one
    expired or closed goes asyncpg's way, which connects anew."""
    pool = await _one_connection_pool(database_url, FairPool)
    theirs: list[float | None] = []
    acquire = asyncpg.Pool._acquire

    async def counted(self: asyncpg.Pool, timeout: float | None) -> Any:  # noqa: ASYNC109
        theirs.append(timeout)
        return await acquire(self, timeout)

    monkeypatch.setattr(asyncpg.Pool, "_acquire", counted)

    async def backend() -> int:
        async with pool.acquire() as connection:
            return int(await connection.fetchval("SELECT pg_backend_pid()"))

    try:
        first = await backend()
        assert await backend() == first and theirs == []  # the same session, in place
        await pool.expire_connections()
        second = await backend()
        assert second != first and len(theirs) == 1
        async with pool.acquire() as connection:
            connection.terminate()
        assert await backend() not in (first, second) and len(theirs) == 2
        assert await backend() and len(theirs) == 2  # open and current again: in place
        assert pool._turns._value == 1
    finally:
        await pool.close()


async def test_a_connection_lost_in_use_gives_its_turn_back(database_url: str) -> None:
    """PostgreSQL ends a session while a request holds it between statements (a restart, an
    administrator): once released, the pool serves again. asyncpg detaches a lost connection
    from its holder as soon as it sees the socket close, before the release comes; its turn
    had been kept, and ten such losses would have left the pool with no turn to give. (A
    statement under way when the session ends fails first and is released before: the
    restart fault test, faults/test_faults.py, lost no turn that way.)"""
    pool = await _one_connection_pool(database_url, FairPool)
    other = await db.connect(database_url)
    try:
        for _ in range(3):
            held = await pool.acquire()
            lost = asyncio.Event()
            held.add_termination_listener(lambda *_, lost=lost: lost.set())
            pid = await held.fetchval("SELECT pg_backend_pid()")
            assert await other.fetchval("SELECT pg_terminate_backend($1)", pid)
            async with asyncio.timeout(10):
                await lost.wait()
            assert held._con is None  # detached by asyncpg, before any release
            with pytest.raises(asyncpg.InterfaceError, match="released back to the pool"):
                await held.fetchval("SELECT 1")
            await pool.release(held)
            await pool.release(held)  # twice: the turn still comes back once
            assert pool._turns._value == 1
        async with asyncio.timeout(10), pool.acquire() as connection:
            assert await connection.fetchval("SELECT 1") == 1
    finally:
        await other.close()
        await pool.close()


async def test_a_closed_pool_refuses_as_asyncpg_s_does(database_url: str) -> None:
    pool = await _one_connection_pool(database_url, FairPool)
    await pool.close()
    with pytest.raises(asyncpg.InterfaceError, match="closed"):
        await pool.acquire()
    assert pool._turns._value == 1
