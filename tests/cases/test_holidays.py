"""R5.1 due dates on the official calendar held as data: the years the package knows are
seeded with their source; a due date reaching into a year not yet published is provisional
(Monday to Friday less the fixed-date holidays: never New Year's Day); an operator loads the
year from the notice, and every open case's due date is counted again, audited and told."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, datetime, time
from pathlib import Path

from core import clock
from core.audit import AuditRecord
from core.cases.models import Case, CaseEvent
from core.config import ROOT
from core.notifications.models import Notification
from tests.cases.helpers import submit, to_transferred
from tests.support import Api

DUE = """query($id: ID!) { case(id: $id) { dueAt dueProvisional history { kind } } }"""


def _cli(database_url: str, *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "core", *args], cwd=ROOT, check=False,
                          env={**os.environ, "DATABASE_URL": database_url},
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


async def test_r5_1_a_due_date_in_an_unpublished_year_is_provisional_until_it_is_loaded(
        api: Api, full_demo: None, database_url: str, tmp_path: Path) -> None:
    christmas = datetime(2026, 12, 25, 10, 0, tzinfo=clock.LOCAL_ZONE)
    clock.set_source(lambda: christmas)
    case = await submit(api, kind="INQUIRY")
    await to_transferred(api, case["id"])
    seen = (await api.gql(DUE, {"id": case["id"]}, as_user="admin.dc")).ok()["case"]
    # 28-31 December, then 4 January: New Year's Day is a holiday whatever the notice says
    assert datetime.fromisoformat(seen["dueAt"]) == datetime.combine(
        date(2027, 1, 4), time(23, 59, 59), tzinfo=clock.LOCAL_ZONE)
    assert seen["dueProvisional"] is True
    assert "2026\t" in _cli(database_url, "holiday-years")
    assert "2027\t" not in _cli(database_url, "holiday-years")

    notice = tmp_path / "2027.json"
    notice.write_text(json.dumps({
        "year": 2027, "source": "国务院办公厅关于2027年部分节假日安排的通知（测试）",
        "holidays": ["2027-01-01", "2027-01-02", "2027-01-03", "2027-01-04"],
        "workdays": ["2027-01-09"]}, ensure_ascii=False), encoding="utf-8")
    printed = _cli(database_url, "load-holidays", str(notice))
    assert "2027: 4 holidays, 1 adjusted working days" in printed
    assert "2027\t" in _cli(database_url, "holiday-years")

    stored = await Case.get(id=int(case["id"]))
    assert stored.due_at == datetime.combine(date(2027, 1, 5), time(23, 59, 59),
                                             tzinfo=clock.LOCAL_ZONE)
    seen = (await api.gql(DUE, {"id": case["id"]}, as_user="admin.dc")).ok()["case"]
    assert seen["dueProvisional"] is False and seen["history"][-1]["kind"] == "DUE_RECOMPUTED"
    step = await CaseEvent.get(case_id=stored.id, kind="DUE_RECOMPUTED")
    assert datetime.fromisoformat(step.detail["to"]) == stored.due_at
    assert await AuditRecord.filter(action="holidays.load", target_id="2027").count() == 1
    assert await AuditRecord.filter(action="case.due_recomputed",
                                    target_id=str(stored.id)).count() == 1
    told = await Notification.filter(kind="DUE_RECOMPUTED", subject_id=stored.id
                                     ).values_list("account__username", flat=True)
    assert "ag.dc.scjg" in told and "admin.dc" in told
    # loading the same again changes nothing more
    _cli(database_url, "load-holidays", str(notice))
    assert await CaseEvent.filter(case_id=stored.id, kind="DUE_RECOMPUTED").count() == 1


async def test_r5_1_a_notice_that_does_not_hold_changes_nothing(
        database_url: str, tmp_path: Path) -> None:
    notice = tmp_path / "bad.json"
    notice.write_text(json.dumps({"year": 2027, "source": "x", "holidays": ["2028-01-01"]}))
    done = subprocess.run([sys.executable, "-m", "core", "load-holidays", str(notice)],
                          cwd=ROOT, env={**os.environ, "DATABASE_URL": database_url},
                          capture_output=True, text=True, check=False)
    assert done.returncode == 2 and "INVALID_INPUT" in done.stderr
    assert "2027\t" not in _cli(database_url, "holiday-years")
