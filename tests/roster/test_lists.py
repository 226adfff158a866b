"""Reading the roster through scope: who sees which supervisors, filters, no N+1; contact
firms (R5.2) and groups (R7.4)."""

from __future__ import annotations

from core.accounts.service import create_account
from core.principal import AccountKind
from core.roster.models import ContactFirm, Supervisor
from tests.roster.helpers import credit_code
from tests.support import Api, QueryCounter

LIST = """query($f: SupervisorFilter, $after: String, $first: Int!) {
  supervisors(filter: $f, first: $first, after: $after) { totalCount
    edges { node { id name status isSpecial jurisdiction { path name }
      group { name } contactFirms { name creditCode } } }
    pageInfo { hasNextPage endCursor } } }"""


async def _count(api: Api, user: str, f: dict | None = None) -> int:
    data = await api.gql(LIST, {"f": f, "first": 1}, as_user=user)
    return int(data.ok()["supervisors"]["totalCount"])


async def test_r7_1_offices_see_their_own_supervisors_the_city_all(api: Api, roster_demo: None
                                                                   ) -> None:
    assert await _count(api, "admin.dc") == 116
    assert await _count(api, "admin.ja") == 104
    assert await _count(api, "admin.edj") == 0
    assert await _count(api, "admin.th") == 116 + 104 + 12


async def test_a_supervisor_sees_only_their_own_record_and_agencies_none(
        api: Api, roster_demo: None) -> None:
    data = (await api.gql(LIST, {"first": 100}, as_user="sv.dc.001")).ok()["supervisors"]
    own = await Supervisor.get(account__username="sv.dc.001")
    assert [e["node"]["id"] for e in data["edges"]] == [str(own.id)]
    other = await Supervisor.get(account__username="sv.dc.002")
    assert (await api.gql(f'{{ supervisor(id: "{other.id}") {{ name }} }}',
                          as_user="sv.dc.001")).codes == ["NOT_FOUND"]
    await create_account(None, username="agency.dc.tax", display_name="东昌区税务局",
                         kind=AccountKind.AGENCY, home_path="jl.th.dc",
                         password="agency-password-1")
    token = (await api.login("agency.dc.tax", "agency-password-1")).ok()["login"]["accessToken"]
    none = (await api.gql(LIST, {"first": 100}, token=token)).ok()["supervisors"]
    assert none["totalCount"] == 0 and none["edges"] == []


async def test_filters(api: Api, roster_demo: None) -> None:
    assert await _count(api, "admin.th", {"isSpecial": True}) == 12
    assert await _count(api, "admin.th", {"jurisdiction": "jl.th.ja"}) == 104
    assert await _count(api, "admin.dc", {"status": "EXPIRED"}) == 5
    assert await _count(api, "admin.dc", {"category": "MEDIA", "status": "ACTIVE"}) == 6
    name = (await Supervisor.get(account__username="sv.dc.050")).name
    found = await _count(api, "admin.dc", {"search": name})
    assert found >= 1
    assert found == await Supervisor.filter(jurisdiction__path="jl.th.dc",
                                            name__contains=name).count()
    # a filter cannot widen the scope
    assert await _count(api, "admin.dc", {"jurisdiction": "jl.th.ja"}) == 0


async def test_a_page_of_100_with_nested_data_costs_a_fixed_number_of_queries(
        api: Api, roster_demo: None) -> None:
    await api.token("admin.th")
    with QueryCounter() as counter:
        page = (await api.gql(LIST, {"first": 100}, as_user="admin.th")).ok()["supervisors"]
    assert len(page["edges"]) == 100
    assert any(e["node"]["group"] for e in page["edges"])
    assert any(e["node"]["contactFirms"] for e in page["edges"])
    # principal, scope ids, count, page, jurisdictions, groups, contact firms
    assert counter.count == 7, counter.statements
    seen = {e["node"]["id"] for e in page["edges"]}
    after = page["pageInfo"]["endCursor"]
    second = (await api.gql(LIST, {"first": 100, "after": after}, as_user="admin.th")).ok()
    assert not seen & {e["node"]["id"] for e in second["supervisors"]["edges"]}


LINK = """mutation($id: ID!, $input: ContactFirmInput!) {
  linkContactFirm(supervisorId: $id, input: $input) { id name creditCode size } }"""


