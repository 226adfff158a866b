"""The roles and the permissions each carries: Casbin's `p` lines, kept in code and few.

People are never p-lines: they hold roles through grants (`g` lines from the database).
"""

from __future__ import annotations

from core.accounts.models import AccountKind

Permission = tuple[str, str]  # (resource, action)

_OFFICE_ADMINISTRATION: frozenset[Permission] = frozenset({
    ("jurisdiction", "create"),
    ("account", "read"),
    ("account", "create"),
    ("account", "manage"),
    ("grant", "manage"),
    ("directory", "read"),
    ("audit", "read"),
})

ROLE_PERMISSIONS: dict[str, frozenset[Permission]] = {
    # The office of a jurisdiction, on its own path (R7.1 territorial management).
    "office_admin": _OFFICE_ADMINISTRATION,
    # R7.3: the staff an office designates to manage its supervisors and know their state.
    "office_staff": frozenset({("account", "read"), ("directory", "read")}),
    # R7.1 cross-level supervision / R7.5: an upper office over the subtree below it.
    "overseer": _OFFICE_ADMINISTRATION,
    # R7.2: supervision information shared city-wide, reporters masked.
    "oversight_reader": frozenset({("directory", "read")}),
    "supervisor": frozenset(),
    "agency_staff": frozenset(),
    "province_integrator": frozenset({("directory", "read")}),
}

# Which kind of account may hold each role.
ROLE_KINDS: dict[str, AccountKind] = {
    "office_admin": AccountKind.STAFF,
    "office_staff": AccountKind.STAFF,
    "overseer": AccountKind.STAFF,
    "oversight_reader": AccountKind.STAFF,
    "supervisor": AccountKind.SUPERVISOR,
    "agency_staff": AccountKind.AGENCY,
    "province_integrator": AccountKind.SERVICE,
}


def policy_lines() -> list[list[str]]:
    """The `p` lines: one per (role, resource, action)."""
    return [
        [role, resource, action]
        for role, permissions in sorted(ROLE_PERMISSIONS.items())
        for resource, action in sorted(permissions)
    ]
