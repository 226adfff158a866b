"""Queries answered whole by the database: one statement builds the data's JSON.

Measured at size M, one worker, served (the county list, Q1 of bench/): through the compiled
execution, 21–27 % of the bare asyncpg ceiling's requests a second; with every step of GraphQL
execution taken away but the rows still read into models and objects, 38–43 %; with the
answer built by PostgreSQL in one statement, as PostGraphile builds it, 91–98 %. The time of
a list goes into the way from rows to models to objects to the answer, in Python; only a
statement that returns the answer itself takes it away.

A query is answered so when the database can give every field it asks for exactly as the
resolvers give it:

- each root field's resolver is marked `@listed_by(window)` or `@found_by(finder)`: the
  part of the resolver that authorizes and checks the arguments and says where its rows lie
  (a core.pagination.Window, or the query of one row), nothing read yet. A connection may
  ask for `edges { cursor node }`, `pageInfo { hasNextPage endCursor }` and `__typename`;
- the objects under it are types declared by `table(...)`: fields that are columns shown as
  they are stored (IDs, strings, integers, booleans, dates, times, enums), fields derived by
  SQL from the row's columns and the request's time, relations by a foreign key to another
  declared type, and guarded relations, which the database reads and Python shows only where
  their `Guard` decides (and audits) that the caller may see them.

Anything else (another field, a field's own arguments below the root, a directive, a
mutation, a resolver with permission extensions) and the query goes through the compiled
execution unchanged. So does a request whose window raises (authentication, authorization, a
bad argument) or whose detail has no row: the executor runs it again and answers with the
error as it always does. tests/schema/test_projection.py compares both ways' answers, every
declared field, for each kind of caller, and the audit records of guarded reads.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import orjson
from graphql import (
    GraphQLEnumType,
    Node,
    VariableNode,
    located_error,
)
from graphql.execution.values import VariableValues, get_argument_values
from strawberry.schema.schema import Schema
from strawberry.types.field import StrawberryField
from tortoise.fields import (
    BooleanField,
    CharField,
    DateField,
    DatetimeField,
    FloatField,
    IntField,
    SmallIntField,
    TextField,
)
from tortoise.fields.data import CharEnumFieldInstance, IntEnumFieldInstance
from tortoise.models import Model
from tortoise.queryset import QuerySet

from core import clock, orm
from core.pagination import Window
from core.statements import Bound, parameters, shifted
from schema.arguments import Unconverted, arguments
from schema.execution import DEFINITION_BACKREF, FieldPlan, Items, Selection
from schema.relay import cursor_sql

F = TypeVar("F", bound=Callable[..., Any])
Lister = Callable[..., Awaitable[Window[Any]]]
Finder = Callable[..., Awaitable[QuerySet[Any] | Bound]]

# A time as strawberry's DateTime shows it, `datetime.isoformat()` of the value Tortoise reads
# (in UTC, db.py): seconds, the microseconds only where there are any, then the zone.
_ISO_DATETIME = ("""to_char({} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS') || CASE WHEN """
                 """date_trunc('second', {}) = {} THEN '' ELSE to_char({}, '.US') END || """
                 """'+00:00'""")
# A Float: PostgreSQL's text of a double reads back as the same double, but a whole number is
# written without a fraction, which JSON readers take for an integer: `.0` is added to it.
_FLOAT = r"""regexp_replace({}::text, '^(-?[0-9]+)$', '\1.0')::json"""
# How each kind of leaf (by its GraphQL name) is shown from a column of each type: PostgreSQL's
# JSON of the value is then what graphql-core's serialization gives for it (a date's JSON is
# ISO 8601, as `date.isoformat()`). Enums: _enum_shown.
_SHOWN: dict[str, dict[type, str]] = {
    "ID": {IntField: "{}::text", CharField: "{}"},
    "String": {CharField: "{}", TextField: "{}"},
    "Int": {IntField: "{}", SmallIntField: "{}"},
    "Boolean": {BooleanField: "{}"},
    "Date": {DateField: "{}"},
    "DateTime": {DatetimeField: _ISO_DATETIME},
    "Float": {FloatField: _FLOAT},
}
_MAX_KEYS = 50  # json_build_object takes at most 100 arguments
STATEMENTS_KEPT = 64  # by each query: its windows' shapes and page sizes


_ITEMS = None  # in a path: each item of a list
Path = tuple[str | None, ...]


