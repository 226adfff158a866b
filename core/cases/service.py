"""Submitting a case and moving it: offices accept, decline, transfer, verify, decide and
close; agencies reply; the reporter adds information, rates and may reopen once (R4.3)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from tortoise.transactions import in_transaction

from core import audit, clock, holidays, writes
from core.agencies import service as agencies
from core.attachments import service as attachments
from core.cases import notify, rules
from core.cases.access import locked_case, relations
from core.cases.models import (
    Adoption,
    Case,
    CaseEvent,
    Category,
    DueRule,
    Finding,
    Kind,
    RecordType,
    State,
)
from core.errors import Forbidden, InvalidInput, InvalidTransition, NotFound, RuleViolation
from core.notifications.service import Notice
from core.principal import Principal
from core.private import mark_saved
from core.roster.models import ContactFirm, Status, Supervisor
from core.roster.proposals import propose
from core.roster.service import own_supervisor
from core.scoring import points
from core.scoring.models import PointEvent, ProposalKind
from core.validation import check_text
from policies.access import authorize, authorize_own_office
from tenants.directory import jurisdictions
from tenants.models import Jurisdiction, Level
from tenants.paths import city_of, within


def step(case: Case, principal: Principal | None, role: str, kind: str, *,
         to_state: State | None = None, note: str = "",
         detail: dict[str, Any] | None = None) -> list[writes.Write]:
    """A history row and its audit record, as writes of the caller's transaction or statement
    (core/writes.py); the case moves to `to_state`. The audit names the case, never the
    reporter (R4.4)."""
    actor = principal.actor if principal else audit.SYSTEM
    event = CaseEvent(
        case_id=case.id, kind=kind, at=clock.now(), actor_account_id=actor.id, actor_role=role,
        actor=actor.name, from_state=case.state.value if to_state else None,
        to_state=to_state.value if to_state else None, note=note, detail=detail or {})
    if to_state is not None:
        case.state = to_state
    return [writes.insert(event),
            audit.append(actor, f"case.{kind.lower()}", target_type="case", target_id=case.id,
                         jurisdiction=case.jurisdiction.path, detail=detail or {})]


async def record_step(case: Case, principal: Principal | None, role: str, kind: str, *,
                      to_state: State | None = None, note: str = "",
                      detail: dict[str, Any] | None = None, changed: bool = False,
                      notices: tuple[Notice, ...] = (),
                      also: tuple[writes.Write, ...] = ()) -> None:
    """A step of a case as one statement of the caller's transaction (core/writes.py): the
    case's row as it is after the step (when it moves to `to_state` or was `changed`), the
    step's other writes (points), its notices, then its history row and audit record. The
    audit append goes last: the chain's lock, which every audited write of the platform waits
    for, is held until the commit only."""
    stepped = step(case, principal, role, kind, to_state=to_state, note=note, detail=detail)
    row = (writes.update(case),) if changed or to_state is not None else ()
    await writes.run(*row, *also, *notify.notifying(case, notices), *stepped)


_case_keys = writes.Keys(Case)
SUBMISSION_POINTS = {Kind.REPORT: PointEvent.REPORT_SUBMITTED,
                     Kind.SUPERVISION_RECORD: PointEvent.SUPERVISION_RECORD_FILED}


@dataclass(frozen=True)
class Submission:
    kind: Kind
    category: Category
    agency_id: int
    title: str
    description: str
    occurred_at: datetime
    place: str = ""
    record_type: RecordType | None = None
    contact_firm_id: int | None = None
    attachment_ids: tuple[int, ...] = ()


async def submit_case(principal: Principal, submission: Submission) -> Case:
    """R3.1-R3.4, R5.3: an active supervisor reports, suggests, inquires, asks for documents
    or records on-site supervision, about any agency of their city. The case goes to the
    office that owns the agency; receipt is acknowledged at once."""
    reporter = await own_supervisor(principal)
    authorize(principal, "submit", "case", reporter.jurisdiction.path)
    if reporter.status is not Status.ACTIVE:
        raise RuleViolation("只有在任监督员可以提交", "Only active supervisors submit cases")
    agency = await agencies.kept.get(submission.agency_id)
    if agency is None or not within(agency.jurisdiction.path,
                                    city_of(reporter.jurisdiction.path)):
        raise NotFound("部门单位不存在", "No such agency", field="agencyId")
    if (submission.kind is Kind.SUPERVISION_RECORD) != (submission.record_type is not None):
        raise InvalidInput("现场监督记录须注明类型，其他案件不填",
                           "recordType goes with SUPERVISION_RECORD only", field="recordType")
    if submission.occurred_at > clock.now():
        raise InvalidInput("发生时间不能在将来", "occurredAt is in the future",
                           field="occurredAt")
    firm = None
    if submission.contact_firm_id is not None:
        firm = await ContactFirm.get_or_none(id=submission.contact_firm_id,
                                             supervisor_id=reporter.id, unlinked_at__isnull=True)
        if firm is None:
            raise NotFound("联系企业不存在", "No such contact firm", field="contactFirmId")
    title = check_text(submission.title, "title", maximum=200)
    description = check_text(submission.description, "description", maximum=5000)
    place = check_text(submission.place, "place", maximum=200, required=False)
    office = await notify.office_accounts(agency.jurisdiction.id)
    case = Case(
        id=await _case_keys.take(), kind=submission.kind, record_type=submission.record_type,
        category=submission.category, jurisdiction=agency.jurisdiction, agency=agency,
        reporter=reporter, contact_firm=firm, title=title, description=description, place=place,
        occurred_at=submission.occurred_at, submitted_at=clock.now())
    mark_saved(case)  # by the statement below, or not at all
    submitted = [
        writes.insert(case),
        *attachments.claiming(principal, submission.attachment_ids, case_id=case.id),
        *([points.awarding(reporter.id, SUBMISSION_POINTS[submission.kind],
                           f"case:{case.id}:submitted")]
          if submission.kind in SUBMISSION_POINTS else []),
        *notify.notifying(case, [
            Notice([principal.account_id], "RECEIPT", f"已收到您提交的第{case.id}号案件"),
            Notice(office, "NEW_CASE", f"新案件 第{case.id}号（{submission.kind.value}）")]),
        *step(case, principal, "REPORTER", "SUBMITTED", detail={"kind": submission.kind.value}),
    ]
    # One statement (core/writes.py), a transaction of its own: the case, its uploads, points,
    # notices, history and audit record are written together or not at all; the audit chain's
    # lock is held for that statement only. Uploads are checked after their claim, so then
    # the statement runs in a transaction that their check may undo.
    if not submission.attachment_ids:
        await writes.commit(*submitted)
        return case
    async with in_transaction():
        _, claimed, *_ = await writes.run(*submitted)  # the claim is the second write
        attachments.claimed(claimed, submission.attachment_ids)
    return case


async def _own_case(principal: Principal, case_id: int) -> Case:
    """A case the caller reported (else NOT_FOUND), locked."""
    case = await locked_case(principal, case_id)
    mine = await relations(principal)
    if case.reporter_id != mine.supervisor_id:
        raise Forbidden()
    return case


async def _handled_case(principal: Principal, case_id: int) -> Case:
    """A case the caller's own office handles (visible but not theirs: FORBIDDEN), locked,
    and decided on as it is under the lock."""
    case = await locked_case(principal, case_id)
    authorize_own_office(principal, "handle", "case", case.jurisdiction.path)
    return case


def _move(case: Case, action: str) -> State:
    target = rules.next_state(action, case.state)
    if target is None:
        raise InvalidTransition(f"当前状态（{case.state.value}）不能执行此操作",
                                f"Cannot {action} a case in state {case.state.value}")
    return target


async def _reporter_account(case: Case) -> list[int]:
    reporter = await Supervisor.get(id=case.reporter_id).only("account_id")
    return [reporter.account_id] if reporter.account_id else []


async def accept_case(principal: Principal, case_id: int) -> Case:
    async with in_transaction():
        case = await _handled_case(principal, case_id)
        target = _move(case, "accept")
        await record_step(case, principal, "OFFICE", "ACCEPTED", to_state=target, notices=(
            Notice(await _reporter_account(case), "ACCEPTED", f"第{case.id}号案件已受理"),))
    return case


async def decline_case(principal: Principal, case_id: int, reason: str) -> Case:
    reason = check_text(reason, "reason", maximum=2000)
    async with in_transaction():
        case = await _handled_case(principal, case_id)
        target = _move(case, "decline")
        case.closed_at = clock.now()
        await record_step(case, principal, "OFFICE", "DECLINED", note=reason, to_state=target,
                          notices=(Notice(await _reporter_account(case), "DECLINED",
                                          f"第{case.id}号案件不予受理：{reason}"),))
    return case


async def working_days_for(jurisdiction: Jurisdiction, kind: Kind) -> int:
    """The jurisdiction's own reply time for the kind, else the nearest ancestor's, else the
    default table."""
    rules_by_path = {r.jurisdiction.path: r.working_days for r in await DueRule.filter(
        kind=kind).select_related("jurisdiction")}
    path = jurisdiction.path
    while path:
        if path in rules_by_path:
            return rules_by_path[path]
        path = path.rpartition(".")[0]
    return rules.DEFAULT_WORKING_DAYS[kind]


async def transfer_case(principal: Principal, case_id: int, note: str,
                        working_days: int | None = None) -> Case:
    """转办: to the agency, due after the jurisdiction's working days for the kind (R5.1)."""
    note = check_text(note, "note", maximum=2000, required=False)
    if working_days is not None and not 1 <= working_days <= 60:
        raise InvalidInput("办理时限须为1至60个工作日", "workingDays must be 1 to 60",
                           field="workingDays")
    async with in_transaction():
        case = await _handled_case(principal, case_id)
        target = _move(case, "transfer")
        days = working_days or await working_days_for(case.jurisdiction, case.kind)
        now = clock.now()
        case.transferred_at = now
        case.due_at = (await holidays.calendar()).due_at(now, days)
        case.replied_at = None
        await record_step(case, principal, "OFFICE", "TRANSFERRED", note=note, to_state=target,
                          detail={"agency": case.agency.id, "workingDays": days,
                                  "dueAt": case.due_at.isoformat()},
                          notices=(Notice(await notify.agency_accounts(case.agency.id),
                                          "TRANSFERRED", f"第{case.id}号案件已转办贵单位，请于"
                                          f"{case.due_at.astimezone(clock.LOCAL_ZONE):%Y-%m-%d}"
                                          "前答复"),))
    return case


