"""Compiled execution (schema/execution.py) answers exactly what graphql-core's executor
answers: the same data, the same errors with the same paths and codes, the same nulls where
errors propagate. Each document goes to two apps on the same database, one executing by plan
and one with strawberry's default execution context and without the known-document path
(schema/known.py); the first app is asked twice, so that its second answer comes by that
path."""

from __future__ import annotations

import gc
import os
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import strawberry
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from starlette.routing import Route
from strawberry.dataloader import DataLoader
from strawberry.schema.schema import Schema, StrawberryGraphQLCoreExecutionContext

from schema import execution
from schema.http import GraphQLApp
from tests.schema.test_isolation import World, _operations, _token, world  # noqa: F401
from tests.support import Api

EXAMPLES = int(os.environ.get("EXECUTION_EXAMPLES", "40"))
OPERATIONS_PER_EXAMPLE = 10
_REQUEST_ID = re.compile(r" \(request [0-9a-f-]+\)")


@pytest.fixture
async def reference(database_url: str) -> AsyncIterator[Api]:
    """The same application with graphql-core's own execution."""
    from asgi import create_app

    app = create_app(manage_database=False)
    endpoint = next(r.endpoint for r in app.routes
                    if isinstance(r, Route) and isinstance(r.endpoint, GraphQLApp))
    assert isinstance(endpoint.schema, Schema)
    endpoint.schema.execution_context_class = StrawberryGraphQLCoreExecutionContext
    endpoint.answers_known = False
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 5000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield Api(client)


def _comparable(body: dict[str, Any]) -> dict[str, Any]:
    """The answer without what differs between any two requests (the request id)."""
    errors = [{**e, "message": _REQUEST_ID.sub("", e["message"]),
               "extensions": {k: v for k, v in (e.get("extensions") or {}).items()
                              if k != "requestId"}} for e in body.get("errors") or []]
    return {"data": body.get("data"), "errors": errors}


async def _same(api: Api, reference: Api, document: str, variables: dict[str, Any] | None,
                token: str | None) -> dict[str, Any]:
    planned = await api.gql(document, variables, token=token)
    known = await api.gql(document, variables, token=token)
    expected = await reference.gql(document, variables, token=token)
    assert planned.status == known.status == expected.status
    assert _comparable(planned.body) == _comparable(expected.body), document
    assert _comparable(known.body) == _comparable(expected.body), document
    return planned.body


CASE = "query($id: ID!) { case(id: $id) { id kind state title reporter { name } agency { name } } }"
DOCUMENTS: list[tuple[str, str]] = [
    # the benchmark's county list, with its jurisdiction per row
    ("plain list", '{ supervisors(first: 20, filter: {jurisdiction: "jl.th.dc"}) { edges { node '
                   "{ id name jurisdiction { name } } } pageInfo { hasNextPage endCursor } } }"),
    # fragments (named and inline), aliases, __typename, the same field twice
    ("fragments", "fragment Who on Supervisor { id name status } query { a: supervisors(first: 3)"
                  " { __typename edges { cursor node { ...Who ... on Supervisor { category "
                  "jurisdiction { path level } } name } } } b: supervisors(first: 2) { "
                  "totalCount edges { node { ...Who } } } }"),
    ("several roots", "{ me { username kind homeJurisdiction { path parent { path } children "
                      "{ path } } } jurisdictions { path name } }"),
    # a non-null root field that fails: its error nulls the whole data
    ("failing root", '{ me { username } supervisor(id: "999999999") { name } }'),
    ("bad argument", '{ supervisors(first: 1000) { edges { node { id } } } }'),
    # directives are not planned: graphql-core runs them, and must still agree
    ("directive", "query($all: Boolean!) { supervisors(first: 2) { edges { node { id "
                  "name @include(if: $all) } } } }"),
]


@pytest.mark.parametrize("name", [name for name, _ in DOCUMENTS])
@pytest.mark.parametrize("user", ["admin.dc", "admin.th", "sv.dc.001", None])
async def test_documents_answer_as_graphql_core_does(api: Api, reference: Api,
                                                     roster_demo: None, name: str,
                                                     user: str | None) -> None:
    document = dict(DOCUMENTS)[name]
    token = await api.token(user) if user else None
    body = await _same(api, reference, document, {"all": True}, token)
    if user == "admin.dc" and name == "plain list":
        assert len(body["data"]["supervisors"]["edges"]) == 20
    if user and name == "failing root":
        assert body["data"] is None and body["errors"][0]["path"] == ["supervisor"]


