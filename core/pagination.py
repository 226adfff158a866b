"""Keyset pages: at most 100 items, ordered by id, continuing after the last id seen."""

from __future__ import annotations

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
    """Where a page of `query` lies: its first `first` items by ascending id after `after`."""

    query: QuerySet[M]
    first: int
    after: int | None

    def rows(self) -> QuerySet[M]:
        """The page's items and one more, which tells whether a next page exists."""
        query = self.query if self.after is None else self.query.filter(id__gt=self.after)
        return query.order_by("id").limit(self.first + 1)

    async def page(self) -> Page[M]:
        rows = await self.rows()
        return Page(items=rows[:self.first], has_next=len(rows) > self.first,
                    counted=self.query)


def window(query: QuerySet[M], first: int, after: int | None) -> Window[M]:
    return Window(query, check_first(first), after)


async def keyset(query: QuerySet[M], first: int, after: int | None) -> Page[M]:
    """One page of `query` by ascending id."""
    return await window(query, first, after).page()