async def reply_case(principal: Principal, case_id: int, reply: str) -> Case:
    """The agency answers a case transferred to it (R5.1: inquiries and document requests
    must be answered by the due date)."""
    reply = check_text(reply, "reply", maximum=5000)
    async with in_transaction():
        case = await locked_case(principal, case_id)
        mine = await relations(principal)
        if case.agency_id != mine.agency_id:
            raise Forbidden()
        target = _move(case, "reply")
        now = clock.now()
        late = case.due_at is not None and now > case.due_at
        case.reply, case.replied_at = reply, now
        answered = (points.awarding(case.reporter_id, PointEvent.INQUIRY_ANSWERED,
                                    f"case:{case.id}:answered"),
                    ) if case.kind is Kind.INQUIRY else ()
        told = await notify.office_accounts(case.jurisdiction.id) + await _reporter_account(case)
        await record_step(case, principal, "AGENCY", "REPLIED", to_state=target,
                          detail={"late": late}, also=answered,
                          notices=(Notice(told, "REPLIED", f"第{case.id}号案件已答复"),))
    return case


async def verify_case(principal: Principal, case_id: int, finding: Finding,
                      major_lead: bool, note: str) -> Case:
    """查实: the office finds on a reply (not for suggestions, which are decided)."""
    note = check_text(note, "note", maximum=2000, required=False)
    async with in_transaction():
        case = await _handled_case(principal, case_id)
        if case.kind is Kind.SUGGESTION:
            raise InvalidTransition("意见建议须作采纳决定", "Suggestions are decided, not verified")
        target = _move(case, "verify")
        case.finding, case.major_lead = finding, major_lead
        if finding is not Finding.UNSUBSTANTIATED:
            await _score_substantiated(case, major_lead)
        await record_step(case, principal, "OFFICE", "VERIFIED", note=note, to_state=target,
                          detail={"finding": finding.value, "majorLead": major_lead},
                          notices=(Notice(await _reporter_account(case), "VERIFIED",
                                          f"第{case.id}号案件核查结果：{finding.value}"),))
    return case


