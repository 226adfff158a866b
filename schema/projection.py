"""The read engine: the hot lists and details answered whole by PostgreSQL, one statement
building the data's JSON, as PostGraphile answers.

Every query passes strawberry's own pipeline (parsing, the limits, the cost, validation and
every schema extension); where its whole operation is declared here, `ReadEngine`'s
`on_execute` hook sets the result and strawberry executes nothing (strawberry's documented
way for an extension to answer an operation); anything else is executed by strawberry. So a
query is answered one of two ways, and bench/README.md says what this one buys.

An operation is declared when each of its root fields is and everything below them is:

- a root field is declared, next to its resolver, by `lists(name, window)` (a connection)
  or `finds(name, rows)` (a detail). `window(context, **arguments)` is the very call the
  resolver makes first: it authorizes, checks the arguments and says where the page lies (a
  core.pagination.Window, nothing read); `rows(context, **arguments)` gives the query of the
  one row a detail shows. A connection may ask for `edges { cursor node }`, `pageInfo {
  hasNextPage endCursor }` and `__typename`;
- the objects under it are types declared by `table(...)`: fields that are columns shown as
  they are stored (IDs, strings, integers, booleans, dates, times, enums), fields derived by
  SQL from the row's columns and the request's time, relations by a foreign key to another
  declared type, and guarded relations, which the database reads and Python shows only where
  their `Guard` decides (and audits) that the caller may see them.

Anything else (another field, a field's own arguments below the root, a directive, a
fragment on another type, a root field with permission extensions) and strawberry executes
the operation. So it does where a window raises (authentication, authorization, a bad
argument) or a detail has no row: the resolver runs and answers with its error as always.
tests/schema/test_projection.py compares both ways' answers, every declared field, for each
kind of caller, and fails when a declared document is not answered here.
"""

from __future__ import annotations

import functools
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson
from graphql import (
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLEnumType,
    GraphQLError,
    GraphQLField,
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    NamedTypeNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    located_error,
    parse,
)
from graphql.execution.values import VariableValues, get_argument_values, get_variable_values
from graphql.utilities import get_operation_ast
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import Schema
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.arguments import convert_arguments
from strawberry.types.field import StrawberryField
from strawberry.types.graphql import OperationType as StrawberryOperation
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

from core import clock, orm
from core.kept import Recent
from core.pagination import Keyed, Window
from core.private import graphql_schema_of, meta
from core.statements import KeptStatements, parameters, shifted
from schema.relay import cursor_sql

Lister = Callable[..., Awaitable[Window[Any]]]
Finder = Callable[..., Awaitable[Keyed[Any]]]
PLANS_KEPT = 256  # operations, by their document's text and name
ARGUMENTS_KEPT = 256  # converted arguments of each operation, by their values
_statements = KeptStatements()
DEFINITION_BACKREF = GraphQLCoreConverter.DEFINITION_BACKREF

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


_ITEMS = None  # in a path: each item of a list
Path = tuple[str | None, ...]


class Unprojectable(Exception):
    """The query asks for something the database does not answer here."""


@dataclass(frozen=True)
class Selection:
    """The fields an operation asks of an object type, in the order of its answer."""

    type: GraphQLObjectType
    fields: list[Asked]


@dataclass(frozen=True)
class Asked:
    """One field asked: by its response key, its definition (None for `__typename`), the
    strawberry field behind it, the leaf type where it shows an attribute as it is, or the
    selection below it."""

    key: str
    name: str
    node: FieldNode
    definition: GraphQLField | None
    field: StrawberryField | None
    leaf: GraphQLLeafType | None
    selection: Selection | None
    many: bool
    non_null: bool
    args: bool

    @property
    def typename(self) -> bool:
        return self.definition is None

    @property
    def attribute(self) -> str | None:
        return self.field.python_name if self.leaf is not None and self.field else None


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
        return str(meta(self.model).db_table)


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
    described = meta(model)
    found = {attribute: (described.fields_db_projection[attribute], described.fields_map[attribute])
             for attribute in columns}
    linked: dict[str, tuple[str, type[Model], bool]] = {}
    for relation_name in (*relations, *guarded):
        if relation_name not in described.fk_fields:
            raise TypeError(f"{model.__name__}.{relation_name} is not a foreign key")
        relation: Any = described.fields_map[relation_name]
        linked[relation_name] = (described.fields_db_projection[relation.source_field],
                                 relation.related_model, relation.null)
    guards = {relation_name: Guard(tuple(described.fields_db_projection[c] for c in guard.columns),
                                   guard.decide) for relation_name, guard in guarded.items()}
    return Table(model, found, derived, linked, guards)


