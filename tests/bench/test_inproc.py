"""The in-process driver (bench/inproc.py): requests reach the app as a server would send
them, every request is made and counted, and an error answer stops the measurement."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bench.inproc import CONNECTIONS, _call, _cpu_per_request

seen: list[tuple[str, str, bytes, str | None]] = []


async def echo(request: Request) -> Response:
    seen.append((request.method, request.url.query, await request.body(),
                 request.headers.get("authorization")))
    if request.query_params.get("fail"):
        return Response(status_code=500)
    return JSONResponse({"n": len(seen)})


app = Starlette(routes=[Route("/echo", echo, methods=["GET", "POST"])])


async def test_a_request_is_a_get_or_a_post_with_its_body_and_token() -> None:
    seen.clear()
    assert await _call(app, "/echo?x=1") == b'{"n":1}'
    assert await _call(app, "/echo", b'{"q":1}', "tok") == b'{"n":2}'
    assert seen == [("GET", "x=1", b"", None), ("POST", "", b'{"q":1}', "Bearer tok")]


async def test_every_request_is_made_and_an_error_answer_stops_the_run() -> None:
    seen.clear()
    spent = await _cpu_per_request(lambda: _call(app, "/echo"), CONNECTIONS * 3)
    assert len(seen) == CONNECTIONS * 3 and spent > 0
    with pytest.raises(RuntimeError, match="answered 500"):
        await _call(app, "/echo?fail=1")
