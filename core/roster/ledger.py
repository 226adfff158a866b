"""The office's acts on a supervisor's points (R9.2): a manual adjustment with its reason,
and the ledger read, by the office that manages the supervisor."""

from __future__ import annotations

from tortoise.transactions import in_transaction

from core import audit, clock
from core.errors import InvalidInput
from core.pagination import Page, keyset
from core.principal import Principal
from core.roster.service import get_supervisor, managed_supervisor
from core.scoring.models import PointEntry, PointEvent
from core.validation import check_text


async def adjust(principal: Principal, supervisor_id: int, points: int, reason: str
                 ) -> PointEntry:
    """A manual adjustment, with a reason, by the office that manages the supervisor."""
    reason = check_text(reason, "reason", maximum=300)
    if points == 0 or abs(points) > 1000:
        raise InvalidInput("调整分值须在±1000以内且不为0", "points: non-zero, at most ±1000",
                           field="points")
    supervisor = await managed_supervisor(principal, supervisor_id, home_office=True)
    async with in_transaction():
        entry = await PointEntry.create(
            supervisor=supervisor, event=PointEvent.ADJUSTMENT, points=points,
            source=f"adjust:{supervisor.id}:{clock.now().timestamp()}", reason=reason,
            actor=principal.username, at=clock.now())
        await audit.record(principal.actor, "points.adjust", target_type="supervisor",
                           target_id=supervisor.id, jurisdiction=supervisor.jurisdiction.path,
                           detail={"points": points, "reason": reason})
    return entry


async def ledger(principal: Principal, supervisor_id: int, first: int, after: int | None
                 ) -> Page[PointEntry]:
    await get_supervisor(principal, supervisor_id)
    return await keyset(PointEntry.filter(supervisor_id=supervisor_id), first, after)
