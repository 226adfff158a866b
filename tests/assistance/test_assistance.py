"""On-site assistance (R6): requests, nearest-first dispatch in widening rounds, exactly one
winner under real concurrency, arrival and report, public tracking, live offers."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import websockets
from websockets.typing import Subprotocol

from core import clock
from core.assistance import service
from core.assistance.models import AssistanceOffer, AssistanceRequest, OfferState
from core.errors import Conflict
from core.notifications.models import Notification
from core.principal import Principal
from core.roster.models import Supervisor
from tests.support import Api, pdf_bytes, server_process

POINT = (41.7300, 125.9500)
PUBLIC = """mutation($i: PublicAssistanceInput!) { requestPublicAssistance(input: $i) {
  trackingCode state } }"""


def _north(metres: float) -> tuple[float, float]:
    """A point `metres` due north of POINT (1 degree of latitude ~ 111,319.9 m here)."""
    return POINT[0] + metres / (6378168 * 3.141592653589793 / 180), POINT[1]


async def _place(placements: dict[str, float]) -> dict[str, int]:
    """Move every active supervisor far away, then put the named ones at known distances."""
    await Supervisor.filter(status="ACTIVE").update(latitude=10.0, longitude=10.0)
    ids = {}
    for username, metres in placements.items():
        lat, lon = _north(metres)
        supervisor = await Supervisor.get(account__username=username)
        supervisor.latitude, supervisor.longitude = lat, lon
        await supervisor.save(update_fields=["latitude", "longitude"])
        ids[username] = supervisor.id
    return ids


def _public(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {"name": "李先生", "phone": "13904358888",
                              "latitude": POINT[0], "longitude": POINT[1],
                              "address": "东昌区新华大街88号",
                              "description": "执法人员现场扣押货物"}
    values.update(overrides)
    return values


async def _offered(code: str) -> list[tuple[int, int]]:
    request = await AssistanceRequest.get(tracking_code=code)
    return [(o.supervisor_id, o.round) for o in
            await AssistanceOffer.filter(request=request).order_by("round", "distance_m")]


async def test_r6_3_dispatch_is_nearest_first_and_widens_by_round(api: Api, full_demo: None
                                                                  ) -> None:
    """R6.3: nearest and fastest: the five nearest within 5 km first; nobody accepting within
    the round's time widens the radius; after the last round the office is alerted."""
    ids = await _place({"sv.dc.001": 2000, "sv.dc.002": 100, "sv.dc.003": 600,
                        "sv.dc.004": 300, "sv.dc.005": 1000, "sv.dc.006": 4000,
                        "sv.dc.007": 8000, "sv.dc.008": 15000, "sv.dc.009": 30000})
    result = (await api.gql(PUBLIC, {"i": _public()})).ok()["requestPublicAssistance"]
    code = result["trackingCode"]
    assert result["state"] == "OFFERING"
    assert await _offered(code) == [(ids[u], 1) for u in
                                    ("sv.dc.002", "sv.dc.004", "sv.dc.003", "sv.dc.005",
                                     "sv.dc.001")]
    assert await service.advance_dispatch() == 0  # the round's time has not passed
    start = clock.now()
    clock.set_source(lambda: start + timedelta(seconds=service.ROUND_SECONDS + 1))
    assert await service.advance_dispatch() == 1
    assert (await _offered(code))[5:] == [(ids["sv.dc.006"], 2), (ids["sv.dc.007"], 2)]
    clock.set_source(lambda: start + timedelta(seconds=2 * service.ROUND_SECONDS + 2))
    await service.advance_dispatch()
    assert (await _offered(code))[7:] == [(ids["sv.dc.008"], 3)]
    clock.set_source(lambda: start + timedelta(seconds=3 * service.ROUND_SECONDS + 3))
    await service.advance_dispatch()
    request = await AssistanceRequest.get(tracking_code=code)
    assert request.state.value == "UNANSWERED"
    assert await AssistanceOffer.filter(request=request, state=OfferState.OFFERED).count() == 0
    alerted = await Notification.filter(subject="assistance", kind="UNANSWERED").values_list(
        "account__username", flat=True)
    assert "admin.dc" in alerted
    tracked = (await api.gql(f'{{ assistanceByTrackingCode(code: "{code}") {{ state }} }}')).ok()
    assert tracked["assistanceByTrackingCode"]["state"] == "UNANSWERED"


