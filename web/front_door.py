"""The front door: a JSON POST of a query strawberry's pipeline let through before is
answered again without strawberry's per-request scaffolding (its HTTP view's request
adapter, an execution context, a runner and every extension's hooks, about 60 % of a case
detail's CPU; bench/README.md has the figures): by the read engine where it declares the
query, else by graphql-core's execution as strawberry calls it.

What that scaffolding decides for such a request is decided by the document's text alone,
and was decided when strawberry answered it: it parsed, kept the token, depth, alias and cost
limits, validated (with introspection refused in production), and its operation is a query.
What depends on the request is done here as the extensions do it: the variables' lists are
checked (ListLimit), the engine answers or the query is executed, the errors are presented
and the operation counted (ErrorsAndMetrics's `finish`). The door is open only while the schema
runs exactly the extensions named in web/graphql.py's `EXTENSIONS`, each with what the
door does in its stead: one added without that (tracing, say) closes it, and every request
goes through strawberry. Anything else goes through strawberry too: GET, another content
type or accept, batches, operation extensions, a text not answered by the engine before,
and a request the engine does not answer this time (a window raised, no row).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import orjson
from graphql import DocumentNode, ExecutionResult, GraphQLError, execute
from starlette.requests import Request
from starlette.types import Send
from strawberry.execution.is_awaitable import optimized_is_awaitable
from strawberry.http import process_result

from core.headers import header_values
from core.kept import Recent
from core.private import graphql_schema_of
from schema import projection
from schema.errors import finish
from schema.scalars import oversized_lists

if TYPE_CHECKING:
    from web.endpoint import GraphQLApp

TEXTS_KEPT = 256
# Accept headers that ask for no stream nor another media type
_PLAIN = (None, b"", b"*/*", b"application/json")


class Answered:
    """The query texts (and operation names) strawberry's pipeline let through to their
    execution, each with its parsed document; the most recent kept."""

    def __init__(self) -> None:
        self._texts: Recent[tuple[str, str | None], DocumentNode] = Recent("texts", TEXTS_KEPT)

    def remember(self, text: str, name: str | None, document: DocumentNode) -> None:
        self._texts.put((text, name), document)

    def get(self, text: str, name: str | None) -> DocumentNode | None:
        return self._texts.get((text, name))

    def __len__(self) -> int:
        return len(self._texts)


async def answer(view: GraphQLApp, request: Request, send: Send) -> bool:
    """Answers a JSON POST of a document the engine answered before, straight to `send`, as
    strawberry's view would (status 200, the same JSON); False, having sent nothing, where
    strawberry answers."""
    schema: Any = view.schema
    answered: Answered | None = getattr(schema, "answered", None)
    content_type, accept = header_values(request.scope, (b"content-type", b"accept"))
    if answered is None or not len(answered) or content_type is None or (
            content_type.split(b";")[0].strip() != b"application/json") or accept not in _PLAIN:
        return False
    try:
        data = orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        return False
    if type(data) is not dict or data.get("extensions") is not None:
        return False
    text, variables, name = data.get("query"), data.get("variables"), data.get("operationName")
    if not isinstance(text, str) or not isinstance(name, str | None):
        return False
    document = answered.get(text, name)
    if document is None or not isinstance(variables, dict | None) or (
            oversized_lists(variables) is not None):
        return False  # strawberry refuses oversized lists its own way
    started = time.perf_counter()
    context = await view.get_context(request, None)  # type: ignore[arg-type]
    result: Any = await projection.answer(schema, text, name, context, variables)
    if result is None:  # strawberry's own execution, without its pipeline around it
        result = await _executed(schema, document, context, variables, name)
    finish(result, name or projection.operation_name(schema, text, name), context.language,
           started)
    body = view.encode_json(process_result(result))
    await send({"type": "http.response.start", "status": 200, "headers": [
        (b"content-length", str(len(body)).encode()), (b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body})
    return True


async def _executed(schema: Any, document: DocumentNode, context: Any,
                    variables: dict[str, Any] | None, name: str | None) -> ExecutionResult:
    """graphql-core's execution as strawberry's Schema.execute calls it, with its execution
    context class; an error raised outside a field is the answer, as strawberry makes it."""
    result: Any
    try:
        result = execute(graphql_schema_of(schema), document, None, context, variables, name,
                         executor_class=schema.execution_context_class,
                         is_awaitable=optimized_is_awaitable,  # type: ignore[arg-type]
                         operation_extensions=None)
        if optimized_is_awaitable(result):
            result = await result
    except Exception as exc:
        result = ExecutionResult(None, [exc if isinstance(exc, GraphQLError) else
                                        GraphQLError(str(exc), original_error=exc)])
    return result
