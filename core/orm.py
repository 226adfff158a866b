"""Tortoise's asyncpg engine (the `engine` of core/db.py's configuration) with a cheaper way
from a row to a model.

Tortoise builds each model from a dict of the row's columns and sets every attribute through
`object.__setattr__`, and its four bookkeeping attributes through the model's own
`__setattr__`, which looks each one up first: about 27 µs for a supervisor of 25 columns,
half a millisecond of every 20-row page. Here each model's columns are sorted once into the
same three kinds Tortoise uses (passed through, converted by the field's type, converted by
the field) and a row is read straight into the instance's dictionary: the same attributes and
values (tests/core/test_orm.py compares them), in less than half the time. Rows missing a
column (`.only()`), joined rows (`select_related`) and anything else go Tortoise's own way.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from typing import Any

from tortoise.backends.asyncpg.client import AsyncpgDBClient
from tortoise.backends.asyncpg.executor import AsyncpgExecutor
from tortoise.backends.base.executor import CHUNK_SIZE
from tortoise.models import Model


class Hydrator:
    """Builds instances of one model from complete rows (asyncpg records)."""

    def __init__(self, model: type[Model]) -> None:
        meta = model._meta
        self.model = model
        self.native = [(column, attribute) for column, attribute, _ in meta.db_native_fields]
        self.typed = [(column, attribute, field.field_type)
                      for column, attribute, field in meta.db_default_fields]
        self.converted: list[tuple[str, str, Callable[[Any], Any]]] = [
            (column, attribute, field.to_python_value)
            for column, attribute, field in meta.db_complex_fields]
        self.custom_pk = meta.db_pk_column not in meta.generated_db_fields

    def __call__(self, row: Any) -> Model:
        """The instance, or KeyError when the row lacks one of the model's columns."""
        instance = self.model.__new__(self.model)
        values = instance.__dict__
        values["_partial"] = False
        values["_saved_in_db"] = True
        values["_custom_generated_pk"] = self.custom_pk
        values["_await_when_save"] = {}
        for column, attribute in self.native:
            values[attribute] = row[column]
        for column, attribute, kind in self.typed:
            value = row[column]
            values[attribute] = None if value is None else kind(value)
        for column, attribute, convert in self.converted:
            values[attribute] = convert(row[column])
        return instance


@functools.cache
def hydrator(model: type[Model]) -> Hydrator:
    return Hydrator(model)


class Executor(AsyncpgExecutor):
    async def execute_select(self, sql: str, values: list[Any] | None = None,
                             custom_fields: list[Any] | None = None) -> list[Any]:
        related = self.select_related_idx
        if related and (len(related) > 1 or related[0][0] is not self.model):
            return await super().execute_select(sql, values, custom_fields)  # joined rows
        _, rows = await self.db.execute_query(sql, values)
        make = hydrator(self.model)
        instances = []
        for index, row in enumerate(rows):
            if index and index % CHUNK_SIZE == 0:
                await asyncio.sleep(0)  # as Tortoise does: let others run during a long read
            try:
                instance = make(row)
            except KeyError:  # a partial row (.only()): Tortoise's own way
                instance = self.model._init_from_db(**row)
            for name in custom_fields or ():
                object.__setattr__(instance, name, row[name])
            instances.append(instance)
        await self._execute_prefetch_queries(instances)
        return instances


class Client(AsyncpgDBClient):
    executor_class = Executor


client_class = Client
