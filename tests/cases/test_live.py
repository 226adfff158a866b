"""Live case events over graphql-transport-ws, across two server processes."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path

import httpx
import websockets
from websockets.typing import Subprotocol

from core import clock
from tests.cases.helpers import agency_id
from tests.support import Api, server_process

SUBSCRIBE = "subscription { caseEvents { kind text caseId } }"
PROTOCOL = Subprotocol("graphql-transport-ws")


async def _init(ws: websockets.ClientConnection, token: str | None) -> dict:
    payload = {"Authorization": f"Bearer {token}"} if token else {}
    await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
    return json.loads(await asyncio.wait_for(ws.recv(), timeout=10))


async def test_an_event_caused_through_one_process_arrives_on_another(
        api: Api, full_demo: None, database_url: str, tmp_path: Path) -> None:
    office_token = await api.token("admin.dc")
    reporter_token = await api.token("sv.dc.001")
    async with server_process(database_url, tmp_path / "a.log") as a, \
            server_process(database_url, tmp_path / "b.log") as b:
        url = b.replace("http", "ws") + "/graphql"
        async with websockets.connect(url, subprotocols=[PROTOCOL]) as ws:
            assert (await _init(ws, office_token))["type"] == "connection_ack"
            await ws.send(json.dumps({"id": "1", "type": "subscribe",
                                      "payload": {"query": SUBSCRIBE}}))
            await asyncio.sleep(0.5)  # the subscription is registered on process B
            async with httpx.AsyncClient(base_url=a) as client:
                response = await client.post("/graphql", headers={
                    "Authorization": f"Bearer {reporter_token}"}, json={
                    "query": "mutation($i: CaseInput!) { submitCase(input: $i) { id } }",
                    "variables": {"i": {
                        "kind": "REPORT", "category": "EFFICIENCY",
                        "agency": await agency_id("dc"), "title": "审批超时",
                        "description": "超过承诺时限未办结",
                        "occurredAt": (clock.now() - timedelta(days=1)).isoformat()}}})
                case_id = response.json()["data"]["submitCase"]["id"]
            message = json.loads(await asyncio.wait_for(ws.recv(), timeout=10))
            assert message["type"] == "next", message
            event = message["payload"]["data"]["caseEvents"]
            assert event["kind"] == "NEW_CASE" and event["caseId"] == case_id


async def test_a_socket_without_credentials_is_refused(
        api: Api, full_demo: None, database_url: str, tmp_path: Path) -> None:
    async with server_process(database_url, tmp_path / "s.log") as base:
        url = base.replace("http", "ws") + "/graphql"
        async with websockets.connect(url, subprotocols=[PROTOCOL]) as ws:
            await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
            try:
                await asyncio.wait_for(ws.recv(), timeout=10)
                raise AssertionError("the socket stayed open")
            except websockets.ConnectionClosed as closed:
                assert closed.rcvd is not None and closed.rcvd.code == 4403
