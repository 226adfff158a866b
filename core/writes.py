"""Several writes sent as one statement, and keys taken ahead for rows written that way.

An operation that writes several tables (a case, its history row, its points, its notices and
its audit record) paid a round trip for each write, and two more for BEGIN and COMMIT. Here
each write is a `Write`, a statement with its own $1…$n, and `run` sends them together as the
data-modifying parts of one statement (PostgreSQL's WITH … INSERT … RETURNING). One statement
is atomic on its own: all of its writes commit, or none. Its parts see the same snapshot and
not one another's rows; foreign keys between them are checked when the whole statement ends.
Outside a transaction, `commit` sends such a statement committed together with those of
concurrent requests (one round trip, one transaction, one commit flush for the batch).

A row that other parts of the statement name must have its key before it is written:
`Keys` takes keys from the table's sequence ahead, a few at a time, in each process.
"""

from __future__ import annotations

import functools
import logging
import weakref
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tortoise.backends.base.client import TransactionalDBClient
from tortoise.models import Model

from core import orm
from core.batches import Batches
from core.private import meta
from core.statements import parameters, shifted

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Write:
    """One statement that writes (INSERT … RETURNING, UPDATE … RETURNING) or a SELECT that
    calls a function which writes; the rows it returns are counted."""

    sql: str
    args: Sequence[Any]


@functools.lru_cache(maxsize=256)
def _together(parts: tuple[str, ...]) -> str:
    """The parts as the WITH queries of one statement, their parameters renumbered in turn,
    and a final SELECT that counts each one's rows in order (so that each runs to its end)."""
    offset, queries = 0, []
    for n, sql in enumerate(parts):
        queries.append(f"w{n} AS ({shifted(sql, offset)})")
        offset += parameters(sql)
    counts = ", ".join(f"(SELECT count(*) FROM w{n}) AS w{n}"  # noqa: S608 (names made here)
                       for n in range(len(parts)))
    return f"WITH {', '.join(queries)} SELECT {counts}"


def _statement(writes: Sequence[Write]) -> tuple[str, list[Any]]:
    """The writes as one statement, and its values."""
    for write in writes:  # a part's values out of step would shift every later part's
        if len(write.args) != parameters(write.sql):
            raise ValueError(f"{len(write.args)} values for {parameters(write.sql)} "
                             f"parameters: {write.sql[:60]}")
    return _together(tuple(w.sql for w in writes)), [a for w in writes for a in w.args]


async def run(*writes: Write) -> list[int]:
    """Send the writes as one statement (inside the caller's transaction, if any) and return
    how many rows each one returned."""
    if not writes:
        return []
    connection = orm.client()
    if len(writes) == 1:  # as it is (Tortoise's execute_query counts an INSERT's rows as 0)
        return [len(await connection.execute_query_dict(writes[0].sql, list(writes[0].args)))]
    rows = await connection.execute_query_dict(*_statement(writes))
    return [int(count) for count in rows[0].values()]


async def _alone(writes: Sequence[Write]) -> BaseException | None:
    try:
        await run(*writes)
    except Exception as exc:  # its request's error
        return exc
    return None


async def _committed_together(batch: list[Sequence[Write]]) -> list[BaseException | None]:
    """The statements of several operations in one transaction, those of one shape sent
    together (asyncpg's executemany: one round trip for all of them, and when all are of one
    shape, the transaction too); if one fails, none is kept and each is run again alone, so
    that only the failing one fails."""
    if len(batch) > 1:
        shapes: dict[str, list[list[Any]]] = {}
        try:
            for writes in batch:
                sql, values = _statement(writes)
                shapes.setdefault(sql, []).append(values)
            async with orm.client().acquire_connection() as connection:
                if len(shapes) == 1:  # one Sync for all: atomic on its own
                    await connection.executemany(*next(iter(shapes.items())))
                else:
                    async with connection.transaction():
                        for sql, rows in shapes.items():
                            await connection.executemany(sql, rows)
        except Exception as exc:  # which one failed is found below
            log.warning("a batch of %d commits failed (%s); each again alone", len(batch),
                        type(exc).__name__)
        else:
            return [None] * len(batch)
    return [await _alone(writes) for writes in batch]


