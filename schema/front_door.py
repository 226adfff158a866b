"""The read engine's front door: a JSON POST of a document the engine answered before is
answered by it again without strawberry's per-request scaffolding (its HTTP view's request
adapter, an execution context, a runner and every extension's hooks, about 60 % of a case
detail's CPU; bench/README.md has the figures).

What that scaffolding decides for such a request is decided by the document's text alone,
and was decided when strawberry answered it: it parsed, kept the token, depth, alias and cost
limits, validated (with introspection refused in production), and the engine answered its
operation, a query. What depends on the request is done here as the extensions do it: the
variables' lists are checked (ListLimit), the engine answers, the errors are presented and
the operation counted (ErrorsAndMetrics's `finish`). The door is open only while the schema
runs exactly the extensions named in schema/schema.py's `EXTENSIONS`, each with what the
door does in its stead: one added without that (tracing, say) closes it, and every request
goes through strawberry. Anything else goes through strawberry too: GET, another content
type or accept, batches, operation extensions, a text not answered by the engine before,
and a request the engine does not answer this time (a window raised, no row).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

import orjson
from starlette.requests import Request
from starlette.types import Send
from strawberry.http import process_result

from core.headers import header_values
from schema import projection
from schema.errors import finish
from schema.scalars import oversized_lists

if TYPE_CHECKING:
    from schema.http import GraphQLApp

TEXTS_KEPT = 256
# Accept headers that ask for no stream nor another media type
_PLAIN = (None, b"", b"*/*", b"application/json")


class Answered:
    """The texts (and operation names) the read engine answered, the most recent kept."""

    def __init__(self) -> None:
        self._texts: OrderedDict[tuple[str, str | None], None] = OrderedDict()

    def remember(self, text: str, name: str | None) -> None:
        self._texts[(text, name)] = None
        self._texts.move_to_end((text, name))
        if len(self._texts) > TEXTS_KEPT:
            self._texts.popitem(last=False)

    def __contains__(self, key: tuple[str, str | None]) -> bool:
        return key in self._texts

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
    if not isinstance(text, str) or not isinstance(name, str | None) or (
            text, name) not in answered or not isinstance(variables, dict | None) or (
            oversized_lists(variables) is not None):
        return False  # strawberry refuses oversized lists its own way
    started = time.perf_counter()
    context = await view.get_context(request, None)  # type: ignore[arg-type]
    result: Any = await projection.answer(schema, text, name, context, variables)
    if result is None:
        return False
    finish(result, name or projection.operation_name(schema, text, name), context.language,
           started)
    body = view.encode_json(process_result(result))
    await send({"type": "http.response.start", "status": 200, "headers": [
        (b"content-length", str(len(body)).encode()), (b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body})
    return True
