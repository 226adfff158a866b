"""Activities: invitations, R5.3 applications and hearing priority, capacity, check-in,
attendance (R3.5: supervisors take part in the activities the offices organise), R8.1
training duty, and unannounced visits hidden from agencies."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from core import clock
from core.activities.models import Activity, Participation
from core.notifications.models import Notification
from core.roster.models import Supervisor
from tests.cases.helpers import agency_id
from tests.support import Api

CREATE = """mutation($input: ActivityInput!) { createActivity(input: $input) {
  id kind audience capacity checkinCode jurisdiction { path } } }"""


def _input(**overrides: Any) -> dict[str, Any]:
    start = clock.now() + timedelta(days=3)
    values: dict[str, Any] = {
        "jurisdiction": "jl.th.dc", "kind": "FORUM", "title": "营商环境座谈会",
        "startAt": start.isoformat(), "endAt": (start + timedelta(hours=2)).isoformat(),
        "capacity": 30, "audience": "OPEN", "place": "区政府三楼会议室"}
    values.update(overrides)
    return values


async def _create(api: Api, user: str = "admin.dc", **overrides: Any) -> dict[str, Any]:
    return (await api.gql(CREATE, {"input": _input(**overrides)}, as_user=user)).ok()[
        "createActivity"]


async def _sid(username: str) -> str:
    return str((await Supervisor.get(account__username=username)).id)


async def test_r8_1_county_trains_its_supervisors_city_its_special_ones(
        api: Api, full_demo: None) -> None:
    """R8.1: county-level offices train their supervisors; the city office trains the
    special supervisors; trainings name their topics."""
    training = await _create(api, kind="TRAINING", audience="JURISDICTION",
                             topics=["PURPOSE", "DUTIES_AND_DISCIPLINE"])
    invited = await Participation.filter(activity_id=int(training["id"])).count()
    assert invited == 110  # every active supervisor of Dongchang
    wrong_city = await api.gql(CREATE, {"input": _input(
        jurisdiction="jl.th", kind="TRAINING", audience="JURISDICTION", topics=["PURPOSE"])},
        as_user="admin.th")
    assert wrong_city.codes == ["RULE_VIOLATION"]
    city = await _create(api, "admin.th", jurisdiction="jl.th", kind="TRAINING",
                         audience="SPECIAL", topics=["PLATFORM_USE"])
    assert await Participation.filter(activity_id=int(city["id"])).count() == 12
    county_special = await api.gql(CREATE, {"input": _input(
        kind="TRAINING", audience="SPECIAL", topics=["PURPOSE"])}, as_user="admin.dc")
    assert county_special.codes == ["RULE_VIOLATION"]
    no_topics = await api.gql(CREATE, {"input": _input(kind="TRAINING",
                                                       audience="JURISDICTION")},
                              as_user="admin.dc")
    assert no_topics.codes == ["INVALID_INPUT"]


async def test_r5_3_applications_within_capacity(api: Api, full_demo: None) -> None:
    """R5.3: supervisors apply to join; the office accepts within capacity."""
    forum = await _create(api, kind="RESEARCH", capacity=2)
    for user in ("sv.dc.001", "sv.dc.002", "sv.dc.003"):
        applied = await api.gql(f'mutation {{ applyToActivity(id: "{forum["id"]}") '
                                "{ status } }", as_user=user)
        assert applied.ok()["applyToActivity"]["status"] == "APPLIED"
    decide = ('mutation($id: ID!, $s: ID!) { decideActivityApplication(id: $id, '
              "supervisorId: $s, accept: true) { status } }")
    for user in ("sv.dc.001", "sv.dc.002"):
        (await api.gql(decide, {"id": forum["id"], "s": await _sid(user)},
                       as_user="admin.dc")).ok()
    full = await api.gql(decide, {"id": forum["id"], "s": await _sid("sv.dc.003")},
                         as_user="admin.dc")
    assert full.codes == ["RULE_VIOLATION"]
    again = await api.gql(f'mutation {{ applyToActivity(id: "{forum["id"]}") {{ status }} }}',
                          as_user="sv.dc.001")
    assert again.codes == ["CONFLICT"]
    other_county = await api.gql(decide, {"id": forum["id"], "s": await _sid("sv.dc.003")},
                                 as_user="admin.ja")
    assert other_county.codes == ["NOT_FOUND"]


async def test_r5_3_hearing_seats_go_to_supervisors_first(api: Api, full_demo: None) -> None:
    """R5.3: priority seats at public trials and hearings."""
    hearing = await _create(api, kind="HEARING", capacity=2)
    admit = f'mutation {{ admitHearingGuests(id: "{hearing["id"]}", count: 2) {{ guests }} }}'
    assert (await api.gql(admit, as_user="admin.dc")).ok()["admitHearingGuests"]["guests"] == 2
    apply = f'mutation {{ applyToActivity(id: "{hearing["id"]}") {{ status }} }}'
    for user in ("sv.dc.001", "sv.dc.002"):
        seated = await api.gql(apply, as_user=user)
        assert seated.ok()["applyToActivity"]["status"] == "ACCEPTED"
    stored = await Activity.get(id=int(hearing["id"]))
    assert stored.guests == 0  # the guests gave up their seats
    assert (await api.gql(apply, as_user="sv.dc.003")).codes == ["RULE_VIOLATION"]
    no_room = await api.gql(f'mutation {{ admitHearingGuests(id: "{hearing["id"]}", count: 1)'
                            " { guests } }", as_user="admin.dc")
    assert no_room.codes == ["RULE_VIOLATION"]


async def test_check_in_window_and_code(api: Api, full_demo: None) -> None:
    activity = await _create(api, kind="INSPECTION", audience="JURISDICTION", capacity=200)
    (await api.gql(f'mutation {{ respondToInvitation(id: "{activity["id"]}", accept: true) '
                   "{ status } }", as_user="sv.dc.001")).ok()
    (await api.gql(f'mutation {{ respondToInvitation(id: "{activity["id"]}", accept: true) '
                   "{ status } }", as_user="sv.dc.002")).ok()
    code = activity["checkinCode"]
    assert code and len(code) == 6
    check = ('mutation($id: ID!, $c: String!) { checkInToActivity(id: $id, code: $c) '
             "{ attendance } }")
    early = await api.gql(check, {"id": activity["id"], "c": code}, as_user="sv.dc.001")
    assert early.codes == ["RULE_VIOLATION"]
    stored = await Activity.get(id=int(activity["id"]))
    during = stored.start_at + timedelta(minutes=10)
    clock.set_source(lambda: during)
    api.tokens.clear()  # tokens issued before the clock moved have expired by then
    wrong = await api.gql(check, {"id": activity["id"], "c": "000000" if code != "000000"
                                  else "111111"}, as_user="sv.dc.001")
    assert wrong.codes == ["INVALID_INPUT"]
    ok = await api.gql(check, {"id": activity["id"], "c": code}, as_user="sv.dc.001")
    assert ok.ok()["checkInToActivity"]["attendance"] == "ATTENDED"
    not_invited = await api.gql(check, {"id": activity["id"], "c": code}, as_user="sv.ja.001")
    assert not_invited.codes == ["NOT_FOUND"]
    after = stored.end_at + timedelta(minutes=1)
    clock.set_source(lambda: after)
    api.tokens.clear()
    late = await api.gql(check, {"id": activity["id"], "c": code}, as_user="sv.dc.002")
    assert late.codes == ["RULE_VIOLATION"]
    closed = await api.gql(f'mutation {{ closeAttendance(id: "{activity["id"]}") }}',
                           as_user="admin.dc")
    assert closed.ok()["closeAttendance"] == 1
    second = await Participation.get(activity_id=int(activity["id"]),
                                     supervisor__account__username="sv.dc.002")
    assert second.attendance is not None and second.attendance.value == "ABSENT"


async def test_unannounced_visits_are_invisible_to_agencies(api: Api, full_demo: None) -> None:
    """明察暗访: absent from every agency view (lists, details, counts, notifications); R7.4:
    an inspection's targets are never shown to an agency, the target included."""
    target = await agency_id("dc", "scjg")
    visit = await _create(api, kind="UNANNOUNCED_VISIT", audience="JURISDICTION",
                          capacity=200, targetAgencies=[target])
    inspection = await _create(api, kind="INSPECTION", audience="OPEN",
                               targetAgencies=[target])
    listing = """{ activities(first: 100) { totalCount edges { node { id kind
      targetAgencies { name } } } } }"""
    for agency_user in ("ag.dc.scjg", "ag.dc.sw"):
        seen = (await api.gql(listing, as_user=agency_user)).ok()["activities"]
        ids = {e["node"]["id"] for e in seen["edges"]}
        assert visit["id"] not in ids and inspection["id"] in ids
        assert all(e["node"]["kind"] != "UNANNOUNCED_VISIT" for e in seen["edges"])
        assert seen["totalCount"] == len(ids)
        assert all(e["node"]["targetAgencies"] is None for e in seen["edges"])
        detail = await api.gql(f'{{ activity(id: "{visit["id"]}") {{ title }} }}',
                               as_user=agency_user)
        assert detail.codes == ["NOT_FOUND"]
        assert "UNANNOUNCED_VISIT" not in str(seen)
    agency_notices = await Notification.filter(subject="activity",
                                                account__username__startswith="ag.").count()
    assert agency_notices == 0
    office = (await api.gql(f'{{ activity(id: "{visit["id"]}") {{ targetAgencies {{ name }} '
                            "} }", as_user="admin.dc")).ok()
    assert office["activity"]["targetAgencies"] == [{"name": "东昌区市场监督管理局"}]
    invited = (await api.gql(f'{{ activity(id: "{visit["id"]}") {{ kind }} }}',
                             as_user="sv.dc.001")).ok()
    assert invited["activity"]["kind"] == "UNANNOUNCED_VISIT"


