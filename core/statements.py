"""SQL built once per query shape.

Tortoise builds every query anew: it resolves the filters into a pypika tree, which copies the
whole query at each step, and renders it: about 0.3 ms for a page of supervisors and 0.55 ms
for one row with its parent joined, often more than the database takes to answer. Nearly every
query of a request has a shape seen before: the same model, filters, joins, order and limits,
only other values. Here a shape's SQL is kept once Tortoise has built it, and later queries of
the shape bind their values to it.

A shape is kept only after it has shown where its values go. On the first query of a shape,
Tortoise builds a probe of it: the same query with every filter value, the limit and the
offset replaced by made-up values that are pairwise distinct. The probe's statement must
carry exactly those values, encoded as Tortoise encodes them and in the order they are read
from the filters, then the limit and the offset; since no value can pass for another, each
one's place is certain. A shape that fails is marked and always built by Tortoise: a LIKE,
which wraps its value, or a field no distinct probes can be made for. So is any query with
something else: annotations, grouping, index hints, filters across relations, custom filters,
or expressions as values. tests/core/test_statements.py compares both ways.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Callable, Generator, Hashable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any, TypeVar
from uuid import UUID

from tortoise import Tortoise, queryset
from tortoise.backends.base.client import Capabilities
from tortoise.exceptions import DoesNotExist, MultipleObjectsReturned
from tortoise.expressions import Q
from tortoise.filters import is_null, not_null
from tortoise.manager import Manager
from tortoise.models import Model

M = TypeVar("M", bound=Model)
KEPT = 1024
_SIMPLE = (int, str, float, Decimal, datetime, date, time, UUID, Enum)  # bool is an int
_COLLECTIONS = (list, tuple, set, frozenset)


class Unfit(Exception):
    """The query is not one whose SQL may be kept."""


class Statement:
    __slots__ = ("related", "sql")

    def __init__(self, sql: str, related: list[Any]) -> None:
        self.sql, self.related = sql, related


UNFIT = Statement("", [])  # a shape whose SQL did not carry its values as expected
_kept: dict[Hashable, Statement] = {}
_PARAMETER = re.compile(r"\$(\d+)")


@functools.lru_cache(maxsize=256)
def parameters(sql: str) -> int:
    """How many parameters ($1 … $n) a statement takes."""
    return max((int(p) for p in _PARAMETER.findall(sql)), default=0)


def shifted(sql: str, by: int) -> str:
    """The statement with its parameters renumbered from $1+by: a part of a larger one."""
    return _PARAMETER.sub(lambda mark: f"${int(mark[1]) + by}", sql) if by else sql


def _by_column(model: type[Model], key: str, value: Any) -> tuple[str, Any]:
    """A filter on a relation as Tortoise reads it: by its own column, a model by its key."""
    meta = model._meta
    if key not in meta.fk_fields and key not in meta.o2o_fields:
        return key, value
    relation = meta.fields_map[key]
    if isinstance(value, relation.related_model):  # type: ignore[attr-defined]
        value = getattr(value, relation.to_field_instance.model_field_name)  # type: ignore[attr-defined]
    if relation.source_field is None:
        raise Unfit
    return relation.source_field, value


def _leaf(model: type[Model], key: str, value: Any, values: list[Any]) -> Hashable:
    """One `key=value` filter's part of the shape; its encoded values go to `values`."""
    meta = model._meta
    key, value = _by_column(model, key, value)
    info = meta.filters.get(key)
    if info is None or "table" in info:
        raise Unfit  # across a relation, backwards, or a custom filter
    if value is None:
        return key, None  # IS NULL: no value to bind
    if info["operator"] in (is_null, not_null):
        return key, bool(value)
    if isinstance(value, _COLLECTIONS):
        if not all(isinstance(v, _SIMPLE) for v in value):
            raise Unfit
    elif not isinstance(value, _SIMPLE):
        raise Unfit  # an expression, a subquery, a model of another kind
    field = meta.fields_map[info["field"]]
    encoded = (info["value_encoder"](value, model, field) if "value_encoder" in info
               else field.to_db_value(value, model))
    if isinstance(encoded, list):
        values.extend(encoded)
        return key, len(encoded)
    values.append(encoded)
    return key, type(encoded)


def _node(model: type[Model], q: Q, values: list[Any]) -> Hashable:
    if q.filters:  # a Q holds either filters or children (Tortoise reads the filters then)
        parts = tuple(_leaf(model, k, v, values) for k, v in q.filters.items())
    else:
        parts = tuple(_node(model, child, values) for child in q.children)
    return q.join_type, q._is_negated, parts


