"""R7.2 scorecards: the figures every office of the city shares (reporters never appear), for
one jurisdiction or every one under a path in a single statement; and one supervisor's card."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from core import clock, orm
from core.cases.rules import overdue_sql
from core.errors import NotFound
from core.principal import Principal
from core.roster.service import get_supervisor
from core.scoring.assessment import period_bounds
from policies.access import scope
from tenants.models import Jurisdiction
from tenants.paths import within

_JURISDICTIONS_SQL = f"""
WITH places AS (
    SELECT id, path FROM jurisdiction WHERE id = ANY($1::int[])
), roster AS (
    SELECT jurisdiction_id AS jid, count(*) FILTER (WHERE status = 'ACTIVE') AS active,
           count(*) FILTER (WHERE status = 'ACTIVE' AND is_special) AS special,
           count(*) FILTER (WHERE status = 'ACTIVE' AND is_small_micro) AS small_micro
    FROM supervisor WHERE jurisdiction_id = ANY($1::int[]) GROUP BY 1
), cases AS (
    SELECT * FROM supervision_case
    WHERE jurisdiction_id = ANY($1::int[])
      AND ($2::timestamptz IS NULL OR submitted_at >= $2) AND ($3::timestamptz IS NULL
      OR submitted_at < $3)
), case_figures AS (
    SELECT jurisdiction_id AS jid, count(*) AS total,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM
               replied_at - transferred_at)) AS median_reply,
           count(*) FILTER (WHERE {overdue_sql(now='$4')}) AS overdue
    FROM cases GROUP BY 1
), by_kind AS (
    SELECT jid, jsonb_object_agg(kind, n) AS counts FROM (
        SELECT jurisdiction_id AS jid, kind, count(*) AS n FROM cases GROUP BY 1, 2) k
    GROUP BY jid
), by_outcome AS (
    SELECT jid, jsonb_object_agg(outcome, n) AS counts FROM (
        SELECT jurisdiction_id AS jid, COALESCE(finding, adoption, state) AS outcome,
               count(*) AS n FROM cases GROUP BY 1, 2) o
    GROUP BY jid
), activity_figures AS (
    SELECT a.jurisdiction_id AS jid, count(DISTINCT a.id) AS activities,
           count(p.id) FILTER (WHERE p.attendance = 'ATTENDED') AS attended,
           count(p.id) FILTER (WHERE p.attendance IS NOT NULL) AS recorded
    FROM activity a LEFT JOIN participation p ON p.activity_id = a.id
    WHERE a.jurisdiction_id = ANY($1::int[])
      AND ($2::timestamptz IS NULL OR a.end_at >= $2) AND ($3::timestamptz IS NULL
      OR a.end_at < $3)
    GROUP BY 1
), assistance_figures AS (
    SELECT jurisdiction_id AS jid, count(*) AS requests,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM
               accepted_at - created_at)) AS median_accept,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM
               arrived_at - created_at)) AS median_arrive
    FROM assistance_request
    WHERE jurisdiction_id = ANY($1::int[])
      AND ($2::timestamptz IS NULL OR created_at >= $2) AND ($3::timestamptz IS NULL
      OR created_at < $3)
    GROUP BY 1
), grades AS (
    SELECT jid, jsonb_object_agg(grade, n) AS counts FROM (
        SELECT a.jurisdiction_id AS jid, COALESCE(r.adjusted_grade, r.grade) AS grade,
               count(*) AS n
        FROM assessment a JOIN assessment_result r ON r.assessment_id = a.id
        WHERE a.jurisdiction_id = ANY($1::int[]) AND a.period = $5
          AND a.finalized_at IS NOT NULL
        GROUP BY 1, 2) g
    GROUP BY jid
)
SELECT p.id, p.path,
       COALESCE(r.active, 0) AS active, COALESCE(r.special, 0) AS special,
       COALESCE(r.small_micro, 0) AS small_micro,
       COALESCE(c.total, 0) AS cases, c.median_reply, COALESCE(c.overdue, 0) AS overdue,
       COALESCE(k.counts, '{{}}') AS by_kind, COALESCE(o.counts, '{{}}') AS by_outcome,
       COALESCE(af.activities, 0) AS activities, COALESCE(af.attended, 0) AS attended,
       COALESCE(af.recorded, 0) AS recorded,
       COALESCE(s.requests, 0) AS assistance, s.median_accept, s.median_arrive,
       COALESCE(g.counts, '{{}}') AS grades
