"""Leaving the roster, each path with its precondition (R2.3, R2.4, R2.5), and the discipline
ladder up to removal (R4.5, R9.4)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from tortoise.transactions import in_transaction

from core import clock
from core.accounts.models import Account
from core.errors import InvalidTransition, NotFound, RuleViolation
from core.principal import Principal
from core.roster.filing import revoke_certificates
from core.roster.models import (
    Discipline,
    DisciplineKind,
    Status,
    Supervisor,
    SupervisorEvent,
    Violation,
)
from core.roster.service import managed_supervisor, own_supervisor, record_event
from core.scoring import points
from core.scoring.models import PointEvent
from core.validation import check_text


class DismissalReason(StrEnum):
    HEALTH_OR_INCAPACITY = "HEALTH_OR_INCAPACITY"  # R2.3
    RESIGNATION = "RESIGNATION"                    # R2.4
    UNFIT = "UNFIT"                                # R2.5


# Events that, in the current term, satisfy a path's precondition.
CONSULTED = "UNIT_CONSULTED"
RESIGNATION_REQUESTED = "RESIGNATION_REQUESTED"
UNIT_CONSENTED = "UNIT_CONSENTED"


async def _has_event(supervisor: Supervisor, kind: str) -> bool:
    return await SupervisorEvent.filter(supervisor=supervisor, kind=kind,
                                        at__gte=_term_began(supervisor)).exists()


def _term_began(supervisor: Supervisor) -> datetime:
    return clock.local_midnight(supervisor.term_start)


async def _active(principal: Principal, supervisor_id: int) -> Supervisor:
    supervisor = await managed_supervisor(principal, supervisor_id, lock=True,
                                          home_office=True)
    if supervisor.status is not Status.ACTIVE:
        raise InvalidTransition("该监督员不在任", "This supervisor is not active")
    return supervisor


async def record_consultation(principal: Principal, supervisor_id: int, note: str) -> Supervisor:
    """R2.3: the home office has consulted the recommending unit about the supervisor's
    health or other incapacity."""
    note = check_text(note, "note", maximum=2000)
    async with in_transaction():
        supervisor = await _active(principal, supervisor_id)
        await record_event(supervisor, principal.actor, CONSULTED, note=note)
    return supervisor


async def request_resignation(principal: Principal, reason: str) -> Supervisor:
    """R2.4: the supervisor asks to resign (their own request, from their own account)."""
    reason = check_text(reason, "reason", maximum=2000)
    async with in_transaction():
        supervisor = await own_supervisor(principal)
        if supervisor.status is not Status.ACTIVE:
            raise InvalidTransition("该监督员不在任", "This supervisor is not active")
        if await _has_event(supervisor, RESIGNATION_REQUESTED):
            raise InvalidTransition("已提出辞职申请", "Resignation already requested")
        await record_event(supervisor, principal.actor, RESIGNATION_REQUESTED, note=reason)
    return supervisor


async def record_unit_consent(principal: Principal, supervisor_id: int, note: str
                              ) -> Supervisor:
    """R2.4: the recommending unit consents to the resignation (recorded by the office)."""
    note = check_text(note, "note", maximum=2000)
    async with in_transaction():
        supervisor = await _active(principal, supervisor_id)
        if not await _has_event(supervisor, RESIGNATION_REQUESTED):
            raise InvalidTransition("监督员尚未提出辞职", "The supervisor has not asked to resign")
        await record_event(supervisor, principal.actor, UNIT_CONSENTED, note=note)
    return supervisor


async def _uncorrected_reminder_or_warning(supervisor: Supervisor) -> bool:
    return await Discipline.filter(
        supervisor=supervisor, kind__in=[DisciplineKind.REMINDER, DisciplineKind.WARNING],
        corrected_at__isnull=True).exists()


async def dismiss_supervisor(principal: Principal, supervisor_id: int,
                             reason: DismissalReason, note: str) -> Supervisor:
    """The home office dismisses (解聘), each reason with its precondition:
    R2.3 HEALTH_OR_INCAPACITY after consulting the recommending unit; R2.4 RESIGNATION on
    the supervisor's own request with the unit's consent; R2.5 UNFIT after a reminder or
    warning that was not corrected. The certificate is revoked and the account closed."""
    note = check_text(note, "note", maximum=2000)
    async with in_transaction():
        supervisor = await _active(principal, supervisor_id)
        if reason is DismissalReason.HEALTH_OR_INCAPACITY and not await _has_event(
                supervisor, CONSULTED):
            raise RuleViolation("须先征求推荐单位意见（R2.3）",
                                "Consult the recommending unit first (R2.3)", field="reason")
        if reason is DismissalReason.RESIGNATION and not (
                await _has_event(supervisor, RESIGNATION_REQUESTED)
                and await _has_event(supervisor, UNIT_CONSENTED)):
            raise RuleViolation("须有本人辞职申请和推荐单位同意（R2.4）",
                                "Needs the supervisor's request and the unit's consent (R2.4)",
                                field="reason")
        if reason is DismissalReason.UNFIT and not await _uncorrected_reminder_or_warning(
                supervisor):
            raise RuleViolation("须有未改正的提醒或告诫（R2.5）",
                                "Needs an uncorrected reminder or warning (R2.5)",
                                field="reason")
        await _end_service(principal, supervisor, Status.DISMISSED, "DISMISSED",
                           note, {"reason": reason.value})
    return supervisor


async def _end_service(principal: Principal, supervisor: Supervisor, status: Status,
                       kind: str, note: str, detail: dict[str, str]) -> None:
    await record_event(supervisor, principal.actor, kind, from_status=supervisor.status,
                       to_status=status, note=note, detail=detail)
    supervisor.status = status
    await supervisor.save(update_fields=["status"])
    await revoke_certificates(supervisor)
    if supervisor.account_id is not None:
        await Account.filter(id=supervisor.account_id).update(
            is_active=False)


async def record_discipline(principal: Principal, supervisor_id: int, kind: DisciplineKind,
                            reason: str, violation: Violation = Violation.OTHER) -> Discipline:
    """R4.5: criticism and education; for serious violations a warning up to removal (除名);
    for especially serious ones referral for legal accountability. REMOVAL ends the service
    as REMOVED (R9.4). `violation` names the duty broken: R4.1 private gain, R4.2 gifts and
    entertainment, R4.3 overreach, R4.4 leaks, or neglect."""
    reason = check_text(reason, "reason", maximum=2000)
    async with in_transaction():
        supervisor = await _active(principal, supervisor_id)
        discipline = await Discipline.create(supervisor=supervisor, kind=kind, reason=reason,
                                             violation=violation, at=clock.now(),
                                             actor=principal.username)
        await record_event(supervisor, principal.actor, "DISCIPLINE", note=reason,
                           detail={"kind": kind.value, "violation": violation.value,
                                   "discipline": discipline.id})
        await points.award(supervisor.id, PointEvent.DISCIPLINE, f"discipline:{discipline.id}")
        if kind is DisciplineKind.REMOVAL:
            await _end_service(principal, supervisor, Status.REMOVED, "REMOVED", reason,
                               {"discipline": str(discipline.id)})
    return discipline


async def record_correction(principal: Principal, discipline_id: int, note: str) -> Discipline:
    """R2.5: the supervisor corrected after a reminder or warning; it no longer supports an
    UNFIT dismissal."""
    note = check_text(note, "note", maximum=2000)
    found = await Discipline.filter(id=discipline_id).select_related(
        "supervisor__jurisdiction").first()
    if found is None:
        raise NotFound("处分记录不存在", "No such discipline record", field="id")
    supervisor = await managed_supervisor(principal, found.supervisor.id, home_office=True)
    if found.kind not in (DisciplineKind.REMINDER, DisciplineKind.WARNING):
        raise InvalidTransition("只有提醒和告诫可以记录改正",
                                "Only reminders and warnings are corrected")
    if found.corrected_at is not None:
        raise InvalidTransition("已记录改正", "Correction already recorded")
    async with in_transaction():
        found.corrected_at = clock.now()
        await found.save(update_fields=["corrected_at"])
        await record_event(supervisor, principal.actor, "CORRECTED", note=note,
                           detail={"discipline": found.id})
    return found
