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


async def keyset(query: QuerySet[M], first: int, after: int | None) -> Page[M]:
    """One page of `query` by ascending id."""
    check_first(first)
    counted = query
    if after is not None:
        query = query.filter(id__gt=after)
    rows = await query.order_by("id").limit(first + 1)
    return Page(items=rows[:first], has_next=len(rows) > first, counted=counted)