async def _score_substantiated(case: Case, major_lead: bool) -> None:
    """R9.2 points for a substantiated report; R9.3 a reward proposal for a major lead."""
    reporter_id = case.reporter_id
    await points.award(reporter_id, PointEvent.REPORT_SUBSTANTIATED,
                       f"case:{case.id}:substantiated")
    if major_lead:
        await points.award(reporter_id, PointEvent.MAJOR_LEAD_SUBSTANTIATED,
                           f"case:{case.id}:major")
        await propose(reporter_id, ProposalKind.REWARD, f"重大线索经查实（第{case.id}号案件）",
                      f"major:{case.id}")


async def decide_suggestion(principal: Principal, case_id: int, adoption: Adoption,
                            reason: str) -> Case:
    """R7.4: the office adopts reasonable suggestions, in whole or in part, or says why not."""
    reason = check_text(reason, "reason", maximum=2000)
    async with in_transaction():
        case = await _handled_case(principal, case_id)
        if case.kind is not Kind.SUGGESTION:
            raise InvalidTransition("只有意见建议作采纳决定", "Only suggestions are decided")
        target = _move(case, "verify")
        case.adoption = adoption
        adopted = (points.awarding(case.reporter_id, PointEvent.SUGGESTION_ADOPTED,
                                   f"case:{case.id}:adopted"),
                   ) if adoption is not Adoption.NOT_ADOPTED else ()
        await record_step(case, principal, "OFFICE", "DECIDED", note=reason, to_state=target,
                          detail={"adoption": adoption.value}, also=adopted,
                          notices=(Notice(await _reporter_account(case), "DECIDED",
                                          f"第{case.id}号意见建议：{adoption.value}"),))
    return case


