"""Tortoise's asyncpg engine (the `engine` of core/db.py's configuration) with a cheaper way
from a row to a model, no reset round trip after a statement that ended cleanly, and
connections handed out in the order they were asked for (FairPool).

Tortoise builds each model from a dict of the row's columns and sets every attribute through
`object.__setattr__`, and its four bookkeeping attributes through the model's own
`__setattr__`, which looks each one up first: about 27 µs for a supervisor of 25 columns,
half a millisecond of every 20-row page. Here each model's columns are sorted once into the
same three kinds Tortoise uses (passed through, converted by the field's type, converted by
the field) and a row is read straight into the instance's dictionary: the same attributes and
values (tests/core/test_orm.py compares them), in less than half the time. A joined row
(`select_related`) is split as Tortoise splits it, each model's part read the same way. A
part missing a column (`.only()`) is built Tortoise's own way.

asyncpg's pool resets every connection it takes back (`pg_advisory_unlock_all(); CLOSE ALL;
UNLISTEN *; RESET ALL`): one more round trip, and a wake-up of the server, after every
statement outside a transaction, a sixth of a whole county-list request. The reset undoes
session state: locks, cursors, listeners and settings a use of the connection left behind.
A single statement in autocommit, or a transaction that committed, leaves none of that here
(the platform takes only transaction-scoped locks, sets only transaction-local settings, and
listens on its own connection, core/events.py), so a use that ends without an exception is
released without the reset. Anything else is reset as asyncpg would: a statement that failed
or was cancelled (the pool first waits for the cancellation to finish), a script, which may
set anything. tests/core/test_orm.py shows each case.

A clean connection's release then waits for nothing, and is run in place: asyncpg runs every
release in a task of its own (`asyncio.shield`, so that a cancelled caller cannot leave it half
done) under a timer, a task and a turn of the event loop per statement; a release that never
waits cannot be interrupted. Acquiring skips its timer when a connection is free at once. In
process, 32 concurrent county lists at M: ~5 % less CPU a request.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from datetime import UTC
from typing import Any

import asyncpg
from asyncpg.pool import PoolConnectionProxy
from tortoise import timezone
from tortoise.backends.asyncpg.client import AsyncpgDBClient, TransactionWrapper
from tortoise.backends.asyncpg.executor import AsyncpgExecutor
from tortoise.backends.base.client import PoolConnectionWrapper, TransactionContextPooled
from tortoise.backends.base.executor import CHUNK_SIZE
from tortoise.backends.base_postgres.client import translate_exceptions
from tortoise.context import require_context
from tortoise.fields.data import CharEnumFieldInstance, DatetimeField, IntEnumFieldInstance
from tortoise.models import Model


def client() -> Any:
    """The database client of the running task: the transaction's inside `in_transaction`,
    else the pool's. Tortoise's `connections` proxy, deprecated in 1.x, takes ~5 µs a call
    to find it (an import and two lookups each time); this ~1."""
    return require_context().connections.get("default")


class Hydrator:
    """Builds instances of one model from complete rows (asyncpg records).

    For each order of columns a statement returns, one function is written (and compiled)
    that reads each column by position into the instance's dictionary, with no loop over
    the columns: a supervisor in 2.4 µs instead of 4.0, a case in 4.8 instead of 8.5."""

    def __init__(self, model: type[Model]) -> None:
        meta = model._meta
        self.model = model
        self.native = [(column, attribute) for column, attribute, _ in meta.db_native_fields]
        self.typed = [(column, attribute, field.field_type)
                      for column, attribute, field in meta.db_default_fields]
        self.converted: list[tuple[str, str, Callable[[Any], Any]]] = [
            (column, attribute, _enum_member(field) or field.to_python_value)
            for column, attribute, field in meta.db_complex_fields]
        self.custom_pk = meta.db_pk_column not in meta.generated_db_fields
        self._readers: dict[tuple[tuple[str, ...], int], Callable[[Any], Model] | None] = {}

    def reader(self, row: Any) -> Callable[[Any], Model] | None:
        """The builder of rows with this row's columns in this order; None when the row lacks
        one of the model's columns (`.only()`)."""
        return self.reader_of(tuple(row.keys()))

    def reader_of(self, columns: tuple[str, ...], start: int = 0
                  ) -> Callable[[Any], Model] | None:
        """The builder of an instance from the `columns` of rows, the first at `start` (a
        joined model's part of a row); None when one of the model's columns is missing."""
        try:
            return self._readers[columns, start]
        except KeyError:
            made = self._readers[columns, start] = self._write(columns, start)
            return made

    def __call__(self, row: Any) -> Model:
        """The instance, or KeyError when the row lacks one of the model's columns."""
        read = self.reader(row)
        if read is None:
            raise KeyError(row.keys())
        return read(row)

    def _write(self, columns: tuple[str, ...], start: int) -> Callable[[Any], Model] | None:
        try:
            return self._compile({column: start + index for index, column in enumerate(columns)})
        except KeyError:  # a column of the model is missing
            return None

    def _compile(self, at: dict[str, int]) -> Callable[[Any], Model]:
        # Tortoise's time zone settings, read when the reader is written (as the zone is)
        aware = timezone.get_use_tz()
        scope: dict[str, Any] = {"model": self.model, "UTC": UTC,
                                 "zone": timezone.get_default_timezone()}
        lines = ["instance = model.__new__(model)", "d = instance.__dict__",
                 "d['_partial'] = False", "d['_saved_in_db'] = True",
                 f"d['_custom_generated_pk'] = {self.custom_pk!r}", "d['_await_when_save'] = {}"]
        for column, attribute in self.native:
            lines.append(f"d[{attribute!r}] = row[{at[column]}]")
        for n, (column, attribute, kind) in enumerate(self.typed):
            scope[f"kind{n}"] = kind
            lines += [f"v = row[{at[column]}]",
                      f"d[{attribute!r}] = None if v is None else kind{n}(v)"]
        for n, (column, attribute, convert) in enumerate(self.converted):
            scope[f"convert{n}"] = convert
            lines.append(f"v = row[{at[column]}]")
            if aware and _is_datetime(convert):
                # asyncpg gives timestamptz in UTC: Tortoise's conversion, without its checks
                lines.append(f"d[{attribute!r}] = v.astimezone(zone) if v is not None and "
                             f"v.tzinfo is UTC else convert{n}(v)")
            else:
                lines.append(f"d[{attribute!r}] = convert{n}(v)")
        lines.append("return instance")
        source = "def read(row):\n" + "".join(f"    {line}\n" for line in lines)
        exec(compile(source, f"<hydrator of {self.model.__name__}>", "exec"), scope)  # noqa: S102
        read: Callable[[Any], Model] = scope["read"]
        return read


