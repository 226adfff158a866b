"""Demo cases: a few hundred over the last year, of every kind and in every state, spread
over the city's agencies, some overdue and some under supervision orders. Deterministic."""

from __future__ import annotations

import random
from datetime import timedelta

from core import clock, holidays
from core.agencies.models import Agency
from core.cases import rules
from core.cases.models import (
    Adoption,
    Case,
    CaseEvent,
    Category,
    Finding,
    Kind,
    RecordType,
    State,
    SupervisionOrder,
)
from core.holidays import Calendar
from core.roster.models import Status, Supervisor
from tenants.models import Jurisdiction

CASES = 320
_PATH = [State.SUBMITTED, State.ACCEPTED, State.TRANSFERRED, State.REPLIED, State.VERIFIED,
         State.CLOSED]
_TITLES = {
    Kind.REPORT: "窗口工作人员态度生硬、推诿扯皮",
    Kind.SUGGESTION: "建议推行企业开办一网通办",
    Kind.INQUIRY: "关于涉企收费标准依据的质询",
    Kind.DOCUMENT_REQUEST: "申请查阅营商环境相关规范性文件",
    Kind.SUPERVISION_RECORD: "政务服务大厅现场监督记录",
}


async def seed_cases(city: str) -> int:
    """Create the demo cases unless there are some; returns how many."""
    if await Case.exists():
        return 0
    rnd = random.Random(2021)  # noqa: S311 -- reproducible demo data, not secrets
    reporters = await Supervisor.filter(status=Status.ACTIVE).select_related(
        "jurisdiction").order_by("id")
    agencies = await Agency.filter(jurisdiction__path__startswith=city).select_related(
        "jurisdiction").order_by("id")
    if not reporters or not agencies:
        return 0
    now = clock.now()
    calendar = await holidays.calendar()
    combos = [(k, f) for k in Kind for f in [*_PATH, State.DECLINED]]
    cases: list[Case] = []
    steps: list[tuple[int, CaseEvent]] = []
    for n in range(CASES):
        kind = rnd.choices(list(Kind), weights=[40, 20, 12, 8, 20])[0]
        final = rnd.choices([*_PATH, State.DECLINED], weights=[6, 6, 14, 10, 10, 48, 6])[0]
        if n < len(combos):  # every kind in every state at least once
            kind, final = combos[n]
        agency = agencies[n * 7 % len(agencies)]
        submitted = now - timedelta(days=rnd.uniform(1, 365))
        case = Case(
            kind=kind, record_type=rnd.choice(list(RecordType))
            if kind is Kind.SUPERVISION_RECORD else None,
            category=rnd.choice(list(Category)), state=State.SUBMITTED,
            jurisdiction_id=agency.jurisdiction.id, agency=agency,
            reporter=rnd.choice(reporters), title=_TITLES[kind],
            description=f"{agency.name}：{_TITLES[kind]}（演示数据）", place=agency.name,
            occurred_at=submitted - timedelta(hours=rnd.uniform(1, 72)), submitted_at=submitted)
        steps += [(n, e) for e in _walk(rnd, case, kind, agency, final, calendar)]
        cases.append(case)
    await Case.bulk_create(cases)
    ids = [c.id for c in await Case.all().order_by("id").only("id")]
    for index, event in steps:
        event.case_id = ids[index]
    await CaseEvent.bulk_create([e for _, e in steps])
    cases = await Case.all().order_by("id")
    overdue = [c for c in cases if c.state is State.TRANSFERRED and c.due_at
               and c.due_at < now]
    city_place = await Jurisdiction.get(path=city)
    await SupervisionOrder.bulk_create([
        SupervisionOrder(case=c, issued_by=city_place, note="请抓紧办理并按期答复",
                         issued_at=now - timedelta(days=1), issuer="admin.th",
                         acknowledged_at=now if i % 2 else None,
                         acknowledged_by="system" if i % 2 else None)
        for i, c in enumerate(overdue[:12]) if c.jurisdiction_id != city_place.id])
    return len(cases)


def _walk(rnd: random.Random, case: Case, kind: Kind, agency: Agency, final: State,
          calendar: Calendar) -> list[CaseEvent]:
    """Move the (unsaved) case step by step to its final state; returns its history rows."""
    at = case.submitted_at
    events: list[CaseEvent] = []

    def step(name: str, to: State | None, role: str, actor: str,
             detail: dict[str, int] | None = None) -> None:
        events.append(CaseEvent(kind=name, at=at, actor_role=role, actor=actor,
                                from_state=case.state.value if to else None,
                                to_state=to.value if to else None, note="",
                                detail=detail or {}))
        if to is not None:
            case.state = to

    office = f"admin.{agency.jurisdiction.code}"
    step("SUBMITTED", None, "REPORTER", "reporter")
    if final is State.DECLINED:
        at += timedelta(days=1)
        step("DECLINED", State.DECLINED, "OFFICE", office)
        case.closed_at = at
        return events
    for target in _PATH[1:_PATH.index(final) + 1]:
        at += timedelta(days=rnd.uniform(0.5, 3))
        if target is State.ACCEPTED:
            step("ACCEPTED", target, "OFFICE", office)
        elif target is State.TRANSFERRED:
            case.transferred_at = at
            days = rules.DEFAULT_WORKING_DAYS[kind]
            case.due_at = calendar.due_at(at, days)
            step("TRANSFERRED", target, "OFFICE", office, {"workingDays": days})
        elif target is State.REPLIED:
            at = (case.transferred_at or at) + timedelta(days=rnd.uniform(1, 25))
            case.replied_at, case.reply = at, "已核实情况并整改，现予答复。"
            step("REPLIED", target, "AGENCY", f"ag.{agency.jurisdiction.code}.{agency.code}")
        elif target is State.VERIFIED:
            if kind is Kind.SUGGESTION:
                case.adoption = rnd.choice(list(Adoption))
                step("DECIDED", target, "OFFICE", office)
            else:
                case.finding = rnd.choice(list(Finding))
                case.major_lead = case.finding is Finding.SUBSTANTIATED and rnd.random() < 0.1
                step("VERIFIED", target, "OFFICE", office)
        else:
            case.closed_at = at
            step("CLOSED", target, "OFFICE", office)
            if rnd.random() < 0.6:
                case.rating = rnd.randint(3, 5)
    return events
