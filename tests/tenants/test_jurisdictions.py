"""The jurisdiction tree: public reads, and adding a tenant as data."""

from __future__ import annotations

from tenants.models import Jurisdiction
from tests.support import Api, QueryCounter

TREE = """{ jurisdictions { path code name level parent { path } children { path } } }"""


async def test_demo_tree_has_the_fixed_tonghua_paths(api: Api, demo: None) -> None:
    data = (await api.gql(TREE)).ok()["jurisdictions"]
    paths = [j["path"] for j in data]
    assert paths == sorted([
        "jl", "jl.th", "jl.th.dc", "jl.th.edj", "jl.th.thx", "jl.th.hn", "jl.th.lh",
        "jl.th.mhk", "jl.th.ja", "jl.th.yy", "jl.th.lg",
    ])
    city = next(j for j in data if j["path"] == "jl.th")
    assert city["name"] == "通化市" and city["level"] == "CITY"
    assert city["parent"] == {"path": "jl"}
    assert len(city["children"]) == 9
    yy = next(j for j in data if j["path"] == "jl.th.yy")
    assert yy["level"] == "SPECIAL_DISTRICT" and yy["children"] == []


async def test_tree_with_parents_and_children_costs_three_queries(api: Api, demo: None) -> None:
    with QueryCounter() as counter:
        (await api.gql(TREE)).ok()
    # the list, then one batched load each for parents and children: no N+1
    assert counter.count == 3, counter.statements


async def test_jurisdiction_by_path_and_unknown_path(api: Api, demo: None) -> None:
    found = (await api.gql('{ jurisdiction(path: "jl.th.mhk") { name level } }')).ok()
    assert found["jurisdiction"] == {"name": "梅河口市", "level": "COUNTY"}
    missing = await api.gql('{ jurisdiction(path: "jl.th.nowhere") { name } }')
    assert missing.codes == ["NOT_FOUND"]


CREATE = """mutation($parent: String!, $code: String!, $name: String!, $level: Level!) {
  createJurisdiction(parentPath: $parent, code: $code, name: $name, level: $level) {
    path name level parent { path } } }"""


async def test_city_admin_adds_a_district_as_data(api: Api, demo: None) -> None:
    created = await api.gql(CREATE, {"parent": "jl.th", "code": "xq", "name": "新区",
                                     "level": "SPECIAL_DISTRICT"}, as_user="admin.th")
    assert created.ok()["createJurisdiction"] == {
        "path": "jl.th.xq", "name": "新区", "level": "SPECIAL_DISTRICT",
        "parent": {"path": "jl.th"}}
    assert await Jurisdiction.exists(path="jl.th.xq")


async def test_county_admin_cannot_add_under_the_city(api: Api, demo: None) -> None:
    refused = await api.gql(CREATE, {"parent": "jl.th", "code": "xq", "name": "新区",
                                     "level": "COUNTY"}, as_user="admin.dc")
    assert refused.codes == ["FORBIDDEN"]
    assert not await Jurisdiction.exists(path="jl.th.xq")


async def test_bad_jurisdiction_input_changes_nothing(api: Api, demo: None) -> None:
    before = await Jurisdiction.all().count()
    cases = [
        ({"parent": "jl.th", "code": "Bad Code", "name": "x", "level": "COUNTY"}, "code"),
        ({"parent": "jl.th", "code": "ok", "name": "  ", "level": "COUNTY"}, "name"),
        ({"parent": "jl.th", "code": "ok", "name": "x", "level": "CITY"}, "level"),
        ({"parent": "jl.th", "code": "dc", "name": "x", "level": "COUNTY"}, "code"),
    ]
    for variables, field in cases:
        result = await api.gql(CREATE, variables, as_user="admin.th")
        assert result.errors[0]["extensions"]["field"] == field, result.errors
        assert result.codes[0] in ("INVALID_INPUT", "CONFLICT")
    assert await Jurisdiction.all().count() == before


async def test_anonymous_cannot_create(api: Api, demo: None) -> None:
    refused = await api.gql(CREATE, {"parent": "jl.th", "code": "xq", "name": "新区",
                                     "level": "COUNTY"})
    assert refused.codes == ["UNAUTHENTICATED"]