class Unprojectable(Exception):
    """The query asks for something the database does not answer here."""


Decide = Callable[[Any, list[tuple[Any, ...]]], Awaitable[list[bool]]]


@dataclass(frozen=True)
class Guard:
    """A relation shown only where `decide(context, rows)` says so, each row given as the
    values of `columns`: the database reads it, Python decides (and audits) whether it is
    shown, as its resolver would."""

    columns: tuple[str, ...]
    decide: Decide


@dataclass(frozen=True)
class Table:
    """A GraphQL object type whose fields are columns of one model's table."""

    model: type[Model]
    columns: dict[str, tuple[str, Any]]  # attribute: (column, Tortoise field)
    derived: dict[str, str]  # attribute: its SQL over `{column}`s and `{now}`
    relations: dict[str, tuple[str, type[Model], bool]]  # field: (column, model, nullable)
    guards: dict[str, Guard]  # relations shown where their guard says so, by columns

    @property
    def name(self) -> str:
        return str(self.model._meta.db_table)


_declared: dict[str, tuple[type[Model], tuple[str, ...], tuple[str, ...], dict[str, Guard],
                           dict[str, str]]] = {}
_NAMED = re.compile(r"\{(\w+)\}")
_NOW = "$1"  # the request's time (core.clock), the statement's first value where it is used


def table(kind: type, model: type[Model], *, columns: Iterable[str],
          relations: Iterable[str] = (), guarded: dict[str, Guard] | None = None,
          derived: dict[str, str] | None = None) -> None:
    """Declares that `kind`'s fields `columns` show the model's columns of those names as
    they are stored, that its fields `relations` are the objects of those foreign keys, its
    fields `guarded` too, where their guards let them be seen, and that each of its fields
    `derived` is the value of its SQL, in which `{column}` is a column of the row and `{now}`
    the request's time, as its resolver computes it (never null)."""
    _declared[kind.__strawberry_definition__.name] = (  # type: ignore[attr-defined]
        model, tuple(columns), tuple(relations), dict(guarded or {}), dict(derived or {}))


@functools.cache
def _table(name: str) -> Table | None:
    """The declared type's table, read from its model once the models are initialised."""
    if name not in _declared:
        return None
    model, columns, relations, guarded, derived = _declared[name]
    meta = model._meta
    found = {attribute: (meta.fields_db_projection[attribute], meta.fields_map[attribute])
             for attribute in columns}
    linked: dict[str, tuple[str, type[Model], bool]] = {}
    for relation_name in (*relations, *guarded):
        if relation_name not in meta.fk_fields:
            raise TypeError(f"{model.__name__}.{relation_name} is not a foreign key")
        relation: Any = meta.fields_map[relation_name]
        linked[relation_name] = (meta.fields_db_projection[relation.source_field],
                                 relation.related_model, relation.null)
    guards = {relation_name: Guard(tuple(meta.fields_db_projection[c] for c in guard.columns),
                                   guard.decide) for relation_name, guard in guarded.items()}
    return Table(model, found, derived, linked, guards)


@dataclass(frozen=True)
class _Source:
    """Where a root field's rows come from: a connection's window, or one row's query."""

    rows: Lister | Finder
    many: bool


def listed_by(lister: Lister) -> Callable[[F], F]:
    """Marks a connection's resolver: `lister(context, **arguments)` is where its page lies."""
    return _marked(_Source(lister, many=True))


def found_by(finder: Finder) -> Callable[[F], F]:
    """Marks a detail's resolver: `finder(context, **arguments)` is the query of the one row
    it shows, nothing read yet (no row: the executor answers, with the resolver's error)."""
    return _marked(_Source(finder, many=False))


def _marked(source: _Source) -> Callable[[F], F]:
    def mark(resolver: F) -> F:
        resolver._projected_by = source  # type: ignore[attr-defined]
        return resolver
    return mark


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _strawberry_field(plan: FieldPlan) -> StrawberryField | None:
    field = plan.definition.extensions.get(DEFINITION_BACKREF) if plan.definition else None
    return field if isinstance(field, StrawberryField) else None


