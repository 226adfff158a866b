"""Grants: nobody grants a role or a domain beyond their own; changes reach every process."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from core.audit import AuditRecord
from policies.models import Grant
from tests.support import Api, server_process

GRANT = """mutation($u: String!, $r: String!, $d: String!) {
  grantRole(username: $u, role: $r, domain: $d) { username grants { role domain } } }"""
CREATE_STAFF = """mutation($u: String!, $home: String!) {
  createAccount(username: $u, kind: STAFF, homePath: $home, password: "long-enough-pass")
  { username } }"""


async def _staff(api: Api, username: str, home: str, by: str) -> None:
    (await api.gql(CREATE_STAFF, {"u": username, "home": home}, as_user=by)).ok()


async def test_county_admin_grants_within_its_own_office(api: Api, demo: None) -> None:
    await _staff(api, "clerk.dc", "jl.th.dc", "admin.dc")
    result = await api.gql(GRANT, {"u": "clerk.dc", "r": "office_staff", "d": "jl.th.dc"},
                           as_user="admin.dc")
    assert result.ok()["grantRole"]["grants"] == [{"role": "office_staff", "domain": "jl.th.dc"}]
    assert await AuditRecord.exists(action="grant.add", actor="admin.dc")


@pytest.mark.parametrize(("role", "domain"), [
    ("overseer", "jl.th.**"),          # a subtree wider than the granter's path
    ("office_admin", "jl.th"),          # the parent's path
    ("office_staff", "jl.th.edj"),      # a sibling's path
    ("office_admin", "jl.th.dc.**"),    # a subtree pattern where only the path is held
])
async def test_nobody_grants_beyond_their_own_domain(api: Api, demo: None, role: str,
                                                     domain: str) -> None:
    await _staff(api, "clerk.dc", "jl.th.dc", "admin.dc")
    before = await Grant.all().count()
    result = await api.gql(GRANT, {"u": "clerk.dc", "r": role, "d": domain}, as_user="admin.dc")
    assert result.codes == ["FORBIDDEN"]
    assert await Grant.all().count() == before


async def test_nobody_grants_a_role_wider_than_their_own(api: Api, demo: None) -> None:
    await _staff(api, "clerk.dc", "jl.th.dc", "admin.dc")
    (await api.gql(GRANT, {"u": "clerk.dc", "r": "office_staff", "d": "jl.th.dc"},
                   as_user="admin.dc")).ok()
    await _staff(api, "helper.dc", "jl.th.dc", "admin.dc")
    token = (await api.login("clerk.dc", "long-enough-pass")).ok()["login"]["accessToken"]
    # office_staff holds no grant:manage: it cannot even hand on its own role
    before = await Grant.all().count()
    result = await api.gql(GRANT, {"u": "helper.dc", "r": "office_staff", "d": "jl.th.dc"},
                           token=token)
    assert result.codes == ["NOT_FOUND"]
    assert await Grant.all().count() == before


async def test_r7_1_city_overseer_grants_below_but_county_cannot_above(api: Api, demo: None
                                                                      ) -> None:
    await _staff(api, "clerk.dc", "jl.th.dc", "admin.th")
    ok = await api.gql(GRANT, {"u": "clerk.dc", "r": "office_admin", "d": "jl.th.dc"},
                       as_user="admin.th")
    assert ok.ok()
    await _staff(api, "clerk.th", "jl.th", "admin.th")
    refused = await api.gql(GRANT, {"u": "clerk.th", "r": "oversight_reader", "d": "jl.th.**"},
                            as_user="admin.dc")
    assert refused.codes == ["NOT_FOUND"]  # the city's staff are outside the county's view


async def test_grant_input_is_validated(api: Api, demo: None) -> None:
    await _staff(api, "clerk.dc", "jl.th.dc", "admin.dc")
    before = await Grant.all().count()
    for role, domain, code, field in [
        ("king", "jl.th.dc", "INVALID_INPUT", "role"),
        ("office_staff", "jl.th.dc.*", "INVALID_INPUT", "domain"),
        ("office_staff", "jl.th.zz", "NOT_FOUND", "domain"),
        ("supervisor", "jl.th.dc", "FORBIDDEN", None),  # admin lacks nothing, but...
    ]:
        result = await api.gql(GRANT, {"u": "clerk.dc", "r": role, "d": domain},
                               as_user="admin.dc")
        if role == "supervisor":  # a STAFF account cannot hold the supervisor role
            assert result.codes == ["INVALID_INPUT"] and result.errors[0]["extensions"][
                "field"] == "role"
            continue
        assert result.codes == [code], (role, domain, result.errors)
        assert result.errors[0]["extensions"]["field"] == field
    assert await Grant.all().count() == before


async def test_revoke_takes_effect_on_the_next_request(api: Api, demo: None) -> None:
    await _staff(api, "clerk.dc", "jl.th.dc", "admin.dc")
    (await api.gql(GRANT, {"u": "clerk.dc", "r": "office_staff", "d": "jl.th.dc"},
                   as_user="admin.dc")).ok()
    token = (await api.login("clerk.dc", "long-enough-pass")).ok()["login"]["accessToken"]
    listing = "{ accounts { totalCount } }"
    assert (await api.gql(listing, token=token)).ok()["accounts"]["totalCount"] == 2
    revoked = await api.gql('mutation { revokeRole(username: "clerk.dc", role: "office_staff",'
                            ' domain: "jl.th.dc") }', as_user="admin.dc")
    assert revoked.ok() == {"revokeRole": True}
    assert (await api.gql(listing, token=token)).ok()["accounts"]["totalCount"] == 0


async def test_a_grant_made_here_reaches_another_server_process(
    api: Api, demo: None, database_url: str, tmp_path: Path
) -> None:
    """A second, real uvicorn process on the same database sees the new grant within seconds."""
    async with server_process(database_url, tmp_path / "server.log") as base, \
            httpx.AsyncClient(base_url=base) as other:
        await _staff(api, "clerk.dc", "jl.th.dc", "admin.dc")
        login = await other.post("/graphql", json={"query": (
            'mutation { login(username: "clerk.dc", password: "long-enough-pass") '
            "{ accessToken } }")})
        token = login.json()["data"]["login"]["accessToken"]

        async def count() -> object:
            response = await other.post(
                "/graphql", json={"query": "{ accounts { totalCount } }"},
                headers={"Authorization": f"Bearer {token}"})
            return response.json()["data"]["accounts"]["totalCount"]

        assert await count() == 0
        (await api.gql(GRANT, {"u": "clerk.dc", "r": "office_staff", "d": "jl.th.dc"},
                       as_user="admin.dc")).ok()
        for _ in range(50):
            if await count() == 2:
                break
            await asyncio.sleep(0.1)
        assert await count() == 2
