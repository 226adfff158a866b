"""Parsing GraphQL IDs into database ids."""

from __future__ import annotations

import strawberry

from core.errors import InvalidInput


def parse_id(value: strawberry.ID | str, field: str = "id") -> int:
    try:
        parsed = int(value)
    except ValueError:
        raise InvalidInput("编号无效", "Invalid id", field=field) from None
    if not 0 < parsed < 2**63:
        raise InvalidInput("编号无效", "Invalid id", field=field)
    return parsed
