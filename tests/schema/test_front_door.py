"""The read engine's front door (web/front_door.py): a declared document the engine
answered once is answered again without strawberry's scaffolding, with the same bytes,
status, headers, errors and metrics; anything else goes through strawberry; and a schema
extension the door does not know closes it, so that it runs on every request."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import httpx
from prometheus_client import REGISTRY
from starlette.routing import Route
from strawberry.extensions import SchemaExtension

from asgi import create_app
from bench.run import reads
from core.cases.models import Case
from tests.support import Api
from web.endpoint import GraphQLApp

LIST = ('{ supervisors(first: 3, filter: {jurisdiction: "jl.th.dc"}) { edges { node '
        "{ id name jurisdiction { name } } } } }")


class Counted:
    """The app with a count of the requests strawberry's Schema.execute answered."""

    def __init__(self, extensions: tuple[Any, ...] = ()) -> None:
        self.app = create_app(manage_database=False, extensions=extensions)
        self.endpoint = next(r.endpoint for r in self.app.routes
                             if isinstance(r, Route) and isinstance(r.endpoint, GraphQLApp))
        self.by_strawberry = 0
        execute: Callable[..., Awaitable[Any]] = self.endpoint.schema.execute

        async def counted(*args: Any, **kwargs: Any) -> Any:
            self.by_strawberry += 1
            return await execute(*args, **kwargs)

        self.endpoint.schema.execute = counted  # type: ignore[method-assign]

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app),
                                 base_url="http://testserver")


async def _token(client: httpx.AsyncClient, username: str = "admin.dc") -> dict[str, str]:
    return {"Authorization": f"Bearer {await Api(client).token(username)}"}


def _requests(name: str) -> float:
    return REGISTRY.get_sample_value("graphql_requests_total", {"operation": name}) or 0.0


async def test_a_declared_document_goes_through_the_door_from_its_second_request(
        roster_demo: None) -> None:
    counted = Counted()
    async with counted.client() as client:
        headers = await _token(client)
        before, operations = counted.by_strawberry, _requests("anonymous")
        first = await client.post("/graphql", json={"query": LIST}, headers=headers)
        second = await client.post("/graphql", json={"query": LIST}, headers=headers)
        third = await client.post("/graphql", json={"query": LIST, "variables": None,
                                                     "operationName": None}, headers=headers)
    assert counted.by_strawberry == before + 1
    assert first.status_code == second.status_code == third.status_code == 200
    assert first.content == second.content == third.content
    assert len(first.json()["data"]["supervisors"]["edges"]) == 3
    assert first.headers["content-type"] == second.headers["content-type"] == "application/json"
    assert first.headers["content-length"] == second.headers["content-length"]
    assert _requests("anonymous") == operations + 3  # each counted, whichever way


async def test_the_benchmark_s_reads_are_answered_by_the_engine_at_the_door(
        full_demo: None) -> None:
    """The documents the engine is there for (bench/run.py's Q1 and Q3) never fall back."""
    counted = Counted()
    case = await Case.filter(jurisdiction__path="jl.th.dc").order_by("id").first()
    assert case is not None
    declared = [r for name, r in reads(0, case.id).items() if name[:2] in ("Q1", "Q3")]
    async with counted.client() as client:
        assert {r.user for r in declared} == {"admin.dc"}
        headers = {**await _token(client, "admin.dc"), "content-type": "application/json"}
        before = counted.by_strawberry
        for read in declared:
            answers = [await client.post("/graphql", content=read.body, headers=headers)
                       for _ in range(3)]
            assert all(a.status_code == 200 and "errors" not in a.json() for a in answers)
            assert answers[0].content == answers[2].content
    assert counted.by_strawberry == before + len(declared)  # each once, then at the door


STATS = '{ oversightStats(jurisdiction: "jl.th") { total byState { key count } } }'


async def test_a_query_the_engine_does_not_declare_is_executed_at_the_door(
        full_demo: None) -> None:
    """From its second request, executed by graphql-core as strawberry would, the same bytes;
    a mutation never goes through the door."""
    counted = Counted()
    async with counted.client() as client:
        headers = await _token(client, "admin.th")
        before = counted.by_strawberry
        answers = [await client.post("/graphql", json={"query": STATS}, headers=headers)
                   for _ in range(3)]
        assert counted.by_strawberry == before + 1
        marked = [await client.post("/graphql", json={
            "query": "mutation { markNotificationsRead(ids: []) }"}, headers=headers)
            for _ in range(2)]
        assert counted.by_strawberry == before + 3
    assert len({a.content for a in answers}) == 1 and answers[0].json()["data"][
        "oversightStats"]["total"] > 0
    assert marked[0].content == marked[1].content


class Traced(SchemaExtension):
    """A tracing extension, as a team would add one: it counts the operations it saw."""

    seen = 0

    def on_execute(self) -> Iterator[None]:
        Traced.seen += 1
        yield


async def test_an_extension_the_door_does_not_know_closes_it(roster_demo: None) -> None:
    counted = Counted(extensions=(Traced,))
    async with counted.client() as client:
        headers = await _token(client)
        before, seen = counted.by_strawberry, Traced.seen
        answers = [await client.post("/graphql", json={"query": LIST}, headers=headers)
                   for _ in range(4)]
    assert counted.by_strawberry == before + 4 and Traced.seen == seen + 4
    assert len({a.content for a in answers}) == 1


async def test_what_the_door_does_not_take_still_reaches_strawberry(roster_demo: None) -> None:
    counted = Counted()
    async with counted.client() as client:
        headers = await _token(client)
        await client.post("/graphql", json={"query": LIST}, headers=headers)  # answered once
        before = counted.by_strawberry
        by_get = await client.get("/graphql", params={"query": LIST}, headers=headers)
        batch = await client.post("/graphql", json=[{"query": LIST}], headers=headers)
        other = await client.post("/graphql", json={"query": LIST, "extensions": {"a": 1}},
                                  headers=headers)
        streamed = await client.post("/graphql", json={"query": LIST}, headers={
            **headers, "accept": "multipart/mixed"})
        refused = await client.post("/graphql", json={"query": LIST})  # no credentials
    assert by_get.status_code == 200 and by_get.json() == (await _same(counted, headers))
    assert batch.status_code in (200, 400) and other.status_code == 200
    assert streamed.status_code in (200, 406)
    assert refused.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    # GET, the batch, the extensions and the stream; the refusal is the door's, as
    # strawberry's execution gives it
    assert counted.by_strawberry >= before + 3


async def _same(counted: Counted, headers: dict[str, str]) -> Any:
    async with counted.client() as client:
        return (await client.post("/graphql", json={"query": LIST}, headers=headers)).json()
