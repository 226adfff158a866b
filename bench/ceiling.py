"""The ceiling: the SQL of Q1, Q2 and Q3 behind a bare Starlette + asyncpg JSON endpoint (no
GraphQL, no ORM, no authorization). `uvicorn bench.ceiling:app`; DATABASE_URL as the API."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from core.cases import tally
from core.db import credentials

Q1 = """SELECT s.id, s.name, j.name AS jurisdiction FROM supervisor s
JOIN jurisdiction j ON j.id = s.jurisdiction_id WHERE s.jurisdiction_id = $1
ORDER BY s.id LIMIT 20"""
# Q2 is the API's own statement over the maintained all-time tally (core/cases/tally.py), with
# the ids of the jurisdictions under `under` written in; they are read once for each `under`.
SUBTREE = "SELECT id FROM jurisdiction WHERE path = $1 OR path LIKE $1 || '.%' ORDER BY path"
Q3 = """SELECT c.id, c.kind, c.state, s.name AS reporter, a.name AS agency
FROM supervision_case c JOIN supervisor s ON s.id = c.reporter_id
JOIN agency a ON a.id = c.agency_id WHERE c.id = $1"""
pool: asyncpg.Pool | None = None
q2_statements: dict[str, str] = {}


@asynccontextmanager
async def lifespan(_app: Starlette) -> AsyncIterator[None]:
    global pool
    creds = credentials(os.environ["DATABASE_URL"])
    pool = await asyncpg.create_pool(host=creds["host"], port=creds["port"],
                                     user=creds["user"], password=creds["password"],
                                     database=creds["database"], min_size=10, max_size=10)
    yield
    await pool.close()


async def q1(request: Request) -> JSONResponse:
    assert pool is not None
    rows = await pool.fetch(Q1, int(request.query_params["jurisdiction"]))
    return JSONResponse([dict(r) for r in rows])


async def q2(request: Request) -> JSONResponse:
    assert pool is not None
    under = request.query_params["under"]
    if under not in q2_statements:
        ids = [r["id"] for r in await pool.fetch(SUBTREE, under)]
        q2_statements[under], _ = tally.statement(ids, tally.Period.of(None, None), ["state"])
    rows = await pool.fetch(q2_statements[under])
    return JSONResponse([dict(r) for r in rows])


async def q3(request: Request) -> JSONResponse:
    assert pool is not None
    row = await pool.fetchrow(Q3, int(request.query_params["id"]))
    return JSONResponse(dict(row) if row else None)


app = Starlette(routes=[Route("/q1", q1), Route("/q2", q2), Route("/q3", q3)],
                lifespan=lifespan)
