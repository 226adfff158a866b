"""GraphQL hygiene: limits refused before any SQL, error codes, masking, CSRF, GraphiQL."""

from __future__ import annotations

import logging
import re
from typing import Any

import httpx
import pytest

from core.config import Settings
from tests.support import Api, QueryCounter


def _nested(depth: int) -> str:
    inner = "path"
    for _ in range(depth - 1):
        inner = f"children {{ {inner} }}"
    return f"{{ jurisdictions {{ {inner} }} }}"


async def test_depth_20_query_is_refused_before_any_sql(api: Api, demo: None) -> None:
    token = await api.token("admin.dc")
    with QueryCounter() as counter:
        refused = await api.gql(_nested(20), token=token)
    assert refused.codes and set(refused.codes) == {"GRAPHQL_VALIDATION_FAILED"}
    assert "depth" in refused.errors[0]["message"]
    assert refused.data is None
    assert counter.count == 0, counter.statements


async def test_depth_10_is_allowed(api: Api, demo: None) -> None:
    assert (await api.gql(_nested(10))).ok()


async def test_too_many_aliases_are_refused(api: Api, demo: None) -> None:
    fields = " ".join(f"a{i}: jurisdiction(path: \"jl\") {{ path }}" for i in range(16))
    with QueryCounter() as counter:
        refused = await api.gql(f"{{ {fields} }}")
    assert refused.codes[0] == "GRAPHQL_VALIDATION_FAILED"
    assert counter.count == 0


async def test_aliases_inside_fragments_count_each_time_they_are_spread(api: Api,
                                                                     demo: None) -> None:
    fragment = "fragment F on Jurisdiction { " + " ".join(
        f"n{i}: name" for i in range(7)) + " }"
    spread_twice = f'{{ a: jurisdiction(path: "jl") {{ ...F }} b: jurisdiction(path: "jl") ' \
                   f"{{ ...F }} }} {fragment}"
    with QueryCounter() as counter:
        refused = await api.gql(spread_twice)
    assert refused.codes == ["GRAPHQL_VALIDATION_FAILED"] and counter.count == 0
    assert "16 aliases" in refused.errors[0]["message"]
    nested = f'{{ jurisdiction(path: "jl") {{ ...F children {{ ...G }} }} }} {fragment} ' \
             "fragment G on Jurisdiction { ...F x: path y: path }"
    assert (await api.gql(nested)).codes == ["GRAPHQL_VALIDATION_FAILED"]
    once = f'{{ jurisdiction(path: "jl") {{ ...F }} }} {fragment}'
    assert (await api.gql(once)).ok()["jurisdiction"]["n6"]


async def test_too_many_tokens_are_refused(api: Api, demo: None) -> None:
    fields = " ".join("__typename" for _ in range(2100))
    for _ in range(2):  # the second time from the parse cache: refused all the same
        refused = await api.gql(f"{{ {fields} }}")
        assert refused.codes == ["GRAPHQL_PARSE_FAILED"] and refused.data is None
        assert "more than 2000 tokens" in refused.errors[0]["message"]


@pytest.mark.parametrize(("document", "variables", "named"), [
    ("query($id: ID!) { supervisor(id: $id) { name } }", {}, "$id"),
    ("query($f: SupervisorFilter) { supervisors(filter: $f, first: 2) { edges { node { id } } }"
     " }", {"f": {"status": "NOPE"}}, "NOPE"),
    ("query($n: Int!) { supervisors(first: $n) { edges { node { id } } } }", {"n": "x"}, "$n"),
])
async def test_a_variable_that_does_not_fit_is_invalid_input_not_an_internal_error(
        api: Api, demo: None, caplog: pytest.LogCaptureFixture, document: str,
        variables: dict[str, object], named: str) -> None:
    token = await api.token("admin.dc")
    with QueryCounter() as counter:
        refused = await api.gql(document, variables, token=token)
    assert refused.codes == ["INVALID_INPUT"] and refused.data is None
    assert named in refused.errors[0]["message"]
    assert "requestId" not in refused.errors[0]["extensions"]
    assert counter.count == 0
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


async def test_a_syntax_error_is_refused_with_its_code_and_counted(api: Api) -> None:
    from prometheus_client import REGISTRY

    def counted() -> float:
        return REGISTRY.get_sample_value("graphql_errors_total",
                                         {"code": "GRAPHQL_PARSE_FAILED"}) or 0.0

    before = counted()
    for _ in range(2):
        refused = await api.gql("{ me { username }")
        assert refused.codes == ["GRAPHQL_PARSE_FAILED"] and refused.data is None
        assert refused.errors[0]["locations"] == [{"line": 1, "column": 18}]
    assert counted() == before + 2


