"""R9.1, R9.2 assessment on a hand-computed fixture of a dozen supervisors; adjustment,
finalisation (read-only) and consequences (R9.3, R9.4, R2.5); R2.1 renewal uses it."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest

from core import clock
from core.accounts.models import Account
from core.activities.models import Activity, Participation
from core.agencies.models import Agency
from core.cases.models import Case
from core.roster.models import Discipline, Supervisor, SupervisorEvent
from core.scoring.models import PointEntry, Proposal
from tenants.models import Jurisdiction
from tests.support import Api

# name: (admin-approval records, firm records, attended, recorded, points, suggestions,
#        disciplines in the period, expected score, expected grade)
# score = 20 * (min(a/2,1) + min(f/2,1) + attended/recorded (1 if none) + min(p/30,1)
#               + max(min(s/2,1) - 0.5*d, 0))
FIXTURE: dict[str, tuple[int, int, int, int, int, int, int, float, str]] = {
    "s01": (2, 2, 2, 2, 30, 2, 0, 100.0, "EXCELLENT"),
    "s02": (1, 1, 1, 2, 15, 1, 0, 50.0, "INCOMPETENT"),
    "s03": (0, 0, 0, 0, 0, 0, 0, 20.0, "INCOMPETENT"),
    "s04": (3, 2, 1, 1, 60, 2, 1, 90.0, "EXCELLENT"),
    "s05": (2, 1, 3, 4, 24, 2, 0, 81.0, "COMPETENT"),
    "s06": (1, 2, 2, 2, 30, 1, 0, 80.0, "COMPETENT"),
    "s07": (2, 2, 0, 1, 30, 2, 0, 80.0, "COMPETENT"),
    "s08": (1, 1, 1, 1, 21, 2, 0, 74.0, "COMPETENT"),
    "s09": (1, 0, 1, 1, 30, 2, 0, 70.0, "COMPETENT"),
    "s10": (0, 1, 1, 2, 30, 2, 0, 60.0, "BASIC"),
    "s11": (0, 0, 1, 1, 27, 2, 0, 58.0, "INCOMPETENT"),
    "s12": (2, 2, 1, 1, 30, 2, 2, 80.0, "COMPETENT"),
}
IN_PERIOD = datetime(2026, 3, 10, 10, 0, tzinfo=clock.LOCAL_ZONE)


async def _supervisor(place: Jurisdiction, name: str, start: date, n: int) -> Supervisor:
    account = await Account.create(username=f"fx.{name}", kind="SUPERVISOR", home=place,
                                   password_hash=None)
    return await Supervisor.create(
        jurisdiction=place, account=account, name=name, phone="13900000000",
        id_number_encrypted="x", id_number_masked="x", id_number_digest=f"fx{n}",
        category="ENTERPRISE", unit="u", status="ACTIVE", term_start=start,
        term_end=date(start.year + 2, start.month, start.day) - timedelta(days=1))


@pytest.fixture
async def assessed_county(full_demo: None) -> dict[str, Supervisor]:
    """Erdaojiang (no demo supervisors) with a dozen supervisors and their recorded facts."""
    place = await Jurisdiction.get(path="jl.th.edj")
    agency = await Agency.get(jurisdiction=place, code="scjg")
    people: dict[str, Supervisor] = {}
    for n, (name, facts) in enumerate(FIXTURE.items()):
        s = await _supervisor(place, name, date(2025, 6, 1), n)
        people[name] = s
        approvals, firms, attended, recorded, points, suggestions, disciplines, *_ = facts
        kinds = ([("SUPERVISION_RECORD", "ADMIN_APPROVAL")] * approvals
                 + [("SUPERVISION_RECORD", "FIRM_FEES")] * firms + [("SUGGESTION", None)]
                 * suggestions)
        await Case.bulk_create([Case(
            kind=kind, record_type=record, category="OTHER", jurisdiction=place,
            agency=agency, reporter=s, title="t", description="d", occurred_at=IN_PERIOD,
            submitted_at=IN_PERIOD) for kind, record in kinds])
        for i in range(recorded):
            activity = await Activity.create(
                jurisdiction=place, kind="FORUM", title="f", start_at=IN_PERIOD,
                end_at=IN_PERIOD + timedelta(hours=2), capacity=50, audience="OPEN",
                checkin_code="123456", organiser="admin.edj")
            await Participation.create(activity=activity, supervisor=s, status="ACCEPTED",
                                       attendance="ATTENDED" if i < attended else "ABSENT")
        if points:
            await PointEntry.create(supervisor=s, event="ADJUSTMENT", points=points,
                                    source=f"fx:{name}", actor="t", at=IN_PERIOD)
        for _ in range(disciplines):
            await Discipline.create(supervisor=s, kind="CRITICISM", reason="r", at=IN_PERIOD,
                                    actor="admin.edj", corrected_at=IN_PERIOD)
        # facts outside the period do not count
        await PointEntry.create(supervisor=s, event="ADJUSTMENT", points=50,
                                source=f"fx:{name}:old", actor="t",
                                at=datetime(2025, 12, 1, tzinfo=clock.LOCAL_ZONE))
    # s03 has an uncorrected reminder from before the period: a warning is due, not another
    # reminder (R2.5)
    await Discipline.create(supervisor=people["s03"], kind="REMINDER", reason="r",
                            at=datetime(2025, 11, 1, tzinfo=clock.LOCAL_ZONE), actor="admin.edj")
    # a supervisor whose term ended before the period is not assessed
    await _supervisor(place, "gone", date(2023, 1, 1), 99)
    return people


RUN = """mutation($j: String!, $p: String!) { runAssessment(jurisdiction: $j, period: $p) {
  id finalizedAt results { id supervisorId approvalRecords firmRecords attendanceRate points
  suggestions disciplines score grade adjustedScore adjustedGrade } } }"""


def _by_name(people: dict[str, Supervisor], results: list[dict[str, Any]]
             ) -> dict[str, dict[str, Any]]:
    names = {str(s.id): n for n, s in people.items()}
    return {names[r["supervisorId"]]: r for r in results}


async def test_r9_1_r9_2_assessment_matches_the_hand_computed_fixture(
        api: Api, assessed_county: dict[str, Supervisor]) -> None:
    """R9.1 every half year; R9.2's five criteria, score by weights, grade by thresholds."""
    variables = {"j": "jl.th.edj", "p": "2026H1"}
    first = (await api.gql(RUN, variables, as_user="admin.edj")).ok()["runAssessment"]
    results = _by_name(assessed_county, first["results"])
    assert set(results) == set(FIXTURE)  # 'gone' is not assessed
    for name, facts in FIXTURE.items():
        a, f, att, rec, p, s, d, score, grade = facts
        got = results[name]
        assert (got["approvalRecords"], got["firmRecords"], got["points"], got["suggestions"],
                got["disciplines"]) == (a, f, p, s, d), name
        assert got["attendanceRate"] == pytest.approx(att / rec if rec else 1.0), name
        assert (got["score"], got["grade"]) == (score, grade), name
    again = (await api.gql(RUN, variables, as_user="admin.edj")).ok()["runAssessment"]
    assert [(r["supervisorId"], r["score"], r["grade"]) for r in again["results"]] == [
        (r["supervisorId"], r["score"], r["grade"]) for r in first["results"]]


