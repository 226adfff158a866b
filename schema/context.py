"""The per-request context: the caller (resolved lazily, so refused documents run no SQL),
the language of messages, and the request's data loaders."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from starlette.requests import HTTPConnection

from core.accounts import service as accounts
from core.errors import Unauthenticated
from core.principal import Principal
from schema.loaders import Loaders


def language_of(conn: HTTPConnection) -> str:
    accept = conn.headers.get("accept-language", "")
    return "en" if accept.lower().startswith("en") else "zh"


@dataclass
class Context:
    request: HTTPConnection
    response: Any
    language: str
    authorization: str | None
    loaders: Loaders = field(default_factory=Loaders)
    _principal: Principal | None = None
    _resolved: bool = False

    @property
    def address(self) -> str:
        client = self.request.client
        return client.host if client else "unknown"

    async def principal(self) -> Principal | None:
        """The caller, or None when no credentials were sent. Bad credentials raise."""
        if not self._resolved:
            self._principal = await _resolve(self.authorization)
            self._resolved = True
        return self._principal

    async def require(self) -> Principal:
        found = await self.principal()
        if found is None:
            raise Unauthenticated()
        return found


async def _resolve(authorization: str | None) -> Principal | None:
    if not authorization:
        return None
    scheme, _, credential = authorization.partition(" ")
    credential = credential.strip()
    if scheme.lower() == "bearer" and credential:
        return await accounts.principal_from_token(credential)
    if scheme.lower() == "apikey" and credential:
        return await accounts.principal_from_api_key(credential)
    raise Unauthenticated("不支持的认证方式", "Unsupported Authorization scheme")
