"""Who hears of a case: its handling office's staff and the agency's accounts. Texts name the
case and what happened, never the reporter (R4.4)."""

from __future__ import annotations

from collections.abc import Sequence

from core import writes
from core.agencies.models import AgencyStaff
from core.cases.models import Case
from core.notifications import service as notifications
from core.notifications.service import Notice
from policies.enforcer import store
from tenants.directory import jurisdictions

OFFICE_ROLES = ("office_admin", "office_staff")


async def office_accounts(jurisdiction_id: int) -> list[int]:
    """The staff of the office of a jurisdiction (its own grants, not overseers above), from
    the loaded policy."""
    place = (await jurisdictions.by_ids([jurisdiction_id]))[jurisdiction_id]
    return sorted({account for account, role in store.holders_of(place.path)
                   if role in OFFICE_ROLES})


async def agency_accounts(agency_id: int) -> list[int]:
    rows = await AgencyStaff.filter(agency_id=agency_id).only("account_id")
    return [s.account_id for s in rows]


def notifying(case: Case, notices: Sequence[Notice]) -> list[writes.Write]:
    """Several notices about a case, as writes of the caller's transaction or statement
    (core/writes.py); the same rule for their texts."""
    return notifications.notifying("case", case.id, notices)
