"""Every transition of a case and every invalid one, by actor (R3, R4.3, R5.1, R5.3, R7.4)."""

from __future__ import annotations

import asyncio
import re

from core import clock, holidays
from core.accounts.models import Account
from core.attachments.models import Attachment
from core.audit import AuditRecord
from core.cases.models import Case, CaseEvent, State
from core.notifications.models import Notification
from core.scoring.models import PendingPoints
from tests.cases.helpers import CASE, SUBMIT, act, agency_id, submit, to_transferred
from tests.support import Api, QueryCounter

# What a submission writes: the case, its points, history row and audit record, its notices.
WRITTEN = (Case, PendingPoints, CaseEvent, AuditRecord, Notification)


async def _state(case_id: str) -> State:
    return (await Case.get(id=int(case_id))).state


async def test_r3_1_report_end_to_end_with_history(api: Api, full_demo: None) -> None:
    """R3.1: a report goes SUBMITTED → ACCEPTED → TRANSFERRED → REPLIED → VERIFIED → CLOSED,
    each step a history row with actor and time; the reporter rates and may reopen once."""
    case = await submit(api)
    assert case["state"] == "SUBMITTED" and case["jurisdiction"] == {"path": "jl.th.dc"}
    await to_transferred(api, case["id"])
    (await act(api, "ag.dc.scjg", "replyCase", case["id"], 'reply: "已整改"')).ok()
    (await act(api, "admin.dc", "verifyCase", case["id"],
               "finding: SUBSTANTIATED, majorLead: true")).ok()
    (await act(api, "admin.dc", "closeCase", case["id"])).ok()
    (await act(api, "sv.dc.001", "rateCase", case["id"], "rating: 4")).ok()
    data = (await api.gql(CASE, {"id": case["id"]}, as_user="admin.dc")).ok()["case"]
    assert data["state"] == "CLOSED" and data["finding"] == "SUBSTANTIATED"
    assert data["majorLead"] and data["rating"] == 4
    assert [(h["kind"], h["actorRole"], h["toState"]) for h in data["history"]] == [
        ("SUBMITTED", "REPORTER", None), ("ACCEPTED", "OFFICE", "ACCEPTED"),
        ("TRANSFERRED", "OFFICE", "TRANSFERRED"), ("REPLIED", "AGENCY", "REPLIED"),
        ("VERIFIED", "OFFICE", "VERIFIED"), ("CLOSED", "OFFICE", "CLOSED"),
        ("RATED", "REPORTER", None)]
    reopened = await act(api, "sv.dc.001", "declareUnresolved", case["id"], 'reason: "未解决"')
    assert reopened.ok()["declareUnresolved"]["state"] == "ACCEPTED"
    (await act(api, "admin.dc", "transferCase", case["id"])).ok()
    (await act(api, "ag.dc.scjg", "replyCase", case["id"], 'reply: "再次整改"')).ok()
    (await act(api, "admin.dc", "verifyCase", case["id"], "finding: SUBSTANTIATED")).ok()
    (await act(api, "admin.dc", "closeCase", case["id"])).ok()
    again = await act(api, "sv.dc.001", "declareUnresolved", case["id"], 'reason: "还是没解决"')
    assert again.codes == ["INVALID_TRANSITION"]
    twice = await act(api, "sv.dc.001", "rateCase", case["id"], "rating: 5")
    assert twice.codes == ["INVALID_TRANSITION"]


async def test_r5_1_transfer_sets_the_due_date_in_working_days(api: Api, full_demo: None
                                                               ) -> None:
    """R5.1: inquiries must be answered by their due date: 5 working days by default."""
    case = await submit(api, kind="INQUIRY")
    await to_transferred(api, case["id"])
    stored = await Case.get(id=int(case["id"]))
    assert stored.transferred_at is not None and stored.due_at is not None
    start = stored.transferred_at.astimezone(clock.LOCAL_ZONE).date()
    calendar = await holidays.calendar()
    assert stored.due_at.astimezone(clock.LOCAL_ZONE).date() == calendar.add_working_days(
        start, 5)


