"""`python -m core serve --workers 2`: one SO_REUSEPORT socket per worker, so that the
kernel spreads keep-alive connections over both workers; a worker that dies is replaced."""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from core import db
from tests.support import free_port, server_process, wait_ready
from web.serve import Protocol

ROOT = Path(__file__).resolve().parents[2]


async def _workers_seen(base: str, connections: int) -> list[int]:
    async def one() -> int:
        async with httpx.AsyncClient(base_url=base) as client:  # its own connection
            for _ in range(3):  # kept alive: the same worker answers each time
                pid = (await client.get("/healthz")).json()["worker"]
            return int(pid)

    return await asyncio.gather(*(one() for _ in range(connections)))


async def test_two_workers_share_32_keep_alive_connections(database_url: str,
                                                           tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with (tmp_path / "serve.log").open("wb") as sink:
        server = subprocess.Popen(
            [sys.executable, "-m", "core", "serve", "--workers", "2", "--port", str(port)],
            cwd=ROOT, env={**os.environ, "DATABASE_URL": database_url},
            stdout=subprocess.DEVNULL, stderr=sink)
    try:
        await wait_ready(base, tmp_path / "serve.log")
        seen = await _workers_seen(base, 32)
        counts = {pid: seen.count(pid) for pid in set(seen)}
        assert len(counts) == 2 and min(counts.values()) >= 4, counts
        os.kill(seen[0], signal.SIGKILL)  # a worker dies: the parent starts another
        for _ in range(300):
            await asyncio.sleep(0.1)
            try:
                now = set(await _workers_seen(base, 16))
            except httpx.TransportError:
                continue
            if len(now) == 2 and seen[0] not in now:
                break
        else:
            raise AssertionError("the killed worker was not replaced")
    finally:
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0


def test_worker_sockets_say_tcp_so_asyncio_turns_nagle_off() -> None:
    """asyncio sets TCP_NODELAY on accepted connections only when the listening socket's
    proto is IPPROTO_TCP; a plain socket() (proto 0) halved the throughput of the ceiling."""
    from web.serve import _reuseport_socket

    sock = _reuseport_socket("127.0.0.1", 0)
    try:
        assert sock.proto == socket.IPPROTO_TCP
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT) == 1
    finally:
        sock.close()


