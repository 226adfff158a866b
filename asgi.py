"""The one ASGI entry: `uvicorn asgi:app`. Routes /graphql, /healthz, /readyz, /metrics."""

from __future__ import annotations

import asyncio
import gc
import hmac
import ipaddress
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles

from core import audit, db, events, holidays, logs, offload, orm, throttle
from core.accounts import grants, principals
from core.accounts import service as accounts
from core.agencies import service as agencies
from core.assistance.service import advance_dispatch
from core.attachments import service as attachments
from core.config import settings
from core.jobs import periodic, until_after_local_midnight
from core.notifications import service as notifications
from core.roster import service as roster
from core.roster.terms import expire_terms
from core.scoring import points
from policies.enforcer import store
from tenants import directory
from web import files, live
from web.endpoint import STATIC, GraphQLApp
from web.graphql import build_schema
from web.middleware import BodyLimit, Direct, RequestContext, RequestTimeout

log = logging.getLogger(__name__)


async def healthz(_request: Request) -> Response:
    """Alive; names the worker process that answered (`python -m core serve --workers`)."""
    return JSONResponse({"status": "ok", "worker": os.getpid()})


async def readyz(_request: Request) -> Response:
    """200 only when the database answers, every migration is applied and the policy is
    loaded."""
    try:
        await orm.client().execute_query("SELECT 1")
        pending = await db.pending_migrations()
    except Exception as exc:  # any failure to reach the database means not ready
        log.warning("not ready: %s", exc)
        return JSONResponse({"status": "database unreachable"}, status_code=503)
    if pending:
        return JSONResponse({"status": "migrations pending", "pending": pending}, status_code=503)
    if not store.loaded:  # the database is back, the listener not yet (it retries)
        return JSONResponse({"status": "policy not loaded"}, status_code=503)
    return JSONResponse({"status": "ready"})


async def metrics(request: Request) -> Response:
    """Prometheus metrics: in production only to the configured addresses or token."""
    if not metrics_allowed(request):
        return Response(status_code=404)
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


def metrics_allowed(request: Request) -> bool:
    cfg = settings()
    if not cfg.production:
        return True
    if cfg.metrics_token and hmac.compare_digest(
            request.headers.get("authorization", ""), f"Bearer {cfg.metrics_token}"):
        return True
    networks = [n.strip() for n in (cfg.metrics_allow_ips or "").split(",") if n.strip()]
    try:
        address = ipaddress.ip_address(request.client.host if request.client else "")
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(n, strict=False) for n in networks)


# A request's objects die by reference counting. At the collector's default threshold (a pass
# once 700 more objects are alive than at the last) the objects of 32 requests in flight set it
# off ~60 times a second, each pass walking them all: ~5 % of the CPU, and Q1 and Q3 at size M
# served ~15-20 % more requests a second without it (A/B runs). Above what the requests in
# flight hold, it runs only as garbage in cycles builds up.
COLLECTOR_THRESHOLD = 10_000

# Every server process's jobs: (name, period in seconds or a schedule, run). R2.2 term
# expiry at start and just after each local midnight (a term ending on a date has ended as the
# next begins), R4.4 the points of cases of the day just ended, R6.3 dispatch rounds, the
# audit chain's head in the log hourly; spent
# rate-limit hits, uploads nothing took and sign-ins nothing can use any more, purged.
JOBS: tuple[tuple[str, float | Callable[[], float], Callable[[], Awaitable[object]]], ...] = (
    ("expire-terms", until_after_local_midnight, expire_terms),
    ("points-credit", until_after_local_midnight, points.credit_days),
    ("assistance-dispatch", 5.0, advance_dispatch),
    ("audit-head", 3600, audit.witness),
    ("throttle-purge", 3600, throttle.purge),
    ("staged-uploads-purge", 3600, attachments.purge_staged),
    ("sessions-purge", 24 * 3600, accounts.purge_sessions))

# How long start-up waits for the listener's first connect (which loads the policy) before it
# serves anyway: milliseconds when the database is up.
START_WAIT_S = 5.0

# What this process keeps in memory while it hears the notices that say it changed, by the
# channel whose notices drop it (supervisor records and agencies are kept with their
# jurisdiction rows, so a change of the tree drops them too).
MIRRORS: dict[str, tuple[events.Mirror, ...]] = {
    principals.CHANNEL: (principals.cache, live.sockets),
    directory.CHANNEL: (directory.jurisdictions, roster.own_records, agencies.kept),
    roster.CHANNEL: (roster.own_records,),
    agencies.CHANNEL: (agencies.kept,),
    agencies.STAFF_CHANNEL: (agencies.staff_agency,),
    holidays.CHANNEL: (holidays.kept,)}