_committing: Batches[Sequence[Write], None] = Batches(_committed_together)


async def commit(*writes: Write) -> None:
    """Run the writes as one statement and commit it (inside the caller's transaction, if
    any, as `run`). Outside one, the statements of concurrent requests are committed together
    (core/batches.py): the audit chain's lock, which each takes, and the commit's flush are
    taken once for several of them, and those of one shape go in one round trip. Each request
    goes on once its own writes are committed."""
    if inside_transaction():
        await run(*writes)
    else:
        await _committing.hand_in(writes)


def inside_transaction() -> bool:
    """Whether the caller runs inside a transaction (Tortoise's `in_transaction`)."""
    return isinstance(orm.client(), TransactionalDBClient)


@functools.cache
def _columns(model: type[Model]) -> tuple[str, tuple[tuple[str, str], ...]]:
    """A model's table and its written columns: (field name, column) of every stored field."""
    d = meta(model)
    named = tuple((name, d.fields_db_projection[name]) for name in d.fields_db_projection
                  if not d.fields_map[name].generated or name == d.pk_attr)
    return d.db_table, named


def insert(instance: Model) -> Write:
    """The INSERT of a new model instance, as Tortoise would write it; a key left unset is
    the sequence's next."""
    table, named = _columns(type(instance))
    fields_map = meta(instance).fields_map
    pk = meta(instance).pk_attr
    columns, values = [], []
    for name, column in named:
        value = getattr(instance, name)
        if name == pk and value is None:
            continue
        columns.append(f'"{column}"')
        values.append(fields_map[name].to_db_value(value, instance))
    marks = ", ".join(f"${n}" for n in range(1, len(values) + 1))
    sql = f'INSERT INTO "{table}" ({", ".join(columns)}) VALUES ({marks}) RETURNING 1'  # noqa: S608
    return Write(sql, values)


def update(instance: Model) -> Write:
    """The UPDATE of every stored field of a model instance, as Tortoise's `save()` writes it."""
    table, named = _columns(type(instance))
    fields_map, pk = meta(instance).fields_map, meta(instance).pk_attr
    changed = [(column, fields_map[name].to_db_value(getattr(instance, name), instance))
               for name, column in named if name != pk]
    sets = ", ".join(f'"{column}" = ${n}' for n, (column, _) in enumerate(changed, 1))
    sql = (f'UPDATE "{table}" SET {sets} '  # noqa: S608 (the model's own names)
           f'WHERE "{dict(named)[pk]}" = ${len(changed) + 1} RETURNING 1')
    return Write(sql, [value for _, value in changed] + [instance.pk])


_keys: weakref.WeakSet[Keys] = weakref.WeakSet()


def forget_keys() -> None:
    """Drop the keys taken and not used (a sequence restarted under them: tests)."""
    for keys in _keys:
        keys._free.clear()


class Keys:
    """Keys of a table taken from its sequence ahead, `ahead` at a time (what PostgreSQL's
    sequence CACHE does per connection): keys are unique, but two processes' rows are not in
    the order they were written, and keys taken and never used leave gaps, as a rolled-back
    insert does."""

    def __init__(self, model: type[Model], ahead: int = 16) -> None:
        self.model, self.ahead = model, ahead
        self._free: deque[int] = deque()
        _keys.add(self)

    async def take(self) -> int:
        # Two requests may find none left and both take `ahead` more: each key is still unique.
        while not self._free:
            table, named = _columns(self.model)
            _, rows = await orm.client().execute_query(
                "SELECT nextval(pg_get_serial_sequence($1, $2)) FROM generate_series(1, $3)",
                [f'"{table}"', dict(named)[meta(self.model).pk_attr], self.ahead])
            self._free.extend(int(row[0]) for row in rows)
        return self._free.popleft()