async def close_case(principal: Principal, case_id: int) -> Case:
    async with in_transaction():
        case = await _handled_case(principal, case_id)
        target = _move(case, "close")
        case.closed_at = clock.now()
        await record_step(case, principal, "OFFICE", "CLOSED", to_state=target, notices=(
            Notice(await _reporter_account(case), "CLOSED", f"第{case.id}号案件已办结，请评价"),))
    return case


async def rate_case(principal: Principal, case_id: int, rating: int) -> Case:
    """The reporter rates the handling of a closed case, once."""
    if not 1 <= rating <= 5:
        raise InvalidInput("评价须为1至5", "rating must be 1 to 5", field="rating")
    async with in_transaction():
        case = await _own_case(principal, case_id)
        if case.state is not State.CLOSED or case.rating is not None:
            raise InvalidTransition("只能对已办结案件评价一次", "Rate a closed case once")
        case.rating = rating
        await record_step(case, principal, "REPORTER", "RATED", detail={"rating": rating},
                          changed=True)
    return case


async def declare_unresolved(principal: Principal, case_id: int, reason: str) -> Case:
    """The reporter declares a closed case unresolved, once: it goes back to the office."""
    reason = check_text(reason, "reason", maximum=2000)
    async with in_transaction():
        case = await _own_case(principal, case_id)
        if case.reopened:
            raise InvalidTransition("每个案件只能申请重新办理一次", "A case reopens only once")
        target = _move(case, "reopen")
        case.reopened, case.closed_at = True, None
        await record_step(case, principal, "REPORTER", "REOPENED", note=reason, to_state=target,
                          notices=(Notice(await notify.office_accounts(case.jurisdiction.id),
                                          "REOPENED", f"第{case.id}号案件被申请重新办理"),))
    return case


async def add_information(principal: Principal, case_id: int, text: str,
                          attachment_ids: tuple[int, ...] = ()) -> Case:
    """The reporter adds information (and evidence) to an open case."""
    text = check_text(text, "text", maximum=5000)
    async with in_transaction():
        case = await _own_case(principal, case_id)
        if case.state not in rules.OPEN_STATES:
            raise InvalidTransition("案件已结束", "The case is no longer open")
        await attachments.claim(principal, attachment_ids, case_id=case.id)
        await record_step(case, principal, "REPORTER", "INFO_ADDED", note=text,
                          detail={"attachments": list(attachment_ids)}, notices=(
                              Notice(await notify.office_accounts(case.jurisdiction.id),
                                     "INFO_ADDED", f"第{case.id}号案件有补充材料"),))
    return case


