"""Territorial management with cross-level supervision (R7.1, R7.5) and city-wide sharing
(R7.2): who reads and changes which tenant's data."""

from __future__ import annotations

from core.accounts.models import Account
from policies.models import Grant
from tests.support import Api, QueryCounter

ACCOUNTS = """query($after: String) { accounts(first: 100, after: $after) {
  totalCount edges { cursor node { username homeJurisdiction { path } grants { role } } }
  pageInfo { hasNextPage endCursor } } }"""
ACCOUNT = """query($u: String!) { account(username: $u) { username homeJurisdiction { path } } }"""
CREATE_STAFF = """mutation($u: String!, $home: String!) {
  createAccount(username: $u, kind: STAFF, homePath: $home, password: "long-enough-pass",
                displayName: "张三") { username homeJurisdiction { path } } }"""
DIRECTORY = """query($under: String!) { officeDirectory(under: $under) {
  jurisdiction { path } managers { username } } }"""


async def _homes(api: Api, user: str) -> set[str]:
    data = (await api.gql(ACCOUNTS, as_user=user)).ok()["accounts"]
    return {e["node"]["homeJurisdiction"]["path"] for e in data["edges"]}


async def test_r7_1_county_office_sees_only_its_own_accounts(api: Api, demo: None) -> None:
    assert await _homes(api, "admin.dc") == {"jl.th.dc"}


async def test_r7_1_county_cannot_read_another_county_account(api: Api, demo: None) -> None:
    result = await api.gql(ACCOUNT, {"u": "admin.edj"}, as_user="admin.dc")
    assert result.codes == ["NOT_FOUND"]  # never FORBIDDEN: its existence is not told
    unknown = await api.gql(ACCOUNT, {"u": "no.such.user"}, as_user="admin.dc")
    assert unknown.errors[0]["message"] == result.errors[0]["message"]


async def test_r7_1_county_cannot_create_accounts_in_another_county(api: Api, demo: None
                                                                    ) -> None:
    result = await api.gql(CREATE_STAFF, {"u": "spy.edj", "home": "jl.th.edj"},
                           as_user="admin.dc")
    assert result.codes == ["FORBIDDEN"]
    assert not await Account.exists(username="spy.edj")


async def test_r7_1_county_cannot_change_another_countys_grants(api: Api, demo: None) -> None:
    before = await Grant.all().count()
    result = await api.gql(
        'mutation { revokeRole(username: "admin.edj", role: "office_admin", '
        'domain: "jl.th.edj") }', as_user="admin.dc")
    assert result.codes == ["NOT_FOUND"]
    assert await Grant.all().count() == before


async def test_r7_5_city_office_reads_every_county_of_the_city(api: Api, demo: None) -> None:
    homes = await _homes(api, "admin.th")
    assert homes == {"jl.th", "jl.th.dc", "jl.th.edj", "jl.th.thx", "jl.th.hn", "jl.th.lh",
                     "jl.th.mhk", "jl.th.ja", "jl.th.yy", "jl.th.lg"}
    # but not the province above it
    assert (await api.gql(ACCOUNT, {"u": "province"}, as_user="admin.th")).codes == [
        "NOT_FOUND"]


async def test_r7_5_city_office_creates_staff_for_a_county(api: Api, demo: None) -> None:
    result = await api.gql(CREATE_STAFF, {"u": "staff.dc", "home": "jl.th.dc"},
                           as_user="admin.th")
    assert result.ok()["createAccount"]["homeJurisdiction"] == {"path": "jl.th.dc"}
    # and the county office sees the new colleague
    assert (await api.gql(ACCOUNT, {"u": "staff.dc"}, as_user="admin.dc")).ok()


async def test_r7_2_county_reads_the_city_wide_shared_directory(api: Api, demo: None) -> None:
    data = (await api.gql(DIRECTORY, {"under": "jl.th"}, as_user="admin.dc")).ok()
    entries = {e["jurisdiction"]["path"]: [m["username"] for m in e["managers"]]
               for e in data["officeDirectory"]}
    assert len(entries) == 10
    assert entries["jl.th.edj"] == ["admin.edj"]
    assert entries["jl.th"] == ["admin.th"]
    # ... yet the same county's private data (its accounts) stays closed
    assert (await api.gql(ACCOUNT, {"u": "admin.edj"}, as_user="admin.dc")).codes == [
        "NOT_FOUND"]


async def test_r7_2_directory_costs_the_same_queries_for_any_size(api: Api, demo: None) -> None:
    await api.token("admin.dc")
    with QueryCounter() as small:
        (await api.gql(DIRECTORY, {"under": "jl.th.dc"}, as_user="admin.dc")).ok()
    with QueryCounter() as large:
        (await api.gql(DIRECTORY, {"under": "jl.th"}, as_user="admin.dc")).ok()
    assert small.count == large.count


async def test_r7_3_designated_manager_appears_and_reads_own_office(api: Api, demo: None
                                                                  ) -> None:
    """R7.3: the staff an office designates are listed city-wide and manage their office."""
    (await api.gql(CREATE_STAFF, {"u": "manager.dc", "home": "jl.th.dc"},
                   as_user="admin.dc")).ok()
    (await api.gql('mutation { grantRole(username: "manager.dc", role: "office_staff", '
                   'domain: "jl.th.dc") { username } }', as_user="admin.dc")).ok()
    data = (await api.gql(DIRECTORY, {"under": "jl.th.dc"}, as_user="admin.edj")).ok()
    assert [m["username"] for m in data["officeDirectory"][0]["managers"]] == [
        "admin.dc", "manager.dc"]
    token = (await api.login("manager.dc", "long-enough-pass")).ok()["login"]["accessToken"]
    listed = (await api.gql(ACCOUNTS, token=token)).ok()["accounts"]
    assert {e["node"]["homeJurisdiction"]["path"] for e in listed["edges"]} == {"jl.th.dc"}
    # a designated manager reads but does not create accounts
    refused = await api.gql(CREATE_STAFF, {"u": "x.dc", "home": "jl.th.dc"}, token=token)
    assert refused.codes == ["FORBIDDEN"]


async def test_accounts_pages_by_keyset_without_n_plus_one(api: Api, demo: None) -> None:
    for i in range(25):
        await Account.create(username=f"bulk{i:02d}", kind="STAFF",
                             home_id=(await Account.get(username="admin.dc")).home_id)
    query = """query($after: String) { accounts(first: 10, after: $after) { totalCount
      edges { node { username homeJurisdiction { name } grants { role } } }
      pageInfo { hasNextPage endCursor } } }"""
    await api.token("admin.th")
    seen: list[str] = []
    after = None
    while True:
        with QueryCounter() as counter:
            page = (await api.gql(query, {"after": after}, as_user="admin.th")).ok()["accounts"]
        # principal, count, page, one batch of jurisdictions, one batch of grants
        assert counter.count == 5, counter.statements
        seen += [e["node"]["username"] for e in page["edges"]]
        assert page["totalCount"] == 35
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen)) == 35


async def test_page_size_is_capped_and_cursors_checked(api: Api, demo: None) -> None:
    too_many = await api.gql("{ accounts(first: 101) { totalCount } }", as_user="admin.th")
    assert too_many.codes == ["INVALID_INPUT"]
    assert too_many.errors[0]["extensions"]["field"] == "first"
    bad = await api.gql('{ accounts(after: "!!") { totalCount } }', as_user="admin.th")
    assert bad.codes == ["INVALID_INPUT"]
