"""ASGI middleware: a request id for every request, caps on request bodies and on the time
a GraphQL request may take, and the GraphQL endpoint's requests handed to it directly."""

from __future__ import annotations

import asyncio
import json
import random
import re
import weakref
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.headers import header_values
from core.logs import request_id

_SAFE_ID = re.compile(rb"[A-Za-z0-9._-]{1,64}")
_ids = random.Random()  # noqa: S311 (ids name requests, guard nothing; seeded by the system)


class RequestContext:
    """Takes a sane `X-Request-ID` or makes one; logs and audit records carry it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        sent = header_values(scope, (b"x-request-id",))[0]
        # else random, not secret: no system call for it (os.urandom makes one)
        rid = sent.decode("latin-1") if sent is not None and _SAFE_ID.fullmatch(sent) else (
            f"{_ids.getrandbits(128):032x}")
        token = request_id.set(rid)
        header = (b"x-request-id", rid.encode())

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id.reset(token)


class BodyLimit:
    """Refuses bodies over `limit` bytes (or a path's `larger` limit) with 413, by
    Content-Length or while streaming."""

    def __init__(self, app: ASGIApp, limit: int, larger: dict[str, int] | None = None) -> None:
        self.app, self.limit, self.larger = app, limit, larger or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.larger.get(scope["path"], self.limit) if self.larger else self.limit
        length, chunked = None, False
        for name, value in scope["headers"]:
            if name == b"content-length":
                length = value
            elif name == b"transfer-encoding":
                chunked = True
        if length is not None and (not length.isdigit() or int(length) > limit):
            await _too_large(send)
            return
        if length is not None and not chunked:
            await self.app(scope, receive, send)  # the server reads no more than it says
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _TooLarge
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            await _too_large(send)


class _TooLarge(Exception):
    pass


async def _too_large(send: Send) -> None:
    await _refuse(send, 413, "Request body too large", "PAYLOAD_TOO_LARGE")


async def _refuse(send: Send, status: int, message: str, code: str) -> None:
    """A GraphQL-shaped error answer from the middleware, before the app says anything."""
    body = json.dumps({"errors": [{"message": message, "extensions": {"code": code}}]}
                      ).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class _Watch:
    """One event loop's requests in flight (task -> deadline), those cancelled for being past
    theirs, and the task that sweeps them."""

    def __init__(self) -> None:
        self.requests: dict[asyncio.Task[Any], float] = {}
        self.expired: set[asyncio.Task[Any]] = set()
        self.sweeper: asyncio.Task[None] | None = None


class RequestTimeout:
    """Answers 504 when a request to one of `paths` has not started its response in time
    (the database cancels its own statements earlier, by statement_timeout).

    The deadlines are kept by one sweeper per event loop, which wakes every `seconds / 10`
    (at most once a second) while requests are in flight and cancels those past theirs: a
    request is cut off between `seconds` and 1.1 × `seconds` after it began. asyncio.timeout
    would make and close a timer for every request, ~6 % of a case detail's CPU at size M."""

    def __init__(self, app: ASGIApp, seconds: float, paths: tuple[str, ...]) -> None:
        self.app, self.seconds, self.paths = app, seconds, paths
        self.tick = min(seconds / 10, 1.0)
        self._watches: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Watch] = (
            weakref.WeakKeyDictionary())
        # the last loop's watch, found without a weak reference made for every request
        self._last: tuple[weakref.ref[asyncio.AbstractEventLoop], _Watch] | None = None

    def _watch(self, loop: asyncio.AbstractEventLoop) -> _Watch:
        last = self._last
        if last is not None and last[0]() is loop:
            return last[1]
        watch = self._watches.get(loop)
        if watch is None:
            watch = self._watches[loop] = _Watch()
        self._last = (weakref.ref(loop), watch)
        return watch

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        task = asyncio.current_task()
        if scope["type"] != "http" or scope["path"] not in self.paths or task is None:
            await self.app(scope, receive, send)
            return
        loop = task.get_loop()
        watch = self._watch(loop)
        watch.requests[task] = loop.time() + self.seconds
        if watch.sweeper is None:
            watch.sweeper = loop.create_task(self._sweep(watch))
        started = False

        async def tracking(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking)
        except asyncio.CancelledError:
            if task not in watch.expired or task.uncancel() > 0:
                raise  # cancelled by someone else (the server, a client gone)
            if started:
                raise TimeoutError from None
            await _refuse(send, 504, "Request timed out", "TIMEOUT")
        finally:
            del watch.requests[task]
            if watch.expired:
                watch.expired.discard(task)

    async def _sweep(self, watch: _Watch) -> None:
        try:
            while watch.requests:
                await asyncio.sleep(self.tick)
                now = asyncio.get_running_loop().time()
                for task, deadline in list(watch.requests.items()):
                    if deadline <= now and task not in watch.expired:
                        watch.expired.add(task)
                        task.cancel()
        finally:
            watch.sweeper = None


class Direct:
    """Hands HTTP requests for `path` by `methods` straight to `endpoint`, past the routing and
    Starlette's exception middleware (the innermost middleware). The endpoint answers its own
    errors (strawberry does), so the two had nothing to do for it but cost ~4 % of a county
    list's CPU; anything else, a websocket included, is routed as before."""

    def __init__(self, app: ASGIApp, path: str, methods: tuple[str, ...], endpoint: ASGIApp
                 ) -> None:
        self.app, self.path, self.methods, self.endpoint = app, path, methods, endpoint

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == self.path and (
                scope["method"] in self.methods):
            await self.endpoint(scope, receive, send)
        else:
            await self.app(scope, receive, send)
