"""Work of concurrent requests done together: while one batch is being done, what other
requests hand in waits, and the next batch takes all of it. Each request goes on with its own
item's outcome once its batch is done, as when each was done alone. Under load a cost paid
once per batch (a lock, a round trip, the commit's flush) is paid once for many requests."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class _Waiting(Generic[T, R]):
    """One event loop's items waiting and its batch under way (futures belong to a loop)."""

    def __init__(self) -> None:
        self.items: list[tuple[T, asyncio.Future[R]]] = []
        self.doing: asyncio.Task[None] | None = None


class Batches(Generic[T, R]):
    """`do` takes a batch's items in the order handed in and returns each one's outcome in
    that order: its result, or the exception its request raises."""

    def __init__(self, do: Callable[[list[T]], Awaitable[list[R | BaseException]]]) -> None:
        self._do = do
        self._loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Waiting[T, R]] = (
            weakref.WeakKeyDictionary())

    async def hand_in(self, item: T) -> R:
        """The item's outcome, once the batch that takes it is done. The batch runs in a task
        of its own: a request cancelled meanwhile does not cancel it."""
        loop = asyncio.get_running_loop()
        waiting = self._loops.get(loop)
        if waiting is None:
            waiting = self._loops[loop] = _Waiting()
        done: asyncio.Future[R] = loop.create_future()
        waiting.items.append((item, done))
        if waiting.doing is None:
            waiting.doing = asyncio.create_task(self._drain(waiting))
        return await done

    async def _drain(self, waiting: _Waiting[T, R]) -> None:
        try:
            while waiting.items:
                batch, waiting.items = waiting.items, []
                try:
                    outcomes = await self._do([item for item, _ in batch])
                except Exception as exc:  # each waiting request answers it (an outage)
                    outcomes = [exc] * len(batch)
                for (_, done), outcome in zip(batch, outcomes, strict=True):
                    if done.done():
                        continue
                    if isinstance(outcome, BaseException):
                        done.set_exception(outcome)
                    else:
                        done.set_result(outcome)
        finally:
            waiting.doing = None