async def test_r6_3_fifty_concurrent_accepts_have_exactly_one_winner(full_demo: None) -> None:
    """50 offered supervisors accept at the same instant (real PostgreSQL, concurrent
    transactions): one wins, 49 are told it is taken."""
    people = await Supervisor.filter(status="ACTIVE", jurisdiction__path="jl.th.dc"
                                     ).order_by("id").limit(50).prefetch_related("account",
                                                                                 "jurisdiction")
    assert len(people) == 50
    request = await AssistanceRequest.create(
        tracking_code="RACE01", source="PUBLIC", jurisdiction=people[0].jurisdiction,
        latitude=POINT[0], longitude=POINT[1], address="x", description="y", radius_km=5,
        round=1, next_round_at=clock.now() + timedelta(minutes=2), created_at=clock.now())
    await AssistanceOffer.bulk_create([
        AssistanceOffer(request=request, supervisor=s, round=1, distance_m=100.0 + i,
                        offered_at=clock.now()) for i, s in enumerate(people)])

    async def accept(s: Supervisor) -> str:
        assert s.account is not None
        principal = Principal(s.account.id, s.account.username, s.account.kind,
                              s.jurisdiction.path)
        try:
            await service.accept_assistance(principal, request.id)
            return "won"
        except Conflict:
            return "conflict"

    outcomes = await asyncio.gather(*(accept(s) for s in people))
    assert outcomes.count("won") == 1 and outcomes.count("conflict") == 49
    stored = await AssistanceRequest.get(id=request.id)
    assert stored.state.value == "ACCEPTED" and stored.accepted_by_id is not None
    states = [o.state for o in await AssistanceOffer.filter(request=request)]
    assert states.count(OfferState.ACCEPTED) == 1
    assert states.count(OfferState.RETRACTED) == 49


async def test_r6_1_a_supervisor_on_duty_requests_and_a_neighbour_assists(
        api: Api, full_demo: None) -> None:
    """R6.1 request; R6.3 accept, arrive (distance recorded), report objectively with
    evidence: closed."""
    await _place({"sv.dc.001": 0, "sv.dc.002": 500, "sv.dc.003": 900})
    created = (await api.gql(f"""mutation {{ requestAssistance(latitude: {POINT[0]},
      longitude: {POINT[1]}, address: "区政务大厅", description: "窗口拒收材料，需见证") {{
      id state }} }}""", as_user="sv.dc.001")).ok()["requestAssistance"]
    offered = await AssistanceOffer.filter(request_id=int(created["id"])).values_list(
        "supervisor__account__username", flat=True)
    assert "sv.dc.001" not in offered and {"sv.dc.002", "sv.dc.003"} <= set(offered)
    accept = f'mutation {{ acceptAssistance(id: "{created["id"]}") {{ state }} }}'
    assert (await api.gql(accept, as_user="sv.dc.002")).ok()["acceptAssistance"]["state"] == (
        "ACCEPTED")
    taken = await api.gql(accept, as_user="sv.dc.003")
    assert taken.codes == ["CONFLICT"]
    assert (await api.gql(accept, as_user="sv.ja.001")).codes == ["NOT_FOUND"]
    lat, lon = _north(40)
    arrived = (await api.gql(f"""mutation {{ checkInAssistance(id: "{created["id"]}",
      latitude: {lat}, longitude: {lon}) {{ state arrivalDistanceM secondsToAccept
      secondsToArrive }} }}""", as_user="sv.dc.002")).ok()["checkInAssistance"]
    assert arrived["state"] == "ARRIVED" and abs(arrived["arrivalDistanceM"] - 40) < 1
    assert arrived["secondsToAccept"] is not None and arrived["secondsToArrive"] is not None
    token = await api.token("sv.dc.002")
    upload = await api.client.post("/uploads", files={"file": ("现场.pdf", pdf_bytes(),
                                                               "application/pdf")},
                                   headers={"Authorization": f"Bearer {token}"})
    evidence = upload.json()["id"]
    report = (f'mutation {{ reportAssistance(id: "{created["id"]}", report: "现场见证", '
              f'attachments: ["{evidence}"]) {{ state }} }}')
    assert (await api.gql(report, as_user="sv.dc.003")).codes == ["NOT_FOUND"]
    assert (await api.gql(report, as_user="sv.dc.002")).ok()["reportAssistance"]["state"] == (
        "CLOSED")
    for user, status in (("admin.dc", 200), ("sv.dc.002", 200), ("admin.ja", 404)):
        got = await api.client.get(f"/attachments/{evidence}", headers={
            "Authorization": f"Bearer {await api.token(user)}"})
        assert got.status_code == status, user


