"""Cross-level supervision (R7.1): overdue cases upward, supervision orders, escalation; and
the shared statistics (R7.2)."""

from __future__ import annotations

from datetime import timedelta
from statistics import median

from core import clock
from core.audit import AuditRecord
from core.cases.models import Case, SupervisionOrder
from core.cases.rules import is_overdue
from tests.cases.helpers import CASE, act, submit, to_transferred
from tests.support import Api, QueryCounter

OVERDUE = "{ overdueCases(first: 100) { totalCount edges { node { id jurisdiction { path } } } } }"


async def _overdue_case(api: Api) -> str:
    case = await submit(api)
    await to_transferred(api, case["id"])
    await Case.filter(id=int(case["id"])).update(due_at=clock.now() - timedelta(days=2))
    return str(case["id"])


async def test_r7_1_overdue_cases_reach_the_office_and_those_above(api: Api, full_demo: None
                                                                  ) -> None:
    case_id = await _overdue_case(api)
    dc = (await api.gql(OVERDUE, as_user="admin.dc")).ok()["overdueCases"]
    city = (await api.gql(OVERDUE, as_user="admin.th")).ok()["overdueCases"]
    ja = (await api.gql(OVERDUE, as_user="admin.ja")).ok()["overdueCases"]
    assert case_id in {e["node"]["id"] for e in dc["edges"]}
    assert {e["node"]["jurisdiction"]["path"] for e in dc["edges"]} == {"jl.th.dc"}
    now = clock.now()
    assert city["totalCount"] == sum(is_overdue(c, now) for c in await Case.all()) > 0
    assert case_id not in {e["node"]["id"] for e in ja["edges"]}
    flagged = (await api.gql(CASE, {"id": case_id}, as_user="admin.dc")).ok()["case"]
    assert flagged["overdue"] is True


async def test_r7_1_supervision_order_issued_above_and_acknowledged(api: Api, full_demo: None
                                                                   ) -> None:
    case_id = await _overdue_case(api)
    refused = await api.gql(f'mutation {{ issueSupervisionOrder(caseId: "{case_id}", '
                            'note: "请加快") { id } }', as_user="admin.dc")
    assert refused.codes == ["FORBIDDEN"]
    sibling = await api.gql(f'mutation {{ issueSupervisionOrder(caseId: "{case_id}", '
                            'note: "请加快") { id } }', as_user="admin.ja")
    assert sibling.codes == ["NOT_FOUND"]
    issued = await api.gql(f'mutation {{ issueSupervisionOrder(caseId: "{case_id}", '
                           'note: "请于三日内答复") { supervisionOrders { id acknowledgedAt '
                           "issuedBy { path } } } }", as_user="admin.th")
    orders = issued.ok()["issueSupervisionOrder"]["supervisionOrders"]
    assert len(orders) == 1 and orders[0]["issuedBy"] == {"path": "jl.th"}
    assert orders[0]["acknowledgedAt"] is None
    order_id = orders[0]["id"]
    assert (await api.gql(f'mutation {{ acknowledgeSupervisionOrder(id: "{order_id}") '
                          "{ id } }", as_user="admin.th")).codes == ["FORBIDDEN"]
    (await api.gql(f'mutation {{ acknowledgeSupervisionOrder(id: "{order_id}") {{ id }} }}',
                   as_user="admin.dc")).ok()
    shown = (await api.gql(CASE, {"id": case_id}, as_user="admin.dc")).ok()["case"]
    assert shown["supervisionOrders"][0]["acknowledgedAt"] is not None
    again = await api.gql(f'mutation {{ acknowledgeSupervisionOrder(id: "{order_id}") '
                          "{ id } }", as_user="admin.dc")
    assert again.codes == ["INVALID_TRANSITION"]
    office_notes = (await api.gql("{ notifications { edges { node { kind } } } }",
                                  as_user="admin.th")).ok()
    assert "ORDER_ACKNOWLEDGED" in {e["node"]["kind"] for e in office_notes["notifications"][
        "edges"]}
    assert await SupervisionOrder.filter(case_id=int(case_id)).count() == 1