async def recompute_due_dates() -> int:
    """R5.1: once a year's schedule is loaded (core/holidays.py), every transferred case not
    yet replied gets its due date counted again on the calendar as it now is, from its
    transfer and its working days; each change is a step of the case, audited, and told to the
    agency and the handling office (inside the loader's transaction). How many changed."""
    calendar = await holidays.calendar()
    cases = await Case.filter(state=State.TRANSFERRED, due_at__isnull=False,
                              transferred_at__isnull=False).select_related(
                                  "jurisdiction", "agency").select_for_update(
                                  of=("supervision_case",)).order_by("id")
    transfers = await _latest_transfers([c.id for c in cases])
    told: dict[tuple[int, int], list[int]] = {}
    changed = 0
    for case in cases:
        days = transfers.get(case.id, {}).get("workingDays")
        if not isinstance(days, int):
            continue
        assert case.transferred_at is not None and case.due_at is not None
        due = calendar.due_at(case.transferred_at, days)
        if due == case.due_at:
            continue
        before, case.due_at = case.due_at, due
        key = (case.agency.id, case.jurisdiction.id)
        if key not in told:
            told[key] = (await notify.agency_accounts(case.agency.id)
                         + await notify.office_accounts(case.jurisdiction.id))
        local = f"{due.astimezone(clock.LOCAL_ZONE):%Y-%m-%d}"
        await record_step(case, None, "SYSTEM", "DUE_RECOMPUTED", changed=True,
                          detail={"from": before.isoformat(), "to": due.isoformat()},
                          notices=(Notice(told[key], "DUE_RECOMPUTED",
                                          f"第{case.id}号案件办理期限按新公布的节假日安排调整为"
                                          f"{local}"),))
        changed += 1
    return changed


async def _latest_transfers(case_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Each case's latest TRANSFERRED step's detail (its working days), in one query."""
    rows = await CaseEvent.filter(case_id__in=case_ids, kind="TRANSFERRED").order_by(
        "case_id", "id").values("case_id", "detail")
    return {r["case_id"]: r["detail"] or {} for r in rows}  # the last of each case wins


async def load_holiday_year(year: int, source: str, days_off: list[date],
                            workdays: list[date], loaded_by: str = "system") -> int:
    """An operator's load of a year's published schedule (`python -m core load-holidays`):
    the year replaced, the open cases' due dates counted again, one audit record naming the
    year, its source and how many cases changed; all in one transaction. How many changed."""
    async with in_transaction():
        await holidays.replace_year(year, source, days_off, workdays, loaded_by)
        holidays.kept.clear()  # this process counts on the new calendar at once
        changed = await recompute_due_dates()
        await audit.record(audit.SYSTEM, "holidays.load", target_type="holiday_year",
                           target_id=year, detail={
                               "year": year, "source": source, "holidays": len(days_off),
                               "workdays": len(workdays), "recomputed": changed})
    return changed


async def set_due_rule(principal: Principal, jurisdiction: str, kind: Kind,
                       working_days: int) -> DueRule:
    """A jurisdiction's own reply time for a kind of case (its office, or one above)."""
    place = await jurisdictions.by_path(jurisdiction)
    if place is None or place.level is Level.PROVINCE:
        raise NotFound("辖区不存在", "No such jurisdiction", field="jurisdiction")
    authorize(principal, "handle", "case", place.path)
    if not 1 <= working_days <= 60:
        raise InvalidInput("办理时限须为1至60个工作日", "workingDays must be 1 to 60",
                           field="workingDays")
    async with in_transaction():
        rule, _ = await DueRule.update_or_create(
            jurisdiction=place, kind=kind, defaults={"working_days": working_days})
        await audit.record(principal.actor, "due_rule.set", target_type="due_rule",
                           target_id=rule.id, jurisdiction=place.path,
                           detail={"kind": kind.value, "workingDays": working_days})
    return rule
