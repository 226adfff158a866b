"""Serving with one or more worker processes. Each worker binds its own SO_REUSEPORT socket,
so the kernel spreads new connections over the workers (with `uvicorn --workers`, one shared
socket, a single worker was seen accepting all 32 keep-alive connections of a load test).
The parent only starts the workers, restarts one that dies, and stops them all on SIGTERM or
SIGINT."""

from __future__ import annotations

import logging
import multiprocessing
import signal
import socket
import time
from multiprocessing.process import BaseProcess
from types import FrameType

import uvicorn

log = logging.getLogger(__name__)


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


def _worker(app: str, host: str, port: int) -> None:
    config = uvicorn.Config(app, host=host, port=port, proxy_headers=False, log_config=None,
                            access_log=False)
    uvicorn.Server(config).run(sockets=[_reuseport_socket(host, port)])


def serve(app: str, host: str, port: int, workers: int) -> None:
    """Serve `app` ("module:attribute") on host:port with `workers` processes."""
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
