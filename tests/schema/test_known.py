"""Known documents (schema/known.py): a text that was valid once is answered again without
strawberry's scaffolding, with the same bytes, status, headers, errors and metrics; anything
else still goes through strawberry, and no invalid text is ever kept."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY
from starlette.routing import Route

from asgi import create_app
from schema.execution import DOCUMENTS_KEPT
from schema.http import GraphQLApp
from schema.known import KnownDocuments
from tests.support import Api

LIST = ('{ supervisors(first: 3, filter: {jurisdiction: "jl.th.dc"}) { edges { node '
        "{ id name jurisdiction { name } } } } }")


class Counted:
    """The app with a count of the requests strawberry's Schema.execute answered."""

    def __init__(self) -> None:
        self.app = create_app(manage_database=False)
        self.endpoint = next(r.endpoint for r in self.app.routes
                             if isinstance(r, Route) and isinstance(r.endpoint, GraphQLApp))
        self.by_strawberry = 0
        execute: Callable[..., Awaitable[Any]] = self.endpoint.schema.execute

        async def counted(*args: Any, **kwargs: Any) -> Any:
            self.by_strawberry += 1
            return await execute(*args, **kwargs)

        self.endpoint.schema.execute = counted  # type: ignore[method-assign]

    @property
    def known(self) -> KnownDocuments:
        known = getattr(self.endpoint.schema, "known", None)
        assert isinstance(known, KnownDocuments)
        return known

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app),
                                 base_url="http://testserver")


async def _token(client: httpx.AsyncClient, username: str = "admin.dc") -> dict[str, str]:
    api = Api(client)
    return {"Authorization": f"Bearer {await api.token(username)}"}


async def test_a_valid_document_is_answered_directly_from_its_second_request(
        roster_demo: None) -> None:
    counted = Counted()
    async with counted.client() as client:
        headers = await _token(client)
        before = counted.by_strawberry
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


@pytest.mark.parametrize("document", [
    "{ supervisors(first: 3) { edges { node { nope } } } }",       # validation
    "{ supervisors(first: 3) { edges { node { id } } }",           # syntax
    "{ me { homeJurisdiction { parent { parent { parent { parent { parent { parent { parent "
    "{ parent { parent { path } } } } } } } } } } } }",            # depth limit
    "{ " + " ".join(f"a{i}: me {{ username }}" for i in range(20)) + " }",  # alias limit
])
async def test_an_invalid_document_is_refused_every_time_and_never_kept(
        demo: None, document: str) -> None:
    counted = Counted()
    async with counted.client() as client:
        answers = [await client.post("/graphql", json={"query": document}) for _ in range(3)]
    assert counted.by_strawberry == 3
    assert len(counted.known) == 0
    codes = {a.json()["errors"][0]["extensions"]["code"] for a in answers}
    assert codes <= {"GRAPHQL_VALIDATION_FAILED", "GRAPHQL_PARSE_FAILED"} and len(codes) == 1
    assert answers[0].content == answers[1].content == answers[2].content


async def test_requests_the_known_path_does_not_take_still_reach_strawberry(
        roster_demo: None) -> None:
    counted = Counted()
    async with counted.client() as client:
        headers = await _token(client)
        assert (await client.post("/graphql", json={"query": LIST}, headers=headers)
                ).status_code == 200  # now known
        taken = counted.by_strawberry
        via_get = await client.get("/graphql", params={"query": LIST}, headers=headers)
        batch = await client.post("/graphql", json=[{"query": LIST}], headers=headers)
        form = await client.post("/graphql", content=f"query={LIST}", headers={
            **headers, "content-type": "application/x-www-form-urlencoded"})
        extended = await client.post("/graphql", json={"query": LIST, "extensions": {"a": 1}},
                                     headers=headers)
        bad_variables = await client.post("/graphql", json={"query": LIST, "variables": [1]},
                                          headers=headers)
        not_json = await client.post("/graphql", content=b"{", headers={
            **headers, "content-type": "application/json"})
    assert via_get.status_code == 200 and via_get.json() == extended.json()
    assert batch.status_code == 400 and form.status_code == 400  # batching and forms are off
    assert extended.status_code == 200
    assert bad_variables.status_code == 400 and not_json.status_code == 400
    # each went through strawberry's view: the GET and the one with extensions to its
    # execution, the others refused by it before
    assert counted.by_strawberry == taken + 2


