"""`python -m bench.inproc`: the API and the ceiling in one process, each called directly
through ASGI (no HTTP server, no wrk), a read operation at 32 requests at once, the two
alternated round by round; prints the CPU each spent per request in every round and the
median of the API's against the ceiling's.

For measuring a change to the code: served runs in separate processes differ by ±10 % for
the same code on this shared machine, more than most single changes; the ratio of the two
apps measured in one process, alternated, holds to 2–3 %. Run it before and after a change
and compare the medians of the ratio. `py-spy record -- python -m bench.inproc --only api`
profiles the API alone."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

import uvloop

from bench.generate import bench_url
from bench.run import login_body, reads, server_settings, subjects
from core import config

ASGIApp = Callable[[dict[str, Any], Any, Any], Awaitable[None]]
CONNECTIONS = 32
_running: set[asyncio.Future[None]] = set()  # the apps' lifespans, kept from the collector


async def _call(app: ASGIApp, target: str, body: bytes = b"", token: str | None = None
                ) -> bytes:
    """One request to `app` (POST with a body, else GET); the response's body."""
    path, _, query = target.partition("?")
    headers = [(b"host", b"bench"), (b"content-type", b"application/json"),
               (b"content-length", str(len(body)).encode())]
    if token:
        headers.append((b"authorization", f"Bearer {token}".encode()))
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": "POST" if body else "GET", "scheme": "http", "path": path,
             "raw_path": path.encode(), "query_string": query.encode(), "root_path": "",
             "headers": headers, "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80),
             "state": {}}
    delivered = asyncio.Event()
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        if delivered.is_set():  # the app listens for a disconnect: there is none
            await asyncio.Event().wait()
        delivered.set()
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start" and message["status"] != 200:
            raise RuntimeError(f"{target} answered {message['status']}")
        chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return b"".join(chunks)


async def _start(app: ASGIApp) -> None:
    """Run the app's lifespan startup (its pool) and leave it running."""
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    started = asyncio.Event()

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "lifespan.startup.complete":
            started.set()
        elif message["type"] == "lifespan.startup.failed":
            raise RuntimeError(message.get("message", "startup failed"))

    await inbox.put({"type": "lifespan.startup"})
    running = asyncio.ensure_future(  # for as long as the process measures
        app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, inbox.get, send))
    await asyncio.wait_for(started.wait(), 60)
    _running.add(running)


async def _cpu_per_request(request: Callable[[], Awaitable[bytes]], count: int) -> float:
    """CPU µs per request of `count` requests, CONNECTIONS at once."""
    async def connection(n: int) -> None:
        for _ in range(n):
            await request()

    began = time.process_time()
    await asyncio.gather(*(connection(count // CONNECTIONS) for _ in range(CONNECTIONS)))
    return (time.process_time() - began) / (count // CONNECTIONS * CONNECTIONS) * 1e6


async def measure(size: str, operation: str, rounds: int, count: int, only: str | None
                  ) -> None:
    url = bench_url(size)
    os.environ.update(server_settings(url))
    config.settings.cache_clear()  # bench_url read them before
    import asgi  # the app reads the settings just set, at import
    from bench import ceiling

    county, case_id, _ = await subjects(url)
    read = next(r for name, r in reads(county, case_id).items() if name.startswith(operation))
    await _start(asgi.app)
    await _start(ceiling.app)
    signed_in = await _call(asgi.app, "/graphql", login_body(read.user).encode())
    token = json.loads(signed_in)["data"]["login"]["accessToken"]
    body = read.body.encode()
    answer = json.loads(await _call(asgi.app, "/graphql", body, token))
    if "errors" in answer:
        raise RuntimeError(f"{operation} answered {answer['errors']}")
    sides = {"api": lambda: _call(asgi.app, "/graphql", body, token),
             "ceiling": lambda: _call(ceiling.app, read.ceiling_path)}
    if only:
        sides = {only: sides[only]}
    for request in sides.values():  # warm: pools, kept statements and decisions
        await _cpu_per_request(request, 1000)
    spent: dict[str, list[float]] = {side: [] for side in sides}
    for n in range(rounds):
        order = list(sides.items()) if n % 2 == 0 else list(sides.items())[::-1]
        for side, request in order:
            spent[side].append(await _cpu_per_request(request, count))
        print(f"round {n + 1}: " + ", ".join(f"{side} {spent[side][-1]:.0f} µs"
                                              for side in sides), flush=True)
    medians = {side: statistics.median(values) for side, values in spent.items()}
    print(f"{operation} at {size} ({urlsplit(url).path.lstrip('/')}), CPU per request, median "
          "of " + str(rounds) + " rounds: " + ", ".join(f"{side} {value:.0f} µs"
                                                        for side, value in medians.items()))
    if len(spent) == 2:
        ratio = statistics.median(a / c for a, c in zip(spent["api"], spent["ceiling"],
                                                         strict=True))
        print(f"API / ceiling, median of the rounds' ratios: {ratio:.3f} "
              f"(share of the ceiling by CPU: {1 / ratio:.0%})")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.inproc")
    parser.add_argument("--size", choices=["S", "M", "L"], default="M")
    parser.add_argument("--operation", choices=["Q1", "Q2", "Q3"], default="Q3")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--requests", type=int, default=3000, help="per side and round")
    parser.add_argument("--only", choices=["api", "ceiling"], help="measure one side alone "
                        "(for a profiler)")
    args = parser.parse_args()
    uvloop.run(measure(args.size, args.operation, args.rounds, args.requests, args.only))


if __name__ == "__main__":
    main()