FROM places p
LEFT JOIN roster r ON r.jid = p.id LEFT JOIN case_figures c ON c.jid = p.id
LEFT JOIN by_kind k ON k.jid = p.id LEFT JOIN by_outcome o ON o.jid = p.id
LEFT JOIN activity_figures af ON af.jid = p.id LEFT JOIN assistance_figures s ON s.jid = p.id
LEFT JOIN grades g ON g.jid = p.id
ORDER BY p.path
"""  # noqa: S608 (constant text)


@dataclass(frozen=True)
class JurisdictionCard:
    jurisdiction: Jurisdiction
    figures: dict[str, Any]


def _json(value: Any) -> dict[str, int]:
    return json.loads(value) if isinstance(value, str) else dict(value or {})


async def jurisdiction_scorecards(principal: Principal, under: str, period: str | None
                                  ) -> list[JurisdictionCard]:
    """Every jurisdiction at or below `under` the caller reads scorecards of: each office of
    the city reads its city, the city office and the province everything below them."""
    start = end = None
    if period is not None:
        first, last = period_bounds(period)
        start, end = clock.local_midnight(first), clock.local_midnight(last)
    allowed = scope(principal, "read", "scorecard")
    places = {j.id: j for j in await Jurisdiction.filter(allowed.filter("path"))
              if within(j.path, under)}
    if not places:
        raise NotFound("辖区不存在", "No such jurisdiction", field="under")
    rows = await orm.client().execute_query_dict(
        _JURISDICTIONS_SQL, [list(places), start, end, clock.now(), period or ""])
    cards = []
    for row in rows:
        figures = dict(row)
        for key in ("by_kind", "by_outcome", "grades"):
            figures[key] = _json(row[key])
        cards.append(JurisdictionCard(places[row["id"]], figures))
    return cards


_SUPERVISOR_SQL = """
SELECT
  (SELECT COALESCE(sum(points), 0) FROM point_entry WHERE supervisor_id = $1) AS points,
  (SELECT COALESCE(jsonb_object_agg(kind, n), '{}') FROM (SELECT kind, count(*) AS n
     FROM supervision_case WHERE reporter_id = $1 AND submitted_at < $2 GROUP BY kind) k
  ) AS by_kind,
  (SELECT count(*) FROM supervision_case c WHERE c.reporter_id = $1
     AND c.finding IN ('SUBSTANTIATED', 'PARTLY_SUBSTANTIATED')
     AND NOT EXISTS (SELECT 1 FROM case_event e WHERE e.case_id = c.id
                     AND e.kind = 'VERIFIED' AND e.at >= $2)) AS substantiated,
  (SELECT count(*) FROM participation WHERE supervisor_id = $1
     AND attendance = 'ATTENDED') AS attended,
  (SELECT count(*) FROM participation WHERE supervisor_id = $1
     AND attendance IS NOT NULL) AS recorded,
  (SELECT count(*) FROM assistance_request WHERE accepted_by_id = $1
     AND state = 'CLOSED') AS assistance,
  (SELECT COALESCE(r.adjusted_grade, r.grade) FROM assessment_result r
     JOIN assessment a ON a.id = r.assessment_id
     WHERE r.supervisor_id = $1 AND a.finalized_at IS NOT NULL
     ORDER BY a.period DESC LIMIT 1) AS latest_grade
"""


async def supervisor_scorecard(principal: Principal, supervisor_id: int) -> dict[str, Any]:
    """One supervisor's figures, for whoever may read the supervisor (one statement). R4.4:
    the counts of cases stand as at the start of the local day (a case counts from the day
    after it was submitted, a finding from the day after it was made), so that a count that
    rises cannot be matched with a shared case's time, as the ledger's points cannot."""
    await get_supervisor(principal, supervisor_id)
    today = clock.local_midnight(clock.today())
    row = (await orm.client().execute_query_dict(_SUPERVISOR_SQL, [supervisor_id, today]))[0]
    figures = dict(row)
    figures["by_kind"] = _json(row["by_kind"])
    return figures
