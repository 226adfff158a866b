"""Case types. The reporter (and who acted for them in the history) is null wherever the
caller may not see it (R4.4)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry.types import Info

from core import clock, holidays
from core.agencies.models import Agency as AgencyModel
from core.cases import confidentiality, oversight, tally
from core.cases import models as m
from core.cases.rules import is_overdue, overdue_sql
from core.roster import models as roster_models
from schema import projection
from schema.asked import asked
from schema.context import Context
from schema.tenants import Jurisdiction, JurisdictionField, jurisdiction_of, load_jurisdiction

strawberry.enum(m.Kind, name="CaseKind")
CaseKind = m.Kind
strawberry.enum(m.RecordType, name="RecordType")
RecordType = m.RecordType
strawberry.enum(m.Category, name="CaseCategory")
CaseCategory = m.Category
strawberry.enum(m.State, name="CaseState")
CaseState = m.State
strawberry.enum(m.Finding, name="Finding")
Finding = m.Finding
strawberry.enum(m.Adoption, name="Adoption")
Adoption = m.Adoption


@strawberry.type
class Agency:
    id: strawberry.ID
    name: str
    code: str
    jurisdiction_id: strawberry.Private[int]

    @classmethod
    def of(cls, a: AgencyModel) -> Agency:
        return cls(id=strawberry.ID(str(a.id)), name=a.name, code=a.code,
                   jurisdiction_id=a.jurisdiction_id)

    @strawberry.field(graphql_type=Jurisdiction)
    def jurisdiction(self, info: Info[Context, None]) -> JurisdictionField:
        return jurisdiction_of(info, self.jurisdiction_id)


projection.table(Agency, AgencyModel, columns=("id", "name", "code"), relations=("jurisdiction",))


@strawberry.type(description="R4.4: who reported a case, as far as the Measures let the "
                             "handling office know it: the identity, not the supervisor's "
                             "record (history, points, contact firms, certificate, account).")
class Reporter:
    name: str
    phone: str
    unit: str = strawberry.field(description="The reporter's own unit.")
    jurisdiction_id: strawberry.Private[int]

    @classmethod
    def of(cls, s: roster_models.Supervisor) -> Reporter:
        return cls(name=s.name, phone=s.phone, unit=s.unit,
                   jurisdiction_id=s.jurisdiction_id)

    @strawberry.field(graphql_type=Jurisdiction, description="The reporter's home office.")
    def jurisdiction(self, info: Info[Context, None]) -> JurisdictionField:
        return jurisdiction_of(info, self.jurisdiction_id)


@strawberry.type
class CaseStep:
    kind: str
    at: datetime
    actor_role: str
    actor: str | None = strawberry.field(description="Null for the reporter's own steps "
                                                     "where the reporter is hidden.")
    from_state: CaseState | None
    to_state: CaseState | None
    note: str


@strawberry.type
class SupervisionOrder:
    id: strawberry.ID
    issued_by: Jurisdiction
    note: str
    issued_at: datetime
    acknowledged_at: datetime | None


@strawberry.type
class Attachment:
    id: strawberry.ID
    filename: str
    content_type: str
    size: int
    sha256: str
    download_path: str


@strawberry.type
class Case:
    id: strawberry.ID
    kind: CaseKind
    record_type: RecordType | None
    category: CaseCategory
    state: CaseState
    title: str
    description: str
    place: str
    occurred_at: datetime
    submitted_at: datetime
    transferred_at: datetime | None
    due_at: datetime | None
    replied_at: datetime | None
    closed_at: datetime | None
    reply: str
    finding: Finding | None
    major_lead: bool
    adoption: Adoption | None
    rating: int | None
    reopened: bool
    escalated: bool
    overdue: bool
    model: strawberry.Private[m.Case]

    @classmethod
    def of(cls, c: m.Case) -> Case:
        return cls(
            id=strawberry.ID(str(c.id)), kind=c.kind, record_type=c.record_type,
            category=c.category, state=c.state, title=c.title, description=c.description,
            place=c.place, occurred_at=c.occurred_at, submitted_at=c.submitted_at,
            transferred_at=c.transferred_at, due_at=c.due_at, replied_at=c.replied_at,
            closed_at=c.closed_at, reply=c.reply, finding=c.finding, major_lead=c.major_lead,
            adoption=c.adoption, rating=c.rating, reopened=c.reopened, escalated=c.escalated,
            overdue=is_overdue(c, clock.now()), model=c)

    @strawberry.field(graphql_type=Jurisdiction, description="The handling office's jurisdiction.")
    def jurisdiction(self, info: Info[Context, None]) -> JurisdictionField:
        return jurisdiction_of(info, self.model.jurisdiction_id)

    @strawberry.field
    async def agency(self, info: Info[Context, None]) -> Agency:
        found = await info.context.loaders.agency_by_id.load(
            self.model.agency_id)
        assert found is not None
        return Agency.of(found)

    @strawberry.field(description="R5.1: whether `dueAt` counted days of a year whose "
                                  "holiday schedule is not published yet (Monday to Friday "
                                  "less the fixed-date holidays): it is counted again when "
                                  "the year is loaded.")
    async def due_provisional(self) -> bool:
        c = self.model
        if c.due_at is None or c.transferred_at is None:
            return False
        return (await holidays.calendar()).provisional(c.transferred_at, c.due_at)

    @strawberry.field(description="R4.4: the reporter, for the reporter and the handling "
                                  "office's staff (and an agency after a recorded "
                                  "disclosure); null for everyone else. Reads are audited.")
    async def reporter(self, info: Info[Context, None]) -> Reporter | None:
        found = await info.context.reporters.load(self.model)
        return Reporter.of(found) if found else None

    @strawberry.field(description="Every step, oldest first.")
    async def history(self, info: Info[Context, None]) -> list[CaseStep]:
        events = await info.context.loaders.events_by_case_id.load(self.model.id)
        hide = await info.context.reporters.load(self.model) is None
        return [_step(e, hide) for e in events]

    @strawberry.field(description="The latest step.")
    async def last_step(self, info: Info[Context, None]) -> CaseStep | None:
        events = await info.context.loaders.events_by_case_id.load(self.model.id)
        if not events:
            return None
        return _step(events[-1], await info.context.reporters.load(self.model) is None)

    @strawberry.field(description="R7.1: supervision orders (督办) on this case.")
    async def supervision_orders(self, info: Info[Context, None]) -> list[SupervisionOrder]:
        orders = await info.context.loaders.orders_by_case_id.load(self.model.id)
        return [SupervisionOrder(
            id=strawberry.ID(str(o.id)), note=o.note, issued_at=o.issued_at,
            acknowledged_at=o.acknowledged_at,
            issued_by=await load_jurisdiction(info, o.issued_by_id))
            for o in orders]

    @strawberry.field(description="Evidence; R4.4: the uploaded filename for the reporter and "
                                  "the handling office, a neutral one for everyone else.")
    async def attachments(self, info: Info[Context, None]) -> list[Attachment]:
        rows = await info.context.loaders.attachments_by_case_id.load(self.model.id)
        principal = await info.context.require()
        case_path = (await load_jurisdiction(
            info, self.model.jurisdiction_id)).path
        return [Attachment(id=strawberry.ID(str(a.id)), filename=confidentiality.shown_filename(
                    principal, self.model.id, case_path, a, n),
                           content_type=a.content_type, size=a.size, sha256=a.sha256,
                           download_path=f"/attachments/{a.id}")
                for n, a in enumerate(rows, start=1)]


async def _reporters_shown(context: Context, rows: list[tuple[Any, ...]]) -> list[bool]:
    """R4.4 for the database's answer, decided (and audited) as for `reporter` below."""
    allowed = await confidentiality.shown_reporters(await context.require(), rows)
    return [row[0] in allowed for row in rows]


