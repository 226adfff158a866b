"""Rewards (R9.3) and penalties (R9.4, R2.5) the platform proposes and an office confirms."""

from __future__ import annotations

from tortoise.transactions import in_transaction

from core import audit, clock, orm
from core.errors import InvalidTransition, NotFound
from core.pagination import Page, keyset
from core.principal import Principal
from core.roster.dismissal import record_discipline
from core.roster.models import DisciplineKind
from core.roster.service import managed_supervisor, record_event
from core.scoring.models import Proposal, ProposalKind, ProposalStatus
from policies.access import readable


async def propose(supervisor_id: int, kind: ProposalKind, reason: str, source: str) -> bool:
    """Propose once per `source` (inside the caller's transaction)."""
    rows = await orm.client().execute_query_dict(
        "INSERT INTO proposal (supervisor_id, kind, reason, source, status, created_at) "
        "VALUES ($1, $2, $3, $4, 'PROPOSED', $5) ON CONFLICT (source) DO NOTHING RETURNING id",
        [supervisor_id, kind.value, reason[:300], source, clock.now()])
    return bool(rows)


async def list_proposals(principal: Principal, status: ProposalStatus | None, first: int,
                         after: int | None) -> Page[Proposal]:
    query = Proposal.filter(await readable(principal, "manage", "supervisor", via="supervisor__")
                            ).select_related("supervisor")
    if status is not None:
        query = query.filter(status=status)
    return await keyset(query, first, after)


async def decide(principal: Principal, proposal_id: int, confirm: bool) -> Proposal:
    """The office confirms or rejects. A confirmed reminder or warning is recorded as
    discipline (R4.5); a confirmed reward in the supervisor's history (R9.3)."""
    found = await Proposal.get_or_none(id=proposal_id)
    if found is None:
        raise NotFound("建议不存在", "No such proposal", field="id")
    supervisor = await managed_supervisor(
        principal, found.supervisor_id, home_office=True)
    async with in_transaction():
        # Decided under the proposal's lock: a double click confirms once (R9.4, R4.5).
        found = await Proposal.filter(id=proposal_id).select_for_update().first()
        assert found is not None
        if found.status is not ProposalStatus.PROPOSED:
            raise InvalidTransition("该建议已处理", "This proposal has been decided")
        found.status = ProposalStatus.CONFIRMED if confirm else ProposalStatus.REJECTED
        found.decided_by, found.decided_at = principal.username, clock.now()
        await found.save()
        if confirm and found.kind is ProposalKind.REWARD:
            await record_event(supervisor, principal.actor, "REWARDED", note=found.reason)
        elif confirm:
            await record_discipline(principal, supervisor.id, DisciplineKind(found.kind.value),
                                    found.reason)
        await audit.record(principal.actor, f"proposal.{'confirm' if confirm else 'reject'}",
                           target_type="proposal", target_id=found.id,
                           jurisdiction=supervisor.jurisdiction.path,
                           detail={"kind": found.kind.value})
    return found
