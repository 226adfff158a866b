"""Tortoise's asyncpg engine (the `engine` of core/db.py's configuration), its pool without
the reset query after each use.

asyncpg's pool resets every connection it takes back (`pg_advisory_unlock_all(); CLOSE ALL;
UNLISTEN *; RESET ALL`): one more round trip, and a wake-up of the server, after every
statement outside a transaction. That query undoes session state, and the server's code
leaves none: it takes only transaction-scoped locks (`pg_advisory_xact_lock`), sets only
transaction-local settings, keeps cursors only inside transactions and listens on a
connection of its own (core/events.py); tests/core/test_orm.py checks the source for each.
What asyncpg does before any reset still happens (an open transaction rolled back, a
cancellation waited for, a broken connection closed), and then asyncpg's public `reset`
hook is given nothing more to do.
"""

from __future__ import annotations

from typing import Any

import asyncpg
from tortoise.backends.asyncpg.client import AsyncpgDBClient
from tortoise.backends.base_postgres.client import translate_exceptions
from tortoise.context import require_context


def client() -> Any:
    """The database client of the running task: the transaction's inside `in_transaction`,
    else the pool's."""
    return require_context().connections.get("default")


async def no_session_state(connection: asyncpg.Connection) -> None:
    """The pool's reset of a connection given back: nothing to undo (above)."""


class Client(AsyncpgDBClient):
    async def create_pool(self, **kwargs: Any) -> asyncpg.Pool:
        return await asyncpg.create_pool(None, reset=no_session_state, **kwargs)

    @translate_exceptions
    async def fetch_value(self, query: str, values: list[Any]) -> Any:
        """The first column of the first row, errors translated as `execute_query`'s."""
        async with self.acquire_connection() as connection:
            self.log.debug("%s: %s", query, values)  # as Tortoise logs each (tests count them)
            return await connection.fetchval(query, *values)

    @translate_exceptions
    async def execute_script(self, query: str) -> None:
        """A script may set anything (SET, LISTEN, …): its connection is reset after it."""
        async with self.acquire_connection() as connection:
            self.log.debug(query)
            await connection.execute(query)
            await connection.reset()


client_class = Client