projection.table(Reporter, roster_models.Supervisor, relations=("jurisdiction",),
                 columns=("name", "phone", "unit"))
# What the database shows as stored and `overdue` (the history stays with the resolvers),
# and the reporter where R4.4 lets the caller see it.
projection.table(Case, m.Case, relations=("jurisdiction", "agency"), columns=(
    "id", "kind", "record_type", "category", "state", "title", "description", "place",
    "occurred_at", "submitted_at", "transferred_at", "due_at", "replied_at", "closed_at", "reply",
    "finding", "major_lead", "adoption", "rating", "reopened", "escalated"),
    derived={"overdue": overdue_sql("{now}", "{state}", "{due_at}")}, guarded={
    "reporter": projection.Guard(("id", "reporter_id", "jurisdiction_id"), _reporters_shown)})


def _step(e: m.CaseEvent, hide_reporter: bool) -> CaseStep:
    return CaseStep(
        kind=e.kind, at=e.at, actor_role=e.actor_role,
        actor=None if hide_reporter and e.actor_role == "REPORTER" else e.actor,
        from_state=m.State(e.from_state) if e.from_state else None,
        to_state=m.State(e.to_state) if e.to_state else None, note=e.note)


@strawberry.type
class Count:
    key: str
    count: int


# The fields of OversightStats counted from the tally, by the figure each shows.
_FIGURES = {"total": "total", "byKind": "kind", "byCategory": "category", "byState": "state",
            "byAgency": "agency", "byJurisdiction": "jurisdiction",
            "substantiationRate": "substantiation_rate"}


