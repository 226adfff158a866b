"""Grant domains: an exact jurisdiction path (`jl.th.dc`) or a subtree (`jl.th.**`)."""

from __future__ import annotations

import re

from core.errors import InvalidInput
from tenants.paths import within

SUBTREE = ".**"
_PATH = re.compile(r"^[a-z][a-z0-9]{0,15}(\.[a-z][a-z0-9]{0,15}){0,7}$")


def is_path(value: str) -> bool:
    return bool(_PATH.match(value))


def parse(domain: str) -> tuple[str, bool]:
    """(base path, is subtree) of a domain; INVALID_INPUT when it is neither form."""
    base, subtree = (domain[: -len(SUBTREE)], True) if domain.endswith(SUBTREE) else (domain, False)
    if not is_path(base):
        raise InvalidInput("授权范围格式不正确", "Malformed domain", field="domain")
    return base, subtree


def matches(path: str, domain: str) -> bool:
    """Casbin's domain matching function: does a grant on `domain` apply at `path`?"""
    if domain.endswith(SUBTREE):
        return within(path, domain[: -len(SUBTREE)])
    return path == domain


def covers(held: str, wanted: str) -> bool:
    """Whether a grant on domain `held` reaches everywhere a grant on `wanted` would."""
    wanted_base = wanted.removesuffix(SUBTREE)
    if held.endswith(SUBTREE):
        return within(wanted_base, held.removesuffix(SUBTREE))
    return held == wanted
