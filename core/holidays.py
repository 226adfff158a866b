"""China's official calendar as data (R5.1 due dates in working days): each year's holidays and
adjusted working weekends, with where they came from. The years the `chinesecalendar` package
knows are seeded by every `migrate`; an operator loads a newly published year from the State
Council's notice (`python -m core load-holidays FILE`), which recomputes the open cases' due
dates (core/cases/service.py). Every process keeps the calendar while it hears the notices
that say it changed."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from importlib.metadata import version
from pathlib import Path
from typing import Any

import asyncpg
import chinese_calendar
from tortoise import fields
from tortoise.models import Model

from core import clock, orm
from core.errors import InvalidInput
from core.events import Mirror

# The statutory holidays on fixed dates (全国年节及纪念日放假办法: New Year's Day, Labour Day,
# National Day): what is certain of a year whose schedule is not yet published.
FIXED_HOLIDAYS = frozenset({(1, 1), (5, 1), (5, 2), (10, 1), (10, 2), (10, 3)})


@dataclass(frozen=True)
class Calendar:
    """China's official calendar as the platform holds it (core/holidays.py): for each year
    whose schedule was loaded, its holidays and its adjusted working weekends; any other day
    of such a year is a working day from Monday to Friday. A year not loaded counts Monday to
    Friday less the fixed-date statutory holidays, and what it decides is provisional."""

    known_years: frozenset[int]
    exceptions: Mapping[date, bool]  # a holiday: False; an adjusted working weekend: True

    def is_working_day(self, day: date) -> bool:
        if day in self.exceptions:
            return self.exceptions[day]
        if day.year not in self.known_years and (day.month, day.day) in FIXED_HOLIDAYS:
            return False
        return day.weekday() < 5

    def add_working_days(self, start: date, days: int) -> date:
        """The date `days` working days after `start` (the start day itself not counted)."""
        day = start
        counted = 0
        while counted < days:
            day += timedelta(days=1)
            counted += self.is_working_day(day)
        return day

    def due_at(self, transferred: datetime, days: int) -> datetime:
        """R5.1: the end (23:59:59 local time) of the last working day allowed for the
        reply."""
        local_day = transferred.astimezone(clock.LOCAL_ZONE).date()
        last = self.add_working_days(local_day, days)
        return datetime.combine(last, time(23, 59, 59), tzinfo=clock.LOCAL_ZONE)

    def provisional(self, transferred: datetime, due: datetime) -> bool:
        """Whether a due date counted days of a year whose schedule is not loaded."""
        first = transferred.astimezone(clock.LOCAL_ZONE).year
        last = due.astimezone(clock.LOCAL_ZONE).year
        return any(year not in self.known_years for year in range(first, last + 1))


CHANNEL = "calendar"
PACKAGE_SOURCE = (f"chinesecalendar {version('chinesecalendar')} "
                  "(国务院办公厅关于部分节假日安排的通知)")


class HolidayYear(Model):
    """A year whose schedule the platform holds, and its source (the notice)."""

    year = fields.IntField(primary_key=True, generated=False)
    source = fields.CharField(max_length=300)
    loaded_at = fields.DatetimeField()
    loaded_by = fields.CharField(max_length=64)

    class Meta:
        table = "holiday_year"


class HolidayDay(Model):
    """A day off its weekday's rule: a holiday (working False) or an adjusted working
    weekend (working True)."""

    day = fields.DateField(primary_key=True)
    year: fields.ForeignKeyRelation[HolidayYear] = fields.ForeignKeyField(
        "models.HolidayYear", related_name="days", on_delete=fields.CASCADE)
    year_id: int  # set by Tortoise from `year`
    working = fields.BooleanField()
    name = fields.CharField(max_length=50, default="")

    class Meta:
        table = "holiday_day"
        indexes = (("year_id", "day"),)


class KeptCalendar(Mirror):
    """The calendar, read once while this process listens for CHANNEL's notices."""

    def __init__(self) -> None:
        super().__init__()
        self._calendar: Calendar | None = None

    def forget(self) -> None:
        self._calendar = None

    async def get(self) -> Calendar:
        if self.listening and self._calendar is not None:
            return self._calendar
        generation = self.generation
        years = frozenset(int(r["year"]) for r in await HolidayYear.all().values("year"))
        days = {d: w for d, w in await HolidayDay.all().values_list("day", "working")}
        found = Calendar(years, days)
        if self.listening and generation == self.generation:
            self._calendar = found
        return found


