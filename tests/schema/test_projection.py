"""Queries answered whole by the database (schema/projection.py): the same answers as the
executor's, for every declared field and every kind of caller, in one statement; errors and
anything not declared go through the executor."""

from __future__ import annotations

import base64
import functools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from schema.projection import Projection, _declared, _table
from tests.support import Api, QueryCounter

SUPERVISOR = ("__typename id name phone idNumberMasked gender birthYear category isSmallMicro "
              "isNpcDeputy isCppccMember unit recommendingUnit industry isSpecial status "
              "termStart termEnd latitude longitude "
              "jurisdiction { __typename id path code name level }")
EVERYTHING = ("query($first: Int!, $after: String, $filter: SupervisorFilter) {"
              " __typename supervisors(first: $first, after: $after, filter: $filter) {"
              " __typename edges { __typename cursor node { " + SUPERVISOR + " } }"
              " pageInfo { __typename hasNextPage endCursor } } }")
CALLERS = ["admin.dc", "admin.th", "admin.ja", "sv.dc.001", "ag.dc.scjg"]


class Answered:
    """How many answers the projection gave, and a way to turn it off."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count, self.off = 0, False
        answer = Projection.answer

        async def counted(projection: Projection, context: Any, variables: Any) -> Any:
            if self.off:
                return None
            found = await answer(projection, context, variables)
            self.count += found is not None
            return found

        monkeypatch.setattr(Projection, "answer", counted)

    def executor(self) -> Iterator[None]:
        self.off = True
        yield
        self.off = False


@pytest.fixture
def answered(monkeypatch: pytest.MonkeyPatch) -> Answered:
    return Answered(monkeypatch)


async def _both(api: Api, answered: Answered, query: str, variables: dict[str, Any],
                user: str) -> tuple[Any, Any]:
    """The body answered by the projection, then by the executor (twice each: the second
    request of a document is answered through schema/known.py)."""
    before = answered.count
    projected = [(await api.gql(query, variables, as_user=user)).body for _ in range(2)]
    assert answered.count - before == 2, "the projection did not answer"
    answered.off = True
    try:
        executed = [(await api.gql(query, variables, as_user=user)).body for _ in range(2)]
    finally:
        answered.off = False
    assert projected[0] == projected[1] and executed[0] == executed[1]
    return projected[0], executed[0]


async def test_every_declared_field_equals_the_executors_for_every_caller(
        api: Api, answered: Answered, full_demo: None) -> None:
    seen: set[str] = set()
    categories: set[str] = set()
    for user in CALLERS:
        for variables in ({"first": 100}, {"first": 3},
                          {"first": 5, "filter": {"jurisdiction": "jl.th.dc"}}):
            projected, executed = await _both(api, answered, EVERYTHING, variables, user)
            assert "errors" not in projected
            assert projected == executed
            edges = projected["data"]["supervisors"]["edges"]
            seen.update(e["node"]["id"] for e in edges)
            categories.update(e["node"]["category"] for e in edges)
            for edge in edges:
                assert base64.urlsafe_b64decode(edge["cursor"]).decode() == (
                    "k:" + edge["node"]["id"])
    assert len(seen) > 10  # the callers saw rows, not only empty pages
    assert len(categories) > 2  # and more than one value of an enum


async def test_pages_follow_each_other_as_the_executors(api: Api, answered: Answered,
                                                        roster_demo: None) -> None:
    after, pages = None, 0
    ids: list[str] = []
    while True:
        variables = {"first": 7, "after": after}
        projected, executed = await _both(api, answered, EVERYTHING, variables, "admin.th")
        assert projected == executed
        connection = projected["data"]["supervisors"]
        ids += [e["node"]["id"] for e in connection["edges"]]
        pages += 1
        assert connection["pageInfo"]["endCursor"] == connection["edges"][-1]["cursor"]
        after = connection["pageInfo"]["endCursor"]
        if not connection["pageInfo"]["hasNextPage"]:
            break
    assert pages > 2 and ids == sorted(ids, key=int) and len(set(ids)) == len(ids)
    past, _ = await _both(api, answered, EVERYTHING, {"first": 7, "after": after}, "admin.th")
    assert past["data"]["supervisors"]["edges"] == []
    assert past["data"]["supervisors"]["pageInfo"] == {
        "__typename": "PageInfo", "hasNextPage": False, "endCursor": None}


async def test_aliases_and_typenames_are_kept_in_order(api: Api, answered: Answered,
                                                       roster_demo: None) -> None:
    query = ('{ b: __typename a: supervisors(first: 2) { p: pageInfo { more: hasNextPage } '
             "e: edges { n: node { nm: name i: id j: jurisdiction { n: name } } } } }")
    projected, executed = await _both(api, answered, query, {}, "admin.dc")
    assert projected == executed
    assert list(projected["data"]) == ["b", "a"]
    assert list(projected["data"]["a"]) == ["p", "e"]
    assert list(projected["data"]["a"]["e"][0]["n"]) == ["nm", "i", "j"]


async def test_the_list_is_one_statement(api: Api, answered: Answered,
                                         roster_demo: None) -> None:
    variables = {"first": 20, "filter": {"jurisdiction": "jl.th.dc"}}
    await api.gql(EVERYTHING, variables, as_user="admin.dc")
    with QueryCounter() as counter:
        result = await api.gql(EVERYTHING, variables, as_user="admin.dc")
    assert result.ok()["supervisors"]["edges"]
    # besides the caller's session and the jurisdiction looked up by the filter
    reading = [s for s in counter.statements if '"supervisor"' in s]
    assert len(reading) == 1 and reading[0].startswith("SELECT json_build_object("), reading


@pytest.mark.parametrize(("variables", "user", "code"), [
    ({"first": 0}, "admin.dc", "INVALID_INPUT"),
    ({"first": 5, "after": "nonsense"}, "admin.dc", "INVALID_INPUT"),
    ({"first": 5, "filter": {"jurisdiction": "jl.nowhere"}}, "admin.dc", "NOT_FOUND"),
    ({"first": 5}, None, "UNAUTHENTICATED"),
    ({"first": "five"}, "admin.dc", "INVALID_INPUT"),  # a variable graphql-core refuses
])
async def test_errors_are_the_executors(api: Api, answered: Answered, roster_demo: None,
                                        variables: dict[str, Any], user: str | None,
                                        code: str) -> None:
    results = [await api.gql(EVERYTHING, variables, as_user=user) for _ in range(2)]
    answered.off = True
    executed = await api.gql(EVERYTHING, variables, as_user=user)
    answered.off = False
    assert answered.count == 0
    for result in results:
        assert result.codes == [code]
        assert result.body == executed.body


@pytest.mark.parametrize("selection", [
    "totalCount edges { node { id } }",  # a connection field not declared
    "edges { node { id group { name } } }",  # a relation to a type not declared
    "edges { node { id jurisdiction { parent { id } } } }",  # a field of the related type
    "edges { node { id pointsBalance } }",  # a resolver
    "pageInfo { hasNextPage }",  # no node: the rows' type is not known
])
async def test_what_is_not_declared_goes_through_the_executor(
        api: Api, answered: Answered, roster_demo: None, selection: str) -> None:
    query = "{ supervisors(first: 3) { " + selection + " } }"
    first = await api.gql(query, as_user="admin.dc")
    again = await api.gql(query, as_user="admin.dc")
    assert answered.count == 0
    assert "errors" not in first.body and first.body == again.body


async def test_a_query_with_another_root_field_goes_through_the_executor(
        api: Api, answered: Answered, roster_demo: None) -> None:
    query = "{ supervisors(first: 2) { edges { node { id } } } me { username } }"
    result = await api.gql(query, as_user="admin.dc")
    assert answered.count == 0
    assert result.ok()["me"]["username"] == "admin.dc"


def test_every_declared_type_names_columns_and_foreign_keys_of_its_model() -> None:
    assert {"Supervisor", "Jurisdiction"} <= set(_declared)
    for name in _declared:
        found = _table(name)
        assert found is not None and found.columns
        for _, model, _ in found.relations.values():
            assert model in {t.model for t in map(_table, _declared) if t is not None}


async def test_two_lists_in_one_query_keep_their_own_values(api: Api, answered: Answered,
                                                            roster_demo: None) -> None:
    query = ('query($f: SupervisorFilter) { a: supervisors(first: 2, filter: $f) { edges { '
             "node { id jurisdiction { path } } } pageInfo { hasNextPage endCursor } } "
             "b: supervisors(first: 4) { edges { node { id name jurisdiction { path } } } } }")
    variables = {"f": {"jurisdiction": "jl.th.ja"}}
    projected, executed = await _both(api, answered, query, variables, "admin.th")
    assert projected == executed
    a, b = projected["data"]["a"], projected["data"]["b"]
    assert len(a["edges"]) == 2 and len(b["edges"]) == 4
    assert {e["node"]["jurisdiction"]["path"] for e in a["edges"]} == {"jl.th.ja"}
    # the filter applied to the first list only
    assert {e["node"]["jurisdiction"]["path"] for e in b["edges"]} != {"jl.th.ja"}


async def test_a_document_with_its_arguments_written_out_answers_each_caller_and_error(
        api: Api, answered: Answered, roster_demo: None) -> None:
    query = ('{ supervisors(first: 3, filter: {isSpecial: false}) { edges { node { id '
             "jurisdiction { path } } } } }")
    seen = []
    for user in ("admin.dc", "admin.ja"):
        projected, executed = await _both(api, answered, query, {}, user)
        assert projected == executed
        seen.append({e["node"]["jurisdiction"]["path"] for e in
                     projected["data"]["supervisors"]["edges"]})
    assert seen[0] != seen[1]
    refused = "{ supervisors(first: 0) { edges { node { id } } } }"
    for _ in range(2):
        assert (await api.gql(refused, as_user="admin.dc")).codes == ["INVALID_INPUT"]


CASES = ("query($first: Int!, $after: String, $filter: CaseFilter) { cases(first: $first, "
         "after: $after, filter: $filter) { edges { cursor node { __typename id kind recordType "
         "category state title description place occurredAt submittedAt transferredAt dueAt "
         "repliedAt closedAt overdue reply finding majorLead adoption rating "
         "reopened escalated agency { id name code jurisdiction { path } } "
         "jurisdiction { name level } } } pageInfo { hasNextPage endCursor } } }")


async def test_the_case_list_equals_the_executors_for_every_caller(
        api: Api, answered: Answered, full_demo: None) -> None:
    states: set[str] = set()
    for user in CALLERS:
        after, pages = None, 0
        while pages < 3:
            projected, executed = await _both(api, answered, CASES,
                                              {"first": 40, "after": after}, user)
            assert "errors" not in projected and projected == executed
            connection = projected["data"]["cases"]
            states.update(e["node"]["state"] for e in connection["edges"])
            after, pages = connection["pageInfo"]["endCursor"], pages + 1
            if not connection["pageInfo"]["hasNextPage"]:
                break
    filtered, executed = await _both(api, answered, CASES, {
        "first": 10, "filter": {"state": "TRANSFERRED"}}, "admin.dc")
    assert filtered == executed
    assert {e["node"]["state"] for e in filtered["data"]["cases"]["edges"]} == {"TRANSFERRED"}
    assert len(states) > 2


CASE = ("query($id: ID!) { case(id: $id) { __typename id kind recordType category state title "
        "description place occurredAt submittedAt transferredAt dueAt repliedAt closedAt overdue "
        "reply finding majorLead adoption rating reopened escalated "
        "agency { name } jurisdiction { path } } }")
PERSON = "query($id: ID!) { supervisor(id: $id) { " + SUPERVISOR + " } }"


def _fixed(at: datetime) -> datetime:
    return at


async def test_overdue_is_the_executors_at_the_requests_time(api: Api, answered: Answered,
                                                            full_demo: None) -> None:
    """`overdue` is derived by the database from the case's state and due date and the
    request's time (core.clock), as `is_overdue` derives it: transferred and past due, only."""
    from core import clock
    from core.cases.models import Case, State

    due = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
    cases = await Case.filter(jurisdiction__path="jl.th.dc").order_by("id").limit(3)
    for case, state, due_at in zip(cases, (State.TRANSFERRED, State.TRANSFERRED, State.REPLIED),
                                   (due, None, due), strict=True):
        await Case.filter(id=case.id).update(state=state, due_at=due_at)
    seen = []
    for now in (due - timedelta(microseconds=1), due, due + timedelta(microseconds=1)):
        clock.set_source(functools.partial(_fixed, now))
        for case in cases:
            projected, executed = await _both(api, answered, CASE, {"id": str(case.id)},
                                              "admin.dc")
            assert projected == executed
            seen.append(projected["data"]["case"]["overdue"])
    assert seen == [False, False, False, False, False, False, True, False, False]

