"""ASGI request headers read in one pass (an ASGI scope is a mapping: no web framework
needed here)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def header_values(scope: Mapping[str, Any], names: tuple[bytes, ...]) -> list[bytes | None]:
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
