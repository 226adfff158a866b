"""R7.2 figures from `case_tally`, the per-month counts the database keeps current as cases
change (trigger `case_tally`, migration 0003), and `case_tally_total`, their sum over all time
(migration 0008), so that no request counts a million cases, nor a decade of months.

A period asked for is split into whole local months, read from the tally, and at most two
partial months at its edges, counted from the cases themselves (index on jurisdiction and
submission time). Reply-time percentiles cannot be kept as counts: they are read from the
replied cases of the period, and only when asked for."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, time

from core import clock, orm
from core.cases.rules import overdue_sql

# Every counted value of a case, one row each (also the shape the trigger keeps).
_VALUES = """CROSS JOIN LATERAL (VALUES ('kind', c.kind), ('category', c.category),
    ('state', c.state), ('agency', c.agency_id::text), ('finding', c.finding)) v(d, k)"""

# The jurisdictions' ids and the dimensions are written into the statements below, not passed
# as parameters: with an array as a parameter PostgreSQL planned every execution anew (a
# custom plan each time, ~0.35 ms of PostgreSQL's CPU for a city's counts at size M, more
# than running it). Written in, a statement with no other parameter is planned once per
# connection (asyncpg keeps it prepared): one statement for each scope and set of dimensions
# asked for, both from the platform's own values (ids of the kept tree, names of DIMENSIONS).

# All of history: the all-time tally holds one row per jurisdiction and value, however many
# months there are, so nothing is summed here; figures() sums over the jurisdictions.
_TOTAL_SQL = """
SELECT t.jurisdiction_id, t.dimension, {key}, t.n FROM case_tally_total t {agency}
WHERE t.jurisdiction_id = ANY({ids}) AND t.dimension = ANY({dimensions}) AND t.n <> 0"""

# A period: its whole months from the monthly tally, summed, and only for partial months at
# its edges, their cases counted one by one ({edges}).
_PERIOD_SQL = """
SELECT t.jurisdiction_id, t.dimension, {key}, sum(t.n)::bigint FROM (
  SELECT jurisdiction_id, dimension, key, n FROM case_tally
  WHERE jurisdiction_id = ANY({ids})
    AND ($1::date IS NULL OR month >= $1) AND ($2::date IS NULL OR month < $2){edges}
) t (jurisdiction_id, dimension, key, n) {agency}
WHERE t.dimension = ANY({dimensions})
GROUP BY 1, 2, 3
HAVING sum(t.n) <> 0"""
_EDGE_SQL = f"""
  UNION ALL
  SELECT c.jurisdiction_id, v.d, v.k, 1 FROM supervision_case c {_VALUES}
  WHERE v.k IS NOT NULL AND c.jurisdiction_id = ANY({{ids}})
    AND (c.submitted_at >= $3 AND c.submitted_at < $4
         OR c.submitted_at >= $5 AND c.submitted_at < $6)"""  # noqa: S608 (constant text)

# Agencies are counted by id and shown by name: joined only when asked for (building the join
# over every agency was half the statement's time at size M).
_AGENCY_NAMES = {
    "key": "COALESCE(a.name, t.key)",
    "agency": "LEFT JOIN agency a ON t.dimension = 'agency' AND a.id::text = t.key"}
_AGENCY_IDS = {"key": "t.key", "agency": ""}

_OVERDUE_SQL = f"""
SELECT count(*) AS n FROM supervision_case
WHERE {overdue_sql(now="$2")} AND jurisdiction_id = ANY($1::int[])
  AND ($3::timestamptz IS NULL OR submitted_at >= $3)
  AND ($4::timestamptz IS NULL OR submitted_at < $4)"""  # noqa: S608 (constant text)

RECOUNT_SQL = f"""
SELECT c.jurisdiction_id,
       date_trunc('month', c.submitted_at AT TIME ZONE '{clock.LOCAL_ZONE.key}')::date AS month,
       v.d AS dimension, v.k AS key, count(*) AS n
FROM supervision_case c {_VALUES}
WHERE v.k IS NOT NULL
GROUP BY 1, 2, 3, 4
"""  # noqa: S608 (constant text)

_PERCENTILES_SQL = """
SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY s) AS median,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY s) AS p90
FROM (SELECT EXTRACT(EPOCH FROM (replied_at - transferred_at)) AS s FROM supervision_case
      WHERE jurisdiction_id = ANY($1::int[]) AND replied_at IS NOT NULL
        AND ($2::timestamptz IS NULL OR submitted_at >= $2)
        AND ($3::timestamptz IS NULL OR submitted_at < $3)) r