async def test_r7_4_suggestions_are_decided_not_verified(api: Api, full_demo: None) -> None:
    """R3.3, R7.4: suggestions passed on end ADOPTED, PARTLY_ADOPTED or NOT_ADOPTED with a
    reason."""
    case = await submit(api, kind="SUGGESTION")
    await to_transferred(api, case["id"])
    (await act(api, "ag.dc.scjg", "replyCase", case["id"], 'reply: "研究中"')).ok()
    wrong = await act(api, "admin.dc", "verifyCase", case["id"], "finding: SUBSTANTIATED")
    assert wrong.codes == ["INVALID_TRANSITION"]
    decided = await act(api, "admin.dc", "decideSuggestion", case["id"],
                        'adoption: PARTLY_ADOPTED, reason: "部分采纳"')
    assert decided.ok()["decideSuggestion"]["state"] == "VERIFIED"
    assert (await Case.get(id=int(case["id"]))).adoption.value == "PARTLY_ADOPTED"


async def test_r5_3_every_kind_can_be_submitted(api: Api, full_demo: None) -> None:
    """R5.3 (inquiries, document requests, on-site supervision records), R3.1-R3.4."""
    for kind in ("REPORT", "SUGGESTION", "INQUIRY", "DOCUMENT_REQUEST"):
        assert (await submit(api, kind=kind))["kind"] == kind
    record = await submit(api, kind="SUPERVISION_RECORD", recordType="ADMIN_APPROVAL")
    assert record["kind"] == "SUPERVISION_RECORD"
    missing = await api.gql("""mutation($i: CaseInput!) { submitCase(input: $i) { id } }""",
                            {"i": {"kind": "SUPERVISION_RECORD", "category": "OTHER",
                                   "agency": await agency_id("dc"), "title": "t",
                                   "description": "d", "occurredAt": "2026-01-01T00:00:00Z"}},
                            as_user="sv.dc.001")
    assert missing.codes == ["INVALID_INPUT"]


async def test_r3_2_a_county_supervisor_reports_a_city_agency(api: Api, full_demo: None
                                                              ) -> None:
    """R3.2: supervising how agencies at every level carry out the city's decisions; the
    case goes to the office that owns the agency: the city office."""
    case = await submit(api, agency=await agency_id("th", "sw"))
    assert case["jurisdiction"] == {"path": "jl.th"}
    assert (await act(api, "admin.dc", "acceptCase", case["id"])).codes == ["NOT_FOUND"]
    assert (await act(api, "admin.th", "acceptCase", case["id"])).ok()


async def test_invalid_transitions_change_nothing(api: Api, full_demo: None) -> None:
    case = await submit(api)
    events = await CaseEvent.filter(case_id=int(case["id"])).count()
    for user, mutation, args in [
        ("ag.dc.scjg", "replyCase", 'reply: "x"'),          # not transferred to it yet
        ("admin.dc", "closeCase", ""),                      # not verified
        ("admin.dc", "transferCase", ""),                   # not accepted
        ("admin.dc", "verifyCase", "finding: UNSUBSTANTIATED"),
        ("sv.dc.001", "rateCase", "rating: 3"),             # not closed
        ("sv.dc.001", "declareUnresolved", 'reason: "x"'),
    ]:
        result = await act(api, user, mutation, case["id"], args)
        assert result.codes and result.codes[0] in ("INVALID_TRANSITION", "NOT_FOUND"), (
            mutation, result.errors)
    (await act(api, "admin.dc", "acceptCase", case["id"])).ok()
    assert (await act(api, "admin.dc", "declineCase", case["id"], 'reason: "x"')).codes == [
        "INVALID_TRANSITION"]
    assert await _state(case["id"]) is State.ACCEPTED
    assert await CaseEvent.filter(case_id=int(case["id"])).count() == events + 1


async def test_r4_3_supervisors_do_not_move_cases(api: Api, full_demo: None) -> None:
    """R4.3: supervisors submit, add information and rate; only offices and agencies move."""
    case = await submit(api)
    for mutation, args in [("acceptCase", ""), ("declineCase", 'reason: "x"')]:
        assert (await act(api, "sv.dc.001", mutation, case["id"], args)).codes == ["FORBIDDEN"]
        assert (await act(api, "sv.dc.002", mutation, case["id"], args)).codes == ["NOT_FOUND"]
    info = await api.gql(f'mutation {{ addCaseInformation(id: "{case["id"]}", text: "补充") '
                         "{ state } }", as_user="sv.dc.001")
    assert info.ok()["addCaseInformation"]["state"] == "SUBMITTED"
    assert await _state(case["id"]) is State.SUBMITTED


