"""ASGI request headers read in one pass."""

from __future__ import annotations

from starlette.types import Scope


def header_values(scope: Scope, names: tuple[bytes, ...]) -> list[bytes | None]:
    """The first value of each of `names` (lowercase) among the request's headers, None for
    one not sent: one pass over them (Starlette's `Headers` walks them, and lowercases the
    name, at each lookup)."""
    found: list[bytes | None] = [None] * len(names)
    for name, value in scope["headers"]:
        if name in names:
            at = names.index(name)
            if found[at] is None:
                found[at] = value
    return found
