"""R9.1, R9.2: the semiannual assessment of every supervisor of a jurisdiction, computed from
recorded facts in one set-based statement; adjusted with a reason; finalised read-only, which
proposes the consequences (R9.3, R9.4, R2.5)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from tortoise.transactions import in_transaction

from core import audit, clock, orm
from core.errors import InvalidInput, InvalidTransition, NotFound
from core.principal import Principal
from core.scoring.models import Assessment, AssessmentPolicy, AssessmentResult, Grade
from core.validation import check_text
from policies.access import authorize_own_office, jurisdiction_in_scope
from tenants.models import Jurisdiction

# Documented defaults (README). Targets: what fully meets a criterion in a half-year.
TARGET_APPROVAL_RECORDS = 2   # criterion 1: supervision records of administrative approval
TARGET_FIRM_RECORDS = 2       # criterion 2: records of inspections, enforcement, fees
TARGET_POINTS = 30            # criterion 4: platform points earned in the period
TARGET_SUGGESTIONS = 2        # criterion 5: suggestions, less 0.5 per discipline
DEFAULT_WEIGHTS = [0.2, 0.2, 0.2, 0.2, 0.2]
DEFAULT_THRESHOLDS = [85.0, 70.0, 60.0]  # EXCELLENT, COMPETENT, BASIC; below: INCOMPETENT
_PERIOD = re.compile(r"^(20\d\d)H([12])$")

_RUN_SQL = """
WITH people AS (
    SELECT s.id FROM supervisor s
    WHERE s.jurisdiction_id = $2 AND s.term_start < $4 AND s.term_end >= $3
), records AS (
    SELECT c.reporter_id AS sid,
           count(*) FILTER (WHERE c.record_type = 'ADMIN_APPROVAL') AS approvals,
           count(*) FILTER (WHERE c.record_type IN ('FIRM_INSPECTION', 'FIRM_ENFORCEMENT',
                                                    'FIRM_FEES')) AS firms,
           count(*) FILTER (WHERE c.kind = 'SUGGESTION') AS suggestions
    FROM supervision_case c
    WHERE c.reporter_id IN (SELECT id FROM people)
      AND c.submitted_at >= $5 AND c.submitted_at < LEAST($6, $19::timestamptz)
    GROUP BY c.reporter_id
), attendance AS (
    SELECT p.supervisor_id AS sid,
           count(*) FILTER (WHERE p.attendance = 'ATTENDED') AS attended,
           count(*) FILTER (WHERE p.attendance IS NOT NULL) AS recorded
    FROM participation p JOIN activity a ON a.id = p.activity_id
    WHERE p.supervisor_id IN (SELECT id FROM people) AND p.status = 'ACCEPTED'
      AND a.end_at >= $5 AND a.end_at < $6
    GROUP BY p.supervisor_id
), earned AS (
    SELECT e.supervisor_id AS sid, sum(e.points) AS points
    FROM point_entry e
    WHERE e.supervisor_id IN (SELECT id FROM people) AND e.at >= $5 AND e.at < $6
    GROUP BY e.supervisor_id
), disciplined AS (
    SELECT d.supervisor_id AS sid, count(*) AS n
    FROM discipline d
    WHERE d.supervisor_id IN (SELECT id FROM people) AND d.at >= $5 AND d.at < $6
    GROUP BY d.supervisor_id
), criteria AS (
    SELECT p.id AS sid,
           COALESCE(r.approvals, 0) AS approvals, COALESCE(r.firms, 0) AS firms,
           COALESCE(a.attended::float / NULLIF(a.recorded, 0), 1.0) AS attendance,
           COALESCE(e.points, 0) AS points, COALESCE(r.suggestions, 0) AS suggestions,
           COALESCE(d.n, 0) AS disciplines
    FROM people p
    LEFT JOIN records r ON r.sid = p.id LEFT JOIN attendance a ON a.sid = p.id
    LEFT JOIN earned e ON e.sid = p.id LEFT JOIN disciplined d ON d.sid = p.id
), scored AS (
    SELECT c.*, round((100 * (
        $7 * LEAST(c.approvals::float / $12, 1)
      + $8 * LEAST(c.firms::float / $13, 1)
      + $9 * c.attendance
      + $10 * LEAST(GREATEST(c.points, 0)::float / $14, 1)
      + $11 * GREATEST(LEAST(c.suggestions::float / $15, 1) - 0.5 * c.disciplines, 0)
    ))::numeric, 2)::float AS score
    FROM criteria c
)
INSERT INTO assessment_result (assessment_id, supervisor_id, approval_records, firm_records,
    attendance_rate, points, suggestions, disciplines, score, grade)