async def test_the_wrong_offices_and_agencies(api: Api, full_demo: None) -> None:
    case = await submit(api)
    assert (await act(api, "admin.ja", "acceptCase", case["id"])).codes == ["NOT_FOUND"]
    assert (await act(api, "admin.th", "acceptCase", case["id"])).codes == ["FORBIDDEN"]
    await to_transferred(api, case["id"])
    other_agency = await act(api, "ag.dc.sw", "replyCase", case["id"], 'reply: "x"')
    assert other_agency.codes == ["NOT_FOUND"]
    city_agency = await act(api, "ag.th.scjg", "replyCase", case["id"], 'reply: "x"')
    assert city_agency.codes == ["NOT_FOUND"]
    assert await _state(case["id"]) is State.TRANSFERRED


async def test_submission_input_is_checked(api: Api, full_demo: None) -> None:
    before = await Case.all().count()
    for extra, field in [({"title": ""}, "title"), ({"occurredAt": "2999-01-01T00:00:00Z"},
                                                     "occurredAt"),
                         ({"agency": "999999"}, "agencyId"), ({"contactFirm": "999999"},
                                                               "contactFirmId")]:
        result = await api.gql("""mutation($input: CaseInput!) { submitCase(input: $input) {
          id } }""", {"input": {"kind": "REPORT", "category": "OTHER",
                                "agency": await agency_id("dc"), "title": "t",
                                "description": "d", "occurredAt": "2026-01-01T00:00:00Z",
                                **extra}}, as_user="sv.dc.001")
        assert result.errors[0]["extensions"].get("field") == field, result.errors
    # an agency of another city does not exist for this reporter; offices do not submit
    office = await api.gql("""mutation($input: CaseInput!) { submitCase(input: $input) { id } }""",
                           {"input": {"kind": "REPORT", "category": "OTHER",
                                      "agency": await agency_id("dc"), "title": "t",
                                      "description": "d",
                                      "occurredAt": "2026-01-01T00:00:00Z"}},
                           as_user="admin.dc")
    assert office.codes == ["NOT_FOUND"]
    assert await Case.all().count() == before


def _parts(statement: str) -> list[str]:
    """The tables (and functions) the parts of one statement of core/writes.py write."""
    parts = re.findall(r'w\d+ AS \((?:\s*(?:INSERT INTO|UPDATE|SELECT) "?(\w+))',
                       statement)
    return parts


async def test_a_submission_is_written_in_one_statement(api: Api, full_demo: None) -> None:
    """W1's cost to the database: the case, its points, its notices (the receipt first), its
    history row and its audit record are one statement."""
    agency = await agency_id("dc")
    await submit(api, agency=agency)  # the caller and the statements' shapes known
    with QueryCounter() as counter:
        case = await submit(api, agency=agency)
    statements = [s.strip() for s in counter.statements]
    writing = [s for s in statements if not s.startswith("SELECT")]
    assert len(writing) == 1 and writing[0].startswith("WITH w0 AS (INSERT")
    assert _parts(writing[0]) == ["supervision_case", "pending_points", "notification",
                                  "pg_notify", "case_event", "audit_append_records"]
    case_id = int(case["id"])
    rows = await Notification.filter(subject="case", subject_id=case_id).order_by(
        "id").values("kind", "account_id", "text")
    reporter = await Account.get(username="sv.dc.001")
    assert (rows[0]["kind"], rows[0]["account_id"]) == ("RECEIPT", reporter.id)
    office = rows[1:]
    assert office and {n["kind"] for n in office} == {"NEW_CASE"}
    assert len({n["account_id"] for n in office}) == len(office)  # each told once
    assert all(f"第{case['id']}号" in n["text"] for n in rows)
    assert await PendingPoints.filter(source=f"case:{case_id}:submitted").count() == 1
    assert await CaseEvent.filter(case_id=case_id, kind="SUBMITTED").count() == 1
    assert await AuditRecord.filter(action="case.submitted", target_id=str(case_id)).count() == 1


