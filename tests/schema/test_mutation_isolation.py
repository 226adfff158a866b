"""Tenant isolation of writes as a property, beside the one of reads (test_isolation.py).
Hypothesis draws accounts of the other counties and districts (staff with random roles on
their own path or subtree, their supervisors, every other tenant's agency staff) and, for
each, mutations drawn from the schema itself: every mutation field, its arguments drawn from
their types, ids half the time those of 集安市's (jl.th.ja) own rows, paths half the time
its own. A mutation added tomorrow is covered without touching this test.

The oracle: nothing of 集安市 changes. Every row of every table that belongs to it (by its
jurisdiction, or through its cases, supervisors and accounts, or a grant on its path) is
fingerprinted before and after each account's mutations, and must be the same."""

from __future__ import annotations

import os
import re
from typing import Any

import pytest
from graphql import (
    GraphQLField,
)
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from core import orm
from core.accounts.models import Account
from core.principal import AccountKind
from core.private import graphql_schema_of
from tenants.models import Jurisdiction
from tests.schema.test_isolation import (
    CANARY_HOME,
    MOMENTS,
    TEXTS,
    Caller,
    World,
    _make_staff,
    _selection,
    _staff,
    _token,
    _value,
)
from tests.support import Api
from web.graphql import build_schema

ACCOUNTS = int(os.environ.get("MUTATION_ISOLATION_ACCOUNTS", "60"))
MUTATIONS_PER_ACCOUNT = 25
# Rows a refused or unrelated request may rightly write for 集安市 too: the audit chain (a
# refusal is recorded), sessions and sign-in counters, and notices addressed to its people
# by acts of their own tenants' offices.
NOT_ITS_DATA = {"audit_record", "session", "notification", "throttle", "refresh_token",
                "api_key"}
# Signing in and out change no tenant's data, and signing out would end the drawn session.
SESSION = {"login", "logout", "refreshToken"}
_OWNERS = {  # a column naming the owner, and the rows of 集安市 it must name
    "jurisdiction_id": "SELECT id FROM jurisdiction WHERE path = $1 OR path LIKE $1 || '.%'",
    "home_id": "SELECT id FROM jurisdiction WHERE path = $1 OR path LIKE $1 || '.%'",
    "case_id": "SELECT c.id FROM supervision_case c JOIN jurisdiction j "
               "ON j.id = c.jurisdiction_id WHERE j.path = $1",
    "supervisor_id": "SELECT s.id FROM supervisor s JOIN jurisdiction j "
                     "ON j.id = s.jurisdiction_id WHERE j.path = $1",
    "account_id": "SELECT a.id FROM account a JOIN jurisdiction j ON j.id = a.home_id "
                  "WHERE j.path = $1",
}


async def _owned_tables() -> list[tuple[str, str, bool]]:
    """(table, owner column, whether it has an id) of every table that belongs to a tenant,
    by its first owner column in _OWNERS' order; grants by their domain too."""
    _, rows = await orm.client().execute_query(
        "SELECT table_name, array_agg(column_name::text) AS columns FROM "
        "information_schema.columns WHERE table_schema = 'public' GROUP BY table_name")
    owned = []
    for row in rows:
        if row["table_name"] in NOT_ITS_DATA:
            continue
        column = next((c for c in _OWNERS if c in row["columns"]), None)
        if column is not None:
            owned.append((row["table_name"], column, "id" in row["columns"]))
    return sorted(owned)


async def fingerprint(tables: list[tuple[str, str, bool]]) -> dict[str, str]:
    """An md5 of each table's rows of 集安市, in the order of their text."""
    found = {}
    for table, column, _ in tables:
        _, rows = await orm.client().execute_query(
            f'SELECT md5(coalesce(string_agg(t::text, \'|\' ORDER BY t::text), \'\')) AS h '
            f'FROM "{table}" t WHERE t."{column}" IN ({_OWNERS[column]})', [CANARY_HOME])
        found[table] = rows[0]["h"]
    _, rows = await orm.client().execute_query(
        """SELECT md5(coalesce(string_agg(g::text, '|' ORDER BY g::text), '')) AS h """
        """FROM "grant" g WHERE g.domain LIKE $1 || '%'""", [CANARY_HOME])
    found["grant"] = rows[0]["h"]
    return found


# Well-formed strings, so that a drawn mutation gets past its input checks to the decision
# that matters here: whose data it may change.
_WELL_FORMED: dict[str, list[str]] = {
    "username": ["iso.writer.1", "admin.ja", "sv.ja.001", "ag.ja.scjg"],
    "password": ["long-enough-pass"],
    "displayName": ["性质测试"], "name": ["性质测试", "张三"], "title": ["性质测试标题"],
    "description": ["性质测试的描述内容"], "note": ["性质测试"], "reason": ["性质测试的理由"],
    "place": ["集安市"], "reply": ["已处理完毕"], "report": ["性质测试报告"], "text": ["性质测试"],
    "unit": ["某单位"], "industry": ["制造业"], "address": ["集安市某路1号"], "contact": ["张三"],
    "phone": ["13900001111"], "idNumber": ["220582199001011238"],
    "creditCode": ["91220582MA0000000X"], "code": ["JA01", "jaxx"], "period": ["2026H1"],
    "role": ["office_admin", "office_staff", "supervisor", "agency_staff"],
}


