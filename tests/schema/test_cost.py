"""A cost limit on what one document may ask, decided before anything runs (lists multiply,
expensive fields weigh more), and CPU-heavy fields off the event loop: a trivial query is
answered while heavy ones are in flight."""

from __future__ import annotations

import asyncio
import time

from core import orm
from core.qr import svg as qr_svg
from schema.cost import MAX_COST
from tests.support import Api, QueryCounter

ONE = "s{n}: supervisors(first: 100) {{ edges {{ node {{ certificate {{ qrSvg }} }} }} }}"


async def test_a_document_over_budget_is_refused_before_it_runs(api: Api, roster_demo: None
                                                                ) -> None:
    token = await api.token("admin.dc")
    heavy = "{ " + " ".join(ONE.format(n=n) for n in range(15)) + " }"
    with QueryCounter() as counter:
        refused = await api.gql(heavy, token=token)
    assert refused.codes == ["COST_LIMIT_EXCEEDED"] and refused.data is None
    extensions = refused.errors[0]["extensions"]
    assert extensions["maximum"] == MAX_COST and extensions["cost"] > MAX_COST
    assert counter.count == 0  # no principal read, nothing run
    # the same through a fragment and a variable page: counted all the same
    spread = ("query($n: Int!) { " + " ".join(
        f"s{n}: supervisors(first: $n) {{ ...qr }}" for n in range(15)) +
        " } fragment qr on SupervisorConnection { edges { node { certificate { qrSvg } } } }")
    assert (await api.gql(spread, {"n": 1}, token=token)).codes == ["COST_LIMIT_EXCEEDED"]
    # what a portal asks is well within it
    page = """{ supervisors(first: 20) { totalCount edges { node { id name category
      jurisdiction { path } contactFirms { name } } } pageInfo { hasNextPage } } }"""
    assert (await api.gql(page, token=token)).ok()["supervisors"]["totalCount"] > 100


async def test_qr_codes_render_off_the_event_loop(api: Api, roster_demo: None) -> None:
    """Three pages of QR codes in flight: the event loop is never held for as long as
    rendering one page inline takes (measured here, on this machine), and `{ __typename }`,
    sent meanwhile, is answered before any of them."""
    await orm.client().execute_query(
        "UPDATE filing SET filed_at = now(), filing_number = 'F' || id, "
        "certificate_number = 'C' || id, certificate_token = 'token-' || md5(id::text) "
        "WHERE filed_at IS NULL")
    tokens = [f"token-{n:032x}" for n in range(100)]
    started = time.perf_counter()
    for t in tokens:
        qr_svg(t)
    inline = time.perf_counter() - started
    token = await api.token("admin.dc")
    heavy = "{ " + ONE.format(n=0) + " }"
    assert (await api.gql(heavy, token=token)).ok()  # known from now on, as in service
    done: list[str] = []
    stalls: list[float] = []
    running = True

    async def ticker() -> None:
        last = time.perf_counter()
        while running:
            await asyncio.sleep(0.001)
            now = time.perf_counter()
            stalls.append(now - last)
            last = now

    async def run(label: str, document: str) -> None:
        result = await api.gql(document, token=token)
        assert not result.errors, result.errors
        done.append(label)

    watch = asyncio.create_task(ticker())
    heavies = [asyncio.create_task(run(f"heavy{n}", heavy)) for n in range(3)]
    await asyncio.sleep(0.01)
    await run("trivial", "{ __typename }")
    await asyncio.gather(*heavies)
    running = False
    await watch
    assert done[0] == "trivial", done
    assert max(stalls) < inline / 2, (max(stalls), inline)
