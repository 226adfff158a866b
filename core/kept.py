"""Rows kept in process memory by key while this process listens for the notices that say
their table changed (events.Mirror): read from the database once, then answered from memory
until the next notice, which drops them all. Rows not found are not kept. While nobody listens
every answer comes from the database.

The rows handed out are shared between requests: read them, never change and save them (or
hand out copies).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

from core.events import Mirror

MAX_ENTRIES = 10_000
K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Recent(Generic[K, V]):
    """The process's one bounded store: at most `size` entries by key, the least recently
    used dropped first, named for what it keeps. Every cache of the platform keeps its
    entries in one (Kept below, the principals, the read engine's statements, plans'
    arguments, the front door's texts); what must be dropped on a change is a Kept, dropped
    on PostgreSQL's notice."""

    def __init__(self, name: str, size: int) -> None:
        self.name, self.size = name, size
        self._entries: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        found = self._entries.get(key)
        if found is not None:
            self._entries.move_to_end(key)
        return found

    def put(self, key: K, value: V) -> V:
        self._entries[key] = value
        self._entries.move_to_end(key)
        if len(self._entries) > self.size:
            self._entries.popitem(last=False)
        return value

    def drop(self, key: K) -> None:
        self._entries.pop(key, None)

    def clear(self) -> None:
        self._entries.clear()

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def __len__(self) -> int:
        return len(self._entries)


class Kept(Mirror, Generic[K, V]):
    def __init__(self, read: Callable[[K], Awaitable[V | None]],
                 max_entries: int = MAX_ENTRIES) -> None:
        super().__init__()
        self._read = read
        self._entries: Recent[K, V] = Recent(getattr(read, "__name__", "kept"), max_entries)

    def forget(self) -> None:
        self._entries.clear()

    async def get(self, key: K) -> V | None:
        if not self.listening:
            return await self._read(key)
        found = self._entries.get(key)
        if found is not None:
            return found
        generation = self.generation
        found = await self._read(key)
        if found is not None and generation == self.generation and self.listening:
            self._entries.put(key, found)
        return found

    def __len__(self) -> int:
        return len(self._entries)