def _is_datetime(convert: Callable[[Any], Any]) -> bool:
    return getattr(convert, "__func__", None) is DatetimeField.to_python_value


def _enum_member(field: Any) -> Callable[[Any], Any] | None:
    """An enum column's member by a dictionary lookup: what Tortoise's `enum_type(value)`
    returns, without a call of the enum's metaclass per row and column."""
    if type(field).to_python_value not in (CharEnumFieldInstance.to_python_value,
                                           IntEnumFieldInstance.to_python_value):
        return None
    enum_type = field.enum_type
    members = dict(enum_type._value2member_map_)

    def member(value: Any) -> Any:
        if value is None:
            return None
        found = members.get(value)
        return found if found is not None else enum_type(value)

    return member


@functools.cache
def hydrator(model: type[Model]) -> Hydrator:
    return Hydrator(model)


# A joined model's part of a row: the model, its builder, where its columns start and end, and
# where it goes: the path of the instance it belongs to and the attribute it is kept in there.
_Part = tuple[type[Model], Callable[[Any], Model], int, int, tuple[Any, ...], str]


def _builder(model: type[Model], names: tuple[str, ...], start: int
             ) -> Callable[[Any], Model]:
    """An instance of `model` from `names`, its columns at `start` of a row: written for
    them, or built Tortoise's way when one of the model's columns is missing."""
    read = hydrator(model).reader_of(names, start)
    if read is not None:
        return read
    at = range(start, start + len(names))
    return lambda row: model._init_from_db(**{n: row[i] for n, i in zip(names, at, strict=True)})


@functools.cache
def _parts(model: type[Model], related: tuple[Any, ...], columns: tuple[str, ...]
           ) -> tuple[Callable[[Any], Model], tuple[_Part, ...]]:
    """How a row of `select_related` is split, as Tortoise splits it (its
    `select_related_idx`: the model, then each joined one with its number of columns, in the
    row's order, the joined ones' columns named `table.column`)."""
    end = related[0][1]
    main = _builder(model, columns[:end], 0)
    parts: list[_Part] = []
    for joined, count, *_, full_path in related[1:]:
        names = tuple(column.split(".", 1)[1] for column in columns[end:end + count])
        (*path, attribute) = full_path
        parts.append((joined, _builder(joined, names, end), end, end + count, tuple(path),
                      attribute))
        end += count
    return main, tuple(parts)


