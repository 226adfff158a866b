"""Field arguments converted by a function made once per argument type.

Strawberry converts a field's arguments on every call by walking their types: optionals,
lists, scalars, enums and input types are told apart with a dozen checks for every value, and
an input type's fields with a name conversion each. For the county list's `filter` that was a
quarter of a millisecond per request. Here the same walk is made once per type, into nested
functions that only convert. They mirror strawberry's `convert_argument` case by case (None and
UNSET pass at every level, leaves and enums as they come, lists copied, input types built with
None for fields without a default). The types they do not mirror (Maybe, GlobalID, input types
that build themselves) make `converter` raise Unconverted, and such a field keeps strawberry's
own call. tests/schema/test_execution.py compares the answers with graphql-core's execution.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import MISSING
from typing import Any

from strawberry.relay import GlobalID
from strawberry.schema.schema import Schema
from strawberry.types.arguments import _is_leaf_type
from strawberry.types.base import (
    StrawberryList,
    StrawberryMaybe,
    StrawberryOptional,
    has_object_definition,
)
from strawberry.types.enum import has_enum_definition
from strawberry.types.lazy_type import LazyType
from strawberry.types.unset import UNSET

Convert = Callable[[Any], Any]
MAX_NESTING = 8


class Unconverted(Exception):
    """A type strawberry converts in a way not mirrored here."""


def _leaf(type_: Any, schema: Schema) -> bool:
    registry = schema.schema_converter.scalar_registry
    if isinstance(type_, StrawberryOptional):
        type_ = type_.of_type
    return _is_leaf_type(type_, registry, skip_classes=(GlobalID,))


def _guarded(convert: Convert) -> Convert:
    def guarded(value: Any) -> Any:
        if value is None or value is UNSET:
            return value
        return convert(value)

    return guarded


def _unchanged(value: Any) -> Any:
    return value


def converter(type_: Any, schema: Schema, depth: int = 0) -> Convert:
    """The conversion of a GraphQL input value of `type_` to its Python value."""
    if depth > MAX_NESTING or isinstance(type_, StrawberryMaybe) or type_ is GlobalID:
        raise Unconverted
    if isinstance(type_, StrawberryOptional):
        return converter(type_.of_type, schema, depth + 1)
    if isinstance(type_, StrawberryList):
        if _leaf(type_.of_type, schema):
            return _guarded(list)  # copied: graphql-core shares a default between requests
        item = converter(type_.of_type, schema, depth + 1)
        return _guarded(lambda values: [item(v) for v in values])
    if _leaf(type_, schema) or has_enum_definition(type_):
        return _guarded(_unchanged)
    if isinstance(type_, LazyType):
        return converter(type_.resolve_type(), schema, depth + 1)
    if has_object_definition(type_):
        return _input(type_, schema, depth)
    raise Unconverted


def _input(type_: Any, schema: Schema, depth: int) -> Convert:
    definition = type_.__strawberry_definition__
    if definition.from_input is not None:
        raise Unconverted
    names = schema.config.name_converter
    absent = {f.python_name: None for f in definition.fields
              if f.default_value is MISSING and f.default_factory is MISSING
              } if definition.is_input else {}
    fields = [(names.from_field(f), f.python_name,
               converter(f.resolve_type(type_definition=definition), schema, depth + 1))
              for f in definition.fields]

    def build(value: Any) -> Any:
        kwargs = dict(absent)
        for name, python_name, convert in fields:
            if name in value:
                kwargs[python_name] = convert(value[name])
        return type_(**kwargs)

    return _guarded(build)


def arguments(field: Any, schema: Schema) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """The conversion of a field's raw arguments (by GraphQL name, as graphql-core coerced
    them) to the resolver's keyword arguments."""
    names = schema.config.name_converter
    plan = [(names.from_argument(a), a.python_name, converter(a.type, schema))
            for a in field.arguments]

    def convert(raw: dict[str, Any]) -> dict[str, Any]:
        return {python_name: convert(raw[name])
                for name, python_name, convert in plan if name in raw}

    return convert
