"""Tenant isolation as a property. Hypothesis draws accounts over the tenant tree (staff of
the other counties and districts with random roles on their own path or subtree, their
supervisors, every agency's staff) and, for each, operations drawn from the schema itself:
every query field with arguments drawn from its argument types, so an operation added
tomorrow is covered without touching this test.

The oracle is a canary in 集安市 (jl.th.ja): one of its cases gets a unique title, its reporter
a unique name, phone and ID number. None of the drawn accounts may see the reporter (R4.4: not
another tenant, not an agency) or the full ID number (masked for everyone), and the title
only through oversight of the whole city (R7.2) or as the agency the case went to. What an
anonymous caller receives for the same request is public and never counts as a leak."""

from __future__ import annotations

import json
import os
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLObjectType,
    get_named_type,
    get_nullable_type,
    is_leaf_type,
    is_non_null_type,
)
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from core import clock, crypto
from core.accounts.models import Account, Session
from core.agencies.models import AgencyStaff
from core.auth import issue_access_token
from core.cases.models import Case
from core.principal import AccountKind
from core.private import graphql_schema_of
from core.roster.models import Supervisor
from policies.enforcer import store
from policies.models import Grant
from schema.relay import encode_cursor
from tenants.models import Jurisdiction
from tests.support import Api
from web.graphql import build_schema

ACCOUNTS = int(os.environ.get("ISOLATION_ACCOUNTS", "200"))
OPERATIONS_PER_ACCOUNT = 50
CANARY_TITLE = "金丝雀案件标题"
CANARY_NAME = "金丝雀报告人"
CANARY_PHONE = "13900731111"
CANARY_ID_NUMBER = "220582199001011238"
CANARY_HOME = "jl.th.ja"
STAFF_ROLES = ["office_admin", "office_staff", "overseer", "oversight_reader"]
# Federation plumbing: the SDL is public, entities are resolved by the gateway's own calls.
NOT_OPERATIONS = {"_service", "_entities"}
PATH_ARGUMENTS = {"path", "jurisdiction", "under", "homePath", "domain", "parent", "home"}
TEXTS = ["", "王", "监督", CANARY_NAME, CANARY_PHONE, CANARY_TITLE, "2026H1", "x" * 3]
MOMENTS = ["2020-01-01T00:00:00Z", "2026-06-30T16:00:00Z", "2030-01-01T00:00:00Z"]


@dataclass(frozen=True)
class Caller:
    """A drawn account: who it is and what the oracle lets it see."""

    username: str
    sees_city_cases: bool = False       # oversight of jl.th.** shows every case's title
    answers_canary_case: bool = False   # staff of the agency the canary case went to


@dataclass
class World:
    paths: list[str]
    canary_ids: list[int]
    ids: list[int]
    canary_cursors: list[str]
    cursors: list[str]
    existing: list[Caller]
    operations: st.SearchStrategy[tuple[str, dict[str, Any]]] = field(
        default_factory=st.nothing)
    tokens: dict[str, str] = field(default_factory=dict)
    public: dict[str, str] = field(default_factory=dict)


def _selection(type_: Any, depth: int) -> str:
    named = get_named_type(type_)
    if is_leaf_type(named):
        return ""
    if depth == 0 or not isinstance(named, GraphQLObjectType):
        return "{ __typename }"
    parts = ["__typename"]
    # pagination wrappers are not a level of data: a list's rows get the same depth as a row
    below = depth if named.name.endswith(("Connection", "Edge")) else depth - 1
    for name, child in named.fields.items():
        if any(is_non_null_type(a.type) for a in child.args.values()):
            continue
        inner = _selection(child.type, below)
        parts.append(f"{name} {inner}".strip())
    return "{ " + " ".join(parts) + " }"


def _document(name: str, operation: GraphQLField) -> tuple[str, list[tuple[str, Any]]]:
    """The query of one field with every argument as a variable, as deep as the limits let."""
    args = list(operation.args.items())
    declared = ", ".join(f"$a{i}: {a.type}" for i, (_, a) in enumerate(args))
    passed = ", ".join(f"{n}: $a{i}" for i, (n, _) in enumerate(args))
    for depth in (3, 2, 1):
        selection = _selection(operation.type, depth)
        document = (f"query Op{'(' + declared + ')' if args else ''} "
                    f"{{ {name}{'(' + passed + ')' if args else ''} {selection} }}")
        if len(re.findall(r"\w+|[{}():$,]", document)) < 1500:
            break
    return document, [(n, a.type) for n, a in args]


