"""The roles and the permissions each carries: Casbin's `p` lines, kept in code and few.

People are never p-lines: they hold roles through grants (`g` lines from the database).
"""

from __future__ import annotations

from core.principal import AccountKind

Permission = tuple[str, str]  # (resource, action)

# What an office does over the jurisdictions it manages, its own or (overseer) those below.
_OFFICE_ADMINISTRATION: frozenset[Permission] = frozenset({
    ("jurisdiction", "create"),
    ("account", "read"),
    ("account", "create"),
    ("account", "manage"),
    ("grant", "manage"),
    ("directory", "read"),
    ("audit", "read"),
    ("supervisor", "read"),
    ("supervisor", "manage"),
    ("application", "read"),
    ("composition", "read"),
    ("case", "read"),
    ("oversight", "read"),
    ("activity", "read"),
    ("activity", "organize"),
    ("assistance", "read"),
    ("scorecard", "read"),
    ("export", "create"),
})
# R1.4/R1.5: only the home office itself reviews applications. An overseer holds the
# permission (so it can appoint a lower office's admins) but never uses it through its subtree
# grant: the review checks policies.access.authorize_own_office().
# R4.4 likewise: only the handling office's own staff handle a case and see its reporter;
# R9.1: the home office assesses its own supervisors.
_REVIEW: frozenset[Permission] = frozenset({("application", "review"), ("case", "handle"),
                                           ("assessment", "run")})
# R7.3: the designated managers run the roster of their office.
_ROSTER_MANAGEMENT: frozenset[Permission] = frozenset({
    ("account", "read"),
    ("directory", "read"),
    ("supervisor", "read"),
    ("supervisor", "manage"),
    ("application", "read"),
    ("composition", "read"),
    ("case", "read"),
    ("oversight", "read"),
    ("activity", "read"),
    ("activity", "organize"),
    ("assistance", "read"),
    ("scorecard", "read"),
    ("export", "create"),
})

ROLE_PERMISSIONS: dict[str, frozenset[Permission]] = {
    # The office of a jurisdiction, on its own path (R7.1 territorial management).
    "office_admin": _OFFICE_ADMINISTRATION | _REVIEW,
    # R7.3: the staff an office designates to manage its supervisors and know their state.
    "office_staff": _ROSTER_MANAGEMENT | _REVIEW,
    # R7.1 cross-level supervision / R7.5: an upper office over the subtree below it.
    "overseer": _OFFICE_ADMINISTRATION | _REVIEW | frozenset({("case", "supervise")}),
    # R7.2: supervision information shared city-wide, reporters masked.
    "oversight_reader": frozenset({("directory", "read"), ("composition", "read"),
                                   ("oversight", "read"), ("scorecard", "read")}),
    # Supervisors act on their own records (ownership is checked by the services). R4.3:
    # they investigate, inspect and decide nothing, so they hold no manage or review right.
    "supervisor": frozenset({("nomination", "create"), ("case", "submit")}),
    # Agencies answer the cases transferred to them (ownership, checked by the services)
    # and see the activities of their jurisdiction, never an unannounced visit.
    "agency_staff": frozenset({("case", "reply"), ("activity", "read")}),
    # R1.6: the provincial office files appointments and reads aggregates.
    "province_integrator": frozenset({
        ("directory", "read"), ("composition", "read"), ("filing", "read"), ("filing", "record"),
        ("scorecard", "read"),
    }),
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
