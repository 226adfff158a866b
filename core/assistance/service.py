"""R6 监督援助: requests from supervisors on duty (R6.1) and from the public (R6.2); dispatch
"nearest and fastest" (R6.3) in rounds of widening radius; one winner per request; arrival
and an objective report."""

from __future__ import annotations

import logging
import math
import secrets
from dataclasses import dataclass
from datetime import timedelta

from tortoise.expressions import Q, Subquery
from tortoise.transactions import in_transaction

from core import audit, clock, orm, throttle
from core.assistance.models import (
    AssistanceOffer,
    AssistanceRequest,
    OfferState,
    RequestState,
    Source,
)
from core.attachments import service as attachments
from core.cases.notify import office_accounts
from core.errors import Conflict, Forbidden, InvalidTransition, NotFound
from core.notifications import service as notifications
from core.pagination import Page, keyset
from core.principal import Principal
from core.roster.models import Status, Supervisor
from core.roster.service import own_supervisor
from core.scoring import points
from core.scoring.models import PointEvent
from core.validation import check_coordinates, check_phone, check_text
from policies.access import readable
from tenants.models import Jurisdiction, Level

START_RADIUS_M = 5_000
OFFERS_PER_ROUND = 5
ROUND_SECONDS = 120
ROUNDS = 3  # radius 5, 10, 20 km; then the handling office is alerted
PUBLIC_PER_PHONE_PER_HOUR = 3
PUBLIC_PER_ADDRESS_PER_HOUR = 10
log = logging.getLogger(__name__)

# Great-circle distance in SQL (earthdistance), served by the GiST index on
# ll_to_earth(latitude, longitude) of active supervisors; the box prefilters, the distance
# decides.
_NEAREST_SQL = """
SELECT s.id, s.account_id,
       earth_distance(ll_to_earth(s.latitude, s.longitude), ll_to_earth($1, $2)) AS metres
FROM supervisor s
WHERE s.status = 'ACTIVE' AND s.latitude IS NOT NULL
  AND earth_box(ll_to_earth($1, $2), $3) @> ll_to_earth(s.latitude, s.longitude)
  AND earth_distance(ll_to_earth(s.latitude, s.longitude), ll_to_earth($1, $2)) <= $3
  AND s.id <> $4
  AND NOT EXISTS (SELECT 1 FROM assistance_offer o WHERE o.request_id = $5
                  AND o.supervisor_id = s.id)
ORDER BY metres, s.id
LIMIT $6
"""


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance on the sphere earthdistance uses (radius 6378168 m)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6378168 * math.asin(math.sqrt(a))


async def _nearest_office(latitude: float, longitude: float) -> Jurisdiction:
    """The county-level office (or district) whose seat is nearest the point."""
    places = await Jurisdiction.filter(level__in=[Level.COUNTY, Level.SPECIAL_DISTRICT],
                                       latitude__isnull=False)
    if not places:
        raise NotFound("没有可受理的软环境办", "No office can take this request")
    return min(places, key=lambda j: distance_m(latitude, longitude, j.latitude or 0,
                                                j.longitude or 0))


def _checked_place(latitude: float, longitude: float, address: str, description: str
                   ) -> tuple[str, str]:
    check_coordinates(latitude, longitude)
    return (check_text(address, "address", maximum=200),
            check_text(description, "description", maximum=2000))


async def _open(source: Source, place: Jurisdiction, requester: Supervisor | None,
                latitude: float, longitude: float, address: str, description: str,
                name: str = "", phone: str = "") -> AssistanceRequest:
    async with in_transaction():
        request = await AssistanceRequest.create(
            tracking_code=secrets.token_hex(6).upper(), source=source, jurisdiction=place,
            requester=requester, requester_name=name, requester_phone=phone,
            latitude=latitude, longitude=longitude, address=address, description=description,
            radius_km=START_RADIUS_M / 1000, created_at=clock.now())
        await audit.record(audit.SYSTEM if requester is None else audit.Actor(None, "supervisor"),
                           "assistance.request", target_type="assistance",
                           target_id=request.id, jurisdiction=place.path,
                           detail={"source": source.value})
        await _offer_round(request)
    return request


async def request_assistance(principal: Principal, latitude: float, longitude: float,
                             address: str, description: str) -> AssistanceRequest:
    """R6.1: a supervisor on duty who needs a witness on site."""
    me = await own_supervisor(principal)
    if me.status is not Status.ACTIVE:
        raise Forbidden("只有在任监督员可以发起援助", "Only active supervisors request assistance")
    address, description = _checked_place(latitude, longitude, address, description)
    return await _open(Source.SUPERVISOR, me.jurisdiction, me, latitude, longitude, address,
                       description)