async def test_request_body_over_the_limit_gets_413(api: Api) -> None:
    response = await api.client.post("/graphql", content=b"x" * 1_000_001,
                                     headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"


async def test_a_streamed_body_over_the_limit_gets_413_and_one_under_it_is_answered(
        api: Api) -> None:
    """Without a Content-Length the body is counted as it arrives."""
    async def chunks(total: int, body: bytes = b"") -> Any:
        yield body
        for _ in range(total // 100_000):
            yield b" " * 100_000

    refused = await api.client.post("/graphql", content=chunks(1_100_000),
                                    headers={"content-type": "application/json"})
    assert refused.status_code == 413
    assert refused.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
    answered = await api.client.post("/graphql", content=chunks(
        200_000, b'{"query": "{ __typename }"}'), headers={"content-type": "application/json"})
    assert answered.json() == {"data": {"__typename": "Query"}}


async def test_mutation_over_get_is_refused(api: Api, demo: None) -> None:
    response = await api.client.get("/graphql", params={
        "query": 'mutation { login(username: "admin.dc", password: "demo-pass-2020") '
                 "{ accessToken } }"})
    assert response.status_code in (400, 405)
    from core.accounts.models import Session

    assert await Session.all().count() == 0


async def test_the_endpoint_and_everything_else_answer_as_when_routed(api: Api) -> None:
    """GET and POST of /graphql go straight to it (web.middleware.Direct), with the request
    id, the body limit and the timeout around it; other methods and paths are routed as
    before."""
    posted = await api.client.post("/graphql", json={"query": "{ __typename }"},
                                   headers={"x-request-id": "direct-1"})
    assert posted.json() == {"data": {"__typename": "Query"}}
    assert posted.headers["x-request-id"] == "direct-1"
    got = await api.client.get("/graphql", params={"query": "{ __typename }"})
    assert got.json() == {"data": {"__typename": "Query"}} and "x-request-id" in got.headers
    for method in ("PUT", "DELETE", "PATCH"):
        refused = await api.client.request(method, "/graphql", json={"query": "{ __typename }"})
        assert refused.status_code == 405
    assert (await api.client.get("/healthz")).status_code == 200
    assert (await api.client.post("/graphql/", json={"query": "{ __typename }"})
            ).status_code in (307, 404)


@pytest.mark.parametrize("content_type", [
    "multipart/form-data; boundary=x", "text/plain", "application/x-www-form-urlencoded"])
async def test_cross_site_simple_requests_are_refused(api: Api, demo: None,
                                                      content_type: str) -> None:
    body = '--x\r\nContent-Disposition: form-data; name="operations"\r\n\r\n' \
           '{"query":"mutation { logout }"}\r\n--x--\r\n'
    response = await api.client.post("/graphql", content=body.encode(),
                                     headers={"content-type": content_type})
    assert response.status_code in (400, 415)


async def test_domain_errors_carry_code_field_and_language(api: Api, demo: None) -> None:
    zh = await api.gql('{ jurisdiction(path: "jl.nowhere") { name } }')
    en = await api.gql('{ jurisdiction(path: "jl.nowhere") { name } }',
                       headers={"Accept-Language": "en-US,en;q=0.9"})
    assert zh.errors[0]["extensions"] == {"code": "NOT_FOUND", "field": "path"}
    assert zh.errors[0]["message"] == "辖区不存在"
    assert en.errors[0]["message"] == "No such jurisdiction"


async def test_unexpected_errors_are_masked_and_logged_with_request_id(
    api: Api, demo: None, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from core.jurisdictions import service

    async def broken(_under: object = None) -> list[object]:
        raise RuntimeError("secret internals: password=hunter2")

    monkeypatch.setattr(service, "list_jurisdictions", broken)
    with caplog.at_level(logging.ERROR, logger="graphql"):
        response = await api.client.post("/graphql", json={"query": "{ jurisdictions { path } }"},
                                         headers={"X-Request-ID": "req-abc-123"})
    error = response.json()["errors"][0]
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR", "requestId": "req-abc-123"}
    assert "hunter2" not in error["message"] and "req-abc-123" in error["message"]
    assert response.headers["x-request-id"] == "req-abc-123"
    assert any("req-abc-123" in r.getMessage() for r in caplog.records)


async def test_graphiql_is_served_from_our_own_assets(api: Api) -> None:
    page = await api.client.get("/graphql", headers={"accept": "text/html"})
    assert page.status_code == 200
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assets = [s for s in sources if s.endswith((".js", ".css"))]
    assert len(assets) == 7
    assert all(s.startswith("/static/graphiql/") for s in assets), assets
    assert "unpkg" not in page.text and "cdn" not in page.text.lower()
    for asset in assets:
        assert (await api.client.get(asset)).status_code == 200, asset


async def test_production_turns_off_introspection_and_graphiql(
    monkeypatch: pytest.MonkeyPatch, database_url: str
) -> None:
    import asgi
    from core import config

    monkeypatch.setattr(config, "settings", lambda: Settings(env="production",
                                                             secret_key="k" * 48))
    monkeypatch.setattr(asgi, "settings", config.settings)
    app = asgi.create_app(manage_database=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        for _ in range(2):  # refused again: a refused document is never known (schema/known)
            intro = await client.post("/graphql",
                                      json={"query": "{ __schema { types { name } } }"})
            assert intro.json()["errors"][0]["extensions"]["code"] == (
                "GRAPHQL_VALIDATION_FAILED")
        page = await client.get("/graphql", headers={"accept": "text/html"})
        assert "graphiql" not in page.text.lower()
        assert (await client.get("/static/graphiql/graphiql.min.js")).status_code == 404
        ok = await client.post("/graphql", json={"query": '{ jurisdictions { path } }'})
        assert ok.json()["data"] == {"jurisdictions": []}


async def test_introspection_is_on_in_development(api: Api) -> None:
    assert (await api.gql("{ __schema { queryType { name } } }")).ok()


async def test_the_database_cancels_long_statements(database_url: str) -> None:
    from core import orm

    rows = await orm.client().execute_query_dict("SHOW statement_timeout")
    assert rows[0]["statement_timeout"] == "15s"


async def test_a_slow_request_answers_504(monkeypatch: pytest.MonkeyPatch, database_url: str
                                          ) -> None:
    import asyncio

    import asgi
    from core import config
    from core.jurisdictions import service

    async def slow(_under: object = None) -> list[object]:
        await asyncio.sleep(2)
        return []

    monkeypatch.setattr(service, "list_jurisdictions", slow)
    monkeypatch.setattr(config, "settings", lambda: Settings(request_timeout_s=0.2))
    monkeypatch.setattr(asgi, "settings", config.settings)
    app = asgi.create_app(manage_database=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://t") as client:
        response = await client.post("/graphql", json={"query": "{ jurisdictions { path } }"})
    assert response.status_code == 504
    assert response.json()["errors"][0]["extensions"]["code"] == "TIMEOUT"


async def test_batched_requests_are_refused(api: Api) -> None:
    response = await api.client.post("/graphql", json=[{"query": "{ __typename }"},
                                                       {"query": "{ __typename }"}])
    assert response.status_code == 400


async def test_values_the_database_cannot_hold_are_invalid_input(api: Api, demo: None) -> None:
    """Found by fuzzing: a NUL character or an id beyond the column's range is the caller's
    input, answered INVALID_INPUT, not a masked internal error."""
    token = await api.token("admin.dc")
    nul = await api.gql("query($u: String!) { compositionReports(under: $u) "
                        "{ jurisdiction { path } } }", {"u": "jl\u0000th"}, token=token)
    assert nul.codes == ["INVALID_INPUT"]
    huge = await api.gql('{ case(id: "3000000000") { id } }', token=token)
    assert huge.codes == ["INVALID_INPUT"]


async def test_production_discloses_no_schema_to_anyone_but_service_accounts(
        monkeypatch: pytest.MonkeyPatch, api: Api, roster_demo: None) -> None:
    """With introspection off, the federation SDL goes to SERVICE principals only, no error
    suggests a field, argument or value of the schema, and /metrics answers only to the
    configured addresses or token."""
    import asgi
    from core import config

    office = await api.token("admin.dc")
    province = (config.settings().data_dir / "province.key").read_text().strip()
    production = Settings(env="production", secret_key=config.settings().signing_key(),
                          metrics_allow_ips="10.9.0.0/16", metrics_token="m" * 32)
    monkeypatch.setattr(config, "settings", lambda: production)
    monkeypatch.setattr(asgi, "settings", config.settings)

    def client(address: str) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=asgi.create_app(manage_database=False),
                                        client=(address, 5000))
        return httpx.AsyncClient(transport=transport, base_url="http://t")

    sdl = {"query": "{ _service { sdl } }"}
    async with client("203.0.113.7") as outside, client("10.9.1.2") as monitor:
        for headers, code in (({}, "UNAUTHENTICATED"),
                              ({"Authorization": f"Bearer {office}"}, "FORBIDDEN")):
            refused = (await outside.post("/graphql", json=sdl, headers=headers)).json()
            assert refused["errors"][0]["extensions"]["code"] == code
            assert not refused.get("data")
        given = await outside.post("/graphql", json=sdl,
                                   headers={"Authorization": f"ApiKey {province}"})
        assert "type Supervisor" in given.json()["data"]["_service"]["sdl"]

        for document, suggested in (('{ jurisdictionz { path } }', "jurisdictions"),
                                    ('{ jurisdictions(unde: "jl") { path } }', "under"),
                                    ('{ supervisors(filter: {status: ACTIVEE}) '
                                     '{ totalCount } }', "'ACTIVE'")):
            answer = (await outside.post("/graphql", json={"query": document})).json()
            message = answer["errors"][0]["message"]
            assert "Did you mean" not in message and suggested not in message, message

        assert (await outside.get("/metrics")).status_code == 404
        assert (await outside.get("/metrics", headers={
            "Authorization": "Bearer wrong"})).status_code == 404
        assert (await outside.get("/metrics", headers={
            "Authorization": f"Bearer {'m' * 32}"})).status_code == 200
        assert (await monitor.get("/metrics")).status_code == 200


async def test_development_keeps_suggestions_and_open_metrics(api: Api) -> None:
    answer = await api.gql("{ jurisdictionz { path } }")
    assert "Did you mean" in answer.errors[0]["message"]
    assert (await api.client.get("/metrics")).status_code == 200
