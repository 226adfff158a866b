"""The audit trail: every mutation and sign-in recorded, chained, and checked."""

from __future__ import annotations

import asyncio
import functools
import itertools
import logging
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import asyncpg
import orjson
import pytest
from asyncpg.exceptions import RaiseError
from hypothesis import given, settings
from hypothesis import strategies as st
from tortoise.exceptions import OperationalError
from tortoise.transactions import in_transaction

from core import audit, db, orm
from core.audit import AuditRecord
from core.jobs import periodic
from tests.support import Api, QueryCounter


async def test_sign_ins_and_mutations_are_recorded_with_request_id(api: Api, demo: None) -> None:
    await AuditRecord.all().count()
    response = await api.client.post("/graphql", json={"query": (
        'mutation { login(username: "admin.dc", password: "demo-pass-2020") { accessToken } }'
    )}, headers={"X-Request-ID": "trace-1"})
    token = response.json()["data"]["login"]["accessToken"]
    await api.login("admin.dc", "wrong-password")
    await api.gql('mutation { createAccount(username: "clerk.dc", kind: STAFF, '
                  'homePath: "jl.th.dc", password: "long-enough-pass") { username } }',
                  token=token)
    login = await AuditRecord.get(action="login")
    assert (login.actor, login.request_id, login.jurisdiction) == ("admin.dc", "trace-1",
                                                                    "jl.th.dc")
    failed = await AuditRecord.get(action="login.failed")
    assert failed.actor == "admin.dc" and "password" not in str(failed.detail)
    created = await AuditRecord.get(action="account.create", actor="admin.dc")
    assert created.target_type == "account" and created.jurisdiction == "jl.th.dc"
    assert await audit.verify() is None


async def test_records_are_chained_by_hash(demo: None) -> None:
    records = await AuditRecord.all().order_by("id")
    assert records[0].prev_hash == audit.GENESIS
    for before, after in itertools.pairwise(records):
        assert after.prev_hash == before.hash


async def test_racing_appends_keep_one_chain(demo: None) -> None:
    """Lone appends (no transaction of their own) and appends inside transactions that commit
    or roll back, all at once: one linear chain of the committed ones, no fork."""
    before = await AuditRecord.all().count()
    actor = audit.Actor(None, "race")

    async def lone(n: int) -> None:
        await audit.record(actor, "race.lone", target_id=n)

    async def inside(n: int, keep: bool) -> None:
        try:
            async with in_transaction():
                await audit.record(actor, "race.inside", target_id=n)
                await asyncio.sleep(0.005)  # the lock is held until the commit
                if not keep:
                    raise RuntimeError("roll back")
        except RuntimeError:
            pass

    await asyncio.gather(*(lone(n) for n in range(20)),
                         *(inside(n, keep=n % 3 != 0) for n in range(15)))
    assert await AuditRecord.filter(action="race.lone").count() == 20
    assert await AuditRecord.filter(action="race.inside").count() == 10
    assert await AuditRecord.all().count() == before + 30
    records = await AuditRecord.all().order_by("id")
    assert len({r.prev_hash for r in records}) == len(records)
    for earlier, later in itertools.pairwise(records):
        assert later.prev_hash == earlier.hash
    assert await audit.verify() is None


async def test_lone_records_of_concurrent_requests_are_appended_together(
        owner: asyncpg.Connection, demo: None) -> None:
    """Twenty reads that disclose something at once: their records go in one statement, in the
    order they came; each caller goes on only once its record is committed (another
    connection sees it), and the chain holds."""
    actor = audit.Actor(None, "reader")
    seen: list[int] = []
    one_at_a_time = asyncio.Lock()  # the owner's one connection

    async def read(n: int) -> None:
        await audit.record(actor, "batch.read", target_type="case", target_id=n,
                           detail={"cases": [n]})
        async with one_at_a_time:
            seen.append(await owner.fetchval(
                "SELECT count(*) FROM audit_record WHERE action = 'batch.read' "
                "AND target_id = $1", str(n)))

    with QueryCounter() as counter:
        await asyncio.gather(*(read(n) for n in range(20)))
    appends = [s for s in counter.statements if "audit_append_records" in s]
    assert len(appends) == 1
    assert seen == [1] * 20
    records = await AuditRecord.filter(action="batch.read").order_by("id")
    assert [r.target_id for r in records] == [str(n) for n in range(20)]
    assert [r.detail for r in records] == [{"cases": [n]} for n in range(20)]
    assert await audit.verify() is None