@dataclass(frozen=True)
class PublicRequest:
    name: str
    phone: str
    latitude: float
    longitude: float
    address: str
    description: str


async def request_public_assistance(client_address: str, given: PublicRequest
                                    ) -> AssistanceRequest:
    """R6.2: a complainant facing an ongoing incident; no account, throttled per phone
    number and per client address. The tracking code is the complainant's handle."""
    name = check_text(given.name, "name", maximum=50)
    phone = check_phone(given.phone)
    address, description = _checked_place(given.latitude, given.longitude, given.address,
                                          given.description)
    await throttle.reserve([("assistance.phone", phone, PUBLIC_PER_PHONE_PER_HOUR),
                            ("assistance.address", client_address,
                             PUBLIC_PER_ADDRESS_PER_HOUR)], timedelta(hours=1))
    place = await _nearest_office(given.latitude, given.longitude)
    return await _open(Source.PUBLIC, place, None, given.latitude, given.longitude, address,
                       description, name, phone)


async def _offer_round(request: AssistanceRequest) -> int:
    """R6.3: offer the request to the nearest active supervisors within the round's radius
    who have not been offered it yet (never to the requester). Inside a transaction."""
    request.round += 1
    radius = START_RADIUS_M * 2 ** (request.round - 1)
    request.radius_km = radius / 1000
    request.next_round_at = clock.now() + timedelta(seconds=ROUND_SECONDS)
    rows = await orm.client().execute_query_dict(_NEAREST_SQL, [
        request.latitude, request.longitude, radius,
        request.requester_id or 0, request.id, OFFERS_PER_ROUND])
    now = clock.now()
    await AssistanceOffer.bulk_create([
        AssistanceOffer(request=request, supervisor_id=row["id"], round=request.round,
                        distance_m=float(row["metres"]), offered_at=now) for row in rows])
    await request.save(update_fields=["round", "radius_km", "next_round_at"])
    await notifications.notify([r["account_id"] for r in rows if r["account_id"]],
                               "assistance", request.id, "OFFER",
                               f"附近有监督援助请求：{request.address}")
    return len(rows)


async def advance_dispatch() -> int:
    """Requests nobody accepted within a round's time: widen the radius and offer the next
    nearest; after the last round, alert the handling office. Returns requests advanced."""
    advanced = 0
    while True:
        async with in_transaction():
            request = await AssistanceRequest.filter(
                state=RequestState.OFFERING, next_round_at__lte=clock.now()
            ).select_for_update(skip_locked=True).order_by("id").first()
            if request is None:
                return advanced
            if request.round >= ROUNDS:
                request.state, request.next_round_at = RequestState.UNANSWERED, None
                await request.save(update_fields=["state", "next_round_at"])
                await _retract(request, None)
                await notifications.notify(
                    await office_accounts(request.jurisdiction_id),
                    "assistance", request.id, "UNANSWERED",
                    f"监督援助请求无人响应，请协调：{request.address}")
            else:
                await _offer_round(request)
            advanced += 1


async def _retract(request: AssistanceRequest, winner_id: int | None) -> None:
    """Withdraw the open offers of everyone but the winner, and tell them live."""
    others = await AssistanceOffer.filter(request=request, state=OfferState.OFFERED
                                          ).exclude(supervisor_id=winner_id or 0
                                          ).select_related("supervisor")
    if not others:
        return
    await AssistanceOffer.filter(id__in=[o.id for o in others]).update(
        state=OfferState.RETRACTED)
    await notifications.notify(
        [o.supervisor.account_id for o in others if o.supervisor.account_id],
        "assistance", request.id, "RETRACTED", "该监督援助请求已由他人响应或已结束")


