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


async def count(bucket: str, key: str, window: timedelta) -> int:
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
