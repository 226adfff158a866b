"""Input scalars stricter than strawberry's own, so that bad input is refused as input
(INVALID_INPUT) before any resolver runs: a DateTime names its zone and lies within the
platform's years; a list given in variables is of a size a page or a batch could be."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import dateutil.parser
from graphql import ExecutionResult, GraphQLError
from strawberry.exceptions import StrawberryInputCoercionError
from strawberry.extensions import SchemaExtension
from strawberry.types.scalar import ScalarDefinition

# The years a time of the platform can name: a case, an activity, a statistics period.
YEARS = range(1900, 3000)
# Items of any one list in a request's variables (ids to mark read, topics, attachments):
# far above any real use, far below PostgreSQL's 32,767 parameters a statement.
MAX_LIST_ITEMS = 1000


def _aware(value: object) -> datetime:
    """The time named; a refusal is the caller's input error (a GraphQL error, not a crash)."""
    try:
        parsed = dateutil.parser.isoparse(value) if isinstance(value, str) else None
    except (ValueError, OverflowError):
        parsed = None
    if parsed is None:
        raise StrawberryInputCoercionError(
            f'DateTime "{value}": an ISO 8601 string, such as 2026-11-20T09:00:00+08:00')
    if parsed.tzinfo is None:
        raise StrawberryInputCoercionError(f'DateTime "{value}" names no zone: add +08:00 or Z')
    if parsed.year not in YEARS:
        raise StrawberryInputCoercionError(
            f'DateTime "{value}": the year must be {YEARS.start}-{YEARS.stop - 1}')
    return parsed


AwareDateTime = ScalarDefinition(
    name="DateTime",
    description="Date with time and zone (ISO 8601, e.g. 2026-11-20T09:00:00+08:00); input "
                "without a zone is refused",
    specified_by_url=None,
    serialize=datetime.isoformat,
    parse_value=_aware,
    parse_literal=None,
    origin=datetime,
)

SCALAR_OVERRIDES: dict[object, Any] = {datetime: AwareDateTime}


def _longest(value: Any) -> int:
    if isinstance(value, list):
        return max([len(value), *(_longest(v) for v in value)])
    if isinstance(value, dict):
        return max([0, *(_longest(v) for v in value.values())])
    return 0


def oversized_lists(variables: dict[str, Any] | None) -> GraphQLError | None:
    """INVALID_INPUT for variables holding a list longer than MAX_LIST_ITEMS."""
    if variables and _longest(variables) > MAX_LIST_ITEMS:
        return GraphQLError(f"A list in the variables holds more than {MAX_LIST_ITEMS} items",
                            extensions={"code": "INVALID_INPUT"})
    return None


class ListLimit(SchemaExtension):
    """Refuses variables holding a list longer than MAX_LIST_ITEMS before anything runs."""

    def on_execute(self) -> Iterator[None]:
        ctx = self.execution_context
        refused = oversized_lists(ctx.variables)
        if refused is not None:
            ctx.result = ExecutionResult(None, [refused])
        yield