async def test_activities_list_is_scoped_with_filters(api: Api, full_demo: None) -> None:
    await Activity.all().delete()  # start from no activities: the counts below are exact
    await _create(api, kind="FORUM")
    await _create(api, "admin.ja", jurisdiction="jl.th.ja", kind="EVALUATION")
    query = """query($f: ActivityFilter) { activities(filter: $f) { totalCount } }"""
    assert (await api.gql(query, as_user="admin.dc")).ok()["activities"]["totalCount"] == 1
    assert (await api.gql(query, as_user="admin.th")).ok()["activities"]["totalCount"] == 2
    assert (await api.gql(query, {"f": {"kind": "EVALUATION"}}, as_user="admin.th")).ok()[
        "activities"]["totalCount"] == 1
    assert (await api.gql(query, {"f": {"mine": True}}, as_user="sv.dc.001")).ok()[
        "activities"]["totalCount"] == 0
    # an open activity of my jurisdiction shows to me; another county's does not
    assert (await api.gql(query, as_user="sv.dc.001")).ok()["activities"]["totalCount"] == 1
    assert (await api.gql(query)).codes == ["UNAUTHENTICATED"]


async def test_r8_1_training_status_lists_who_has_not_completed_each_topic(
        api: Api, full_demo: None) -> None:
    await Activity.all().delete()  # nobody trained yet: the counts below are exact
    training = await _create(api, kind="TRAINING", audience="JURISDICTION", capacity=200,
                             topics=["PURPOSE", "CONDITIONS"])
    (await api.gql(f'mutation {{ respondToInvitation(id: "{training["id"]}", accept: true) '
                   "{ status } }", as_user="sv.dc.001")).ok()
    record = ('mutation($id: ID!, $s: ID!) { recordAttendance(id: $id, supervisorId: $s, '
              "attendance: ATTENDED) { attendance } }")
    (await api.gql(record, {"id": training["id"], "s": await _sid("sv.dc.001")},
                   as_user="admin.dc")).ok()
    status = (await api.gql('{ trainingStatus(jurisdiction: "jl.th.dc") { topic '
                            "missing { id } } }", as_user="admin.dc")).ok()["trainingStatus"]
    missing = {g["topic"]: {m["id"] for m in g["missing"]} for g in status}
    me = await _sid("sv.dc.001")
    assert me not in missing["PURPOSE"] and me not in missing["CONDITIONS"]
    assert me in missing["PLATFORM_USE"]
    assert len(missing["PLATFORM_USE"]) == 110 and len(missing["PURPOSE"]) == 109
    assert (await api.gql('{ trainingStatus(jurisdiction: "jl.th.dc") { topic } }',
                          as_user="admin.ja")).codes == ["NOT_FOUND"]
