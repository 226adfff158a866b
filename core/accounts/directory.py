"""The city-wide directory of office managers (R7.2 shared data, R7.3 designated staff)."""

from __future__ import annotations

from dataclasses import dataclass

from core.accounts.models import Account
from core.jurisdictions.service import list_jurisdictions
from core.principal import Principal
from policies.access import scope
from policies.models import Grant
from tenants.models import Jurisdiction

MANAGING_ROLES = ("office_admin", "office_staff")


@dataclass(frozen=True)
class DirectoryEntry:
    jurisdiction: Jurisdiction
    managers: list[Account]


async def office_directory(principal: Principal, under: str) -> list[DirectoryEntry]:
    """R7.2, R7.3: for every jurisdiction at or below `under` that the caller may read
    (directory:read, which every office holds over its city), the staff designated to manage it.
    Two queries whatever the number of jurisdictions."""
    allowed = scope(principal, "read", "directory")
    places = [j for j in await list_jurisdictions(under) if allowed.covers(j.path)]
    grants = await Grant.filter(
        role__in=MANAGING_ROLES, domain__in=[j.path for j in places]
    ).order_by("account_id").prefetch_related("account")
    by_path: dict[str, dict[int, Account]] = {}
    for grant in grants:
        by_path.setdefault(grant.domain, {})[grant.account.id] = grant.account
    return [DirectoryEntry(j, list(by_path.get(j.path, {}).values())) for j in places]
