"""R9.2 criterion 4: the points ledger. The services where events happen call award() in
their own transaction; an event's `source` key makes a second award a no-op."""

from __future__ import annotations

from tortoise.functions import Sum
from tortoise.transactions import in_transaction

from core import audit, clock, orm, writes
from core.errors import InvalidInput
from core.principal import Principal
from core.scoring.models import PointEntry, PointEvent, PointRule
from policies.access import authorize
from tenants.directory import jurisdictions

# Documented defaults (README): what each event is worth unless a jurisdiction says otherwise.
DEFAULT_POINTS: dict[PointEvent, int] = {
    PointEvent.REPORT_SUBMITTED: 2,
    PointEvent.REPORT_SUBSTANTIATED: 5,
    PointEvent.MAJOR_LEAD_SUBSTANTIATED: 20,
    PointEvent.SUGGESTION_ADOPTED: 5,
    PointEvent.INQUIRY_ANSWERED: 2,
    PointEvent.SUPERVISION_RECORD_FILED: 2,
    PointEvent.ACTIVITY_ATTENDED: 3,
    PointEvent.TRAINING_COMPLETED: 5,
    PointEvent.ASSISTANCE_COMPLETED: 10,
    PointEvent.CONTACT_FIRM_LINKED: 3,
    PointEvent.DISCIPLINE: -10,
}

# What an event is worth to a supervisor whose jurisdiction is `sj`: the nearest jurisdiction's
# rule for it, else the default; the one form of the rule, for both statements below.
_POINTS_OF = """COALESCE((
    SELECT r.points FROM point_rule r JOIN jurisdiction j ON j.id = r.jurisdiction_id
    WHERE r.event = {event} AND (sj.path = j.path OR sj.path LIKE j.path || '.%')
    ORDER BY length(j.path) DESC LIMIT 1), {default})"""

# One statement: the event's points, inserted unless its source has scored already.
_AWARD_SQL = f"""
INSERT INTO point_entry (supervisor_id, event, points, source, reason, actor, at)
SELECT s.id, $2::varchar, {_POINTS_OF.format(event="$2::varchar", default="$3")}, $4, '', $5,
       $6
FROM supervisor s JOIN jurisdiction sj ON sj.id = s.jurisdiction_id
WHERE s.id = $1
ON CONFLICT (source) DO NOTHING
RETURNING id
"""  # noqa: S608 -- _POINTS_OF is a constant; every value is bound


# R4.4: what a case earns its reporter. The supervisor's home office and the city read the
# ledger, and every office reads the shared cases' times with the reporter masked: an entry at
# the case's own time (or in the order of the cases) would name the reporter. So these are held
# (pending_points) and credited once their local day has ended, with that day for their time
# and the day's credits in random order: the ledger narrows a reporter to the day's reporters.
CASE_EVENTS = frozenset({
    PointEvent.REPORT_SUBMITTED, PointEvent.REPORT_SUBSTANTIATED,
    PointEvent.MAJOR_LEAD_SUBSTANTIATED, PointEvent.SUGGESTION_ADOPTED,
    PointEvent.INQUIRY_ANSWERED, PointEvent.SUPERVISION_RECORD_FILED})

_HOLD_SQL = """
INSERT INTO pending_points (supervisor_id, event, default_points, source, actor, at)
SELECT $1::int, $2::varchar, $3::int, $4::varchar, $5::varchar, $6::timestamptz
WHERE NOT EXISTS (SELECT 1 FROM point_entry WHERE source = $4::varchar)
ON CONFLICT (source) DO NOTHING
RETURNING id
"""

# The held points of the days ended before $1, credited with their local day's start for
# their time, in random order, each at its jurisdiction's rule; a source that has scored
# already (nothing should) scores no more.
_CREDIT_SQL = f"""
WITH due AS (DELETE FROM pending_points WHERE at < $1 RETURNING *),
credited AS (
    INSERT INTO point_entry (supervisor_id, event, points, source, reason, actor, at)
    SELECT d.supervisor_id, d.event,
        {_POINTS_OF.format(event="d.event", default="d.default_points")}, d.source, '', d.actor,
        date_trunc('day', d.at AT TIME ZONE 'Asia/Shanghai') AT TIME ZONE 'Asia/Shanghai'
    FROM due d JOIN supervisor s ON s.id = d.supervisor_id
    JOIN jurisdiction sj ON sj.id = s.jurisdiction_id
    ORDER BY random()
    ON CONFLICT (source) DO NOTHING
    RETURNING 1)
SELECT count(*) AS n FROM credited
"""  # noqa: S608 -- _POINTS_OF is a constant; every value is bound


def awarding(supervisor_id: int, event: PointEvent, source: str, actor: str = "system"
             ) -> writes.Write:
    """The award of an event, as a write to run with the others of the transaction or
    statement that records the event (core/writes.py): one row when written, none when
    `source` had scored already. A case's points are held until its day has ended."""
    sql = _HOLD_SQL if event in CASE_EVENTS else _AWARD_SQL
    return writes.Write(sql, [supervisor_id, event.value, DEFAULT_POINTS[event], source,
                              actor, clock.now()])


async def credit_days() -> int:
    """R4.4: credit the held points of every local day that has ended (a job at each local
    midnight and at start; the system's own act, on no one's behalf). How many."""
    rows = await orm.client().execute_query_dict(
        _CREDIT_SQL, [clock.local_midnight(clock.today())])
    return int(rows[0]["n"])


async def award(supervisor_id: int, event: PointEvent, source: str, actor: str = "system"
                ) -> bool:
    """Score an event once: True when written, False when `source` had scored already.
    Call inside the transaction that records the event."""
    return (await writes.run(awarding(supervisor_id, event, source, actor)))[0] > 0


async def balances(supervisor_ids: list[int]) -> dict[int, int]:
    rows = await PointEntry.filter(supervisor_id__in=supervisor_ids).group_by(
        "supervisor_id").annotate(total=Sum("points")).values("supervisor_id", "total")
    return {int(r["supervisor_id"]): int(r["total"] or 0) for r in rows}


async def set_rule(principal: Principal, jurisdiction: str, event: PointEvent, points: int
                   ) -> PointRule:
    place = await jurisdictions.by_path(jurisdiction)
    if place is None:
        raise InvalidInput("辖区不存在", "No such jurisdiction", field="jurisdiction")
    authorize(principal, "manage", "supervisor", place.path)
    if abs(points) > 1000:
        raise InvalidInput("分值须在±1000以内", "points: at most ±1000", field="points")
    async with in_transaction():
        rule, _ = await PointRule.update_or_create(jurisdiction=place, event=event,
                                                   defaults={"points": points})
        await audit.record(principal.actor, "points.rule", target_type="point_rule",
                           target_id=rule.id, jurisdiction=place.path,
                           detail={"event": event.value, "points": points})
    return rule
