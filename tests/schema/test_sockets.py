"""Live sockets against a served process: every graphql-transport-ws message is a text frame
(clients under Apollo, urql and GraphiQL refuse binary ones), a socket is closed with 4403 when
its session ends (logout, deactivation, the access token's expiry), and subscriptions are
bounded per socket and per account."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import websockets
from websockets.typing import Subprotocol

from core import auth, clock
from core.accounts.models import Account
from core.config import settings
from core.notifications.service import SUBSCRIPTIONS_PER_ACCOUNT
from tests.support import Api, server_process
from web.live import SUBSCRIPTIONS_PER_SOCKET

PROTOCOL = Subprotocol("graphql-transport-ws")
SUBSCRIBE = "subscription { caseEvents { kind caseId } }"


async def _frame(ws: websockets.ClientConnection) -> dict:
    """The next message, which must come as a text frame (websockets hands those over as str,
    binary frames as bytes)."""
    frame = await asyncio.wait_for(ws.recv(), timeout=10)
    assert isinstance(frame, str), f"binary frame: {frame!r}"
    return json.loads(frame)


@asynccontextmanager
async def _socket(base: str, token: str) -> AsyncIterator[websockets.ClientConnection]:
    async with websockets.connect(base.replace("http", "ws") + "/graphql",
                                  subprotocols=[PROTOCOL]) as ws:
        await ws.send(json.dumps({"type": "connection_init",
                                  "payload": {"Authorization": f"Bearer {token}"}}))
        assert (await _frame(ws))["type"] == "connection_ack"
        yield ws


async def _closed_with(ws: websockets.ClientConnection, seconds: float = 10) -> int | None:
    try:
        while True:
            await asyncio.wait_for(ws.recv(), timeout=seconds)
    except websockets.ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else None


async def test_every_message_is_a_text_frame(api: Api, full_demo: None, database_url: str,
                                             tmp_path: Path) -> None:
    async with server_process(database_url, tmp_path / "s.log") as base, \
            _socket(base, await api.token("admin.dc")) as ws:
        await ws.send(json.dumps({"type": "ping"}))
        assert (await _frame(ws))["type"] == "pong"
        await ws.send(json.dumps({"id": "q", "type": "subscribe",
                                  "payload": {"query": "{ me { username } }"}}))
        message = await _frame(ws)
        assert message["type"] == "next", message
        assert message["payload"]["data"]["me"]["username"] == "admin.dc"
        assert (await _frame(ws))["type"] == "complete"


async def test_a_socket_is_closed_when_its_session_ends(
        api: Api, full_demo: None, database_url: str, tmp_path: Path) -> None:
    """Logout, deactivation by an operator, and an access token's expiry each close the socket
    with 4403; another account's socket stays open."""
    office = await api.token("admin.dc")
    async with server_process(database_url, tmp_path / "s.log") as base:
        async with _socket(base, office) as ws, \
                _socket(base, await api.token("admin.edj")) as bystander:
            await ws.send(json.dumps({"id": "1", "type": "subscribe",
                                      "payload": {"query": SUBSCRIBE}}))
            await api.gql("mutation { logout }", token=office)
            assert await _closed_with(ws) == 4403
            await bystander.send(json.dumps({"type": "ping"}))
            assert (await _frame(bystander))["type"] == "pong"

        async with _socket(base, await api.token("admin.hn")) as ws:
            await Account.filter(username="admin.hn").update(is_active=False)
            assert await _closed_with(ws) == 4403

        # A token that expires in two seconds, of a live session.
        claims = auth.read_access_token(await api.token("admin.lh"))
        assert claims is not None
        real = clock.now()
        clock.set_source(lambda: real - timedelta(seconds=settings().access_token_ttl - 2))
        try:
            short, _ = auth.issue_access_token(claims.account_id, claims.session_id)
        finally:
            clock.set_source(None)
        async with _socket(base, short) as ws:
            assert await _closed_with(ws) == 4403


async def test_subscriptions_are_bounded_per_socket_and_per_account(
        api: Api, full_demo: None, database_url: str, tmp_path: Path) -> None:
    token = await api.token("admin.dc")
    async with server_process(database_url, tmp_path / "s.log") as base:
        async with _socket(base, token) as ws:
            for i in range(SUBSCRIPTIONS_PER_SOCKET + 1):
                await ws.send(json.dumps({"id": str(i), "type": "subscribe",
                                          "payload": {"query": SUBSCRIBE}}))
            refused = await _frame(ws)
            assert refused["type"] == "error" and refused["id"] == str(SUBSCRIPTIONS_PER_SOCKET)

        sockets_needed = -(-SUBSCRIPTIONS_PER_ACCOUNT // SUBSCRIPTIONS_PER_SOCKET)
        opened = [_socket(base, token) for _ in range(sockets_needed + 1)]
        open_sockets = [await s.__aenter__() for s in opened]
        try:
            for n in range(SUBSCRIPTIONS_PER_ACCOUNT):
                await open_sockets[n // SUBSCRIPTIONS_PER_SOCKET].send(json.dumps(
                    {"id": str(n), "type": "subscribe", "payload": {"query": SUBSCRIBE}}))
            await asyncio.sleep(0.5)  # every one of them registered
            last = open_sockets[-1]
            await last.send(json.dumps({"id": "over", "type": "subscribe",
                                        "payload": {"query": SUBSCRIBE}}))
            message = await _frame(last)
            assert message["id"] == "over"
            errors = message["payload"] if message["type"] == "error" else (
                message["payload"]["errors"])
            assert errors[0]["extensions"]["code"] == "RATE_LIMITED", message
        finally:
            for s in reversed(opened):
                await s.__aexit__(None, None, None)