async def test_r7_1_escalation_moves_the_case_to_the_city_office(api: Api, full_demo: None
                                                                 ) -> None:
    case = await submit(api)
    (await act(api, "admin.dc", "acceptCase", case["id"])).ok()
    assert (await act(api, "admin.ja", "escalateCase", case["id"], 'reason: "x"')).codes == [
        "NOT_FOUND"]
    escalated = await api.gql(f'mutation {{ escalateCase(id: "{case["id"]}", reason: "案情重大")'
                              " { escalated jurisdiction { path } } }", as_user="admin.dc")
    assert escalated.ok()["escalateCase"] == {"escalated": True,
                                              "jurisdiction": {"path": "jl.th"}}
    record = await AuditRecord.get(action="case.escalated", target_id=case["id"])
    assert record.jurisdiction == "jl.th.dc"  # audited under the county it leaves
    assert record.detail == {"from": "jl.th.dc", "to": "jl.th"}
    city = (await api.gql("{ notifications { edges { node { kind caseId } } } }",
                          as_user="admin.th")).ok()["notifications"]["edges"]
    assert {"kind": "ESCALATED", "caseId": case["id"]} in [e["node"] for e in city]
    assert (await act(api, "admin.dc", "transferCase", case["id"])).codes == ["NOT_FOUND"]
    assert (await act(api, "admin.th", "transferCase", case["id"])).ok()
    twice = await act(api, "admin.th", "escalateCase", case["id"], 'reason: "x"')
    assert twice.codes == ["INVALID_TRANSITION"]


STATS = """query($j: String!) { oversightStats(jurisdiction: $j) { total overdue
  substantiationRate medianReplyHours p90ReplyHours byKind { key count } byState { key count }
  byJurisdiction { key count } byAgency { key count } byCategory { key count } } }"""


async def test_r7_2_oversight_stats_match_a_recount(api: Api, full_demo: None
                                                                ) -> None:
    await api.token("admin.edj")
    with QueryCounter() as counter:
        data = (await api.gql(STATS, {"j": "jl.th"}, as_user="admin.edj")).ok()
    # principal, scope ids (twice: scope and subtree), the counts, overdue, reply percentiles
    assert counter.count <= 6, counter.statements
    stats = data["oversightStats"]
    cases = await Case.all().select_related("jurisdiction")
    assert stats["total"] == len(cases)
    by_state: dict[str, int] = {}
    for c in cases:
        by_state[c.state.value] = by_state.get(c.state.value, 0) + 1
    assert {x["key"]: x["count"] for x in stats["byState"]} == by_state
    assert sum(x["count"] for x in stats["byJurisdiction"]) == len(cases)
    now = clock.now()
    assert stats["overdue"] == sum(is_overdue(c, now) for c in cases)
    verified = [c for c in cases if c.finding is not None]
    substantiated = [c for c in verified if c.finding.value != "UNSUBSTANTIATED"]
    assert abs(stats["substantiationRate"] - len(substantiated) / len(verified)) < 1e-9
    replies = [(c.replied_at - c.transferred_at).total_seconds() / 3600 for c in cases
               if c.replied_at and c.transferred_at]
    assert abs(stats["medianReplyHours"] - median(replies)) < 1e-6
    county = (await api.gql(STATS, {"j": "jl.th.dc"}, as_user="admin.edj")).ok()
    assert county["oversightStats"]["total"] == sum(1 for c in cases
                                                    if c.jurisdiction.path == "jl.th.dc")


async def test_stats_are_for_offices_of_the_city(api: Api, full_demo: None) -> None:
    assert (await api.gql(STATS, {"j": "jl.th"}, as_user="sv.dc.001")).codes == ["NOT_FOUND"]
    assert (await api.gql(STATS, {"j": "jl.th"}, as_user="ag.dc.sw")).codes == ["NOT_FOUND"]
    assert (await api.gql(STATS, {"j": "jl.th"})).codes == ["UNAUTHENTICATED"]
