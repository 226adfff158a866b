"""R7.2: the case tally the database keeps as cases change equals a full recount, and the
figures over any period (whole months from the tally, edges from the cases) equal counting
the cases themselves."""

from __future__ import annotations

from datetime import datetime, timedelta

from tortoise.transactions import in_transaction

from core import clock, orm
from core.cases import tally
from core.cases.models import Case, CaseEvent, CaseTally, CaseTallyTotal
from core.cases.tally import RECOUNT_SQL, Period
from tenants.directory import jurisdictions
from tests.cases.helpers import act, submit, to_transferred
from tests.support import Api, QueryCounter

COUNTS = """query($j: String!, $from: DateTime, $to: DateTime) {
  oversightStats(jurisdiction: $j, from: $from, to: $to) {
    total overdue byState { key count } byJurisdiction { key count } byKind { key count } } }"""


async def _tally() -> dict[tuple, int]:
    rows = await CaseTally.all().values_list("jurisdiction_id", "month", "dimension", "key", "n")
    return {tuple(r[:4]): r[4] for r in rows if r[4] != 0}


async def _recount() -> dict[tuple, int]:
    rows = await orm.client().execute_query_dict(RECOUNT_SQL)
    return {(r["jurisdiction_id"], r["month"], r["dimension"], r["key"]): r["n"] for r in rows}


async def _totals() -> dict[tuple, int]:
    rows = await CaseTallyTotal.all().values_list("jurisdiction_id", "dimension", "key", "n")
    return {tuple(r[:3]): r[3] for r in rows if r[3] != 0}


def _over_all_months(counts: dict[tuple, int]) -> dict[tuple, int]:
    summed: dict[tuple, int] = {}
    for (jurisdiction, _month, dimension, key), n in counts.items():
        summed[jurisdiction, dimension, key] = summed.get((jurisdiction, dimension, key), 0) + n
    return {k: n for k, n in summed.items() if n != 0}


async def test_r7_2_counts_over_all_time_read_the_total_tally_alone(api: Api,
                                                                   full_demo: None) -> None:
    await api.token("admin.th")
    with QueryCounter() as counter:
        data = (await api.gql('{ oversightStats(jurisdiction: "jl.th") { total byState { key '
                              "count } byJurisdiction { key count } } }", as_user="admin.th")
                ).ok()["oversightStats"]
    counts = [s for s in counter.statements if "case_tally" in s]
    assert len(counts) == 1 and "case_tally_total" in counts[0], counter.statements
    assert "month" not in counts[0]
    assert not [s for s in counter.statements if "supervision_case" in s]
    assert data["total"] == await Case.filter(jurisdiction__path__startswith="jl.th").count()
    assert sum(j["count"] for j in data["byJurisdiction"]) == data["total"] > 0


async def test_r7_2_counts_over_whole_months_read_the_monthly_tally_alone(
        api: Api, full_demo: None) -> None:
    await api.token("admin.th")
    with QueryCounter() as counter:
        (await api.gql('{ oversightStats(jurisdiction: "jl.th", from: "2025-12-31T16:00:00Z") '
                       "{ total byState { key count } } }", as_user="admin.th")).ok()
    counts = [s for s in counter.statements if "case_tally" in s]
    assert len(counts) == 1 and "case_tally_total" not in counts[0], counter.statements
    assert not [s for s in counter.statements if "supervision_case" in s]


async def test_r7_2_tally_equals_a_recount_through_every_kind_of_change(api: Api,
                                                                      full_demo: None) -> None:
    assert await _tally() == await _recount() != {}
    assert await _totals() == _over_all_months(await _recount())
    case = await submit(api)
    await to_transferred(api, case["id"])
    (await act(api, "admin.dc", "escalateCase", case["id"], 'reason: "久拖不决"')).ok()
    other = await submit(api, "sv.dc.002")
    (await act(api, "admin.dc", "declineCase", other["id"], 'reason: "不属于受理范围"')).ok()
    # Moving cases between months, and deleting one, keep it true as well.
    old = await Case.filter(jurisdiction__path="jl.th.dc").order_by("id").limit(5)
    for n, c in enumerate(old):
        await Case.filter(id=c.id).update(submitted_at=c.submitted_at - timedelta(days=40 * n))
    await CaseEvent.filter(case_id=int(other["id"])).delete()
    await Case.filter(id=int(other["id"])).delete()
    assert await _tally() == await _recount()
    assert await _totals() == _over_all_months(await _recount())