async def test_times_are_shown_as_the_executor_shows_them(api: Api, answered: Answered,
                                                          full_demo: None) -> None:
    """A DateTime column: whole seconds without a fraction, microseconds with their leading
    zeros, the last microsecond of a year, and null, each as `datetime.isoformat()`."""
    from core.cases.models import Case

    cases = await Case.filter(jurisdiction__path="jl.th.dc").order_by("id").limit(3)
    times = [datetime(2026, 3, 1, 8, 0, tzinfo=UTC),
             datetime(2026, 3, 1, 8, 0, 0, 120, tzinfo=UTC),
             datetime(2025, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)]
    for case, at in zip(cases, times, strict=True):
        await Case.filter(id=case.id).update(submitted_at=at, occurred_at=at, closed_at=None)
    for case, at in zip(cases, times, strict=True):
        projected, executed = await _both(api, answered, CASE, {"id": str(case.id)}, "admin.dc")
        assert projected == executed
        shown = projected["data"]["case"]
        assert shown["submittedAt"] == shown["occurredAt"] == at.isoformat()
        assert shown["closedAt"] is None


async def test_a_detail_equals_the_executors_and_what_is_not_found_is_its_error(
        api: Api, answered: Answered, full_demo: None) -> None:
    from core.cases.models import Case
    from core.roster.models import Supervisor

    cases = await Case.all().order_by("id").limit(40)
    people = await Supervisor.all().order_by("id").limit(40)
    shown = refused = 0
    for user in CALLERS:
        for query, ids in ((CASE, [c.id for c in cases[::4]]),
                           (PERSON, [p.id for p in people[::4]])):
            for row_id in ids:
                variables = {"id": str(row_id)}
                first = await api.gql(query, variables, as_user=user)
                if first.codes:  # not the caller's: the executor's NOT_FOUND, both times
                    assert first.codes == ["NOT_FOUND"]
                    assert (await api.gql(query, variables, as_user=user)).body == first.body
                    refused += 1
                    continue
                projected, executed = await _both(api, answered, query, variables, user)
                assert projected == executed == first.body
                shown += 1
    assert shown > 20 and refused > 20
    for bad in ("nonsense", "-1"):
        result = await api.gql(CASE, {"id": bad}, as_user="admin.dc")
        assert result.codes and result.data is None


