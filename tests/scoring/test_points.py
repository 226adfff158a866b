"""R9.2 criterion 4: the points ledger, written where events happen, never twice."""

from __future__ import annotations

from datetime import timedelta

from core import clock
from core.audit import AuditRecord
from core.roster.models import Supervisor
from core.scoring import points
from core.scoring.models import PointEntry, Proposal
from tests.cases.helpers import act, submit, to_transferred
from tests.support import Api


async def next_day_credited() -> None:
    """The clock at tomorrow's start, and the day's held points credited as the job does."""
    tomorrow = clock.now() + timedelta(days=1)
    clock.set_source(lambda: tomorrow)
    await points.credit_days()


LEDGER = """query($id: ID!) { pointsLedger(supervisorId: $id, first: 100) { totalCount
  edges { node { event points } } } supervisor(id: $id) { pointsBalance } }"""


async def _ledger(api: Api, sid: int, user: str = "admin.dc") -> tuple[list[tuple[str, int]],
                                                                      int]:
    """The ledger once the day's case points are credited (R4.4: the next day)."""
    await next_day_credited()
    api.tokens.clear()  # signed in again on the day moved to
    data = (await api.gql(LEDGER, {"id": str(sid)}, as_user=user)).ok()
    return ([(e["node"]["event"], e["node"]["points"]) for e in
             data["pointsLedger"]["edges"]], data["supervisor"]["pointsBalance"])


async def test_r9_2_events_score_once_where_they_happen(api: Api, full_demo: None) -> None:
    """A report submitted, substantiated as a major lead, reopened and substantiated again:
    each event scores once; R9.3 a reward proposal for the major lead."""
    sid = (await Supervisor.get(account__username="sv.dc.010")).id
    await PointEntry.filter(supervisor_id=sid).delete()
    case = await submit(api, user="sv.dc.010")
    await to_transferred(api, case["id"])
    (await act(api, "ag.dc.scjg", "replyCase", case["id"], 'reply: "已整改"')).ok()
    (await act(api, "admin.dc", "verifyCase", case["id"],
               "finding: SUBSTANTIATED, majorLead: true")).ok()
    (await act(api, "admin.dc", "closeCase", case["id"])).ok()
    (await act(api, "sv.dc.010", "declareUnresolved", case["id"], 'reason: "复发"')).ok()
    (await act(api, "admin.dc", "transferCase", case["id"])).ok()
    (await act(api, "ag.dc.scjg", "replyCase", case["id"], 'reply: "再整改"')).ok()
    (await act(api, "admin.dc", "verifyCase", case["id"],
               "finding: SUBSTANTIATED, majorLead: true")).ok()
    entries, balance = await _ledger(api, sid)
    # R4.4: the day's credits come in random order
    assert sorted(entries) == sorted([("REPORT_SUBMITTED", 2), ("REPORT_SUBSTANTIATED", 5),
                                      ("MAJOR_LEAD_SUBSTANTIATED", 20)])
    assert balance == 27
    assert await Proposal.filter(supervisor_id=sid, kind="REWARD").count() == 1
    own = await _ledger(api, sid, user="sv.dc.010")
    assert own[1] == 27
    assert (await api.gql(LEDGER, {"id": str(sid)}, as_user="admin.ja")).codes == ["NOT_FOUND"]


async def test_r9_2_a_jurisdiction_sets_its_own_points(api: Api, full_demo: None) -> None:
    set_rule = ('mutation { setPointRule(jurisdiction: "jl.th.dc", event: REPORT_SUBMITTED, '
                "points: 7) }")
    assert (await api.gql(set_rule, as_user="admin.ja")).codes == ["FORBIDDEN"]
    assert (await api.gql(set_rule, as_user="admin.dc")).ok() == {"setPointRule": 7}
    sid = (await Supervisor.get(account__username="sv.dc.011")).id
    await PointEntry.filter(supervisor_id=sid).delete()
    await submit(api, user="sv.dc.011")
    assert (await _ledger(api, sid))[0] == [("REPORT_SUBMITTED", 7)]
    ja = (await Supervisor.get(account__username="sv.ja.011")).id
    await PointEntry.filter(supervisor_id=ja).delete()
    await submit(api, user="sv.ja.011")
    assert (await _ledger(api, ja, user="admin.ja"))[0] == [("REPORT_SUBMITTED", 2)]


async def test_manual_adjustments_need_a_reason_and_are_audited(api: Api, full_demo: None
                                                                ) -> None:
    sid = (await Supervisor.get(account__username="sv.dc.012")).id
    adjust = ('mutation($id: ID!, $p: Int!, $r: String!) { adjustPoints(supervisorId: $id, '
              "points: $p, reason: $r) { points event } }")
    before = await PointEntry.filter(supervisor_id=sid).count()
    assert (await api.gql(adjust, {"id": str(sid), "p": 5, "r": ""},
                          as_user="admin.dc")).codes == ["INVALID_INPUT"]
    assert (await api.gql(adjust, {"id": str(sid), "p": 5, "r": "表彰"},
                          as_user="sv.dc.012")).codes == ["FORBIDDEN"]
    done = (await api.gql(adjust, {"id": str(sid), "p": -4, "r": "迟报材料"},
                          as_user="admin.dc")).ok()
    assert done["adjustPoints"] == {"points": -4, "event": "ADJUSTMENT"}
    assert await PointEntry.filter(supervisor_id=sid).count() == before + 1
    record = await AuditRecord.filter(action="points.adjust").order_by("-id").first()
    assert record is not None and record.detail["reason"] == "迟报材料"


async def test_attendance_firms_assistance_and_discipline_score(api: Api, full_demo: None
                                                                ) -> None:
    """Activity attended (+ training completed), contact firm linked, discipline (negative)."""
    from core.scoring.models import PointEvent
    from core.scoring.points import award

    sid = (await Supervisor.get(account__username="sv.dc.013")).id
    await PointEntry.filter(supervisor_id=sid).delete()
    assert await award(sid, PointEvent.ACTIVITY_ATTENDED, "activity:1:x") is True
    assert await award(sid, PointEvent.ACTIVITY_ATTENDED, "activity:1:x") is False
    (await api.gql(f'mutation {{ recordDiscipline(supervisorId: "{sid}", kind: CRITICISM, '
                   'reason: "迟到") { id } }', as_user="admin.dc")).ok()
    entries, balance = await _ledger(api, sid)
    assert entries == [("ACTIVITY_ATTENDED", 3), ("DISCIPLINE", -10)] and balance == -7
