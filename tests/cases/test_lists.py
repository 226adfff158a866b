"""Each actor against the case lists and details; no N+1 on a page of 100."""

from __future__ import annotations

from core import clock
from core.cases.models import Case, State
from core.cases.rules import is_overdue
from core.config import settings
from tests.cases.helpers import CASE, submit, to_transferred
from tests.support import Api, QueryCounter

PAGE = """query($f: CaseFilter, $after: String) { cases(filter: $f, first: 100, after: $after) {
  totalCount edges { node { id kind category state dueAt jurisdiction { path }
    agency { name } reporter { name } lastStep { kind at actor } } }
  pageInfo { hasNextPage endCursor } } }"""


async def _total(api: Api, user: str | None = None, f: dict | None = None) -> int:
    result = await api.gql(PAGE, {"f": f}, as_user=user)
    return int(result.ok()["cases"]["totalCount"])


async def test_each_actor_sees_its_own_cases(api: Api, full_demo: None) -> None:
    case = await submit(api, user="sv.dc.007")
    await to_transferred(api, case["id"])
    total = await Case.all().count()
    assert await _total(api, "admin.th") == total
    assert await _total(api, "admin.dc") == await Case.filter(
        jurisdiction__path="jl.th.dc").count()
    assert await _total(api, "sv.dc.007") == await Case.filter(
        reporter__account__username="sv.dc.007").count()
    transferred_to_it = await Case.filter(
        agency__code="scjg", agency__jurisdiction__code="dc",
        state__in=[State.TRANSFERRED, State.REPLIED, State.VERIFIED, State.CLOSED]).count()
    assert await _total(api, "ag.dc.scjg") == transferred_to_it
    assert await _total(api, "admin.dc", {"mine": True}) == 0
    assert await _total(api, "sv.dc.007", {"mine": True}) >= 1
    assert (await api.gql(PAGE)).codes == ["UNAUTHENTICATED"]


async def test_each_actor_against_one_case(api: Api, full_demo: None) -> None:
    case = await submit(api, user="sv.dc.007")
    reads = {
        "sv.dc.007": True, "sv.dc.008": False, "admin.dc": True, "admin.ja": False,
        "admin.th": True, "ag.dc.scjg": False, "ag.dc.sw": False,
    }
    for user, visible in reads.items():
        result = await api.gql(CASE, {"id": case["id"]}, as_user=user)
        assert (not result.errors) == visible, (user, result.errors)
        if not visible:
            assert result.codes == ["NOT_FOUND"]
    await to_transferred(api, case["id"])
    assert not (await api.gql(CASE, {"id": case["id"]}, as_user="ag.dc.scjg")).errors
    assert (await api.gql(CASE, {"id": case["id"]}, as_user="ag.dc.sw")).codes == ["NOT_FOUND"]
    assert (await api.gql(CASE, {"id": case["id"]})).codes == ["UNAUTHENTICATED"]
    key = (settings().data_dir / "province.key").read_text().strip()
    assert (await api.gql(CASE, {"id": case["id"]}, api_key=key)).codes == ["NOT_FOUND"]
    assert (await api.gql(PAGE, api_key=key)).ok()["cases"]["totalCount"] == 0


async def test_filters(api: Api, full_demo: None) -> None:
    assert await _total(api, "admin.th", {"kind": "INQUIRY"}) == await Case.filter(
        kind="INQUIRY").count()
    assert await _total(api, "admin.th", {"state": "CLOSED", "jurisdiction": "jl.th.ja"}
                        ) == await Case.filter(state="CLOSED", jurisdiction__path="jl.th.ja"
                                               ).count()
    overdue = await _total(api, "admin.th", {"overdue": True})
    not_overdue = await _total(api, "admin.th", {"overdue": False})
    cases, now = await Case.all(), clock.now()
    assert overdue == sum(is_overdue(c, now) for c in cases) > 0
    assert overdue + not_overdue == len(cases)
    window = {"from": "2020-01-01T00:00:00Z", "to": "2020-02-01T00:00:00Z"}
    assert await _total(api, "admin.th", window) == 0
    reversed_window = await api.gql(PAGE, {"f": {"from": "2026-02-01T00:00:00Z",
                                                 "to": "2026-01-01T00:00:00Z"}},
                                    as_user="admin.th")
    assert reversed_window.codes == ["INVALID_INPUT"]


