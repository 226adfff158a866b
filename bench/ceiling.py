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

from core.db import credentials

Q1 = """SELECT s.id, s.name, j.name AS jurisdiction FROM supervisor s
JOIN jurisdiction j ON j.id = s.jurisdiction_id WHERE s.jurisdiction_id = $1
ORDER BY s.id LIMIT 20"""
# Q2 reads the maintained all-time tally, as the API does (core/cases/tally.py).
Q2 = """SELECT t.jurisdiction_id, t.key AS state, t.n FROM case_tally_total t
JOIN jurisdiction j ON j.id = t.jurisdiction_id
WHERE (j.path = $1 OR j.path LIKE $1 || '.%') AND t.dimension = 'state' AND t.n <> 0"""
Q3 = """SELECT c.id, c.kind, c.state, s.name AS reporter, a.name AS agency
FROM supervision_case c JOIN supervisor s ON s.id = c.reporter_id
JOIN agency a ON a.id = c.agency_id WHERE c.id = $1"""
pool: asyncpg.Pool | None = None


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
    rows = await pool.fetch(Q2, request.query_params["under"])
    return JSONResponse([dict(r) for r in rows])


async def q3(request: Request) -> JSONResponse:
    assert pool is not None
    row = await pool.fetchrow(Q3, int(request.query_params["id"]))
    return JSONResponse(dict(row) if row else None)


app = Starlette(routes=[Route("/q1", q1), Route("/q2", q2), Route("/q3", q3)],
                lifespan=lifespan)
