"""/healthz, /readyz, /metrics and the demo seed."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import httpx
import pytest

from core import orm
from core.accounts.models import Account
from core.audit import AuditRecord
from demo import seed_demo
from policies.models import Grant
from tenants.models import Jurisdiction
from tests.support import Api, server_process


async def test_healthz_answers(api: Api) -> None:
    response = await api.client.get("/healthz")
    assert response.status_code == 200 and response.json()["status"] == "ok"


async def test_readyz_is_503_while_a_migration_is_pending(api: Api) -> None:
    assert (await api.client.get("/readyz")).status_code == 200
    conn = orm.client()
    rows = await conn.execute_query_dict(
        "SELECT * FROM tortoise_migrations ORDER BY id DESC LIMIT 1")
    last = rows[0]
    await conn.execute_query("DELETE FROM tortoise_migrations WHERE id = $1", [last["id"]])
    try:
        response = await api.client.get("/readyz")
        assert response.status_code == 503
        assert response.json()["status"] == "migrations pending"
    finally:
        columns = ", ".join(last)
        params = ", ".join(f"${i + 1}" for i in range(len(last)))
        await conn.execute_query(
            f"INSERT INTO tortoise_migrations ({columns}) VALUES ({params})",
            list(last.values()))
    assert (await api.client.get("/readyz")).status_code == 200


async def test_until_the_policy_is_loaded_questions_are_unavailable_not_denied(
        api: Api, demo: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """A process whose database has been down since it started has no policy yet (its
    listener loads it on connecting, asgi._database): /readyz says so, and a question about
    access answers SERVICE_UNAVAILABLE, never FORBIDDEN or an empty list."""
    import asgi
    from core.cases import notify
    from policies import access, enforcer

    query = "{ supervisors(first: 3) { edges { node { id } } } }"
    token = await api.token("admin.dc")
    loaded = (await api.gql(query, token=token)).ok()
    unloaded = enforcer.PolicyStore()
    for module in (asgi, access, notify):
        monkeypatch.setattr(module, "store", unloaded)
    ready = await api.client.get("/readyz")
    assert ready.status_code == 503 and ready.json()["status"] == "policy not loaded"
    refused = await api.gql(query, token=token)
    assert refused.codes == ["SERVICE_UNAVAILABLE"] and refused.data is None
    await unloaded.reload()  # as the listener's connect does
    assert (await api.client.get("/readyz")).status_code == 200
    assert (await api.gql(query, token=token)).ok() == loaded


PORTAL, DEVELOPER = "https://portal.th.example", "http://localhost:3000"


def _preflight(origin: str) -> dict[str, str]:
    return {"Origin": origin, "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type"}


async def test_office_portals_of_the_origins_given_may_call_the_api(
        api: Api, demo: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """CORS_ORIGINS names the origins of portals served elsewhere: their pages may call the
    API from a browser (preflight answered, the answer readable, the request id exposed);
    any other origin, and every origin while it is unset, may not."""
    from asgi import create_app
    from core.config import settings

    monkeypatch.setenv("CORS_ORIGINS", f"{PORTAL}, {DEVELOPER}")
    settings.cache_clear()
    try:
        app = create_app(manage_database=False)
    finally:
        monkeypatch.delenv("CORS_ORIGINS")
        settings.cache_clear()
    query = {"query": "{ jurisdictions { path } }"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://testserver") as client:
        allowed = await client.options("/graphql", headers=_preflight(PORTAL))
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == PORTAL
        assert "authorization" in allowed.headers["access-control-allow-headers"].lower()
        answered = await client.post("/graphql", json=query, headers={"Origin": DEVELOPER})
        assert answered.headers["access-control-allow-origin"] == DEVELOPER
        assert answered.headers["access-control-expose-headers"].lower() == "x-request-id"
        assert answered.json()["data"]["jurisdictions"]
        refused = await client.options("/graphql", headers=_preflight("https://evil.example"))
        assert refused.status_code == 400
        assert "access-control-allow-origin" not in refused.headers
        stranger = await client.post("/graphql", json=query,
                                     headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in stranger.headers
    unset = await api.client.options("/graphql", headers=_preflight(PORTAL))
    assert "access-control-allow-origin" not in unset.headers
    answered = await api.client.post("/graphql", json=query, headers={"Origin": PORTAL})
    assert "access-control-allow-origin" not in answered.headers


async def test_metrics_count_operations_and_error_codes(api: Api, demo: None) -> None:
    await api.client.post("/graphql", json={"query": "query Tree { jurisdictions { path } }",
                                            "operationName": "Tree"})
    await api.gql("{ me { username } }")
    text = (await api.client.get("/metrics")).text
    assert 'graphql_requests_total{operation="Tree"}' in text
    assert 'graphql_request_seconds_bucket{le="0.005",operation="Tree"}' in text
    assert 'graphql_errors_total{code="UNAUTHENTICATED"}' in text


async def test_operation_names_past_the_bound_share_one_series(
        api: Api, demo: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """Callers name their operations: the names measured are bounded, the rest counted as
    one, and each is counted once per request, whichever way it was answered."""
    from core import metrics

    def sample(text: str, name: str) -> float:
        line = 'graphql_requests_total{operation="' + name + '"} '
        found = re.search("^" + re.escape(line) + r"(\S+)$", text, re.M)
        return float(found.group(1)) if found else 0.0

    monkeypatch.setattr(metrics, "OPERATIONS_MEASURED", len(metrics._by_operation) + 2)
    before = (await api.client.get("/metrics")).text
    names = [f"Named{n}" for n in range(6)]
    for name in names * 2:  # the second time through schema/known.py
        response = await api.client.post("/graphql", json={
            "query": f"query {name} {{ __typename }}", "operationName": name})
        assert response.json() == {"data": {"__typename": "Query"}}
    text = (await api.client.get("/metrics")).text
    assert [sample(text, n) for n in names] == [2, 2, 0, 0, 0, 0]
    assert sample(text, metrics.OTHER) - sample(before, metrics.OTHER) == 8


async def test_seed_demo_is_idempotent(demo: None) -> None:
    counts = [await Jurisdiction.all().count(), await Account.all().count(),
              await Grant.all().count(), await AuditRecord.all().count()]
    again = await seed_demo(roster=False)
    assert again == {"jurisdictions": 0, "accounts": 0, "grants": 0, "api_keys": 0,
                     "supervisors": 0, "agencies": 0, "cases": 0, "activities": 0,
                     "assistance": 0}
    assert counts == [await Jurisdiction.all().count(), await Account.all().count(),
                      await Grant.all().count(), await AuditRecord.all().count()]
    assert counts[:3] == [11, 11, 21]


def _collections(metrics: str) -> int:
    """Passes of the collector over its youngest generation, from /metrics."""
    found = re.search(r'^python_gc_collections_total\{generation="0"\} ([\d.e+]+)$', metrics,
                      re.MULTILINE)
    assert found, metrics
    return int(float(found.group(1)))


async def test_a_served_process_leaves_request_objects_to_reference_counting(
        api: Api, roster_demo: None, database_url: str, tmp_path: Path) -> None:
    """Start-up's objects are frozen and the collector's threshold (asgi.COLLECTOR_THRESHOLD)
    is above what the requests in flight hold: their objects die by reference counting, and
    the collector does not walk them (at the default threshold a page of 100 set it off)."""
    token = await api.token("admin.th")
    query = {"query": "{ supervisors(first: 100) { edges { cursor node { id name phone unit "
                      "status termEnd jurisdiction { name } } } } }"}
    async with server_process(database_url, tmp_path / "server.log") as base, \
            httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {token}"},
                              limits=httpx.Limits(max_connections=32)) as client:
        async def rounds(n: int) -> None:
            for _ in range(n):
                answers = await asyncio.gather(*(client.post("/graphql", json=query)
                                                 for _ in range(32)))
                assert all(a.status_code == 200 and "errors" not in a.json() for a in answers)

        await rounds(2)  # connections open, documents kept
        before = _collections((await client.get("/metrics")).text)
        await rounds(5)
        after = _collections((await client.get("/metrics")).text)
    assert after - before <= 5, (before, after)
