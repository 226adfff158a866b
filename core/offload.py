"""CPU-heavy work off the event loop (QR codes, evidence cleaning), in a small pool of processes
of its own. Threads would not do: such work holds the interpreter lock, and busy threads starve
the event loop's thread of it (seen under load: the loop stalled for most of a second with the
rendering in threads). The pool starts with the first job and ends with the process."""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import TypeVar

T = TypeVar("T")
PROCESSES = 2
_pool: ProcessPoolExecutor | None = None


def _executor() -> ProcessPoolExecutor:
    global _pool
    if _pool is None:  # spawned, not forked: the parent's event loop and connections stay
        _pool = ProcessPoolExecutor(PROCESSES, mp_context=multiprocessing.get_context("spawn"))
    return _pool


async def run(work: Callable[..., T], *args: object) -> T:
    """`work(*args)` in the pool; `work` and its arguments must pickle (a module's function
    of plain values)."""
    return await asyncio.get_running_loop().run_in_executor(_executor(), work, *args)


def shutdown() -> None:
    global _pool
    if _pool is not None:
        _pool.shutdown(wait=False, cancel_futures=True)
        _pool = None
