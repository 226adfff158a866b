"""`python -m core …`: migrate, seed-demo, create-account, grant, create-api-key, api-keys,
revoke-api-key, expire-terms, load-holidays, holiday-years, audit-verify, audit-head, stop-db,
serve. The command line is the machine operator's tool: it acts as `system` in the audit trail,
and every change it makes is recorded there like any other."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from core import audit, db, logs
from core.accounts import service as accounts
from core.config import settings
from core.errors import DomainError
from core.principal import AccountKind


async def _with_db(work: Callable[[], Awaitable[Any]]) -> Any:
    url = await asyncio.to_thread(db.database_url)
    await db.init(url)
    try:
        from policies.enforcer import store

        await store.reload()
        return await work()
    finally:
        await db.close()


async def _migrate(_args: argparse.Namespace) -> None:
    url = await asyncio.to_thread(db.database_url)
    await db.migrate(url)
    await db.close()
    print("migrations applied")


async def _seed(_args: argparse.Namespace) -> None:
    from demo import seed_demo

    print(json.dumps(await _with_db(seed_demo)))


async def _create_account(args: argparse.Namespace) -> None:
    kind = AccountKind(args.kind)
    password = None if kind is AccountKind.SERVICE else (
        args.password or getpass.getpass("password: "))

    async def work() -> None:
        account = await accounts.create_account(
            None, username=args.username, display_name=args.display_name, kind=kind,
            home_path=args.home, password=password)
        print(f"created {account.username} ({account.kind}) at {args.home}")

    await _with_db(work)


async def _grant(args: argparse.Namespace) -> None:
    from core.accounts import grants

    async def work() -> None:
        await grants.grant_role(None, args.username, args.role, args.domain)
        print(f"granted {args.role} on {args.domain} to {args.username}")

    await _with_db(work)


async def _create_api_key(args: argparse.Namespace) -> None:
    async def work() -> None:
        _, key = await accounts.create_api_key(None, args.username, args.name)
        print(key)

    await _with_db(work)


async def _api_keys(args: argparse.Namespace) -> None:
    async def work() -> None:
        for key in await accounts.api_keys(None, args.username):
            state = f"revoked {key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "active"
            print(f"{key.id}\t{key.name}\t{key.prefix}…\t{key.created_at:%Y-%m-%d %H:%M}\t{state}")

    await _with_db(work)


async def _revoke_api_key(args: argparse.Namespace) -> None:
    async def work() -> None:
        key = await accounts.revoke_api_key(None, args.id)
        print(f"revoked key {key.id} ({key.name})")

    await _with_db(work)


async def _load_holidays(args: argparse.Namespace) -> None:
    from pathlib import Path

    from core import holidays
    from core.cases.service import load_holiday_year

    async def work() -> None:
        year, source, days_off, workdays = holidays.read_notice(Path(args.file))
        changed = await load_holiday_year(year, source, days_off, workdays)
        print(f"{year}: {len(days_off)} holidays, {len(workdays)} adjusted working days "
              f"({source}); {changed} open case(s) got a new due date")

    await _with_db(work)


async def _holiday_years(_args: argparse.Namespace) -> None:
    from core.holidays import HolidayYear

    async def work() -> None:
        for held in await HolidayYear.all().order_by("year"):
            print(f"{held.year}\t{held.loaded_at:%Y-%m-%d}\t{held.loaded_by}\t{held.source}")

    await _with_db(work)


async def _stop_db(_args: argparse.Namespace) -> None:
    pgdata = settings().data_dir / "pg"
    if settings().database_url:
        print("DATABASE_URL is set: its server is not ours to stop")
    elif db.stop_embedded(pgdata):
        print(f"stopped the embedded PostgreSQL in {pgdata}")
    else:
        print(f"no embedded PostgreSQL runs in {pgdata}")


async def _expire_terms(_args: argparse.Namespace) -> None:
    from core.roster.terms import expire_terms

    count = await _with_db(expire_terms)
    print(f"{count} supervisor(s) moved to EXPIRED")


async def _audit_verify(args: argparse.Namespace) -> None:
    witnessed = args.head
    broken = await _with_db(lambda: audit.verify(witnessed))
    if broken is None:
        print("audit chain intact" + (f", holding head {witnessed.id}" if witnessed else ""))
        return
    if witnessed is not None and broken == witnessed.id:
        print(f"audit chain broken at record {broken}: the witnessed head is gone or altered")
    else:
        print(f"audit chain broken at record {broken}")
    sys.exit(1)


async def _audit_head(_args: argparse.Namespace) -> None:
    found = await _with_db(audit.head)
    print(found if found is not None else "audit trail empty")


def _head(text: str) -> audit.Head:
    try:
        return audit.Head.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _serve(args: argparse.Namespace) -> None:
    from web.serve import serve

    cfg = settings()
    serve(args.app, cfg.host, args.port or cfg.port, args.workers or cfg.workers)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m core")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="apply every migration").set_defaults(run=_migrate)
    sub.add_parser("seed-demo", help="create the demo tree and accounts (idempotent)"
                   ).set_defaults(run=_seed)
    p = sub.add_parser("create-account", help="create an account")
    p.add_argument("username")
    p.add_argument("--kind", choices=[k.value for k in AccountKind], default="STAFF")
    p.add_argument("--home", required=True, help="home jurisdiction path, e.g. jl.th.dc")
    p.add_argument("--display-name", default="")
    p.add_argument("--password", help="prompted for when omitted (not for SERVICE)")
    p.set_defaults(run=_create_account)
    p = sub.add_parser("grant", help="give an account a role in a domain")
    p.add_argument("username")
    p.add_argument("role")
    p.add_argument("domain", help="a path (jl.th.dc) or a subtree (jl.th.**)")
    p.set_defaults(run=_grant)
    p = sub.add_parser("create-api-key", help="issue an API key for a SERVICE account")
    p.add_argument("username")
    p.add_argument("--name", default="cli")
    p.set_defaults(run=_create_api_key)
    p = sub.add_parser("api-keys", help="list a SERVICE account's API keys")
    p.add_argument("username")
    p.set_defaults(run=_api_keys)
    p = sub.add_parser("revoke-api-key", help="revoke an API key at once (its id from api-keys)")
    p.add_argument("id", type=int)
    p.set_defaults(run=_revoke_api_key)
    sub.add_parser("expire-terms", help="R2.2: move supervisors past term end to EXPIRED"
                   ).set_defaults(run=_expire_terms)
    p = sub.add_parser("audit-verify", help="check the audit chain; names the first broken "
                                            "record")
    p.add_argument("--head", type=_head, help="a head written down earlier (id:hash, from "
                                              "audit-head or the `audit head` log line): the "
                                              "chain must still hold it")
    p.set_defaults(run=_audit_verify)
    sub.add_parser("audit-head", help="print the chain's newest record as id:hash, to keep "
                                      "outside the database").set_defaults(run=_audit_head)
    p = sub.add_parser("load-holidays", help="R5.1: load a year's holidays and adjusted working "
                                             "days from the State Council's notice (JSON)")
    p.add_argument("file", help='{"year": 2027, "source": "…", "holidays": ["2027-01-01", …], '
                                '"workdays": [...]}')
    p.set_defaults(run=_load_holidays)
    sub.add_parser("holiday-years", help="the years of the official calendar held, and their "
                                         "sources").set_defaults(run=_holiday_years)
    sub.add_parser("stop-db", help="stop the embedded PostgreSQL (`make stop`)"
                   ).set_defaults(run=_stop_db)
    p = sub.add_parser("serve", help="serve the API (HOST, PORT, WORKERS)")
    p.add_argument("--workers", type=int, help="worker processes (default WORKERS, 1)")
    p.add_argument("--port", type=int, help="default PORT")
    p.add_argument("--app", default="asgi:app", help=argparse.SUPPRESS)  # the benchmark's
    p.set_defaults(run=_serve)
    args = parser.parse_args(argv)
    logs.configure("WARNING")
    if args.command == "serve":
        _serve(args)
        return
    try:
        asyncio.run(args.run(args))
    except DomainError as exc:
        print(f"{exc.code}: {exc.zh} / {exc.en}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