def shape(query: queryset.QuerySet[Any]) -> tuple[Hashable, list[Any]]:
    """The query's shape and the values it binds, in Tortoise's order; Unfit if it has
    anything this module does not read."""
    if (query._annotations or query._custom_filters or query._having or query._group_bys
            or query._force_indexes or query._use_indexes or query._filter_kwargs):
        raise Unfit
    model = query.model
    values: list[Any] = []
    filters = tuple(_node(model, q, values) for q in query._q_objects)
    if query._limit is not None:
        values.append(query._limit)
    if query._offset is not None:
        values.append(query._offset)
    key = (model, filters, tuple(query._orderings), query._limit is not None,
           query._offset is not None, query._fields_for_select, query._distinct,
           tuple(sorted(query._select_related)), query._select_for_update,
           query._select_for_update_nowait, query._select_for_update_skip_locked,
           tuple(sorted(query._select_for_update_of)), query._select_for_update_no_key)
    return key, values


def _distinct(values: list[Any]) -> bool:
    try:
        return len({(type(v), v) for v in values}) == len(values)
    except TypeError:  # an unhashable value
        return False


# The i-th made-up value of each column type (distinct for distinct i, except booleans).
_MADE_UP: dict[type, Callable[[int], Any]] = {
    bool: lambda i: bool(i % 2), int: lambda i: -2_000_000_000 + i, str: lambda i: f"\x1f{i}",
    float: lambda i: i + 0.25, Decimal: lambda i: Decimal(i) + Decimal("0.5"),
    UUID: lambda i: UUID(int=i + 1),
    datetime: lambda i: datetime(1901, 1, 1, tzinfo=UTC) + timedelta(seconds=i),
    date: lambda i: date(1901, 1, 1) + timedelta(days=i),
}


def _made_up(field: Any, n: Iterator[int]) -> Any:
    """A value for `field` unlike any other made up for the same probe."""
    i = next(n)
    members = list(getattr(field, "enum_type", None) or ())
    if members:
        return members[i % len(members)]
    make = _MADE_UP.get(field.field_type)
    if make is None:
        raise Unfit
    return make(i)


def _probe_leaf(model: type[Model], key: str, value: Any, n: Iterator[int]) -> tuple[str, Any]:
    meta = model._meta
    key, value = _by_column(model, key, value)
    info = meta.filters[key]
    if value is None or info["operator"] in (is_null, not_null):
        return key, value  # part of the shape, not a bound value
    field = meta.fields_map[info["field"]]
    if isinstance(value, _COLLECTIONS):
        return key, [_made_up(field, n) for _ in value]
    return key, _made_up(field, n)


def _probe_node(model: type[Model], q: Q, n: Iterator[int]) -> Q:
    probe = Q(join_type=q.join_type)
    if q.filters:
        probe.filters = dict(_probe_leaf(model, k, v, n) for k, v in q.filters.items())
    else:
        probe.children = tuple(_probe_node(model, child, n) for child in q.children)
    probe._is_negated = q._is_negated
    return probe


def _learn(query: queryset.QuerySet[Any], key: Hashable) -> Statement:
    """The shape's statement, built by Tortoise from a probe with made-up distinct values and
    kept if it binds exactly them, in the order `shape` reads them; else UNFIT."""
    n = itertools.count()
    probe = query._clone()
    try:
        probe._q_objects = [_probe_node(query.model, q, n) for q in query._q_objects]
        if probe._limit is not None:
            probe._limit = 1_000_000_000 + next(n)
        if probe._offset is not None:
            probe._offset = 1_000_000_000 + next(n)
        probe_key, values = shape(probe)
        probe._make_query()
        sql, params = probe.query.get_parameterized_sql()
    except Exception:  # a field refusing a made-up value: Tortoise's way
        return UNFIT
    same = probe_key == key and _distinct(values) and len(params) == len(values) and all(
        type(p) is type(v) and p == v for p, v in zip(params, values, strict=True))
    return Statement(sql, list(probe._select_related_idx)) if same else UNFIT


def forget() -> None:
    _kept.clear()


