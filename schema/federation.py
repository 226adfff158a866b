"""The Apollo Federation subgraph's own `_service` field (strawberry uses a Query's field of
that name instead of its own): in production the SDL goes to SERVICE principals only (the
province's gateway), since introspection is off for everyone else."""

from __future__ import annotations

import strawberry
from strawberry.printer import print_schema
from strawberry.types import Info

from core import config
from core.errors import Forbidden
from core.principal import AccountKind
from schema.context import Context


@strawberry.type(name="_Service")
class Service:
    sdl: str


@strawberry.type
class Query:
    @strawberry.field(name="_service", description="The subgraph's SDL, for a federation "
                                                    "gateway (in production: SERVICE accounts)")
    async def service(self, info: Info[Context, None]) -> Service:
        if config.settings().production:
            principal = await info.context.require()
            if principal.kind is not AccountKind.SERVICE:
                raise Forbidden("仅供联邦网关的服务账号使用",
                                "For the federation gateway's service account only")
        return Service(sdl=print_schema(info.schema))
