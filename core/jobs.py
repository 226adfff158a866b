"""The in-process periodic jobs' one loop: a job runs at start-up, then every so often, in
every server process (each job's statements make concurrent runs harmless), until the process
stops."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from core.errors import is_database_outage

log = logging.getLogger(__name__)

# A run the database's outage failed is tried again this soon, whatever the job's period: a
# daily job would otherwise wait a day (the application's machine may come up before the
# database's after a power cut).
OUTAGE_RETRY_S = 30.0


async def periodic(stop: asyncio.Event, name: str, every: float,
                   run: Callable[[], Awaitable[object]]) -> None:
    """`run()` now, then `every` seconds after each run, until `stop` is set. A failed run is
    logged and does not end the job."""
    while not stop.is_set():
        wait = every
        try:
            await run()
        except Exception as exc:  # the job outlives a bad run; the next one retries
            if is_database_outage(exc):
                wait = min(every, OUTAGE_RETRY_S)
                log.warning("%s: database unreachable, retried in %s s", name, wait,
                            extra={"job": name})
            else:
                log.exception("%s failed", name, extra={"job": name})
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=wait)