async def _reads(api: Api, query: str, variables: dict[str, Any], user: str
                 ) -> tuple[dict[str, Any], list[tuple[str, str, Any]]]:
    """The answer, and the reporter reads it added to the audit trail."""
    from core.audit import AuditRecord

    last = await AuditRecord.all().order_by("-id").first()
    body = (await api.gql(query, variables, as_user=user)).body
    added = await AuditRecord.filter(id__gt=last.id if last else 0,
                                     action="case.reporter_read").order_by("id")
    return body, [(r.actor, r.target_id, r.detail) for r in added]


async def test_the_reporter_is_shown_and_its_reads_audited_as_by_the_executor(
        api: Api, answered: Answered, full_demo: None) -> None:
    """R4.4: the reporter where the caller may see it, null elsewhere, each read by anyone but
    the reporter in the audit trail: the same answers and the same records both ways."""
    from core.cases.models import Case

    detail = "query($id: ID!) { case(id: $id) { id state reporter { name unit } } }"
    listed = ("query($f: CaseFilter) { cases(first: 30, filter: $f) { edges { node { id "
              "r: reporter { name } again: reporter { name } agency { name } } } } }")
    cases = await Case.all().order_by("id").limit(60)
    shown = hidden = 0
    runs: list[tuple[str, dict[str, Any]]] = [
        *((detail, {"id": str(c.id)}) for c in cases[::6]),
        (listed, {}), (listed, {"f": {"state": "TRANSFERRED"}})]
    for user in CALLERS:
        for query, variables in runs:
            await api.gql(query, variables, as_user=user)  # known from now on
            before = answered.count
            projected, projected_reads = await _reads(api, query, variables, user)
            if "errors" in projected:  # not the caller's case: the executor said so
                assert answered.count == before
                continue
            assert answered.count == before + 1
            answered.off = True
            try:
                executed, executed_reads = await _reads(api, query, variables, user)
            finally:
                answered.off = False
            assert projected == executed
            assert projected_reads == executed_reads
            reporters = _reporters(projected["data"])
            shown += sum(r is not None for r in reporters)
            hidden += sum(r is None for r in reporters)
    assert shown > 10 and hidden > 10  # both sides of R4.4 were exercised


