"""Pure rules of case handling: who moves a case from which state to which, and due dates in
working days of China's official calendar."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import chinese_calendar
from tortoise.expressions import Q

from core import clock
from core.cases.models import Case, Kind, State

# R5.1 / R7.4: default reply times in working days, unless a jurisdiction sets its own.
DEFAULT_WORKING_DAYS: dict[Kind, int] = {
    Kind.INQUIRY: 5,
    Kind.DOCUMENT_REQUEST: 5,
    Kind.REPORT: 15,
    Kind.SUPERVISION_RECORD: 15,
    Kind.SUGGESTION: 30,
}

# action -> (allowed from-states, to-state). R4.3: every action here but the reporter's
# rate/reopen belongs to offices or agencies.
TRANSITIONS: dict[str, tuple[frozenset[State], State]] = {
    "accept": (frozenset({State.SUBMITTED}), State.ACCEPTED),
    "decline": (frozenset({State.SUBMITTED}), State.DECLINED),
    "transfer": (frozenset({State.ACCEPTED}), State.TRANSFERRED),
    "reply": (frozenset({State.TRANSFERRED}), State.REPLIED),
    "verify": (frozenset({State.REPLIED}), State.VERIFIED),
    "close": (frozenset({State.VERIFIED}), State.CLOSED),
    "reopen": (frozenset({State.CLOSED}), State.ACCEPTED),
}
OPEN_STATES = frozenset({State.SUBMITTED, State.ACCEPTED, State.TRANSFERRED, State.REPLIED,
                         State.VERIFIED})


def next_state(action: str, current: State) -> State | None:
    """The state `action` leads to from `current`, or None when it is not allowed there."""
    allowed, target = TRANSITIONS[action]
    return target if current in allowed else None


def is_working_day(day: date) -> bool:
    """China's official calendar (holidays and adjusted working weekends) where the package
    has the year's data; for a year not yet published, Monday to Friday."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return day.weekday() < 5


def add_working_days(start: date, days: int) -> date:
    """The date `days` working days after `start` (the start day itself not counted)."""
    day = start
    counted = 0
    while counted < days:
        day += timedelta(days=1)
        counted += is_working_day(day)
    return day


def due_at(transferred: datetime, days: int) -> datetime:
    """The end (23:59:59 local time) of the last working day allowed for the reply."""
    local_day = transferred.astimezone(clock.LOCAL_ZONE).date()
    last = add_working_days(local_day, days)
    return datetime.combine(last, time(23, 59, 59), tzinfo=clock.LOCAL_ZONE)


# Overdue (R5.1, R7.1): transferred, and its reply past the due time. One rule, in the three
# forms its readers need: a case in hand, a filter of Tortoise's, and SQL.
def is_overdue(case: Case, now: datetime) -> bool:
    return case.state is State.TRANSFERRED and case.due_at is not None and case.due_at < now


def overdue_filter(now: datetime) -> Q:
    """The cases overdue at `now` (partial index on open transferred cases)."""
    return Q(state=State.TRANSFERRED, due_at__lt=now)


def overdue_sql(now: str, state: str = "state", due_at: str = "due_at") -> str:
    """The condition in SQL over the columns named, `now` an expression of the time."""
    return f"({state} = 'TRANSFERRED' AND {due_at} IS NOT NULL AND {due_at} < {now})"
