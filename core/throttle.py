"""Counting attempts per key in a sliding window (sign-in failures, public submissions,
certificate look-ups), in PostgreSQL so that every server process sees the same counts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from tortoise import fields
from tortoise.models import Model
from tortoise.transactions import in_transaction

from core import clock, orm
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


# Each key's attempts are counted under a transaction lock of its own (taken in a fixed order,
# so that two requests naming the same keys never wait for each other in a cycle): the count
# and the new hit are one decision, which concurrent attempts make one after another.
_LOCK = "SELECT pg_advisory_xact_lock(hashtextextended($1, 7301521))"
_COUNT = "SELECT count(*) AS n FROM throttle_hit WHERE bucket = $1 AND key = $2 AND at >= $3"
_HIT = "INSERT INTO throttle_hit (bucket, key, at) VALUES ($1, $2, $3) RETURNING id"


async def reserve(limits: Sequence[tuple[str, str, int]], window: timedelta) -> list[int]:
    """Count this attempt against each (bucket, key, limit) within the window, atomically:
    RATE_LIMITED, and nothing counted, when any has reached its limit. Twenty attempts at
    once against a limit of five: five are counted, fifteen refused. Inside the caller's
    transaction the attempt counts if that commits (and the keys stay locked until then);
    the ids are for `release`."""
    if window > LONGEST_WINDOW:
        raise ValueError(f"a window of {window} outlives the hits kept ({LONGEST_WINDOW})")
    now = clock.now()
    async with in_transaction():
        db = orm.client()
        for bucket, key in sorted({(bucket, key) for bucket, key, _ in limits}):
            await db.execute_query(_LOCK, [f"{bucket}:{key}"])
        for bucket, key, limit in limits:
            rows = await db.execute_query_dict(_COUNT, [bucket, key, now - window])
            if rows[0]["n"] >= limit:
                raise RateLimited()
        return [(await db.execute_query_dict(_HIT, [bucket, key, now]))[0]["id"]
                for bucket, key, _ in limits]


async def release(hit_ids: Sequence[int]) -> None:
    """Take reserved attempts back: they turned out not to count (a sign-in that succeeded)."""
    await ThrottleHit.filter(id__in=list(hit_ids)).delete()


async def purge() -> int:
    """Delete the hits that no window reaches any more; how many."""
    return await ThrottleHit.filter(at__lt=clock.now() - LONGEST_WINDOW).delete()
