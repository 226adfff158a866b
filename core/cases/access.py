"""Who sees which cases: offices through scope(), a supervisor their own reports, an agency
the cases transferred to it. Everything else about a case is NOT_FOUND."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from datetime import datetime

from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from core import clock
from core.agencies import service as agencies
from core.cases.models import Case, Kind, State
from core.cases.models import Category as CaseCategory
from core.cases.rules import overdue_filter
from core.errors import InvalidInput, NotFound
from core.pagination import Keyed, Page, Window, keyset, window
from core.principal import AccountKind, Principal
from core.roster import service as roster
from policies.access import readable, readable_value, scope
from tenants.directory import jurisdictions

# An agency sees a case once it has been transferred to it.
AGENCY_STATES = (State.TRANSFERRED, State.REPLIED, State.VERIFIED, State.CLOSED)


@dataclass(frozen=True)
class Relations:
    """What ties the caller to cases besides scope: their supervisor record or agency."""

    supervisor_id: int | None
    agency_id: int | None


async def relations(principal: Principal) -> Relations:
    if principal.kind is AccountKind.SUPERVISOR:  # both kept while the process listens
        own = await roster.own_records.get(principal.account_id)
        return Relations(own.id if own else None, None)
    if principal.kind is AccountKind.AGENCY:
        return Relations(None, await agencies.staff_agency.get(principal.account_id))
    return Relations(None, None)


async def visibility(principal: Principal) -> tuple[Q, Hashable]:
    """The filter of every case the caller may read: the readable predicate of its scope,
    and its ties besides scope; and a key that names it."""
    allowed = await readable_value(principal, "read", "case")
    mine = await relations(principal)
    condition = allowed.condition()
    if mine.supervisor_id is not None:
        condition |= Q(reporter_id=mine.supervisor_id)
    if mine.agency_id is not None:
        condition |= Q(agency_id=mine.agency_id, state__in=list(AGENCY_STATES))
    return condition, (allowed, mine)


async def visible(principal: Principal) -> Q:
    """The filter of every case the caller may read."""
    return (await visibility(principal))[0]


async def get_case(principal: Principal, case_id: int) -> Case:
    """A case the caller may see (else NOT_FOUND), with its jurisdiction, agency and reporter
    read in the same statement: whether the caller may see the reporter (R4.4) is decided
    only when it is asked for (confidentiality.visible_reporters), which then needs no read
    of its own."""
    found = await (await case_query(principal, case_id)).select_related(
        "jurisdiction", "agency", "reporter").first()
    if found is None:
        raise NotFound("案件不存在", "No such case", field="id")
    return found


async def locked_case(principal: Principal, case_id: int) -> Case:
    """A case the caller may see (else NOT_FOUND), locked for the caller's transaction and
    read again under the lock, its jurisdiction and agency as the locked row names them: a
    step decides on the case as it is, not as it was before a concurrent step (an escalation
    committed meanwhile has moved it to the city)."""
    seen = await get_case(principal, case_id)
    locked = await Case.filter(id=seen.id).select_for_update().first()
    if locked is None:
        raise NotFound("案件不存在", "No such case", field="id")
    moved = (locked.jurisdiction_id != seen.jurisdiction.id
             or locked.agency_id != seen.agency.id)
    if not moved:
        locked.jurisdiction, locked.agency = seen.jurisdiction, seen.agency
        return locked
    again = await get_case(principal, case_id)  # moved: may no longer be the caller's to see
    locked.jurisdiction, locked.agency = again.jurisdiction, again.agency
    return locked


async def case_query(principal: Principal, case_id: int) -> QuerySet[Case]:
    """The query of `get_case`'s case, nothing read yet."""
    return (await case_rows(principal, case_id)).query


async def case_rows(principal: Principal, case_id: int) -> Keyed[Case]:
    """`case_query`, keyed by what it depends on but the id."""
    condition, key = await visibility(principal)
    return Keyed(Case, lambda found: Case.filter(condition, id=found), ("case", key),
                 (case_id,))


def handled_paths(principal: Principal) -> frozenset[str]:
    """R4.4: the jurisdictions whose cases the caller handles as that office's own staff
    (an exact grant, never a subtree grant from above)."""
    return scope(principal, "handle", "case").paths


@dataclass(frozen=True)
class CaseFilter:
    state: State | None = None
    kind: Kind | None = None
    category: CaseCategory | None = None
    agency_id: int | None = None
    jurisdiction: str | None = None
    overdue: bool | None = None
    submitted_from: datetime | None = None
    submitted_to: datetime | None = None
    mine: bool = False


async def _filtered(base: Q, flt: CaseFilter, principal: Principal) -> Q:
    condition = base
    if flt.state is not None:
        condition &= Q(state=flt.state)
    if flt.kind is not None:
        condition &= Q(kind=flt.kind)
    if flt.category is not None:
        condition &= Q(category=flt.category)
    if flt.agency_id is not None:
        condition &= Q(agency_id=flt.agency_id)
    if flt.jurisdiction is not None:
        place = await jurisdictions.by_path(flt.jurisdiction)
        if place is None:
            raise NotFound("辖区不存在", "No such jurisdiction", field="jurisdiction")
        condition &= Q(jurisdiction_id=place.id)
    if flt.overdue is True:
        condition &= overdue_filter(clock.now())
    elif flt.overdue is False:
        condition &= ~overdue_filter(clock.now())
    if flt.submitted_from and flt.submitted_to and flt.submitted_from > flt.submitted_to:
        raise InvalidInput("起止时间颠倒", "`from` is after `to`", field="from")
    if flt.submitted_from is not None:
        condition &= Q(submitted_at__gte=flt.submitted_from)
    if flt.submitted_to is not None:
        condition &= Q(submitted_at__lt=flt.submitted_to)
    if flt.mine:
        mine = await relations(principal)
        condition &= Q(reporter_id=mine.supervisor_id or 0)
    return condition


async def list_cases(principal: Principal, flt: CaseFilter, first: int, after: int | None
                     ) -> Page[Case]:
    """Cases through scope() plus ownership, filtered, by keyset."""
    return await (await cases_window(principal, flt, first, after)).page()


async def cases_window(principal: Principal, flt: CaseFilter, first: int, after: int | None
                       ) -> Window[Case]:
    """Where the page of `list_cases` lies (the filter checked, nothing read yet)."""
    base, key = await visibility(principal)
    condition = await _filtered(base, flt, principal)
    # the overdue filter holds the request's time: a window with it is built each time
    kept = None if flt.overdue is not None else ("cases", key, flt)
    return window(Case.filter(condition), first, after, key=kept)


async def list_oversight_cases(principal: Principal, flt: CaseFilter, first: int,
                               after: int | None) -> Page[Case]:
    """R7.2: the cases of every jurisdiction the caller shares oversight of (the whole city
    for each of its offices); reporter identities stay with the handling office."""
    condition = await _filtered(await readable(principal, "read", "oversight"), flt, principal)
    return await keyset(Case.filter(condition), first, after)