async def test_r9_1_only_the_home_office_assesses(api: Api, assessed_county: dict) -> None:
    variables = {"j": "jl.th.edj", "p": "2026H1"}
    assert (await api.gql(RUN, variables, as_user="admin.th")).codes == ["FORBIDDEN"]
    assert (await api.gql(RUN, variables, as_user="admin.dc")).codes == ["NOT_FOUND"]
    bad = await api.gql(RUN, {"j": "jl.th.edj", "p": "2026Q1"}, as_user="admin.edj")
    assert bad.codes == ["INVALID_INPUT"]
    # Found by the isolation property test: a period longer than the column is input too.
    for query in ('{ assessment(jurisdiction: "jl.th.edj", period: "jl.th.thx") { id } }',
                  'mutation { finalizeAssessment(jurisdiction: "jl.th.edj", '
                  'period: "jl.th.thx") { id } }'):
        assert (await api.gql(query, as_user="admin.edj")).codes == ["INVALID_INPUT"]


async def test_r9_3_r9_4_r2_5_adjust_finalise_read_only_and_consequences(
        api: Api, assessed_county: dict[str, Supervisor]) -> None:
    run = (await api.gql(RUN, {"j": "jl.th.edj", "p": "2026H1"}, as_user="admin.edj")).ok()
    results = _by_name(assessed_county, run["runAssessment"]["results"])
    adjust = ('mutation($id: ID!, $s: Float!, $r: String!) { adjustAssessment(resultId: $id, '
              "score: $s, reason: $r) { adjustedScore adjustedGrade } }")
    adjusted = (await api.gql(adjust, {"id": results["s11"]["id"], "s": 61, "r": "补交材料"},
                              as_user="admin.edj")).ok()
    assert adjusted["adjustAssessment"] == {"adjustedScore": 61.0, "adjustedGrade": "BASIC"}
    final = ('mutation { finalizeAssessment(jurisdiction: "jl.th.edj", period: "2026H1") '
             "{ finalizedAt } }")
    assert (await api.gql(final, as_user="admin.edj")).ok()["finalizeAssessment"]["finalizedAt"]
    # read-only now
    assert (await api.gql(RUN, {"j": "jl.th.edj", "p": "2026H1"}, as_user="admin.edj")
            ).codes == ["INVALID_TRANSITION"]
    assert (await api.gql(adjust, {"id": results["s02"]["id"], "s": 99, "r": "x"},
                          as_user="admin.edj")).codes == ["INVALID_TRANSITION"]
    assert (await api.gql(final, as_user="admin.edj")).codes == ["INVALID_TRANSITION"]
    proposals = {(p.supervisor_id, p.kind.value)
                 for p in await Proposal.filter(source__startswith="assessment:")}
    ids = {n: s.id for n, s in assessed_county.items()}
    assert proposals == {(ids["s01"], "REWARD"), (ids["s04"], "REWARD"),
                         (ids["s02"], "REMINDER"), (ids["s03"], "WARNING")}
    listing = (await api.gql('{ proposals(status: PROPOSED) { edges { node { id kind '
                             "supervisor { name } } } } }", as_user="admin.edj")).ok()
    by_name = {e["node"]["supervisor"]["name"]: e["node"] for e in listing["proposals"]["edges"]}
    decide = 'mutation($id: ID!) { decideProposal(id: $id, confirm: true) }'
    (await api.gql(decide, {"id": by_name["s02"]["id"]}, as_user="admin.edj")).ok()
    assert await Discipline.filter(supervisor_id=ids["s02"], kind="REMINDER").count() == 1
    (await api.gql(decide, {"id": by_name["s01"]["id"]}, as_user="admin.edj")).ok()
    assert await SupervisorEvent.filter(supervisor_id=ids["s01"], kind="REWARDED").exists()
    again = await api.gql(decide, {"id": by_name["s01"]["id"]}, as_user="admin.edj")
    assert again.codes == ["INVALID_TRANSITION"]
    assert (await api.gql(decide, {"id": by_name["s04"]["id"]}, as_user="admin.dc")).codes == [
        "NOT_FOUND"]


