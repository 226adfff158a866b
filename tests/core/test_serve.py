"""`python -m core serve --workers 2`: one SO_REUSEPORT socket per worker, so that the
kernel spreads keep-alive connections over both workers; a worker that dies is replaced."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx

from tests.support import free_port, wait_ready

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
    from core.serve import _reuseport_socket

    sock = _reuseport_socket("127.0.0.1", 0)
    try:
        assert sock.proto == socket.IPPROTO_TCP
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT) == 1
    finally:
        sock.close()
