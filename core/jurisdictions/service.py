"""The jurisdiction tree: reads (public: offices are public bodies) and adding a tenant as data."""

from __future__ import annotations

import re

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from core import audit
from core.errors import Conflict, InvalidInput, NotFound
from core.principal import Principal
from policies.access import authorize
from tenants.directory import jurisdictions
from tenants.models import Jurisdiction, Level

_CODE = re.compile(r"^[a-z][a-z0-9]{0,15}$")
# Which level may sit under which: a province holds cities, a city its county-level units.
CHILD_LEVELS: dict[Level, frozenset[Level]] = {
    Level.PROVINCE: frozenset({Level.CITY}),
    Level.CITY: frozenset({Level.COUNTY, Level.SPECIAL_DISTRICT}),
    Level.COUNTY: frozenset(),
    Level.SPECIAL_DISTRICT: frozenset(),
}


async def list_jurisdictions(under: str | None = None) -> list[Jurisdiction]:
    """Every jurisdiction, or those at and below `under`, ordered by path."""
    query = Jurisdiction.all()
    if under:
        query = query.filter(Q(path=under) | Q(path__startswith=under + "."))
    return await query.order_by("path")


async def get_by_path(path: str) -> Jurisdiction:
    found = await jurisdictions.by_path(path)
    if found is None:
        raise NotFound("辖区不存在", "No such jurisdiction", field="path")
    return found


async def create_jurisdiction(
    principal: Principal, *, parent_path: str, code: str, name: str, level: Level
) -> Jurisdiction:
    """Add a city, county-level unit or special district under `parent_path` (office_admin or
    overseer of the parent). Other cities are data, never code."""
    parent = await get_by_path(parent_path)
    authorize(principal, "create", "jurisdiction", parent.path)
    if not _CODE.match(code):
        raise InvalidInput("代码须为小写字母开头的字母数字，最长16位",
                           "Code must be lowercase letters and digits, at most 16", field="code")
    name = name.strip()
    if not 1 <= len(name) <= 100:
        raise InvalidInput("名称长度须为1至100字", "Name must be 1 to 100 characters", field="name")
    if level not in CHILD_LEVELS[parent.level]:
        raise InvalidInput("该层级不能设在上级辖区之下", "That level cannot sit under the parent",
                           field="level")
    path = f"{parent.path}.{code}"
    async with in_transaction():
        if await Jurisdiction.exists(path=path):
            raise Conflict("该辖区已存在", "That jurisdiction exists already", field="code")
        created = await Jurisdiction.create(
            path=path, code=code, name=name, level=level, parent=parent
        )
        await audit.record(
            principal.actor, "jurisdiction.create",
            target_type="jurisdiction", target_id=created.id, jurisdiction=path,
            detail={"name": name, "level": level.value},
        )
    return created
