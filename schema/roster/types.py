"""Roster types: supervisors, their history and certificates, applications, composition."""

from __future__ import annotations

from datetime import date, datetime

import strawberry
import strawberry.federation
from strawberry.scalars import JSON
from strawberry.types import Info

from core import offload, qr
from core.roster import filing as filings
from core.roster import models as m
from core.roster import rules
from core.roster.rules import CONDITIONS, Composition
from schema import projection
from schema.context import Context
from schema.ids import parse_id
from schema.tenants import Jurisdiction, JurisdictionField, jurisdiction_of

strawberry.enum(m.Category, name="Category")
Category = m.Category
strawberry.enum(m.Status, name="SupervisorStatus")
SupervisorStatus = m.Status
strawberry.enum(m.Gender, name="Gender")
Gender = m.Gender
strawberry.enum(m.FirmSize, name="FirmSize")
FirmSize = m.FirmSize
strawberry.enum(m.DisciplineKind, name="DisciplineKind")
DisciplineKind = m.DisciplineKind
strawberry.enum(m.ApplicationPath, name="ApplicationPath")
ApplicationPath = m.ApplicationPath
strawberry.enum(m.ApplicationStatus, name="ApplicationStatus")
ApplicationStatus = m.ApplicationStatus
strawberry.enum(filings.CertificateStatus, name="CertificateStatus")
CertificateStatus = filings.CertificateStatus
strawberry.enum(rules.Condition, name="Condition",
                description="R1.1: the conditions an applicant states and the reviewer finds on.")
Condition = rules.Condition


@strawberry.type
class Group:
    id: strawberry.ID
    name: str
    industry: str
    jurisdiction_id: strawberry.Private[int]

    @classmethod
    def of(cls, g: m.Group) -> Group:
        return cls(id=strawberry.ID(str(g.id)), name=g.name, industry=g.industry,
                   jurisdiction_id=g.jurisdiction_id)

    @strawberry.field(graphql_type=Jurisdiction)
    def jurisdiction(self, info: Info[Context, None]) -> JurisdictionField:
        return jurisdiction_of(info, self.jurisdiction_id)


@strawberry.type
class ContactFirm:
    id: strawberry.ID
    name: str
    credit_code: str
    industry: str
    size: FirmSize
    linked_at: datetime

    @classmethod
    def of(cls, f: m.ContactFirm) -> ContactFirm:
        return cls(id=strawberry.ID(str(f.id)), name=f.name, credit_code=f.credit_code,
                   industry=f.industry, size=f.size, linked_at=f.linked_at)


@strawberry.type(description="One step of a supervisor's history, in order.")
class HistoryEntry:
    kind: str
    at: datetime
    actor: str
    from_status: SupervisorStatus | None
    to_status: SupervisorStatus | None
    note: str
    detail: JSON


@strawberry.type(description="R1.6/R5.1: the electronic certificate of a filed term.")
class Certificate:
    number: str
    filing_number: str
    token: str
    term_start: date
    term_end: date
    filed_at: datetime
    revoked: bool

    @classmethod
    def of(cls, f: m.Filing) -> Certificate:
        assert f.filed_at is not None and f.certificate_number and f.certificate_token
        return cls(number=f.certificate_number, filing_number=f.filing_number or "",
                   token=f.certificate_token, term_start=f.term_start, term_end=f.term_end,
                   filed_at=f.filed_at, revoked=f.revoked_at is not None)

    @strawberry.field(description="The token as a QR code (an SVG document).")
    async def qr_svg(self) -> str:
        return await offload.run(qr.svg, self.token)  # a page of them would hold the loop


