"""Pure rules of case handling: who moves a case from which state to which, and due dates in
working days of China's official calendar (held as data, core/holidays.py)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

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


# The statutory holidays on fixed dates (全国年节及纪念日放假办法: New Year's Day, Labour Day,
# National Day): what is certain of a year whose schedule is not yet published.
FIXED_HOLIDAYS = frozenset({(1, 1), (5, 1), (5, 2), (10, 1), (10, 2), (10, 3)})


@dataclass(frozen=True)
class Calendar:
    """China's official calendar as the platform holds it (core/holidays.py): for each year
    whose schedule was loaded, its holidays and its adjusted working weekends; any other day
    of such a year is a working day from Monday to Friday. A year not loaded counts Monday to
    Friday less the fixed-date statutory holidays, and what it decides is provisional."""

    known_years: frozenset[int]
    exceptions: Mapping[date, bool]  # a holiday: False; an adjusted working weekend: True

    def is_working_day(self, day: date) -> bool:
        if day in self.exceptions:
            return self.exceptions[day]
        if day.year not in self.known_years and (day.month, day.day) in FIXED_HOLIDAYS:
            return False
        return day.weekday() < 5

    def add_working_days(self, start: date, days: int) -> date:
        """The date `days` working days after `start` (the start day itself not counted)."""
        day = start
        counted = 0
        while counted < days:
            day += timedelta(days=1)
            counted += self.is_working_day(day)
        return day

    def due_at(self, transferred: datetime, days: int) -> datetime:
        """R5.1: the end (23:59:59 local time) of the last working day allowed for the
        reply."""
        local_day = transferred.astimezone(clock.LOCAL_ZONE).date()
        last = self.add_working_days(local_day, days)
        return datetime.combine(last, time(23, 59, 59), tzinfo=clock.LOCAL_ZONE)

    def provisional(self, transferred: datetime, due: datetime) -> bool:
        """Whether a due date counted days of a year whose schedule is not loaded."""
        first = transferred.astimezone(clock.LOCAL_ZONE).year
        last = due.astimezone(clock.LOCAL_ZONE).year
        return any(year not in self.known_years for year in range(first, last + 1))


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