SELECT $1, sid, approvals, firms, attendance, points, suggestions, disciplines, score,
       CASE WHEN score >= $16 THEN 'EXCELLENT' WHEN score >= $17 THEN 'COMPETENT'
            WHEN score >= $18 THEN 'BASIC' ELSE 'INCOMPETENT' END
FROM scored
"""

_CONSEQUENCES_SQL = """
INSERT INTO proposal (supervisor_id, kind, reason, source, status, created_at)
SELECT r.supervisor_id,
       CASE WHEN COALESCE(r.adjusted_grade, r.grade) = 'EXCELLENT' THEN 'REWARD'
            WHEN EXISTS (SELECT 1 FROM discipline d WHERE d.supervisor_id = r.supervisor_id
                         AND d.kind = 'REMINDER' AND d.corrected_at IS NULL) THEN 'WARNING'
            ELSE 'REMINDER' END,
       $2 || COALESCE(r.adjusted_grade, r.grade),
       'assessment:' || r.assessment_id || ':' || r.supervisor_id, 'PROPOSED', $3
FROM assessment_result r
WHERE r.assessment_id = $1
  AND COALESCE(r.adjusted_grade, r.grade) IN ('EXCELLENT', 'INCOMPETENT')
ON CONFLICT (source) DO NOTHING
"""


def period_bounds(period: str) -> tuple[date, date]:
    """'2026H1' -> [2026-01-01, 2026-07-01)."""
    match = _PERIOD.match(period)
    if not match:
        raise InvalidInput("考核期须形如 2026H1", "period looks like 2026H1", field="period")
    year, half = int(match.group(1)), int(match.group(2))
    return (date(year, 1, 1), date(year, 7, 1)) if half == 1 else (date(year, 7, 1),
                                                                    date(year + 1, 1, 1))


def grade_of(score: float, thresholds: list[float]) -> Grade:
    excellent, competent, basic = thresholds
    if score >= excellent:
        return Grade.EXCELLENT
    if score >= competent:
        return Grade.COMPETENT
    return Grade.BASIC if score >= basic else Grade.INCOMPETENT


async def _office(principal: Principal, jurisdiction: str) -> Jurisdiction:
    """R9.1: the home office assesses its own supervisors."""
    place = await jurisdiction_in_scope(principal, "read", "supervisor", jurisdiction)
    authorize_own_office(principal, "run", "assessment", place.path)
    return place


async def set_policy(principal: Principal, jurisdiction: str, weights: list[float],
                     thresholds: list[float]) -> AssessmentPolicy:
    """The jurisdiction's own weights (five, summing to 1) and grade thresholds (three,
    descending, within 0-100); the home office sets them."""
    place = await _office(principal, jurisdiction)
    if len(weights) != 5 or any(w < 0 for w in weights) or abs(sum(weights) - 1) > 1e-6:
        raise InvalidInput("须为五项非负权重，合计为1", "Five non-negative weights summing to 1",
                           field="weights")
    if len(thresholds) != 3 or not 100 >= thresholds[0] > thresholds[1] > thresholds[2] >= 0:
        raise InvalidInput("须为三个从高到低的分数线", "Three descending thresholds in 0-100",
                           field="thresholds")
    async with in_transaction():
        policy, _ = await AssessmentPolicy.update_or_create(
            jurisdiction=place, defaults={"weights": weights, "thresholds": thresholds})
        await audit.record(principal.actor, "assessment.policy", target_type="assessment",
                           jurisdiction=place.path,
                           detail={"weights": weights, "thresholds": thresholds})
    return policy


async def run_assessment(principal: Principal, jurisdiction: str, period: str) -> Assessment:
    """Compute (or recompute, until finalised) every supervisor's criteria, score and grade
    for the period, in one statement over the recorded facts. R4.4: cases count from the day
    after their submission, as points are credited, so that a run repeated within a day
    cannot tell whose count a shared case raised."""
    start, end = period_bounds(period)
    place = await _office(principal, jurisdiction)
    policy = await AssessmentPolicy.get_or_none(jurisdiction=place)
    weights = policy.weights if policy else DEFAULT_WEIGHTS
    thresholds = policy.thresholds if policy else DEFAULT_THRESHOLDS
    async with in_transaction():
        assessment = await Assessment.filter(jurisdiction=place, period=period
                                             ).select_for_update().first()
        if assessment is not None and assessment.finalized_at is not None:
            raise InvalidTransition("考核已定稿，不能重算", "The assessment is final")
        if assessment is None:
            assessment = await Assessment.create(jurisdiction=place, period=period,
                                                 weights=weights, thresholds=thresholds,
                                                 run_at=clock.now())
        else:
            assessment.weights, assessment.thresholds = weights, thresholds
            assessment.run_at = clock.now()
            await assessment.save()
            await AssessmentResult.filter(assessment=assessment).delete()
        await orm.client().execute_query(_RUN_SQL, [
            assessment.id, place.id, start, end, clock.local_midnight(start),
            clock.local_midnight(end), *weights,
            TARGET_APPROVAL_RECORDS, TARGET_FIRM_RECORDS, TARGET_POINTS, TARGET_SUGGESTIONS,
            *thresholds, clock.local_midnight(clock.today())])
        await audit.record(principal.actor, "assessment.run", target_type="assessment",
                           target_id=assessment.id, jurisdiction=place.path,
                           detail={"period": period})
    assessment.jurisdiction = place
    return assessment


async def get_assessment(principal: Principal, jurisdiction: str, period: str) -> Assessment:
    period_bounds(period)
    place = await jurisdiction_in_scope(principal, "read", "supervisor", jurisdiction)
    found = await Assessment.get_or_none(jurisdiction=place, period=period)
    if found is None:
        raise NotFound("尚未考核", "No assessment for that period", field="period")
    found.jurisdiction = place
    return found


async def results(assessment: Assessment) -> list[AssessmentResult]:
    return await AssessmentResult.filter(assessment=assessment).order_by("supervisor_id")


async def adjust(principal: Principal, result_id: int, score: float, reason: str
                 ) -> AssessmentResult:
    """The office adjusts one result with a reason, before finalising."""
    reason = check_text(reason, "reason", maximum=300)
    if not 0 <= score <= 100:
        raise InvalidInput("分数须为0至100", "score must be 0 to 100", field="score")
    found = await AssessmentResult.filter(id=result_id).select_related(
        "assessment__jurisdiction").first()
    if found is None:
        raise NotFound("考核结果不存在", "No such result", field="id")
    await _office(principal, found.assessment.jurisdiction.path)
    if found.assessment.finalized_at is not None:
        raise InvalidTransition("考核已定稿", "The assessment is final")
    async with in_transaction():
        found.adjusted_score, found.adjust_reason = score, reason
        found.adjusted_grade = grade_of(score, found.assessment.thresholds)
        await found.save()
        await audit.record(principal.actor, "assessment.adjust", target_type="assessment",
                           target_id=found.assessment.id,
                           jurisdiction=found.assessment.jurisdiction.path,
                           detail={"supervisor": found.supervisor_id,
                                   "score": score, "reason": reason})
    return found


async def finalize(principal: Principal, jurisdiction: str, period: str) -> Assessment:
    """Make the assessment read-only and propose its consequences: a reward for EXCELLENT
    (R9.3), a reminder (or a warning after an uncorrected reminder) for INCOMPETENT (R9.4,
    R2.5)."""
    period_bounds(period)
    place = await _office(principal, jurisdiction)
    async with in_transaction():
        found = await Assessment.filter(jurisdiction=place, period=period
                                        ).select_for_update().first()
        if found is None:
            raise NotFound("尚未考核", "No assessment for that period", field="period")
        if found.finalized_at is not None:
            raise InvalidTransition("考核已定稿", "The assessment is final")
        found.finalized_at, found.finalized_by = clock.now(), principal.username
        await found.save()
        await orm.client().execute_query(
            _CONSEQUENCES_SQL, [found.id, f"{period}考核：", clock.now()])
        await audit.record(principal.actor, "assessment.finalize", target_type="assessment",
                           target_id=found.id, jurisdiction=place.path,
                           detail={"period": period})
    found.jurisdiction = place
    return found


@dataclass(frozen=True)
class Latest:
    score: float
    grade: Grade


async def latest_final(supervisor_ids: list[int]) -> dict[int, Latest]:
    """R2.1: each supervisor's latest finalised result (adjusted where adjusted)."""
    rows = await orm.client().execute_query_dict(
        "SELECT DISTINCT ON (r.supervisor_id) r.supervisor_id, "
        "COALESCE(r.adjusted_score, r.score) AS score, COALESCE(r.adjusted_grade, r.grade) "
        "AS grade FROM assessment_result r JOIN assessment a ON a.id = r.assessment_id "
        "WHERE a.finalized_at IS NOT NULL AND r.supervisor_id = ANY($1::int[]) "
        "ORDER BY r.supervisor_id, a.period DESC", [supervisor_ids])
    return {int(r["supervisor_id"]): Latest(float(r["score"]), Grade(r["grade"])) for r in rows}
