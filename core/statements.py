"""SQL statements as parts of larger ones: their parameters counted and renumbered, and the
statement a Tortoise query sends."""

from __future__ import annotations

import functools
import re
from collections.abc import Hashable
from typing import Any

from tortoise.queryset import QuerySet

from core.kept import Recent
from core.pagination import Keyed

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


class KeptStatements:
    """The statements of keyed queries (core/pagination.Keyed), kept by their key: Tortoise
    builds a query's SQL anew each time (~0.1-0.2 ms), and a keyed query's text and values
    depend only on what its key names and on its varying values. The first time, the query is
    built twice, with its own varying values and with made-up ones no real value equals: the
    places where the two differ are where the varying values go, and nothing else may differ.
    tests/core/test_statements.py compares kept and built statements of drawn queries."""

    def __init__(self, size: int = 1024) -> None:
        # a key whose varying values have no places of their own is kept as unfit
        self._kept: Recent[Hashable, tuple[str, tuple[Any, ...], tuple[int, ...]] | str] = (
            Recent("statements", size))

    def statement(self, keyed: Keyed[Any]) -> tuple[str, list[Any]]:
        if keyed.key is None:
            return statement(keyed.query)
        found = self._kept.get(keyed.key)
        if found is None:
            found = self._kept.put(keyed.key, _learned(keyed) or _UNFIT)
        if isinstance(found, str):  # its varying values do not go to places of their own
            return statement(keyed.query)
        sql, kept, places = found
        values = list(kept)
        for place, value in zip(places, keyed.varying, strict=True):
            values[place] = value
        return sql, values

    def clear(self) -> None:
        self._kept.clear()


_UNFIT = "unfit"
_MADE_UP = 2_147_483_000  # near int4's end, beyond any id, cursor or page: made-up values


def _learned(keyed: Keyed[Any]) -> tuple[str, tuple[Any, ...], tuple[int, ...]] | None:
    """The statement with the places of its varying values; None where they are not one
    place each."""
    made_up = tuple(_MADE_UP + n for n in range(len(keyed.varying)))
    sql, values = statement(keyed.query)
    probe_sql, probe = statement(keyed.build(*made_up))
    if probe_sql != sql or len(probe) != len(values):
        return None
    differing = [i for i, (v, p) in enumerate(zip(values, probe, strict=True)) if v != p]
    places = tuple(probe.index(m) if m in probe else -1 for m in made_up)
    if sorted(places) != differing or any(
            values[i] != v for i, v in zip(places, keyed.varying, strict=True)):
        return None
    return sql, tuple(values), places