async def test_r7_2_a_change_holds_no_tally_row_before_its_commit(database_url: str,
                                                                 full_demo: None) -> None:
    """Two changes of cases counted in the same tally rows (one county, one month, one state):
    the second commits while the first is still open, since the tally is written at commit
    (migration 0011), and both are counted."""
    from core import db

    pair = await orm.client().execute_query_dict(
        "SELECT array_agg(id ORDER BY id) AS ids FROM supervision_case "
        "GROUP BY jurisdiction_id, date_trunc('month', submitted_at AT TIME ZONE "
        "'Asia/Shanghai'), state HAVING count(*) >= 2 LIMIT 1")
    first, second = pair[0]["ids"][:2]
    state = (await Case.get(id=first)).state.value
    target = "DECLINED" if state != "DECLINED" else "CLOSED"
    before = await _tally()
    a, b = await db.connect(database_url), await db.connect(database_url)
    try:
        open_one = a.transaction()
        await open_one.start()
        await a.execute("UPDATE supervision_case SET state = $1 WHERE id = $2", target, first)
        await b.execute("SET lock_timeout = '3s'")
        await b.execute("UPDATE supervision_case SET state = $1 WHERE id = $2", target, second)
        assert await _tally() != before  # the second is counted, the first not yet
        await open_one.commit()
    finally:
        await a.close()
        await b.close()
    assert await _tally() == await _recount()
    assert await _totals() == _over_all_months(await _recount())


async def test_r7_2_figures_over_a_period_with_partial_months_equal_counting_cases(
        api: Api, full_demo: None) -> None:
    cases = await Case.all().order_by("id")
    base = clock.now()
    for n, c in enumerate(cases):  # spread the cases over about five months
        await Case.filter(id=c.id).update(submitted_at=base - timedelta(hours=97 * n))
    cases = await Case.all().select_related("jurisdiction")
    start, end = base - timedelta(days=100, hours=5), base - timedelta(days=9, minutes=7)
    period = Period.of(start, end)
    assert period.first_month is not None and len(period.edges) == 2  # edges and whole months
    await api.token("admin.edj")
    with QueryCounter() as counter:
        stats = (await api.gql(COUNTS, {"j": "jl.th", "from": start.isoformat(),
                                        "to": end.isoformat()}, as_user="admin.edj")
                 ).ok()["oversightStats"]
    # principal, scope ids (twice), the counts, overdue: no percentile query unless asked
    assert counter.count <= 5, counter.statements
    inside = [c for c in cases if start <= c.submitted_at < end]
    assert 0 < stats["total"] == len(inside) < len(cases)
    by_state: dict[str, int] = {}
    by_path: dict[str, int] = {}
    for c in inside:
        by_state[c.state.value] = by_state.get(c.state.value, 0) + 1
        by_path[c.jurisdiction.path] = by_path.get(c.jurisdiction.path, 0) + 1
    assert {x["key"]: x["count"] for x in stats["byState"]} == by_state
    assert {x["key"]: x["count"] for x in stats["byJurisdiction"]} == by_path


def test_periods_split_into_whole_local_months_and_edges() -> None:
    zone = clock.LOCAL_ZONE
    aligned = Period.of(datetime(2026, 3, 1, tzinfo=zone), datetime(2026, 6, 1, tzinfo=zone))
    assert (aligned.first_month, aligned.end_month, aligned.edges) == (
        datetime(2026, 3, 1).date(), datetime(2026, 6, 1).date(), ())
    inside = Period.of(datetime(2026, 3, 2, tzinfo=zone), datetime(2026, 3, 9, tzinfo=zone))
    assert inside.first_month == inside.end_month and inside.edges == (
        (inside.start, inside.end),)
    december = Period.of(datetime(2026, 12, 31, 23, tzinfo=zone), None)
    assert december.first_month == datetime(2027, 1, 1).date()
    assert december.edges == ((december.start, datetime(2027, 1, 1, tzinfo=zone)),)
    assert Period.of(None, None).edges == ()


