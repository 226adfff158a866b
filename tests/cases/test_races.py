"""Case steps by different offices at once: each decides on the locked row, so a step
committed meanwhile is seen, never overwritten (R7.1 escalation against the county's accept;
supervision orders acknowledged once)."""

from __future__ import annotations

import asyncio

from core.cases.models import Case, CaseEvent, SupervisionOrder
from core.notifications.models import Notification
from tests.cases.helpers import act, submit
from tests.support import Api

ROUNDS = 12


async def test_r7_1_an_escalation_racing_the_county_accept_is_never_lost(
        api: Api, full_demo: None) -> None:
    for _ in range(ROUNDS):
        case = await submit(api)
        await api.token("admin.th"), await api.token("admin.dc")
        escalated, accepted = await asyncio.gather(
            act(api, "admin.th", "escalateCase", case["id"], 'reason: "案情重大"'),
            act(api, "admin.dc", "acceptCase", case["id"]))
        assert not escalated.errors, escalated.errors  # the city may always escalate it
        row = await Case.get(id=int(case["id"])).select_related("jurisdiction")
        steps = [e.kind for e in await CaseEvent.filter(case_id=row.id).order_by("id")]
        assert row.escalated and row.jurisdiction.path == "jl.th", (steps, row.jurisdiction)
        if accepted.errors:  # the escalation came first: the county no longer handles it
            assert accepted.codes in (["NOT_FOUND"], ["FORBIDDEN"])
            assert steps == ["SUBMITTED", "ESCALATED"] and row.state.value == "SUBMITTED"
        else:
            assert steps == ["SUBMITTED", "ACCEPTED", "ESCALATED"]
            assert row.state.value == "ACCEPTED"


async def test_r7_1_a_supervision_order_is_acknowledged_once(api: Api, full_demo: None
                                                             ) -> None:
    case = await submit(api)
    issued = await api.gql(f'mutation {{ issueSupervisionOrder(caseId: "{case["id"]}", '
                           'note: "请加快办理") { supervisionOrders { id } } }',
                           as_user="admin.th")
    order_id = issued.ok()["issueSupervisionOrder"]["supervisionOrders"][0]["id"]
    await api.token("admin.dc")
    ack = f'mutation {{ acknowledgeSupervisionOrder(id: "{order_id}") {{ id }} }}'
    results = await asyncio.gather(*(api.gql(ack, as_user="admin.dc") for _ in range(5)))
    assert sorted(r.codes for r in results) == [[]] + [["INVALID_TRANSITION"]] * 4
    assert await CaseEvent.filter(case_id=int(case["id"]), kind="ORDER_ACKNOWLEDGED"
                                  ).count() == 1
    told = await Notification.filter(kind="ORDER_ACKNOWLEDGED", subject_id=int(case["id"])
                                     ).values_list("account_id", flat=True)
    assert told and len(told) == len(set(told))  # each of the city's staff told once
    assert (await SupervisionOrder.get(id=int(order_id))).acknowledged_by == "admin.dc"
