"""core/statements.KeptStatements: a keyed query's kept statement is the one Tortoise builds,
for every caller, filter, id, cursor and page of the read engine's four reads; a query whose
varying values have no place of their own is built each time."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.accounts.models import Account
from core.cases import access
from core.cases.models import Case, State
from core.pagination import Keyed, window
from core.principal import Principal
from core.roster import service as roster
from core.roster.models import Category, Status
from core.statements import KeptStatements, statement

CALLERS = ["admin.dc", "admin.th", "admin.ja", "sv.dc.001", "ag.dc.scjg", "province"]
NUMBERS = st.integers(1, 500)
# One for every example: a key that named too little would hand one caller's or filter's
# statement to another.
SHARED = KeptStatements()


async def _principal(username: str) -> Principal:
    account = await Account.get(username=username).select_related("home")
    return Principal(account.id, account.username, account.kind, account.home.path)


async def _keyed(principal: Principal, read: int, number: int, after: int | None,
                 first: int, variant: int) -> Keyed[Any]:
    if read == 0:
        return await access.case_rows(principal, number)
    if read == 1:
        return await roster.supervisor_rows(principal, number)
    if read == 2:
        flt = [access.CaseFilter(), access.CaseFilter(state=State.TRANSFERRED),
               access.CaseFilter(mine=True), access.CaseFilter(jurisdiction="jl.th.dc")][variant]
        return (await access.cases_window(principal, flt, first, after)).keyed()
    wanted = [roster.SupervisorFilter(), roster.SupervisorFilter(status=Status.ACTIVE),
           roster.SupervisorFilter(category=Category.ENTERPRISE, search="王"),
           roster.SupervisorFilter(jurisdiction="jl.th.dc")][variant]
    return (await roster.supervisors_window(principal, wanted, first, after)).keyed()


@settings(max_examples=150, deadline=None, database=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
@given(data=st.data())
async def test_kept_statements_are_the_built_ones(full_demo: None, data: st.DataObject) -> None:
    kept = SHARED
    principal = await _principal(data.draw(st.sampled_from(CALLERS)))
    read, variant = data.draw(st.integers(0, 3)), data.draw(st.integers(0, 3))
    for _ in range(3):  # learned, then bound with other values
        keyed = await _keyed(principal, read, data.draw(NUMBERS),
                             data.draw(st.none() | NUMBERS), data.draw(st.integers(1, 100)),
                             variant)
        assert kept.statement(keyed) == statement(keyed.query)


async def test_a_value_without_a_place_of_its_own_is_built_each_time(roster_demo: None
                                                                     ) -> None:
    kept = KeptStatements()
    ignored = Keyed(Case, lambda _: Case.filter(id=1), ("ignores", 1), (5,))
    assert kept.statement(ignored) == statement(Case.filter(id=1))
    twice = Keyed(Case, lambda n: Case.filter(id=n, reporter_id=n), ("twice",), (7,))
    assert kept.statement(twice) == statement(Case.filter(id=7, reporter_id=7))
    assert kept.statement(Keyed(Case, twice.build, ("twice",), (8,))) == statement(
        Case.filter(id=8, reporter_id=8))


async def test_a_window_without_a_key_is_not_kept(roster_demo: None) -> None:
    kept = KeptStatements()
    page = window(Case.filter(state=State.SUBMITTED), 5, None)
    assert page.keyed().key is None
    assert kept.statement(page.keyed()) == statement(page.rows())
    assert len(kept._kept) == 0
