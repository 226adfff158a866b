"""GraphQL for sign-in, accounts, grants, API keys and the office directory."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from core.accounts import directory, grants
from core.accounts import service as accounts
from core.accounts.models import Account as AccountModel
from core.principal import AccountKind as AccountKindEnum
from schema.context import Context
from schema.ids import parse_id
from schema.relay import Connection, connection, decode_cursor
from schema.tenants import Jurisdiction, JurisdictionField, jurisdiction_of

strawberry.enum(AccountKindEnum, name="AccountKind")
AccountKind = AccountKindEnum


@strawberry.type(description="A role held in a domain: an exact path or a subtree `x.**`.")
class Grant:
    role: str
    domain: str


@strawberry.type
class Account:
    id: strawberry.ID
    username: str
    display_name: str
    kind: AccountKind
    is_active: bool
    created_at: datetime
    pk: strawberry.Private[int]
    home_id: strawberry.Private[int]

    @classmethod
    def of(cls, model: AccountModel) -> Account:
        return cls(id=strawberry.ID(str(model.id)), username=model.username,
                   display_name=model.display_name, kind=model.kind, is_active=model.is_active,
                   created_at=model.created_at, pk=model.id,
                   home_id=model.home_id)

    @strawberry.field(graphql_type=Jurisdiction)
    def home_jurisdiction(self, info: Info[Context, None]) -> JurisdictionField:
        return jurisdiction_of(info, self.home_id)

    @strawberry.field(description="The roles this account holds.")
    async def grants(self, info: Info[Context, None]) -> list[Grant]:
        rows = await info.context.loaders.grants_by_account_id.load(self.pk)
        return [Grant(role=g.role, domain=g.domain) for g in rows]


@strawberry.type
class AuthPayload:
    access_token: str
    refresh_token: str
    expires_in: int = strawberry.field(description="Seconds the access token stays valid.")
    account: Account


@strawberry.type
class DirectoryEntry:
    jurisdiction: Jurisdiction
    managers: list[Account]


@strawberry.type
class ApiKeyIssued:
    id: strawberry.ID
    key: str = strawberry.field(description="Shown this once; only its hash is kept.")


def _payload(pair: accounts.TokenPair) -> AuthPayload:
    return AuthPayload(access_token=pair.access_token, refresh_token=pair.refresh_token,
                       expires_in=pair.expires_in, account=Account.of(pair.account))


@strawberry.type
class Query:
    @strawberry.field(description="The signed-in caller.")
    async def me(self, info: Info[Context, None]) -> Account:
        principal = await info.context.require()
        return Account.of(await AccountModel.get(id=principal.account_id))

    @strawberry.field(description="Accounts whose home is in the caller's account:read scope "
                                  "(office_admin, office_staff, overseer). At most 100 a page.")
    async def accounts(self, info: Info[Context, None], first: int = 20,
                       after: str | None = None) -> Connection[Account]:
        principal = await info.context.require()
        page = await accounts.list_accounts(principal, first, decode_cursor(after))
        return connection(page, Account.of)

    @strawberry.field(description="One account in the caller's scope (else NOT_FOUND).")
    async def account(self, info: Info[Context, None], username: str) -> Account:
        principal = await info.context.require()
        return Account.of(await accounts.get_account(principal, username))

    @strawberry.field(description="R7.2/R7.3: the designated managers of every office at or "
                                  "below `under` that the caller may read (every office of "
                                  "the city reads its whole city).")
    async def office_directory(self, info: Info[Context, None], under: str
                               ) -> list[DirectoryEntry]:
        principal = await info.context.require()
        entries = await directory.office_directory(principal, under)
        return [DirectoryEntry(jurisdiction=Jurisdiction.of(e.jurisdiction),
                               managers=[Account.of(a) for a in e.managers]) for e in entries]


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Sign in with a password. Anyone may call it; throttled.")
    async def login(self, info: Info[Context, None], username: str, password: str
                    ) -> AuthPayload:
        return _payload(await accounts.login(username, password, info.context.address))

    @strawberry.mutation(description="Spend a refresh token for a new pair. Reusing a spent one "
                                     "revokes its whole family.")
    async def refresh_token(self, token: str) -> AuthPayload:
        return _payload(await accounts.refresh(token))

    @strawberry.mutation(description="End the caller's session.")
    async def logout(self, info: Info[Context, None]) -> bool:
        await accounts.logout(await info.context.require())
        return True

    @strawberry.mutation(description="Create an account at `homePath` (account:create there).")
    async def create_account(
        self, info: Info[Context, None], username: str, kind: AccountKind,
        home_path: str, password: str | None = None, display_name: str = "",
    ) -> Account:
        principal = await info.context.require()
        created = await accounts.create_account(
            principal, username=username, display_name=display_name, kind=kind,
            home_path=home_path, password=password,
        )
        return Account.of(created)

    @strawberry.mutation(description="Give an account a role in a domain (`jl.th.dc` or "
                                     "`jl.th.**`). Never beyond the caller's own roles.")
    async def grant_role(self, info: Info[Context, None], username: str, role: str,
                         domain: str) -> Account:
        principal = await info.context.require()
        grant = await grants.grant_role(principal, username, role, domain)
        return Account.of(await AccountModel.get(id=grant.account_id))  # type: ignore[attr-defined]

    @strawberry.mutation(description="Take a role away; same limits as grantRole.")
    async def revoke_role(self, info: Info[Context, None], username: str, role: str,
                          domain: str) -> bool:
        return await grants.revoke_role(await info.context.require(), username, role, domain)

    @strawberry.mutation(description="A new API key for a SERVICE account (account:manage).")
    async def create_api_key(self, info: Info[Context, None], username: str, name: str
                             ) -> ApiKeyIssued:
        principal = await info.context.require()
        created, key = await accounts.create_api_key(principal, username, name)
        return ApiKeyIssued(id=strawberry.ID(str(created.id)), key=key)

    @strawberry.mutation(description="Revoke an API key at once (its own account, or "
                                     "account:manage at the account's home).")
    async def revoke_api_key(self, info: Info[Context, None], id: strawberry.ID) -> bool:
        principal = await info.context.require()
        await accounts.revoke_api_key(principal, parse_id(id))
        return True
