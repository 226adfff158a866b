"""Compiled execution of queries.

graphql-core executes a document by interpreting it anew for every row of every request: each
field of each object gets its definition looked up, a resolve-info object, an awaitable check
and a type dispatch. Profiled on the county list (20 supervisors with their jurisdiction's
name), that machinery cost more than the database. Here a query is compiled once, the first
time its (cached) document is executed, into a plan per selection: the response key, the
field's resolver, whether it is a plain attribute, and how its type completes, and each
selection is written as one Python function of its fields (`_written`): a row's scalar
attributes are read and completed in place, with no loop over the fields and no dispatch per
field. Executing calls those functions. The resolvers are strawberry's own (authorization,
loaders and masking stay where they are); one without field extensions is called directly, as
strawberry's per-call wrapper would call it, its arguments converted by schema/arguments.py.
The results, including errors, their paths and null propagation, are the ones graphql-core
gives (tests/schema/test_execution.py runs both on the same documents).

A mutation's root fields run one after another, each awaited before the next begins, as the
specification and graphql-core run them. Documents the plan does not cover run through
graphql-core unchanged: subscriptions, any directive (@skip, @include, @defer), interfaces and
unions, introspection.
"""

from __future__ import annotations

import asyncio
import keyword
import textwrap
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from graphql import (
    ExecutionResult,
    FieldNode,
    GraphQLBoolean,
    GraphQLError,
    GraphQLField,
    GraphQLID,
    GraphQLLeafType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    GraphQLString,
    OperationDefinitionNode,
    OperationType,
    located_error,
)
from graphql.execution.collect_fields import (
    FieldDetailsList,
    collect_fields,
    collect_subfields,
)
from graphql.execution.values import get_argument_values
from graphql.pyutils import Path, Undefined
from graphql.type import is_leaf_type, is_list_type, is_non_null_type, is_object_type
from strawberry.schema.schema import Schema, StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField

from schema.arguments import Unconverted, arguments
from schema.scalars import oversized_lists

if TYPE_CHECKING:
    from schema.projection import Projection

# How many documents a process keeps, in each of its caches: parsed, validated, planned and
# known valid (schema/schema.py, schema/known.py).
DOCUMENTS_KEPT = 256
DEFINITION_BACKREF = GraphQLCoreConverter.DEFINITION_BACKREF


class Unplannable(Exception):
    """The document uses something the plan does not cover: graphql-core executes it."""


class Leaf:
    __slots__ = ("type",)

    def __init__(self, leaf: GraphQLLeafType) -> None:
        self.type = leaf


class Items:
    __slots__ = ("item", "non_null")

    def __init__(self, item: Leaf | Items | Selection, non_null: bool) -> None:
        self.item, self.non_null = item, non_null


class Selection:
    __slots__ = ("fields", "projection", "run", "type")

    def __init__(self, parent: GraphQLObjectType, fields: list[FieldPlan]) -> None:
        self.type, self.fields = parent, fields
        self.run: Callable[[CompiledExecution, Any, Path | None], Any] = _written(self)
        # A query's root: the whole answered by the database, where it can (projection.py)
        self.projection: Projection | None = None


def _direct(field: StrawberryField, schema: Schema
            ) -> Callable[[Any, Any, dict[str, Any]], Any] | None:
    """A call of the field's own resolver as strawberry's wrapper makes it, for a field without
    field extensions (permissions among them) or exception handlers: the wrapper costs a chain
    of calls and a coroutine per row, and converts arguments by walking their types each time
    (schema/arguments.py converts them by a function made once)."""
    resolver = field.base_resolver
    if (resolver is None or field.extensions
            or schema.schema_converter._get_field_exception_handlers(field)):
        return None
    function = resolver.wrapped_func
    if not callable(function):  # strawberry refuses these when called
        return None
    try:
        convert = arguments(field, schema) if field.arguments else None
    except Unconverted:
        return None
    pass_self = resolver.self_parameter is not None
    sources = [p.name for p in (resolver.parent_parameter, resolver.root_parameter) if p]
    info_name = resolver.info_parameter.name if resolver.info_parameter else None
    info_class = schema.config.info_class

    def call(source: Any, info: Any, raw: dict[str, Any]) -> Any:
        kwargs = convert(raw) if convert is not None else {}
        for name in sources:
            kwargs[name] = source
        if info_name is not None:
            kwargs[info_name] = info_class(_raw_info=info, _field=field)
        return function(source, **kwargs) if pass_self else function(**kwargs)

    return call


