"""GraphQL for the jurisdiction tree."""

from __future__ import annotations

from collections.abc import Awaitable

import strawberry
import strawberry.federation
from strawberry.types import Info

from core.jurisdictions import service
from schema import projection
from schema.context import Context
from schema.ids import parse_id
from tenants.directory import jurisdictions
from tenants.models import Jurisdiction as JurisdictionModel
from tenants.models import Level as LevelEnum

strawberry.enum(LevelEnum, name="Level")
Level = LevelEnum


@strawberry.federation.type(keys=["id"], description="A jurisdiction: a node of the tenant "
                                                    "tree (public information).")
class Jurisdiction:
    id: strawberry.ID
    path: str
    code: str
    name: str
    level: Level
    parent_id: strawberry.Private[int | None]
    pk: strawberry.Private[int]

    @classmethod
    def of(cls, model: JurisdictionModel) -> Jurisdiction:
        return cls(id=strawberry.ID(str(model.id)), path=model.path, code=model.code,
                   name=model.name, level=model.level, pk=model.id,
                   parent_id=model.parent_id)

    @classmethod
    async def resolve_reference(cls, info: Info[Context, None], id: strawberry.ID
                                ) -> Jurisdiction | None:
        """Federation: the gateway asks for a jurisdiction by id."""
        found = await info.context.loaders.jurisdiction_by_id.load(parse_id(id))
        return cls.of(found) if found else None

    @strawberry.field
    async def parent(self, info: Info[Context, None]) -> Jurisdiction | None:
        if self.parent_id is None:
            return None
        found = await info.context.loaders.jurisdiction_by_id.load(self.parent_id)
        return Jurisdiction.of(found) if found else None

    @strawberry.field
    async def children(self, info: Info[Context, None]) -> list[Jurisdiction]:
        return [Jurisdiction.of(c) for c in
                await info.context.loaders.children_by_parent_id.load(self.pk)]


projection.table(Jurisdiction, JurisdictionModel,
                 columns=("id", "path", "code", "name", "level"))


# What a `jurisdiction` field's resolver returns (declared with graphql_type=Jurisdiction).
JurisdictionField = Jurisdiction | Awaitable[Jurisdiction]


# The GraphQL object of each row of the kept tree, made once for the row: the rows are shared
# and never changed (tenants/directory.py), nor are these. A row read anew (the tree changed)
# gets a new one.
_kept_types: dict[int, tuple[JurisdictionModel, Jurisdiction]] = {}


def jurisdiction_of(info: Info[Context, None], jurisdiction_id: int) -> JurisdictionField:
    """A row's jurisdiction: at once from the kept tree (nearly every row of every list has
    one, and waiting for a loader costs a task and a future per row), else through the
    request's loader. Resolvers return it as it is; the executor awaits it only if it must."""
    kept = jurisdictions.kept(jurisdiction_id)
    if kept is None:
        return load_jurisdiction(info, jurisdiction_id)
    made = _kept_types.get(jurisdiction_id)
    if made is None or made[0] is not kept:
        made = _kept_types[jurisdiction_id] = (kept, Jurisdiction.of(kept))
    return made[1]


async def load_jurisdiction(info: Info[Context, None], jurisdiction_id: int) -> Jurisdiction:
    found = await info.context.loaders.jurisdiction_by_id.load(jurisdiction_id)
    assert found is not None  # foreign keys guarantee it
    return Jurisdiction.of(found)


@strawberry.type
class Query:
    @strawberry.field(description="Every jurisdiction, ordered by path; `under` limits it to "
                                  "a subtree. Anyone may call it.")
    async def jurisdictions(self, under: str | None = None) -> list[Jurisdiction]:
        return [Jurisdiction.of(j) for j in await service.list_jurisdictions(under)]

    @strawberry.field(description="One jurisdiction by path. Anyone may call it.")
    async def jurisdiction(self, path: str) -> Jurisdiction:
        return Jurisdiction.of(await service.get_by_path(path))


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Add a city, county-level unit or special district under "
                                     "`parentPath`. Needs office_admin (or overseer) there.")
    async def create_jurisdiction(
        self, info: Info[Context, None], parent_path: str, code: str, name: str,
        level: Level,
    ) -> Jurisdiction:
        principal = await info.context.require()
        created = await service.create_jurisdiction(
            principal, parent_path=parent_path, code=code, name=name, level=level
        )
        return Jurisdiction.of(created)