class QuerySet(queryset.QuerySet[M]):
    """Tortoise's query set, awaited through the kept SQL of its shape."""

    __slots__ = ()

    def __await__(self) -> Generator[Any, None, list[M]]:
        if self._db is None:
            self._db = self._choose_db(self._select_for_update)
        kept, values = self._kept()
        if kept is UNFIT:
            return super().__await__()
        return self._run(kept.sql, values, kept.related).__await__()

    def _kept(self) -> tuple[Statement, list[Any]]:
        """The kept statement of the query's shape and its values; UNFIT where Tortoise
        builds it."""
        try:
            key, values = shape(self)
        except Unfit:
            return UNFIT, []
        kept = _kept.get(key)
        if kept is None:
            kept = _learn(self, key)
            if len(_kept) >= KEPT:
                del _kept[next(iter(_kept))]
            _kept[key] = kept
        return kept, values

    def statement(self) -> tuple[str, list[Any]]:
        """The SELECT this query sends and its values, to be a part of a larger statement;
        only for a query without related models joined or fetched (each of its rows is one
        model's columns)."""
        if self._select_related or self._prefetch_map or self._prefetch_queries:
            raise ValueError("a query with related models joined or fetched")
        kept, values = self._kept()
        if kept is not UNFIT:
            return kept.sql, values
        self._make_query()
        sql, params = self.query.get_parameterized_sql()
        return sql, list(params)

    async def _run(self, sql: str, params: list[Any], related: list[Any]) -> Any:
        """Tortoise's `_execute` for SQL at hand (no annotations: a shape has none)."""
        found = await self._db.executor_class(
            model=self.model, db=self._db, prefetch_map=self._prefetch_map,
            prefetch_queries=self._prefetch_queries, select_related_idx=related,
        ).execute_select(sql, params, custom_fields=[])
        if not self._single:
            return found
        if len(found) == 1:
            return found[0]
        if not found:
            if self._raise_does_not_exist:
                raise DoesNotExist(self.model)
            return None
        raise MultipleObjectsReturned(self.model)


class Bound:
    """A query's statement and values at hand, as `QuerySet.statement` gives them, for rows
    of `model` read without building a query at all (`Parts`)."""

    __slots__ = ("model", "sql", "values")

    def __init__(self, model: type[Model], sql: str, values: list[Any]) -> None:
        self.model, self.sql, self.values = model, sql, values

    def statement(self) -> tuple[str, list[Any]]:
        return self.sql, self.values


class Parts:
    """Statements of queries that differ only in their last filter's value, kept by a key
    the caller gives for everything before it (who asks, what they may see).

    Building the query and reading its shape cost ~14 µs at each request, measured alone,
    and ~55 µs of a case detail's ~290 at size M served in process (same process, variants
    alternated ten rounds): more than anything else in it. With the statement kept, a request
    binds its value to the values kept before it. A query whose statement does not end with
    that value (its shape is built by Tortoise, or its filters are read in another order) is
    not kept: it is answered as it is built."""

    def __init__(self) -> None:
        self._kept: dict[Hashable, tuple[str, list[Any]]] = {}

    def get(self, key: Hashable, model: type[Model], last: Any) -> Bound | None:
        found = self._kept.get(key)
        return None if found is None else Bound(model, found[0], [*found[1], last])

    def keep(self, key: Hashable, query: queryset.QuerySet[M], last: Any
             ) -> queryset.QuerySet[M] | Bound:
        """The query's statement as a Bound, kept by `key` when its last value is `last`; the
        query itself when it is not kept."""
        if not isinstance(query, QuerySet):
            return query
        kept, values = query._kept()
        if kept is UNFIT or not values or type(values[-1]) is not type(last) or (
                values[-1] != last):
            return query
        if len(self._kept) >= KEPT:
            self._kept.clear()
        self._kept[key] = (kept.sql, values[:-1])
        return Bound(query.model, kept.sql, values)


class ShapedManager(Manager):
    """Starts each query with its connection's capabilities at hand: Tortoise looks them up
    through the model's connection (context variables, the loop check) at every clone, ~10 µs
    of a case detail's 55 in its window."""

    def __init__(self, model: type[Model], capabilities: Capabilities) -> None:
        super().__init__(model)
        self._capabilities = capabilities

    def get_queryset(self) -> QuerySet[Any]:
        query = QuerySet(self._model)
        query._capabilities = self._capabilities
        return query


def install() -> None:
    """Every model's queries start from this module's query set."""
    for models in Tortoise.apps.values():
        for model in models.values():
            model._meta.manager = ShapedManager(model, model._meta.db.capabilities)