async def test_a_failed_batch_fails_each_of_its_requests_and_the_next_is_appended(
        demo: None, monkeypatch: pytest.MonkeyPatch) -> None:
    actor = audit.Actor(None, "reader")
    before = await AuditRecord.all().count()
    monkeypatch.setattr(audit, "_APPEND", "SELECT no_such_function($1, $2, $3)")
    failed = await asyncio.gather(*(audit.record(actor, "batch.lost", target_id=n)
                                    for n in range(5)), return_exceptions=True)
    assert all(isinstance(f, OperationalError) for f in failed), failed
    monkeypatch.undo()
    await asyncio.gather(*(audit.record(actor, "batch.kept", target_id=n) for n in range(5)))
    assert await AuditRecord.filter(action="batch.lost").count() == 0
    assert await AuditRecord.all().count() == before + 5
    assert await audit.verify() is None


async def test_the_application_role_cannot_change_or_remove_records(demo: None) -> None:
    """R-audit: the application's connections act as a role without UPDATE or DELETE on
    audit_record (migration 0004); the guard trigger is a second wall behind it."""
    conn = orm.client()
    rows = await conn.execute_query_dict(
        "SELECT current_user AS who, has_table_privilege('audit_record', 'INSERT') AS i, "
        "has_table_privilege('audit_record', 'UPDATE') AS u, "
        "has_table_privilege('audit_record', 'DELETE') AS d, "
        "has_table_privilege('audit_record', 'TRUNCATE') AS t")
    assert rows == [{"who": db.APP_ROLE, "i": True, "u": False, "d": False, "t": False}]
    before = [(r.id, r.hash) for r in await AuditRecord.all().order_by("id")]
    record = await AuditRecord.all().order_by("id").first()
    assert record is not None
    record.actor = "someone-else"
    with pytest.raises(OperationalError, match="permission denied"):
        await record.save()
    with pytest.raises(OperationalError, match="permission denied"):
        await AuditRecord.filter(id=record.id).delete()
    assert [(r.id, r.hash) for r in await AuditRecord.all().order_by("id")] == before


async def test_the_table_owner_is_stopped_by_the_guard(owner: asyncpg.Connection,
                                                       demo: None) -> None:
    record_id = await owner.fetchval("SELECT min(id) FROM audit_record")
    with pytest.raises(RaiseError, match="append-only"):
        await owner.execute("UPDATE audit_record SET actor = 'x' WHERE id = $1", record_id)
    with pytest.raises(RaiseError, match="append-only"):
        await owner.execute("DELETE FROM audit_record WHERE id = $1", record_id)


async def _tamper(owner: asyncpg.Connection, statement: str, record_id: int) -> None:
    """What an intruder with the table owner's rights could do: switch the guard off."""
    async with owner.transaction():
        await owner.execute("ALTER TABLE audit_record DISABLE TRIGGER audit_record_append_only")
        await owner.execute(statement, record_id)
        await owner.execute("ALTER TABLE audit_record ENABLE TRIGGER audit_record_append_only")


TAMPERING = {
    "actor": "UPDATE audit_record SET actor = 'nobody' WHERE id = $1",
    "detail": "UPDATE audit_record SET detail = '{}' WHERE id = $1",
    "time": "UPDATE audit_record SET at = at - interval '1 day' WHERE id = $1",
    "hash": "UPDATE audit_record SET hash = md5(hash) || md5(hash) "
                               "WHERE id = $1",
}


@pytest.mark.parametrize("position", [0, 3, -1])
@pytest.mark.parametrize("change", sorted(TAMPERING))
async def test_verify_names_the_tampered_record(owner: asyncpg.Connection, demo: None,
                                                position: int, change: str) -> None:
    ids = [r.id for r in await AuditRecord.all().order_by("id").only("id")]
    assert len(ids) > 5 and await audit.verify() is None
    await _tamper(owner, TAMPERING[change], ids[position])
    assert await audit.verify() == ids[position]


