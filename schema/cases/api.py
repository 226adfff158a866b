"""Case queries, mutations and the live `caseEvents` subscription."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.types import Info

from core.agencies import service as agencies
from core.cases import access, confidentiality, oversight, service
from core.cases.models import Case as CaseModel
from core.cases.models import Kind as KindEnum
from core.notifications import service as notifications
from core.pagination import Keyed, Window
from schema import projection
from schema.cases.types import (
    Adoption,
    Agency,
    Case,
    CaseCategory,
    CaseKind,
    CaseState,
    Finding,
    OversightStats,
    RecordType,
)
from schema.context import Context
from schema.ids import parse_id
from schema.notifications import Notification
from schema.relay import Connection, connection, decode_cursor


@strawberry.input
class CaseFilter:
    state: CaseState | None = None
    kind: CaseKind | None = None
    category: CaseCategory | None = None
    agency: strawberry.ID | None = None
    jurisdiction: str | None = None
    overdue: bool | None = None
    from_: datetime | None = strawberry.field(default=None, name="from")
    to: datetime | None = None
    mine: bool = strawberry.field(default=False, description="Only cases I reported.")

    def value(self) -> access.CaseFilter:
        return access.CaseFilter(
            state=self.state, kind=self.kind, category=self.category,
            agency_id=parse_id(self.agency, "agency") if self.agency else None,
            jurisdiction=self.jurisdiction, overdue=self.overdue,
            submitted_from=self.from_, submitted_to=self.to, mine=self.mine)


@strawberry.input
class CaseInput:
    kind: CaseKind
    category: CaseCategory
    agency: strawberry.ID = strawberry.field(description="Any agency of the reporter's city.")
    title: str
    description: str
    occurred_at: datetime
    place: str = ""
    record_type: RecordType | None = None
    contact_firm: strawberry.ID | None = strawberry.field(
        default=None, description="On behalf of one of my contact firms.")
    attachments: list[strawberry.ID] = strawberry.field(
        default_factory=list, description="Ids returned by POST /uploads.")


def _ids(values: list[strawberry.ID], field: str) -> tuple[int, ...]:
    return tuple(parse_id(v, field) for v in values)


async def cases_window(context: Context, filter: CaseFilter | None = None, first: int = 20,
                       after: str | None = None) -> Window[CaseModel]:
    principal = await context.require()
    return await access.cases_window(principal, (filter or CaseFilter()).value(), first,
                                     decode_cursor(after))


async def case_found(context: Context, id: strawberry.ID) -> Keyed[CaseModel]:
    return await access.case_rows(await context.require(), parse_id(id))


@strawberry.type
class Query:
    @strawberry.field(description="Cases I may read: offices by scope, a supervisor their "
                                  "own, an agency those transferred to it. At most 100.")
    async def cases(self, info: Info[Context, None], filter: CaseFilter | None = None,
                    first: int = 20, after: str | None = None) -> Connection[Case]:
        window = await cases_window(info.context, filter, first, after)
        return connection(await window.page(), Case.of)

    @strawberry.field(name="case")
    async def case_(self, info: Info[Context, None], id: strawberry.ID) -> Case:
        principal = await info.context.require()
        found = await access.get_case(principal, parse_id(id))
        # get_case joined the agency: `agency { … }` needs no statement of its own.
        info.context.loaders.agency_by_id.prime(found.agency_id,
                                                found.agency)
        return Case.of(found)

    @strawberry.field(description="R7.2: every case of the city, for every office in it; "
                                  "reporters null except for the handling office.")
    async def oversight_cases(self, info: Info[Context, None],
                              filter: CaseFilter | None = None, first: int = 20,
                              after: str | None = None) -> Connection[Case]:
        principal = await info.context.require()
        page = await access.list_oversight_cases(
            principal, (filter or CaseFilter()).value(), first, decode_cursor(after))
        return connection(page, Case.of)

    @strawberry.field(description="R7.2: shared figures of a jurisdiction and all below it, "
                                  "in one query.")
    async def oversight_stats(self, info: Info[Context, None], jurisdiction: str,
                              from_: Annotated[datetime | None,
                                               strawberry.argument(name="from")] = None,
                              to: datetime | None = None) -> OversightStats:
        principal = await info.context.require()
        return await OversightStats.read(await oversight.oversight_stats(
            principal, jurisdiction, from_, to), info)

    @strawberry.field(description="R7.1: overdue cases of my office and every office below.")
    async def overdue_cases(self, info: Info[Context, None], first: int = 20,
                            after: str | None = None) -> Connection[Case]:
        principal = await info.context.require()
        return connection(await oversight.overdue_cases(principal, first, decode_cursor(after)),
                          Case.of)

    @strawberry.field(description="Agencies (public), optionally of one jurisdiction.")
    async def agencies(self, jurisdiction: str | None = None) -> list[Agency]:
        return [Agency.of(a) for a in await agencies.list_agencies(jurisdiction)]


# The read engine (schema/projection.py) answers these whole where a query asks only what it
# declares, from the same calls their resolvers make first.
projection.lists("cases", cases_window)
projection.finds("case", case_found)


@strawberry.type
class Mutation:
    @strawberry.mutation(description="R3.1-R3.4, R5.3: a supervisor submits a case.")
    async def submit_case(self, info: Info[Context, None], input: CaseInput) -> Case:
        principal = await info.context.require()
        return Case.of(await service.submit_case(principal, service.Submission(
            kind=input.kind, category=input.category, agency_id=parse_id(input.agency, "agency"),
            title=input.title, description=input.description, occurred_at=input.occurred_at,
            place=input.place, record_type=input.record_type,
            contact_firm_id=parse_id(input.contact_firm, "contactFirm")
            if input.contact_firm else None,
            attachment_ids=_ids(input.attachments, "attachments"))))

    @strawberry.mutation(description="The reporter adds information to an open case.")
    async def add_case_information(self, info: Info[Context, None], id: strawberry.ID,
                                   text: str, attachments: list[strawberry.ID] | None = None
                                   ) -> Case:
        principal = await info.context.require()
        return Case.of(await service.add_information(
            principal, parse_id(id), text, _ids(attachments or [], "attachments")))

    @strawberry.mutation(description="The handling office accepts a submitted case.")
    async def accept_case(self, info: Info[Context, None], id: strawberry.ID) -> Case:
        return Case.of(await service.accept_case(await info.context.require(), parse_id(id)))

    @strawberry.mutation(description="The handling office declines, with a reason.")
    async def decline_case(self, info: Info[Context, None], id: strawberry.ID, reason: str
                           ) -> Case:
        return Case.of(await service.decline_case(await info.context.require(), parse_id(id),
                                                  reason))

    @strawberry.mutation(description="转办 to the agency; due after the jurisdiction's working "
                                     "days for the kind unless given.")
    async def transfer_case(self, info: Info[Context, None], id: strawberry.ID,
                            note: str = "", working_days: int | None = None) -> Case:
        return Case.of(await service.transfer_case(await info.context.require(), parse_id(id),
                                                   note, working_days))

    @strawberry.mutation(description="The agency answers a case transferred to it.")
    async def reply_case(self, info: Info[Context, None], id: strawberry.ID, reply: str
                         ) -> Case:
        return Case.of(await service.reply_case(await info.context.require(), parse_id(id),
                                                reply))

    @strawberry.mutation(description="查实: the handling office's finding on the reply.")
    async def verify_case(self, info: Info[Context, None], id: strawberry.ID,
                          finding: Finding,
                          major_lead: bool = False, note: str = "") -> Case:
        return Case.of(await service.verify_case(await info.context.require(), parse_id(id),
                                                 finding, major_lead, note))

    @strawberry.mutation(description="R7.4: adopt a suggestion, in part, or not, with reason.")
    async def decide_suggestion(self, info: Info[Context, None], id: strawberry.ID,
                                adoption: Adoption,
                                reason: str) -> Case:
        return Case.of(await service.decide_suggestion(await info.context.require(),
                                                       parse_id(id), adoption, reason))

    @strawberry.mutation
    async def close_case(self, info: Info[Context, None], id: strawberry.ID) -> Case:
        return Case.of(await service.close_case(await info.context.require(), parse_id(id)))

    @strawberry.mutation(description="The reporter rates a closed case (1-5), once.")
    async def rate_case(self, info: Info[Context, None], id: strawberry.ID, rating: int
                        ) -> Case:
        return Case.of(await service.rate_case(await info.context.require(), parse_id(id),
                                               rating))

    @strawberry.mutation(description="The reporter declares a closed case unresolved, once.")
    async def declare_unresolved(self, info: Info[Context, None], id: strawberry.ID,
                                 reason: str) -> Case:
        return Case.of(await service.declare_unresolved(await info.context.require(),
                                                        parse_id(id), reason))

    @strawberry.mutation(description="R4.4: disclose the reporter to the agency, with reason.")
    async def disclose_reporter(self, info: Info[Context, None], id: strawberry.ID,
                                reason: str) -> Case:
        return Case.of(await confidentiality.disclose_reporter(
            await info.context.require(), parse_id(id), reason))

    @strawberry.mutation(description="R7.1 督办: an upper office presses on a lower one's case.")
    async def issue_supervision_order(self, info: Info[Context, None], case_id: strawberry.ID,
                                      note: str) -> Case:
        principal = await info.context.require()
        order = await oversight.issue_order(principal, parse_id(case_id, "caseId"), note)
        return Case.of(await access.get_case(principal, order.case_id))

    @strawberry.mutation(description="The handling office acknowledges a supervision order.")
    async def acknowledge_supervision_order(self, info: Info[Context, None],
                                            id: strawberry.ID) -> Case:
        principal = await info.context.require()
        order = await oversight.acknowledge_order(principal, parse_id(id))
        return Case.of(await access.get_case(principal, order.case_id))

    @strawberry.mutation(description="Escalate an open case to the city office.")
    async def escalate_case(self, info: Info[Context, None], id: strawberry.ID, reason: str
                            ) -> Case:
        return Case.of(await oversight.escalate_case(await info.context.require(),
                                                     parse_id(id), reason))

    @strawberry.mutation(description="A jurisdiction's reply time for a kind, in working days.")
    async def set_due_rule(self, info: Info[Context, None], jurisdiction: str,
                           kind: CaseKind,
                           working_days: int) -> int:
        rule = await service.set_due_rule(await info.context.require(), jurisdiction,
                                          KindEnum(kind), working_days)
        return rule.working_days

    @strawberry.mutation(description="Add an agency with its first AGENCY account.")
    async def create_agency(self, info: Info[Context, None], jurisdiction: str, name: str,
                            code: str, username: str, password: str) -> Agency:
        principal = await info.context.require()
        return Agency.of(await agencies.create_agency(
            principal, jurisdiction=jurisdiction, name=name, code=code, username=username,
            password=password))


@strawberry.type
class Subscription:
    @strawberry.subscription(description="My notices about cases as they happen, from any "
                                         "server process (graphql-transport-ws; authenticate "
                                         "in connection_init with {Authorization: 'Bearer …'}).")
    async def case_events(self, info: Info[Context, None]) -> AsyncGenerator[Notification, None]:
        principal = await info.context.require()
        async for item in notifications.follow(principal.account_id, "case"):
            yield Notification.of(item)