class _Writer:
    """Writes the SQL of one operation's selections; aliases numbered within it."""

    def __init__(self) -> None:
        self.aliases = 0
        self.joins: list[str] = []  # the related rows joined to the rows read (alias t)
        self.read: set[str] = set()  # the columns read of the window's rows (alias t)
        self.guarded: list[tuple[Path, Guard]] = []  # where guarded relations are, and how
        self.now = False  # whether the request's time is a value of the statement (_NOW)

    def alias(self) -> str:
        self.aliases += 1
        return f"p{self.aliases}"

    def column(self, alias: str, column: str) -> str:
        if alias == "t":
            self.read.add(column)
        return f'{alias}."{column}"'

    def named(self, alias: str, name: str) -> str:
        """A derived field's `{name}`: the request's time, or a column of the row."""
        if name == "now":
            self.now = True
            return _NOW
        return self.column(alias, name)

    def node(self, selection: Selection, alias: str, path: Path) -> str:
        """The JSON of a declared type's row `alias`, found at `path` in the data."""
        found = _table(selection.type.name)
        if found is None:
            raise Unprojectable
        return _built(selection, lambda plan: self.node_field(plan, found, alias, path))

    def node_field(self, plan: FieldPlan, found: Table, alias: str, path: Path) -> str | None:
        if plan.args:
            return None
        if plan.leaf is not None and plan.attribute in found.columns:
            column, field = found.columns[plan.attribute]
            shown = _enum_shown(plan.leaf, field) if isinstance(plan.leaf, GraphQLEnumType) else (
                _SHOWN.get(plan.leaf.name, {}).get(type(field)))
            if shown is None or (plan.non_null and field.null):
                return None
            return shown.replace("{}", self.column(alias, column))
        if plan.leaf is not None and plan.attribute in found.derived:
            return _NAMED.sub(lambda name: self.named(alias, name[1]),
                              found.derived[plan.attribute])
        field_of = _strawberry_field(plan)
        name = field_of.python_name if field_of else None
        if name not in found.relations or not isinstance(plan.completion, Selection):
            return None
        column, model, nullable = found.relations[name]
        related = _table(plan.completion.type.name)
        if related is None or related.model is not model or (nullable and plan.non_null):
            return None
        # joined, not a subquery per row: a small table (the jurisdictions) would be scanned
        # whole for each row
        inner, key, at = self.alias(), related.model._meta.db_pk_column, (*path, plan.key)
        self.joins.append(f'LEFT JOIN "{related.name}" {inner} ON {inner}."{key}" = '
                          f'{self.column(alias, column)}')
        value = (f'CASE WHEN {inner}."{key}" IS NULL THEN NULL ELSE '
                 f'{self.node(plan.completion, inner, at)} END')
        guard = found.guards.get(name)
        if guard is None:
            return value
        if plan.non_null:
            return None
        self.guarded.append((at, guard))
        keys = ", ".join(self.column(alias, c) for c in guard.columns)
        return f"json_build_object('keys', json_build_array({keys}), 'value', {value})"

    def connection(self, selection: Selection, path: Path) -> Callable[[str, int, int], str]:
        """The connection's JSON from its window's rows `w`: a function of the window's SQL,
        of how many values come before the window's, and of the page's size (written in, so
        that PostgreSQL plans the statement once for all requests of that size)."""
        self.read, self.joins = set(), []

        def field(plan: FieldPlan) -> str | None:
            completion = plan.completion
            if plan.name == "edges" and isinstance(completion, Items) and isinstance(
                    completion.item, Selection):
                at = (*path, plan.key, _ITEMS)
                edge = _built(completion.item, lambda inner: self.edge_field(inner, at))
                read = ", ".join(f'"{c}"' for c in sorted(self.read | {"id"}))
                return (f"coalesce((SELECT json_agg({edge} ORDER BY t.id) FROM (SELECT {read} "
                        f"FROM w ORDER BY id LIMIT {{first}}) t {' '.join(self.joins)}), "
                        "'[]'::json)")
            if plan.name == "pageInfo" and isinstance(completion, Selection):
                return _built(completion, _page_info_field)
            return None

        built = _built(selection, field)

        def sql(window: str, before: int, first: int) -> str:
            return (f"(WITH w AS ({shifted(window, before)}) SELECT "
                    f"{built.replace('{first}', str(int(first)))})")

        return sql

    def single(self, selection: Selection, path: Path) -> Callable[[str, int, int], str]:
        """A detail's JSON from its one row (null without it)."""
        self.joins = []
        built = self.node(selection, "t", path)
        joins = " ".join(self.joins)
        return lambda rows, before, _: (
            f"(SELECT {built} FROM ({shifted(rows, before)}) t {joins} LIMIT 1)")

    def edge_field(self, plan: FieldPlan, path: Path) -> str | None:
        if plan.name == "cursor":
            return cursor_sql("t.id")
        if plan.name == "node" and isinstance(plan.completion, Selection):
            return self.node(plan.completion, "t", (*path, plan.key))
        return None


