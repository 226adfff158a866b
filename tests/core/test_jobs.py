"""The periodic jobs' loop (core/jobs.py): a failed run does not end a job, and a run the
database's outage failed is tried again soon, not a period later."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import asyncpg
import pytest

from core import clock, jobs
from policies.enforcer import PolicyStore
from tests.support import Api


async def _run_for(seconds: float, every: float | Callable[[], float],
                   run: Callable[[], Awaitable[object]], name: str = "test-job") -> None:
    stop = asyncio.Event()
    job = asyncio.create_task(jobs.periodic(stop, name, every, run))
    await asyncio.sleep(seconds)
    stop.set()
    await asyncio.wait_for(job, timeout=5)


async def _connection_refused() -> None:  # a socket directory with no server
    await asyncpg.connect(host="/nonexistent-socket-dir", user="postgres")


async def _policy_not_loaded() -> None:  # the database back, the listener not yet
    PolicyStore().holders_of("jl.th")


@pytest.mark.parametrize("outage", [_connection_refused, _policy_not_loaded])
async def test_a_run_failed_by_an_outage_is_retried_soon(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
        database_url: str, outage: Callable[[], Awaitable[None]]) -> None:
    monkeypatch.setattr(jobs, "OUTAGE_RETRY_S", 0.1)
    runs: list[str] = []

    async def run() -> None:
        if len(runs) < 2:
            runs.append("outage")
            await outage()
        runs.append("ran")
        conn = await asyncpg.connect(database_url)  # and back
        await conn.close()

    with caplog.at_level(logging.WARNING, logger="core.jobs"):
        await _run_for(1.0, 3600, run)
    assert runs == ["outage", "outage", "ran"]  # then the day's wait
    assert [r.message for r in caplog.records] == [
        "test-job: database unreachable, retried in 0.1 s"] * 2


async def test_another_failure_is_logged_and_waits_for_the_next_period(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(jobs, "OUTAGE_RETRY_S", 0.1)
    runs = 0

    async def run() -> None:
        nonlocal runs
        runs += 1
        raise ValueError("a bug")

    with caplog.at_level(logging.ERROR, logger="core.jobs"):
        await _run_for(0.5, 3600, run)
    assert runs == 1
    assert [(r.message, r.exc_info is not None) for r in caplog.records] == [
        ("test-job failed", True)]
    with caplog.at_level(logging.ERROR, logger="core.jobs"):
        await _run_for(0.5, 0.1, run)  # a short period: the job lives on
    assert runs >= 3


@pytest.mark.parametrize(("local", "seconds"), [
    ("2026-03-01T23:59:00", 90), ("2026-03-02T00:00:30", 24 * 3600),
    ("2026-03-02T12:00:00", 12 * 3600 + 30), ("2026-12-31T23:59:59.5", 30.5)])
def test_a_daily_job_is_due_just_after_the_offices_midnight(local: str, seconds: float) -> None:
    """R2.2: a term that ended on a date is expired as the next date begins where the offices
    are (UTC+8), not at whatever hour the server started."""
    at = datetime.fromisoformat(local).replace(tzinfo=clock.LOCAL_ZONE)
    clock.set_source(lambda: at.astimezone(UTC))
    try:
        assert jobs.until_after_local_midnight() == seconds
    finally:
        clock.set_source(None)


async def test_a_job_waits_as_long_as_its_schedule_says() -> None:
    runs = 0
    waits = iter([0.05, 0.05, 3600])

    async def run() -> None:
        nonlocal runs
        runs += 1

    await _run_for(0.5, lambda: next(waits), run)
    assert runs == 3


async def test_runs_are_counted_for_the_operators(api: Api) -> None:
    """/metrics counts each job's runs by outcome and gives when it last succeeded: an
    operator alerts on a daily job whose last success is over a day old."""
    outcomes = iter(["ok", "failed", "outage", "ok"])

    async def run() -> None:
        outcome = next(outcomes, "ok")
        if outcome == "failed":
            raise ValueError("a bug")
        if outcome == "outage":
            await asyncpg.connect(host="/nonexistent-socket-dir", user="postgres")

    def counted(text: str, outcome: str) -> float:
        found = re.search(rf'job_runs_total{{job="counted-job",outcome="{outcome}"}} (\S+)',
                          text)
        return float(found.group(1)) if found else 0.0

    before = time.time()
    await _run_for(0.5, 0.1, run, name="counted-job")
    text = (await api.client.get("/metrics")).text
    assert counted(text, "ok") >= 2
    assert counted(text, "failed") == counted(text, "outage") == 1
    last = re.search(r'job_last_success_timestamp_seconds{job="counted-job"} (\S+)', text)
    assert last is not None and before <= float(last.group(1)) <= time.time()
