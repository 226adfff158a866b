"""now(): the one source of time, replaceable in tests."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

_source: Callable[[], datetime] = lambda: datetime.now(UTC)  # noqa: E731


def now() -> datetime:
    """The current time, timezone-aware UTC."""
    return _source()


def set_source(source: Callable[[], datetime] | None) -> None:
    """Replace the clock (tests); None restores the real one."""
    global _source
    _source = source or (lambda: datetime.now(UTC))


LOCAL_ZONE = ZoneInfo("Asia/Shanghai")


def today() -> date:
    """Today's date where the offices are (terms and due dates are local dates)."""
    return now().astimezone(LOCAL_ZONE).date()


def local_midnight(day: date) -> datetime:
    """The instant a local date begins where the offices are."""
    return datetime.combine(day, time.min, tzinfo=LOCAL_ZONE)