class FieldPlan:
    __slots__ = ("args", "attribute", "basic", "completion", "definition", "details", "direct",
                 "key", "leaf", "name", "nodes", "non_null", "parent", "resolve", "typename")

    def __init__(self, key: str, parent: GraphQLObjectType, details: FieldDetailsList,
                 definition: GraphQLField | None, completion: Leaf | Items | Selection | None,
                 non_null: bool, schema: Schema | None) -> None:
        self.key, self.parent, self.details = key, parent, details[0]
        self.nodes: list[FieldNode] = [d.node for d in details]
        self.name = self.details.node.name.value
        self.typename = self.name == "__typename"
        self.definition = definition
        self.completion, self.non_null = completion, non_null
        resolve = definition.resolve if definition else None
        self.resolve: Callable[..., Any] | None = resolve
        # strawberry's resolver of a field without one of its own reads the attribute and
        # takes no info: it is called without building one, and the attribute of a field whose
        # value is a scalar or enum is read here directly.
        self.basic = resolve is not None and getattr(resolve, "_is_default", False) and (
            getattr(resolve, "__name__", "") == "_get_basic_result")
        field = definition.extensions.get(DEFINITION_BACKREF) if definition else None
        self.attribute: str | None = field.python_name if (
            self.basic and isinstance(field, StrawberryField)
            and field.default_resolver is getattr) else None
        self.leaf: GraphQLLeafType | None = (
            completion.type if isinstance(completion, Leaf) and self.attribute else None)
        self.args = definition is not None and bool(definition.args or self.details.node.arguments)
        self.direct = _direct(field, schema) if (
            schema is not None and not self.basic
            and isinstance(field, StrawberryField)) else None


# Leaf types whose value of one Python type is its own output: a str for String and ID, a
# bool for Boolean (graphql-core's coercion returns such a value unchanged).
_SAME_OUTPUT: dict[GraphQLNamedType, type] = {
    GraphQLString: str, GraphQLID: str, GraphQLBoolean: bool}

# The code of each kind of field in a selection's function; {p} is the field's plan, {key}
# its response key, {read} the expression reading its attribute (a scalar's).
_TYPENAME = "result[{key}] = typename\n"
_SCALAR = """\
try:
    value = {read}
    result[{key}] = {complete}
except Exception as raw:
    x._error(raw, {p}, {p}.non_null, Path(path, {key}, typename))
    result[{key}] = None
"""
_COMPLETE = "x._complete({p}, {p}.completion, {p}.non_null, value, None)"
_RESOLVED = "value = x._field({p}, source, Path(path, {key}, typename))\n"
_KEPT = """\
if aware(value):
    if pending is None:
        pending = []
    pending.append(({key}, value))
    result[{key}] = None
else:
    result[{key}] = value
"""


def _read(attribute: str) -> str:
    """The expression reading `attribute` of `source`."""
    if attribute.isidentifier() and not keyword.iskeyword(attribute):
        return f"source.{attribute}"
    return f"getattr(source, {attribute!r})"


