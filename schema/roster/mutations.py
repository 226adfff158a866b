"""Roster mutations: each decodes its input, calls one service function, maps the result."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from core.roster import appointment, dismissal, filing, firms, terms
from core.roster import models as m
from schema.context import Context
from schema.ids import parse_id
from schema.roster.inputs import (
    ApplicationInput,
    ConditionInput,
    ContactFirmInput,
    PersonInput,
    conditions,
)
from schema.roster.types import (
    Application,
    Certificate,
    ContactFirm,
    DisciplineKind,
    Group,
    ReviewResult,
    Supervisor,
)

strawberry.enum(appointment.Decision, name="Decision")
Decision = appointment.Decision
strawberry.enum(m.Violation, name="Violation",
                            description="The duty of R4 a disciplined act broke.")
Violation = m.Violation
strawberry.enum(dismissal.DismissalReason, name="DismissalReason")
DismissalReason = dismissal.DismissalReason


@strawberry.type
class Discipline:
    id: strawberry.ID
    kind: DisciplineKind
    reason: str
    supervisor_id: strawberry.ID


def _discipline(d: m.Discipline) -> Discipline:
    return Discipline(id=strawberry.ID(str(d.id)), kind=d.kind, reason=d.reason,
                      supervisor_id=strawberry.ID(str(d.supervisor_id)))


@strawberry.type
class Mutation:
    @strawberry.mutation(description="R1.4 path A: apply to become a supervisor, with the "
                                     "recommending unit's recommendation. No account needed.")
    async def submit_application(self, info: Info[Context, None], input: ApplicationInput
                                 ) -> Application:
        created = await appointment.submit_application(
            info.context.address, jurisdiction=input.jurisdiction, is_special=input.is_special,
            person=input.person.value(), statements=conditions(input.statements),
            recommendation=appointment.Recommendation(
                input.recommendation.unit, input.recommendation.contact,
                input.recommendation.text))
        return Application.of(created)

    @strawberry.mutation(description="R1.5 path B: an active supervisor nominates a person "
                                     "(the first of three signatures).")
    async def nominate_candidate(self, info: Info[Context, None], person: PersonInput,
                                 statements: list[ConditionInput], reason: str
                                 ) -> Application:
        principal = await info.context.require()
        return Application.of(await appointment.nominate_candidate(
            principal, person=person.value(), statements=conditions(statements),
            reason=reason))

    @strawberry.mutation(description="R1.5: co-sign a nomination of my jurisdiction.")
    async def endorse_nomination(self, info: Info[Context, None], id: strawberry.ID
                                 ) -> Application:
        principal = await info.context.require()
        return Application.of(await appointment.endorse_nomination(principal, parse_id(id)))

    @strawberry.mutation(description="R1.4/R1.5: the home office reviews, finding on each "
                                     "R1.1 condition. Approval appoints.")
    async def review_application(
        self, info: Info[Context, None], id: strawberry.ID,
        decision: Decision,
        findings: list[ConditionInput], note: str = "",
    ) -> ReviewResult:
        principal = await info.context.require()
        result = await appointment.review_application(
            principal, parse_id(id), decision, conditions(findings), note)
        return ReviewResult(
            application=Application.of(result.application),
            supervisor=Supervisor.of(result.supervisor) if result.supervisor else None,
            username=result.username, initial_password=result.initial_password)

    @strawberry.mutation(description="R1.6: the province files the current term; the "
                                     "platform issues the e-certificate (province_integrator).")
    async def record_filing(self, info: Info[Context, None], supervisor_id: strawberry.ID,
                            filing_number: str, certificate_number: str) -> Certificate:
        principal = await info.context.require()
        return Certificate.of(await filing.record_filing(
            principal, parse_id(supervisor_id, "supervisorId"), filing_number,
            certificate_number))

    @strawberry.mutation(description="R2.1: a new two-year term.")
    async def renew_supervisor(self, info: Info[Context, None], id: strawberry.ID
                               ) -> Supervisor:
        principal = await info.context.require()
        return Supervisor.of(await terms.renew_supervisor(principal, parse_id(id)))

    @strawberry.mutation(description="R2.3: record the consultation with the recommending "
                                     "unit.")
    async def record_consultation(self, info: Info[Context, None],
                                  supervisor_id: strawberry.ID, note: str) -> Supervisor:
        principal = await info.context.require()
        return Supervisor.of(await dismissal.record_consultation(
            principal, parse_id(supervisor_id, "supervisorId"), note))

    @strawberry.mutation(description="R2.4: the signed-in supervisor asks to resign.")
    async def request_resignation(self, info: Info[Context, None], reason: str) -> Supervisor:
        principal = await info.context.require()
        return Supervisor.of(await dismissal.request_resignation(principal, reason))

    @strawberry.mutation(description="R2.4: record the recommending unit's consent.")
    async def record_unit_consent(self, info: Info[Context, None],
                                  supervisor_id: strawberry.ID, note: str) -> Supervisor:
        principal = await info.context.require()
        return Supervisor.of(await dismissal.record_unit_consent(
            principal, parse_id(supervisor_id, "supervisorId"), note))

    @strawberry.mutation(description="R2.3-R2.5: dismiss, each reason with its precondition.")
    async def dismiss_supervisor(self, info: Info[Context, None], id: strawberry.ID,
                                 reason: DismissalReason,
                                 note: str) -> Supervisor:
        principal = await info.context.require()
        return Supervisor.of(await dismissal.dismiss_supervisor(principal, parse_id(id),
                                                                reason, note))

    @strawberry.mutation(description="R4.5: criticism, reminder, warning, removal (除名) or "
                                     "legal referral.")
    async def record_discipline(self, info: Info[Context, None], supervisor_id: strawberry.ID,
                                kind: DisciplineKind,
                                reason: str,
                                violation: Violation = m.Violation.OTHER,
                                ) -> Discipline:
        principal = await info.context.require()
        return _discipline(await dismissal.record_discipline(
            principal, parse_id(supervisor_id, "supervisorId"), kind, reason, violation))

    @strawberry.mutation(description="R2.5: the supervisor corrected after a reminder or "
                                     "warning.")
    async def record_correction(self, info: Info[Context, None], discipline_id: strawberry.ID,
                                note: str) -> Discipline:
        principal = await info.context.require()
        return _discipline(await dismissal.record_correction(
            principal, parse_id(discipline_id, "disciplineId"), note))

    @strawberry.mutation(description="R5.2: link a contact firm (the supervisor or the office).")
    async def link_contact_firm(self, info: Info[Context, None], supervisor_id: strawberry.ID,
                                input: ContactFirmInput) -> ContactFirm:
        principal = await info.context.require()
        return ContactFirm.of(await firms.link_contact_firm(
            principal, parse_id(supervisor_id, "supervisorId"), name=input.name,
            credit_code=input.credit_code, industry=input.industry, size=input.size))

    @strawberry.mutation
    async def unlink_contact_firm(self, info: Info[Context, None], id: strawberry.ID
                                  ) -> ContactFirm:
        principal = await info.context.require()
        return ContactFirm.of(await firms.unlink_contact_firm(principal, parse_id(id)))

    @strawberry.mutation(description="R7.4: create an industry group.")
    async def create_group(self, info: Info[Context, None], jurisdiction: str, name: str,
                           industry: str = "") -> Group:
        principal = await info.context.require()
        return Group.of(await firms.create_group(principal, jurisdiction, name, industry))

    @strawberry.mutation(description="R7.4: put a supervisor in a group (null: none).")
    async def assign_to_group(self, info: Info[Context, None], supervisor_id: strawberry.ID,
                              group_id: strawberry.ID | None) -> Supervisor:
        principal = await info.context.require()
        return Supervisor.of(await firms.assign_to_group(
            principal, parse_id(supervisor_id, "supervisorId"),
            parse_id(group_id, "groupId") if group_id is not None else None))
