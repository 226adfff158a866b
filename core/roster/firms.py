"""R5.2 contact firms and R7.4 industry groups."""

from __future__ import annotations

from tortoise.expressions import Subquery
from tortoise.transactions import in_transaction

from core import audit, clock
from core.errors import Conflict, InvalidInput, NotFound, RuleViolation
from core.principal import Principal
from core.roster import rules
from core.roster.models import ContactFirm, FirmSize, Group, Status, Supervisor
from core.roster.service import get_group, get_supervisor, managed_supervisor, record_event
from core.scoring import points
from core.scoring.models import PointEvent
from core.validation import check_text
from policies.access import authorize, jurisdiction_in_scope


async def _editable(principal: Principal, supervisor_id: int) -> Supervisor:
    """The supervisor themself, or an office that manages them."""
    found = await get_supervisor(principal, supervisor_id)
    if found.account_id != principal.account_id:
        return await managed_supervisor(principal, supervisor_id)
    return found


def _normalized(name: str) -> str:
    return "".join(name.split()).replace("（", "(").replace("）", ")").lower()


async def link_contact_firm(principal: Principal, supervisor_id: int, *, name: str,
                            credit_code: str, industry: str, size: FirmSize) -> ContactFirm:
    """R5.2: besides their own unit, a supervisor keeps contact with at least one other
    enterprise. The firm is identified by its unified social credit code."""
    supervisor = await _editable(principal, supervisor_id)
    name = check_text(name, "name", maximum=200)
    code = rules.check_credit_code(credit_code)
    industry = check_text(industry, "industry", maximum=100, required=False)
    if supervisor.status is not Status.ACTIVE:
        raise RuleViolation("该监督员不在任", "This supervisor is not active")
    if _normalized(name) == _normalized(supervisor.unit):
        raise RuleViolation("联系企业须是本人所在单位以外的企业（R5.2）",
                            "The contact firm must be other than the supervisor's own unit",
                            field="name")
    async with in_transaction():
        if await ContactFirm.exists(supervisor=supervisor, credit_code=code,
                                    unlinked_at__isnull=True):
            raise Conflict("已联系该企业", "Already linked to this firm", field="creditCode")
        firm = await ContactFirm.create(supervisor=supervisor, name=name, credit_code=code,
                                        industry=industry, size=size, linked_at=clock.now())
        await record_event(supervisor, principal.actor, "CONTACT_FIRM_LINKED",
                           detail={"firm": firm.id, "creditCode": code})
        await points.award(supervisor.id, PointEvent.CONTACT_FIRM_LINKED,
                           f"firm:{supervisor.id}:{code}")
    return firm


async def unlink_contact_firm(principal: Principal, firm_id: int) -> ContactFirm:
    found = await ContactFirm.filter(id=firm_id, unlinked_at__isnull=True).first()
    if found is None:
        raise NotFound("联系企业不存在", "No such contact firm", field="id")
    supervisor = await _editable(principal, found.supervisor_id)
    async with in_transaction():
        found.unlinked_at = clock.now()
        await found.save(update_fields=["unlinked_at"])
        await record_event(supervisor, principal.actor, "CONTACT_FIRM_UNLINKED",
                           detail={"firm": found.id})
    return found


async def supervisors_without_contact_firm(principal: Principal, jurisdiction: str
                                           ) -> list[Supervisor]:
    """R5.2: ACTIVE supervisors of the jurisdiction who keep no contact firm."""
    place = await jurisdiction_in_scope(principal, "read", "supervisor", jurisdiction)
    linked = Subquery(ContactFirm.filter(unlinked_at__isnull=True).values("supervisor_id"))
    return await Supervisor.filter(jurisdiction_id=place.id, status=Status.ACTIVE,
                                   id__not_in=linked).order_by("id")


async def create_group(principal: Principal, jurisdiction: str, name: str, industry: str
                       ) -> Group:
    """R7.4: county-level offices organise their supervisors into groups (by industry)."""
    place = await jurisdiction_in_scope(principal, "read", "supervisor", jurisdiction)
    authorize(principal, "manage", "supervisor", jurisdiction)
    name = check_text(name, "name", maximum=100)
    industry = check_text(industry, "industry", maximum=100, required=False)
    async with in_transaction():
        if await Group.exists(jurisdiction=place, name=name):
            raise Conflict("分组名称已存在", "A group of that name exists", field="name")
        group = await Group.create(jurisdiction=place, name=name, industry=industry)
        await audit.record(principal.actor, "group.create", target_type="group",
                           target_id=group.id, jurisdiction=place.path, detail={"name": name})
    return group


async def assign_to_group(principal: Principal, supervisor_id: int, group_id: int | None
                          ) -> Supervisor:
    """R7.4: put a supervisor in a group of their own jurisdiction (None: out of any)."""
    async with in_transaction():
        supervisor = await managed_supervisor(principal, supervisor_id, lock=True)
        if group_id is not None:
            group = await get_group(principal, group_id)
            if group.jurisdiction.id != supervisor.jurisdiction.id:
                raise InvalidInput("分组须属于监督员所在辖区",
                                   "The group must belong to the supervisor's jurisdiction",
                                   field="groupId")
        supervisor.group_id = group_id
        await supervisor.save(update_fields=["group_id"])
        await record_event(supervisor, principal.actor, "GROUP_ASSIGNED",
                           detail={"group": group_id})
    return supervisor


async def list_groups(principal: Principal, jurisdiction: str) -> list[Group]:
    place = await jurisdiction_in_scope(principal, "read", "supervisor", jurisdiction)
    return await Group.filter(jurisdiction_id=place.id).order_by("id")
