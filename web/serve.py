"""Serving with one or more worker processes. Each worker binds its own SO_REUSEPORT socket,
so the kernel spreads new connections over the workers (with `uvicorn --workers`, one shared
socket, a single worker was seen accepting all 32 keep-alive connections of a load test).
The parent only starts the workers, restarts one that dies, and stops them all on SIGTERM or
SIGINT.

uvicorn writes a response's status line and headers to the socket when the application
starts the response, and its body when it sends it: two system calls and two TCP segments
for every answer, the first a few hundred bytes. Each connection's writes are gathered here
for one turn of the event loop and written at its end, together (`Gathered`): one write per
response, the client's single read.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import signal
import socket
import time
from multiprocessing.process import BaseProcess
from types import FrameType
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from core.config import settings

log = logging.getLogger(__name__)


class PortInUse(SystemExit):
    """Another process listens on the port: SO_REUSEPORT would let this server share it
    silently, each taking half of the connections (with another database behind, half the
    sign-ins fail as wrong passwords)."""


def refuse_held_port(host: str, port: int) -> None:
    """Refuse to start on a port another process already listens on: a probe binds it
    without SO_REUSEPORT (SO_REUSEADDR lets it bind past a closed server's TIME_WAIT, never
    beside a listener)."""
    probe = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET,
                          socket.SOCK_STREAM)
    try:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))
    except OSError as exc:
        raise PortInUse(f"{host}:{port} is in use by another process ({exc.strerror}): stop "
                        f"it, or serve on another port (PORT=8001 make run)") from None
    finally:
        probe.close()


class _Announcing(uvicorn.Server):
    """uvicorn's server, saying where it serves once it is ready."""

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            host, port = self.config.host, self.config.port
            shown = f"[{host}]" if ":" in host else host
            print(f"serving http://{shown}:{port}/graphql (worker {os.getpid()})", flush=True)


def _reuseport_socket(host: str, port: int) -> socket.socket:
    # proto must say TCP: asyncio sets TCP_NODELAY on accepted connections only when the
    # socket's proto is IPPROTO_TCP; with the default 0, Nagle's algorithm halved throughput.
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM,
                         socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


class Gathered:
    """A connection's transport whose writes within one turn of the event loop go to the
    socket as one write at its end; everything else is the transport's own. Closing or ending
    the stream writes what is gathered first; aborting drops it, as the transport's abort
    drops its buffer."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport, self._loop = transport, loop
        self._gathered: list[bytes] = []

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not self._gathered:
            self._loop.call_soon(self._flush)
        self._gathered.append(bytes(data))

    def writelines(self, lines: Any) -> None:
        self.write(b"".join(lines))

    def _flush(self) -> None:
        gathered, self._gathered = self._gathered, []
        if gathered and not self._transport.is_closing():
            self._transport.write(b"".join(gathered))

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def write_eof(self) -> None:
        self._flush()
        self._transport.write_eof()

    def abort(self) -> None:
        self._gathered = []
        self._transport.abort()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class Protocol(HttpToolsProtocol):
    """uvicorn's HTTP protocol (httptools) over a `Gathered` transport."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(Gathered(transport, self.loop))  # type: ignore[arg-type]


def _worker(app: str, host: str, port: int) -> None:
    proxies = settings().forwarded_allow_ips  # uvicorn's own ProxyHeadersMiddleware, if any
    config = uvicorn.Config(app, host=host, port=port, proxy_headers=proxies is not None,
                            forwarded_allow_ips=proxies, log_config=None, access_log=False,
                            http=Protocol)
    _Announcing(config).run(sockets=[_reuseport_socket(host, port)])


def serve(app: str, host: str, port: int, workers: int) -> None:
    """Serve `app` ("module:attribute") on host:port with `workers` processes; refuses a
    port another process holds."""
    refuse_held_port(host, port)
    if workers == 1:
        _worker(app, host, port)
        return
    context = multiprocessing.get_context("spawn")
    stopping = False

    def start() -> BaseProcess:
        process = context.Process(target=_worker, args=(app, host, port), daemon=False)
        process.start()
        return process

    def stop(_signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    processes = [start() for _ in range(workers)]
    while not stopping:
        time.sleep(0.5)
        for i, process in enumerate(processes):
            if not process.is_alive() and not stopping:
                log.warning("worker %s exited with %s; starting another", process.pid,
                            process.exitcode)
                processes[i] = start()
    for process in processes:
        process.terminate()
    for process in processes:
        process.join(timeout=30)