def _value(name: str, type_: Any, world: World,
           strings: dict[str, list[str]] | None = None) -> st.SearchStrategy[Any]:
    """A value of `type_` for the argument or field `name`; a String named in `strings`
    (not inside a list) drawn from its well-formed values there."""
    nullable = not is_non_null_type(type_)
    inner = get_nullable_type(type_)
    strategy: st.SearchStrategy[Any]
    if isinstance(inner, GraphQLList):
        strategy = st.lists(_value(name, inner.of_type, world), max_size=2)
    elif isinstance(inner, GraphQLEnumType):
        strategy = st.sampled_from(sorted(inner.values))
    elif isinstance(inner, GraphQLInputObjectType):
        strategy = st.fixed_dictionaries(
            {n: _value(n, f.type, world, strings) for n, f in inner.fields.items()
             if is_non_null_type(f.type)},
            optional={n: _value(n, f.type, world, strings) for n, f in inner.fields.items()
                      if not is_non_null_type(f.type)})
    elif strings and inner.name == "String" and name in strings:
        strategy = st.sampled_from(strings[name])
    elif inner.name == "Int":
        # pages stay small: the property is about which rows come back, not how many
        strategy = st.integers(1, 20) if name in ("first", "last") else st.integers(-1, 30)
    elif inner.name == "Float":
        strategy = st.floats(40, 45)
    elif inner.name == "Boolean":
        strategy = st.booleans()
    elif inner.name == "ID":  # half the time the canary's own ids
        strategy = (st.sampled_from(world.canary_ids) | st.sampled_from(world.ids)).map(str)
    elif inner.name == "DateTime":
        strategy = st.sampled_from(MOMENTS)
    elif inner.name == "Date":
        strategy = st.sampled_from([m[:10] for m in MOMENTS])
    elif name in ("after", "before"):  # pages that start just before a canary, or anywhere
        strategy = st.sampled_from(world.canary_cursors) | st.sampled_from(world.cursors)
    elif name in PATH_ARGUMENTS:
        strategy = st.sampled_from(world.paths)
    else:
        strategy = st.sampled_from(TEXTS + world.paths)
    return st.none() | strategy if nullable else strategy


def _operations(world: World) -> st.SearchStrategy[tuple[str, dict[str, Any]]]:
    choices = []
    query_type = graphql_schema_of(build_schema(production=False)).query_type
    assert query_type is not None
    for name, operation in sorted(query_type.fields.items()):
        if name in NOT_OPERATIONS:
            continue
        document, args = _document(name, operation)
        variables = st.fixed_dictionaries(
            {f"a{i}": _value(n, t, world) for i, (n, t) in enumerate(args)})
        choices.append(st.tuples(st.just(document), variables))
    return st.one_of(choices)


def _staff(world: World) -> st.SearchStrategy[tuple[str, list[tuple[str, str]], bool]]:
    homes = [p for p in world.paths if p.startswith("jl.th.") and p != CANARY_HOME]
    return st.sampled_from(homes).flatmap(lambda home: st.tuples(
        st.just(home),
        st.lists(st.tuples(st.sampled_from(STAFF_ROLES),
                           st.sampled_from([home, f"{home}.**"])), max_size=3),
        st.booleans()))


async def _make_staff(home: str, roles: list[tuple[str, str]], city_oversight: bool) -> Caller:
    place = await Jurisdiction.get(path=home)
    account = await Account.create(username=f"iso.{uuid.uuid4().hex[:12]}", kind=AccountKind.STAFF,
                                   home=place, display_name="性质测试")
    grants = set(roles) | ({("oversight_reader", "jl.th.**")} if city_oversight else set())
    await Grant.bulk_create([Grant(account=account, role=r, domain=d) for r, d in grants])
    await store.reload()
    return Caller(account.username, sees_city_cases=city_oversight)


async def _token(world: World, username: str) -> str:
    if username not in world.tokens:
        account = await Account.get(username=username)
        session = await Session.create(id=uuid.uuid4(), account=account, created_at=clock.now())
        world.tokens[username] = issue_access_token(account.id, session.id)[0]
    return world.tokens[username]