async def test_the_known_path_reads_its_headers_as_strawberry_reads_them(
        roster_demo: None) -> None:
    """JSON with a charset, an Accept that asks for JSON, anything or a stream (this schema
    serves none), an English caller: the known path answers each as strawberry would."""
    counted = Counted()
    async with counted.client() as client:
        headers = await _token(client)
        plain = await client.post("/graphql", json={"query": LIST}, headers=headers)
        taken = counted.by_strawberry
        for extra in ({"accept": "application/json"}, {"accept": "*/*"},
                      {"content-type": "application/json; charset=utf-8"}):
            again = await client.post("/graphql", json={"query": LIST},
                                      headers={**headers, **extra})
            assert again.status_code == 200 and again.json() == plain.json()
        refused = await client.post("/graphql", json={"query": "{ me { username } }"},
                                    headers={"accept-language": "en"})  # known once valid
        refused = await client.post("/graphql", json={"query": "{ me { username } }"},
                                    headers={"accept-language": "en"})
        assert counted.by_strawberry == taken + 1  # the first of the two only
        assert refused.json()["errors"][0]["message"].isascii()
        streamed = await client.post("/graphql", json={"query": LIST}, headers={
            **headers, "accept": "multipart/mixed"})
        assert streamed.json() == plain.json()  # this schema serves no streamed answers
        assert counted.by_strawberry == taken + 1


async def test_the_operation_is_chosen_by_name_as_strawberry_chooses_it(
        roster_demo: None) -> None:
    document = "query A { me { username } } query B { jurisdictions { path } }"
    counted = Counted()
    async with counted.client() as client:
        headers = await _token(client)
        a = await client.post("/graphql", json={"query": document, "operationName": "A"},
                              headers=headers)
        b = await client.post("/graphql", json={"query": document, "operationName": "B"},
                              headers=headers)
        unnamed = [await client.post("/graphql", json={"query": document}, headers=headers)
                   for _ in range(2)]
        unknown = await client.post("/graphql", json={"query": document, "operationName": "C"},
                                    headers=headers)
    assert a.json()["data"] == {"me": {"username": "admin.dc"}}
    assert "jurisdictions" in b.json()["data"]
    assert counted.by_strawberry == 1 + 1 + 2 + 1  # login, A, then each refusal
    # strawberry runs the first operation when none is named, and refuses an unknown name
    assert unnamed[0].content == unnamed[1].content == a.content
    assert unknown.status_code == 400


async def test_refusals_on_the_known_path_keep_their_code_language_and_count(
        roster_demo: None) -> None:
    document = '{ supervisor(id: "999999999") { name } }'

    def refused() -> float:
        return REGISTRY.get_sample_value("graphql_errors_total", {"code": "NOT_FOUND"}) or 0.0

    counted = Counted()
    async with counted.client() as client:
        headers = await _token(client)
        before = refused()
        zh = [await client.post("/graphql", json={"query": document}, headers=headers)
              for _ in range(2)]
        en = await client.post("/graphql", json={"query": document},
                               headers={**headers, "accept-language": "en"})
        variables = await client.post("/graphql", json={
            "query": "query($id: ID!) { supervisor(id: $id) { name } }", "variables": {}},
            headers=headers)
        again = await client.post("/graphql", json={
            "query": "query($id: ID!) { supervisor(id: $id) { name } }", "variables": {}},
            headers=headers)
    assert counted.by_strawberry == 1 + 1 + 1  # login, then each document once
    assert zh[0].content == zh[1].content
    for answer in (*zh, en):
        error = answer.json()["errors"][0]
        assert error["extensions"]["code"] == "NOT_FOUND" and error["path"] == ["supervisor"]
    assert zh[0].json()["errors"][0]["message"] != en.json()["errors"][0]["message"]
    assert en.json()["errors"][0]["message"].isascii()
    assert refused() == before + 3
    # a variable missing: refused by coercion on both paths, with the same answer
    assert variables.content == again.content
    assert variables.json()["errors"][0]["extensions"]["code"] == "INVALID_INPUT"


async def test_only_the_most_recent_documents_are_kept(demo: None) -> None:
    counted = Counted()
    async with counted.client() as client:
        for i in range(DOCUMENTS_KEPT + 5):
            await client.post("/graphql", json={"query": f"{{ a{i}: jurisdictions {{ path }} }}"})
        await client.post("/graphql", json={"query": "{ a0: jurisdictions { path } }"})
    assert len(counted.known) == DOCUMENTS_KEPT
    assert counted.by_strawberry == DOCUMENTS_KEPT + 6  # the oldest forgotten, then seen again