def _reporters(value: Any) -> list[Any]:
    """Every reporter in an answer (under the keys reporter, r and again)."""
    if isinstance(value, list):
        return [r for item in value for r in _reporters(item)]
    if not isinstance(value, dict):
        return []
    return [*(value[k] for k in ("reporter", "r", "again") if k in value),
            *(r for v in value.values() for r in _reporters(v))]


async def test_coordinates_are_floats_as_the_executor_shows_them(api: Api, answered: Answered,
                                                                 roster_demo: None) -> None:
    """A Float column: PostgreSQL writes a whole number without its fraction (`5`), which a
    JSON reader takes for an integer; the database's answer shows `5.0`, as the executor.
    Also negative zero, tiny and long fractions, and null."""
    from core.roster.models import Supervisor

    people = await Supervisor.filter(jurisdiction__path="jl.th.dc").order_by("id").limit(5)
    places = [(5.0, -120.0), (-0.0, 0.0), (0.00001, 1.5e-07), (41.730001, 125.950123456789),
              (None, None)]
    for person, (latitude, longitude) in zip(people, places, strict=True):
        await Supervisor.filter(id=person.id).update(latitude=latitude, longitude=longitude)
    for person, (latitude, longitude) in zip(people, places, strict=True):
        projected, executed = await _both(api, answered, PERSON, {"id": str(person.id)},
                                          "admin.dc")
        assert projected == executed
        shown = projected["data"]["supervisor"]
        for got, want in ((shown["latitude"], latitude), (shown["longitude"], longitude)):
            assert type(got) is type(want) and repr(got) == repr(want)