@strawberry.federation.type(keys=["id"])
class Supervisor:
    id: strawberry.ID
    name: str
    phone: str
    id_number_masked: str
    gender: Gender | None
    birth_year: int | None
    category: Category
    is_small_micro: bool
    is_npc_deputy: bool
    is_cppcc_member: bool
    unit: str
    recommending_unit: str
    industry: str
    is_special: bool
    status: SupervisorStatus
    term_start: date
    term_end: date
    latitude: float | None
    longitude: float | None
    pk: strawberry.Private[int]
    jurisdiction_id: strawberry.Private[int]
    group_id: strawberry.Private[int | None]
    account_id: strawberry.Private[int | None]

    @classmethod
    def of(cls, s: m.Supervisor) -> Supervisor:
        return cls(
            id=strawberry.ID(str(s.id)), name=s.name, phone=s.phone,
            id_number_masked=s.id_number_masked, gender=s.gender, birth_year=s.birth_year,
            category=s.category, is_small_micro=s.is_small_micro,
            is_npc_deputy=s.is_npc_deputy, is_cppcc_member=s.is_cppcc_member, unit=s.unit,
            recommending_unit=s.recommending_unit, industry=s.industry,
            is_special=s.is_special, status=s.status, term_start=s.term_start,
            term_end=s.term_end, latitude=s.latitude, longitude=s.longitude, pk=s.id,
            jurisdiction_id=s.jurisdiction_id,
            group_id=s.group_id,
            account_id=s.account_id,
        )

    @classmethod
    async def resolve_reference(cls, info: Info[Context, None], id: strawberry.ID
                                ) -> Supervisor:
        """Federation: a supervisor by id, through the caller's scope like `supervisor(id:)`."""
        from core.roster.service import get_supervisor

        return cls.of(await get_supervisor(await info.context.require(), parse_id(id)))

    @strawberry.field(graphql_type=Jurisdiction)
    def jurisdiction(self, info: Info[Context, None]) -> JurisdictionField:
        return jurisdiction_of(info, self.jurisdiction_id)

    @strawberry.field
    async def group(self, info: Info[Context, None]) -> Group | None:
        if self.group_id is None:
            return None
        found = await info.context.loaders.group_by_id.load(self.group_id)
        return Group.of(found) if found else None

    @strawberry.field(description="R5.2: the enterprises the supervisor keeps contact with.")
    async def contact_firms(self, info: Info[Context, None]) -> list[ContactFirm]:
        firms = await info.context.loaders.contact_firms_by_supervisor_id.load(self.pk)
        return [ContactFirm.of(f) for f in firms]

    @strawberry.field(description="The sign-in name of the supervisor's account.")
    async def username(self, info: Info[Context, None]) -> str | None:
        if self.account_id is None:
            return None
        found = await info.context.loaders.account_by_id.load(self.account_id)
        return found.username if found else None

    @strawberry.field(description="The certificate of the latest filed term, if any.")
    async def certificate(self, info: Info[Context, None]) -> Certificate | None:
        rows = await info.context.loaders.filings_by_supervisor_id.load(self.pk)
        filed = [f for f in rows if f.filed_at is not None]
        return Certificate.of(filed[-1]) if filed else None

    @strawberry.field(description="R9.2: the balance of the points ledger.")
    async def points_balance(self, info: Info[Context, None]) -> int:
        return await info.context.loaders.points_by_supervisor_id.load(self.pk)

    @strawberry.field(description="Every transition and step, oldest first.")
    async def history(self, info: Info[Context, None]) -> list[HistoryEntry]:
        events = await info.context.loaders.events_by_supervisor_id.load(self.pk)
        return [HistoryEntry(kind=e.kind, at=e.at, actor=e.actor,
                             from_status=m.Status(e.from_status) if e.from_status else None,
                             to_status=m.Status(e.to_status) if e.to_status else None,
                             note=e.note, detail=e.detail)  # type: ignore[arg-type]
                for e in events]


projection.table(Supervisor, m.Supervisor, relations=("jurisdiction",), columns=(
    "id", "name", "phone", "id_number_masked", "gender", "birth_year", "category",
    "is_small_micro", "is_npc_deputy", "is_cppcc_member", "unit", "recommending_unit",
    "industry", "is_special", "status", "term_start", "term_end", "latitude", "longitude"))


@strawberry.type
class CategoryShare:
    category: Category
    count: int
    share: float
    target: float
    short: bool


@strawberry.type(description="R1.2/R1.3: a roster's composition against the Measures.")
class CompositionFigures:
    active_count: int
    minimum: int
    meets_minimum: bool
    categories: list[CategoryShare]
    small_micro_count: int
    small_micro_share: float
    small_micro_minimum: float
    small_micro_met: bool
    npc_deputies: int
    cppcc_members: int
    shortfalls: list[str]

    @classmethod
    def of(cls, c: Composition) -> CompositionFigures:
        return cls(
            active_count=c.active, minimum=rules.MINIMUM_ACTIVE, meets_minimum=c.meets_minimum,
            categories=[CategoryShare(category=s.category, count=s.count, share=s.share,
                                      target=s.target, short=s.short) for s in c.categories],
            small_micro_count=c.small_micro, small_micro_share=c.small_micro_share,
            small_micro_minimum=rules.SMALL_MICRO_MINIMUM, small_micro_met=c.small_micro_met,
            npc_deputies=c.npc_deputies, cppcc_members=c.cppcc_members,
            shortfalls=c.shortfalls)


