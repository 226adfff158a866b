"""Keyset pages: at most 100 items, ordered by id, continuing after the last id seen."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

from tortoise.models import Model
from tortoise.queryset import QuerySet

from core.errors import InvalidInput

MAX_PAGE = 100
M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class Page(Generic[M]):
    """A page; `total()` counts the whole filtered set only when someone asks for it."""

    items: list[M]
    has_next: bool
    counted: QuerySet[M]

    async def total(self) -> int:
        return await self.counted.count()


def check_first(first: int) -> int:
    if not 1 <= first <= MAX_PAGE:
        raise InvalidInput(f"每页条数须为1至{MAX_PAGE}", f"first must be 1 to {MAX_PAGE}",
                           field="first")
    return first


@dataclass(frozen=True)
class Window(Generic[M]):
    """Where a page of `query` lies: its first `first` items by ascending id after `after`.
    `key`, where given, names everything the query's SQL depends on but `first` and `after`
    (core/statements.KeptStatements)."""

    query: QuerySet[M]
    first: int
    after: int | None
    key: Hashable | None = None

    def rows(self) -> QuerySet[M]:
        """The page's items and one more, which tells whether a next page exists."""
        return self._rows(self.after, self.first + 1)

    def keyed(self) -> Keyed[M]:
        """The page's rows and one more, keyed for core/statements.KeptStatements."""
        key = None if self.key is None else (self.key, self.after is None)
        if self.after is None:
            return Keyed(self.query.model, lambda first: self._rows(None, first), key,
                         (self.first + 1,))
        return Keyed(self.query.model, self._rows, key, (self.after, self.first + 1))

    def _rows(self, after: int | None, limit: int) -> QuerySet[M]:
        query = self.query if after is None else self.query.filter(id__gt=after)
        return query.order_by("id").limit(limit)

    async def page(self) -> Page[M]:
        rows = await self.rows()
        return Page(items=rows[:self.first], has_next=len(rows) > self.first,
                    counted=self.query)


@dataclass(frozen=True)
class Keyed(Generic[M]):
    """A query, `build(*varying)`, with a key naming everything its SQL and values depend on
    but the `varying` values (ids, a cursor, a page's size), for core/statements.KeptStatements; no
    key: not kept."""

    model: type[M]
    build: Callable[..., QuerySet[M]]
    key: Hashable | None
    varying: tuple[int, ...] = ()

    @property
    def query(self) -> QuerySet[M]:
        return self.build(*self.varying)


def window(query: QuerySet[M], first: int, after: int | None, key: Hashable | None = None
           ) -> Window[M]:
    return Window(query, check_first(first), after, key)


async def keyset(query: QuerySet[M], first: int, after: int | None) -> Page[M]:
    """One page of `query` by ascending id."""
    return await window(query, first, after).page()
