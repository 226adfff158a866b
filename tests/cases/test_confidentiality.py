"""R4.4 confidentiality and R7.2 city-wide sharing: a canary reporter name never reaches an
agency, another county or the logs; the handling office sees it, and each read is audited."""

from __future__ import annotations

import logging

import pytest

from core.audit import AuditRecord
from core.config import settings
from core.roster.models import Supervisor
from tests.cases.helpers import CASE, act, submit, to_transferred
from tests.support import Api

CANARY = "金丝雀甲乙"
CANARY_PHONE = "13912345678"
OVERSIGHT = """query($f: CaseFilter) { oversightCases(filter: $f, first: 100) { totalCount
  edges { node { id jurisdiction { path } reporter { name } history { actor actorRole }
  lastStep { actor } } } } }"""
LIST = """{ cases(first: 100) { edges { node { id title reporter { name phone }
  history { actor note } } } } }"""


@pytest.fixture
async def canary_case(api: Api, full_demo: None) -> str:
    await Supervisor.filter(account__username="sv.dc.005").update(name=CANARY,
                                                                   phone=CANARY_PHONE)
    case = await submit(api, user="sv.dc.005")
    await to_transferred(api, case["id"])
    return str(case["id"])


async def test_r4_4_the_reporter_and_handling_office_see_the_identity(
        api: Api, canary_case: str) -> None:
    own = (await api.gql(CASE, {"id": canary_case}, as_user="sv.dc.005")).ok()["case"]
    assert own["reporter"] == {"name": CANARY, "phone": CANARY_PHONE}
    before = await AuditRecord.filter(action="case.reporter_read").count()
    office = (await api.gql(CASE, {"id": canary_case}, as_user="admin.dc")).ok()["case"]
    assert office["reporter"]["name"] == CANARY
    reads = await AuditRecord.filter(action="case.reporter_read").order_by("-id")
    assert len(reads) == before + 1 and reads[0].actor == "admin.dc"
    assert int(canary_case) in reads[0].detail["cases"]


async def test_r4_4_no_identity_reaches_agencies_other_counties_or_the_city(
        api: Api, canary_case: str, caplog: pytest.LogCaptureFixture) -> None:
    """The canary appears in no response to the agency, another county's office, the city
    office (it oversees but does not handle), another supervisor or the province."""
    caplog.set_level(logging.DEBUG)
    key = (settings().data_dir / "province.key").read_text().strip()
    responses = [
        await api.gql(CASE, {"id": canary_case}, as_user="ag.dc.scjg"),
        await api.gql(LIST, as_user="ag.dc.scjg"),
        await api.gql("{ notifications { edges { node { text } } } }", as_user="ag.dc.scjg"),
        await api.gql(OVERSIGHT, as_user="admin.ja"),
        await api.gql(OVERSIGHT, as_user="admin.th"),
        await api.gql(CASE, {"id": canary_case}, as_user="admin.th"),
        await api.gql(CASE, {"id": canary_case}, as_user="admin.ja"),
        await api.gql(LIST, as_user="sv.dc.006"),
        await api.gql(LIST, api_key=key),
        await api.gql('{ oversightStats(jurisdiction: "jl.th") { byAgency { key count } } }',
                      as_user="admin.ja"),
    ]
    agency_view = responses[0].ok()["case"]
    assert agency_view["reporter"] is None
    assert all(h["actor"] is None for h in agency_view["history"] if h["actorRole"] == "REPORTER")
    shared = responses[3].ok()["oversightCases"]
    assert shared["totalCount"] > 300  # every case of the city is shared with every office
    # admin.ja handles Ji'an's cases and sees their reporters; no one else's
    assert all(e["node"]["reporter"] is None for e in shared["edges"]
               if e["node"]["jurisdiction"]["path"] != "jl.th.ja")
    assert any(e["node"]["reporter"] for e in shared["edges"]
               if e["node"]["jurisdiction"]["path"] == "jl.th.ja")
    assert responses[6].codes == ["NOT_FOUND"]  # another county: no private access
    for response in responses:
        assert CANARY not in str(response.body) and CANARY_PHONE not in str(response.body)
    assert CANARY not in caplog.text and CANARY_PHONE not in caplog.text


async def test_r7_2_the_handling_office_sees_reporters_in_the_shared_list(
        api: Api, canary_case: str) -> None:
    data = (await api.gql(OVERSIGHT, {"f": {"jurisdiction": "jl.th.dc"}},
                          as_user="admin.dc")).ok()
    names = {e["node"]["id"]: (e["node"]["reporter"] or {}).get("name")
             for e in data["oversightCases"]["edges"]}
    assert names[canary_case] == CANARY


async def test_r4_4_disclosure_to_the_agency_is_recorded(api: Api, canary_case: str) -> None:
    refused = await act(api, "admin.th", "discloseReporter", canary_case, 'reason: "核实需要"')
    assert refused.codes == ["FORBIDDEN"]
    (await act(api, "admin.dc", "discloseReporter", canary_case, 'reason: "需当面核实"')).ok()
    seen = (await api.gql(CASE, {"id": canary_case}, as_user="ag.dc.scjg")).ok()["case"]
    assert seen["reporter"]["name"] == CANARY
    assert await AuditRecord.exists(action="case.disclosed", actor="admin.dc")
    read = await AuditRecord.filter(action="case.reporter_read").order_by("-id").first()
    assert read is not None and read.actor == "ag.dc.scjg"
    other = (await api.gql(CASE, {"id": canary_case}, as_user="admin.th")).ok()["case"]
    assert other["reporter"] is None


async def test_r4_4_another_county_handling_a_case_learns_the_identity_not_the_record(
        api: Api, full_demo: None) -> None:
    """Liuhe handles a report by a Dongchang supervisor: it sees who reported (name, phone,
    unit, home office), never the supervisor's record, which `supervisor(id)` keeps from it."""
    from tests.cases.helpers import agency_id

    case = await submit(api, user="sv.dc.006", agency=await agency_id("lh"))
    reporter = await Supervisor.get(account__username="sv.dc.006")
    query = """query($id: ID!) { case(id: $id) { reporter { name phone unit
      jurisdiction { path } } } }"""
    for _ in range(2):  # the executor's way, then the known document's projection
        seen = (await api.gql(query, {"id": case["id"]}, as_user="admin.lh")).ok()
        assert seen["case"]["reporter"] == {"name": reporter.name, "phone": reporter.phone,
                                            "unit": reporter.unit,
                                            "jurisdiction": {"path": "jl.th.dc"}}
    record = await api.gql(f'{{ supervisor(id: "{reporter.id}") {{ name }} }}',
                           as_user="admin.lh")
    assert record.codes == ["NOT_FOUND"]
    for field in ("id", "pointsBalance", "history { kind }", "contactFirms { name }",
                  "certificate { number }", "idNumberMasked"):
        asked = await api.gql(f'query($id: ID!) {{ case(id: $id) {{ reporter {{ {field} }} }} }}',
                              {"id": case["id"]}, as_user="admin.lh")
        assert asked.codes == ["GRAPHQL_VALIDATION_FAILED"], field