async def test_a_page_of_100_cases_costs_a_fixed_number_of_queries(api: Api, full_demo: None
                                                                   ) -> None:
    await api.token("admin.th")
    with QueryCounter() as counter:
        page = (await api.gql(PAGE, as_user="admin.th")).ok()["cases"]
    assert len(page["edges"]) == 100
    # principal, scope ids, relations, count, page, jurisdictions, agencies, events,
    # reporter visibility (handled offices), supervisors of visible reporters, audit of reads
    assert counter.count <= 12, counter.statements
    fixed = counter.count
    with QueryCounter() as again:
        (await api.gql(PAGE, {"after": page["pageInfo"]["endCursor"]}, as_user="admin.th")).ok()
    assert again.count == fixed


async def test_a_case_detail_reads_the_case_its_reporter_and_appends_the_audit(
        api: Api, full_demo: None) -> None:
    """The handling office's detail view: the case with its agency and its reporter in one
    statement (the answer itself, schema/projection.py), the R4.4 audit record of the
    identity read in a second."""
    case = await submit(api, user="sv.dc.007")
    await api.token("admin.dc")
    with QueryCounter() as counter:
        detail = (await api.gql('query($id: ID!) { case(id: $id) { id agency { name } '
                                "reporter { name } jurisdiction { path } } }",
                                {"id": case["id"]}, as_user="admin.dc")).ok()["case"]
    assert detail["agency"]["name"] and detail["reporter"]["name"]
    assert detail["jurisdiction"]["path"] == "jl.th.dc"
    # (the caller's session and the jurisdiction tree come from memory while the process
    # listens: tests/accounts/test_principal_cache.py, tests/tenants/test_directory.py)
    read = [s.split("(")[0] if s.startswith("SELECT json_build_object") or " FROM " not in s
            else s.split(" FROM ")[1].split()[0] for s in counter.statements]
    assert [r for r in read if r not in ('"session"', '"jurisdiction"')] == [
        "SELECT json_build_object", "SELECT audit_append_records"], counter.statements
    answer = counter.statements[read.index("SELECT json_build_object")]
    assert 'FROM "supervision_case"' in answer
    assert all(f'JOIN "{t}"' in answer for t in ("agency", "supervisor", "jurisdiction"))


async def test_a_supervisors_own_case_is_read_without_reading_the_supervisor(
        api: Api, full_demo: None, listening: None) -> None:
    """Which cases are the caller's own comes from the kept supervisor record
    (core.roster.service.own_records), not from a read of it on every request: the detail
    is the answer's one statement once the record is kept."""
    case = await submit(api, user="sv.dc.007")
    query = "query($id: ID!) { case(id: $id) { id state reporter { name } } }"
    first = (await api.gql(query, {"id": case["id"]}, as_user="sv.dc.007")).ok()["case"]
    with QueryCounter() as counter:
        again = (await api.gql(query, {"id": case["id"]}, as_user="sv.dc.007")).ok()["case"]
    assert again == first and first["reporter"]["name"]
    assert [s for s in counter.statements if '"session"' not in s] == [
        s for s in counter.statements if s.startswith("SELECT json_build_object")]
    assert len(counter.statements) <= 2, counter.statements
    assert (await api.gql(query, {"id": case["id"]}, as_user="sv.dc.008")).codes == [
        "NOT_FOUND"]


async def test_each_actor_against_each_write(api: Api, full_demo: None) -> None:
    """Who may move a transferred case: only the assigned agency replies; nobody else moves
    it, and what they cannot see is NOT_FOUND."""
    case = await submit(api, user="sv.dc.007")
    await to_transferred(api, case["id"])
    key = (settings().data_dir / "province.key").read_text().strip()
    reply = f'mutation {{ replyCase(id: "{case["id"]}", reply: "r") {{ state }} }}'
    close = f'mutation {{ closeCase(id: "{case["id"]}") {{ state }} }}'
    expected = {
        None: "UNAUTHENTICATED", "province": "NOT_FOUND", "sv.dc.007": "FORBIDDEN",
        "sv.dc.008": "NOT_FOUND", "admin.dc": "FORBIDDEN", "admin.ja": "NOT_FOUND",
        "admin.th": "FORBIDDEN", "ag.dc.sw": "NOT_FOUND",
    }
    for user, code in expected.items():
        if user == "province":
            result = await api.gql(reply, api_key=key)
        else:
            result = await api.gql(reply, as_user=user)
        assert result.codes == [code], (user, result.errors)
    for user, code in [("ag.dc.scjg", "FORBIDDEN"), ("admin.ja", "NOT_FOUND"),
                       ("sv.dc.007", "FORBIDDEN"), ("admin.th", "FORBIDDEN")]:
        assert (await api.gql(close, as_user=user)).codes == [code], user
    assert (await Case.get(id=int(case["id"]))).state is State.TRANSFERRED
    assert (await api.gql(reply, as_user="ag.dc.scjg")).ok()["replyCase"]["state"] == "REPLIED"
