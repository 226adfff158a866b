"""The jurisdiction tree in process memory: a hundred-odd rows that nearly every request reads
(the ids of the caller's scope, a filter's jurisdiction, each row's jurisdiction) and that
change only when a tenant is added. Migration 0007 notifies CHANNEL from a trigger on the
table, whoever changes it; while this process does not listen (events.Mirror) every answer
comes from the database.

The rows handed out are shared between requests: read them, never change and save them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from core.events import Mirror
from tenants.models import Jurisdiction

CHANNEL = "jurisdiction"


class Directory(Mirror):
    def __init__(self) -> None:
        super().__init__()
        self._by_id: dict[int, Jurisdiction] | None = None
        self._by_path: dict[str, Jurisdiction] = {}

    def forget(self) -> None:
        self._by_id, self._by_path = None, {}

    async def _tree(self) -> dict[int, Jurisdiction] | None:
        if not self.listening:
            return None
        if self._by_id is None:
            generation = self.generation
            rows = await Jurisdiction.all()
            if generation != self.generation or not self.listening:
                return {j.id: j for j in rows}  # good for this request, too old to keep
            self._by_id = {j.id: j for j in rows}
            self._by_path = {j.path: j for j in rows}
        return self._by_id

    async def by_path(self, path: str) -> Jurisdiction | None:
        tree = await self._tree()
        if tree is None:
            return await Jurisdiction.get_or_none(path=path)
        if tree is self._by_id:
            return self._by_path.get(path)
        return next((j for j in tree.values() if j.path == path), None)

    async def by_ids(self, ids: Iterable[int]) -> dict[int, Jurisdiction]:
        wanted = set(ids)
        tree = await self._tree()
        if tree is None:
            return {j.id: j for j in await Jurisdiction.filter(id__in=wanted)}
        return {i: tree[i] for i in wanted if i in tree}

    async def ids_where(self, covers: Callable[[str], bool]) -> list[int]:
        """The ids of the jurisdictions whose path `covers` accepts, in path order."""
        tree = await self._tree()
        rows = tree.values() if tree is not None else await Jurisdiction.all().only("id", "path")
        return [j.id for j in sorted(rows, key=lambda j: j.path) if covers(j.path)]


jurisdictions = Directory()
