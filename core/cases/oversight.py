"""Cross-level supervision (R7.1): overdue cases for the handling office and every office
above it, supervision orders (督办), escalation to the city office; and the city-wide
statistics every office shares (R7.2)."""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from tortoise.transactions import in_transaction

from core import clock
from core.cases import notify, tally
from core.cases.access import handled_paths, locked_case
from core.cases.models import Case, SupervisionOrder
from core.cases.rules import OPEN_STATES, overdue_filter
from core.cases.service import record_step
from core.errors import Forbidden, InvalidInput, InvalidTransition, NotFound
from core.notifications.service import Notice
from core.pagination import Page, keyset
from core.principal import Principal
from core.validation import check_text
from policies.access import (
    authorize,
    authorize_own_office,
    jurisdiction_in_scope,
    readable,
    scope,
)
from tenants.directory import jurisdictions
from tenants.models import Jurisdiction
from tenants.paths import city_of, within


async def overdue_cases(principal: Principal, first: int, after: int | None) -> Page[Case]:
    """R7.1: transferred cases past their due date, for the handling office and every
    office above it (case:read over the case's jurisdiction)."""
    query = Case.filter(overdue_filter(clock.now()), await readable(principal, "read", "case"))
    return await keyset(query, first, after)


async def _upper_office(principal: Principal, case: Case) -> Jurisdiction:
    """The office above the case's handling office from which the caller supervises it."""
    for base in sorted(scope(principal, "supervise", "case").subtrees):
        if base != case.jurisdiction.path and within(case.jurisdiction.path, base):
            return await Jurisdiction.get(path=base)
    raise Forbidden("只有上级软环境办可以督办", "Only an upper office issues supervision orders")


async def issue_order(principal: Principal, case_id: int, note: str) -> SupervisionOrder:
    """R7.1 督办: an upper office presses the handling office on an open case (decided on
    the locked case)."""
    note = check_text(note, "note", maximum=2000)
    async with in_transaction():
        case = await locked_case(principal, case_id)
        issuer = await _upper_office(principal, case)
        authorize(principal, "supervise", "case", case.jurisdiction.path)
        if case.state not in OPEN_STATES:
            raise InvalidTransition("案件已结束", "The case is no longer open")
        order = await SupervisionOrder.create(case=case, issued_by=issuer, note=note,
                                              issued_at=clock.now(), issuer=principal.username)
        await record_step(case, principal, "OFFICE", "SUPERVISION_ORDER", note=note,
                          detail={"order": order.id, "issuedBy": issuer.path}, notices=(
                              Notice(await notify.office_accounts(case.jurisdiction.id),
                                     "SUPERVISION_ORDER",
                                     f"第{case.id}号案件被{issuer.name}督办"),))
    return order


async def acknowledge_order(principal: Principal, order_id: int) -> SupervisionOrder:
    """The handling office acknowledges a supervision order on its case, once: concurrent
    acknowledgements wait for the order's lock, and all but the first are refused."""
    order = await SupervisionOrder.filter(id=order_id).select_related("issued_by").first()
    if order is None:
        raise NotFound("督办单不存在", "No such supervision order", field="id")
    async with in_transaction():
        case = await locked_case(principal, order.case_id)
        authorize_own_office(principal, "handle", "case", case.jurisdiction.path)
        locked = await SupervisionOrder.filter(id=order.id).select_for_update().first()
        assert locked is not None
        if locked.acknowledged_at is not None:
            raise InvalidTransition("已签收", "Already acknowledged")
        order.acknowledged_at, order.acknowledged_by = clock.now(), principal.username
        await order.save(update_fields=["acknowledged_at", "acknowledged_by"])
        await record_step(case, principal, "OFFICE", "ORDER_ACKNOWLEDGED",
                          detail={"order": order.id}, notices=(
                              Notice(await notify.office_accounts(order.issued_by.id),
                                     "ORDER_ACKNOWLEDGED", f"第{case.id}号案件督办单已签收"),))
    return order


