"""One winner each, the others a clear answer: the same thing created or decided by several
requests at once (a double click is enough). A unique index that refuses the loser answers
CONFLICT, never INTERNAL; a decision taken twice at once is taken once."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from core.activities.models import Participation, ParticipationStatus
from core.cases.models import Disclosure
from core.roster import proposals
from core.roster.models import Discipline, Filing, Supervisor
from core.scoring.models import ProposalKind
from tests.activities.test_activities import _create
from tests.cases.helpers import act, submit
from tests.roster.test_filing import RECORD, _province_key
from tests.support import Api, Result


async def _at_once(*calls: Awaitable[Result]) -> list[list[str]]:
    return sorted(r.codes for r in await asyncio.gather(*calls))


async def _warm(api: Api, *users: str) -> None:
    for user in users:
        await api.token(user)


async def test_creations_at_once_give_one_and_conflicts(api: Api, full_demo: None) -> None:
    await _warm(api, "admin.dc")
    group = 'mutation { createGroup(jurisdiction: "jl.th.dc", name: "餐饮组") { id } }'
    assert await _at_once(*(api.gql(group, as_user="admin.dc") for _ in range(5))) == [
        []] + [["CONFLICT"]] * 4
    account = ('mutation { createAccount(username: "clerk.dc", kind: STAFF, homePath: '
               '"jl.th.dc", password: "a-long-password-1") { username } }')
    assert await _at_once(*(api.gql(account, as_user="admin.dc") for _ in range(5))) == [
        []] + [["CONFLICT"]] * 4

    pending = await Filing.filter(filed_at__isnull=True, supervisor__status="ACTIVE",
                                  supervisor__jurisdiction__path="jl.th.dc").order_by("id"
                                                                                      ).limit(5)
    key = _province_key()
    codes = await _at_once(*(api.gql(RECORD, {
        "s": str(f.supervisor_id), "f": f"JLBA-2026-{n:04d}",
        "c": "JL2026DC99009"}, api_key=key) for n, f in enumerate(pending)))
    assert codes == [[]] + [["CONFLICT"]] * 4


async def test_r4_4_a_disclosure_at_once_is_recorded_once(api: Api, full_demo: None) -> None:
    case = await submit(api)
    await _warm(api, "admin.dc")
    assert not (await act(api, "admin.dc", "acceptCase", case["id"])).errors
    disclose = f'mutation {{ discloseReporter(id: "{case["id"]}", reason: "核实需要") {{ id }} }}'
    assert await _at_once(*(api.gql(disclose, as_user="admin.dc") for _ in range(5))) == [
        []] + [["CONFLICT"]] * 4
    assert await Disclosure.filter(case_id=int(case["id"])).count() == 1


async def test_r9_4_a_reminder_confirmed_at_once_is_one_discipline(api: Api, full_demo: None
                                                                   ) -> None:
    supervisor = await Supervisor.get(account__username="sv.dc.050")
    await proposals.propose(supervisor.id, ProposalKind.REMINDER, "未参加培训", "test:double")
    from core.scoring.models import Proposal

    proposal = await Proposal.get(source="test:double")
    await _warm(api, "admin.dc")
    decide = f'mutation {{ decideProposal(id: "{proposal.id}", confirm: true) }}'
    assert await _at_once(*(api.gql(decide, as_user="admin.dc") for _ in range(5))) == [
        []] + [["INVALID_TRANSITION"]] * 4
    assert await Discipline.filter(supervisor_id=supervisor.id).count() == 1


async def test_r5_3_applicants_at_once_fill_a_hearing_without_deadlock(
        api: Api, full_demo: None) -> None:
    """Ten supervisors apply at once to an open hearing with three seats: three are seated,
    seven told it is full, and no seat is left empty."""
    hearing: dict[str, Any] = await _create(api, kind="HEARING", audience="OPEN", capacity=3)
    users = [f"sv.dc.{n:03d}" for n in range(60, 70)]
    await _warm(api, *users)
    apply = f'mutation {{ applyToActivity(id: "{hearing["id"]}") {{ status }} }}'
    codes = await _at_once(*(api.gql(apply, as_user=u) for u in users))
    assert codes == [[]] * 3 + [["RULE_VIOLATION"]] * 7, codes
    assert await Participation.filter(activity_id=int(hearing["id"]),
                                      status=ParticipationStatus.ACCEPTED).count() == 3