SUPERVISORS = ("query($f: SupervisorFilter, $n: Int!) { supervisors(filter: $f, first: $n) "
               "{ edges { node { id status category isSpecial } } } }")
CASES = "query($f: CaseFilter) { cases(filter: $f, first: 3) { edges { node { id state } } } }"
ARGUMENTS: list[tuple[str, dict[str, Any]]] = [
    (SUPERVISORS, {"f": {"status": "ACTIVE", "category": "ENTERPRISE", "isSpecial": False,
                         "search": None}, "n": 5}),
    (SUPERVISORS, {"f": None, "n": 3}),
    (SUPERVISORS, {"f": {"status": "NOPE"}, "n": 3}),  # refused by coercion, both ways
    (SUPERVISORS, {"f": {"jurisdiction": "jl.th.nowhere"}, "n": 3}),
    ('{ supervisors(filter: {jurisdiction: "jl.th.dc", status: EXPIRED}, first: 2) '
     "{ edges { node { id } } } }", {}),
    (CASES, {"f": {"state": "TRANSFERRED", "from": "2020-01-01T00:00:00Z", "mine": False}}),
    (CASES, {"f": {"mine": True}}),
    (CASES, {"f": {"from": "not a date"}}),
    ('{ oversightStats(jurisdiction: "jl.th", from: "2020-01-01T00:00:00Z") { total } }', {}),
]


@pytest.mark.parametrize("index", range(len(ARGUMENTS)))
@pytest.mark.parametrize("user", ["admin.dc", "sv.dc.001"])
async def test_arguments_arrive_as_strawberry_converts_them(
        api: Api, reference: Api, full_demo: None, index: int, user: str) -> None:
    document, variables = ARGUMENTS[index]
    await _same(api, reference, document, variables, await api.token(user))


REFUSED_SUBMISSION = ('submitCase(input: {kind: REPORT, category: EFFICIENCY, agency: "999999",'
                      ' title: "t", description: "d", occurredAt: "2026-01-01T00:00:00Z"}) '
                      "{ id }")
MUTATIONS = [
    "mutation { markNotificationsRead(ids: []) }",
    "mutation { " + REFUSED_SUBMISSION + " }",
    "mutation { a: markNotificationsRead(ids: []) b: " + REFUSED_SUBMISSION + " }",
    'mutation { __typename markNotificationsRead(ids: ["1"]) }',
]


@pytest.mark.parametrize("index", range(len(MUTATIONS)))
async def test_mutations_answer_as_graphql_core_does(api: Api, reference: Api,
                                                     full_demo: None, index: int) -> None:
    body = await _same(api, reference, MUTATIONS[index], None, await api.token("sv.dc.001"))
    if "submitCase" in MUTATIONS[index]:
        assert body["data"] is None and body["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_mutation_fields_run_one_after_another(api: Api, full_demo: None) -> None:
    from core.accounts.models import Account
    from core.notifications import service as notifications

    account = await Account.get(username="sv.dc.001")
    await notifications.notify([account.id], "case", 1, "TEST", "one")
    await notifications.notify([account.id], "case", 2, "TEST", "two")
    execution.forget_plans()
    document = "mutation { first: markNotificationsRead second: markNotificationsRead }"
    body = (await api.gql(document, as_user="sv.dc.001")).body
    assert body["data"]["first"] >= 2 and body["data"]["second"] == 0
    assert document in execution.planned_documents()


async def test_case_detail_and_its_refusal_agree(api: Api, reference: Api,
                                                 full_demo: None) -> None:
    from core.cases.models import Case

    case = await Case.filter(jurisdiction__path="jl.th.dc").order_by("id").first()
    assert case is not None
    variables = {"id": str(case.id)}
    for user in ("admin.dc", "admin.ja", "admin.th"):
        await _same(api, reference, CASE, variables, await api.token(user))


@pytest.mark.parametrize(("document", "planned"), [
    ("{ me { username homeJurisdiction { path } } }", True),
    ("{ me { username @skip(if: false) } }", False),
    ("mutation { logout }", True),
    ("{ __schema { queryType { name } } }", False),
    ("{ me { __typename username } }", True),
])
async def test_only_plain_operations_are_planned(api: Api, demo: None, document: str,
                                              planned: bool) -> None:
    token = await api.token("admin.dc")  # signing in is a planned mutation too
    execution.forget_plans()
    await api.gql(document, token=token)
    assert execution.planned_documents() == ([document] if planned else [])


@pytest.mark.long
@settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
          phases=[Phase.generate], suppress_health_check=list(HealthCheck))