async def escalate_case(principal: Principal, case_id: int, reason: str) -> Case:
    """Escalate an open case to the city office, by its handling office or an office above:
    an explicit, audited move of the case to the city's jurisdiction, decided on the locked
    row (a county's step committed meanwhile is seen, not overwritten)."""
    reason = check_text(reason, "reason", maximum=2000)
    async with in_transaction():
        case = await locked_case(principal, case_id)
        city = await jurisdictions.by_path(city_of(case.jurisdiction.path))
        if city is None or city.path == case.jurisdiction.path:
            raise InvalidTransition("案件已由市软环境办办理", "The city office handles it already")
        if not _own_or_supervised(principal, case.jurisdiction.path):
            raise Forbidden()
        if case.state not in OPEN_STATES:
            raise InvalidTransition("案件已结束", "The case is no longer open")
        left = case.jurisdiction
        # The case's row names the city; its step is audited under the county it leaves.
        case.jurisdiction_id, case.escalated = city.id, True
        await record_step(case, principal, "OFFICE", "ESCALATED", note=reason,
                          detail={"from": left.path, "to": city.path},
                          changed=True, notices=(
                              Notice(await notify.office_accounts(city.id), "ESCALATED",
                                     f"第{case.id}号案件已提级至市软环境办"),))
        case.jurisdiction = city
    return case


def _own_or_supervised(principal: Principal, path: str) -> bool:
    """Whether the caller handles `path` as its office or supervises it from above."""
    return path in handled_paths(principal) or any(
        base != path and within(path, base)
        for base in scope(principal, "supervise", "case").subtrees)


async def orders_of(case_ids: list[int]) -> dict[int, list[SupervisionOrder]]:
    result: dict[int, list[SupervisionOrder]] = {i: [] for i in case_ids}
    for order in await SupervisionOrder.filter(case_id__in=case_ids).order_by("id"
                                                                             ).select_related(
                                                                                 "issued_by"):
        result[order.case_id].append(order)
    return result


@dataclass
class Stats:
    """R7.2 figures of some jurisdictions over a period, each read on demand: the counts of
    the dimensions asked for, the overdue count, the reply percentiles."""

    # id -> path of the jurisdictions counted
    paths: dict[int, str]
    period: tally.Period
    _percentiles: asyncio.Task[tuple[float | None, float | None]] | None = None

    @property
    def jurisdiction_ids(self) -> list[int]:
        return list(self.paths)

    async def figures(self, dimensions: Collection[str]) -> tally.Figures:
        """The counts of `dimensions` (tally.DIMENSIONS), in one statement; none without
        any."""
        if not dimensions:
            return tally.Figures(by={})
        return await tally.figures(self.paths, self.period, dimensions)

    async def reply_percentiles(self) -> tuple[float | None, float | None]:
        """(median, 90th percentile) of reply seconds; one query however often asked."""
        if self._percentiles is None:
            self._percentiles = asyncio.ensure_future(
                tally.reply_percentiles(self.jurisdiction_ids, self.period))
        return await self._percentiles

    async def overdue(self) -> int:
        """Transferred cases past due now (not a count the tally can keep: time moves)."""
        return await tally.overdue(self.jurisdiction_ids, self.period)


async def oversight_stats(principal: Principal, jurisdiction: str,
                          start: datetime | None, end: datetime | None) -> Stats:
    """R7.2: counts by kind, category, state, agency and jurisdiction and the substantiation
    rate (over the maintained tally), the overdue count and reply-time median and 90th
    percentile, each read when asked for, for a jurisdiction and all below it that the caller
    shares oversight of."""
    if start and end and start > end:
        raise InvalidInput("起止时间颠倒", "`from` is after `to`", field="from")
    await jurisdiction_in_scope(principal, "read", "oversight", jurisdiction)
    allowed = scope(principal, "read", "oversight")
    paths = await jurisdictions.paths_where(
        lambda path: allowed.covers(path) and within(path, jurisdiction),
        key=(allowed, jurisdiction))
    return Stats(paths, tally.Period.of(start, end))
