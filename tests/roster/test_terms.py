"""Terms: expiry (R2.2), the renewal ranking (R2.1) and renewal (R1.7)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from core import clock
from core.roster.models import ContactFirm, Discipline, Filing, Status, Supervisor, SupervisorEvent
from core.roster.terms import expire_terms
from tests.support import Api


async def _move_term_end(username: str, days_from_today: int) -> Supervisor:
    supervisor = await Supervisor.get(account__username=username)
    supervisor.term_end = clock.today() + timedelta(days=days_from_today)
    await supervisor.save(update_fields=["term_end"])
    return supervisor


async def test_r2_2_expire_terms_is_idempotent(roster_demo: None) -> None:
    """R2.2: not renewed at term end means dismissed by expiry, recorded once."""
    ended = await _move_term_end("sv.dc.010", -1)
    last_day = await _move_term_end("sv.dc.011", 0)
    assert await expire_terms() == 1
    assert (await Supervisor.get(id=ended.id)).status is Status.EXPIRED
    assert (await Supervisor.get(id=last_day.id)).status is Status.ACTIVE
    events = await SupervisorEvent.filter(supervisor_id=ended.id, kind="EXPIRED")
    assert len(events) == 1 and (events[0].from_status, events[0].to_status) == (
        "ACTIVE", "EXPIRED")
    assert await expire_terms() == 0
    assert await SupervisorEvent.filter(kind="EXPIRED").count() == 5 + 1  # demo + this one


async def test_r2_2_expire_terms_from_the_command_line(roster_demo: None, database_url: str
                                                       ) -> None:
    ended = await _move_term_end("sv.ja.005", -3)
    root = Path(__file__).resolve().parents[2]
    run = subprocess.run([sys.executable, "-m", "core", "expire-terms"], cwd=root,
                         env={"DATABASE_URL": database_url, "PATH": "/usr/bin:/bin",
                              "DATA_DIR": os.environ["DATA_DIR"]},
                         capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    assert "1 supervisor" in run.stdout
    assert (await Supervisor.get(id=ended.id)).status is Status.EXPIRED


CANDIDATES = """query($j: String!, $d: Int!) { renewalCandidates(jurisdiction: $j,
  withinDays: $d) { rank disciplines contactFirms supervisor { id termEnd } } }"""


async def test_r2_1_renewal_candidates_best_first(api: Api, roster_demo: None) -> None:
    """R2.1: responsible and outstanding supervisors first; until assessments exist, a clean
    record and contact kept with firms decide."""
    a = await _move_term_end("sv.dc.020", 10)
    b = await _move_term_end("sv.dc.021", 20)
    c = await _move_term_end("sv.dc.022", 30)
    await Supervisor.filter(term_end__gt=clock.today() + timedelta(days=40),
                            jurisdiction__path="jl.th.dc").update(term_end=clock.today()
                                                                  + timedelta(days=400))
    await ContactFirm.filter(supervisor_id__in=[a.id, b.id, c.id]).delete()
    await ContactFirm.create(supervisor=c, name="甲公司", credit_code="91350100M000100Y43",
                             size="SMALL", linked_at=clock.now())
    await Discipline.create(supervisor=a, kind="REMINDER", reason="缺席", at=clock.now(),
                            actor="admin.dc")
    data = (await api.gql(CANDIDATES, {"j": "jl.th.dc", "d": 35}, as_user="admin.dc")).ok()
    ids = [int(x["supervisor"]["id"]) for x in data["renewalCandidates"]]
    assert [i for i in ids if i in (a.id, b.id, c.id)] == [c.id, b.id, a.id]
    assert [x["rank"] for x in data["renewalCandidates"]] == list(range(1, len(ids) + 1))
    other = await api.gql(CANDIDATES, {"j": "jl.th.dc", "d": 35}, as_user="admin.edj")
    assert other.codes == ["NOT_FOUND"]


RENEW = 'mutation($id: ID!) { renewSupervisor(id: $id) { status termStart termEnd } }'


async def test_r1_7_renewal_starts_a_new_two_year_term(api: Api, roster_demo: None) -> None:
    """R1.7, R2.1: a renewed term follows the old one and needs a new provincial filing."""
    supervisor = await _move_term_end("sv.dc.030", 20)
    renewed = (await api.gql(RENEW, {"id": str(supervisor.id)}, as_user="admin.dc")).ok()
    start = supervisor.term_end + timedelta(days=1)
    assert renewed["renewSupervisor"] == {
        "status": "ACTIVE", "termStart": start.isoformat(),
        "termEnd": (start.replace(year=start.year + 2) - timedelta(days=1)).isoformat()}
    assert await Filing.filter(supervisor=supervisor, term_start=start,
                               filed_at__isnull=True).exists()
    kinds = await SupervisorEvent.filter(supervisor=supervisor).order_by("id").values_list(
        "kind", flat=True)
    assert kinds[-1] == "RENEWED"


async def test_renewal_of_an_expired_supervisor_starts_today(api: Api, roster_demo: None
                                                             ) -> None:
    expired = await Supervisor.filter(status="EXPIRED", jurisdiction__path="jl.th.dc").first()
    assert expired is not None
    renewed = (await api.gql(RENEW, {"id": str(expired.id)}, as_user="admin.dc")).ok()
    assert renewed["renewSupervisor"]["termStart"] == clock.today().isoformat()
    assert renewed["renewSupervisor"]["status"] == "ACTIVE"


async def test_renewal_invalid_transitions(api: Api, roster_demo: None) -> None:
    """Renewing a removed or dismissed supervisor, or far from term end, is refused."""
    dismissed = await Supervisor.filter(status="DISMISSED").first()
    assert dismissed is not None
    refused = await api.gql(RENEW, {"id": str(dismissed.id)}, as_user="admin.dc")
    assert refused.codes == ["INVALID_TRANSITION"]
    early = await _move_term_end("sv.dc.031", 300)
    assert (await api.gql(RENEW, {"id": str(early.id)}, as_user="admin.dc")).codes == [
        "INVALID_TRANSITION"]
    assert (await Supervisor.get(id=early.id)).term_end == early.term_end
    removed = await _move_term_end("sv.dc.032", 5)
    (await api.gql(f'mutation {{ recordDiscipline(supervisorId: "{removed.id}", kind: REMOVAL,'
                   ' reason: "严重违纪") { id } }', as_user="admin.dc")).ok()
    assert (await api.gql(RENEW, {"id": str(removed.id)}, as_user="admin.dc")).codes == [
        "INVALID_TRANSITION"]
    assert (await Supervisor.get(id=removed.id)).status is Status.REMOVED
