"""The jurisdiction tree in process memory: a hundred-odd rows that nearly every request reads
(the ids of the caller's scope, a filter's jurisdiction, each row's jurisdiction) and that
change only when a tenant is added. Migration 0007 notifies CHANNEL from a trigger on the
table, whoever changes it; while this process does not listen (events.Mirror) every answer
comes from the database.

The rows handed out are shared between requests: read them, never change and save them.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable

from core.events import Mirror
from core.kept import Recent
from tenants.models import Jurisdiction

CHANNEL = "jurisdiction"
SELECTIONS_KEPT = 4096  # distinct scopes (sets of grants) whose ids are kept


class Tree:
    """One reading of the table: rows by id, by path, and all of them in path order."""

    def __init__(self, rows: list[Jurisdiction]) -> None:
        self.rows = sorted(rows, key=lambda j: j.path)
        self.by_id = {j.id: j for j in rows}
        self.by_path = {j.path: j for j in rows}
        # the jurisdictions selected (ids_where, paths_where) by their key: a scope's ids were
        # a walk over every row for every request, a cost that grew with the tree (a tenth of
        # a county list at size L)
        self.selected: Recent[Hashable, tuple[list[int], dict[int, str]]] = Recent(
            "selections", SELECTIONS_KEPT)


class Directory(Mirror):
    def __init__(self) -> None:
        super().__init__()
        self._tree: Tree | None = None

    def forget(self) -> None:
        self._tree = None

    async def _current(self) -> Tree | None:
        """The kept tree (read once while listening), or None: ask the database."""
        if not self.listening:
            return None
        if self._tree is None:
            generation = self.generation
            tree = Tree(await Jurisdiction.all())
            if generation != self.generation or not self.listening:
                return tree  # good for this request, too old to keep
            self._tree = tree
        return self._tree

    def kept(self, jurisdiction_id: int) -> Jurisdiction | None:
        """The row from the kept tree without waiting, or None when there is no kept tree
        (or no such row): then ask by_ids."""
        tree = self._tree if self.listening else None
        return tree.by_id.get(jurisdiction_id) if tree else None

    async def by_path(self, path: str) -> Jurisdiction | None:
        tree = await self._current()
        return tree.by_path.get(path) if tree else await Jurisdiction.get_or_none(path=path)

    async def by_ids(self, ids: Iterable[int]) -> dict[int, Jurisdiction]:
        wanted = set(ids)
        tree = await self._current()
        if tree is None:
            return {j.id: j for j in await Jurisdiction.filter(id__in=wanted)}
        return {i: tree.by_id[i] for i in wanted if i in tree.by_id}

    async def ids_where(self, covers: Callable[[str], bool], key: Hashable = None
                        ) -> list[int]:
        """The ids of the jurisdictions whose path `covers` accepts, in path order; with a
        `key` that stands for `covers`, kept with the tree (the list is shared: read it)."""
        return (await self._selection(covers, key))[0]

    async def paths_where(self, covers: Callable[[str], bool], key: Hashable = None
                          ) -> dict[int, str]:
        """The same jurisdictions as ids_where, id -> path (shared too: read it)."""
        return (await self._selection(covers, key))[1]

    async def _selection(self, covers: Callable[[str], bool], key: Hashable
                         ) -> tuple[list[int], dict[int, str]]:
        tree = await self._current()
        if tree is None:
            rows = await Jurisdiction.all().order_by("path").only("id", "path")
            return _selected([(j.id, j.path) for j in rows if covers(j.path)])
        if key is not None and (kept := tree.selected.get(key)) is not None:
            return kept
        found = _selected([(j.id, j.path) for j in tree.rows if covers(j.path)])
        if key is not None:
            tree.selected.put(key, found)
        return found


def _selected(pairs: list[tuple[int, str]]) -> tuple[list[int], dict[int, str]]:
    return [i for i, _ in pairs], dict(pairs)


jurisdictions = Directory()
