"""core/orm.py: the client of the running task, and a pool that sends no reset query after
a use, which is safe because the server's code leaves no session state behind."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import asyncpg
import pytest
from tortoise.exceptions import OperationalError
from tortoise.transactions import in_transaction

from core import orm
from core.roster.models import Supervisor

ROOT = Path(__file__).resolve().parents[2]
SERVER_CODE = [p for d in ("core", "policies", "tenants", "schema")
               for p in (ROOT / d).rglob("*.py")]


class ResetSpy:
    """Counts the reset queries sent to pooled connections."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        original = asyncpg.Connection.execute

        async def execute(connection: asyncpg.Connection, query: str, *args: object,
                          **kwargs: object) -> str:
            if query == connection.get_reset_query():
                self.count += 1
            return await original(connection, query, *args, **kwargs)

        monkeypatch.setattr(asyncpg.Connection, "execute", execute)


async def _session_is_clean() -> None:
    """Whichever pooled connection answers: no advisory lock, no listener, no setting."""
    conn = orm.client()
    for _ in range(5):
        _, rows = await conn.execute_query(
            "SELECT (SELECT count(*) FROM pg_locks "
            "WHERE locktype = 'advisory' AND pid = pg_backend_pid()) AS locks, "
            "(SELECT count(*) FROM pg_listening_channels()) AS listening, "
            "current_setting('application_name') AS name")
        assert rows[0]["locks"] == 0 and rows[0]["listening"] == 0
        assert rows[0]["name"] != "left behind"


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


async def test_no_use_is_followed_by_the_reset_query_and_none_leaves_state(
        roster_demo: None, monkeypatch: pytest.MonkeyPatch) -> None:
    spy = ResetSpy(monkeypatch)
    conn = orm.client()
    assert len(await Supervisor.all().limit(3)) == 3
    assert await conn.fetch_value("SELECT $1::int + 1", [1]) == 2
    async with in_transaction():
        await conn.execute_query("SELECT pg_advisory_xact_lock(7)")
    with pytest.raises(OperationalError):
        await conn.execute_query("SELECT * FROM no_such_table")
    with pytest.raises(OperationalError):
        await conn.fetch_value("SELECT * FROM no_such_table", [])
    with pytest.raises(RuntimeError):
        async with in_transaction():
            await Supervisor.all().first()
            raise RuntimeError("rolled back")
    assert spy.count == 0
    await _session_is_clean()


async def test_a_script_is_reset_after_it(roster_demo: None,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    spy = ResetSpy(monkeypatch)
    await orm.client().execute_script("SET application_name = 'left behind'")
    assert spy.count == 1
    await _session_is_clean()


@pytest.mark.parametrize("way", ["execute_query", "fetch_value"])
async def test_a_cancelled_statement_leaves_no_busy_connection(roster_demo: None,
                                                               way: str) -> None:
    conn = orm.client()
    statement = conn.execute_query("SELECT pg_sleep(30)") if way == "execute_query" else (
        conn.fetch_value("SELECT pg_sleep(30)", []))
    task = asyncio.create_task(statement)
    await asyncio.sleep(0.3)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    for _ in range(5):
        _, rows = await conn.execute_query(
            "SELECT count(*) AS n FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep%' "
            "AND state <> 'idle'")
        assert rows[0]["n"] == 0
    assert await Supervisor.all().count() > 0


# What would leave session state on a pooled connection: a session-level advisory lock, a
# setting not local to its transaction, a listener, a cursor held outside a transaction.
_SESSION_STATE = re.compile(
    r"pg_advisory_lock|pg_try_advisory_lock\b|(^|[;\"'])\s*SET\s+(?!LOCAL\b)(SESSION\s+)?[a-z_.]+"
    r"\s*(=|TO\b)|set_config\([^)]*false\)|\bLISTEN\s+\w|WITH\s+HOLD", re.MULTILINE)


def test_the_server_s_code_sets_no_session_state() -> None:
    """The invariant the reset-free pool stands on, read from the source: the one listener
    has a connection of its own (core/events.py), outside the pool."""
    found = [f"{p.relative_to(ROOT)}: {m.group(0)}" for p in SERVER_CODE
             for m in _SESSION_STATE.finditer(p.read_text())]
    assert found == []
    events = (ROOT / "core/events.py").read_text()
    assert "asyncpg.connect(" in events and "add_listener" in events
