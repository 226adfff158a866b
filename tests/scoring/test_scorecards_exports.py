"""R7.2 scorecards (one statement, shared city-wide, never a reporter), exports honouring
scope and confidentiality, and the province reading aggregates across the province."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from openpyxl import load_workbook

from core import clock
from core.cases.models import Case
from core.cases.rules import is_overdue
from core.config import settings
from core.roster.models import Supervisor
from tests.cases.helpers import submit, to_transferred
from tests.support import Api, QueryCounter

CARDS = """query($u: String!) { jurisdictionScorecards(under: $u) { jurisdiction { path }
  activeSupervisors specialSupervisors smallMicroShare cases casesByKind { key count }
  casesByOutcome { key count } medianReplyHours overdue activities attendanceRate
  assistanceRequests medianMinutesToAccept grades { key count } } }"""
EXPORT = """mutation($k: ExportKind!, $f: ExportFormat!, $j: String!) {
  requestExport(kind: $k, format: $f, jurisdiction: $j) { url expiresIn } }"""


def _province() -> str:
    return (settings().data_dir / "province.key").read_text().strip()


async def test_r7_2_scorecards_for_every_jurisdiction_in_one_statement(api: Api,
                                                                       full_demo: None) -> None:
    await api.token("admin.edj")
    with QueryCounter() as counter:
        cards = (await api.gql(CARDS, {"u": "jl.th"}, as_user="admin.edj")).ok()[
            "jurisdictionScorecards"]
    assert counter.count <= 3, counter.statements  # principal, scope, the one statement
    by_path = {c["jurisdiction"]["path"]: c for c in cards}
    assert len(by_path) == 10
    assert by_path["jl.th.dc"]["activeSupervisors"] == 110
    assert by_path["jl.th"]["specialSupervisors"] == 12
    now = clock.now()
    for path, card in by_path.items():
        cases = await Case.filter(jurisdiction__path=path)
        assert card["cases"] == len(cases)
        assert card["overdue"] == sum(is_overdue(c, now) for c in cases)
        assert sum(k["count"] for k in card["casesByKind"]) == card["cases"]
    assert by_path["jl.th.dc"]["assistanceRequests"] == 3
    assert by_path["jl.th.dc"]["attendanceRate"] is not None
    province = (await api.gql(CARDS, {"u": "jl"}, api_key=_province())).ok()
    assert len(province["jurisdictionScorecards"]) == 11
    assert (await api.gql(CARDS, {"u": "jl.th"}, as_user="sv.dc.001")).codes == ["NOT_FOUND"]
    assert (await api.gql(CARDS, {"u": "jl.th"}, as_user="ag.dc.sw")).codes == ["NOT_FOUND"]


async def test_supervisor_scorecard(api: Api, full_demo: None) -> None:
    sid = (await Supervisor.get(account__username="sv.dc.001")).id
    query = (f'{{ supervisorScorecard(id: "{sid}") {{ pointsBalance '
             "casesByKind { key count } } }")
    mine = (await api.gql(query, as_user="sv.dc.001")).ok()["supervisorScorecard"]
    office = (await api.gql(query, as_user="admin.dc")).ok()["supervisorScorecard"]
    assert mine == office
    assert sum(k["count"] for k in mine["casesByKind"]) == await Case.filter(
        reporter_id=sid).count()
    assert (await api.gql(query, as_user="admin.ja")).codes == ["NOT_FOUND"]


async def _download(api: Api, url: str) -> tuple[int, bytes]:
    response = await api.client.get(url)
    return response.status_code, response.content


async def test_exports_honour_scope_and_confidentiality(api: Api, full_demo: None) -> None:
    canary = "金丝雀导出"
    await Supervisor.filter(account__username="sv.dc.020").update(name=canary)
    case = await submit(api, user="sv.dc.020")
    await to_transferred(api, case["id"])
    own = (await api.gql(EXPORT, {"k": "CASES", "f": "CSV", "j": "jl.th.dc"},
                         as_user="admin.dc")).ok()["requestExport"]
    status, body = await _download(api, own["url"])
    assert status == 200 and canary in body.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert len(rows) - 1 == await Case.filter(jurisdiction__path="jl.th.dc").count()
    city = (await api.gql(EXPORT, {"k": "CASES", "f": "XLSX", "j": "jl.th.dc"},
                          as_user="admin.th")).ok()["requestExport"]
    status, body = await _download(api, city["url"])
    assert status == 200
    sheet = load_workbook(io.BytesIO(body), read_only=True).active
    assert sheet is not None
    values = [str(v) for row in sheet.iter_rows(values_only=True) for v in row]
    assert canary not in values  # the city office oversees, it does not handle
    assert sum(1 for _ in load_workbook(io.BytesIO(body), read_only=True).active.iter_rows()
               ) == len(rows)
    other = await api.gql(EXPORT, {"k": "CASES", "f": "CSV", "j": "jl.th.dc"},
                          as_user="admin.ja")
    assert other.codes == ["FORBIDDEN"]
    agency = await api.gql(EXPORT, {"k": "CASES", "f": "CSV", "j": "jl.th.dc"},
                           as_user="ag.dc.scjg")
    assert agency.codes == ["FORBIDDEN"]


async def test_roster_export_and_link_expiry(api: Api, full_demo: None) -> None:
    link = (await api.gql(EXPORT, {"k": "ROSTER", "f": "CSV", "j": "jl.th.ja"},
                          as_user="admin.ja")).ok()["requestExport"]
    assert link["expiresIn"] == 300
    status, body = await _download(api, link["url"])
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert status == 200 and len(rows) - 1 == 104
    assert all("*" in r[-1] for r in rows[1:])  # ID numbers masked
    assert (await _download(api, link["url"][:-3] + "xyz"))[0] == 401
    later = clock.now() + timedelta(seconds=301)
    clock.set_source(lambda: later)
    assert (await _download(api, link["url"]))[0] == 401


async def test_province_reads_filings_composition_and_scorecards(api: Api, full_demo: None
                                                                 ) -> None:
    key = _province()
    data = (await api.gql("""{ pendingFilings(first: 1) { totalCount }
      compositionReports(under: "jl") { jurisdiction { path } }
      jurisdictionScorecards(under: "jl") { cases } }""", api_key=key)).ok()
    assert data["pendingFilings"]["totalCount"] > 0
    assert len(data["compositionReports"]) == 11
    assert sum(c["cases"] for c in data["jurisdictionScorecards"]) == await Case.all().count()
    # aggregates only: no supervisor, case or reporter is readable
    assert (await api.gql("{ cases { totalCount } }", api_key=key)).ok()["cases"][
        "totalCount"] == 0
    assert (await api.gql("{ supervisors { totalCount } }", api_key=key)).ok()[
        "supervisors"]["totalCount"] == 0


async def test_exported_text_never_starts_a_formula(api: Api, full_demo: None) -> None:
    """A name such as =HYPERLINK(…) opens as text in CSV and XLSX alike; numbers stay numbers."""
    formulas = ['=HYPERLINK("http://evil.example","x")', "+1+1", "-2+3", "@SUM(A1)"]
    for n, name in enumerate(formulas, start=1):
        await Supervisor.filter(account__username=f"sv.ja.{n:03d}").update(name=name)
    for fmt in ("CSV", "XLSX"):
        link = (await api.gql(EXPORT, {"k": "ROSTER", "f": fmt, "j": "jl.th.ja"},
                              as_user="admin.ja")).ok()["requestExport"]
        status, body = await _download(api, link["url"])
        assert status == 200
        if fmt == "CSV":
            rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
        else:
            sheet = load_workbook(io.BytesIO(body), read_only=True).active
            assert sheet is not None
            rows = [list(r) for r in sheet.iter_rows(values_only=True)]
        names = [row[1] for row in rows[1:]]
        for name in formulas:
            assert "'" + name in names and name not in names, (fmt, name)
        if fmt == "XLSX":
            assert all(isinstance(row[0], int) for row in rows[1:])


async def test_an_export_link_dies_with_its_session(api: Api, full_demo: None) -> None:
    pair = (await api.login("admin.ja")).ok()["login"]
    link = (await api.gql(EXPORT, {"k": "ROSTER", "f": "CSV", "j": "jl.th.ja"},
                          token=pair["accessToken"])).ok()["requestExport"]
    assert (await _download(api, link["url"]))[0] == 200
    assert (await api.gql("mutation { logout }", token=pair["accessToken"])).ok()
    assert (await _download(api, link["url"]))[0] == 401