@dataclass(frozen=True)
class _Source:
    """Where a root field's rows come from: a connection's window, or one row's query."""

    rows: Lister | Finder
    many: bool


_sources: dict[str, _Source] = {}


def lists(field: str, window: Lister) -> None:
    """Declares the root query field `field`, a connection: its page lies where
    `window(context, **arguments)` says, the call its resolver makes first."""
    _sources[field] = _Source(window, many=True)


def finds(field: str, rows: Finder) -> None:
    """Declares the root query field `field`, a detail: `rows(context, **arguments)` is the
    query of the one row it shows, nothing read yet (no row: its resolver answers, with its
    error)."""
    _sources[field] = _Source(rows, many=False)


def declared() -> frozenset[str]:
    """The root fields this engine answers."""
    return frozenset(_sources)


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


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

    def node_field(self, plan: Asked, found: Table, alias: str, path: Path) -> str | None:
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
        name = plan.field.python_name if plan.field else None
        if name not in found.relations or plan.selection is None or plan.many:
            return None
        column, model, nullable = found.relations[name]
        related = _table(plan.selection.type.name)
        if related is None or related.model is not model or (nullable and plan.non_null):
            return None
        # joined, not a subquery per row: a small table (the jurisdictions) would be scanned
        # whole for each row
        inner, key, at = self.alias(), meta(related.model).db_pk_column, (*path, plan.key)
        self.joins.append(f'LEFT JOIN "{related.name}" {inner} ON {inner}."{key}" = '
                          f'{self.column(alias, column)}')
        value = (f'CASE WHEN {inner}."{key}" IS NULL THEN NULL ELSE '
                 f'{self.node(plan.selection, inner, at)} END')
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

        def field(plan: Asked) -> str | None:
            if plan.name == "edges" and plan.many and plan.selection is not None:
                at = (*path, plan.key, _ITEMS)
                edge = _built(plan.selection, lambda inner: self.edge_field(inner, at))
                read = ", ".join(f'"{c}"' for c in sorted(self.read | {"id"}))
                return (f"coalesce((SELECT json_agg({edge} ORDER BY t.id) FROM (SELECT {read} "
                        f"FROM w ORDER BY id LIMIT {{first}}) t {' '.join(self.joins)}), "
                        "'[]'::json)")
            if plan.name == "pageInfo" and plan.selection is not None and not plan.many:
                return _built(plan.selection, _page_info_field)
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

    def edge_field(self, plan: Asked, path: Path) -> str | None:
        if plan.name == "cursor":
            return cursor_sql("t.id")
        if plan.name == "node" and plan.selection is not None and not plan.many:
            return self.node(plan.selection, "t", (*path, plan.key))
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


def _page_info_field(plan: Asked) -> str | None:
    if plan.name == "hasNextPage":
        return "((SELECT count(*) FROM w) > {first})"
    if plan.name == "endCursor":
        return (f"(SELECT {cursor_sql('e.id')} FROM (SELECT id FROM w ORDER BY id LIMIT "
                "{first}) e ORDER BY e.id DESC LIMIT 1)")
    return None


def _built(selection: Selection, value: Callable[[Asked], str | None]) -> str:
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
    plan: Asked
    source: _Source
    model: type[Model]
    sql: Callable[[str, int, int], str]