def _written(selection: Selection) -> Callable[[CompiledExecution, Any, Path | None], Any]:
    """The selection as one function, written for its fields, doing for each what
    `CompiledExecution` does, with its errors: a scalar attribute is read and completed in
    place (a str for String or ID, a bool for Boolean, taken as it is), any other field goes
    through `_field`. The loop over the fields and its dispatch per row are gone."""
    typename = selection.type.name
    scope: dict[str, Any] = {"Path": Path, "typename": typename}
    code = ["result = {}\npending = None\naware = x.is_awaitable\n"]
    for n, plan in enumerate(selection.fields):
        p = f"plan{n}"
        scope[p] = plan
        names = {"p": p, "key": repr(plan.key)}
        if plan.typename:
            code.append(_TYPENAME.format(**names))
        elif plan.leaf is not None and plan.attribute is not None:  # a scalar attribute
            complete = _COMPLETE.format(p=p)
            same = _SAME_OUTPUT.get(plan.leaf)
            if same is not None:
                scope[f"{p}_same"] = same
                complete = f"value if value.__class__ is {p}_same else {complete}"
            code.append(_SCALAR.format(complete=complete, read=_read(plan.attribute), **names))
        else:
            code += [_RESOLVED.format(**names), _KEPT.format(**names)]
    code.append("return result if pending is None else x._gathered(result, pending)\n")
    source = "def run(x, source, path):\n" + textwrap.indent("".join(code), "    ")
    exec(compile(source, f"<selection of {typename}>", "exec"), scope)  # noqa: S102
    run: Callable[[CompiledExecution, Any, Path | None], Any] = scope["run"]
    return run


class Planner:
    """Compiles one operation against the schema (per document, not per request)."""

    def __init__(self, executor: CompiledExecution) -> None:
        self.x = executor
        self.schema: Schema = executor.schema._strawberry_schema  # type: ignore[attr-defined]

    def operation(self) -> Selection:
        x = self.x
        operation = x.operation
        roots = {OperationType.QUERY: x.schema.query_type,
                 OperationType.MUTATION: x.schema.mutation_type}
        root = roots.get(operation.operation)
        if root is None:
            raise Unplannable
        source = operation.loc.source.body if operation.loc else "@"
        if "@" in source:  # any directive: its effect may depend on the variables
            raise Unplannable
        if x.middleware_manager is not None and getattr(
                x.middleware_manager, "middlewares", None):
            raise Unplannable
        if not x.error_propagation:
            raise Unplannable
        fields = collect_fields(x.schema, x.fragments, x.variable_values, root, operation,
                                x.hide_suggestions).grouped_field_set
        planned = self.selection(root, fields)
        if operation.operation is OperationType.QUERY:
            from schema.projection import projection  # it is written from these plans

            planned.projection = projection(planned, self.schema)
        return planned

    def selection(self, parent: GraphQLObjectType,
                  grouped: dict[str, FieldDetailsList]) -> Selection:
        plans = []
        for key, details in grouped.items():
            name = details[0].node.name.value
            if name == "__typename":
                plans.append(FieldPlan(key, parent, details, None, None, True, None))
                continue
            if name.startswith("__"):
                raise Unplannable
            definition = parent.fields.get(name)
            if definition is None:
                raise Unplannable
            completion, non_null = self.completion(definition.type, details)
            plans.append(FieldPlan(key, parent, details, definition, completion, non_null,
                                   self.schema))
        return Selection(parent, plans)

    def completion(self, output: GraphQLOutputType, details: FieldDetailsList
                   ) -> tuple[Leaf | Items | Selection, bool]:
        non_null = is_non_null_type(output)
        inner = output.of_type if isinstance(output, GraphQLNonNull) else output
        if is_leaf_type(inner):
            return Leaf(inner), non_null
        if is_list_type(inner):
            assert isinstance(inner, GraphQLList)
            item, item_non_null = self.completion(inner.of_type, details)
            return Items(item, item_non_null), non_null
        if is_object_type(inner):
            assert isinstance(inner, GraphQLObjectType)
            x = self.x
            sub = collect_subfields(x.schema, x.fragments, x.variable_values, x.operation,
                                    inner, details, x.hide_suggestions).grouped_field_set
            return self.selection(inner, sub), non_null
        raise Unplannable  # interfaces and unions


# Plans by schema and operation node (the parser cache hands out the same node for the same
# document, whichever schema runs it); both are kept beside the plan so that their ids cannot
# be reused while the entry lives.
_plans: OrderedDict[tuple[int, int],
                    tuple[GraphQLSchema, OperationDefinitionNode, Selection | None]
                    ] = OrderedDict()


