"""The committed SDL is the code's, and the API is a federation subgraph."""

from __future__ import annotations

from pathlib import Path

from core.roster.models import Supervisor
from tenants.models import Jurisdiction
from tests.support import Api
from web.graphql import build_schema

ROOT = Path(__file__).resolve().parents[2]


def test_committed_schema_graphql_is_current() -> None:
    """Run `make schema` after changing the API, and commit schema.graphql."""
    committed = (ROOT / "schema.graphql").read_text(encoding="utf-8")
    assert committed.strip() == build_schema(production=False).as_str().strip()


async def test_federation_service_sdl_and_entities(api: Api, roster_demo: None) -> None:
    sdl = (await api.gql("{ _service { sdl } }")).ok()["_service"]["sdl"]
    assert 'type Jurisdiction @key(fields: "id")' in sdl
    assert 'type Supervisor @key(fields: "id")' in sdl
    place = await Jurisdiction.get(path="jl.th.mhk")
    supervisor = await Supervisor.get(account__username="sv.dc.001")
    query = """query($r: [_Any!]!) { _entities(representations: $r) {
      ... on Jurisdiction { path name } ... on Supervisor { name jurisdiction { path } } } }"""
    representations = [{"__typename": "Jurisdiction", "id": str(place.id)},
                       {"__typename": "Supervisor", "id": str(supervisor.id)}]
    data = (await api.gql(query, {"r": representations}, as_user="admin.th")).ok()
    assert data["_entities"] == [
        {"path": "jl.th.mhk", "name": "梅河口市"},
        {"name": supervisor.name, "jurisdiction": {"path": "jl.th.dc"}}]
    # an entity outside the caller's scope is not resolved
    hidden = await api.gql(query, {"r": representations[1:]}, as_user="admin.ja")
    assert hidden.codes == ["NOT_FOUND"]