class _Recording(asyncio.Transport):
    """A connection's transport that keeps what is written to it, and when it was closed."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed_after: int | None = None

    def write(self, data: bytes | bytearray | memoryview) -> None:
        assert self.closed_after is None, "written after close"
        self.writes.append(bytes(data))

    def close(self) -> None:
        self.closed_after = len(self.writes)

    def is_closing(self) -> bool:
        return self.closed_after is not None

    def get_extra_info(self, name: str, default: object = None) -> object:
        return {"peername": ("127.0.0.1", 5000), "sockname": ("127.0.0.1", 8000)}.get(
            name, default)

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


async def _hello(scope: dict[str, object], receive: object, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain"), (b"content-length", b"5")]})
    await send({"type": "http.response.body", "body": b"hello"})


async def _writes(protocol_class: type[HttpToolsProtocol], request: bytes) -> _Recording:
    config = uvicorn.Config(_hello, log_config=None, lifespan="off")
    protocol = protocol_class(config=config, server_state=ServerState(), app_state={})
    transport = _Recording()
    protocol.connection_made(transport)
    protocol.data_received(request)
    for _ in range(100):  # the response, then one more turn of the loop
        await asyncio.sleep(0)
    return transport


async def test_a_response_goes_to_the_socket_in_one_write() -> None:
    """uvicorn writes the head when the response starts and the body when it is sent; a
    served worker (web/serve.Protocol) writes both at once, each request of a kept-alive
    connection on its own, and what is written before a close before it."""
    two = b"GET / HTTP/1.1\r\nHost: t\r\n\r\n" * 2
    plain = await _writes(HttpToolsProtocol, two)
    assert len(plain.writes) == 4 and plain.writes[1] == b"hello"
    gathered = await _writes(Protocol, two)
    assert [w.startswith(b"HTTP/1.1 200") and w.endswith(b"\r\n\r\nhello")
            for w in gathered.writes] == [True, True]
    assert b"".join(gathered.writes) == b"".join(plain.writes)
    closing = await _writes(Protocol, b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    assert len(closing.writes) == 1 and closing.closed_after == 1


_ATTEMPTS = itertools.count()


async def _failed_logins(base: str, forwarded_for: str, times: int) -> list[str]:
    """The codes of `times` logins with a wrong password, each for another unknown name (the
    per-account limit stays out of it), sent with X-Forwarded-For."""
    codes = []
    async with httpx.AsyncClient(base_url=base) as client:
        for _ in range(times):
            answer = (await client.post("/graphql", headers={"X-Forwarded-For": forwarded_for},
                                        json={"query": (
                f'mutation {{ login(username: "nobody{next(_ATTEMPTS)}", password: "wrong") '
                "{ accessToken } }")})).json()
            codes.append(answer["errors"][0]["extensions"]["code"])
    return codes


async def test_behind_a_trusted_proxy_the_client_is_the_forwarded_address(
        database_url: str, tmp_path: Path) -> None:
    """FORWARDED_ALLOW_IPS names the reverse proxies: from them the client's address is the one
    X-Forwarded-For gives, so per-address limits (20 failed logins in 15 minutes) hold per
    client, not for the whole city behind one proxy, and the audit trail names the client.
    Unset, the header is not believed: a client cannot pass for another."""
    async with server_process(database_url, tmp_path / "proxied.log",
                              FORWARDED_ALLOW_IPS="127.0.0.1") as base:
        assert await _failed_logins(base, "198.51.100.1", 20) == ["UNAUTHENTICATED"] * 20
        assert await _failed_logins(base, "198.51.100.1", 1) == ["RATE_LIMITED"]
        assert await _failed_logins(base, "198.51.100.2", 1) == ["UNAUTHENTICATED"]
    async with server_process(database_url, tmp_path / "direct.log") as base:
        assert await _failed_logins(base, "203.0.113.1", 20) == ["UNAUTHENTICATED"] * 20
        # another address claimed by the same client: still the same client
        assert await _failed_logins(base, "203.0.113.2", 1) == ["RATE_LIMITED"]
    conn = await db.connect(database_url)
    try:
        logged = await conn.fetch("SELECT detail->>'address' AS address, count(*) AS n "
                                  "FROM audit_record WHERE action = 'login.failed' "
                                  "GROUP BY 1 ORDER BY 1")
    finally:
        await conn.close()
    assert [(r["address"], r["n"]) for r in logged] == [
        ("127.0.0.1", 20), ("198.51.100.1", 20), ("198.51.100.2", 1)]


async def test_a_second_server_refuses_a_port_in_use_and_the_first_says_where_it_serves(
        database_url: str, tmp_path: Path) -> None:
    """SO_REUSEPORT would let a second server share the port silently and take half the
    connections: it refuses with a clear message, and the first keeps serving alone."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url}
    with (tmp_path / "first.log").open("wb") as log:
        first = subprocess.Popen([sys.executable, "-m", "core", "serve", "--port", str(port)],
                                 cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=log,
                                 text=True)
    try:
        assert first.stdout is not None
        line = await asyncio.wait_for(asyncio.to_thread(first.stdout.readline), timeout=60)
        assert line.startswith(f"serving http://127.0.0.1:{port}/graphql"), line
        second = subprocess.run([sys.executable, "-m", "core", "serve", "--port", str(port)],
                                cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
                                check=False)
        assert second.returncode == 1
        assert f"127.0.0.1:{port} is in use" in second.stderr, second.stderr
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            pids = {(await client.get("/healthz", headers={"Connection": "close"})
                     ).json()["worker"] for _ in range(10)}
        assert pids == {first.pid}
    finally:
        first.terminate()
        first.wait(timeout=10)
        assert first.stdout is not None
        first.stdout.close()