@pytest.fixture
async def world(full_demo: None) -> World:
    """The demo with the canary planted; what operations draw their arguments from."""
    for case in await Case.filter(jurisdiction__path=CANARY_HOME,
                                  reporter__jurisdiction__path=CANARY_HOME
                                  ).order_by("id").select_related("reporter"):
        # a reporter who reported elsewhere too is rightly seen by that office: not a canary
        if not await Case.filter(reporter_id=case.reporter.id).exclude(
                jurisdiction__path=CANARY_HOME).exists():
            break
    else:
        raise AssertionError("no reporter of 集安市 reports there only")
    await Case.filter(id=case.id).update(title=CANARY_TITLE)
    reporter: Supervisor = case.reporter
    await Supervisor.filter(id=reporter.id).update(
        name=CANARY_NAME, phone=CANARY_PHONE,
        id_number_encrypted=crypto.encrypt(CANARY_ID_NUMBER),
        id_number_digest=crypto.digest(CANARY_ID_NUMBER),
        id_number_masked=CANARY_ID_NUMBER[:6] + "*" * 8 + CANARY_ID_NUMBER[-4:])
    await Account.filter(id=reporter.account_id).update(
        display_name=CANARY_NAME)
    answering = {s.account_id for s in
                 await AgencyStaff.filter(agency_id=case.agency_id)}
    others = await Account.filter(kind__in=[AccountKind.SUPERVISOR, AccountKind.AGENCY]
                                  ).exclude(home__path=CANARY_HOME, kind=AccountKind.SUPERVISOR)
    highest = max(await Case.all().count(), await Supervisor.all().count(),
                  await Account.all().count(), 50)
    paths = [j.path for j in await Jurisdiction.all().order_by("path")]
    world = World(paths=[*paths, "jl.nowhere", ""],
                 canary_ids=[case.id, reporter.id], ids=list(range(1, highest + 1)),
                 canary_cursors=[encode_cursor(case.id - 1), encode_cursor(reporter.id - 1)],
                 cursors=[*(encode_cursor(n) for n in range(0, highest, 10)), "nonsense"],
                 existing=[Caller(a.username, answers_canary_case=a.id in answering)
                           for a in others])
    world.operations = _operations(world)
    return world


def _leaks(caller: Caller, text: str) -> list[str]:
    leaks = [s for s in (CANARY_NAME, CANARY_PHONE, CANARY_ID_NUMBER) if s in text]
    if CANARY_TITLE in text and not (caller.sees_city_cases or caller.answers_canary_case):
        leaks.append(CANARY_TITLE)
    return leaks


@pytest.mark.long
@settings(max_examples=ACCOUNTS, deadline=None, database=None, derandomize=True,
          phases=[Phase.generate], suppress_health_check=list(HealthCheck))
@given(data=st.data())
async def test_no_drawn_account_sees_what_is_outside_its_scope(api: Api, world: World,
                                                               listening: None,
                                                               data: st.DataObject) -> None:
    """One example = one account and its operations; hypothesis runs ACCOUNTS examples. The
    process listens, as a served one does: principals and jurisdictions come from its
    mirrors, as they do in production."""
    if data.draw(st.integers(0, 3), label="existing account?") == 3:
        caller = data.draw(st.sampled_from(world.existing), label="existing account")
    else:
        home, roles, city = data.draw(_staff(world), label="staff account")
        caller = await _make_staff(home, roles, city)
    token = await _token(world, caller.username)
    for _ in range(OPERATIONS_PER_ACCOUNT):
        document, variables = data.draw(world.operations, label="operation")
        result = await api.gql(document, variables, token=token)
        assert "INTERNAL_SERVER_ERROR" not in result.codes, (document, variables, result.errors)
        leaks = _leaks(caller, json.dumps(result.data, ensure_ascii=False))
        if leaks:
            key = document + json.dumps(variables, sort_keys=True)
            if key not in world.public:
                anonymous = await api.gql(document, variables)
                world.public[key] = json.dumps(anonymous.data, ensure_ascii=False)
            leaks = [s for s in leaks if s not in world.public[key]]
        assert not leaks, (caller, document, variables, leaks)