kept = KeptCalendar()


async def calendar() -> Calendar:
    return await kept.get()


def _package_years() -> dict[int, dict[date, tuple[bool, str]]]:
    years: dict[int, dict[date, tuple[bool, str]]] = {}
    for day, name in chinese_calendar.holidays.items():
        years.setdefault(day.year, {})[day] = (False, str(name))
    for day, name in chinese_calendar.workdays.items():
        years.setdefault(day.year, {})[day] = (True, str(name))
    return years


async def seed_from_package(conn: asyncpg.Connection) -> int:
    """The package's years the database does not hold yet (a loaded year is never replaced
    by the package's); how many. Run by `migrate`, as the owner."""
    held = {r["year"] for r in await conn.fetch("SELECT year FROM holiday_year")}
    added = 0
    for year, days in sorted(_package_years().items()):
        if year in held:
            continue
        async with conn.transaction():
            await conn.execute("INSERT INTO holiday_year (year, source, loaded_at, loaded_by) "
                               "VALUES ($1, $2, $3, 'system')", year, PACKAGE_SOURCE,
                               clock.now())
            await conn.executemany(
                "INSERT INTO holiday_day (day, year_id, working, name) VALUES ($1, $2, $3, $4)",
                [(day, year, working, name[:50]) for day, (working, name) in sorted(days.items())])
            await conn.execute("SELECT pg_notify($1, '')", CHANNEL)
        added += 1
    return added


def read_notice(path: Path) -> tuple[int, str, list[date], list[date]]:
    """A year's schedule as an operator writes it from the notice: {"year": 2027,
    "source": "国办发明电〔2026〕…", "holidays": ["2027-01-01", …], "workdays": [...]}."""
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
        year, source = int(data["year"]), str(data["source"]).strip()
        holidays = [date.fromisoformat(d) for d in data["holidays"]]
        workdays = [date.fromisoformat(d) for d in data.get("workdays", [])]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InvalidInput(f"节假日文件无效：{exc}", f"Invalid holiday file: {exc}",
                           field="file") from None
    if not 2000 <= year <= 2999 or not source:
        raise InvalidInput("须注明年份和通知来源", "The year and the notice are required",
                           field="file")
    outside = [d for d in holidays + workdays if d.year != year]
    if outside or set(holidays) & set(workdays):
        raise InvalidInput("日期须在该年内，且不能既是假日又是调休工作日",
                           "Every day must lie in the year, and be a holiday or a workday",
                           field="file")
    return year, source, holidays, workdays


async def replace_year(year: int, source: str, holidays: list[date], workdays: list[date],
                       loaded_by: str) -> None:
    """The year's schedule as given (inside the caller's transaction); every process drops its
    kept calendar on the commit."""
    db = orm.client()
    await db.execute_query("DELETE FROM holiday_year WHERE year = $1", [year])
    await db.execute_query("INSERT INTO holiday_year (year, source, loaded_at, loaded_by) "
                           "VALUES ($1, $2, $3, $4)", [year, source, clock.now(), loaded_by])
    rows = [(d, False) for d in holidays] + [(d, True) for d in workdays]
    await db.execute_query(
        "INSERT INTO holiday_day (day, year_id, working, name) "
        "SELECT d, $1, w, '' FROM unnest($2::date[], $3::bool[]) AS t(d, w)",
        [year, [d for d, _ in rows], [w for _, w in rows]])
    await db.execute_query("SELECT pg_notify($1, '')", [CHANNEL])
