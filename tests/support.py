"""Test helpers: a GraphQL client over the ASGI app, a counter of SQL statements, and a wait
for what a notice changes."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

DEMO_PASSWORD = "demo-pass-2020"


def pdf_bytes(text: str = "evidence", author: str = "赵军") -> bytes:
    """A real one-page PDF whose document information and XMP name its author, as an office
    PDF's do."""
    import io

    import pikepdf

    pdf = pikepdf.new()
    pdf.add_blank_page()
    pdf.docinfo["/Author"] = author
    pdf.docinfo["/Title"] = text
    with pdf.open_metadata() as meta:
        meta["dc:creator"] = [author]
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


async def eventually(check: Callable[[], Awaitable[bool]]) -> bool:
    """Whether `check` comes true within five seconds (a notice takes a moment to arrive)."""
    for _ in range(100):
        if await check():
            return True
        await asyncio.sleep(0.05)
    return False


@dataclass
class Result:
    status: int
    body: dict[str, Any]

    @property
    def data(self) -> Any:
        return self.body.get("data")

    @property
    def errors(self) -> list[dict[str, Any]]:
        return self.body.get("errors") or []

    @property
    def codes(self) -> list[str]:
        return [e.get("extensions", {}).get("code") for e in self.errors]

    def ok(self) -> Any:
        assert not self.errors, self.errors
        return self.data


@dataclass
class Api:
    client: httpx.AsyncClient
    tokens: dict[str, str] = field(default_factory=dict)

    async def gql(self, query: str, variables: dict[str, Any] | None = None, *,
                  as_user: str | None = None, token: str | None = None,
                  api_key: str | None = None, headers: dict[str, str] | None = None) -> Result:
        sent = dict(headers or {})
        if as_user:
            token = await self.token(as_user)
        if token:
            sent["Authorization"] = f"Bearer {token}"
        if api_key:
            sent["Authorization"] = f"ApiKey {api_key}"
        response = await self.client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=sent
        )
        return Result(response.status_code, response.json())

    async def login(self, username: str, password: str = DEMO_PASSWORD) -> Result:
        return await self.gql(
            "mutation($u: String!, $p: String!) { login(username: $u, password: $p) {"
            " accessToken refreshToken expiresIn account { username kind } } }",
            {"u": username, "p": password},
        )

    async def token(self, username: str) -> str:
        """A real access token for a demo account, signed in once per test."""
        if username not in self.tokens:
            self.tokens[username] = (await self.login(username)).ok()["login"]["accessToken"]
        return self.tokens[username]


class QueryCounter(logging.Handler):
    """Counts the SQL statements Tortoise sends while active (its client logs each at DEBUG)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.statements: list[str] = []
        self._logger = logging.getLogger("tortoise.db_client")
        self._level = self._logger.level

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if not message.startswith(("Created connection pool", "Closed connection pool")):
            self.statements.append(message)

    def __enter__(self) -> QueryCounter:
        self._logger.addHandler(self)
        self._level = self._logger.level
        self._logger.setLevel(logging.DEBUG)
        return self

    def __exit__(self, *_exc: object) -> None:
        self._logger.removeHandler(self)
        self._logger.setLevel(self._level)

    @property
    def count(self) -> int:
        return len(self.statements)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def wait_ready(base: str, log: Path, seconds: float = 30, path: str = "/readyz"
                     ) -> None:
    """Until the server at `base` answers `path` (/readyz: ready; /healthz: alive) with 200;
    else fail showing its log."""
    async with httpx.AsyncClient(base_url=base) as client:
        for _ in range(int(seconds * 10)):
            try:
                if (await client.get(path)).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError(log.read_text())


def serve_command(port: int) -> list[str]:
    """How production starts the server (`python -m core serve`), with one worker."""
    return [sys.executable, "-m", "core", "serve", "--port", str(port), "--workers", "1"]


@asynccontextmanager
async def server_process(database_url: str, log: Path, **settings: str
                         ) -> AsyncIterator[str]:
    """A real server process of the app on the test database, started as production starts
    it (`python -m core serve`, one worker), with further `settings` in its environment;
    yields its base URL."""
    port = free_port()
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "DATABASE_URL": database_url, **settings}
    with log.open("wb") as sink:
        server = subprocess.Popen(serve_command(port), cwd=root, env=env,
                                  stdout=subprocess.DEVNULL, stderr=sink)
    base = f"http://127.0.0.1:{port}"
    try:
        await wait_ready(base, log)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=10)
