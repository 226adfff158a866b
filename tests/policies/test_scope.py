"""scope() (the SQL filter for lists) agrees with Casbin's enforce() (one object) everywhere."""

from __future__ import annotations

import itertools

import pytest

from core.accounts.models import Account
from core.principal import Principal
from policies import domains
from policies.access import can, scope
from policies.enforcer import build, store
from policies.roles import ROLE_PERMISSIONS
from tenants.models import Jurisdiction

PERMISSIONS = sorted({p for perms in ROLE_PERMISSIONS.values() for p in perms})


async def _principal(username: str) -> Principal:
    account = await Account.get(username=username).prefetch_related("home")
    return Principal(account.id, account.username, account.kind, account.home.path)


async def test_scope_agrees_with_enforce_for_every_path_and_permission(demo: None) -> None:
    paths = [str(p) for p in await Jurisdiction.all().values_list("path", flat=True)]
    usernames = [str(u) for u in await Account.all().values_list("username", flat=True)]
    checks = 0
    for username in usernames:
        principal = await _principal(username)
        for resource, action in PERMISSIONS:
            allowed = scope(principal, action, resource)
            for path in [*paths, "jl.th.dc.x", "jl.other"]:
                assert allowed.covers(path) == can(principal, action, resource, path), (
                    username, resource, action, path)
                checks += 1
    assert checks > 1000


async def test_scope_filter_selects_exactly_the_covered_rows(demo: None) -> None:
    for username in ("admin.th", "admin.dc", "province"):
        principal = await _principal(username)
        for resource, action in PERMISSIONS:
            allowed = scope(principal, action, resource)
            selected = set(await Jurisdiction.filter(allowed.filter("path"))
                           .values_list("path", flat=True))
            every = [str(p) for p in await Jurisdiction.all().values_list("path", flat=True)]
            assert selected == {p for p in every if allowed.covers(p)}


def test_subtree_domain_covers_the_base_and_descendants_only() -> None:
    assert domains.matches("jl.th", "jl.th.**")
    assert domains.matches("jl.th.dc", "jl.th.**")
    assert not domains.matches("jl.thx", "jl.th.**")  # a sibling sharing a prefix
    assert not domains.matches("jl", "jl.th.**")
    assert domains.matches("jl.th.dc", "jl.th.dc") and not domains.matches("jl.th.dc.a",
                                                                             "jl.th.dc")
    assert domains.covers("jl.th.**", "jl.th.dc.**") and domains.covers("jl.th.**", "jl.th")
    assert not domains.covers("jl.th", "jl.th.**") and not domains.covers("jl.th.dc",
                                                                           "jl.th.edj")


def test_enforcer_keeps_the_linear_role_manager() -> None:
    """STACK-NOTES: pycasbin's role matching_func makes pattern-domain builds quadratic."""
    grants = [(i, role, f"jl.c{i % 10}.x{i % 200}")
              for i, role in zip(range(2000), itertools.cycle(ROLE_PERMISSIONS), strict=False)]
    enforcer = build(grants)
    assert enforcer.get_role_manager().matching_func is None
    assert enforcer.get_role_manager().domain_matching_func is domains.matches
    assert enforcer.enforce("a:0", "jl.c0.x0", "account", "read")
    assert not enforcer.enforce("a:0", "jl.c0.x1", "account", "read")


async def test_policy_version_changes_with_each_reload(demo: None) -> None:
    version = store.version
    await store.reload()
    assert store.version == version + 1


async def test_a_store_never_loaded_answers_unavailable(demo: None) -> None:
    """Before its first load every question is refused as an outage, not answered from an
    empty policy; once loaded it answers as the process's store."""
    from core.errors import ServiceUnavailable
    from policies.enforcer import PolicyStore

    principal = await _principal("admin.dc")
    fresh = PolicyStore()
    assert not fresh.loaded
    for ask in (lambda: fresh.enforce(principal.subject, "jl.th.dc", "case", "read"),
                lambda: fresh.grants_of(principal.account_id),
                lambda: fresh.holders_of("jl.th.dc")):
        with pytest.raises(ServiceUnavailable):
            ask()
    await fresh.reload()
    assert fresh.loaded
    assert fresh.enforce(principal.subject, "jl.th.dc", "case", "read") is True
    assert fresh.grants_of(principal.account_id) == store.grants_of(principal.account_id) != []
    assert list(fresh.holders_of("jl.th.dc")) == list(store.holders_of("jl.th.dc")) != []


async def test_remembered_decisions_end_with_the_policy(demo: None) -> None:
    """Casbin's answers and the scopes are kept per policy: a grant or revocation changes
    them at once."""
    from policies.models import Grant

    principal = await _principal("admin.dc")
    assert not can(principal, "read", "supervisor", "jl.th.ja")
    assert not can(principal, "read", "supervisor", "jl.th.ja")  # the remembered answer
    before = scope(principal, "read", "supervisor")
    assert scope(principal, "read", "supervisor") is before  # derived once
    assert not before.covers("jl.th.ja")
    grant = await Grant.create(account_id=principal.account_id, role="office_staff",
                               domain="jl.th.ja")
    await store.reload()
    assert can(principal, "read", "supervisor", "jl.th.ja")
    assert scope(principal, "read", "supervisor").covers("jl.th.ja")
    await grant.delete()
    await store.reload()
    assert not can(principal, "read", "supervisor", "jl.th.ja")
    assert scope(principal, "read", "supervisor") == before
    # and they are the enforcer's own
    assert can(principal, "read", "case", "jl.th.dc") is bool(
        store.enforcer.enforce(principal.subject, "jl.th.dc", "case", "read")) is True