class Projection:
    """One query operation as one statement, its windows' SQL bound per request."""

    def __init__(self, schema: Schema, typename: str, roots: list[_Root | str],
                 guarded: list[tuple[Path, Guard]], now: bool) -> None:
        self.schema, self.typename, self.roots = schema, typename, roots
        self.guarded, self.now = guarded, now
        # strawberry's conversion of the same values, kept: it resolves the arguments' types
        # at each call, a third of a county list's CPU. The converted values are shared
        # between requests: the windows read them, never change them.
        self._converted: Recent[tuple[int, bytes], dict[str, Any]] = Recent(
            "arguments", ARGUMENTS_KEPT)

    def arguments(self, root: _Root, variables: VariableValues) -> dict[str, Any]:
        """The root field's arguments as strawberry gives them to its resolver."""
        plan, field = root.plan, root.plan.field
        if not plan.args or field is None or plan.definition is None:
            return {}
        raw = get_argument_values(plan.definition, plan.node, variables)
        try:
            key = (id(root), orjson.dumps(raw, option=orjson.OPT_SORT_KEYS))
        except TypeError:  # a value JSON does not write (a time): converted each time
            return self._convert(field, raw)
        found = self._converted.get(key)
        if found is None:
            found = self._converted.put(key, self._convert(field, raw))
        return dict(found)

    def _convert(self, field: StrawberryField, raw: dict[str, Any]) -> dict[str, Any]:
        return convert_arguments(raw, field.arguments, self.schema.schema_converter.scalar_registry,
                                 self.schema.config)

    async def answer(self, context: Any, variables: VariableValues) -> dict[str, Any] | None:
        """The operation's data, given the request's context and its coerced variables; None
        where strawberry must execute it (a window raised, a detail has no row)."""
        windows: list[tuple[str, int]] = []
        values: list[Any] = [clock.now()] if self.now else []
        for root in self.roots:
            if isinstance(root, str):
                continue
            try:
                found = await root.source.rows(context, **self.arguments(root, variables))
            except Exception:  # the resolver gives the same error its own way
                return None
            rows, first = (found.keyed(), found.first) if isinstance(found, Window) else (
                found, 1)
            if rows.model is not root.model:
                raise TypeError(f"{root.plan.name}: rows of {rows.model.__name__}")
            sql, args = _statements.statement(rows)
            windows.append((sql, first))
            values += args
        try:
            answered = await orm.client().fetch_value(self._statement(windows), values)
        except Exception as raw:  # as the executor reports a failed root field
            failed = next(root for root in self.roots if isinstance(root, _Root)).plan
            raise located_error(raw, [failed.node], [failed.key]) from None
        data: dict[str, Any] = orjson.loads(answered)
        for root in self.roots:  # no row where one must be: the resolver says why
            if isinstance(root, _Root) and root.plan.non_null and data[root.plan.key] is None:
                return None
        try:
            for guard in dict.fromkeys(guard for _, guard in self.guarded):
                await _guarded(data, [p for p, g in self.guarded if g is guard], guard, context)
        except Exception:  # the resolver gives the same failure its own way
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


class _Planner:
    """The selections of one operation, read from its document (no directives)."""

    def __init__(self, schema: Schema, fragments: dict[str, FragmentDefinitionNode]) -> None:
        self.schema, self.fragments = schema, fragments

    def selection(self, parent: GraphQLObjectType, selections: SelectionSetNode) -> Selection:
        fields: list[Asked] = []
        keys: set[str] = set()
        for node in self._nodes(parent, selections):
            key = node.alias.value if node.alias else node.name.value
            if key in keys:  # merged by the executor; not here, but `__typename` twice
                if node.name.value == "__typename" and any(
                        f.key == key and f.typename for f in fields):
                    continue
                raise Unprojectable
            keys.add(key)
            fields.append(self.asked(parent, node, key))
        return Selection(parent, fields)

    def _nodes(self, parent: GraphQLObjectType, selections: SelectionSetNode
               ) -> Iterator[FieldNode]:
        for node in selections.selections:
            if node.directives:  # their effect may depend on the variables
                raise Unprojectable
            if isinstance(node, FieldNode):
                yield node
                continue
            condition: NamedTypeNode | None
            if isinstance(node, FragmentSpreadNode):
                fragment = self.fragments.get(node.name.value)
                if fragment is None or fragment.directives:
                    raise Unprojectable
                condition, inner = fragment.type_condition, fragment.selection_set
            else:
                assert isinstance(node, InlineFragmentNode)
                condition, inner = node.type_condition, node.selection_set
            if condition is not None and condition.name.value != parent.name:
                raise Unprojectable  # on an interface or another type
            yield from self._nodes(parent, inner)

    def asked(self, parent: GraphQLObjectType, node: FieldNode, key: str) -> Asked:
        name = node.name.value
        if name == "__typename":
            return Asked(key, name, node, None, None, None, None, False, True, False)
        definition = parent.fields.get(name)
        if definition is None or name.startswith("__"):
            raise Unprojectable
        output, non_null, many = definition.type, False, False
        if isinstance(output, GraphQLNonNull):
            output, non_null = output.of_type, True
        if isinstance(output, GraphQLList):
            output, many = output.of_type, True
            if isinstance(output, GraphQLNonNull):
                output = output.of_type
        field = definition.extensions.get(DEFINITION_BACKREF)
        field = field if isinstance(field, StrawberryField) else None
        # a field shown as its attribute: strawberry's default resolver, nothing around it
        plain = field is not None and field.base_resolver is None and not field.extensions
        leaf = output if isinstance(output, GraphQLLeafType) and plain and not many else None
        selection = None
        if isinstance(output, GraphQLObjectType):
            if node.selection_set is None:
                raise Unprojectable
            selection = self.selection(output, node.selection_set)
        elif not isinstance(output, GraphQLLeafType):
            raise Unprojectable  # interfaces and unions
        return Asked(key, name, node, definition, field, leaf, selection, many, non_null,
                     bool(definition.args or node.arguments))


