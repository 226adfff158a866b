"""Documents known to be valid, answered without strawberry's per-request scaffolding.

Around the execution itself, strawberry's HTTP view and `Schema.execute` build for every
request a request adapter, an execution context, six extension instances with their hooks
(parse and validation caches among them), a runner and a middleware manager: profiled on the
county list, about a third of the request's time outside the execution. Whether a document
parses, keeps the limits and validates depends on its text alone, so a text that passed once
(strawberry reached its execution) is kept here with its parsed document. A later JSON POST
of the same text is executed directly: graphql-core's `execute` with the schema's execution
context (the compiled one, schema/execution.py), its end presented and counted by
`schema.errors.finish`, and the answer written to the connection as the view's own
`create_response` makes it (past strawberry's ASGI entry, its sub-response and Starlette's
Response: ~7 % of a trivial query's CPU). Everything else goes through strawberry unchanged:
GET, other content types, batches, streamed responses, operation extensions, subscriptions, a
text not yet seen or a body that is not a JSON object.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import orjson
from graphql import (
    DocumentNode,
    ExecutionResult,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    execute,
)
from graphql.execution.values import VariableValues, get_variable_values
from graphql.utilities import get_operation_ast
from starlette.requests import Request
from starlette.types import Send
from strawberry.execution.is_awaitable import optimized_is_awaitable
from strawberry.extensions import SchemaExtension
from strawberry.http import process_result

from core.middleware import header_values
from schema.errors import finish
from schema.execution import DOCUMENTS_KEPT, kept_plan
from schema.scalars import oversized_lists

if TYPE_CHECKING:
    from schema.http import GraphQLApp

_DIRECT = (OperationType.QUERY, OperationType.MUTATION)
# Accept headers that ask for no streamed answer (strawberry's transports accept none of them)
_NO_STREAM = (None, b"", b"*/*", b"application/json")


class KnownDocuments:
    """The valid documents by their text, the most recently used kept."""

    def __init__(self, schema: GraphQLSchema) -> None:
        self.schema = schema
        self._documents: OrderedDict[str, DocumentNode] = OrderedDict()

    def remember(self, text: str, document: DocumentNode) -> None:
        self._documents[text] = document
        self._documents.move_to_end(text)
        if len(self._documents) > DOCUMENTS_KEPT:
            self._documents.popitem(last=False)

    def get(self, text: str) -> DocumentNode | None:
        document = self._documents.get(text)
        if document is not None:
            self._documents.move_to_end(text)
        return document

    def __len__(self) -> int:
        return len(self._documents)


class RememberValid(SchemaExtension):
    """Keeps each document that reached its execution: it parsed, kept the limits and
    validated, and its operation was allowed."""

    def on_execute(self) -> Iterator[None]:
        ctx = self.execution_context
        known: KnownDocuments | None = getattr(ctx.schema, "known", None)
        if known is not None and ctx.query is not None and ctx.graphql_document is not None:
            known.remember(ctx.query, ctx.graphql_document)
        yield


async def answer(view: GraphQLApp, request: Request, send: Send) -> bool:
    """Answers a JSON POST of a known document, straight to `send`, as strawberry's view
    would (status 200, the same JSON); False, having sent nothing, where strawberry answers."""
    known: KnownDocuments | None = getattr(view.schema, "known", None)
    content_type, accept = header_values(request.scope, (b"content-type", b"accept"))
    if known is None or content_type is None or content_type.split(b";")[0].strip() != (
            b"application/json") or (accept not in _NO_STREAM and (
                view._get_stream_transport_from_headers({"accept": accept.decode("latin-1")}))):
        return False
    try:
        data = orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        return False
    if type(data) is not dict or data.get("extensions") is not None:
        return False
    text, variables, name = data.get("query"), data.get("variables"), data.get("operationName")
    document = known.get(text) if isinstance(text, str) else None
    if document is None or not isinstance(variables, dict | None) or not isinstance(
            name, str | None) or oversized_lists(variables) is not None:
        return False  # strawberry's way refuses oversized lists as the executor builds
    operation = get_operation_ast(document, name)
    if operation is None or operation.operation not in _DIRECT:
        return False
    started = time.perf_counter()
    context = await view.get_context(request, None)  # type: ignore[arg-type]
    result: Any = await _projected(known.schema, operation, context, variables)
    if result is None:
        result = await _executed(view, known.schema, document, context, variables, name)
    finish(result, name or (operation.name.value if operation.name else None),
           context.language, started)
    body = view.encode_json(process_result(result))
    await send({"type": "http.response.start", "status": 200, "headers": [
        (b"content-length", str(len(body)).encode()), (b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body})
    return True


async def _projected(schema: GraphQLSchema, operation: OperationDefinitionNode, context: Any,
                     variables: dict[str, Any] | None) -> ExecutionResult | None:
    """The answer of a query the database answers whole (schema/projection.py), without
    graphql-core's execution context: the plan an earlier execution made, the variables
    coerced as graphql-core coerces them. None where the executor answers."""
    plan = kept_plan(schema, operation)
    if plan is None or plan.projection is None:
        return None
    coerced = get_variable_values(schema, operation.variable_definitions or (), variables or {})
    if not isinstance(coerced, VariableValues):  # the executor reports them
        return None
    try:
        data = await plan.projection.answer(context, coerced)
    except GraphQLError as error:
        return ExecutionResult(None, [error])
    return None if data is None else ExecutionResult(data, None)


async def _executed(view: GraphQLApp, schema: GraphQLSchema, document: DocumentNode,
                    context: Any, variables: dict[str, Any] | None, name: str | None
                    ) -> ExecutionResult:
    result: Any
    try:
        result = execute(schema, document, None, context, variables, name,
                         executor_class=getattr(view.schema, "execution_context_class", None),
                         is_awaitable=optimized_is_awaitable)  # type: ignore[arg-type]
        if optimized_is_awaitable(result):
            result = await result
    except Exception as exc:  # as strawberry: the error is the answer
        result = ExecutionResult(None, [exc if isinstance(exc, GraphQLError) else
                                        GraphQLError(str(exc), original_error=exc)])
    return result