"""

SUBSTANTIATED = ("SUBSTANTIATED", "PARTLY_SUBSTANTIATED")
# What the tally counts; states also give the per-jurisdiction totals.
DIMENSIONS = ("kind", "category", "state", "agency", "finding")
# The figures read from another dimension's rows (Figures.total, .substantiation_rate, the
# jurisdiction counts); every other figure is its own dimension.
_READ_FROM = {"total": "state", "jurisdiction": "state", "substantiation_rate": "finding"}


def dimension_of(figure: str) -> str:
    """The dimension whose rows give `figure` (a dimension, or total, jurisdiction,
    substantiation_rate)."""
    return _READ_FROM.get(figure, figure)


@dataclass(frozen=True)
class Period:
    """[start, end) as whole local months [first_month, end_month) plus raw edge ranges."""

    start: datetime | None
    end: datetime | None
    first_month: date | None
    end_month: date | None
    edges: tuple[tuple[datetime | None, datetime | None], ...]

    @classmethod
    def of(cls, start: datetime | None, end: datetime | None) -> Period:
        first = end_month = None
        edges: list[tuple[datetime | None, datetime | None]] = []
        if start is not None:
            first = _month_of(start)
            if _midnight(first) != start:
                first = _next_month(first)
                edges.append((start, _midnight(first)))
        if end is not None:
            end_month = _month_of(end)
            if _midnight(end_month) != end:
                edges.append((_midnight(end_month), end))
        if first is not None and end_month is not None and first >= end_month:
            return cls(start, end, first, first, ((start, end),))  # within one month
        return cls(start, end, first, end_month, tuple(edges))


def _month_of(moment: datetime) -> date:
    return moment.astimezone(clock.LOCAL_ZONE).date().replace(day=1)


def _next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=clock.LOCAL_ZONE)


@dataclass(frozen=True)
class Figures:
    """Counts by dimension and key; the jurisdiction dimension counts each case once."""

    by: dict[str, dict[str, int]]

    @property
    def total(self) -> int:
        return sum(self.by.get("state", {}).values())

    @property
    def substantiation_rate(self) -> float | None:
        findings = self.by.get("finding", {})
        verified = sum(findings.values())
        return sum(findings.get(f, 0) for f in SUBSTANTIATED) / verified if verified else None


def statement(ids: Collection[int], period: Period, dimensions: Collection[str]
              ) -> tuple[str, list[object]]:
    """The statement of figures() and its parameters; the ceiling of the benchmark serves it
    as it is (bench/ceiling.py)."""
    asked = sorted(set(dimensions))
    if unknown := set(asked) - set(DIMENSIONS):  # written into the statement: our names only
        raise ValueError(f"not a dimension: {unknown}")
    listed = ",".join(str(int(i)) for i in ids)
    written = {"ids": f"'{{{listed}}}'::int[]",
               "dimensions": f"'{{{','.join(asked)}}}'::text[]",
               **(_AGENCY_NAMES if "agency" in asked else _AGENCY_IDS)}
    if period.first_month is None and period.end_month is None and not period.edges:
        return _TOTAL_SQL.format(**written), []
    params: list[object] = [period.first_month, period.end_month]
    edges = ""
    if period.edges:
        edges = _EDGE_SQL.format(**written)
        params += [edge for pair in [*period.edges, (None, None)][:2] for edge in pair]
    return _PERIOD_SQL.format(edges=edges, **written), params


async def figures(paths: dict[int, str], period: Period,
                  dimensions: Collection[str] = DIMENSIONS) -> Figures:
    """Counts of the cases submitted in `period` in the jurisdictions given (id -> path), for
    the `dimensions` asked for (no other dimension is read): one statement, over the all-time
    tally for the whole history, the monthly tally for whole months, and the cases only for
    partial months."""
    _, rows = await orm.client().execute_query(*statement(paths, period, dimensions))
    by: dict[str, dict[str, int]] = {}
    for jurisdiction_id, dimension, key, n in rows:
        counts = by.setdefault(dimension, {})
        counts[key] = counts.get(key, 0) + n
        if dimension == "state":
            counts = by.setdefault("jurisdiction", {})
            path = paths[jurisdiction_id]
            counts[path] = counts.get(path, 0) + n
    return Figures(by=by)


async def overdue(jurisdiction_ids: list[int], period: Period) -> int:
    """Transferred cases past their due date (partial index on open transferred cases)."""
    rows = await orm.client().execute_query_dict(
        _OVERDUE_SQL, [jurisdiction_ids, clock.now(), period.start, period.end])
    return int(rows[0]["n"])


async def reply_percentiles(jurisdiction_ids: list[int], period: Period
                            ) -> tuple[float | None, float | None]:
    """Median and 90th percentile of reply seconds (transfer to reply) in the period."""
    rows = await orm.client().execute_query_dict(
        _PERCENTILES_SQL, [jurisdiction_ids, period.start, period.end])
    return rows[0]["median"], rows[0]["p90"]
