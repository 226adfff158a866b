"""ASGI middleware: a request id for every request, caps on request bodies and on the time
a GraphQL request may take, and the GraphQL endpoint's requests handed to it directly."""

from __future__ import annotations

import asyncio
import json
import re
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.logs import request_id

_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestContext:
    """Takes a sane `X-Request-ID` or makes one; logs and audit records carry it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        sent = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        rid = sent if _SAFE_ID.match(sent) else uuid.uuid4().hex
        token = request_id.set(rid)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", rid.encode())]
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


class RequestTimeout:
    """Answers 504 when a request to one of `paths` has not started its response in time
    (the database cancels its own statements earlier, by statement_timeout)."""

    def __init__(self, app: ASGIApp, seconds: float, paths: tuple[str, ...]) -> None:
        self.app, self.seconds, self.paths = app, seconds, paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] not in self.paths:
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            async with asyncio.timeout(self.seconds):
                await self.app(scope, receive, tracking)
        except TimeoutError:
            if started:
                raise
            await _refuse(send, 504, "Request timed out", "TIMEOUT")


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
