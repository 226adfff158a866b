"""Benchmark data at three sizes, loaded with COPY: S (the demo), M (one city: 100,000
supervisors, 1,000,000 cases, 330 agencies), L (ten cities: 1,000,000 supervisors,
10,000,000 cases). Fixed seed. `python -m bench.generate --size M` (DATABASE_URL chooses the
database; the default is `supervisor_bench` on the embedded server)."""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import time
from datetime import UTC, date, datetime, timedelta

import asyncpg

from core import db
from core.cases.tally import RECOUNT_SQL
from core.config import ROOT

SIZES = {  # cities, supervisors, cases, agencies per jurisdiction
    "S": (0, 0, 0, 0),
    "M": (1, 100_000, 1_000_000, 33),
    "L": (10, 1_000_000, 10_000_000, 33),
}
STATES = ["SUBMITTED", "ACCEPTED", "TRANSFERRED", "REPLIED", "VERIFIED", "CLOSED", "DECLINED"]
KINDS = ["REPORT", "SUGGESTION", "INQUIRY", "DOCUMENT_REQUEST", "SUPERVISION_RECORD"]
CATEGORIES = ["SERVICE_ATTITUDE", "EFFICIENCY", "DISCIPLINE", "LAW_ENFORCEMENT", "JUDICIAL",
              "POLICY_IMPLEMENTATION", "FEES", "OTHER"]
BATCH = 50_000


def progress(label: str, done: int, total: int, started: float) -> None:
    width = 30
    filled = int(width * done / total) if total else width
    rate = done / max(time.monotonic() - started, 1e-6)
    sys.stderr.write(f"\r{label:12} [{'#' * filled}{'.' * (width - filled)}] "
                     f"{done:>10,}/{total:,} {rate:,.0f}/s")
    sys.stderr.flush()
    if done >= total:
        sys.stderr.write("\n")


async def _extra_cities(conn: asyncpg.Connection, cities: int) -> None:
    """L: nine more cities under the province, each with ten county-level units."""
    province = await conn.fetchval("SELECT id FROM jurisdiction WHERE path = 'jl'")
    now = datetime.now(UTC)
    for c in range(1, cities):
        city = await conn.fetchval(
            "INSERT INTO jurisdiction (path, code, name, level, parent_id, created_at) VALUES "
            "($1, $2, $3, 'CITY', $4, $5) ON CONFLICT (path) DO UPDATE SET code = "
            "EXCLUDED.code RETURNING id", f"jl.c{c}", f"c{c}", f"基准市{c}", province, now)
        for u in range(10):
            await conn.execute(
                "INSERT INTO jurisdiction (path, code, name, level, parent_id, created_at) "
                "VALUES ($1, $2, $3, 'COUNTY', $4, $5) ON CONFLICT (path) DO NOTHING",
                f"jl.c{c}.u{u}", f"u{u}", f"基准县{c}-{u}", city, now)


async def generate(url: str, size: str) -> None:
    """The size's data in `url`'s database, generated if missing. S is the demo, made anew
    each time in the bench's own database (W1 of every run adds its cases to the size it
    measures: S had grown from the demo's 320 cases to 24,772); M and L are kept (a run adds
    ~1 % to M)."""
    cities, supervisors, cases, per_unit = SIZES[size]
    from demo import seed_demo

    if size == "S" and not os.environ.get("DATABASE_URL") and url == _own_url(size):
        await db.drop_database(url)
    await db.migrate(url)
    await db.init(url)
    await seed_demo()
    await db.close()
    if size == "S":
        print("size S: the demo data")
        return
    conn = await db.connect(url)
    rnd = random.Random(7)
    try:
        if await conn.fetchval("SELECT count(*) FROM supervisor") >= supervisors:
            print(f"size {size}: already generated")
            return
        await _extra_cities(conn, cities)
        units = await conn.fetch(
            "SELECT id, path, latitude, longitude FROM jurisdiction WHERE level IN "
            "('CITY', 'COUNTY', 'SPECIAL_DISTRICT') ORDER BY path")
        now = datetime.now(UTC)
        started = time.monotonic()
        agencies = [(f"基准部门{u['path']}-{i}", f"b{i}", now, u["id"])
                    for u in units for i in range(per_unit)]
        await conn.copy_records_to_table("agency", records=agencies,
                                         columns=["name", "code", "created_at",
                                                  "jurisdiction_id"])
        progress("agencies", len(agencies), len(agencies), started)
        agency_rows = await conn.fetch("SELECT id, jurisdiction_id FROM agency")
        by_unit: dict[int, list[int]] = {}
        for a in agency_rows:
            by_unit.setdefault(a["jurisdiction_id"], []).append(a["id"])
        await _copy_supervisors(conn, rnd, units, supervisors, now)
        reporter_ids = [r["id"] for r in await conn.fetch("SELECT id FROM supervisor")]
        # The tally trigger would upsert per copied row: count once afterwards instead.
        await conn.execute("ALTER TABLE supervision_case DISABLE TRIGGER case_tally")
        await _copy_cases(conn, rnd, units, by_unit, reporter_ids, cases, now)
        started = time.monotonic()
        async with conn.transaction():
            await conn.execute("ALTER TABLE supervision_case ENABLE TRIGGER case_tally")
            await conn.execute("DELETE FROM case_tally")
            await conn.execute("INSERT INTO case_tally (jurisdiction_id, month, dimension, key, n)"
                               + RECOUNT_SQL)
        progress("case tally", 1, 1, started)
        # Vacuumed as well as analysed: otherwise the millions of rows just copied set off
        # autovacuum's insert threshold, and its pass over them (minutes at L) may run into
        # the measurements
        started = time.monotonic()
        await conn.execute("VACUUM (ANALYZE)")
        progress("vacuum", 1, 1, started)
    finally:
        await conn.close()


