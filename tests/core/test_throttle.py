"""Rate-limit hits (core/throttle.py): counted within their window, purged once no window
reaches them."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from core import clock, throttle
from core.errors import RateLimited
from core.throttle import ThrottleHit


async def test_hits_no_window_reaches_are_purged_and_the_rest_still_count() -> None:
    now = clock.now()
    for minutes_ago in (0, 30, 59, 61, 600, 60 * 24 * 90):
        await ThrottleHit.create(bucket="login.address", key="198.51.100.7",
                                 at=now - timedelta(minutes=minutes_ago))
    await ThrottleHit.create(bucket="certificate.verify", key="198.51.100.8",
                             at=now - timedelta(days=400))

    assert await throttle.purge() == 4

    kept = await ThrottleHit.all().order_by("-at").values_list("at", flat=True)
    assert kept == [now, now - timedelta(minutes=30), now - timedelta(minutes=59)]
    with pytest.raises(RateLimited):  # the limits hold as before: three hits in the hour
        await throttle.reserve([("login.address", "198.51.100.7", 3)], timedelta(hours=1))
    assert await ThrottleHit.all().count() == 3  # a refused attempt is not counted
    assert await throttle.purge() == 0


async def test_no_limit_may_look_further_back_than_the_hits_kept() -> None:
    with pytest.raises(ValueError, match="outlives the hits kept"):
        await throttle.reserve([("login.address", "198.51.100.7", 3)], timedelta(hours=2))


async def test_concurrent_attempts_are_counted_one_after_another() -> None:
    """Twenty at once against a limit of five (and a second key they share): five counted,
    fifteen refused, every time."""
    for round_ in range(5):
        results = await asyncio.gather(*(
            throttle.reserve([("login.account", f"a{round_}", 5),
                              ("login.address", f"198.51.100.{round_}", 100)],
                             timedelta(minutes=15)) for _ in range(20)),
            return_exceptions=True)
        assert sum(isinstance(r, RateLimited) for r in results) == 15
        assert await ThrottleHit.filter(bucket="login.account", key=f"a{round_}").count() == 5
        taken = [r for r in results if isinstance(r, list)]
        await throttle.release(taken[0])
        assert await ThrottleHit.filter(bucket="login.account", key=f"a{round_}").count() == 4
