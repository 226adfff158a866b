"""SQL statements as parts of larger ones: their parameters counted and renumbered, and the
statement a Tortoise query sends."""

from __future__ import annotations

import functools
import re
from typing import Any

from tortoise.queryset import QuerySet

_PARAMETER = re.compile(r"\$(\d+)")


@functools.lru_cache(maxsize=256)
def parameters(sql: str) -> int:
    """How many parameters ($1 … $n) a statement takes."""
    return max((int(p) for p in _PARAMETER.findall(sql)), default=0)


def shifted(sql: str, by: int) -> str:
    """The statement with its parameters renumbered from $1+by: a part of a larger one."""
    return _PARAMETER.sub(lambda mark: f"${int(mark[1]) + by}", sql) if by else sql


def statement(query: QuerySet[Any]) -> tuple[str, list[Any]]:
    """The SELECT `query` sends and its values, to be a part of a larger statement (for a
    query without related models joined or fetched: each of its rows is one model's
    columns). `sql()` builds Tortoise's query, whose parameterized text it then gives."""
    query.sql()
    sql, values = query.query.get_parameterized_sql()
    return sql, list(values)