def _joined(row: Any, main: Callable[[Any], Model], parts: tuple[_Part, ...],
            root: tuple[Any, ...]) -> Model:
    """A row of `select_related` as Tortoise builds it: the model, and each joined one kept
    in its attribute (`_agency`, ...): None where the join found nothing (no column with a
    true value), an empty one where none of its columns was selected."""
    instance = main(row)
    instances: dict[tuple[Any, ...], Model] = {root: instance}
    for model, read, start, end, path, attribute in parts:
        if any(row[index] for index in range(start, end)):
            found: Model | None = read(row)
        else:
            found = model._init_from_db() if start == end else None
        target = instances.get(path)
        if target is not None:
            object.__setattr__(target, f"_{attribute}", found)
        if found is not None:
            instances[(*path, attribute)] = found
    return instance


class Executor(AsyncpgExecutor):
    async def execute_select(self, sql: str, values: list[Any] | None = None,
                             custom_fields: list[Any] | None = None) -> list[Any]:
        related = self.select_related_idx or []
        if related and related[0][0] is not self.model:
            return await super().execute_select(sql, values, custom_fields)
        _, rows = await self.db.execute_query(sql, values)
        if not rows:
            return []
        columns = tuple(rows[0].keys())
        read: Callable[[Any], Model]
        if len(related) > 1:
            main, parts = _parts(self.model, tuple(map(tuple, related)), columns)
            root = tuple(related[0][4])

            def read(row: Any) -> Model:
                return _joined(row, main, parts, root)
        else:
            read = _builder(self.model, columns, 0)
        instances = []
        for index, row in enumerate(rows):
            if index and index % CHUNK_SIZE == 0:
                await asyncio.sleep(0)  # as Tortoise does: let others run during a long read
            instance = read(row)
            for name in custom_fields or ():
                object.__setattr__(instance, name, row[name])
            instances.append(instance)
        await self._execute_prefetch_queries(instances)
        return instances


class Connection(asyncpg.Connection):
    """A pooled connection that knows whether its last use left the session as it was."""

    _clean = False

    def mark_clean(self) -> None:
        self._clean = True

    def take_clean(self) -> bool:
        clean, self._clean = self._clean, False
        return clean


async def reset(connection: Connection) -> None:
    """The pool's reset of a returned connection (asyncpg has already rolled back any open
    transaction): the full reset query, unless the use ended cleanly."""
    if not connection.take_clean():
        await connection.execute(connection.get_reset_query())


class _Acquired(PoolConnectionWrapper[Connection]):
    async def __aexit__(self, exc_type: Any, exc_val: Any, exc_tb: Any) -> None:
        if exc_type is None and self.connection is not None:
            self.connection.mark_clean()
        await super().__aexit__(exc_type, exc_val, exc_tb)


class _Transaction(TransactionWrapper):
    async def commit(self) -> None:
        await super().commit()
        self._connection.mark_clean()


