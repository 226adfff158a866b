"""The in-process periodic jobs' one loop: a job runs at start-up, then every so often, in
every server process (each job's statements make concurrent runs harmless), until the process
stops."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, time, timedelta

from core import clock, metrics
from core.errors import is_database_outage

log = logging.getLogger(__name__)

# A run the database's outage failed is tried again this soon, whatever the job's period: a
# daily job would otherwise wait a day (the application's machine may come up before the
# database's after a power cut).
OUTAGE_RETRY_S = 30.0


def until_after_local_midnight() -> float:
    """Seconds from now to half a minute past the offices' next midnight (clock.LOCAL_ZONE):
    the period of a job that does what falls due on a date as the date begins (the half
    minute: the timer may fire a little early)."""
    now = clock.now().astimezone(clock.LOCAL_ZONE)
    due = datetime.combine(now.date() + timedelta(days=1), time(0, 0, 30),
                           tzinfo=clock.LOCAL_ZONE)
    return (due - now).total_seconds()


async def periodic(stop: asyncio.Event, name: str, every: float | Callable[[], float],
                   run: Callable[[], Awaitable[object]]) -> None:
    """`run()` now, then `every` seconds (or as many as `every()` says) after each run, until
    `stop` is set. A failed run is logged and does not end the job. Each run is counted by its
    outcome in /metrics, with the time of the last that succeeded."""
    while not stop.is_set():
        outage = False
        try:
            await run()
        except Exception as exc:  # the job outlives a bad run; the next one retries
            outage = is_database_outage(exc)
            if not outage:
                log.exception("%s failed", name, extra={"job": name})
            metrics.JOB_RUNS.labels(job=name, outcome="outage" if outage else "failed").inc()
        else:
            metrics.JOB_RUNS.labels(job=name, outcome="ok").inc()
            metrics.JOB_LAST_SUCCESS.labels(job=name).set_to_current_time()
        wait = every() if callable(every) else every
        if outage:
            wait = min(wait, OUTAGE_RETRY_S)
            log.warning("%s: database unreachable, retried in %s s", name, wait,
                        extra={"job": name})
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=wait)
