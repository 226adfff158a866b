"""Counting attempts per key in a sliding window (sign-in failures, public submissions,
certificate look-ups), in PostgreSQL so that every server process sees the same counts."""

from __future__ import annotations

from datetime import timedelta

from tortoise import fields
from tortoise.models import Model

from core import clock
from core.errors import RateLimited


class ThrottleHit(Model):
    id = fields.BigIntField(primary_key=True)
    bucket = fields.CharField(max_length=32)
    key = fields.CharField(max_length=128)
    at = fields.DatetimeField()

    class Meta:
        table = "throttle_hit"
        indexes = (("bucket", "key", "at"),)


# No limit looks further back: older hits count for nothing, and are purged hourly (they would
# pile up, one for every certificate verified and every failed sign-in, for ever).
LONGEST_WINDOW = timedelta(hours=1)


async def count(bucket: str, key: str, window: timedelta) -> int:
    if window > LONGEST_WINDOW:
        raise ValueError(f"a window of {window} outlives the hits kept ({LONGEST_WINDOW})")
    return await ThrottleHit.filter(bucket=bucket, key=key, at__gte=clock.now() - window).count()


async def hit(bucket: str, key: str) -> None:
    await ThrottleHit.create(bucket=bucket, key=key, at=clock.now())


async def check(limits: list[tuple[str, str, int]], window: timedelta) -> None:
    """RATE_LIMITED when any (bucket, key) reached its limit within the window."""
    for bucket, key, limit in limits:
        if await count(bucket, key, window) >= limit:
            raise RateLimited()


async def take(bucket: str, key: str, limit: int, window: timedelta) -> None:
    """Check one limit and count this attempt."""
    await check([(bucket, key, limit)], window)
    await hit(bucket, key)


async def purge() -> int:
    """Delete the hits that no window reaches any more; how many."""
    return await ThrottleHit.filter(at__lt=clock.now() - LONGEST_WINDOW).delete()
