"""GraphQL for activities, participation, attendance and the training duty (R8.1)."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from core.activities import models as m
from core.activities import service
from schema.cases.types import Agency
from schema.context import Context
from schema.ids import parse_id
from schema.relay import Connection, connection, decode_cursor
from schema.roster.types import Supervisor
from schema.tenants import Jurisdiction, JurisdictionField, jurisdiction_of

strawberry.enum(m.ActivityKind, name="ActivityKind")
ActivityKind = m.ActivityKind
strawberry.enum(m.Audience, name="Audience")
Audience = m.Audience
strawberry.enum(m.Topic, name="TrainingTopic")
Topic = m.Topic
strawberry.enum(m.ParticipationStatus, name="ParticipationStatus")
ParticipationStatus = m.ParticipationStatus
strawberry.enum(m.Attendance, name="Attendance")
Attendance = m.Attendance


@strawberry.type
class Participation:
    status: ParticipationStatus
    attendance: Attendance | None
    checked_in_at: datetime | None

    @classmethod
    def of(cls, p: m.Participation) -> Participation:
        return cls(status=p.status, attendance=p.attendance, checked_in_at=p.checked_in_at)


@strawberry.type
class Activity:
    id: strawberry.ID
    kind: ActivityKind
    title: str
    place: str
    start_at: datetime
    end_at: datetime
    capacity: int
    audience: Audience
    topics: list[Topic]
    guests: int
    model: strawberry.Private[m.Activity]

    @classmethod
    def of(cls, a: m.Activity) -> Activity:
        return cls(id=strawberry.ID(str(a.id)), kind=a.kind, title=a.title, place=a.place,
                   start_at=a.start_at, end_at=a.end_at, capacity=a.capacity,
                   audience=a.audience, topics=[m.Topic(t) for t in a.topics],
                   guests=a.guests, model=a)

    @strawberry.field(graphql_type=Jurisdiction, description="The organising office.")
    def jurisdiction(self, info: Info[Context, None]) -> JurisdictionField:
        return jurisdiction_of(info, self.model.jurisdiction_id)

    @strawberry.field(description="The one-time check-in code, for the organising office.")
    async def checkin_code(self, info: Info[Context, None]) -> str | None:
        principal = await info.context.require()
        return self.model.checkin_code if service.is_organiser(principal, self.model) else None

    @strawberry.field(description="Target agencies of an inspection or visit (null for "
                                  "agencies: never shown to them).")
    async def target_agencies(self, info: Info[Context, None]) -> list[Agency] | None:
        found = await service.target_agencies(await info.context.require(), self.model)
        return None if found is None else [Agency.of(a) for a in found]

    @strawberry.field(description="Participants and their attendance, for the organising "
                                  "office (null for others). One query: meant for details.")
    async def participants(self, info: Info[Context, None]) -> list[ParticipantEntry] | None:
        rows = await service.participants(await info.context.require(), self.model)
        if rows is None:
            return None
        return [ParticipantEntry(supervisor=Supervisor.of(p.supervisor),
                                 participation=Participation.of(p)) for p in rows]

    @strawberry.field(description="My own participation, for a supervisor.")
    async def my_participation(self, info: Info[Context, None]) -> Participation | None:
        found = await service.my_participation(await info.context.require(), self.model)
        return Participation.of(found) if found else None


@strawberry.type
class ParticipantEntry:
    supervisor: Supervisor
    participation: Participation


@strawberry.type
class TopicGap:
    topic: Topic
    missing: list[Supervisor]


@strawberry.input
class ActivityInput:
    jurisdiction: str
    kind: ActivityKind
    title: str
    start_at: datetime
    end_at: datetime
    capacity: int
    audience: Audience
    place: str = ""
    group: strawberry.ID | None = None
    topics: list[Topic] = strawberry.field(default_factory=list)
    target_agencies: list[strawberry.ID] = strawberry.field(default_factory=list)


@strawberry.input
class ActivityFilter:
    jurisdiction: str | None = None
    kind: ActivityKind | None = None
    from_: datetime | None = strawberry.field(default=None, name="from")
    to: datetime | None = None
    mine: bool = False


@strawberry.type
class Query:
    @strawberry.field(description="Activities I may see; an agency never sees an "
                                  "unannounced visit.")
    async def activities(self, info: Info[Context, None], filter: ActivityFilter | None = None,
                         first: int = 20, after: str | None = None) -> Connection[Activity]:
        principal = await info.context.require()
        f = filter or ActivityFilter()
        page = await service.list_activities(principal, service.ActivityFilter(
            jurisdiction=f.jurisdiction, kind=f.kind, start_from=f.from_, start_to=f.to,
            mine=f.mine), first, decode_cursor(after))
        return connection(page, Activity.of)

    @strawberry.field
    async def activity(self, info: Info[Context, None], id: strawberry.ID) -> Activity:
        principal = await info.context.require()
        return Activity.of(await service.get_activity(principal, parse_id(id)))

    @strawberry.field(description="R8.1: who has not completed each required topic.")
    async def training_status(self, info: Info[Context, None], jurisdiction: str
                              ) -> list[TopicGap]:
        principal = await info.context.require()
        gaps = await service.training_status(principal, jurisdiction)
        return [TopicGap(topic=g.topic, missing=[Supervisor.of(s) for s in g.missing])
                for g in gaps]


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Organise an activity; its audience is invited.")
    async def create_activity(self, info: Info[Context, None], input: ActivityInput
                              ) -> Activity:
        principal = await info.context.require()
        return Activity.of(await service.create_activity(principal, service.NewActivity(
            jurisdiction=input.jurisdiction, kind=input.kind, title=input.title,
            start_at=input.start_at, end_at=input.end_at, capacity=input.capacity,
            audience=input.audience, place=input.place,
            group_id=parse_id(input.group, "group") if input.group else None,
            topics=tuple(input.topics),
            target_agency_ids=tuple(parse_id(a, "targetAgencies")
                                    for a in input.target_agencies))))

    @strawberry.mutation(description="R5.3: apply to join (hearings seat supervisors first).")
    async def apply_to_activity(self, info: Info[Context, None], id: strawberry.ID
                                ) -> Participation:
        return Participation.of(await service.apply(await info.context.require(),
                                                    parse_id(id)))

    @strawberry.mutation(description="Accept or decline my invitation.")
    async def respond_to_invitation(self, info: Info[Context, None], id: strawberry.ID,
                                    accept: bool) -> Participation:
        return Participation.of(await service.respond(await info.context.require(),
                                                      parse_id(id), accept))

    @strawberry.mutation(description="The office accepts (within capacity) or declines.")
    async def decide_activity_application(self, info: Info[Context, None], id: strawberry.ID,
                                          supervisor_id: strawberry.ID, accept: bool
                                          ) -> Participation:
        return Participation.of(await service.decide_application(
            await info.context.require(), parse_id(id),
            parse_id(supervisor_id, "supervisorId"), accept))

    @strawberry.mutation(description="Hearing seats for others, from seats supervisors do "
                                     "not hold.")
    async def admit_hearing_guests(self, info: Info[Context, None], id: strawberry.ID,
                                   count: int) -> Activity:
        return Activity.of(await service.admit_guests(await info.context.require(),
                                                      parse_id(id), count))

    @strawberry.mutation(description="Check in with the activity's code, in its window.")
    async def check_in_to_activity(self, info: Info[Context, None], id: strawberry.ID,
                                   code: str) -> Participation:
        return Participation.of(await service.check_in(await info.context.require(),
                                                       parse_id(id), code))

    @strawberry.mutation(description="The office records attendance (criterion 3 of R9.2).")
    async def record_attendance(self, info: Info[Context, None], id: strawberry.ID,
                                supervisor_id: strawberry.ID,
                                attendance: Attendance,
                                ) -> Participation:
        return Participation.of(await service.record_attendance(
            await info.context.require(), parse_id(id), parse_id(supervisor_id, "supervisorId"),
            attendance))

    @strawberry.mutation(description="After the end: confirmed participants without a "
                                     "record are absent. Returns how many.")
    async def close_attendance(self, info: Info[Context, None], id: strawberry.ID) -> int:
        return await service.close_attendance(await info.context.require(), parse_id(id))