async def test_r6_2_public_requests_are_checked_and_rate_limited(api: Api, full_demo: None
                                                                 ) -> None:
    """R6.2: a complainant, no account; bad input changes nothing; throttled per phone."""
    before = await AssistanceRequest.all().count()
    cases: list[tuple[dict[str, Any], str]] = [
        ({"latitude": 91}, "latitude"), ({"longitude": -181}, "longitude"),
        ({"phone": "12345"}, "phone"), ({"description": ""}, "description")]
    for bad, field in cases:
        result = await api.gql(PUBLIC, {"i": _public(**bad)})
        assert result.codes == ["INVALID_INPUT"]
        assert result.errors[0]["extensions"]["field"] == field
    assert await AssistanceRequest.all().count() == before
    for _ in range(service.PUBLIC_PER_PHONE_PER_HOUR):
        (await api.gql(PUBLIC, {"i": _public()})).ok()
    assert (await api.gql(PUBLIC, {"i": _public()})).codes == ["RATE_LIMITED"]
    # per address too: other phones from the same client
    for n in range(service.PUBLIC_PER_ADDRESS_PER_HOUR - service.PUBLIC_PER_PHONE_PER_HOUR):
        (await api.gql(PUBLIC, {"i": _public(phone=f"1390435{n:04d}")})).ok()
    assert (await api.gql(PUBLIC, {"i": _public(phone="13800000000")})).codes == [
        "RATE_LIMITED"]


async def test_r6_2_tracking_shows_nothing_about_supervisors(api: Api, full_demo: None
                                                             ) -> None:
    code = (await api.gql(PUBLIC, {"i": _public()})).ok()["requestPublicAssistance"][
        "trackingCode"]
    fields = (await api.gql('{ __type(name: "AssistanceTracking") { fields { name } } }')).ok()
    names = {f["name"] for f in fields["__type"]["fields"]}
    assert names == {"trackingCode", "state", "createdAt", "acceptedAt", "arrivedAt",
                     "closedAt"}
    assert (await api.gql('{ assistanceByTrackingCode(code: "NOPE") { state } }')).codes == [
        "NOT_FOUND"]
    assert (await api.gql(f'{{ assistanceByTrackingCode(code: "{code}") {{ state }} }}')).ok()


@pytest.mark.parametrize("protocol", ["graphql-transport-ws"])
async def test_an_offer_and_its_retraction_arrive_live(
        api: Api, full_demo: None, database_url: str, tmp_path: Path, protocol: str) -> None:
    """Across processes: the request is made here, the offer and retraction arrive through a
    real server process's subscription."""
    await _place({"sv.dc.002": 100, "sv.dc.003": 200})
    token = await api.token("sv.dc.003")
    async with server_process(database_url, tmp_path / "s.log") as base:
        url = base.replace("http", "ws") + "/graphql"
        async with websockets.connect(url, subprotocols=[Subprotocol(protocol)]) as ws:
            await ws.send(json.dumps({"type": "connection_init",
                                      "payload": {"Authorization": f"Bearer {token}"}}))
            assert json.loads(await ws.recv())["type"] == "connection_ack"
            await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {
                "query": "subscription { assistanceOffers { requestId kind } }"}}))
            await asyncio.sleep(0.5)
            code = (await api.gql(PUBLIC, {"i": _public()})).ok()[
                "requestPublicAssistance"]["trackingCode"]
            request = await AssistanceRequest.get(tracking_code=code)
            offer = json.loads(await asyncio.wait_for(ws.recv(), timeout=10))
            assert offer["payload"]["data"]["assistanceOffers"] == {
                "requestId": str(request.id), "kind": "OFFER"}
            (await api.gql(f'mutation {{ acceptAssistance(id: "{request.id}") {{ state }} }}',
                           as_user="sv.dc.002")).ok()
            retraction = json.loads(await asyncio.wait_for(ws.recv(), timeout=10))
            assert retraction["payload"]["data"]["assistanceOffers"] == {
                "requestId": str(request.id), "kind": "RETRACTED"}


async def test_r6_2_public_requests_at_once_keep_the_phone_limit(api: Api, full_demo: None
                                                                 ) -> None:
    """Twice the limit of requests from one phone, all at once: exactly the limit pass."""
    before = await AssistanceRequest.all().count()
    results = await asyncio.gather(*(api.gql(PUBLIC, {"i": _public()})
                                     for _ in range(2 * service.PUBLIC_PER_PHONE_PER_HOUR)))
    assert sorted(r.codes for r in results) == [[]] * service.PUBLIC_PER_PHONE_PER_HOUR + [
        ["RATE_LIMITED"]] * service.PUBLIC_PER_PHONE_PER_HOUR
    assert await AssistanceRequest.all().count() == before + service.PUBLIC_PER_PHONE_PER_HOUR
