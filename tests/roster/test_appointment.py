"""Becoming a supervisor: path A (R1.4) and path B (R1.5) end to end, the review by the right
office only, and what approval creates (R1.7 term, account, R1.6 pending filing)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from core import clock
from core.accounts.models import Account
from core.roster.models import Application, Filing, Supervisor, SupervisorEvent
from policies.models import Grant
from tests.roster.helpers import REVIEW, SUBMIT, application, conditions, id_number, person
from tests.support import Api


async def _submit(api: Api, **kwargs: Any) -> dict:
    return (await api.gql(SUBMIT, {"input": application(**kwargs)})).ok()["submitApplication"]


async def test_r1_4_path_a_end_to_end(api: Api, roster_demo: None) -> None:
    """R1.4: apply with the unit's recommendation; the county office reviews and appoints;
    R1.7 two-year term; a SUPERVISOR account that signs in; R1.6 a pending filing."""
    submitted = await _submit(api)
    assert submitted["status"] == "SUBMITTED" and submitted["path"] == "APPLICATION"
    assert submitted["idNumberMasked"].count("*") == 10
    reviewed = await api.gql(REVIEW, {"id": submitted["id"], "decision": "APPROVE",
                                      "findings": conditions("经审核符合")}, as_user="admin.dc")
    result = reviewed.ok()["reviewApplication"]
    assert result["application"]["status"] == "APPROVED"
    assert result["application"]["reviewedBy"] == "admin.dc"
    supervisor = result["supervisor"]
    today = clock.today()
    assert supervisor["status"] == "ACTIVE" and supervisor["jurisdiction"] == {"path": "jl.th.dc"}
    assert supervisor["termStart"] == today.isoformat()
    end = today.replace(year=today.year + 2) - timedelta(days=1)
    assert supervisor["termEnd"] == end.isoformat()
    assert result["username"] == supervisor["username"] == f"sv.dc.{supervisor['id']}"
    # the new supervisor signs in and sees their own record
    login = await api.login(result["username"], result["initialPassword"])
    token = login.ok()["login"]["accessToken"]
    mine = await api.gql("{ supervisors { totalCount edges { node { id } } } }", token=token)
    assert mine.ok()["supervisors"]["totalCount"] == 1
    sid = int(supervisor["id"])
    assert await Grant.exists(account__username=result["username"], role="supervisor",
                              domain="jl.th.dc")
    assert await Filing.filter(supervisor_id=sid, filed_at__isnull=True).count() == 1
    kinds = await SupervisorEvent.filter(supervisor_id=sid).values_list("kind", flat=True)
    assert kinds == ["APPOINTED"]


async def test_r1_4_wrong_offices_cannot_review(api: Api, roster_demo: None) -> None:
    """R1.4: an ordinary application is reviewed by its county-level office only."""
    submitted = await _submit(api)
    variables = {"id": submitted["id"], "decision": "APPROVE", "findings": conditions()}
    sibling = await api.gql(REVIEW, variables, as_user="admin.edj")
    assert sibling.codes == ["NOT_FOUND"]
    city = await api.gql(REVIEW, variables, as_user="admin.th")  # sees it, may not decide
    assert city.codes == ["FORBIDDEN"]
    supervisor = await api.gql(REVIEW, variables, as_user="sv.dc.001")
    assert supervisor.codes == ["NOT_FOUND"]
    stored = await Application.get(id=int(submitted["id"]))
    assert stored.status.value == "SUBMITTED" and stored.reviewed_by is None


async def test_r1_4_special_supervisors_are_reviewed_by_the_city(api: Api, roster_demo: None
                                                                ) -> None:
    """R1.4: special supervisors (特约) are reviewed and appointed by the city office."""
    at_county = await api.gql(SUBMIT, {"input": application("jl.th.dc", special=True)})
    assert at_county.codes == ["RULE_VIOLATION"]
    ordinary_at_city = await api.gql(SUBMIT, {"input": application("jl.th")})
    assert ordinary_at_city.codes == ["RULE_VIOLATION"]
    submitted = await _submit(api, jurisdiction="jl.th", special=True)
    variables = {"id": submitted["id"], "decision": "APPROVE", "findings": conditions()}
    assert (await api.gql(REVIEW, variables, as_user="admin.dc")).codes == ["NOT_FOUND"]
    result = (await api.gql(REVIEW, variables, as_user="admin.th")).ok()["reviewApplication"]
    assert result["supervisor"]["isSpecial"] is True
    assert result["supervisor"]["jurisdiction"] == {"path": "jl.th"}


async def test_r1_1_rejection_records_findings_and_appoints_nobody(api: Api, roster_demo: None
                                                                   ) -> None:
    """R1.1: the reviewer finds on each condition."""
    submitted = await _submit(api)
    before = await Supervisor.all().count()
    findings = conditions("不符合")
    missing = await api.gql(REVIEW, {"id": submitted["id"], "decision": "REJECT",
                                     "findings": findings[:3]}, as_user="admin.dc")
    assert missing.codes == ["INVALID_INPUT"]
    assert missing.errors[0]["extensions"]["field"] == "findings"
    rejected = (await api.gql(REVIEW, {"id": submitted["id"], "decision": "REJECT",
                                       "findings": findings}, as_user="admin.dc")).ok()
    assert rejected["reviewApplication"]["application"]["status"] == "REJECTED"
    assert rejected["reviewApplication"]["supervisor"] is None
    assert len(rejected["reviewApplication"]["application"]["findings"]) == 4
    assert await Supervisor.all().count() == before
    again = await api.gql(REVIEW, {"id": submitted["id"], "decision": "APPROVE",
                                   "findings": findings}, as_user="admin.dc")
    assert again.codes == ["INVALID_TRANSITION"]


async def test_r1_1_bad_applications_change_nothing(api: Api, roster_demo: None) -> None:
    before = await Application.all().count()
    bad = [
        (application(idNumber="220502198001010001"), "idNumber"),   # wrong check digit
        (application(phone="12345"), "phone"),
        (application(latitude=95.0), "latitude"),
        (application(name=""), "name"),
        ({**application(), "statements": conditions()[:2]}, "statements"),
        (application("jl.th.nowhere"), "jurisdiction"),
    ]
    for variables, field in bad:
        result = await api.gql(SUBMIT, {"input": variables})
        assert result.errors[0]["extensions"].get("field") == field, result.errors
    assert await Application.all().count() == before


async def test_the_same_person_cannot_apply_twice(api: Api, roster_demo: None) -> None:
    number = id_number()
    await _submit(api, idNumber=number)
    again = await api.gql(SUBMIT, {"input": application(idNumber=number)})
    assert again.codes == ["CONFLICT"]


async def test_public_submissions_are_throttled_per_address(api: Api, roster_demo: None
                                                            ) -> None:
    for _ in range(5):
        await _submit(api)
    assert (await api.gql(SUBMIT, {"input": application()})).codes == ["RATE_LIMITED"]


async def test_r1_2_review_screen_shows_the_composition_impact(api: Api, roster_demo: None
                                                              ) -> None:
    """R1.2/R1.3 on the review screen: the figures now and after approving."""
    submitted = await _submit(api, jurisdiction="jl.th.ja", category="ENTERPRISE",
                              isSmallMicro=True)
    query = """query($id: ID!) { application(id: $id) { compositionImpact {
      before { activeCount smallMicroCount meetsMinimum }
      after { activeCount smallMicroCount } } } }"""
    impact = (await api.gql(query, {"id": submitted["id"]}, as_user="admin.ja")).ok()
    figures = impact["application"]["compositionImpact"]
    assert figures["before"] == {"activeCount": 104, "smallMicroCount": 45, "meetsMinimum": True}
    assert figures["after"] == {"activeCount": 105, "smallMicroCount": 46}


NOMINATE = """mutation($person: PersonInput!, $s: [ConditionInput!]!) {
  nominateCandidate(person: $person, statements: $s, reason: "热心公益") {
    id status signatures } }"""
ENDORSE = """mutation($id: ID!) { endorseNomination(id: $id) { id status signatures } }"""


async def test_r1_5_path_b_three_signatures_then_review(api: Api, roster_demo: None) -> None:
    """R1.5: three supervisors jointly nominate; only then does it reach the office."""
    nominated = (await api.gql(NOMINATE, {"person": person(), "s": conditions()},
                               as_user="sv.dc.001")).ok()["nominateCandidate"]
    assert nominated["status"] == "COLLECTING" and nominated["signatures"] == 1
    # not yet with the office
    listed = await api.gql('{ applications(status: SUBMITTED) { totalCount } }',
                           as_user="admin.dc")
    submitted_before = listed.ok()["applications"]["totalCount"]
    second = (await api.gql(ENDORSE, {"id": nominated["id"]}, as_user="sv.dc.002")).ok()
    assert second["endorseNomination"] == {"id": nominated["id"], "status": "COLLECTING",
                                           "signatures": 2}
    early = await api.gql(REVIEW, {"id": nominated["id"], "decision": "APPROVE",
                                   "findings": conditions()}, as_user="admin.dc")
    assert early.codes == ["INVALID_TRANSITION"]
    third = (await api.gql(ENDORSE, {"id": nominated["id"]}, as_user="sv.dc.003")).ok()
    assert third["endorseNomination"]["status"] == "SUBMITTED"
    listed = await api.gql('{ applications(status: SUBMITTED) { totalCount } }',
                           as_user="admin.dc")
    assert listed.ok()["applications"]["totalCount"] == submitted_before + 1
    approved = await api.gql(REVIEW, {"id": nominated["id"], "decision": "APPROVE",
                                      "findings": conditions()}, as_user="admin.dc")
    assert approved.ok()["reviewApplication"]["supervisor"]["status"] == "ACTIVE"


async def test_r1_5_who_may_not_sign(api: Api, roster_demo: None) -> None:
    """R1.5: the nominator cannot endorse their own nomination, nobody signs twice, a
    supervisor of another jurisdiction cannot see it, an office cannot sign."""
    nominated = (await api.gql(NOMINATE, {"person": person(), "s": conditions()},
                               as_user="sv.dc.001")).ok()["nominateCandidate"]
    own = await api.gql(ENDORSE, {"id": nominated["id"]}, as_user="sv.dc.001")
    assert own.codes == ["INVALID_TRANSITION"]
    (await api.gql(ENDORSE, {"id": nominated["id"]}, as_user="sv.dc.002")).ok()
    twice = await api.gql(ENDORSE, {"id": nominated["id"]}, as_user="sv.dc.002")
    assert twice.codes == ["CONFLICT"]
    elsewhere = await api.gql(ENDORSE, {"id": nominated["id"]}, as_user="sv.ja.001")
    assert elsewhere.codes == ["NOT_FOUND"]
    office = await api.gql(ENDORSE, {"id": nominated["id"]}, as_user="admin.dc")
    assert office.codes == ["NOT_FOUND"]
    stored = await Application.get(id=int(nominated["id"]))
    assert stored.status.value == "COLLECTING"


async def test_r1_5_the_nominee_cannot_sign(api: Api, roster_demo: None) -> None:
    """R1.5: a supervisor nominated (say, as a special supervisor elsewhere) cannot co-sign."""
    nominee = await Supervisor.get(account__username="sv.dc.004")
    # the same ID number digest is how the platform recognises the same person
    stored = await Application.create(
        jurisdiction_id=nominee.jurisdiction_id,
        path="NOMINATION", status="COLLECTING", statements={}, submitted_at=clock.now(),
        name="x", phone="13900000000", id_number_encrypted="", id_number_masked="",
        id_number_digest=nominee.id_number_digest, category="ENTERPRISE", unit="u")
    result = await api.gql(ENDORSE, {"id": str(stored.id)}, as_user="sv.dc.004")
    assert result.codes == ["RULE_VIOLATION"]


async def test_open_nominations_are_listed_for_the_jurisdiction(api: Api, roster_demo: None
                                                                ) -> None:
    query = "{ openNominations { id signatures name } }"
    dc = (await api.gql(query, as_user="sv.dc.010")).ok()["openNominations"]
    assert len(dc) == 1 and dc[0]["signatures"] == 2
    assert (await api.gql(query, as_user="sv.ja.010")).ok()["openNominations"] == []


async def test_only_active_supervisors_nominate(api: Api, roster_demo: None) -> None:
    expired = await Supervisor.filter(status="EXPIRED").first().prefetch_related("account")
    assert expired is not None and expired.account is not None
    await Account.filter(id=expired.account.id).update(is_active=True)
    result = await api.gql(NOMINATE, {"person": person(), "s": conditions()},
                           as_user=expired.account.username)
    assert result.codes == ["RULE_VIOLATION"]
