"""GraphQL for points, assessments and proposals (R9)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry.types import Info

from core.reports import exports, scorecards
from core.roster import ledger, proposals
from core.scoring import assessment as assessments
from core.scoring import models as m
from core.scoring import points as points_service
from schema.cases.types import Count
from schema.context import Context
from schema.ids import parse_id
from schema.relay import Connection, connection, decode_cursor
from schema.roster.types import Supervisor
from schema.tenants import Jurisdiction

strawberry.enum(m.PointEvent, name="PointEvent")
PointEvent = m.PointEvent
strawberry.enum(m.Grade, name="Grade")
Grade = m.Grade
strawberry.enum(m.ProposalKind, name="ProposalKind")
ProposalKind = m.ProposalKind
strawberry.enum(m.ProposalStatus, name="ProposalStatus")
ProposalStatus = m.ProposalStatus


@strawberry.type
class PointEntry:
    id: strawberry.ID
    event: PointEvent
    points: int
    reason: str
    actor: str
    at: datetime

    @classmethod
    def of(cls, e: m.PointEntry) -> PointEntry:
        return cls(id=strawberry.ID(str(e.id)), event=e.event, points=e.points, reason=e.reason,
                   actor=e.actor, at=e.at)


@strawberry.type(description="R9.2: one supervisor's criteria, score and grade.")
class AssessmentResult:
    id: strawberry.ID
    supervisor_id: strawberry.ID
    approval_records: int
    firm_records: int
    attendance_rate: float
    points: int
    suggestions: int
    disciplines: int
    score: float
    grade: Grade
    adjusted_score: float | None
    adjusted_grade: Grade | None
    adjust_reason: str | None

    @classmethod
    def of(cls, r: m.AssessmentResult) -> AssessmentResult:
        return cls(
            id=strawberry.ID(str(r.id)),
            supervisor_id=strawberry.ID(str(r.supervisor_id)),
            approval_records=r.approval_records, firm_records=r.firm_records,
            attendance_rate=r.attendance_rate, points=r.points, suggestions=r.suggestions,
            disciplines=r.disciplines, score=r.score, grade=r.grade,
            adjusted_score=r.adjusted_score, adjusted_grade=r.adjusted_grade,
            adjust_reason=r.adjust_reason)


@strawberry.type
class Assessment:
    id: strawberry.ID
    jurisdiction: Jurisdiction
    period: str
    weights: list[float]
    thresholds: list[float]
    run_at: datetime
    finalized_at: datetime | None
    model: strawberry.Private[m.Assessment]

    @classmethod
    def of(cls, a: m.Assessment) -> Assessment:
        return cls(id=strawberry.ID(str(a.id)), jurisdiction=Jurisdiction.of(a.jurisdiction),
                   period=a.period, weights=a.weights, thresholds=a.thresholds,
                   run_at=a.run_at, finalized_at=a.finalized_at, model=a)

    @strawberry.field
    async def results(self) -> list[AssessmentResult]:
        return [AssessmentResult.of(r) for r in await assessments.results(self.model)]


@strawberry.type
class Proposal:
    id: strawberry.ID
    supervisor: Supervisor
    kind: ProposalKind
    reason: str
    status: ProposalStatus
    created_at: datetime

    @classmethod
    def of(cls, p: m.Proposal) -> Proposal:
        return cls(id=strawberry.ID(str(p.id)), supervisor=Supervisor.of(p.supervisor),
                   kind=p.kind, reason=p.reason, status=p.status, created_at=p.created_at)


strawberry.enum(exports.ExportKind, name="ExportKind")
ExportKind = exports.ExportKind
strawberry.enum(exports.ExportFormat, name="ExportFormat")
ExportFormat = exports.ExportFormat


def _counts(values: dict[str, int]) -> list[Count]:
    return [Count(key=k, count=int(v)) for k, v in sorted(values.items())]


def _hours(seconds: Any) -> float | None:
    return None if seconds is None else float(seconds) / 3600


@strawberry.type(description="R7.2: a jurisdiction's shared figures (never a reporter).")
class JurisdictionScorecard:
    jurisdiction: Jurisdiction
    active_supervisors: int
    special_supervisors: int
    small_micro_share: float | None
    cases: int
    cases_by_kind: list[Count]
    cases_by_outcome: list[Count]
    median_reply_hours: float | None
    overdue: int
    activities: int
    attendance_rate: float | None
    assistance_requests: int
    median_minutes_to_accept: float | None
    median_minutes_to_arrive: float | None
    grades: list[Count]


@strawberry.type
class SupervisorScorecard:
    points_balance: int
    cases_by_kind: list[Count]
    substantiated: int
    attendance_rate: float | None
    assistance_completed: int
    latest_grade: Grade | None


@strawberry.type
class ExportLink:
    url: str = strawberry.field(description="GET it within `expiresIn` seconds.")
    expires_in: int


@strawberry.type
class Query:
    @strawberry.field(description="R9.2: a supervisor's points, oldest first.")
    async def points_ledger(self, info: Info[Context, None], supervisor_id: strawberry.ID,
                            first: int = 20, after: str | None = None
                            ) -> Connection[PointEntry]:
        principal = await info.context.require()
        page = await ledger.ledger(
            principal, parse_id(supervisor_id, "supervisorId"), first, decode_cursor(after))
        return connection(page, PointEntry.of)

    @strawberry.field(description="R9.1: a jurisdiction's assessment of a half-year.")
    async def assessment(self, info: Info[Context, None], jurisdiction: str, period: str
                         ) -> Assessment:
        principal = await info.context.require()
        return Assessment.of(await assessments.get_assessment(principal, jurisdiction, period))

    @strawberry.field(description="R7.2: every jurisdiction at or below `under` in one "
                                  "statement; every office of the city reads its city, the "
                                  "city office and the province all below them.")
    async def jurisdiction_scorecards(self, info: Info[Context, None], under: str,
                                      period: str | None = None) -> list[JurisdictionScorecard]:
        principal = await info.context.require()
        cards = await scorecards.jurisdiction_scorecards(principal, under, period)
        return [JurisdictionScorecard(
            jurisdiction=Jurisdiction.of(c.jurisdiction),
            active_supervisors=c.figures["active"], special_supervisors=c.figures["special"],
            small_micro_share=c.figures["small_micro"] / c.figures["active"]
            if c.figures["active"] else None,
            cases=c.figures["cases"], cases_by_kind=_counts(c.figures["by_kind"]),
            cases_by_outcome=_counts(c.figures["by_outcome"]),
            median_reply_hours=_hours(c.figures["median_reply"]),
            overdue=c.figures["overdue"], activities=c.figures["activities"],
            attendance_rate=c.figures["attended"] / c.figures["recorded"]
            if c.figures["recorded"] else None,
            assistance_requests=c.figures["assistance"],
            median_minutes_to_accept=None if c.figures["median_accept"] is None
            else float(c.figures["median_accept"]) / 60,
            median_minutes_to_arrive=None if c.figures["median_arrive"] is None
            else float(c.figures["median_arrive"]) / 60,
            grades=_counts(c.figures["grades"])) for c in cards]

    @strawberry.field(description="One supervisor's figures (whoever may read the supervisor).")
    async def supervisor_scorecard(self, info: Info[Context, None], id: strawberry.ID
                                   ) -> SupervisorScorecard:
        principal = await info.context.require()
        f = await scorecards.supervisor_scorecard(principal, parse_id(id))
        return SupervisorScorecard(
            points_balance=int(f["points"]), cases_by_kind=_counts(f["by_kind"]),
            substantiated=int(f["substantiated"]),
            attendance_rate=f["attended"] / f["recorded"] if f["recorded"] else None,
            assistance_completed=int(f["assistance"]),
            latest_grade=m.Grade(f["latest_grade"]) if f["latest_grade"] else None)

    @strawberry.field(description="R9.3/R9.4: proposals awaiting (or past) the office.")
    async def proposals(self, info: Info[Context, None],
                        status: ProposalStatus | None = None,
                        first: int = 20, after: str | None = None) -> Connection[Proposal]:
        principal = await info.context.require()
        page = await proposals.list_proposals(principal, status, first, decode_cursor(after))
        return connection(page, Proposal.of)


@strawberry.type
class Mutation:
    @strawberry.mutation(description="A short-lived signed link to the roster, cases (reporter "
                                     "only for the handling office) or an assessment, as "
                                     "CSV or XLSX; the same scope as the API.")
    async def request_export(self, info: Info[Context, None],
                             kind: ExportKind,
                             format: ExportFormat,
                             jurisdiction: str, period: str | None = None) -> ExportLink:
        url, ttl = await exports.request_export(await info.context.require(), kind, format,
                                                jurisdiction, period)
        return ExportLink(url=url, expires_in=ttl)

    @strawberry.mutation(description="A manual points adjustment, with a reason (audited).")
    async def adjust_points(self, info: Info[Context, None], supervisor_id: strawberry.ID,
                            points: int, reason: str) -> PointEntry:
        return PointEntry.of(await ledger.adjust(await info.context.require(),
                                          parse_id(supervisor_id, "supervisorId"), points,
                                          reason))

    @strawberry.mutation(description="A jurisdiction's own points for an event.")
    async def set_point_rule(self, info: Info[Context, None], jurisdiction: str,
                             event: PointEvent,
                             points: int) -> int:
        rule = await points_service.set_rule(await info.context.require(), jurisdiction,
                                             event, points)
        return rule.points

    @strawberry.mutation(description="R9.2: the jurisdiction's own weights (five, summing to "
                                     "1) and grade thresholds (three, descending).")
    async def set_assessment_policy(self, info: Info[Context, None], jurisdiction: str,
                                    weights: list[float], thresholds: list[float]) -> bool:
        await assessments.set_policy(await info.context.require(), jurisdiction, weights,
                                     thresholds)
        return True

    @strawberry.mutation(description="R9.1/R9.2: compute (or recompute until final).")
    async def run_assessment(self, info: Info[Context, None], jurisdiction: str, period: str
                             ) -> Assessment:
        return Assessment.of(await assessments.run_assessment(await info.context.require(),
                                                              jurisdiction, period))

    @strawberry.mutation(description="Adjust one result with a reason, before finalising.")
    async def adjust_assessment(self, info: Info[Context, None], result_id: strawberry.ID,
                                score: float, reason: str) -> AssessmentResult:
        return AssessmentResult.of(await assessments.adjust(
            await info.context.require(), parse_id(result_id, "resultId"), score, reason))

    @strawberry.mutation(description="Make it read-only and propose the consequences.")
    async def finalize_assessment(self, info: Info[Context, None], jurisdiction: str,
                                  period: str) -> Assessment:
        return Assessment.of(await assessments.finalize(await info.context.require(),
                                                        jurisdiction, period))

    @strawberry.mutation(description="Confirm (a reminder or warning becomes discipline) or "
                                     "reject a proposal.")
    async def decide_proposal(self, info: Info[Context, None], id: strawberry.ID,
                              confirm: bool) -> ProposalStatus:
        return (await proposals.decide(await info.context.require(), parse_id(id),
                                       confirm)).status