def kept_plan(schema: GraphQLSchema, operation: OperationDefinitionNode) -> Selection | None:
    """The operation's plan where an earlier execution made it."""
    entry = _plans.get((id(schema), id(operation)))
    return entry[2] if entry is not None and entry[0] is schema and (
        entry[1] is operation) else None


def _plan_of(executor: CompiledExecution) -> Selection | None:
    schema, operation = executor.schema, executor.operation
    key = (id(schema), id(operation))
    entry = _plans.get(key)
    if entry is not None and entry[0] is schema and entry[1] is operation:
        _plans.move_to_end(key)
        return entry[2]
    try:
        plan: Selection | None = Planner(executor).operation()
    except Unplannable:
        plan = None
    _plans[key] = (schema, operation, plan)
    if len(_plans) > DOCUMENTS_KEPT:
        _plans.popitem(last=False)
    return plan


async def _all(pending: list[tuple[Any, Awaitable[Any]]]) -> list[Any]:
    """The values of the awaitables, run concurrently (so that data loaders see every key of a
    list before they fetch); a single one is simply awaited, without a task."""
    if len(pending) == 1:
        return [await pending[0][1]]
    return list(await asyncio.gather(*(awaitable for _, awaitable in pending)))


def planned_documents() -> list[str]:
    """The sources of the operations executed by plan (kept in the plan cache)."""
    return [operation.loc.source.body for _, operation, plan in _plans.values()
            if plan is not None and operation.loc is not None]


def forget_plans() -> None:
    _plans.clear()


