"""Relay connections with opaque keyset cursors (base64 of the last id)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import strawberry

from core.errors import InvalidInput
from core.pagination import Page

N = TypeVar("N")
_PREFIX = "k:"


def encode_cursor(item_id: int) -> str:
    return base64.urlsafe_b64encode(f"{_PREFIX}{item_id}".encode()).decode()


def cursor_sql(column: str) -> str:
    """`encode_cursor` of an id column, in SQL (schema/projection.py)."""
    return (f"translate(encode(convert_to({_PREFIX!r} || {column}, 'UTF8'), 'base64'), "
            "'+/', '-_')")


def decode_cursor(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor.encode()).decode()
        if raw.startswith(_PREFIX):
            return int(raw[len(_PREFIX):])
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise InvalidInput("游标无效", "Invalid cursor", field="after")


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class Edge(Generic[N]):
    cursor: str
    node: N


@strawberry.type
class Connection(Generic[N]):
    edges: list[Edge[N]]
    page_info: PageInfo
    page: strawberry.Private[Page[Any]]

    @strawberry.field(description="How many items the filter selects (counted on request).")
    async def total_count(self) -> int:
        return await self.page.total()


def connection(page: Page, convert: Callable[..., N]) -> Connection[N]:
    edges = [Edge(cursor=encode_cursor(item.id), node=convert(item)) for item in page.items]
    return Connection(
        edges=edges,
        page_info=PageInfo(has_next_page=page.has_next,
                           end_cursor=edges[-1].cursor if edges else None),
        page=page,
    )
