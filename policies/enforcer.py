"""The Casbin enforcer of this process, loaded from the role table and the grants in PostgreSQL.

Reloaded after every grant change here, and on a `policy` notice from any other process.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Hashable, Sequence
from pathlib import Path
from typing import Any, TypeVar, cast

import casbin
from casbin.model import Model as CasbinModel
from casbin.persist import Adapter

from core.errors import ServiceUnavailable
from core.principal import subject
from policies import domains
from policies.models import Grant
from policies.roles import policy_lines

MODEL_PATH = Path(__file__).with_name("model.conf")
MAX_DECISIONS = 100_000
T = TypeVar("T")
_NONE = object()
log = logging.getLogger(__name__)


class _Lines(Adapter):  # type: ignore[misc]  # casbin's Adapter is untyped
    """A read-only adapter over lines fetched beforehand (the fetch is async, Casbin's is not)."""

    def __init__(self, p: list[list[str]], g: list[list[str]]) -> None:
        self.p, self.g = p, g

    def load_policy(self, model: CasbinModel) -> None:
        for line in self.p:
            model.add_policy("p", "p", line)
        for line in self.g:
            model.add_policy("g", "g", line)


def build(grants: list[tuple[int, str, str]]) -> casbin.Enforcer:
    """An enforcer over the role table and (account id, role, domain) grants."""
    g = [[subject(account_id), role, domain] for account_id, role, domain in grants]
    enforcer = casbin.Enforcer(str(MODEL_PATH), _Lines(policy_lines(), g))
    # Pattern domains (`jl.th.**`): matched by our function. Pinned pycasbin 2.8: leaving the
    # role matching_func unset keeps role-manager builds linear (STACK-NOTES).
    enforcer.add_named_domain_matching_func("g", domains.matches)
    enforcer.get_role_manager().matching_func = None
    enforcer.build_role_links()
    return enforcer


class PolicyStore:
    """The loaded policy and a version that changes with every reload. Until the first load
    (the database unreachable since this process started) every question about it is
    answered SERVICE_UNAVAILABLE, never a denial or an empty list."""

    def __init__(self) -> None:
        self.enforcer: casbin.Enforcer = build([])
        self.version = 0
        self._grants: dict[int, list[tuple[str, str]]] = {}  # account -> (role, domain)
        self._holders: dict[str, list[tuple[int, str]]] = {}  # domain -> (account, role)
        # Casbin's answers for this policy: its matcher is evaluated by an expression
        # interpreter (about a tenth of a submitCase's CPU); the same question gets the same
        # answer until the next reload.
        self._decisions: dict[tuple[str, str, str, str], bool] = {}
        # what is derived from an account's grants (policies.access.scope), kept as long
        self._derived: dict[Hashable, Any] = {}
        self._lock = asyncio.Lock()

    @property
    def loaded(self) -> bool:
        return self.version > 0

    def enforce(self, subject_: str, path: str, resource: str, action: str) -> bool:
        key = (subject_, path, resource, action)
        decided = self._decisions.get(key)
        if decided is None:
            self._require_loaded()
            if len(self._decisions) >= MAX_DECISIONS:
                self._decisions.clear()
            decided = self._decisions[key] = bool(
                self.enforcer.enforce(subject_, path, resource, action))
        return decided

    def derived(self, key: Hashable, derive: Callable[[], T]) -> T:
        """What `derive` gives from this policy for `key`, derived once until the next
        reload."""
        found = self._derived.get(key, _NONE)
        if found is _NONE:
            if len(self._derived) >= MAX_DECISIONS:
                self._derived.clear()
            found = self._derived[key] = derive()
        return cast(T, found)

    def grants_of(self, account_id: int) -> list[tuple[str, str]]:
        """(role, domain) pairs the account holds."""
        self._require_loaded()
        return list(self._grants.get(account_id, ()))

    def holders_of(self, domain: str) -> Sequence[tuple[int, str]]:
        """(account, role) pairs granted at exactly `domain`."""
        self._require_loaded()
        return self._holders.get(domain, ())

    def _require_loaded(self) -> None:
        if not self.loaded:
            raise ServiceUnavailable()

    async def reload(self) -> None:
        async with self._lock:
            rows = await Grant.all().order_by("id").values_list("account_id", "role", "domain")
            grants = [(int(a), str(r), str(d)) for a, r, d in rows]
            self.enforcer, self._decisions, self._derived = build(grants), {}, {}
            by_account: dict[int, list[tuple[str, str]]] = {}
            by_domain: dict[str, list[tuple[int, str]]] = {}
            for account_id, role, domain in grants:
                by_account.setdefault(account_id, []).append((role, domain))
                by_domain.setdefault(domain, []).append((account_id, role))
            self._grants, self._holders = by_account, by_domain
            self.version += 1
            log.info("policy loaded", extra={"grants": len(grants), "version": self.version})


store = PolicyStore()