async def test_verify_names_the_record_after_a_removed_one(owner: asyncpg.Connection,
                                                           demo: None) -> None:
    ids = [r.id for r in await AuditRecord.all().order_by("id").only("id")]
    await _tamper(owner, "DELETE FROM audit_record WHERE id = $1", ids[4])
    assert await audit.verify() == ids[5]


async def test_cli_audit_verify_exit_code_and_message(demo: None, database_url: str,
                                                      owner: asyncpg.Connection) -> None:
    root = Path(__file__).resolve().parents[2]
    env = {"DATABASE_URL": database_url, "PATH": "/usr/bin:/bin",
           "DATA_DIR": os.environ["DATA_DIR"]}
    ok = subprocess.run([sys.executable, "-m", "core", "audit-verify"], cwd=root, env=env,
                        capture_output=True, text=True, check=False)
    assert ok.returncode == 0 and "intact" in ok.stdout
    ids = [r.id for r in await AuditRecord.all().order_by("id").only("id")]
    await _tamper(owner, TAMPERING["actor"], ids[2])
    broken = subprocess.run([sys.executable, "-m", "core", "audit-verify"], cwd=root, env=env,
                            capture_output=True, text=True, check=False)
    assert broken.returncode == 1
    assert f"broken at record {ids[2]}" in broken.stdout


async def _forge_from(owner: asyncpg.Connection, record_id: int) -> None:
    """What the table owner could do without a witness: change a record and recompute every
    hash after it, leaving a chain that checks out on its own."""
    await _tamper(owner, TAMPERING["actor"], record_id)
    rows = await AuditRecord.filter(id__gte=record_id).order_by("id")
    before = await AuditRecord.filter(id__lt=record_id).order_by("-id").first()
    prev = before.hash if before else audit.GENESIS
    for rec in rows:
        digest = audit._digest(prev, audit._hashed_fields(
            rec.at, rec.actor_id, rec.actor, rec.action, rec.target_type, rec.target_id,
            rec.jurisdiction, rec.request_id, rec.detail))
        await _tamper(owner, f"UPDATE audit_record SET prev_hash = '{prev}', "
                             f"hash = '{digest}' WHERE id = $1", rec.id)
        prev = digest


async def test_a_witnessed_head_shows_the_newest_records_removed(
        owner: asyncpg.Connection, demo: None) -> None:
    witnessed = await audit.head()
    assert witnessed is not None and await audit.verify(witnessed) is None
    newest = [r.id for r in await AuditRecord.all().order_by("-id").limit(3)]
    await _tamper(owner, "DELETE FROM audit_record WHERE id >= $1", newest[-1])
    assert await audit.verify() is None  # the chain alone cannot tell
    assert await audit.verify(witnessed) == witnessed.id
    earlier = await audit.head()
    assert earlier is not None and earlier.id < witnessed.id
    assert await audit.verify(earlier) is None  # an older witness still holds


async def test_a_witnessed_head_shows_a_recomputed_chain(owner: asyncpg.Connection,
                                                         demo: None) -> None:
    witnessed = await audit.head()
    assert witnessed is not None
    ids = [r.id for r in await AuditRecord.all().order_by("id").only("id")]
    await _forge_from(owner, ids[2])
    assert await audit.verify() is None
    assert await audit.verify(witnessed) == witnessed.id


async def test_heads_are_read_and_written_as_id_and_hash(demo: None) -> None:
    found = await audit.head()
    assert found is not None and audit.Head.parse(str(found)) == found
    for bad in ("12", "x:" + "0" * 64, "3:" + "g" * 64, "3:abc"):
        with pytest.raises(ValueError):
            audit.Head.parse(bad)


async def test_cli_audit_head_and_verify_with_it(demo: None, database_url: str,
                                                 owner: asyncpg.Connection) -> None:
    root = Path(__file__).resolve().parents[2]
    env = {"DATABASE_URL": database_url, "PATH": "/usr/bin:/bin",
           "DATA_DIR": os.environ["DATA_DIR"]}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "core", *args], cwd=root, env=env,
                              capture_output=True, text=True, check=False)

    printed = cli("audit-head").stdout.strip().splitlines()[-1]
    witnessed = audit.Head.parse(printed)
    held = cli("audit-verify", "--head", printed)
    assert held.returncode == 0 and f"holding head {witnessed.id}" in held.stdout
    await _tamper(owner, "DELETE FROM audit_record WHERE id = $1", witnessed.id)
    gone = cli("audit-verify", "--head", printed)
    assert gone.returncode == 1
    assert f"broken at record {witnessed.id}: the witnessed head" in gone.stdout
    assert cli("audit-verify", "--head", "nonsense").returncode == 2  # refused by argparse


