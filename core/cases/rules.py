"""Pure rules of case handling: who moves a case from which state to which, its reply times,
and when it is overdue (its due date is counted on the official calendar, core/holidays.py)."""

from __future__ import annotations

from datetime import datetime

from tortoise.expressions import Q

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
