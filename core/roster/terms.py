"""Terms: expiry at term end (R2.2), the renewal ranking (R2.1) and renewal (R1.7)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from tortoise.functions import Count
from tortoise.transactions import in_transaction

from core import audit, clock
from core.errors import InvalidInput, InvalidTransition
from core.principal import Principal
from core.roster import rules
from core.roster.models import ContactFirm, Discipline, Filing, Status, Supervisor
from core.roster.service import managed_supervisor, record_event
from core.scoring.assessment import latest_final
from core.scoring.points import balances
from policies.access import jurisdiction_in_scope
from tenants.models import Jurisdiction

log = logging.getLogger(__name__)


async def expire_terms() -> int:
    """R2.2: every ACTIVE supervisor whose term has ended and was not renewed becomes
    EXPIRED, with a history row. Idempotent: a second run finds nobody."""
    today = clock.today()
    expired = 0
    while True:
        async with in_transaction():
            batch = await Supervisor.filter(status=Status.ACTIVE, term_end__lt=today
                                            ).select_for_update(skip_locked=True).limit(500)
            if not batch:
                if expired:
                    log.info("terms expired", extra={"count": expired})
                return expired
            places = {j.id: j for j in await Jurisdiction.filter(
                id__in={s.jurisdiction_id for s in batch})}
            for supervisor in batch:
                supervisor.jurisdiction = places[supervisor.jurisdiction_id]
                await record_event(supervisor, audit.SYSTEM, "EXPIRED", from_status=Status.ACTIVE,
                                   to_status=Status.EXPIRED,
                                   detail={"termEnd": supervisor.term_end.isoformat()})
                supervisor.status = Status.EXPIRED
                await supervisor.save(update_fields=["status"])
            expired += len(batch)


@dataclass(frozen=True)
class Candidate:
    supervisor: Supervisor
    disciplines: int
    contact_firms: int
    points: int
    latest_score: float | None


async def renewal_candidates(principal: Principal, jurisdiction: str, within_days: int
                             ) -> list[Candidate]:
    """R2.1: supervisors of the jurisdiction whose term ends within `within_days` (or has
    ended, not yet renewed), best first: by the latest assessment once it exists, until
    then by points and record (discipline, contact firms kept)."""
    if not 0 <= within_days <= 366:
        raise InvalidInput("天数须为0至366", "withinDays must be 0 to 366", field="withinDays")
    place = await jurisdiction_in_scope(principal, "read", "supervisor", jurisdiction)
    horizon = clock.today() + timedelta(days=within_days)
    found = await Supervisor.filter(jurisdiction_id=place.id,
                                    status__in=[Status.ACTIVE, Status.EXPIRED],
                                    term_end__lte=horizon).select_related("jurisdiction")
    ids = [s.id for s in found]
    disciplines = dict(await Discipline.filter(supervisor_id__in=ids).group_by(
        "supervisor_id").annotate(n=Count("id")).values_list("supervisor_id", "n"))
    firms = dict(await ContactFirm.filter(supervisor_id__in=ids, unlinked_at__isnull=True
                                          ).group_by("supervisor_id").annotate(n=Count("id")
                                          ).values_list("supervisor_id", "n"))
    earned = await balances(ids)
    assessed = await latest_final(ids)
    candidates = [Candidate(s, int(disciplines.get(s.id, 0)), int(firms.get(s.id, 0)),
                            earned.get(s.id, 0),
                            assessed[s.id].score if s.id in assessed else None)
                  for s in found]
    candidates.sort(key=lambda c: (*rules.renewal_order(c.latest_score, c.points,
                                                        c.disciplines, c.contact_firms),
                                   c.supervisor.term_end, c.supervisor.id))
    return candidates


async def renew_supervisor(principal: Principal, supervisor_id: int) -> Supervisor:
    """R2.1, R1.7: a new two-year term following the current one (or from today if it has
    ended), and a new pending filing. Only ACTIVE or EXPIRED supervisors are renewed."""
    async with in_transaction():
        supervisor = await managed_supervisor(principal, supervisor_id, lock=True,
                                              home_office=True)
        if supervisor.status not in (Status.ACTIVE, Status.EXPIRED):
            raise InvalidTransition("已解聘或除名的监督员不能续聘",
                                    "A dismissed or removed supervisor cannot be renewed")
        if supervisor.status is Status.ACTIVE and supervisor.term_end > clock.today() + \
                timedelta(days=90):
            raise InvalidTransition("任期届满前90天内方可续聘",
                                    "Renewal opens 90 days before the term ends")
        start, end = rules.renewal_term(supervisor.term_end, clock.today())
        previous = supervisor.status
        supervisor.status, supervisor.term_start, supervisor.term_end = Status.ACTIVE, start, end
        await supervisor.save(update_fields=["status", "term_start", "term_end"])
        await Filing.create(supervisor=supervisor, term_start=start, term_end=end,
                            requested_at=clock.now())
        await record_event(supervisor, principal.actor, "RENEWED", from_status=previous,
                           to_status=Status.ACTIVE,
                           detail={"termStart": start.isoformat(), "termEnd": end.isoformat()})
    return supervisor