async def _guarded(data: dict[str, Any], paths: list[Path], guard: Guard, context: Any
                   ) -> None:
    """Each relation of `guard` at `paths` replaced by its value where the guard shows it, by
    null elsewhere; the guard asked once, for every distinct row (as a resolver's loader)."""
    places = [place for path in paths for place in _places(data, path)]
    rows = list(dict.fromkeys(tuple(holder[key]["keys"]) for holder, key in places))
    shown = dict(zip(rows, await guard.decide(context, rows), strict=True))
    for holder, key in places:
        wrapped = holder[key]
        holder[key] = wrapped["value"] if shown[tuple(wrapped["keys"])] else None


def _places(value: Any, path: Path) -> Iterator[tuple[dict[str, Any], str]]:
    """Where `path` leads in the data: (object, key) of each value it names."""
    head, rest = path[0], path[1:]
    if value is None:
        return
    if head is _ITEMS:
        for item in value:
            yield from _places(item, rest)
    elif not rest:
        if value.get(head) is not None:
            yield value, head
    else:
        yield from _places(value.get(head), rest)


def _enum_shown(leaf: GraphQLEnumType, field: Any) -> str | None:
    """An enum column shown as its GraphQL name: each stored value mapped to what the enum
    type serializes its member to (what the executor answers)."""
    if not isinstance(field, CharEnumFieldInstance | IntEnumFieldInstance):
        return None
    stored = _quoted if isinstance(field, CharEnumFieldInstance) else str
    cases = " ".join(f"WHEN {stored(member.value)} THEN {_quoted(leaf.serialize(member))}"
                     for member in field.enum_type)
    return "CASE {} " + cases + " END"


def _page_info_field(plan: FieldPlan) -> str | None:
    if plan.name == "hasNextPage":
        return "((SELECT count(*) FROM w) > {first})"
    if plan.name == "endCursor":
        return (f"(SELECT {cursor_sql('e.id')} FROM (SELECT id FROM w ORDER BY id LIMIT "
                "{first}) e ORDER BY e.id DESC LIMIT 1)")
    return None


def _built(selection: Selection, value: Callable[[FieldPlan], str | None]) -> str:
    """The JSON object of a selection: each field's key and `value` (None: not answered
    here), `__typename` as it is."""
    parts: list[str] = []
    for plan in selection.fields:
        found = _quoted(selection.type.name) if plan.typename else value(plan)
        if found is None:
            raise Unprojectable
        parts += [_quoted(plan.key), found]
    if len(parts) > 2 * _MAX_KEYS:
        raise Unprojectable
    return f"json_build_object({', '.join(parts)})"


@dataclass(frozen=True)
class _Root:
    plan: FieldPlan
    source: _Source
    convert: Callable[[Any], Any] | None
    model: type[Model]
    sql: Callable[[str, int, int], str]
    # the arguments' values where the document writes them all out (no variables)
    written: dict[str, Any] | None

    def arguments(self, variables: VariableValues | None) -> dict[str, Any]:
        plan = self.plan
        raw = self.written if self.written is not None else get_argument_values(
            plan.definition, plan.details.node, variables,  # type: ignore[arg-type]
            plan.details.fragment_variable_values) if plan.args else {}
        return self.convert(raw) if self.convert else {}