def projection(schema: Schema, root: GraphQLObjectType, operation: OperationDefinitionNode,
               fragments: dict[str, FragmentDefinitionNode]) -> Projection | None:
    """The query's projection; None when the database does not answer all of it here."""
    writer, roots = _Writer(), list[_Root | str]()
    try:
        if operation.directives:
            raise Unprojectable
        selection = _Planner(schema, fragments).selection(root, operation.selection_set)
        for plan in selection.fields:
            if plan.typename:
                roots.append(plan.key)
                continue
            roots.append(_root(plan, writer))
        if len(roots) > _MAX_KEYS or not roots:
            raise Unprojectable
    except Unprojectable:
        return None
    return Projection(schema, root.name, roots, writer.guarded, writer.now)


def _root(plan: Asked, writer: _Writer) -> _Root:
    source = _sources.get(plan.name)
    # permissions and other extensions run only where strawberry executes
    if plan.field is None or source is None or plan.selection is None or plan.many or (
            plan.field.extensions):
        raise Unprojectable
    node = _node_of(plan.selection) if source.many else plan.selection
    found = _table(node.type.name)
    if found is None:
        raise Unprojectable
    sql = (writer.connection if source.many else writer.single)(plan.selection, (plan.key,))
    return _Root(plan, source, found.model, sql)


def _node_of(connection: Selection) -> Selection:
    """The node selection of a connection's edges (the type the rows are read into)."""
    for plan in connection.fields:
        if plan.name == "edges" and plan.many and plan.selection is not None:
            for inner in plan.selection.fields:
                if inner.name == "node" and inner.selection is not None:
                    return inner.selection
    raise Unprojectable


@functools.lru_cache(maxsize=PLANS_KEPT)
def _plan(schema: Schema, graphql_schema: GraphQLSchema, text: str, name: str | None
          ) -> tuple[OperationDefinitionNode, Projection] | None:
    """The projection of the operation `name` of the document `text`, once per text."""
    document = parse(text)  # parsed and validated already by strawberry; parsed again once
    operation = get_operation_ast(document, name)
    root = graphql_schema.query_type
    if operation is None or operation.operation is not OperationType.QUERY or root is None:
        return None
    fragments = {d.name.value: d for d in document.definitions
                 if isinstance(d, FragmentDefinitionNode)}
    found = projection(schema, root, operation, fragments)
    return None if found is None else (operation, found)


class ReadEngine(SchemaExtension):
    """Answers a declared query operation whole, before strawberry would execute it."""

    async def on_execute(self) -> AsyncIterator[None]:
        ctx = self.execution_context
        if ctx.result is None and ctx.query is not None and ctx.graphql_document is not None:
            result = await answer(ctx.schema, ctx.query, ctx.operation_name, ctx.context,
                                  ctx.variables)
            if result is not None:
                ctx.result = result
            door = getattr(ctx.schema, "answered", None)  # web/front_door.py
            if door is not None and ctx.operation_type is StrawberryOperation.QUERY:
                door.remember(ctx.query, ctx.operation_name, ctx.graphql_document)
        yield


async def answer(schema: Schema, text: str, name: str | None, context: Any,
                 variables: dict[str, Any] | None) -> ExecutionResult | None:
    """The result of the operation where it is declared here; None where strawberry must
    execute it."""
    graphql_schema = graphql_schema_of(schema)
    planned = _plan(schema, graphql_schema, text, name)
    if planned is None:
        return None
    operation, found = planned
    coerced = get_variable_values(graphql_schema, operation.variable_definitions or (),
                                  variables or {})
    if not isinstance(coerced, VariableValues):  # the executor reports them
        return None
    try:
        data = await found.answer(context, coerced)
    except GraphQLError as error:
        return ExecutionResult(None, [error])
    return None if data is None else ExecutionResult(data, None)


def operation_name(schema: Schema, text: str, name: str | None) -> str | None:
    """The name of the operation the engine answers for `text` (None: anonymous)."""
    planned = _plan(schema, graphql_schema_of(schema), text, name)
    return None if planned is None or planned[0].name is None else planned[0].name.value