async def test_a_step_is_written_in_one_statement_its_audit_last(api: Api,
                                                                 full_demo: None) -> None:
    """A step writes the case, its notices, history row and audit record in one statement of
    its transaction, the audit append last: the chain's lock is held until the commit only."""
    case = await submit(api)
    await api.token("admin.dc")
    with QueryCounter() as counter:
        (await act(api, "admin.dc", "acceptCase", case["id"])).ok()
    writing = [s.strip() for s in counter.statements if not s.strip().startswith("SELECT")]
    assert len(writing) == 1
    assert _parts(writing[0]) == ["supervision_case", "notification", "pg_notify", "case_event",
                                  "audit_append_records"]
    stored = await Case.get(id=int(case["id"]))
    assert stored.state is State.ACCEPTED
    assert await CaseEvent.filter(case_id=stored.id, kind="ACCEPTED").count() == 1
    assert await Notification.filter(subject_id=stored.id, kind="ACCEPTED").count() == 1


async def test_a_submission_that_fails_writes_nothing(api: Api, full_demo: None) -> None:
    """An upload that is not the caller's staged one is found wanting after the submission's
    statement: its transaction undoes the case, its points, notices, history and audit."""
    staged = await Attachment.create(uploader_id=(await Account.get(username="sv.dc.002")).id,
                                     filename="a.pdf", content_type="application/pdf", size=3,
                                     sha256="0" * 64, data=b"%PD", uploaded_at=clock.now())
    await api.token("sv.dc.001")  # its sign-in audited before the counts
    counts = [await model.all().count() for model in WRITTEN]
    failed = await api.gql(SUBMIT, {"input": {
        "kind": "REPORT", "category": "OTHER", "agency": await agency_id("dc"), "title": "t",
        "description": "d", "occurredAt": "2026-01-01T00:00:00Z",
        "attachments": [str(staged.id)]}}, as_user="sv.dc.001")
    assert failed.codes == ["NOT_FOUND"]
    assert [await model.all().count() for model in WRITTEN] == counts
    assert (await Attachment.get(id=staged.id)).case_id is None
    mine = await Attachment.create(uploader_id=(await Account.get(username="sv.dc.001")).id,
                                   filename="b.pdf", content_type="application/pdf", size=3,
                                   sha256="1" * 64, data=b"%PD", uploaded_at=clock.now())
    case = await submit(api, attachments=[str(mine.id)])
    assert (await Attachment.get(id=mine.id)).case_id == int(case["id"])
    after = [await model.all().count() for model in WRITTEN]
    assert after[:4] == [n + 1 for n in counts[:4]] and after[4] > counts[4]


async def test_an_upload_joins_one_of_two_submissions_at_once(api: Api, full_demo: None
                                                               ) -> None:
    mine = await Attachment.create(uploader_id=(await Account.get(username="sv.dc.001")).id,
                                   filename="c.pdf", content_type="application/pdf", size=3,
                                   sha256="2" * 64, data=b"%PD", uploaded_at=clock.now())
    await api.token("sv.dc.001")
    cases, agency = await Case.all().count(), await agency_id("dc")
    results = await asyncio.gather(*(api.gql(SUBMIT, {"input": {
        "kind": "REPORT", "category": "OTHER", "agency": agency, "title": "t",
        "description": "d", "occurredAt": "2026-01-01T00:00:00Z",
        "attachments": [str(mine.id)]}}, as_user="sv.dc.001") for _ in range(2)))
    assert sorted(r.codes for r in results) == [[], ["NOT_FOUND"]]
    won = next(r for r in results if not r.codes).ok()["submitCase"]["id"]
    assert (await Attachment.get(id=mine.id)).case_id == int(won)
    assert await Case.all().count() == cases + 1