@given(data=st.data())
async def test_drawn_operations_answer_as_graphql_core_does(api: Api, reference: Api,
                                                            world: World,  # noqa: F811
                                                            data: st.DataObject) -> None:
    """Every query field of the schema, as deep as the limits allow, with drawn arguments,
    as drawn existing accounts (the isolation test's world and strategies)."""
    caller = data.draw(st.sampled_from(world.existing), label="account")
    token = await _token(world, caller.username)
    operations = _operations(world)
    for _ in range(OPERATIONS_PER_EXAMPLE):
        document, variables = data.draw(operations, label="operation")
        await _same(api, reference, document, variables, token)


async def test_a_request_leaves_no_reference_cycle(api: Api, full_demo: None) -> None:
    """A request's context, loaders and rows are freed when it ends, not by the collector's
    next full pass (which, with 32 requests in flight, stopped them all for ~100 ms)."""
    from core.cases.models import Case
    from schema.context import Context

    case = await Case.filter(jurisdiction__path="jl.th.dc").order_by("id").first()
    assert case is not None
    token = await api.token("admin.dc")
    documents = [DOCUMENTS[0][1], CASE, "mutation { markNotificationsRead(ids: []) }"]
    for document in documents:  # planned, and the plans kept, before counting
        await api.gql(document, {"id": str(case.id)}, token=token)
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        for document in documents:
            body = (await api.gql(document, {"id": str(case.id)}, token=token)).body
            assert "errors" not in body, body
        gc.collect()
        left = {type(o).__name__ for o in gc.garbage
                if isinstance(o, Context | execution.CompiledExecution | DataLoader)}
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    assert left == set()


class _Label(str):
    """A str subclass: completed by String's coercion, not taken as it is."""


class _Later:
    """An awaitable of `value` that is not a coroutine (none left unawaited when its field
    is not asked for)."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def __await__(self) -> Any:
        yield from ()
        return self.value


def _failing() -> Any:
    raise ValueError("unreadable")


@strawberry.type
class _Leaf:
    name: str


@strawberry.type
class _Row:
    """Attributes of every kind the written selections treat apart, with values that pass
    and values that fail their completion."""

    text: str | None
    required: str
    flag: bool | None
    ident: strawberry.ID | None
    number: int | None
    leaf: _Leaf | None
    required_leaf: _Leaf
    leaves: list[_Leaf | None]

    @strawberry.field
    def broken(self) -> str | None:
        return _failing()


def _rows() -> list[_Row]:
    leaf = _Leaf(name="n")
    plain = _Row(text="t", required="r", flag=True, ident=strawberry.ID("7"), number=3,
                 leaf=leaf, required_leaf=leaf, leaves=[leaf, None])
    odd: Any = _Row(text=_Label("sub"), required="r", flag=1, ident=7,  # type: ignore[arg-type]
                    number=2**40, leaf=_Later(leaf), required_leaf=leaf,  # type: ignore[arg-type]
                    leaves=[_Later(leaf), None])  # type: ignore[list-item]
    missing: Any = _Row(text=None, required=None, flag=None, ident=None,  # type: ignore[arg-type]
                        number=None, leaf=None, required_leaf=leaf, leaves=[])
    no_leaf: Any = _Row(text=12, required="r", flag="yes", ident=True,  # type: ignore[arg-type]
                        number=None, leaf=None, required_leaf=None,  # type: ignore[arg-type]
                        leaves=[])
    return [plain, odd, missing, no_leaf]


@strawberry.type
class _Query:
    @strawberry.field
    def rows(self) -> list[_Row | None]:
        return list(_rows())


_ROWS = ("{ rows { __typename text required flag ident number broken leaf { name } "
         "requiredLeaf { name } leaves { name } } }")


@pytest.mark.parametrize("document", [
    _ROWS,
    "{ rows { t: text t2: text leaf { __typename n: name } } }",
])
async def test_written_selections_complete_as_graphql_core_does(document: str) -> None:
    """Every branch of a written selection (schema/execution.py `_written`): str, str
    subclass, int and None for String; bool, int and str for Boolean; int and bool for ID; an
    Int out of range; an awaitable, a null and a failing object attribute; null in non-null
    positions, propagating to the row; lists with awaitable and null items."""
    compiled = strawberry.Schema(query=_Query, execution_context_class=execution.CompiledExecution)
    reference = strawberry.Schema(query=_Query)
    for _ in range(2):  # planned on the first, reused on the second
        got, expected = await compiled.execute(document), await reference.execute(document)
        assert got.data == expected.data
        assert [(e.message, e.path) for e in got.errors or []] == [
            (e.message, e.path) for e in expected.errors or []]
    assert document in execution.planned_documents()
