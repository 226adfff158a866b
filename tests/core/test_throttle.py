"""Rate-limit hits (core/throttle.py): counted within their window, purged once no window
reaches them."""

from __future__ import annotations

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
    assert await throttle.count("login.address", "198.51.100.7", timedelta(hours=1)) == 3
    with pytest.raises(RateLimited):  # the limits hold as before
        await throttle.check([("login.address", "198.51.100.7", 3)], timedelta(hours=1))
    assert await throttle.purge() == 0


async def test_no_limit_may_look_further_back_than_the_hits_kept() -> None:
    with pytest.raises(ValueError, match="outlives the hits kept"):
        await throttle.count("login.address", "198.51.100.7", timedelta(hours=2))