async def test_the_head_is_logged_for_witnesses(demo: None,
                                                caplog: pytest.LogCaptureFixture) -> None:
    stop = asyncio.Event()
    with caplog.at_level(logging.INFO, logger="core.audit"):
        job = asyncio.create_task(periodic(stop, "audit-head", 3600, audit.witness))
        await asyncio.sleep(0.3)
        stop.set()
        await job
    found = await audit.head()
    assert [getattr(r, "head", None) for r in caplog.records
            if r.message == "audit head"] == [str(found)]


async def test_any_text_and_time_is_stored_as_given_and_verifies(demo: None) -> None:
    """The records go to PostgreSQL as one JSON array (migration 0017): quotes, backslashes,
    line breaks, Chinese and nested values, a time on the whole second and one with
    microseconds, alone and in a transaction, come back as given, and the chain holds."""
    from core import clock

    odd = {"text": 'a "quoted" \\ back\nslash\t营商环境', "nested": [1, [2, {"k": None}]],
           "flag": True, "big": 2**53}
    times = [datetime(2026, 12, 7, 9, 0, 0, tzinfo=UTC),
             datetime(2026, 12, 7, 9, 0, 0, 1, tzinfo=UTC)]
    actor = audit.Actor(None, "odd 审计")
    try:
        for at in times:
            clock.set_source(functools.partial(lambda fixed: fixed, at))
            await asyncio.gather(*(audit.record(actor, "odd.lone", target_id=n, detail=odd)
                                   for n in range(3)))
            async with in_transaction():
                await audit.record(actor, "odd.in_transaction", jurisdiction="jl.th.dc",
                                   detail=odd)
    finally:
        clock.set_source(None)
    stored = await AuditRecord.filter(actor="odd 审计").order_by("id")
    assert [(r.at, r.action) for r in stored] == [
        (at, action) for at in times
        for action in ["odd.lone"] * 3 + ["odd.in_transaction"]]
    assert all(r.detail == odd and r.actor_id is None for r in stored)
    assert await audit.verify() is None


