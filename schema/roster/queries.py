"""Roster queries."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from core.pagination import Keyed, Window
from core.roster import appointment, composition, filing, firms, service, terms
from core.roster.models import ApplicationStatus as ApplicationStatusEnum
from core.roster.models import Supervisor as SupervisorModel
from schema import projection
from schema.context import Context
from schema.ids import parse_id
from schema.relay import Connection, connection, decode_cursor
from schema.roster.inputs import SupervisorFilter
from schema.roster.types import (
    Application,
    ApplicationStatus,
    CertificateVerification,
    CompositionFigures,
    CompositionReport,
    Group,
    PendingFiling,
    RenewalCandidate,
    Supervisor,
)
from schema.tenants import Jurisdiction


def _report(r: composition.Report) -> CompositionReport:
    return CompositionReport(jurisdiction=Jurisdiction.of(r.jurisdiction),
                             figures=CompositionFigures.of(r.composition))


async def supervisors_window(context: Context, filter: SupervisorFilter | None = None,
                             first: int = 20, after: str | None = None
                             ) -> Window[SupervisorModel]:
    principal = await context.require()
    f = filter or SupervisorFilter()
    return await service.supervisors_window(principal, service.SupervisorFilter(
        jurisdiction=f.jurisdiction, status=f.status, category=f.category,
        is_special=f.is_special, group_id=parse_id(f.group, "group") if f.group else None,
        search=f.search), first, decode_cursor(after))


async def supervisor_found(context: Context, id: strawberry.ID) -> Keyed[SupervisorModel]:
    return await service.supervisor_rows(await context.require(), parse_id(id))


@strawberry.type
class Query:
    @strawberry.field(description="Supervisors the caller may read: offices their scope, a "
                                  "supervisor their own record, agencies none. At most 100.")
    async def supervisors(self, info: Info[Context, None],
                          filter: SupervisorFilter | None = None, first: int = 20,
                          after: str | None = None) -> Connection[Supervisor]:
        window = await supervisors_window(info.context, filter, first, after)
        return connection(await window.page(), Supervisor.of)

    @strawberry.field
    async def supervisor(self, info: Info[Context, None], id: strawberry.ID) -> Supervisor:
        principal = await info.context.require()
        return Supervisor.of(await service.get_supervisor(principal, parse_id(id)))

    @strawberry.field(description="Applications and nominations of the offices in scope.")
    async def applications(self, info: Info[Context, None],
                           status: ApplicationStatus | None = None,
                           first: int = 20, after: str | None = None
                           ) -> Connection[Application]:
        principal = await info.context.require()
        wanted = ApplicationStatusEnum(status) if status else None
        page = await appointment.list_applications(principal, wanted, first,
                                                   decode_cursor(after))
        return connection(page, Application.of)

    @strawberry.field
    async def application(self, info: Info[Context, None], id: strawberry.ID) -> Application:
        principal = await info.context.require()
        return Application.of(await appointment.get_application(principal, parse_id(id)))

    @strawberry.field(description="R1.5: nominations of my jurisdiction awaiting signatures "
                                  "(supervisors).")
    async def open_nominations(self, info: Info[Context, None]) -> list[Application]:
        principal = await info.context.require()
        return [Application.of(a) for a in await appointment.open_nominations(principal)]

    @strawberry.field(description="R1.6: terms awaiting the province's filing "
                                  "(province_integrator).")
    async def pending_filings(self, info: Info[Context, None], first: int = 20,
                              after: str | None = None) -> Connection[PendingFiling]:
        principal = await info.context.require()
        page = await filing.pending_filings(principal, first, decode_cursor(after))
        return connection(page, lambda f: PendingFiling(
            id=strawberry.ID(str(f.id)), supervisor=Supervisor.of(f.supervisor),
            id_number=filing.id_number_of(f.supervisor), term_start=f.term_start,
            term_end=f.term_end, requested_at=f.requested_at))

    @strawberry.field(description="R5.1: is this certificate genuine and current? Give the "
                                  "token (from the QR code) or the number. No account needed.")
    async def verify_certificate(self, info: Info[Context, None], token: str | None = None,
                                 number: str | None = None) -> CertificateVerification:
        result = await filing.verify_certificate(info.context.address, token=token,
                                                 number=number)
        return CertificateVerification(
            status=result.status, holder_name=result.holder_name,
            jurisdiction=Jurisdiction.of(result.jurisdiction) if result.jurisdiction else None,
            term_end=result.term_end)

    @strawberry.field(description="R2.1: supervisors whose term ends within `withinDays`, "
                                  "best first.")
    async def renewal_candidates(self, info: Info[Context, None], jurisdiction: str,
                                 within_days: int = 60) -> list[RenewalCandidate]:
        principal = await info.context.require()
        found = await terms.renewal_candidates(principal, jurisdiction, within_days)
        return [RenewalCandidate(supervisor=Supervisor.of(c.supervisor), rank=i + 1,
                                 disciplines=c.disciplines, contact_firms=c.contact_firms,
                                 points=c.points, latest_score=c.latest_score)
                for i, c in enumerate(found)]

    @strawberry.field(description="R1.2/R1.3: one jurisdiction's composition (its own roster "
                                  "and those below it).")
    async def composition_report(self, info: Info[Context, None], jurisdiction: str
                                 ) -> CompositionReport:
        principal = await info.context.require()
        return _report(await composition.composition_report(principal, jurisdiction))

    @strawberry.field(description="R1.2/R1.3: every jurisdiction at or below `under`, in one "
                                  "round of SQL.")
    async def composition_reports(self, info: Info[Context, None], under: str
                                  ) -> list[CompositionReport]:
        principal = await info.context.require()
        return [_report(r) for r in await composition.composition_reports(principal, under)]

    @strawberry.field(description="R5.2: active supervisors keeping no contact firm.")
    async def supervisors_without_contact_firm(self, info: Info[Context, None],
                                               jurisdiction: str) -> list[Supervisor]:
        principal = await info.context.require()
        found = await firms.supervisors_without_contact_firm(principal, jurisdiction)
        return [Supervisor.of(s) for s in found]

    @strawberry.field(description="R7.4: the groups of a jurisdiction.")
    async def groups(self, info: Info[Context, None], jurisdiction: str) -> list[Group]:
        principal = await info.context.require()
        return [Group.of(g) for g in await firms.list_groups(principal, jurisdiction)]


# The read engine (schema/projection.py) answers these whole where a query asks only what it
# declares, from the same calls their resolvers make first.
projection.lists("supervisors", supervisors_window)
projection.finds("supervisor", supervisor_found)
