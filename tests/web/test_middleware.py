"""The request id and the request timeout (web/middleware.py), as ASGI applications: what
the server sees of them, including what they must not do to requests that end otherwise."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Coroutine
from typing import Any

import httpx
import pytest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from web.middleware import RequestContext, RequestTimeout


def _endpoint(delays: dict[str, float], *, stall_after_start: bool = False) -> ASGIApp:
    """Answers `{}` after the delay its path names; or starts, then stalls."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if stall_after_start:
            await send({"type": "http.response.start", "status": 200, "headers": []})
        await asyncio.sleep(delays.get(scope["path"], 0))
        if not stall_after_start:
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": b"{}"})

    return app


def _client(app: object) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app),  # type: ignore[arg-type]
                             base_url="http://t")


async def test_a_request_past_its_time_answers_504_the_others_as_they_would() -> None:
    guarded = RequestTimeout(_endpoint({"/slow": 5, "/quick": 0.01, "/free": 0.3}), 0.2,
                             ("/slow", "/quick"))
    loop = asyncio.get_running_loop()
    async with _client(guarded) as client:
        began = loop.time()
        slow, quick, free = await asyncio.gather(
            client.post("/slow"), client.post("/quick"), client.post("/free"))
        took = loop.time() - began
    assert slow.status_code == 504
    assert slow.json()["errors"][0]["extensions"]["code"] == "TIMEOUT"
    assert quick.status_code == 200 and quick.json() == {}
    assert free.status_code == 200  # not one of the paths: no limit
    assert 0.2 <= took < 1.0
    watch = guarded._watches[loop]
    assert watch.requests == {}
    await asyncio.sleep(guarded.tick * 3)
    assert watch.sweeper is None  # nothing in flight: nothing left running


class _Server:
    """What a server hands an application for one POST to `path`, and what it was sent."""

    def __init__(self, path: str) -> None:
        self.scope: Scope = {"type": "http", "path": path, "method": "POST", "headers": []}
        self.sent: list[Message] = []

    async def receive(self) -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(self, message: Message) -> None:
        self.sent.append(message)

    def serve(self, app: ASGIApp) -> Coroutine[Any, Any, None]:
        return app(self.scope, self.receive, self.send)  # type: ignore[return-value]


async def test_a_request_cancelled_by_someone_else_stays_cancelled() -> None:
    guarded = RequestTimeout(_endpoint({"/slow": 5}), 30.0, ("/slow",))
    server = _Server("/slow")
    request = asyncio.create_task(server.serve(guarded))
    await asyncio.sleep(0.05)
    request.cancel()
    with pytest.raises(asyncio.CancelledError):
        await request
    assert server.sent == []  # no 504 for a request the server itself gave up
    assert guarded._watches[asyncio.get_running_loop()].requests == {}


async def test_a_response_already_started_is_not_answered_twice() -> None:
    guarded = RequestTimeout(_endpoint({"/slow": 5}, stall_after_start=True), 0.1, ("/slow",))
    server = _Server("/slow")
    with pytest.raises(TimeoutError):
        await server.serve(guarded)
    assert [m["type"] for m in server.sent] == ["http.response.start"]


@pytest.mark.parametrize(("given", "kept"), [
    ("portal-7.a_b", True), ("x" * 64, True), ("x" * 65, False), ("a b", False),
    ("a/b", False), ("", False)])
async def test_a_sane_request_id_is_kept_any_other_replaced(given: str, kept: bool) -> None:
    async with _client(RequestContext(_endpoint({}))) as client:
        response = await client.get("/", headers={"X-Request-ID": given} if given else {})
    rid = response.headers["x-request-id"]
    if kept:
        assert rid == given
    else:
        assert re.fullmatch(r"[0-9a-f]{32}", rid)
