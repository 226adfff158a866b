"""The per-request context: the caller (resolved lazily, so refused documents run no SQL),
the language of messages, and the request's data loaders."""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import HTTPConnection
from strawberry.dataloader import DataLoader

from core.accounts import service as accounts
from core.cases.confidentiality import visible_reporters
from core.cases.models import Case
from core.errors import Unauthenticated, language_from
from core.headers import header_values
from core.principal import Principal
from core.roster.models import Supervisor
from schema.loaders import Loaders


def caller_of(conn: HTTPConnection) -> tuple[str, str | None]:
    """The language of messages and the Authorization header, in one pass over the
    request's headers."""
    language, authorization = header_values(conn.scope, (b"accept-language", b"authorization"))
    return (language_from(language.decode("latin-1") if language else ""),
            authorization.decode("latin-1") if authorization is not None else None)


@dataclass
class Context:
    request: HTTPConnection
    response: Any
    language: str
    authorization: str | None
    loaders: Loaders = field(default_factory=Loaders)
    connection_params: dict[str, Any] | None = None  # graphql-transport-ws connection_init
    _principal: Principal | None = None
    _resolved: bool = False
    _reporters: DataLoader[Case, Supervisor | None] | None = None

    @property
    def address(self) -> str:
        client = self.request.client
        return client.host if client else "unknown"

    async def principal(self) -> Principal | None:
        """The caller, or None when no credentials were sent. Bad credentials raise."""
        if not self._resolved:
            self._principal = await accounts.principal_from_authorization(self.authorization)
            self._resolved = True
        return self._principal

    @property
    def reporters(self) -> DataLoader[Case, Supervisor | None]:
        """R4.4: a case's reporter where the caller may see it (None elsewhere); one batch
        and one audit record per request."""
        if self._reporters is None:
            context = weakref.ref(self)  # not `self`: a cycle would outlive the request

            async def load(cases: list[Case]) -> list[Supervisor | None]:
                alive = context()
                assert alive is not None  # a loader runs within its request
                principal = await alive.require()
                visible = await visible_reporters(principal, cases)
                return [visible.get(c.id) for c in cases]

            self._reporters = DataLoader(load_fn=load, cache_key_fn=lambda c: c.id)
        return self._reporters

    async def require(self) -> Principal:
        found = await self.principal()
        if found is None:
            raise Unauthenticated()
        return found
