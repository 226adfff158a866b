"""authorize() for one object, scope() for lists: the only two ways services ask about access."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tortoise.expressions import Q

from core.errors import Forbidden, NotFound
from core.principal import Principal
from policies import domains
from policies.enforcer import store
from policies.roles import ROLE_PERMISSIONS
from tenants.directory import jurisdictions
from tenants.models import Jurisdiction
from tenants.paths import within


def can(principal: Principal, action: str, resource: str, path: str) -> bool:
    """Casbin's answer for one object at a jurisdiction path."""
    return store.enforce(principal.subject, path, resource, action)


def authorize(principal: Principal, action: str, resource: str, path: str) -> None:
    """Enforce or raise FORBIDDEN. Callers fetch through scope() first: not found, then
    forbidden."""
    if not can(principal, action, resource, path):
        raise Forbidden()


def authorize_own_office(principal: Principal, action: str, resource: str, path: str) -> None:
    """Like authorize(), but only a grant on exactly `path` counts, never a subtree grant from
    above: for acts the Measures reserve to the home office itself (R1.4, R1.5 reviews, R4.4
    case handling, R9.1 assessment). Those exact grants are scope()'s `paths`."""
    if path not in scope(principal, action, resource).paths:
        raise Forbidden()


async def jurisdiction_in_scope(principal: Principal, action: str, resource: str, path: str,
                                *, field: str = "jurisdiction") -> Jurisdiction:
    """The jurisdiction at `path` when the caller may do `action` on `resource` there;
    NOT_FOUND otherwise, whether it exists or not."""
    place = (await jurisdictions.by_path(path)
             if scope(principal, action, resource).covers(path) else None)
    if place is None:
        raise NotFound("辖区不存在", "No such jurisdiction", field=field)
    return place


@dataclass(frozen=True)
class Scope:
    """The jurisdictions where a principal may do one action: exact paths and whole subtrees."""

    paths: frozenset[str]
    subtrees: frozenset[str]

    def covers(self, path: str) -> bool:
        return path in self.paths or any(within(path, base) for base in self.subtrees)

    @property
    def empty(self) -> bool:
        return not self.paths and not self.subtrees

    def filter(self, field: str = "path") -> Q:
        """A query filter on a jurisdiction path field (`path`, `home__path`, …).

        Subtrees become `field = base OR field LIKE 'base.%'`, served by the path index.
        """
        def term(lookup: str, value: Any) -> Q:
            condition: dict[str, Any] = {lookup: value}
            return Q(**condition)

        if self.empty:
            return term(f"{field}__in", [])
        terms = [term(f"{field}__in", sorted(self.paths))] if self.paths else []
        for base in sorted(self.subtrees):
            terms.append(term(field, base) | term(f"{field}__startswith", base + "."))
        return Q(*terms, join_type=Q.OR)

    async def jurisdiction_ids(self) -> list[int]:
        """The ids of the jurisdictions in scope: tenant tables filter on `jurisdiction_id`,
        which their (jurisdiction_id, …) indexes serve directly."""
        if self.empty:
            return []
        return await jurisdictions.ids_where(self.covers, key=self)


@dataclass(frozen=True)
class Readable:
    """A readable predicate as a value: the jurisdictions whose rows it admits, reached `via`
    a relation. Two equal values are the same filter (a statement kept for one serves the
    other: core/statements.KeptStatements)."""

    ids: tuple[int, ...]
    via: str = ""

    def condition(self) -> Q:
        condition: dict[str, Any] = {f"{self.via}jurisdiction_id__in": list(self.ids)}
        return Q(**condition)


async def readable_value(principal: Principal, action: str, resource: str, *, via: str = ""
                         ) -> Readable:
    """`readable`'s predicate as a value."""
    ids = await scope(principal, action, resource).jurisdiction_ids()
    return Readable(tuple(ids), via)


async def readable(principal: Principal, action: str, resource: str, *, via: str = "") -> Q:
    """The readable predicate of a tenant-owned resource (NetBox's `restrict()`): its rows whose
    jurisdiction (reached `via` a relation, such as "supervisor__") lies where the principal
    may do `action` on it. Every read of a tenant's rows starts from it; no service writes a
    tenant filter of its own. Ownership (a supervisor's own record, an agency's cases) is a
    relation the service adds beside it."""
    return (await readable_value(principal, action, resource, via=via)).condition()


def held_grants(principal: Principal) -> list[tuple[str, str]]:
    """(role, domain) pairs the principal holds, as loaded into the enforcer."""
    return store.grants_of(principal.account_id)


def scope(principal: Principal, action: str, resource: str) -> Scope:
    """Where the principal may do `action` on `resource`, derived from its grants and the roles
    that carry the permission; agrees with authorize() at every path (tested). Derived once
    per account, action and resource until the policy is reloaded: a case detail asks twice,
    and each new Scope's sets were hashed again where its jurisdictions are kept."""
    return store.derived(("scope", principal.account_id, action, resource),
                         lambda: _derived_scope(principal, action, resource))


def _derived_scope(principal: Principal, action: str, resource: str) -> Scope:
    paths: set[str] = set()
    subtrees: set[str] = set()
    for role, domain in held_grants(principal):
        if (resource, action) not in ROLE_PERMISSIONS.get(role, frozenset()):
            continue
        if domain.endswith(domains.SUBTREE):
            subtrees.add(domain.removesuffix(domains.SUBTREE))
        else:
            paths.add(domain)
    return Scope(frozenset(paths), frozenset(subtrees))