async def test_r7_2_only_the_dimensions_asked_for_are_read_in_one_statement(
        api: Api, full_demo: None) -> None:
    await api.token("admin.th")
    every = ('{ oversightStats(jurisdiction: "jl.th") { total substantiationRate '
             "byKind { key count } byCategory { key count } byState { key count } "
             "byAgency { key count } byJurisdiction { key count } } }")
    with QueryCounter() as counter:
        whole = (await api.gql(every, as_user="admin.th")).ok()["oversightStats"]
    counts = [s for s in counter.statements if "case_tally" in s]
    assert len(counts) == 1
    assert "'{agency,category,finding,kind,state}'" in counts[0]
    # Asked for one by one, through a fragment and an alias: the same figures, and only the
    # dimension each needs is read.
    for field, dimension in (("total", "state"), ("byJurisdiction { key count }", "state"),
                             ("substantiationRate", "finding"), ("byAgency { key count }",
                                                                 "agency")):
        name = field.split()[0]
        with QueryCounter() as counter:
            one = (await api.gql(
                '{ oversightStats(jurisdiction: "jl.th") { ...F } } '
                f"fragment F on OversightStats {{ it: {field} }}", as_user="admin.th")
                   ).ok()["oversightStats"]
        assert one["it"] == whole[name]
        counts = [s for s in counter.statements if "case_tally" in s]
        assert len(counts) == 1 and f"'{{{dimension}}}'" in counts[0], counts
        # agencies are counted by id: their names are joined only when agencies are asked for
        assert ("JOIN agency" in counts[0]) is (dimension == "agency"), counts
    assert whole["byAgency"] and not any(e["key"].isdigit() for e in whole["byAgency"])


async def test_r7_2_figures_not_asked_for_are_not_read_and_inline_fragments_count(
        api: Api, full_demo: None) -> None:
    """The counts a query asks for are read before its fields (schema/asked.py): none for a
    query of other figures, the kind through an inline fragment, the same the second time
    (the document's answer kept)."""
    await api.token("admin.th")
    for _ in range(2):
        with QueryCounter() as counter:
            data = (await api.gql('{ oversightStats(jurisdiction: "jl.th") { overdue } }',
                                  as_user="admin.th")).ok()["oversightStats"]
        assert isinstance(data["overdue"], int)
        assert not [s for s in counter.statements if "case_tally" in s]
        with QueryCounter() as counter:
            kinds = (await api.gql('{ oversightStats(jurisdiction: "jl.th") { '
                                   "... on OversightStats { k: byKind { key count } } } }",
                                   as_user="admin.th")).ok()["oversightStats"]["k"]
        counts = [s for s in counter.statements if "case_tally" in s]
        assert len(counts) == 1 and "'{kind}'" in counts[0], counts
        assert sum(k["count"] for k in kinds) == await Case.all().count()


async def test_r7_2_counts_over_all_time_are_planned_once_per_connection(
        full_demo: None) -> None:
    """The ids and dimensions are written into the statement: with them as array parameters
    PostgreSQL planned every execution anew (custom plans, more server time than running it).
    With none, the prepared statement's one plan serves every execution."""
    paths = await jurisdictions.paths_where(lambda path: path.startswith("jl.th"))
    dimensions, period = ["state", "agency"], Period.of(None, None)
    sql, params = tally.statement(paths, period, dimensions)
    assert "case_tally_total" in sql and params == []
    async with in_transaction() as connection:  # one connection, so its prepared statements
        answers = [await tally.figures(paths, period, dimensions) for _ in range(8)]
        plans = await connection.execute_query_dict(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements "
            "WHERE statement = $1", [sql])
    # (the pooled connection may have run it before, for another test)
    assert len(plans) == 1 and plans[0]["custom_plans"] == 0 <= 8 <= plans[0]["generic_plans"]
    assert all(a == answers[0] for a in answers) and answers[0].total == await Case.filter(
        jurisdiction__path__startswith="jl.th").count() > 0