async def accept_assistance(principal: Principal, request_id: int) -> AssistanceRequest:
    """The first offered supervisor to accept wins; everyone after gets CONFLICT. One
    conditional UPDATE decides, so there is exactly one winner however many accept at once."""
    me = await own_supervisor(principal)
    offer = await AssistanceOffer.get_or_none(request_id=request_id, supervisor_id=me.id)
    if offer is None:
        raise NotFound("援助请求不存在", "No such assistance request", field="id")
    async with in_transaction():
        now = clock.now()
        won = await AssistanceRequest.filter(id=request_id, state=RequestState.OFFERING
                                             ).update(state=RequestState.ACCEPTED,
                                                      accepted_by_id=me.id, accepted_at=now,
                                                      next_round_at=None)
        if not won:
            raise Conflict("该请求已由他人响应", "Someone else has taken this request")
        request = await AssistanceRequest.get(id=request_id)
        offer.state = OfferState.ACCEPTED
        await offer.save(update_fields=["state"])
        await _retract(request, me.id)
        await audit.record(principal.actor, "assistance.accept", target_type="assistance",
                           target_id=request.id, jurisdiction=me.jurisdiction.path)
    return request


async def _mine(principal: Principal, request_id: int) -> tuple[Supervisor, AssistanceRequest]:
    me = await own_supervisor(principal)
    request = await AssistanceRequest.get_or_none(id=request_id, accepted_by_id=me.id)
    if request is None:
        raise NotFound("援助请求不存在", "No such assistance request", field="id")
    return me, request


async def check_in_assistance(principal: Principal, request_id: int, latitude: float,
                              longitude: float) -> AssistanceRequest:
    """The accepting supervisor arrives; the distance to the point is recorded."""
    check_coordinates(latitude, longitude)
    me, request = await _mine(principal, request_id)
    if request.state is not RequestState.ACCEPTED:
        raise InvalidTransition("当前状态不能签到", "Cannot check in now")
    request.state, request.arrived_at = RequestState.ARRIVED, clock.now()
    request.arrival_distance_m = distance_m(latitude, longitude, request.latitude,
                                            request.longitude)
    async with in_transaction():
        await request.save(update_fields=["state", "arrived_at", "arrival_distance_m"])
        await audit.record(principal.actor, "assistance.arrive", target_type="assistance",
                           target_id=request.id, jurisdiction=me.jurisdiction.path,
                           detail={"distance_m": round(request.arrival_distance_m, 1)})
    return request


async def report_assistance(principal: Principal, request_id: int, report: str,
                            attachment_ids: tuple[int, ...] = ()) -> AssistanceRequest:
    """R6.3: report back objectively and truthfully (with evidence); the request closes."""
    report = check_text(report, "report", maximum=5000)
    me, request = await _mine(principal, request_id)
    if request.state is not RequestState.ARRIVED:
        raise InvalidTransition("须先到场签到", "Check in on arrival first")
    request.state, request.report, request.closed_at = RequestState.CLOSED, report, clock.now()
    async with in_transaction():
        await request.save(update_fields=["state", "report", "closed_at"])
        await attachments.claim(principal, attachment_ids, assistance_id=request.id)
        await audit.record(principal.actor, "assistance.report", target_type="assistance",
                           target_id=request.id, jurisdiction=me.jurisdiction.path)
        await points.award(me.id, PointEvent.ASSISTANCE_COMPLETED, f"assistance:{request.id}")
        await notifications.notify(
            await office_accounts(request.jurisdiction_id),
            "assistance", request.id, "REPORTED", f"监督援助已完成：{request.address}")
    return request


async def get_request(principal: Principal, request_id: int) -> AssistanceRequest:
    """A request the caller may read: its office (by scope), the supervisor who took it or
    was offered it, the supervisor who asked."""
    page_filter = await _visible(principal)
    found = await AssistanceRequest.filter(page_filter, id=request_id).first()
    if found is None:
        raise NotFound("援助请求不存在", "No such assistance request", field="id")
    return found


async def _visible(principal: Principal) -> Q:
    condition = await readable(principal, "read", "assistance")
    me = await Supervisor.filter(account_id=principal.account_id).only("id").first()
    if me is not None:
        offered = AssistanceOffer.filter(supervisor_id=me.id).values("request_id")
        condition |= Q(id__in=Subquery(offered)) | Q(requester_id=me.id)
    return condition


async def by_tracking_code(code: str) -> AssistanceRequest:
    """The public's view of their request: its state and times, nothing about supervisors."""
    found = await AssistanceRequest.get_or_none(tracking_code=code.strip().upper())
    if found is None:
        raise NotFound("查询码无效", "Unknown tracking code", field="code")
    return found


async def list_requests(principal: Principal, first: int, after: int | None
                        ) -> Page[AssistanceRequest]:
    """Requests of the offices in scope, and those offered to or made by the caller."""
    return await keyset(AssistanceRequest.filter(await _visible(principal)), first, after)