@strawberry.type
class CompositionReport:
    jurisdiction: Jurisdiction
    figures: CompositionFigures


@strawberry.type
class CompositionImpact:
    before: CompositionFigures
    after: CompositionFigures


@strawberry.type
class ConditionText:
    condition: Condition
    text: str


@strawberry.type
class Application:
    id: strawberry.ID
    path: ApplicationPath
    status: ApplicationStatus
    is_special: bool
    name: str
    phone: str
    id_number_masked: str
    category: Category
    is_small_micro: bool
    is_npc_deputy: bool
    is_cppcc_member: bool
    unit: str
    industry: str
    recommending_unit: str
    recommending_contact: str
    recommendation: str
    statements: list[ConditionText]
    findings: list[ConditionText]
    review_note: str
    reviewed_by: str | None
    reviewed_at: datetime | None
    submitted_at: datetime
    pk: strawberry.Private[int]
    jurisdiction_id: strawberry.Private[int]
    model: strawberry.Private[m.Application]

    @classmethod
    def of(cls, a: m.Application) -> Application:
        def texts(values: dict[str, str]) -> list[ConditionText]:
            return [ConditionText(condition=rules.Condition(k), text=values[k])
                    for k in CONDITIONS if k in values]

        return cls(
            id=strawberry.ID(str(a.id)), path=a.path, status=a.status, is_special=a.is_special,
            name=a.name, phone=a.phone, id_number_masked=a.id_number_masked,
            category=a.category, is_small_micro=a.is_small_micro,
            is_npc_deputy=a.is_npc_deputy, is_cppcc_member=a.is_cppcc_member, unit=a.unit,
            industry=a.industry, recommending_unit=a.recommending_unit,
            recommending_contact=a.recommending_contact, recommendation=a.recommendation,
            statements=texts(a.statements), findings=texts(a.findings),
            review_note=a.review_note, reviewed_by=a.reviewed_by, reviewed_at=a.reviewed_at,
            submitted_at=a.submitted_at, pk=a.id, model=a,
            jurisdiction_id=a.jurisdiction_id)

    @strawberry.field(graphql_type=Jurisdiction)
    def jurisdiction(self, info: Info[Context, None]) -> JurisdictionField:
        return jurisdiction_of(info, self.jurisdiction_id)

    @strawberry.field(description="R1.5: how many supervisors have signed (nominations).")
    async def signatures(self, info: Info[Context, None]) -> int:
        return len(await info.context.loaders.endorsements_by_application_id.load(self.pk))

    @strawberry.field(description="How approving would move the home jurisdiction's "
                                  "composition (one query; meant for the review screen).")
    async def composition_impact(self, info: Info[Context, None]) -> CompositionImpact:
        from core.roster.appointment import composition_impact

        place = await info.context.loaders.jurisdiction_by_id.load(self.jurisdiction_id)
        self.model.jurisdiction = place
        before, after = await composition_impact(self.model)
        return CompositionImpact(before=CompositionFigures.of(before),
                                 after=CompositionFigures.of(after))


@strawberry.type
class ReviewResult:
    application: Application
    supervisor: Supervisor | None
    username: str | None = strawberry.field(description="The new SUPERVISOR account.")
    initial_password: str | None = strawberry.field(
        description="Shown once, to hand to the new supervisor; only its hash is kept.")


@strawberry.type
class PendingFiling:
    id: strawberry.ID
    supervisor: Supervisor
    id_number: str = strawberry.field(
        description="The full resident ID number, which the province needs to file; only "
                    "filing readers (the province) see it.")
    term_start: date
    term_end: date
    requested_at: datetime


@strawberry.type
class RenewalCandidate:
    supervisor: Supervisor
    rank: int
    disciplines: int
    contact_firms: int
    points: int
    latest_score: float | None


@strawberry.type
class CertificateVerification:
    status: CertificateStatus
    holder_name: str | None
    jurisdiction: Jurisdiction | None
    term_end: date | None