async def _copy_supervisors(conn: asyncpg.Connection, rnd: random.Random,
                            units: list[asyncpg.Record], total: int, now: datetime) -> None:
    columns = ["name", "phone", "id_number_encrypted", "id_number_masked", "id_number_digest",
               "category", "is_small_micro", "is_npc_deputy", "is_cppcc_member", "unit",
               "recommending_unit", "industry", "is_special", "latitude", "longitude",
               "status", "term_start", "term_end", "created_at", "jurisdiction_id"]
    started = time.monotonic()
    term_start = date.today() - timedelta(days=200)
    term_end = term_start + timedelta(days=729)
    done = 0
    while done < total:
        batch = []
        for n in range(done, min(done + BATCH, total)):
            unit = units[n % len(units)]
            batch.append((
                f"基准{n}", "13900000000", "x", "1234**********5678", f"bench{n}",
                "ENTERPRISE", n % 2 == 0, False, False, "基准单位", "", "商贸", False,
                (unit["latitude"] or 41.7) + rnd.uniform(-0.2, 0.2),
                (unit["longitude"] or 125.9) + rnd.uniform(-0.2, 0.2),
                "ACTIVE", term_start, term_end, now, unit["id"]))
        await conn.copy_records_to_table("supervisor", records=batch, columns=columns)
        done += len(batch)
        progress("supervisors", done, total, started)


async def _copy_cases(conn: asyncpg.Connection, rnd: random.Random,
                      units: list[asyncpg.Record], agencies: dict[int, list[int]],
                      reporters: list[int], total: int, now: datetime) -> None:
    columns = ["kind", "category", "state", "title", "description", "place", "occurred_at",
               "submitted_at", "transferred_at", "due_at", "replied_at", "reply",
               "major_lead", "reopened", "escalated", "agency_id", "jurisdiction_id",
               "reporter_id"]
    started = time.monotonic()
    done = 0
    while done < total:
        batch = []
        for _ in range(min(BATCH, total - done)):
            unit = units[rnd.randrange(len(units))]
            state = STATES[rnd.randrange(len(STATES))]
            submitted = now - timedelta(seconds=rnd.randrange(365 * 86400))
            moved = state in ("TRANSFERRED", "REPLIED", "VERIFIED", "CLOSED")
            transferred = submitted + timedelta(days=1) if moved else None
            replied = (transferred + timedelta(days=rnd.randrange(1, 30))
                       if transferred and state != "TRANSFERRED" else None)
            batch.append((
                KINDS[rnd.randrange(5)], CATEGORIES[rnd.randrange(8)], state, "基准案件",
                "基准描述", "", submitted, submitted, transferred,
                transferred + timedelta(days=21) if transferred else None, replied, "",
                False, False, False, rnd.choice(agencies[unit["id"]]), unit["id"],
                reporters[rnd.randrange(len(reporters))]))
        await conn.copy_records_to_table("supervision_case", records=batch, columns=columns)
        done += len(batch)
        progress("cases", done, total, started)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.generate")
    parser.add_argument("--size", choices=sorted(SIZES), default="M")
    args = parser.parse_args()
    asyncio.run(generate(bench_url(args.size), args.size))


def bench_url(size: str) -> str:
    """DATABASE_URL, or the size's own database (`supervisor_bench_m`, …) of the embedded
    server, so that every size stays generated."""
    return os.environ.get("DATABASE_URL") or _own_url(size)


def _own_url(size: str) -> str:
    return db.embedded_url(ROOT / ".data" / "pg", f"supervisor_bench_{size.lower()}")


if __name__ == "__main__":
    main()