async def test_a_server_of_the_release_before_still_appends_during_a_rolling_update(
        demo: None) -> None:
    """Migration 0017 leaves 0012's function in place: a server not yet restarted appends its
    records as ten column arrays, into the same chain."""
    row = audit._row(audit.Actor(None, "old server"), "rolling.update", target_id=1,
                     detail={"release": "before"})
    columns = [[value] for value in row]
    columns[8] = [orjson.dumps(row[8]).decode()]  # the detail went as JSON text
    await orm.client().execute_query(
        "SELECT audit_append_many($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        [audit._CHAIN_LOCK, audit.GENESIS, *columns])
    await audit.record(audit.Actor(None, "new server"), "rolling.update", target_id=2)
    stored = await AuditRecord.filter(action="rolling.update").order_by("id")
    assert [(r.actor, r.target_id) for r in stored] == [("old server", "1"), ("new server", "2")]
    assert stored[0].detail == {"release": "before"}
    assert await audit.verify() is None


def test_the_hashed_text_keeps_the_format_the_chain_was_hashed_over() -> None:
    """The records so far were hashed over this text (sorted keys, no spaces, Chinese as it
    is, `1e-07` as json writes it, integers past 64 bits), and verify must still find them
    whole: the format is pinned here, written out."""
    from datetime import UTC, datetime

    fields = audit._hashed_fields(
        datetime(2026, 12, 8, 1, 2, 3, 4000, tzinfo=UTC), 7, '张三"', "case.submit", "case",
        "12", "jl.th.dc", "req-1", {"b": [1, 2.5, 1e-07], "a": "举报", "n": 2**70})
    assert audit._body(fields) == (
        '{"action":"case.submit","actor":"张三\\"","actor_id":7,'
        '"at":"2026-12-08T01:02:03.004000+00:00","detail":{"a":"举报","b":[1,2.5,1e-07],'
        '"n":1180591620717411303424},"jurisdiction":"jl.th.dc","request_id":"req-1",'
        '"target_id":"12","target_type":"case"}')


async def test_a_batch_is_inserted_as_the_release_before_inserted_it(
        owner: asyncpg.Connection, demo: None) -> None:
    """Migration 0018 inserts a batch with one statement: its records, in the chain's order,
    with consecutive ids, are field for field and hash for hash what 0017's function (a
    statement per record) made of the same batch after the same record."""
    from importlib import import_module

    before = import_module("migrations.0017_audit_append_records").FUNCTION.replace(
        "FUNCTION audit_append_records(", "FUNCTION pg_temp.append_as_before(")
    await owner.execute(before)
    rows = [audit._row(audit.Actor(n, f"batch {n}"), "batch.append", target_id=n,
                       detail={"n": n, "text": "审计 \"q\""}) for n in range(5)]
    lock, genesis, records = audit._arguments(rows)
    columns = ("at, actor_id, actor, action, target_type, target_id, jurisdiction, "
               "request_id, detail, prev_hash, hash")
    made = {}
    for function in ("pg_temp.append_as_before", "audit_append_records"):
        undone = owner.transaction()
        await undone.start()
        last = await owner.fetchrow("SELECT id, hash FROM audit_record ORDER BY id DESC LIMIT 1")
        await owner.execute(f"SELECT {function}($1, $2, $3)", lock, genesis, records)
        stored = await owner.fetch(f"SELECT id, {columns} FROM audit_record WHERE id > $1 "
                                   "ORDER BY id", last["id"])
        await undone.rollback()
        assert [r["actor"] for r in stored] == [f"batch {n}" for n in range(5)]
        assert [r["id"] for r in stored] == list(range(stored[0]["id"], stored[0]["id"] + 5))
        assert [r["prev_hash"] for r in stored] == [last["hash"]] + [
            r["hash"] for r in stored[:-1]]
        made[function] = [tuple(r)[1:] for r in stored]
    assert made["pg_temp.append_as_before"] == made["audit_append_records"]


@settings(max_examples=300, deadline=None)
@given(at=st.datetimes(timezones=st.sampled_from([UTC, timezone(timedelta(hours=8))])
                       | st.timezones()))
def test_a_record_s_time_is_written_as_isoformat_writes_it(at: datetime) -> None:
    """The hashed text's time, whoever writes it: to the microsecond, a zero fraction and
    other zones included."""
    assert audit._time_text(at) == at.isoformat(timespec="microseconds")


async def test_the_server_cannot_step_out_of_its_role(demo: None) -> None:
    """The server logs in as its own role, no superuser and owner of nothing: from its own
    connection it can neither become the owner (`SET ROLE`), nor turn the guard trigger off
    (`session_replication_role`, `DISABLE TRIGGER`), nor take a table over; so an audit
    record stays as written. This process's pool is opened as a server's is (db.init)."""
    conn = orm.client()
    who = await conn.execute_query_dict(
        "SELECT current_user AS current, session_user AS session, r.rolsuper AS super, "
        "(SELECT count(*) FROM pg_class c WHERE c.relowner = r.oid) AS owned, "
        "(SELECT count(*) FROM pg_auth_members m WHERE m.member = r.oid) AS memberships "
        "FROM pg_roles r WHERE r.rolname = session_user")
    assert who == [{"current": db.APP_ROLE, "session": db.APP_ROLE, "super": False,
                    "owned": 0, "memberships": 0}]
    owner = (await conn.execute_query_dict(
        "SELECT tableowner FROM pg_tables WHERE tablename = 'audit_record'"))[0]["tableowner"]
    record = await AuditRecord.all().order_by("id").first()
    assert record is not None
    for statement in (f'SET ROLE "{owner}"', "SET ROLE postgres",
                      "SET session_replication_role = replica",
                      "ALTER TABLE audit_record DISABLE TRIGGER ALL",
                      f'ALTER TABLE audit_record OWNER TO "{db.APP_ROLE}"',
                      f"UPDATE audit_record SET actor = 'x' WHERE id = {record.id}"):
        async with in_transaction() as tx:
            with pytest.raises(OperationalError, match=r"permission denied|must be"):
                await tx.execute_script(statement)
    assert (await AuditRecord.get(id=record.id)).hash == record.hash
