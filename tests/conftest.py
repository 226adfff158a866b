"""Shared fixtures: one real PostgreSQL database per test session, built by the real
migrations, emptied between tests; the ASGI app driven over HTTP by httpx."""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlparse

# Settings are read once: point the data folder (secret key, province key) at a scratch
# folder before anything reads them. The database is the embedded server of the checkout.
_SCRATCH = tempfile.mkdtemp(prefix="supervisor-test-")
os.environ["DATA_DIR"] = _SCRATCH
os.environ.pop("DATABASE_URL", None)
os.environ.setdefault("ENV", "development")

import asyncpg  # noqa: E402
import httpx  # noqa: E402
import pytest  # noqa: E402
from tortoise import Tortoise  # noqa: E402

from core import clock, db, holidays, writes  # noqa: E402
from core.config import ROOT, settings  # noqa: E402
from core.private import meta  # noqa: E402
from policies.enforcer import store  # noqa: E402
from tests.support import Api  # noqa: E402

TEST_DATABASE = "supervisor_test"
# pytest-xdist runs the suite in several processes (`make test`: TEST_WORKERS, two by default);
# each has a database of its own on the same server: supervisor_test_gw0, supervisor_test_gw1.
WORKER = os.environ.get("PYTEST_XDIST_WORKER")
# Held on the server's `postgres` database while a process builds its test database: the
# migrations create a role (0004), which is one for the whole server.
MIGRATING_LOCK = 7_301_520


def _test_url() -> str:
    given = os.environ.get("TEST_DATABASE_URL")
    url = given or db.embedded_url(Path(ROOT) / ".data" / "pg", TEST_DATABASE)
    if WORKER is None:
        return url
    parsed = urlparse(url)
    return parsed._replace(path=f"{parsed.path}_{WORKER}").geturl()


def pytest_configure(config: pytest.Config) -> None:
    """The embedded server is started once, before any worker joins it."""
    if not hasattr(config, "workerinput"):
        _test_url()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked `long` first: given out first to the workers, none of them ends the run
    alone."""
    items.sort(key=lambda item: item.get_closest_marker("long") is None)


# What `make run` keeps under the checkout's .data/ (the development secret, the key the
# README gives the province): the suite works in its scratch folder and leaves these alone.
_DEVELOPMENT_FILES = ("secret.key", "province.key")


@pytest.fixture(scope="session", autouse=True)
def development_data_untouched() -> Iterator[None]:
    def contents() -> dict[str, bytes | None]:
        return {name: (ROOT / ".data" / name).read_bytes()
                if (ROOT / ".data" / name).exists() else None for name in _DEVELOPMENT_FILES}

    before = contents()
    yield
    assert contents() == before, "the tests changed the development data under .data/"


@pytest.fixture(scope="session")
async def database_url() -> AsyncIterator[str]:
    url = _test_url()
    admin = await db.connect(url, "postgres")
    try:
        await admin.execute("SELECT pg_advisory_lock($1)", MIGRATING_LOCK)
        await db.drop_database(url)
        await db.migrate(url)
        await db.close()
    finally:
        await admin.close()  # and with it the lock
    await db.init(url)
    yield url
    await db.close()


@pytest.fixture(scope="session")
async def owner(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A connection as the login that owns the tables (what migrations run as), for what
    the application's role may not do: emptying tables, switching the audit guard off."""
    conn = await db.connect(database_url)
    yield conn
    await conn.close()


# Reference data `migrate` writes, kept between tests (the calendar of the published years).
_REFERENCE_TABLES = frozenset({"holiday_year", "holiday_day"})


def _tables() -> list[str]:
    """Every table of the models but the reference data."""
    return sorted(
        meta(model).db_table for app in Tortoise.apps.values() for model in app.values()
        if meta(model).db_table not in _REFERENCE_TABLES)