class Projection:
    """One query operation as one statement, its windows' SQL bound per request."""

    def __init__(self, typename: str, roots: list[_Root | str],
                 guarded: list[tuple[Path, Guard]], now: bool) -> None:
        self.typename, self.roots, self.guarded, self.now = typename, roots, guarded, now
        self._statements: dict[tuple[tuple[str, int], ...], str] = {}

    async def answer(self, context: Any, variables: VariableValues | None
                     ) -> dict[str, Any] | None:
        """The operation's data, given the request's context and its coerced variables; None
        where the executor must answer (a window raised)."""
        windows: list[tuple[str, int]] = []
        values: list[Any] = [clock.now()] if self.now else []
        for root in self.roots:
            if isinstance(root, str):
                continue
            try:
                found = await root.source.rows(context, **root.arguments(variables))
            except Exception:  # the executor gives the same error its own way
                return None
            rows, first = (found.rows(), found.first) if isinstance(found, Window) else (
                found, 1)
            if rows.model is not root.model:
                raise TypeError(f"{root.plan.name}: rows of {rows.model.__name__}")
            sql, args = rows.statement()  # type: ignore[union-attr]
            windows.append((sql, first))
            values += args
        key = tuple(windows)
        statement = self._statements.get(key)
        if statement is None:
            statement = self._statement(windows)
            if len(self._statements) < STATEMENTS_KEPT:
                self._statements[key] = statement
        try:
            answered = await orm.client().fetch_value(statement, values)
        except Exception as raw:  # as the executor reports a failed root field
            failed = next(root for root in self.roots if isinstance(root, _Root)).plan
            raise located_error(raw, failed.nodes, [failed.key]) from None
        data: dict[str, Any] = orjson.loads(answered)
        for root in self.roots:  # no row where one must be: the executor says why
            if isinstance(root, _Root) and root.plan.non_null and data[root.plan.key] is None:
                return None
        try:
            for guard in dict.fromkeys(guard for _, guard in self.guarded):
                await _guarded(data, [p for p, g in self.guarded if g is guard], guard, context)
        except Exception:  # the executor gives the same failure its own way
            return None
        return data

    def _statement(self, windows: list[tuple[str, int]]) -> str:
        parts, before, next_window = [], int(self.now), iter(windows)
        for root in self.roots:
            if isinstance(root, str):
                parts += [_quoted(root), _quoted(self.typename)]
                continue
            window, first = next(next_window)
            parts += [_quoted(root.plan.key), root.sql(window, before, first)]
            before += parameters(window)
        return f"SELECT json_build_object({', '.join(parts)})::text"


def projection(selection: Selection, schema: Schema) -> Projection | None:
    """The query's projection; None when the database does not answer all of it here."""
    writer, roots = _Writer(), list[_Root | str]()
    try:
        for plan in selection.fields:
            if plan.typename:
                roots.append(plan.key)
                continue
            roots.append(_root(plan, schema, writer))
        if len(roots) > _MAX_KEYS or not roots:
            raise Unprojectable
    except Unprojectable:
        return None
    return Projection(selection.type.name, roots, writer.guarded, writer.now)


def _root(plan: FieldPlan, schema: Schema, writer: _Writer) -> _Root:
    field = _strawberry_field(plan)
    resolver = field.base_resolver if field else None
    source: _Source | None = getattr(resolver.wrapped_func, "_projected_by", None) if (
        resolver is not None) else None
    if field is None or source is None or not isinstance(plan.completion, Selection):
        raise Unprojectable
    # permissions and other extensions, and exception handlers, run only in the executor
    if field.extensions or schema.schema_converter._get_field_exception_handlers(field):
        raise Unprojectable
    try:
        convert = arguments(field, schema) if field.arguments else None
    except Unconverted:
        raise Unprojectable from None
    node = _node_of(plan.completion) if source.many else plan.completion
    found = _table(node.type.name)
    if found is None:
        raise Unprojectable
    written = None
    if plan.args and plan.definition is not None and not any(
            _has_variables(argument) for argument in plan.details.node.arguments or ()):
        try:
            written = get_argument_values(plan.definition, plan.details.node, None)
        except Exception:  # read, and refused, per request: the executor reports it
            written = None
    sql = (writer.connection if source.many else writer.single)(plan.completion, (plan.key,))
    return _Root(plan, source, convert, found.model, sql, written)


def _has_variables(node: Node) -> bool:
    """Whether `node` (an argument) is or holds a variable."""
    if isinstance(node, VariableNode):
        return True
    for key in node.keys:
        value = getattr(node, key, None)
        children = value if isinstance(value, tuple | list) else (value,)
        if any(isinstance(c, Node) and key != "loc" and _has_variables(c) for c in children):
            return True
    return False


def _node_of(connection: Selection) -> Selection:
    """The node selection of a connection's edges (the type the rows are read into)."""
    for plan in connection.fields:
        if plan.name == "edges" and isinstance(plan.completion, Items) and isinstance(
                plan.completion.item, Selection):
            for inner in plan.completion.item.fields:
                if inner.name == "node" and isinstance(inner.completion, Selection):
                    return inner.completion
    raise Unprojectable