def _mutation(name: str, operation: GraphQLField) -> tuple[str, list[tuple[str, Any]]]:
    args = list(operation.args.items())
    declared = ", ".join(f"$a{i}: {a.type}" for i, (_, a) in enumerate(args))
    passed = ", ".join(f"{n}: $a{i}" for i, (n, _) in enumerate(args))
    selection = _selection(operation.type, 1)
    document = (f"mutation Op{'(' + declared + ')' if args else ''} "
                f"{{ {name}{'(' + passed + ')' if args else ''} {selection} }}")
    assert len(re.findall(r"\w+|[{}():$,]", document)) < 1500
    return document, [(n, a.type) for n, a in args]


def _mutations(world: World) -> st.SearchStrategy[tuple[str, dict[str, Any]]]:
    mutation_type = graphql_schema_of(build_schema(production=False)).mutation_type
    assert mutation_type is not None
    choices = []
    for name, operation in sorted(mutation_type.fields.items()):
        if name in SESSION:
            continue
        document, args = _mutation(name, operation)
        variables = st.fixed_dictionaries(
            {f"a{i}": _value(n, t, world, _WELL_FORMED) for i, (n, t) in enumerate(args)})
        choices.append(st.tuples(st.just(document), variables))
    return st.one_of(choices)


@pytest.fixture
async def writers(full_demo: None) -> tuple[World, list[tuple[str, str, bool]]]:
    """The demo, and what mutations draw from: 集安市's own ids and paths half the time."""
    tables = await _owned_tables()
    ids: set[int] = set()
    for table, column, has_id in tables:
        if not has_id:
            continue
        _, rows = await orm.client().execute_query(
            f'SELECT t.id FROM "{table}" t WHERE t."{column}" IN ({_OWNERS[column]}) '
            "LIMIT 200", [CANARY_HOME])
        ids.update(r["id"] for r in rows if isinstance(r["id"], int))
    ja_paths = [j.path for j in await Jurisdiction.filter(path__startswith=CANARY_HOME)]
    paths = [j.path for j in await Jurisdiction.all().order_by("path")]
    others = await Account.filter(kind__in=[AccountKind.SUPERVISOR, AccountKind.AGENCY]
                                  ).exclude(home__path__startswith=CANARY_HOME)
    world = World(paths=[*ja_paths * (len(paths) // len(ja_paths)), *paths], canary_ids=sorted(ids),
                  ids=list(range(1, 60)), canary_cursors=[], cursors=["nonsense"],
                  existing=[Caller(a.username) for a in others])
    world.operations = _mutations(world)
    assert ids and len(tables) > 10 and MOMENTS and TEXTS
    return world, tables


@pytest.mark.long
@settings(max_examples=ACCOUNTS, deadline=None, database=None, derandomize=True,
          phases=[Phase.generate], suppress_health_check=list(HealthCheck))
@given(data=st.data())
async def test_no_drawn_account_changes_another_tenant(
        api: Api, writers: tuple[World, list[tuple[str, str, bool]]], data: st.DataObject) -> None:
    """One example = one account of another tenant and its mutations."""
    world, tables = writers
    if data.draw(st.integers(0, 2), label="existing account?") == 2:
        caller = data.draw(st.sampled_from(world.existing), label="existing account")
    else:
        home, roles, city = data.draw(_staff(world), label="staff account")
        if home.startswith(CANARY_HOME):
            return
        caller = await _make_staff(home, roles, city)
    token = await _token(world, caller.username)
    before = await fingerprint(tables)
    done = []
    for _ in range(MUTATIONS_PER_ACCOUNT):
        document, variables = data.draw(world.operations, label="mutation")
        result = await api.gql(document, variables, token=token)
        assert "INTERNAL_SERVER_ERROR" not in result.codes, (document, variables, result.errors)
        done.append((document.split("{", 1)[1].split("(", 1)[0].strip(), result.codes))
    changed = {t for t, h in (await fingerprint(tables)).items() if before[t] != h}
    if changed:  # printed first: hypothesis's replay meets a changed database, and may
        # report the failure as flaky data generation instead
        print("集安市 changed:", caller, changed, done)
    assert not changed, (caller, changed, done)


async def test_the_fingerprint_sees_a_change_of_the_tenant(
        writers: tuple[World, list[tuple[str, str, bool]]]) -> None:
    """The oracle itself: an account made at 集安市 and a case of it changed are seen; a
    change elsewhere is not."""
    _, tables = writers
    before = await fingerprint(tables)
    home = await Jurisdiction.get(path="jl.th.dc")
    await Account.create(username="elsewhere.1", kind=AccountKind.STAFF, home=home,
                         display_name="别处")
    assert await fingerprint(tables) == before
    await Account.create(username="inside.1", kind=AccountKind.STAFF,
                         home=await Jurisdiction.get(path=CANARY_HOME), display_name="本地")
    after = await fingerprint(tables)
    assert {t for t in after if after[t] != before[t]} == {"account"}
    await orm.client().execute_query(
        "UPDATE supervision_case SET title = title || '·' WHERE id = (SELECT c.id FROM "
        "supervision_case c JOIN jurisdiction j ON j.id = c.jurisdiction_id "
        "WHERE j.path = $1 LIMIT 1)", [CANARY_HOME])
    assert (await fingerprint(tables))["supervision_case"] != after["supervision_case"]