KEPT = tuple(dict.fromkeys(mirror for mirrors in MIRRORS.values() for mirror in mirrors))


def _dropping(mirrors: tuple[events.Mirror, ...]) -> events.Handler:
    async def drop(payload: str) -> None:
        for mirror in mirrors:
            await mirror.on_notice(payload)
    return drop


async def _caught_up() -> None:
    """On each (re)connect of the listener: keep mirrors again, reread the grants, wake the
    subscribers."""
    for mirror in KEPT:
        mirror.resume()
    await store.reload()
    await notifications.hub.wake_all()


def _missing_notices() -> None:
    for mirror in KEPT:
        mirror.suspend()


def listener_for(url: str) -> events.Listener:
    """This process's follower of other processes' changes: grants, notifications, mirrors."""
    listener = events.Listener(db.credentials(db.app_url(url)), {
        grants.CHANNEL: grants.on_policy_notice,
        notifications.CHANNEL: notifications.hub.on_notice,
        **{channel: _dropping(mirrors) for channel, mirrors in MIRRORS.items()},
    })
    listener.on_connect = _caught_up
    listener.on_disconnect = _missing_notices
    return listener


@asynccontextmanager
async def _database(app: Starlette) -> AsyncIterator[None]:
    """Open the ORM, follow changes made by other processes (loading the policy on each
    connect), and run the JOBS. A database down at start does not stop the process: it
    serves, and answers as in any outage until the database is back (after a power cut the
    application's machine may well come up first)."""
    url = await asyncio.to_thread(db.database_url)
    await db.init(url)
    listener = listener_for(url)
    listener.start()
    try:  # its first connect loads the policy: at once, unless the database is down
        await asyncio.wait_for(listener.connected.wait(), timeout=START_WAIT_S)
    except TimeoutError:
        log.warning("database unreachable at start: serving; SERVICE_UNAVAILABLE and /readyz "
                    "503 until it answers")
    stop = asyncio.Event()
    jobs = [asyncio.create_task(periodic(stop, name, every, run), name=name)
            for name, every, run in JOBS]
    # What start-up made (modules, schema, models, policy: ~150,000 objects) lives as long as
    # the process: out of the collector's sight, a full collection no longer stops every
    # request for ~150 ms (measured under load at size M).
    gc.collect()
    gc.freeze()
    gc.set_threshold(COLLECTOR_THRESHOLD)
    try:
        yield
    finally:
        stop.set()
        await asyncio.gather(*jobs)
        await listener.stop()
        await db.close()
        offload.shutdown()


def create_app(*, manage_database: bool = True, extensions: tuple[Any, ...] = ()) -> Starlette:
    """The application. Tests open the database themselves (manage_database=False);
    `extensions` are more schema extensions (tracing, say), run on every request."""
    cfg = settings()
    logs.configure()
    graphql = GraphQLApp(
        build_schema(production=cfg.production, extra=extensions),
        graphql_ide=None if cfg.production else "graphiql",
        multipart_uploads_enabled=False,  # uploads come with their own CSRF-safe endpoint
        max_subscriptions_per_connection=live.SUBSCRIPTIONS_PER_SOCKET,
    )
    routes = [
        Route("/graphql", graphql, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", graphql),
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/metrics", metrics),
        Route("/uploads", files.upload, methods=["POST"]),
        Route("/attachments/{attachment_id}", files.download),
        Route("/exports/{token}", files.export),
    ]
    if not cfg.production:
        routes.append(Mount("/static", StaticFiles(directory=STATIC), name="static"))
    middleware = [Middleware(RequestContext),
                  Middleware(BodyLimit, limit=cfg.max_body_bytes,
                             larger={"/uploads": attachments.MAX_BYTES + 64 * 1024}),
                  Middleware(RequestTimeout, seconds=cfg.request_timeout_s,
                             paths=("/graphql",)),
                  Middleware(Direct, path="/graphql", methods=("GET", "POST"),
                             endpoint=graphql)]
    origins = [o.strip() for o in (cfg.cors_origins or "").split(",") if o.strip()]
    if origins:  # outermost: refusals (413, 504) reach the portal's page readable too
        middleware.insert(0, Middleware(
            CORSMiddleware, allow_origins=origins, allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type", "Accept-Language", "X-Request-ID"],
            expose_headers=["X-Request-ID"], max_age=600))
    return Starlette(routes=routes, middleware=middleware,
                     lifespan=_database if manage_database else None)


app = create_app()