async def test_r5_2_contact_firms(api: Api, roster_demo: None) -> None:
    """R5.2: at least one enterprise besides the supervisor's own unit."""
    without = (await api.gql('{ supervisorsWithoutContactFirm(jurisdiction: "jl.th.dc") '
                             "{ id } }", as_user="admin.dc")).ok()
    lonely = [int(s["id"]) for s in without["supervisorsWithoutContactFirm"]]
    expected = await Supervisor.filter(jurisdiction__path="jl.th.dc", status="ACTIVE").exclude(
        id__in=await ContactFirm.filter(unlinked_at__isnull=True).values_list(
            "supervisor_id", flat=True)).count()
    assert len(lonely) == expected > 0
    supervisor = await Supervisor.get(id=lonely[0]).prefetch_related("account")
    assert supervisor.account is not None
    own_unit = await api.gql(LINK, {"id": str(supervisor.id), "input": {
        "name": supervisor.unit, "creditCode": credit_code(), "size": "SMALL"}},
        as_user=supervisor.account.username)
    assert own_unit.codes == ["RULE_VIOLATION"]
    bad_code = await api.gql(LINK, {"id": str(supervisor.id), "input": {
        "name": "别的公司", "creditCode": "91220500MA0Y3Q1X00", "size": "SMALL"}},
        as_user=supervisor.account.username)
    assert bad_code.codes == ["INVALID_INPUT"]
    linked = await api.gql(LINK, {"id": str(supervisor.id), "input": {
        "name": "通化葡萄酒股份有限公司", "creditCode": credit_code(), "size": "MEDIUM",
        "industry": "酿酒"}}, as_user=supervisor.account.username)
    firm = linked.ok()["linkContactFirm"]
    after = (await api.gql('{ supervisorsWithoutContactFirm(jurisdiction: "jl.th.dc") '
                           "{ id } }", as_user="admin.dc")).ok()
    assert str(supervisor.id) not in {s["id"] for s in after["supervisorsWithoutContactFirm"]}
    other = await api.gql(f'mutation {{ unlinkContactFirm(id: "{firm["id"]}") {{ id }} }}',
                          as_user="sv.dc.099")
    assert other.codes == ["NOT_FOUND"]
    (await api.gql(f'mutation {{ unlinkContactFirm(id: "{firm["id"]}") {{ id }} }}',
                   as_user="admin.dc")).ok()
    assert (await ContactFirm.get(id=int(firm["id"]))).unlinked_at is not None


async def test_r7_4_groups(api: Api, roster_demo: None) -> None:
    """R7.4: county offices organise their supervisors into industry groups."""
    created = (await api.gql('mutation { createGroup(jurisdiction: "jl.th.dc", name: "文旅组", '
                             'industry: "文旅") { id name } }', as_user="admin.dc")).ok()
    gid = created["createGroup"]["id"]
    duplicate = await api.gql('mutation { createGroup(jurisdiction: "jl.th.dc", name: "文旅组")'
                              " { id } }", as_user="admin.dc")
    assert duplicate.codes == ["CONFLICT"]
    elsewhere = await api.gql('mutation { createGroup(jurisdiction: "jl.th.ja", name: "x") '
                              "{ id } }", as_user="admin.dc")
    assert elsewhere.codes == ["NOT_FOUND"]
    sid = (await Supervisor.get(account__username="sv.dc.060")).id
    assigned = await api.gql(f'mutation {{ assignToGroup(supervisorId: "{sid}", groupId: '
                             f'"{gid}") {{ group {{ name }} }} }}', as_user="admin.dc")
    assert assigned.ok()["assignToGroup"]["group"] == {"name": "文旅组"}
    assert await _count(api, "admin.dc", {"group": gid}) == 1
    ja_sid = (await Supervisor.get(account__username="sv.ja.001")).id
    cross = await api.gql(f'mutation {{ assignToGroup(supervisorId: "{ja_sid}", groupId: '
                          f'"{gid}") {{ id }} }}', as_user="admin.th")
    assert cross.codes == ["INVALID_INPUT"]
    groups = (await api.gql('{ groups(jurisdiction: "jl.th.dc") { name } }',
                            as_user="admin.dc")).ok()["groups"]
    assert "文旅组" in [g["name"] for g in groups]