async def test_receipt_is_acknowledged_at_once_and_parties_are_notified(api: Api,
                                                                        full_demo: None) -> None:
    case = await submit(api)
    mine = (await api.gql("{ notifications(unreadOnly: true) { edges { node { kind text "
                          "caseId } } } }", as_user="sv.dc.001")).ok()
    kinds = [(e["node"]["kind"], e["node"]["caseId"]) for e in mine["notifications"]["edges"]]
    assert ("RECEIPT", case["id"]) in kinds
    office = (await api.gql("{ notifications { edges { node { kind caseId } } } }",
                            as_user="admin.dc")).ok()
    assert ("NEW_CASE", case["id"]) in [(e["node"]["kind"], e["node"]["caseId"])
                                        for e in office["notifications"]["edges"]]
    await to_transferred(api, case["id"])
    agency = (await api.gql("{ notifications { edges { node { kind caseId } } } }",
                            as_user="ag.dc.scjg")).ok()
    assert ("TRANSFERRED", case["id"]) in [(e["node"]["kind"], e["node"]["caseId"])
                                           for e in agency["notifications"]["edges"]]
    marked = await api.gql("mutation { markNotificationsRead }", as_user="sv.dc.001")
    assert marked.ok()["markNotificationsRead"] >= 1
    unread = (await api.gql("{ notifications(unreadOnly: true) { totalCount } }",
                            as_user="sv.dc.001")).ok()
    assert unread["notifications"]["totalCount"] == 0


async def test_r5_1_a_jurisdiction_sets_its_own_reply_times(api: Api, full_demo: None) -> None:
    """R5.1: the per-jurisdiction table of working days, used when a case is transferred."""
    mutation = ('mutation { setDueRule(jurisdiction: "jl.th.dc", kind: REPORT, '
                "workingDays: 3) }")
    assert (await api.gql(mutation, as_user="admin.ja")).codes == ["FORBIDDEN"]
    assert (await api.gql(mutation, as_user="sv.dc.001")).codes == ["FORBIDDEN"]
    assert (await api.gql(mutation, as_user="admin.dc")).ok() == {"setDueRule": 3}
    bad = await api.gql('mutation { setDueRule(jurisdiction: "jl.th.dc", kind: REPORT, '
                        "workingDays: 0) }", as_user="admin.dc")
    assert bad.codes == ["INVALID_INPUT"]
    case = await submit(api)
    await to_transferred(api, case["id"])
    stored = await Case.get(id=int(case["id"]))
    assert stored.transferred_at is not None and stored.due_at is not None
    start = stored.transferred_at.astimezone(clock.LOCAL_ZONE).date()
    assert stored.due_at.astimezone(clock.LOCAL_ZONE).date() == (
        await holidays.calendar()).add_working_days(start, 3)
    # a county without its own rule keeps the default table
    other = await submit(api, agency=await agency_id("ja"))
    await to_transferred(api, other["id"], office="admin.ja")
    kept = await Case.get(id=int(other["id"]))
    assert kept.due_at is not None and kept.transferred_at is not None
    assert kept.due_at.astimezone(clock.LOCAL_ZONE).date() == (
        await holidays.calendar()).add_working_days(
        kept.transferred_at.astimezone(clock.LOCAL_ZONE).date(), 15)


async def test_r5_1_working_days_follow_the_official_calendar(database_url: str) -> None:
    """National Day 2026: 1-7 October off (8 October too), 10 October a working Saturday; the
    years the package knows are held with their source."""
    from datetime import date

    calendar = await holidays.calendar()
    assert not calendar.is_working_day(date(2026, 10, 1))
    assert not calendar.is_working_day(date(2026, 10, 5))
    assert calendar.is_working_day(date(2026, 9, 30))
    assert calendar.is_working_day(date(2026, 10, 10))
    assert calendar.add_working_days(date(2026, 9, 30), 1) == next(
        d for d in (date(2026, 10, n) for n in range(1, 20)) if calendar.is_working_day(d))
    assert set(range(2004, 2027)) <= calendar.known_years
    # beyond the published years, Monday to Friday less the fixed-date holidays
    assert calendar.add_working_days(date(2030, 1, 4), 1) == date(2030, 1, 7)
    assert calendar.add_working_days(date(2026, 12, 31), 1) == date(2027, 1, 4)