async def test_r2_1_renewal_ranking_uses_the_latest_final_assessment(
        api: Api, assessed_county: dict[str, Supervisor]) -> None:
    (await api.gql(RUN, {"j": "jl.th.edj", "p": "2026H1"}, as_user="admin.edj")).ok()
    (await api.gql('mutation { finalizeAssessment(jurisdiction: "jl.th.edj", period: '
                   '"2026H1") { id } }', as_user="admin.edj")).ok()
    soon = clock.today() + timedelta(days=10)
    await Supervisor.filter(jurisdiction__path="jl.th.edj").update(term_end=soon)
    data = (await api.gql('{ renewalCandidates(jurisdiction: "jl.th.edj", withinDays: 30) '
                          "{ latestScore supervisor { name } } }", as_user="admin.edj")).ok()
    order = [c["supervisor"]["name"] for c in data["renewalCandidates"]]
    assert order[:2] == ["s01", "s04"] and order[-1] == "gone"
    assert data["renewalCandidates"][0]["latestScore"] == 100.0


async def test_r9_2_a_jurisdiction_sets_its_weights_and_thresholds(
        api: Api, assessed_county: dict[str, Supervisor]) -> None:
    """Only criterion 4 (points) counts, and 50 is excellent: s02 (15/30 points) scores 50."""
    policy = ('mutation($w: [Float!]!, $t: [Float!]!) { setAssessmentPolicy(jurisdiction: '
              '"jl.th.edj", weights: $w, thresholds: $t) }')
    bad = await api.gql(policy, {"w": [0.5, 0.6, 0, 0, 0], "t": [85, 70, 60]},
                        as_user="admin.edj")
    assert bad.codes == ["INVALID_INPUT"]
    assert (await api.gql(policy, {"w": [0, 0, 0, 1, 0], "t": [50, 40, 30]},
                          as_user="admin.dc")).codes == ["NOT_FOUND"]
    (await api.gql(policy, {"w": [0, 0, 0, 1, 0], "t": [50, 40, 30]},
                   as_user="admin.edj")).ok()
    run = (await api.gql(RUN, {"j": "jl.th.edj", "p": "2026H1"}, as_user="admin.edj")).ok()
    results = _by_name(assessed_county, run["runAssessment"]["results"])
    assert (results["s02"]["score"], results["s02"]["grade"]) == (50.0, "EXCELLENT")
    assert (results["s03"]["score"], results["s03"]["grade"]) == (0.0, "INCOMPETENT")


async def test_assessment_export(api: Api, assessed_county: dict[str, Supervisor]) -> None:
    (await api.gql(RUN, {"j": "jl.th.edj", "p": "2026H1"}, as_user="admin.edj")).ok()
    export = ('mutation { requestExport(kind: ASSESSMENTS, format: CSV, jurisdiction: '
              '"jl.th.edj", period: "2026H1") { url } }')
    url = (await api.gql(export, as_user="admin.edj")).ok()["requestExport"]["url"]
    response = await api.client.get(url)
    lines = response.content.decode("utf-8-sig").strip().splitlines()
    assert response.status_code == 200 and len(lines) == 1 + len(FIXTURE)
    assert (await api.gql(export, as_user="admin.dc")).codes == ["FORBIDDEN"]