class CompiledExecution(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's execution context, executing queries by their compiled plan."""

    @classmethod
    def build(cls, schema: Any, document: Any, root_value: Any = None,
              context_value: Any = None, raw_variable_values: dict[str, Any] | None = None,
              *args: Any, **kwargs: Any) -> Any:
        """graphql-core's, after refusing variables with an oversized list (INVALID_INPUT)."""
        refused = oversized_lists(raw_variable_values)
        if refused is not None:
            return [refused]
        return super().build(schema, document, root_value, context_value, raw_variable_values,
                             *args, **kwargs)

    def execute_operation(self, serially: bool | None = None) -> Any:
        plan = _plan_of(self)
        serial = self.operation.operation is OperationType.MUTATION
        if plan is None or (serially is not None and serially is not serial):
            return super().execute_operation(serially)
        return self._run(plan, serial)

    async def _run(self, plan: Selection, serial: bool) -> ExecutionResult:
        try:
            if serial:
                data: Any = await self._serially(plan, self.root_value)
            elif plan.projection is not None and (
                    answered := await plan.projection.answer(
                        self.context_value, self.variable_values)) is not None:
                data = answered
            else:
                data = plan.run(self, self.root_value, None)
                if self.is_awaitable(data):
                    data = await data
        except GraphQLError as error:
            self.collected_errors.add(error, None)
            data = None
        finally:
            # graphql-core's helpers for resolvers hold bound methods of this context: a cycle
            # that kept every request's context, loaders and rows alive until the collector's
            # next full pass (~100 ms pauses under load). Nothing resolves after this point.
            del self.async_helpers
        return self.build_response(data)  # type: ignore[return-value]

    async def _serially(self, selection: Selection, source: Any) -> dict[str, Any]:
        """A mutation's root fields, each finished before the next starts."""
        result: dict[str, Any] = {}
        typename = selection.type.name
        for plan in selection.fields:
            if plan.typename:
                result[plan.key] = typename
                continue
            value = self._field(plan, source, Path(None, plan.key, typename))
            result[plan.key] = await value if self.is_awaitable(value) else value
        return result

    @staticmethod
    async def _gathered(result: dict[str, Any], pending: list[tuple[str, Awaitable[Any]]]
                        ) -> dict[str, Any]:
        """The object once its awaitable fields are done, each in its place."""
        for key, value in zip((k for k, _ in pending), await _all(pending), strict=True):
            result[key] = value
        return result

    def _field(self, plan: FieldPlan, source: Any, path: Path) -> Any:
        try:
            if plan.attribute is not None:  # an object or list kept in an attribute
                value = getattr(source, plan.attribute)
            elif plan.basic:
                assert plan.resolve is not None
                value = plan.resolve(source, None)
            else:
                assert plan.definition is not None
                info = self.build_resolve_info(plan.definition, plan.nodes, plan.parent, path)
                args = get_argument_values(
                    plan.definition, plan.details.node, self.variable_values,
                    plan.details.fragment_variable_values, self.hide_suggestions,
                ) if plan.args else {}
                if plan.direct is not None:
                    value = plan.direct(source, info, args)
                else:
                    resolve = plan.resolve or self.field_resolver
                    value = resolve(source, info, **args)
            if self.is_awaitable(value):
                return self._awaited_field(plan, value, path)
            completed = self._complete(plan, plan.completion, plan.non_null, value, path)
            if self.is_awaitable(completed):
                return self._awaited_completion(plan, completed, path)
            return completed
        except Exception as raw:
            return self._error(raw, plan, plan.non_null, path)

    async def _awaited_field(self, plan: FieldPlan, value: Awaitable[Any], path: Path) -> Any:
        try:
            completed = self._complete(plan, plan.completion, plan.non_null, await value, path)
            if self.is_awaitable(completed):
                completed = await completed
            return completed
        except Exception as raw:
            return self._error(raw, plan, plan.non_null, path)

    async def _awaited_completion(self, plan: FieldPlan, completed: Awaitable[Any],
                                  path: Path) -> Any:
        try:
            return await completed
        except Exception as raw:
            return self._error(raw, plan, plan.non_null, path)

    def _error(self, raw: Exception, plan: FieldPlan, non_null: bool, path: Path) -> None:
        """graphql-core's handling: a non-null position passes the error to its parent,
        a nullable one keeps it and becomes null."""
        error = located_error(raw, plan.nodes, path.as_list())
        if non_null:
            raise error
        self.collected_errors.add(error, path)
        return None

    def _complete(self, plan: FieldPlan, completion: Leaf | Items | Selection | None,
                  non_null: bool, value: Any, path: Path | None) -> Any:
        if isinstance(value, Exception):
            raise value
        if value is None or value is Undefined:
            if non_null:
                raise TypeError("Cannot return null for non-nullable field "
                                f"{plan.parent.name}.{plan.name}.")
            return None
        if isinstance(completion, Leaf):
            return self.complete_leaf_value(completion.type, value)
        if isinstance(completion, Selection):
            return completion.run(self, value, path)
        assert isinstance(completion, Items)
        return self._items(plan, completion, value, path)

    def _items(self, plan: FieldPlan, items: Items, values: Any, path: Path | None) -> Any:
        if isinstance(values, str | bytes) or not hasattr(values, "__iter__"):
            raise GraphQLError("Expected Iterable, but did not find one for field "
                               f"'{plan.parent.name}.{plan.name}'.")
        result: list[Any] = []
        pending: list[tuple[int, Awaitable[Any]]] = []
        for index, item in enumerate(values):
            item_path = Path(path, index, None)
            try:
                completed = (self._awaited_value(plan, items, item, item_path)
                             if self.is_awaitable(item) else
                             self._complete(plan, items.item, items.non_null, item, item_path))
            except Exception as raw:
                self._error(raw, plan, items.non_null, item_path)
                completed = None
            if self.is_awaitable(completed):
                pending.append((index, self._awaited_item(plan, items, completed, item_path)))
            result.append(completed)
        if not pending:
            return result

        async def gathered() -> list[Any]:
            for index, value in zip((i for i, _ in pending), await _all(pending), strict=True):
                result[index] = value
            return result

        return gathered()

    async def _awaited_value(self, plan: FieldPlan, items: Items, item: Awaitable[Any],
                             path: Path) -> Any:
        """A list item that is itself awaitable: awaited, then completed."""
        completed = self._complete(plan, items.item, items.non_null, await item, path)
        return await completed if self.is_awaitable(completed) else completed

    async def _awaited_item(self, plan: FieldPlan, items: Items, completed: Awaitable[Any],
                            path: Path) -> Any:
        try:
            return await completed
        except Exception as raw:
            return self._error(raw, plan, items.non_null, path)

