"""Rows kept in process memory by key while this process listens for the notices that say
their table changed (events.Mirror): read from the database once, then answered from memory
until the next notice, which drops them all. Rows not found are not kept. While nobody listens
every answer comes from the database.

The rows handed out are shared between requests: read them, never change and save them (or
hand out copies).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

from core.events import Mirror

MAX_ENTRIES = 10_000
K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Kept(Mirror, Generic[K, V]):
    def __init__(self, read: Callable[[K], Awaitable[V | None]],
                 max_entries: int = MAX_ENTRIES) -> None:
        super().__init__()
        self._read = read
        self._entries: dict[K, V] = {}
        self._max_entries = max_entries

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
            if len(self._entries) >= self._max_entries:  # the longest kept goes first
                del self._entries[next(iter(self._entries))]
            self._entries[key] = found
        return found

    def __len__(self) -> int:
        return len(self._entries)
