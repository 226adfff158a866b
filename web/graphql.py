"""Assembles the schema from the domain modules and switches its limits on."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import suppress
from typing import Any

import strawberry
import strawberry.federation
from graphql import GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from core.config import settings
from schema import accounts, activities, assistance, federation, notifications, scoring, tenants
from schema.cases import api as cases
from schema.cost import CostLimit
from schema.errors import ErrorsAndMetrics
from schema.projection import ReadEngine
from schema.roster import mutations as roster_mutations
from schema.roster import queries as roster_queries
from schema.scalars import SCALAR_OVERRIDES, ListLimit
from web.front_door import Answered

MAX_DEPTH = 10
MAX_ALIASES = 15
MAX_TOKENS = 2000
DOCUMENTS_KEPT = 256  # parsed and validated, each
# The limits' validation rules, made once: a rule class made per request (what a
# `lambda: QueryDepthLimiter(...)` factory does) is a new key of the validation cache each
# time, so every request would be validated again.
_LIMIT_RULES = [*QueryDepthLimiter(max_depth=MAX_DEPTH).validation_rules,
                *MaxAliasesLimiter(max_alias_count=MAX_ALIASES).validation_rules, CostLimit]

Query = merge_types(
    "Query", (federation.Query, tenants.Query, accounts.Query, roster_queries.Query, cases.Query,
              notifications.Query, activities.Query, assistance.Query, scoring.Query))
Mutation = merge_types(
    "Mutation", (tenants.Mutation, accounts.Mutation, roster_mutations.Mutation, cases.Mutation,
                 notifications.Mutation, activities.Mutation, assistance.Mutation,
                 scoring.Mutation))
Subscription = merge_types("Subscription", (cases.Subscription, assistance.Subscription))


class CachedParse(ParserCache):
    """strawberry's ParserCache, except for a document that does not parse (a syntax error, or
    more than MAX_TOKENS tokens): raised from this hook, its error skipped the end of every
    extension's operation, so it came back without a code and uncounted. Left to strawberry's
    own parse, it is refused as any other document is (GRAPHQL_PARSE_FAILED)."""

    def on_parse(self) -> Iterator[None]:
        ctx = self.execution_context
        with suppress(GraphQLError):
            ctx.graphql_document = self.cached_parse_document(ctx.query, **ctx.parse_options)
        yield


class Schema(strawberry.federation.Schema):
    def __init__(self, *args: Any, front_door: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # the texts the read engine answered, while its front door is open
        self.answered = Answered() if front_door else None

    def process_errors(self, errors: list[GraphQLError],
                       execution_context: ExecutionContext | None = None) -> None:
        """Errors are logged once, by ErrorsAndMetrics, with expected refusals kept quiet."""


# Every extension, with what the read engine's front door (web/front_door.py) does in its
# stead for a document it answers: one strawberry's pipeline answered before. An extension
# not in this list closes the door.
EXTENSIONS: list[tuple[Any, str]] = [
    (ErrorsAndMetrics, "finish(): errors presented, the operation counted"),
    (lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS), "the text's: kept once"),
    (lambda: AddValidationRules(_LIMIT_RULES), "the text's (depth, aliases, cost): kept once"),
    (lambda: CachedParse(maxsize=DOCUMENTS_KEPT), "the text parsed once"),
    (lambda: ValidationCache(maxsize=DOCUMENTS_KEPT), "the text validated once"),
    (ListLimit, "oversized_lists() on the variables"),
    (ReadEngine, "the engine's answer(); last, the others' hooks around it"),
]
_PRODUCTION: list[tuple[Any, str]] = [(DisableIntrospection, "the text's: kept once")]


def build_schema(*, production: bool | None = None, extra: tuple[Any, ...] = ()) -> Schema:
    """The schema with its extensions; `extra` ones (tracing, say) run on every request and
    close the front door, which does not know them."""
    production = settings().production if production is None else production
    known = [e for e, _ in [*EXTENSIONS, *(_PRODUCTION if production else [])]]
    # An Apollo Federation 2 subgraph: a provincial gateway composes several cities.
    return Schema(query=Query, mutation=Mutation, subscription=Subscription,
                  extensions=[*known, *extra], scalar_overrides=SCALAR_OVERRIDES,
                  front_door=not extra)
