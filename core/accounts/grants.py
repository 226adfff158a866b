"""Granting and revoking roles. Nobody grants a role or a domain beyond what they hold."""

from __future__ import annotations

import logging

from tortoise.transactions import in_transaction

from core import audit, events
from core.accounts.models import Account
from core.errors import Forbidden, InvalidInput, NotFound
from core.principal import Principal
from policies import domains
from policies.access import held_grants
from policies.enforcer import store
from policies.models import Grant
from policies.roles import ROLE_KINDS, ROLE_PERMISSIONS
from tenants.models import Jurisdiction

CHANNEL = "policy"
log = logging.getLogger(__name__)


def may_grant(principal: Principal, role: str, domain: str) -> bool:
    """Whether the principal holds `grant:manage` over all of `domain` and, over all of it,
    every permission that `role` carries (so a grant never widens anyone beyond the granter)."""
    held = held_grants(principal)

    def holds(permission: tuple[str, str]) -> bool:
        return any(
            permission in ROLE_PERMISSIONS.get(r, frozenset()) and domains.covers(d, domain)
            for r, d in held
        )

    return holds(("grant", "manage")) and all(holds(p) for p in ROLE_PERMISSIONS[role])


async def _target(principal: Principal | None, username: str, role: str, domain: str
                  ) -> tuple[Account, str]:
    if role not in ROLE_PERMISSIONS:
        raise InvalidInput("没有这个角色", "No such role", field="role")
    base, _ = domains.parse(domain)
    if not await Jurisdiction.exists(path=base):
        raise NotFound("辖区不存在", "No such jurisdiction", field="domain")
    account = await Account.get_or_none(username=username.strip().lower()).prefetch_related("home")
    # An account outside what the granter manages looks the same as one that does not exist.
    if account is None or (principal is not None and not may_grant_at(principal, account)):
        raise NotFound("账号不存在", "No such account", field="username")
    if account.kind is not ROLE_KINDS[role]:
        raise InvalidInput("该类账号不能担任此角色", "This kind of account cannot hold that role",
                           field="role")
    if principal is not None and not may_grant(principal, role, domain):
        raise Forbidden("不能授予超出本人权限或范围的角色",
                        "You cannot grant a role or domain beyond your own", field="domain")
    return account, base


def may_grant_at(principal: Principal, account: Account) -> bool:
    """Whether the account's home lies where the principal manages grants."""
    return any(
        ("grant", "manage") in ROLE_PERMISSIONS.get(r, frozenset())
        and domains.matches(account.home.path, d)
        for r, d in held_grants(principal)
    )


async def grant_role(principal: Principal | None, username: str, role: str, domain: str) -> Grant:
    """Give `username` the role in the domain (idempotent). `principal` None is the CLI/seed."""
    account, _ = await _target(principal, username, role, domain)
    async with in_transaction():
        grant, created = await add_grant(
            principal.actor if principal else audit.Actor(None, "system"), account, role, domain)
    if created:
        await store.reload()
    return grant


async def add_grant(actor: audit.Actor, account: Account, role: str, domain: str
                    ) -> tuple[Grant, bool]:
    """Insert a grant inside the caller's transaction, for an act the caller has authorized.
    Other processes reload on commit; the caller reloads this one's store after commit."""
    base, _ = domains.parse(domain)
    grant, created = await Grant.get_or_create(
        account=account, role=role, domain=domain, defaults={"granted_by_id": actor.id})
    if created:
        await audit.record(actor, "grant.add", target_type="account", target_id=account.id,
                           jurisdiction=base, detail={"role": role, "domain": domain})
        await events.publish(CHANNEL, str(grant.id))
    return grant, created


async def revoke_role(principal: Principal, username: str, role: str, domain: str) -> bool:
    """Take the role away; True when there was one to take."""
    account, base = await _target(principal, username, role, domain)
    async with in_transaction():
        removed = await Grant.filter(account=account, role=role, domain=domain).delete()
        if removed:
            await audit.record(principal.actor, "grant.remove", target_type="account",
                               target_id=account.id, jurisdiction=base,
                               detail={"role": role, "domain": domain})
            await events.publish(CHANNEL, "")
    if removed:
        await store.reload()
    return bool(removed)


async def on_policy_notice(_payload: str) -> None:
    """Another process changed grants: reload ours."""
    await store.reload()
