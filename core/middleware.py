"""ASGI middleware: a request id for every request, caps on request bodies and on the time
a GraphQL request may take, and the GraphQL endpoint's requests handed to it directly."""

from __future__ import annotations

import asyncio
import json
import os
import re
import weakref
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.logs import request_id

_SAFE_ID = re.compile(rb"[A-Za-z0-9._-]{1,64}")


class RequestContext:
    """Takes a sane `X-Request-ID` or makes one; logs and audit records carry it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        sent = next((value for name, value in scope["headers"] if name == b"x-request-id"), b"")
        rid = sent.decode("latin-1") if _SAFE_ID.fullmatch(sent) else os.urandom(16).hex()
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
        limit = self.larger.get(scope["path"], self.limit)
        headers = dict(scope["headers"])
        length = headers.get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            await _too_large(send)
            return
        if length is not None and b"transfer-encoding" not in headers:
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


class _InFlight:
    """A request under a deadline; `expired` once its time is up and it has been cancelled."""

    __slots__ = ("deadline", "expired")

    def __init__(self, deadline: float) -> None:
        self.deadline, self.expired = deadline, False


class _Watch:
    """One event loop's requests in flight and the task that sweeps them."""

    def __init__(self) -> None:
        self.requests: dict[asyncio.Task[Any], _InFlight] = {}
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

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        task = asyncio.current_task()
        if scope["type"] != "http" or scope["path"] not in self.paths or task is None:
            await self.app(scope, receive, send)
            return
        loop = asyncio.get_running_loop()
        watch = self._watches.get(loop)
        if watch is None:
            watch = self._watches[loop] = _Watch()
        request = watch.requests[task] = _InFlight(loop.time() + self.seconds)
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
            if not request.expired or task.uncancel() > 0:
                raise  # cancelled by someone else (the server, a client gone)
            if started:
                raise TimeoutError from None
            await _refuse(send, 504, "Request timed out", "TIMEOUT")
        finally:
            del watch.requests[task]

    async def _sweep(self, watch: _Watch) -> None:
        try:
            while watch.requests:
                await asyncio.sleep(self.tick)
                now = asyncio.get_running_loop().time()
                for task, request in list(watch.requests.items()):
                    if request.deadline <= now and not request.expired:
                        request.expired = True
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
