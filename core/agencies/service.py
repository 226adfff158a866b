"""Agencies: listing them (public: they are public bodies) and adding one with its account."""

from __future__ import annotations

import re

from tortoise.transactions import in_transaction

from core import audit
from core.accounts import grants
from core.accounts.service import open_account
from core.agencies.models import Agency, AgencyStaff
from core.errors import Conflict, InvalidInput, NotFound
from core.kept import Kept
from core.principal import AccountKind, Principal
from policies.access import authorize
from policies.enforcer import store
from tenants.directory import jurisdictions

_CODE = re.compile(r"^[a-z][a-z0-9]{1,31}$")


async def _agency(agency_id: int) -> Agency | None:
    return await Agency.filter(id=agency_id).select_related("jurisdiction").first()


# Agencies by id with their jurisdiction, kept while this process listens: migration 0013
# notifies CHANNEL from a trigger on the table, whoever changes it. Shared: read them.
CHANNEL = "agency"
kept: Kept[int, Agency] = Kept(_agency)


async def _staff_agency(account_id: int) -> int | None:
    link = await AgencyStaff.filter(account_id=account_id).only("agency_id").first()
    return link.agency_id if link else None


# The agency each agency account works for, by account id, kept the same way (migration 0014
# notifies STAFF_CHANNEL): asked on every read of cases by agency staff.
STAFF_CHANNEL = "agency_staff"
staff_agency: Kept[int, int] = Kept(_staff_agency)


async def list_agencies(jurisdiction: str | None = None) -> list[Agency]:
    query = Agency.all()
    if jurisdiction:
        query = query.filter(jurisdiction__path=jurisdiction)
    return await query.order_by("jurisdiction_id", "code")


async def create_agency(principal: Principal | None, *, jurisdiction: str, name: str,
                        code: str, username: str, password: str | None,
                        prehashed: str | None = None) -> Agency:
    """Add an agency to a jurisdiction with its first AGENCY account (agency_staff there).
    An office adds agencies of its own jurisdiction (account:create there)."""
    place = await jurisdictions.by_path(jurisdiction)
    if place is None:
        raise NotFound("辖区不存在", "No such jurisdiction", field="jurisdiction")
    if principal is not None:
        authorize(principal, "create", "account", place.path)
    if not _CODE.match(code):
        raise InvalidInput("代码须为小写字母和数字", "Code: lowercase letters and digits",
                           field="code")
    name = name.strip()
    if not 1 <= len(name) <= 100:
        raise InvalidInput("名称长度须为1至100字", "Name must be 1 to 100 characters",
                           field="name")
    actor = principal.actor if principal else audit.SYSTEM
    async with in_transaction():
        if await Agency.exists(jurisdiction=place, code=code):
            raise Conflict("该部门代码已存在", "That agency code exists", field="code")
        agency = await Agency.create(jurisdiction=place, name=name, code=code)
        account = await open_account(actor, username=username, display_name=name,
                                     kind=AccountKind.AGENCY, home=place, password=password,
                                     prehashed=prehashed)
        await AgencyStaff.create(account=account, agency=agency)
        await grants.add_grant(actor, account, "agency_staff", place.path)
        await audit.record(actor, "agency.create", target_type="agency", target_id=agency.id,
                           jurisdiction=place.path, detail={"name": name})
    await store.reload()
    agency.jurisdiction = place
    return agency