class FairPool(asyncpg.Pool):
    """asyncpg's pool, handing out connections in the order they were asked for.

    asyncpg's waiters for a connection queue on an `asyncio.Queue`, where a returned
    connection goes to the first waiter only if nobody asks in between: a request that asks
    while the woken waiter has not run yet takes it, and the waiter goes to the back of the
    queue. With more requests in flight than connections (32 and 10 in the benchmark) some
    waited turn after turn: Q1 at M had a p50 of 53 ms and a p99 of 211 ms. Here a
    connection is taken only with a turn from a fair semaphore (one per connection), given
    back when the connection is released: p99 ~100–140 ms with the same throughput."""

    def __init__(self, dsn: str | None = None, **kwargs: Any) -> None:
        # asyncpg.create_pool's defaults for what the caller leaves out; this module's reset
        settings = {**(asyncpg.create_pool.__kwdefaults__ or {}),
                    "connection_class": Connection, **kwargs, "reset": reset}
        super().__init__(dsn, **settings)
        self._turns = asyncio.Semaphore(settings["max_size"])
        # the connections handed out, each holding a turn until it is released: a connection
        # lost while held between statements (a transaction's, a request awaiting something
        # else) is detached from its holder before its release comes, and its turn must
        # still come back (once, however often it is released)
        self._out: set[Any] = set()

    async def _acquire(self, timeout: float | None) -> Any:  # noqa: ASYNC109 (asyncpg's)
        if timeout is None or not self._turns.locked():  # a turn at once: no timer
            await self._turns.acquire()
        else:
            async with asyncio.timeout(timeout):
                await self._turns.acquire()
        try:
            connection = self._ready(timeout) or await super()._acquire(timeout)
        except BaseException:
            self._turns.release()
            raise
        self._out.add(connection)
        return connection

    def _ready(self, timeout: float | None) -> Any:
        """An idle connection that is open and current, taken as asyncpg's acquire takes it,
        without its three coroutines and its queue's wait (with a turn there always is one
        idle: a connection is back before its turn is); None where asyncpg must (re)connect
        or set one up, or is closing. 13 -> 9 µs a use with its release, measured alone."""
        queue = self._queue
        if (queue.empty() or self._closing or self._closed or not self._initialized
                or self._setup is not None):  # asyncpg's acquire says why it cannot
            return None
        holder = queue.get_nowait()
        con = holder._con
        if con is None or con.is_closed() or holder._generation != self._generation:
            queue.put_nowait(holder)
            return None
        holder._maybe_cancel_inactive_callback()
        holder._proxy = proxy = PoolConnectionProxy(holder, con)
        holder._in_use = self._loop.create_future()
        holder._timeout = timeout
        return proxy

    async def release(self, connection: Any, *,
                      timeout: float | None = None) -> None:  # noqa: ASYNC109 (asyncpg's)
        taken = connection in self._out
        self._out.discard(connection)
        holder: Any = getattr(connection, "_holder", None)
        try:
            if taken and connection._con is not None and self._at_rest(holder):
                # asyncpg's release with nothing to wait for, run in place: asyncpg runs it
                # in a task of its own (shield), so that a cancelled caller cannot leave it
                # half done, and under a timer; one that never waits cannot be interrupted
                connection._con._on_release()
                holder._con.take_clean()
                holder._timeout = None
                holder._release()
                holder._setup_inactive_callback()
            else:
                await super().release(connection, timeout=timeout)
        finally:
            if taken:
                self._turns.release()

    def _at_rest(self, holder: Any) -> bool:
        """Whether asyncpg's release of the holder's connection would wait for nothing: open,
        clean (its reset is none, above), no transaction, no cancellation under way, neither
        worn out (max_queries) nor expired, no listeners left (asyncpg warns of those)."""
        con: Connection = holder._con
        return (con._clean and not con.is_closed() and not con._protocol.is_in_transaction()
                and con._top_xact is None and not con._protocol._is_cancelling()
                and con._protocol.queries_count < holder._max_queries
                and holder._generation == self._generation
                and not con._listeners and not con._log_listeners)


class Client(AsyncpgDBClient):
    executor_class = Executor
    connection_class = Connection

    async def create_pool(self, **kwargs: Any) -> asyncpg.Pool:
        return await FairPool(None, **kwargs)

    def acquire_connection(self) -> _Acquired:
        return _Acquired(self, self._pool_init_lock)

    def _in_transaction(self) -> TransactionContextPooled:
        return TransactionContextPooled(_Transaction(self), self._pool_init_lock)

    @translate_exceptions
    async def fetch_value(self, query: str, values: list[Any]) -> Any:
        """The first column of the first row, errors translated as `execute_query`'s; without
        its work for a statement that may be a write (it uppercases the whole text to tell)."""
        if self._pool is None:  # not connected yet (the database was down at start)
            await self.acquire_connection().ensure_connection()
        # the pool's own acquire and release, without Tortoise's wrapper around them: ~4 % of
        # a case detail's CPU at size M (same process, alternated ten rounds)
        pool: asyncpg.Pool = self._pool  # made just above
        connection = await pool.acquire()
        clean = False
        try:
            self.log.debug("%s: %s", query, values)  # as Tortoise logs each (tests count them)
            value = await connection.fetchval(query, *values)
            clean = True
            return value
        finally:
            if clean:
                connection.mark_clean()
            await pool.release(connection)

    @translate_exceptions
    async def execute_script(self, query: str) -> None:
        """A script may change the session (SET, LISTEN, …): its connection is reset."""
        script: PoolConnectionWrapper[Connection] = PoolConnectionWrapper(
            self, self._pool_init_lock)
        async with script as connection:
            self.log.debug(query)
            await connection.execute(query)


client_class = Client
