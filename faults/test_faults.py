"""Faults: the server killed mid-write, PostgreSQL restarted under load, the LISTEN
connection cut. Nothing acknowledged is lost, nothing is half-written, and the server recovers
by itself."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
from collections.abc import Callable

import httpx
import pytest
import websockets
from websockets.typing import Subprotocol

from core.cases.tally import RECOUNT_SQL
from core.config import ROOT
from core.jobs import OUTAGE_RETRY_S
from faults.conftest import DATABASE, PGDATA, Cluster, Server, login
from tests.support import wait_ready

SUBMIT = "mutation($i: CaseInput!) { submitCase(input: $i) { id } }"
PROTOCOL = Subprotocol("graphql-transport-ws")


async def _agency(cluster: Cluster) -> str:
    conn = await cluster.owner()
    try:
        return str(await conn.fetchval(
            "SELECT a.id FROM agency a JOIN jurisdiction j ON j.id = a.jurisdiction_id "
            "WHERE j.path = 'jl.th.dc' ORDER BY a.id LIMIT 1"))
    finally:
        await conn.close()


def _case(agency: str, title: str) -> dict:
    return {"query": SUBMIT, "variables": {"i": {
        "kind": "REPORT", "category": "EFFICIENCY", "agency": agency, "title": title,
        "description": "故障测试", "occurredAt": "2026-01-01T00:00:00Z"}}}


async def test_kill_9_during_a_stream_of_submissions_loses_no_acknowledged_case(
        cluster: Cluster, start_server: Callable[[], Server]) -> None:
    server = start_server()
    await server.ready()
    agency = await _agency(cluster)
    tokens = [await login(server.base, f"sv.dc.{n:03d}") for n in range(1, 9)]
    acknowledged: list[int] = []

    async def stream(token: str, writer: int) -> None:
        async with httpx.AsyncClient(base_url=server.base, timeout=10, headers={
                "Authorization": f"Bearer {token}"}) as client:
            for n in range(100_000):
                try:
                    response = await client.post("/graphql",
                                                 json=_case(agency, f"kill-{writer}-{n}"))
                except httpx.TransportError:
                    return  # the server is gone: this one's fate is unknown, and allowed
                acknowledged.append(int(response.json()["data"]["submitCase"]["id"]))

    writers = [asyncio.create_task(stream(t, i)) for i, t in enumerate(tokens)]
    while len(acknowledged) < 40:
        assert not all(w.done() for w in writers), [w.exception() for w in writers]
        await asyncio.sleep(0.05)
    server.process.send_signal(signal.SIGKILL)
    await asyncio.wait_for(asyncio.gather(*writers), timeout=30)

    conn = await cluster.owner()
    try:
        cases = {r["id"]: r for r in await conn.fetch(
            "SELECT c.id, c.reporter_id, "
            "(SELECT count(*) FROM case_event e WHERE e.case_id = c.id "
            " AND e.kind = 'SUBMITTED') AS steps, "
            "(SELECT count(*) FROM audit_record a WHERE a.target_type = 'case' "
            " AND a.target_id = c.id::text AND a.action = 'case.submitted') AS audits, "
            "(SELECT count(*) FROM point_entry p WHERE p.source = 'case:' || c.id || "
            " ':submitted') + (SELECT count(*) FROM pending_points p "
            " WHERE p.source = 'case:' || c.id || ':submitted') AS points, "
            "(SELECT count(*) FROM notification n WHERE n.subject = 'case' "
            " AND n.subject_id = c.id AND n.kind = 'RECEIPT') AS receipts "
            "FROM supervision_case c WHERE c.title LIKE 'kill-%'")}
        assert set(acknowledged) <= set(cases), "an acknowledged case is missing"
        for case in cases.values():  # acknowledged or not: whole or absent
            assert (case["steps"], case["audits"], case["points"], case["receipts"]) == (
                1, 1, 1, 1), dict(case)
        tally = {tuple(r[:4]): r[4] for r in await conn.fetch(
            "SELECT jurisdiction_id, month, dimension, key, n FROM case_tally WHERE n <> 0")}
        recount = {tuple(r[:4]): r[4] for r in await conn.fetch(RECOUNT_SQL)}
        assert tally == recount
    finally:
        await conn.close()
    restarted = start_server()
    await restarted.ready()
    verify = subprocess.run([sys.executable, "-m", "core", "audit-verify"], cwd=ROOT,
                            env={"DATABASE_URL": cluster.url, "PATH": "/usr/bin:/bin"},
                            capture_output=True, text=True,
                            check=False)
    assert verify.returncode == 0 and "intact" in verify.stdout, verify.stdout + verify.stderr


async def test_postgres_restarted_under_load_the_server_recovers_by_itself(
        cluster: Cluster, start_server: Callable[[], Server]) -> None:
    server = start_server()
    await server.ready()
    token = await login(server.base, "admin.dc")
    outcomes: list[tuple[str, float]] = []
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    async def load() -> None:
        async with httpx.AsyncClient(base_url=server.base, timeout=20, headers={
                "Authorization": f"Bearer {token}"}) as client:
            while not stop.is_set():
                try:
                    response = await client.post("/graphql", json={
                        "query": "{ supervisors(first: 5) { edges { node { id } } } }"})
                    body = response.json()
                    outcome = ("ok" if response.status_code == 200 and "errors" not in body
                               else body.get("errors", [{}])[0].get("extensions", {}).get(
                                   "code", str(response.status_code)))
                except httpx.TransportError as exc:
                    outcome = type(exc).__name__
                outcomes.append((outcome, loop.time()))
                await asyncio.sleep(0.01)

    clients = [asyncio.create_task(load()) for _ in range(4)]
    async with httpx.AsyncClient(base_url=server.base, timeout=20) as probe:
        await asyncio.sleep(1)
        await asyncio.to_thread(cluster.stop)
        down_at = loop.time()
        try:
            for _ in range(100):
                ready = await probe.get("/readyz")
                if ready.status_code == 503:
                    break
                await asyncio.sleep(0.1)
            assert ready.status_code == 503, ready.text
            assert ready.json()["status"] == "database unreachable"
            await asyncio.sleep(2)  # the outage lasts
            assert (await probe.get("/readyz")).status_code == 503
        finally:
            restart_at = loop.time()
            await asyncio.to_thread(cluster.start)
        for _ in range(300):
            if (await probe.get("/readyz")).status_code == 200:
                ready_at = loop.time()
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("not ready 30 s after PostgreSQL came back")
        await asyncio.sleep(2)
    stop.set()
    await asyncio.gather(*clients)
    assert server.process.poll() is None, "the server process did not survive"
    during = {o for o, at in outcomes if down_at + 0.5 < at < restart_at}
    assert during == {"SERVICE_UNAVAILABLE"}, during  # a clear answer, not a masked error
    after = [o for o, at in outcomes if at > ready_at + 0.5]
    assert after and set(after) == {"ok"}, set(after)


async def test_a_cut_listen_connection_resumes_and_subscriptions_still_receive(
        cluster: Cluster, start_server: Callable[[], Server]) -> None:
    server = start_server()
    await server.ready()
    office, reporter = await login(server.base, "admin.dc"), await login(server.base,
                                                                         "sv.dc.009")
    agency = await _agency(cluster)
    conn, admin = await cluster.owner(), await cluster.owner("postgres")
    url = server.base.replace("http", "ws") + "/graphql"
    try:
        async with websockets.connect(url, subprotocols=[PROTOCOL]) as ws, \
                httpx.AsyncClient(base_url=server.base, timeout=10, headers={
                    "Authorization": f"Bearer {reporter}"}) as client:
            await ws.send(json.dumps({"type": "connection_init",
                                      "payload": {"Authorization": f"Bearer {office}"}}))
            assert json.loads(await ws.recv())["type"] == "connection_ack"
            await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {
                "query": "subscription { caseEvents { kind caseId } }"}}))
            await asyncio.sleep(0.5)
            listeners = "SELECT pid FROM pg_stat_activity WHERE query LIKE 'LISTEN%' " \
                        "AND datname = current_database()"
            # The listener is cut and cannot come back for a while (existing connections,
            # the server's pool among them, go on working).
            await admin.execute(f'ALTER DATABASE "{DATABASE}" WITH ALLOW_CONNECTIONS false')
            try:
                cut = {r["pid"] for r in await conn.fetch(listeners)}
                await conn.execute(
                    "SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) pid", list(cut))
                await asyncio.sleep(1)
                # A case while the listener is away: its notice is lost, the catch-up is not.
                first = (await client.post("/graphql", json=_case(agency, "cut-1"))).json()
                await asyncio.sleep(0.5)
            finally:
                await admin.execute(f'ALTER DATABASE "{DATABASE}" WITH ALLOW_CONNECTIONS true')
            assert cut
            message = json.loads(await asyncio.wait_for(ws.recv(), timeout=15))
            assert message["payload"]["data"]["caseEvents"] == {
                "kind": "NEW_CASE", "caseId": first["data"]["submitCase"]["id"]}
            for _ in range(100):
                back = [r["pid"] for r in await conn.fetch(listeners)]
                if back and not set(back) & set(cut):
                    break
                await asyncio.sleep(0.1)
            else:
                raise AssertionError("the listener did not come back")
            second = (await client.post("/graphql", json=_case(agency, "cut-2"))).json()
            message = json.loads(await asyncio.wait_for(ws.recv(), timeout=15))
            assert message["payload"]["data"]["caseEvents"] == {
                "kind": "NEW_CASE", "caseId": second["data"]["submitCase"]["id"]}
    finally:
        await conn.close()
        await admin.close()


async def test_a_server_started_while_postgresql_is_down_serves_once_it_is_back(
        cluster: Cluster, start_server: Callable[[], Server]) -> None:
    """After a power cut the application's machine may come up before the database's: the
    server starts anyway, says it is alive and not ready, answers SERVICE_UNAVAILABLE, and
    serves once PostgreSQL is back, without a restart; its daily R2.2 expiry, which failed at
    start, runs again soon rather than the next day."""
    owner = await cluster.owner()
    try:  # a term that has ended: the start-up run of the expiry job would end it
        ended = await owner.fetchval(
            "UPDATE supervisor SET term_end = current_date - 1 WHERE id = (SELECT max(id) "
            "FROM supervisor WHERE status = 'ACTIVE') RETURNING id")
    finally:
        await owner.close()
    await asyncio.to_thread(cluster.stop)
    try:
        server = start_server()
        await wait_ready(server.base, server.log, path="/healthz")
        async with httpx.AsyncClient(base_url=server.base, timeout=20) as client:
            ready = await client.get("/readyz")
            assert ready.status_code == 503 and ready.json()["status"] == (
                "database unreachable")
            refused = (await client.post("/graphql", json={"query": (
                'mutation { login(username: "admin.dc", password: "x") { accessToken } }')})
            ).json()
            assert refused["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    finally:
        await asyncio.to_thread(cluster.start)
    await server.ready()
    token = await login(server.base, "admin.dc")
    async with httpx.AsyncClient(base_url=server.base, timeout=20, headers={
            "Authorization": f"Bearer {token}"}) as client:
        listed = (await client.post("/graphql", json={
            "query": "{ supervisors(first: 5) { edges { node { id } } } }"})).json()
    assert "errors" not in listed and len(listed["data"]["supervisors"]["edges"]) == 5
    assert server.process.poll() is None, "the server process did not survive"
    owner = await cluster.owner()
    try:
        for _ in range(int(OUTAGE_RETRY_S + 15)):
            if await owner.fetchval("SELECT status FROM supervisor WHERE id = $1",
                                    ended) == "EXPIRED":
                break
            await asyncio.sleep(1)
        else:
            raise AssertionError("the expiry that failed at start did not run again")
    finally:
        await owner.close()


# A fresh process asking for the embedded server's URL, as `make run` does on start.
_EMBEDDED_URL = ("import sys; from pathlib import Path; from core import db; "
                 "print(db.embedded_url(Path(sys.argv[1]), sys.argv[2]))")


@pytest.mark.parametrize(("started_by", "held_s"), [("another process", 3), ("itself", 12)])
async def test_the_embedded_server_recovering_after_a_crash_is_waited_for(
        cluster: Cluster, started_by: str, held_s: float) -> None:
    """The machine went down: PostgreSQL, started again, replays its write-ahead log before
    it accepts connections. `db.embedded_url` (what `make run`, the tests and the bench call,
    each in a fresh process) returns only once it does, whether the server is joined while
    recovering or started by the call itself and recovering longer than the library's own
    10 s wait; and what was committed before the crash is there. The recovery is held
    (its startup process stopped) for `held_s`."""
    owner = await cluster.owner()
    try:  # write-ahead log to replay: ~150 MB since the last checkpoint
        await owner.execute("CREATE TABLE wal_filler AS SELECT g, repeat(md5(g::text), 8) AS t "
                            "FROM generate_series(1, 500000) g")
    finally:
        await owner.close()
    await asyncio.to_thread(cluster.crash)
    if started_by == "another process":
        await asyncio.to_thread(cluster.start_unwaited)
    asking = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _EMBEDDED_URL, str(PGDATA), DATABASE, cwd=ROOT,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    startup = await asyncio.to_thread(cluster.held_recovery)
    try:
        await asyncio.sleep(held_s)
        assert asking.returncode is None, (await asking.communicate())[1].decode()[-2000:]
    finally:
        startup.resume()
    out, err = await asyncio.wait_for(asking.communicate(), timeout=120)

    assert asking.returncode == 0, err.decode()[-2000:]
    assert out.decode().strip() == cluster.url
    # the library's own wait ran out (and its copy of the server log was kept out) or not
    assert ("embedded PostgreSQL is recovering" in err.decode()) == (started_by == "itself")
    assert b"Showing contents of postgres server log" not in err
    owner = await cluster.owner()  # at once: no "the database system is starting up"
    try:
        assert await owner.fetchval("SELECT count(*) FROM wal_filler") == 500000
        await owner.execute("DROP TABLE wal_filler")
    finally:
        await owner.close()