@strawberry.type(description="R7.2: the shared figures of a jurisdiction and all below it.")
class OversightStats:
    stats: strawberry.Private[oversight.Stats]
    # The counts the query asks for, read together in one statement before its fields.
    figures: strawberry.Private[tally.Figures]

    @classmethod
    async def read(cls, stats: oversight.Stats, info: Info[Context, None]) -> OversightStats:
        """The figures of the counts `info`'s query asks for (no other dimension is read)."""
        dimensions = {tally.dimension_of(_FIGURES[name]) for name in asked(info)
                      if name in _FIGURES}
        return cls(stats=stats, figures=await stats.figures(dimensions))

    def _counts(self, dimension: str) -> list[Count]:
        values = self.figures.by.get(dimension, {})
        return [Count(key=k, count=v) for k, v in sorted(values.items())]

    @strawberry.field
    def total(self) -> int:
        return self.figures.total

    @strawberry.field
    def by_kind(self) -> list[Count]:
        return self._counts("kind")

    @strawberry.field
    def by_category(self) -> list[Count]:
        return self._counts("category")

    @strawberry.field
    def by_state(self) -> list[Count]:
        return self._counts("state")

    @strawberry.field(description="Agencies by name.")
    def by_agency(self) -> list[Count]:
        return self._counts("agency")

    @strawberry.field(description="Jurisdictions by path.")
    def by_jurisdiction(self) -> list[Count]:
        return self._counts("jurisdiction")

    @strawberry.field(description="Read from the open transferred cases when asked for.")
    async def overdue(self) -> int:
        return await self.stats.overdue()

    @strawberry.field
    def substantiation_rate(self) -> float | None:
        return self.figures.substantiation_rate

    @strawberry.field(description="Read from the replied cases of the period when asked for: "
                                  "narrow it with from/to.")
    async def median_reply_hours(self) -> float | None:
        return _hours((await self.stats.reply_percentiles())[0])

    @strawberry.field(description="Read from the replied cases of the period when asked for: "
                                  "narrow it with from/to.")
    async def p90_reply_hours(self) -> float | None:
        return _hours((await self.stats.reply_percentiles())[1])


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else float(seconds) / 3600
