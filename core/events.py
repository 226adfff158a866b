"""Publish / subscribe across processes over PostgreSQL LISTEN/NOTIFY.

publish() inside a transaction is delivered on commit (payloads stay small: send ids).
Listener keeps one dedicated connection per process and reconnects when it drops.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import asyncpg

from core import orm

log = logging.getLogger(__name__)
Handler = Callable[[str], Coroutine[Any, Any, None]]


async def publish(channel: str, payload: str = "") -> None:
    """Notify every listening process (on commit, when called inside a transaction)."""
    await orm.client().execute_query("SELECT pg_notify($1, $2)", [channel, payload])


class Mirror:
    """Data kept in process memory while this process listens for the notices that say it
    changed (`resume` on each (re)connect of the listener, `suspend` when it drops): a notice
    sent while nobody listens is lost, so a suspended mirror keeps nothing and its users read
    the database."""

    def __init__(self) -> None:
        self.listening = False
        # Counts the clears: what was read from the database before a clear may be stale, so
        # it is kept only when the generation it was read in is still the current one.
        self.generation = 0

    def clear(self) -> None:
        self.generation += 1
        self.forget()

    def forget(self) -> None:
        raise NotImplementedError

    async def on_notice(self, _payload: str) -> None:
        self.clear()

    def resume(self) -> None:
        self.clear()
        self.listening = True

    def suspend(self) -> None:
        self.listening = False
        self.clear()


class Listener:
    """Runs handlers for notices on the given channels until stopped."""

    def __init__(self, credentials: dict[str, Any], handlers: dict[str, Handler]) -> None:
        self.credentials = {
            k: credentials[k] for k in ("host", "port", "user", "password", "database")
        }
        self.handlers = handlers
        self._task: asyncio.Task[None] | None = None
        self.connected = asyncio.Event()
        # Called after each (re)connect: notices sent while disconnected are lost, so catch up.
        self.on_connect: Callable[[], Awaitable[None]] | None = None
        # Called when the connection drops or the listener stops: from then on notices are missed.
        self.on_disconnect: Callable[[], None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="events-listener")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        delay = 0.5
        while True:
            try:
                conn = await asyncpg.connect(**self.credentials)
            except (OSError, asyncpg.PostgresError) as exc:
                log.warning("listener cannot connect: %s", exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10)
                continue
            delay = 0.5
            lost = asyncio.Event()
            conn.add_termination_listener(lambda _c, lost=lost: lost.set())
            try:
                for channel in self.handlers:
                    await conn.add_listener(channel, self._dispatch)
                if self.on_connect:
                    await self.on_connect()
                self.connected.set()
                while not lost.is_set():
                    try:
                        await asyncio.wait_for(lost.wait(), timeout=30)
                    except TimeoutError:  # a silent network drop shows up as a failed ping
                        await conn.fetchval("SELECT 1", timeout=5)
                log.warning("listener connection lost; reconnecting")
            except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
                log.warning("listener failed: %s; reconnecting", exc)
            finally:
                self.connected.clear()
                if self.on_disconnect:
                    self.on_disconnect()
                with contextlib.suppress(Exception):
                    await conn.close()

    def _dispatch(self, _conn: object, _pid: int, channel: str, payload: str) -> None:
        handler = self.handlers[channel]
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(handler(payload))
        task.add_done_callback(_log_failure)


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception():
        log.error("event handler failed", exc_info=task.exception())
