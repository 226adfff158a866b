"""R4.4 against correlation: an office that may not see a case's reporter reads the shared
case's time (oversightCases, reporter masked) and the ledgers and scorecards of the
supervisors it oversees. Matching them must not narrow the reporter below the whole day's
reporters of that office."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from core import clock
from core.roster.models import Supervisor
from core.scoring.models import PointEntry
from tests.cases.helpers import agency_id, submit
from tests.scoring.test_points import next_day_credited
from tests.support import Api

OVERSIGHT = """query($from: DateTime) { oversightCases(first: 100, filter: {from: $from}) {
  edges { node { id submittedAt reporter { name } jurisdiction { path } } } } }"""
LEDGER = """query($id: ID!) { pointsLedger(supervisorId: $id, first: 100) { edges { node {
  id event points at } } } supervisorScorecard(id: $id) { pointsBalance
  casesByKind { key count } } }"""


def _counts(seen: dict) -> dict[str, int]:
    return {c["key"]: c["count"] for c in seen["supervisorScorecard"]["casesByKind"]}


async def _seen(api: Api, sid: int) -> dict:
    return (await api.gql(LEDGER, {"id": str(sid)}, as_user="admin.th")).ok()


async def test_r4_4_the_ledger_and_scorecards_name_no_reporter_by_time(
        api: Api, full_demo: None) -> None:
    reporters = ["sv.dc.031", "sv.dc.032", "sv.dc.033"]
    ids = {u: (await Supervisor.get(account__username=u)).id for u in reporters}
    await PointEntry.filter(supervisor_id__in=list(ids.values())).delete()
    counts_before = {u: _counts(await _seen(api, ids[u])) for u in reporters}
    # the first reports a Liuhe agency (a case the city and Dongchang may not see the
    # reporter of); the second a Dongchang agency, the same day; the third nothing
    liuhe = await submit(api, user=reporters[0], agency=await agency_id("lh"))
    await submit(api, user=reporters[1])
    shared = {e["node"]["id"]: e["node"] for e in
              (await api.gql(OVERSIGHT, {"from": (clock.now() - timedelta(hours=1)).isoformat()},
                             as_user="admin.th")).ok()["oversightCases"]["edges"]}
    case = shared[liuhe["id"]]
    assert case["reporter"] is None and case["jurisdiction"]["path"] == "jl.th.lh"
    submitted = datetime.fromisoformat(case["submittedAt"])

    # the same day: nothing in any ledger or count to match the case's time with
    for u, sid in ids.items():
        seen = await _seen(api, sid)
        assert seen["pointsLedger"]["edges"] == []
        assert _counts(seen) == counts_before[u]

    await next_day_credited()
    api.tokens.clear()
    day = datetime.combine(submitted.astimezone(clock.LOCAL_ZONE).date(), time.min,
                           tzinfo=clock.LOCAL_ZONE)
    views = {u: await _seen(api, ids[u]) for u in reporters}
    entries = {u: [e["node"] for e in v["pointsLedger"]["edges"]] for u, v in views.items()}
    # both reporters of the day carry the same entry: the day's start, the event, the points
    for u in reporters[:2]:
        assert [(e["event"], e["points"], datetime.fromisoformat(e["at"])) for e in entries[u]
                ] == [("REPORT_SUBMITTED", 2, day)]
        assert _counts(views[u]) == {**counts_before[u],
                                     "REPORT": counts_before[u].get("REPORT", 0) + 1}
    assert entries[reporters[2]] == []
    # no entry anywhere carries the case's time
    times = {datetime.fromisoformat(e["at"]) for es in entries.values() for e in es}
    assert submitted not in times and all(t == day for t in times)
    # the candidates the day leaves are all the day's reporters of the office, not one
    candidates = {u for u, es in entries.items()
                  if any(datetime.fromisoformat(e["at"]) <= submitted < datetime.fromisoformat(
                      e["at"]) + timedelta(days=1) for e in es)}
    assert candidates == set(reporters[:2])
    # the reporter's own balance counts it
    own = await api.gql(LEDGER, {"id": str(ids[reporters[0]])}, as_user=reporters[0])
    assert own.ok()["supervisorScorecard"]["pointsBalance"] == 2
