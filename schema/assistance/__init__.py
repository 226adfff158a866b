"""GraphQL for on-site assistance (R6): requests, dispatch, arrival, report, live offers."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime

import strawberry
from strawberry.types import Info

from core.assistance import models as m
from core.assistance import service
from core.notifications import service as notifications
from schema.context import Context
from schema.ids import parse_id
from schema.relay import Connection, connection, decode_cursor
from schema.tenants import Jurisdiction, JurisdictionField, jurisdiction_of

strawberry.enum(m.RequestState, name="AssistanceState")
RequestState = m.RequestState
strawberry.enum(m.Source, name="AssistanceSource")
Source = m.Source


@strawberry.type(description="What the public sees of a request: its state and times only.")
class AssistanceTracking:
    tracking_code: str
    state: RequestState
    created_at: datetime
    accepted_at: datetime | None
    arrived_at: datetime | None
    closed_at: datetime | None

    @classmethod
    def of(cls, r: m.AssistanceRequest) -> AssistanceTracking:
        return cls(tracking_code=r.tracking_code, state=r.state, created_at=r.created_at,
                   accepted_at=r.accepted_at, arrived_at=r.arrived_at, closed_at=r.closed_at)


@strawberry.type
class AssistanceRequest:
    id: strawberry.ID
    tracking_code: str
    source: Source
    state: RequestState
    latitude: float
    longitude: float
    address: str
    description: str
    round: int
    radius_km: float
    created_at: datetime
    accepted_at: datetime | None
    arrived_at: datetime | None
    arrival_distance_m: float | None
    closed_at: datetime | None
    report: str
    seconds_to_accept: float | None
    seconds_to_arrive: float | None
    jurisdiction_id: strawberry.Private[int]

    @classmethod
    def of(cls, r: m.AssistanceRequest) -> AssistanceRequest:
        return cls(
            id=strawberry.ID(str(r.id)), tracking_code=r.tracking_code, source=r.source,
            state=r.state, latitude=r.latitude, longitude=r.longitude, address=r.address,
            description=r.description, round=r.round, radius_km=r.radius_km,
            created_at=r.created_at, accepted_at=r.accepted_at, arrived_at=r.arrived_at,
            arrival_distance_m=r.arrival_distance_m, closed_at=r.closed_at, report=r.report,
            seconds_to_accept=(r.accepted_at - r.created_at).total_seconds()
            if r.accepted_at else None,
            seconds_to_arrive=(r.arrived_at - r.created_at).total_seconds()
            if r.arrived_at else None,
            jurisdiction_id=r.jurisdiction_id)

    @strawberry.field(graphql_type=Jurisdiction, description="The handling office.")
    def jurisdiction(self, info: Info[Context, None]) -> JurisdictionField:
        return jurisdiction_of(info, self.jurisdiction_id)


@strawberry.type
class AssistanceOfferEvent:
    request_id: strawberry.ID
    kind: str = strawberry.field(description="OFFER, or RETRACTED when taken or ended.")
    text: str


@strawberry.input
class PublicAssistanceInput:
    name: str
    phone: str
    latitude: float
    longitude: float
    address: str
    description: str = strawberry.field(description="What is happening.")


@strawberry.type
class Query:
    @strawberry.field(description="R6.2: the state of a public request, by its tracking code "
                                  "(no account; nothing personal about supervisors).")
    async def assistance_by_tracking_code(self, code: str) -> AssistanceTracking:
        return AssistanceTracking.of(await service.by_tracking_code(code))

    @strawberry.field(description="Requests of my office, or offered to or made by me.")
    async def assistance_requests(self, info: Info[Context, None], first: int = 20,
                                  after: str | None = None
                                  ) -> Connection[AssistanceRequest]:
        principal = await info.context.require()
        page = await service.list_requests(principal, first, decode_cursor(after))
        return connection(page, AssistanceRequest.of)


@strawberry.type
class Mutation:
    @strawberry.mutation(description="R6.1: a supervisor on duty asks for a witness on site.")
    async def request_assistance(self, info: Info[Context, None], latitude: float,
                                 longitude: float, address: str, description: str
                                 ) -> AssistanceRequest:
        return AssistanceRequest.of(await service.request_assistance(
            await info.context.require(), latitude, longitude, address, description))

    @strawberry.mutation(description="R6.2: a complainant asks for assistance (no account; "
                                     "rate-limited). Keep the tracking code.")
    async def request_public_assistance(self, info: Info[Context, None],
                                        input: PublicAssistanceInput) -> AssistanceTracking:
        return AssistanceTracking.of(await service.request_public_assistance(
            info.context.address, service.PublicRequest(
                input.name, input.phone, input.latitude, input.longitude, input.address,
                input.description)))

    @strawberry.mutation(description="R6.3: take an offered request; the first wins, others "
                                     "get CONFLICT.")
    async def accept_assistance(self, info: Info[Context, None], id: strawberry.ID
                                ) -> AssistanceRequest:
        return AssistanceRequest.of(await service.accept_assistance(
            await info.context.require(), parse_id(id)))

    @strawberry.mutation(description="Arrived: the distance to the point is recorded.")
    async def check_in_assistance(self, info: Info[Context, None], id: strawberry.ID,
                                  latitude: float, longitude: float) -> AssistanceRequest:
        return AssistanceRequest.of(await service.check_in_assistance(
            await info.context.require(), parse_id(id), latitude, longitude))

    @strawberry.mutation(description="R6.3: an objective, truthful report; closes it.")
    async def report_assistance(self, info: Info[Context, None], id: strawberry.ID,
                                report: str, attachments: list[strawberry.ID] | None = None
                                ) -> AssistanceRequest:
        return AssistanceRequest.of(await service.report_assistance(
            await info.context.require(), parse_id(id), report,
            tuple(parse_id(a, "attachments") for a in attachments or [])))


@strawberry.type
class Subscription:
    @strawberry.subscription(description="Offers made to me, and their retraction when taken "
                                         "or ended, from any server process.")
    async def assistance_offers(self, info: Info[Context, None]
                                ) -> AsyncGenerator[AssistanceOfferEvent, None]:
        principal = await info.context.require()
        async for item in notifications.follow(principal.account_id, "assistance"):
            if item.kind in ("OFFER", "RETRACTED"):
                yield AssistanceOfferEvent(request_id=strawberry.ID(str(item.subject_id)),
                                           kind=item.kind, text=item.text)