@pytest.fixture(autouse=True)
async def clean(owner: asyncpg.Connection) -> AsyncIterator[None]:
    """Every test starts from empty tables (migrations stay applied) and the real clock."""
    quoted = ", ".join(f'"{t}"' for t in _tables())
    await owner.execute(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE")
    # the official calendar as `migrate` seeds it: a year a test loaded goes
    await owner.execute("DELETE FROM holiday_year WHERE source <> $1", holidays.PACKAGE_SOURCE)
    await holidays.seed_from_package(owner)
    writes.forget_keys()  # taken from the sequences just restarted
    await store.reload()
    clock.set_source(None)
    yield
    clock.set_source(None)


# The demo of each kind, seeded once per worker process and then restored from a copy of its
# rows (schema `snapshot`) at each test that asks for it: seeding runs the services (password
# hashes, audit records, notices), ~1-2 s a test; the copy, tens of milliseconds.
# kind: its tables, those with a sequence, and the province's key file the seed wrote
_SEEDED: dict[str, tuple[list[str], list[str], bytes]] = {}


async def _demo(owner: asyncpg.Connection, kind: str, **parts: bool) -> None:
    """The demo of `kind` (`seed_demo(**parts)`), as if just seeded."""
    from asgi import KEPT
    from demo import seed_demo

    if kind not in _SEEDED:
        await seed_demo(**parts)
        tables = _tables()
        await owner.execute("CREATE SCHEMA IF NOT EXISTS snapshot")
        for table in tables:
            await owner.execute(f'DROP TABLE IF EXISTS snapshot."{kind}.{table}"; '
                                f'CREATE TABLE snapshot."{kind}.{table}" AS TABLE "{table}"')
        sequenced = [r["table_name"] for r in await owner.fetch(
            "SELECT table_name FROM information_schema.columns WHERE table_schema = 'public' "
            "AND column_name = 'id' AND (column_default LIKE 'nextval%' OR is_identity = 'YES')")]
        key_file = (settings().data_dir / "province.key").read_bytes()
        _SEEDED[kind] = tables, sorted(set(sequenced) & set(tables)), key_file
        return
    tables, sequenced, key_file = _SEEDED[kind]
    (settings().data_dir / "province.key").write_bytes(key_file)  # the key its rows hold
    async with owner.transaction():
        # the rows as they were written: no trigger again (tallies, notices, the audit guard)
        await owner.execute("SET LOCAL session_replication_role = replica")
        for table in tables:
            await owner.execute(f'INSERT INTO "{table}" OVERRIDING SYSTEM VALUE '
                                f'SELECT * FROM snapshot."{kind}.{table}"')
        for table in sequenced:
            await owner.execute(
                f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                f"(SELECT coalesce(max(id), 0) + 1 FROM \"{table}\"), false)")
    await store.reload()
    for mirror in KEPT:  # what a process kept of the rows before: gone with them
        mirror.clear()


@pytest.fixture
async def demo(owner: asyncpg.Connection, clean: None) -> None:
    """The demo offices and accounts of `python -m core seed-demo`, without supervisors."""
    await _demo(owner, "offices", roster=False)


@pytest.fixture
async def roster_demo(owner: asyncpg.Connection, clean: None) -> None:
    """The demo offices and supervisors, without agencies and cases."""
    await _demo(owner, "roster", cases=False)


@pytest.fixture
async def full_demo(owner: asyncpg.Connection, clean: None) -> None:
    """All the demo data of `python -m core seed-demo`."""
    await _demo(owner, "full")


@pytest.fixture
async def listening(database_url: str, clean: None) -> AsyncIterator[None]:
    """This process follows the database's notices, as a served one does (its mirrors keep
    principals and jurisdictions in memory). Whatever data the test asks for comes with it."""
    from asgi import listener_for

    listener = listener_for(database_url)
    listener.start()
    await asyncio.wait_for(listener.connected.wait(), timeout=10)
    try:
        yield
    finally:
        await listener.stop()


@pytest.fixture
async def api(database_url: str) -> AsyncIterator[Api]:
    from asgi import create_app

    app = create_app(manage_database=False)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 5000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield Api(client)
