"""How errors leave the API: domain errors with their code, field and localized message;
GraphQL document errors with their own codes; anything else masked and logged with the
request id. Also counts operations and errors for /metrics."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from tortoise.exceptions import ValidationError

from core import config
from core.errors import (
    Conflict,
    DomainError,
    InvalidInput,
    ServiceUnavailable,
    is_database_outage,
    is_duplicate,
    is_unstorable_value,
)
from core.logs import request_id
from core.metrics import ERRORS, operation

log = logging.getLogger("graphql")


def _code_of_document_error(error: GraphQLError) -> str:
    return "GRAPHQL_PARSE_FAILED" if error.message.startswith("Syntax Error") else (
        "GRAPHQL_VALIDATION_FAILED"
    )


class ErrorsAndMetrics(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        yield
        ctx = self.execution_context
        finish(ctx.result, ctx.operation_name, getattr(ctx.context, "language", "zh"), started)

    def on_stream_result(self, result: Any) -> Iterator[None]:
        """Each event of a subscription (over a socket) leaves as an operation's result does:
        a refusal raised in the subscription keeps its code, anything else is masked."""
        errors = getattr(result, "errors", None)
        if errors:
            language = getattr(self.execution_context.context, "language", "zh")
            result.errors = [_present(e, language) for e in errors]
        yield


def finish(result: Any, operation_name: str | None, language: str, started: float) -> None:
    """An operation's end: its errors presented in the caller's language, and it counted."""
    name = operation_name or "anonymous"
    errors = getattr(result, "errors", None) or []
    if errors and result is not None:
        result.errors = [_present(e, language) for e in errors]
    requests, latency = operation(name)
    requests.inc()
    latency.observe(time.perf_counter() - started)
    for error in result.errors if result is not None and result.errors else []:
        ERRORS.labels(code=(error.extensions or {}).get("code", "UNKNOWN")).inc()


# graphql-core's "Did you mean ...?" names fields, arguments, types and enum values of the
# schema: with introspection off (production) it would give the schema away piece by piece.
_SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?")


def _present(error: GraphQLError, language: str) -> GraphQLError:
    presented = _presented(error, language)
    if config.settings().production and "Did you mean" in presented.message:
        presented.message = _SUGGESTION.sub("", presented.message)
    return presented


def _presented(error: GraphQLError, language: str) -> GraphQLError:
    original = error.original_error
    while isinstance(original, GraphQLError) and original.original_error is not None:
        original = original.original_error
    if isinstance(original, GraphQLError) and not error.path:
        # graphql-core's own refusal of a variable's value (missing, or not of its type): the
        # caller's input, nothing of ours behind it
        return GraphQLError(error.message, error.nodes, error.source, error.positions, None,
                            None, {"code": "INVALID_INPUT"})
    if not isinstance(original, DomainError | GraphQLError | None) and is_database_outage(
            original):
        log.warning("database unavailable: %s", original)
        original = ServiceUnavailable()
    elif not isinstance(original, DomainError | GraphQLError | None) and is_duplicate(original):
        log.info("refused CONFLICT: %s", original)
        original = Conflict("记录已存在", "It exists already")
    elif isinstance(original, ValidationError) or is_unstorable_value(original):
        # A value no column can hold is still the caller's input; logged, as a service
        # check is missing.
        log.warning("input refused by the database layer: %s", original, exc_info=original)
        original = InvalidInput("输入值无效", "Invalid value")
    if isinstance(original, DomainError):
        extensions: dict[str, object] = {"code": original.code}
        if original.field:
            extensions["field"] = original.field
        log.info("refused %s: %s", original.code, original.en)
        return GraphQLError(original.message(language), error.nodes, error.source,
                            error.positions, error.path, None, extensions)
    if original is None:
        code = (error.extensions or {}).get("code") or _code_of_document_error(error)
        return GraphQLError(error.message, error.nodes, error.source, error.positions,
                            error.path, None, {**(error.extensions or {}), "code": code})
    request = request_id.get()
    log.error("unexpected error (request %s)", request, exc_info=original)
    message = ("服务器内部错误" if language == "zh" else "Internal server error")
    return GraphQLError(f"{message} (request {request})", error.nodes, error.source,
                        error.positions, error.path, None,
                        {"code": "INTERNAL_SERVER_ERROR", "requestId": request})
