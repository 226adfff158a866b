"""Reading the roster through scope(), and the steps every roster operation shares."""

from __future__ import annotations

import copy
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from core import audit, clock
from core.errors import InvalidInput, NotFound
from core.kept import Kept
from core.pagination import Keyed, Page, Window, window
from core.principal import AccountKind, Principal
from core.roster.models import Category, Group, Status, Supervisor, SupervisorEvent
from policies.access import authorize, authorize_own_office, readable, readable_value
from tenants.directory import jurisdictions


def _visible(principal: Principal, allowed: Q) -> Q:
    """Offices see the supervisors of the jurisdictions in their scope; a supervisor sees
    their own record (ownership is a relation, not a role); anyone else sees none. The OR is
    added for supervisors only, so that an office's list stays an index scan."""
    condition = allowed
    if principal.kind is AccountKind.SUPERVISOR:
        condition |= Q(account_id=principal.account_id)
    return condition


async def _readable(principal: Principal) -> tuple[Q, Hashable]:
    """The filter of the supervisors the caller may read, and a key that names it."""
    allowed = await readable_value(principal, "read", "supervisor")
    own = principal.account_id if principal.kind is AccountKind.SUPERVISOR else None
    return _visible(principal, allowed.condition()), (allowed, own)


async def supervisor_query(principal: Principal, supervisor_id: int) -> QuerySet[Supervisor]:
    """The query of `get_supervisor`'s supervisor, nothing read yet."""
    return (await supervisor_rows(principal, supervisor_id)).query


async def supervisor_rows(principal: Principal, supervisor_id: int) -> Keyed[Supervisor]:
    """`supervisor_query`, keyed by what it depends on but the id."""
    condition, key = await _readable(principal)
    return Keyed(Supervisor, lambda found: Supervisor.filter(condition, id=found),
                 ("supervisor", key), (supervisor_id,))


async def get_supervisor(principal: Principal, supervisor_id: int) -> Supervisor:
    """One supervisor the caller may read; NOT_FOUND otherwise."""
    found = await (await supervisor_query(principal, supervisor_id)).select_related(
        "jurisdiction").first()
    if found is None:
        raise NotFound("监督员不存在", "No such supervisor", field="id")
    return found


async def managed_supervisor(principal: Principal, supervisor_id: int,
                             *, lock: bool = False, home_office: bool = False) -> Supervisor:
    """A supervisor the caller may manage (supervisor:manage at its home jurisdiction).
    Read scope first, so that what the caller cannot see is NOT_FOUND, not FORBIDDEN.

    R7.1 `home_office`: for the acts the Measures leave to the home office (属地软环境办):
    renewal (R2.1), dismissal (R2.3-R2.5), discipline (R4.5, R9.4), rewards and penalties
    (R9.3) and points. An upper office oversees these; it does not act for the county, so
    only a grant on the supervisor's own jurisdiction counts."""
    found = await get_supervisor(principal, supervisor_id)
    if home_office:
        authorize_own_office(principal, "manage", "supervisor", found.jurisdiction.path)
    else:
        authorize(principal, "manage", "supervisor", found.jurisdiction.path)
    if lock:  # re-read under a row lock (no join: FOR UPDATE refuses outer joins)
        locked = await Supervisor.filter(id=found.id).select_for_update().first()
        assert locked is not None
        locked.jurisdiction = found.jurisdiction
        return locked
    return found


async def _own_record(account_id: int) -> Supervisor | None:
    return await Supervisor.filter(account_id=account_id).select_related("jurisdiction").first()


# Each account's supervisor record, kept while this process listens: migration 0013 notifies
# CHANNEL from a trigger on the table, whoever changes it. Reading it was a fifth of a
# submission's time (at size M, served).
CHANNEL = "supervisor"
own_records: Kept[int, Supervisor] = Kept(_own_record)


async def own_supervisor(principal: Principal) -> Supervisor:
    """The supervisor record linked to the caller's account (a copy of the kept one: callers
    may change and save it)."""
    found = await own_records.get(principal.account_id)
    if found is None:
        raise NotFound("当前账号不是监督员", "This account is not a supervisor")
    return copy.copy(found)


async def record_event(supervisor: Supervisor, actor: audit.Actor, kind: str, *,
                       from_status: Status | None = None, to_status: Status | None = None,
                       note: str = "", detail: dict[str, Any] | None = None
                       ) -> SupervisorEvent:
    """Append a history row (and the audit record) for one step; call inside the transaction
    that makes the change."""
    event = await SupervisorEvent.create(
        supervisor=supervisor, kind=kind, at=clock.now(), actor=actor.name,
        from_status=from_status.value if from_status else None,
        to_status=to_status.value if to_status else None, note=note, detail=detail or {},
    )
    await audit.record(actor, f"supervisor.{kind.lower()}", target_type="supervisor",
                       target_id=supervisor.id, jurisdiction=supervisor.jurisdiction.path,
                       detail={**(detail or {}), **({"to": to_status.value} if to_status else {})})
    return event


@dataclass(frozen=True)
class SupervisorFilter:
    jurisdiction: str | None = None
    status: Status | None = None
    category: Category | None = None
    is_special: bool | None = None
    group_id: int | None = None
    search: str | None = None


async def list_supervisors(principal: Principal, flt: SupervisorFilter, first: int,
                           after: int | None) -> Page[Supervisor]:
    """The supervisors the caller may read, filtered, by keyset."""
    return await (await supervisors_window(principal, flt, first, after)).page()


async def supervisors_window(principal: Principal, flt: SupervisorFilter, first: int,
                             after: int | None) -> Window[Supervisor]:
    """Where the page of `list_supervisors` lies (the filter checked, nothing read yet)."""
    allowed, key = await _readable(principal)
    wanted: dict[str, Any] = {}  # one filter: each call copies the query set
    if flt.jurisdiction is not None:
        place = await jurisdictions.by_path(flt.jurisdiction)
        if place is None:
            raise NotFound("辖区不存在", "No such jurisdiction", field="jurisdiction")
        wanted["jurisdiction_id"] = place.id
    if flt.status is not None:
        wanted["status"] = flt.status
    if flt.category is not None:
        wanted["category"] = flt.category
    if flt.is_special is not None:
        wanted["is_special"] = flt.is_special
    if flt.group_id is not None:
        wanted["group_id"] = flt.group_id
    if flt.search:
        term = flt.search.strip()
        if len(term) > 50:
            raise InvalidInput("搜索词过长", "Search term too long", field="search")
        wanted["name__contains"] = term
    query = Supervisor.filter(allowed, **wanted)
    return window(query, first, after, key=("supervisors", key, tuple(wanted.items())))


async def get_group(principal: Principal, group_id: int) -> Group:
    found = await Group.filter(await readable(principal, "read", "supervisor"), id=group_id
                               ).select_related(
        "jurisdiction").first()
    if found is None:
        raise NotFound("分组不存在", "No such group", field="groupId")
    return found
